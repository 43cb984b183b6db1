"""Working figures of the Business Case sheet, below its print area.

* the unit PVs and totals the Scenarios sheet's closed forms use (``bc_<option>_v``: PV of
  the savings of $1 a year of target at effect 1; ``_pvi1``: PV of $1 of investment;
  ``_pvm1``: PV of $1 a year of maintenance; ``_w1``, ``_i1``, ``_m1``: the same undiscounted);
* the portfolio choice: every combination of the five solutions (32 rows), whether it is
  allowed (only enabled solutions), the share of its target each member has left, its NPV
  -- and the first highest, ``bc_best_mask``, which the rule ``npv_max`` takes (the empty
  combination is worth 0, so when nothing pays the portfolio is empty).

*s* is the Business Case sheet writer of :mod:`etl_desk.core.workbook.case_sheet`.
"""
from __future__ import annotations

import numpy as np

from etl_desk.core.business_case.model import BusinessCase
from etl_desk.core.business_case.scenarios import pv_per_target_dollar
from etl_desk.core.workbook.names import BUSINESS_CASE_SHEET, bc, col, define, prefix, sch


def write_working(s, case: BusinessCase) -> None:
    """Working figures (outside the print area): unit PVs for the Scenarios sheet, the portfolio choice table."""
    st, sols = s.st, s.sols
    s.row += 2
    s.section("Working figures for the Scenarios sheet (PV and totals of one unit of each driver, over the horizon)")
    h = case.horizon_months
    for key, label, f, v in (
            ("v", "PV of savings of $1 a year of target at effect 1", "=SUMPRODUCT({rf},sch_disc,sch_inh)/c_months_per_year",
             lambda r: pv_per_target_dollar(r)),
            ("pvi1", "PV of $1 of investment", "=SUMPRODUCT({spread},sch_disc,sch_inh)",
             lambda r: float(np.sum(r.units["spread"][:h] * r.discount_full[:h]))),
            ("pvm1", "PV of $1 a year of maintenance", "=SUMPRODUCT({mfrac},sch_disc,sch_inh)/c_months_per_year",
             lambda r: float(np.sum(r.units["mfrac"][:h] * r.discount_full[:h]) / 12)),
            ("w1", "Savings of $1 a year of target at effect 1, undiscounted", "=SUMPRODUCT({rf},sch_inh)/c_months_per_year",
             lambda r: float(np.sum(r.units["rf"][:h]) / 12)),
            ("i1", "Share of the investment within the horizon", "=SUMPRODUCT({spread},sch_inh)",
             lambda r: float(np.sum(r.units["spread"][:h]))),
            ("m1", "Maintenance years within the horizon", "=SUMPRODUCT({mfrac},sch_inh)/c_months_per_year",
             lambda r: float(np.sum(r.units["mfrac"][:h]) / 12))):
        s.new(key, label, "")
        for r in sols:
            names = {k: sch(k, r.id) for k in ("rf", "spread", "mfrac")}
            s.put(key, r.id, f.format(**names), v(r), st.num["factor"])
            define(s.wb, bc(r.id, key), BUSINESS_CASE_SHEET, s.rows[key], s.col_of(r.id))
    _portfolio_choice(s, case)


def _portfolio_choice(s, case: BusinessCase) -> None:
    """All 32 combinations of the solutions, their NPV, and the best one (the NPV-maximising portfolio)."""
    st, ws, sols = s.st, s.ws, s.sols
    k = len(sols)
    s.row += 1
    ws.merge_range(s.row, 0, s.row, s.dcol, "Portfolio choice: NPV of every combination of the allowed solutions "
                                            "(rule npv_max takes the first highest; the empty one is worth 0)",
                   st.section)
    s.row += 1
    heads = ["Combination (bits = solutions 1..5)"] + [f"Solution {r.number} in" for r in sols] + \
        ["Allowed"] + [f"Share left, {r.number}" for r in sols] + ["NPV", "Candidate value"]
    ws.write_row(s.row, 0, heads, st.header)
    s.row += 1
    first = s.row
    en = [s.addr("enabled", r.id) for r in sols]
    eff = [s.addr("eff", r.id) for r in sols]
    pvs = [bc(r.id, "pvs") for r in sols]
    pvc = [bc(r.id, "pvc") for r in sols]
    effs = [r.effect for r in sols]
    tg = [r.target for r in sols]
    pv_s = [r.pv_savings for r in sols]
    pv_c = [r.pv_costs for r in sols]
    values = []
    for mask in range(2 ** k):
        rr = s.row
        R = rr + 1
        bits = [mask >> i & 1 for i in range(k)]
        ws.write_number(rr, 0, mask, st.num["count"])
        for i in range(k):
            ws.write_formula(rr, 1 + i, f"=MOD(INT($A{R}/2^{i}),2)", st.num["count"], bits[i])
        allowed = all(not b or r.enabled for b, r in zip(bits, sols))
        ws.write_formula(rr, 1 + k, "=" + "*".join(f"(1-{col(1 + i)}{R}*(1-{en[i]}))" for i in range(k)),
                         st.num["count"], 1 if allowed else 0)
        npv = 0.0
        for i in range(k):
            terms = [f"(1-{col(1 + j)}{R}*{eff[j]}*({prefix(sols[j].id)}_target={prefix(sols[i].id)}_target))"
                     for j in range(i)]
            rem = float(np.prod([1 - bits[j] * effs[j] * (tg[j] == tg[i]) for j in range(i)]))
            ws.write_formula(rr, 2 + k + i, "=" + ("*".join(terms) if terms else "1"), st.num["factor"], rem)
            npv += bits[i] * (pv_s[i] * rem - pv_c[i])
        npv_f = "=" + "+".join(f"{col(1 + i)}{R}*({pvs[i]}*{col(2 + k + i)}{R}-{pvc[i]})" for i in range(k))
        ws.write_formula(rr, 2 + 2 * k, npv_f, st.num["usd0"], npv)
        val = npv if allowed else -1e300
        values.append(val)
        ws.write_formula(rr, 3 + 2 * k, f"=IF({col(1 + k)}{R}=1,{col(2 + 2 * k)}{R},-1E+300)", st.num["usd0"], val)
        s.row += 1
    define(s.wb, "bc_choice_npv", BUSINESS_CASE_SHEET, first, 2 + 2 * k, first + 2 ** k - 1, 2 + 2 * k)
    vr = f"${col(3 + 2 * k)}${first + 1}:${col(3 + 2 * k)}${first + 2 ** k}"
    best = int(np.argmax(values))  # first maximum, as MATCH does
    ws.write_string(s.row, 0, "NPV-maximising combination", st.label)
    ws.write_formula(s.row, 1, f"=MATCH(MAX({vr}),{vr},0)-1", st.num["count"], best)
    define(s.wb, "bc_best_mask", BUSINESS_CASE_SHEET, s.row, 1)
    s.row += 1
