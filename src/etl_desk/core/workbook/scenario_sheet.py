"""The Scenarios sheet: low / base / high side by side, and one-at-a-time sensitivity with tornado charts.

Both are live: every figure is a closed-form formula over the named inputs and the
working figures of the Business Case sheet (NPV is linear in effect, spend, investment
and maintenance: NPV = effect x spend x V - investment x PVI1 - maintenance x PVM1), or a
SUMPRODUCT over the Monthly schedule for the discount rate, growth and horizon. The
portfolio keeps its members. Paybacks per scenario are array formulas over the
cumulative unit series of the schedule. The app computes the same figures by
re-evaluating the model (:mod:`etl_desk.core.business_case.scenarios`); the LibreOffice
recalculation test checks they agree.
"""
from __future__ import annotations

import copy

import numpy as np

from etl_desk.core.business_case.catalogue import SCENARIOS, SENSITIVITY_KEYS, catalogue
from etl_desk.core.business_case.model import BusinessCase, evaluate
from etl_desk.core.data.xlsx_book import print_setup
from etl_desk.core.business_case.scenarios import ScenarioResult, SensitivityRow, tornado
from etl_desk.core.fmt import money_round
from etl_desk.core.workbook.formats import Styles, wrapped_height
from etl_desk.core.workbook.names import SCENARIO_SHEET, a1, bc, define, prefix, sch

NA = "n/a"
SCALES_WITH_BASELINE = ("compute_cost", "failed_cost", "retry_cost", "on_demand_cost", "large_volume_cost",
                        "anomaly_excess_cost", "incident_cost")


def _v(x):
    return NA if x is None else x


def _contribution(r) -> float:
    """A member's share of the portfolio NPV (0 for a non-member)."""
    if not r.member:
        return 0.0
    return float(np.sum(r.schedule.savings * r.remaining_share * r.discount)) - r.pv_costs


def write_scenario_sheet(wb, st: Styles, case: BusinessCase, scenarios: list[ScenarioResult],
                         sens: list[SensitivityRow]) -> None:
    """Add the "Scenarios" sheet (protected, no password) to the xlsxwriter workbook *wb*.

    Low / base / high per option (*scenarios*, from
    :func:`etl_desk.core.business_case.scenarios.scenario_results`) and one-at-a-time sensitivity with
    tornado charts (*sens*, :func:`~etl_desk.core.business_case.scenarios.sensitivity`), all
    live formulas over the Assumptions sheet's names, the Business Case working figures and the
    Monthly schedule (see the module docstring for the closed-form NPV); the values in *scenarios*
    and *sens* are only cached results. Those sheets must be written in the same workbook.
    """
    ws = wb.add_worksheet(SCENARIO_SHEET)
    sols = case.solutions
    ids = [r.id for r in sols] + ["portfolio"]
    names = {r.id: f"{r.number}. {r.name}" for r in sols} | {"portfolio": "Portfolio"}
    ws.set_column(0, 0, 44)
    ws.set_column(1, 12, 13)
    ws.write_string(0, 0, "Scenarios and sensitivity: what would have to be true", st.title)
    intro = ("Low, base and high apply the scenario multipliers of the Assumptions sheet to effect, investment, "
             "maintenance and the measured spend; the scenario in force (g_scenario) drives the Business Case. The "
             "sensitivity moves one input at a time to its low and high value, everything else as in force; the "
             "portfolio keeps its members. Every figure is a live formula.")
    ws.merge_range(1, 0, 1, 12, intro, st.note)
    ws.set_row(1, wrapped_height(intro, 44 + 12 * 13))
    helper_col = 16
    _scenario_helpers(wb, ws, st, case, helper_col)
    row = _scenario_table(ws, st, case, scenarios, ids, names, 3)
    row = _sensitivity(wb, ws, st, case, sens, ids, names, row + 2, helper_col)
    print_setup(ws, title=SCENARIO_SHEET)
    ws.print_area(0, 0, row, 12)
    ws.protect("", {"format_columns": True, "format_rows": True})


def _scenario_helpers(wb, ws, st, case: BusinessCase, c0: int) -> None:
    """Per solution and scenario: effect, spend, investment, maintenance, share left; named ``scn_<p>_<s>_<x>``."""
    sols = case.solutions
    cases = {}
    for s in SCENARIOS:
        a = copy.deepcopy(case.assumptions)
        a["global"]["scenario"] = s
        cases[s] = evaluate(case.baseline, a, members=case.members)
    ws.write_string(2, c0, "Working figures per scenario (not printed)", st.label)
    heads = ["Solution", "Scenario", "Effect", "Spend on target", "Investment", "Maintenance", "Share left",
             "Member x share x effect x spend"]
    ws.write_row(3, c0, heads, st.header)
    row = 4
    en = {r.id: bc(r.id, "mem") for r in sols}
    for s in SCENARIOS:
        mult = {d: (1.0 if s == "base" else f"sc_{s}_{d}") for d in ("effect", "investment", "maintenance", "baseline")}
        for i, r in enumerate(sols):
            p = prefix(r.id)
            x = cases[s].result(r.id)
            ws.write_string(row, c0, r.name, st.text)
            ws.write_string(row, c0 + 1, s, st.text)
            q = f"({mult['baseline']}/sc_baseline)"
            formulas = {
                "e": f"=MIN(1,{p}_effect*{mult['effect']})",
                "t": (f'=IF({p}_target="storage_cost",{bc(r.id, "tgt")},IF({p}_target="total_cost",{bc(r.id, "tgt")}+'
                      f'(bl_compute_cost+bl_incident_cost)*({q}-1),{bc(r.id, "tgt")}*{q}))'),
                "b": f"=({p}_people*{p}_weeks*{p}_weekly_rate_usd+{p}_tooling_usd)*{mult['investment']}",
                "c": f"=({p}_maintenance_usd_per_year+{p}_maintenance_fte*{p}_weekly_rate_usd*c_working_weeks_per_year)"
                     f"*{mult['maintenance']}",
            }
            vals = {"e": x.effect, "t": x.target_usd_per_year or 0.0, "b": x.investment_usd, "c": x.maintenance_year}
            for k, key in enumerate(("e", "t", "b", "c")):
                ws.write_formula(row, c0 + 2 + k, formulas[key], st.num["factor"], vals[key])
                define(wb, f"scn_{p}_{s}_{key}", SCENARIO_SHEET, row, c0 + 2 + k)
            terms = [f"(1-{en[sols[j].id]}*scn_{prefix(sols[j].id)}_{s}_e*({prefix(sols[j].id)}_target={p}_target))"
                     for j in range(i)]
            ws.write_formula(row, c0 + 6, f"={en[r.id]}*" + ("*".join(terms) if terms else "1"), st.num["factor"],
                             x.remaining_share)
            define(wb, f"scn_{p}_{s}_rem", SCENARIO_SHEET, row, c0 + 6)
            ar = (1.0 if x.member else 0.0) * x.remaining_share * x.effect * (x.target_usd_per_year or 0.0)
            ws.write_formula(row, c0 + 7, f"={en[r.id]}*scn_{p}_{s}_rem*scn_{p}_{s}_e*scn_{p}_{s}_t", st.num["factor"],
                             ar)
            define(wb, f"scn_{p}_{s}_ar", SCENARIO_SHEET, row, c0 + 7)
            row += 1
    ws.set_column(c0, c0, 34)
    ws.set_column(c0 + 1, c0 + 7, 14)


def _payback_array(a: str, b: str, c: str, p: str) -> str:
    """Array formula: payback over the schedule of cum(m) = a*CR(m) - b*CS(m) - c*CM(m) for solution prefix *p*."""
    cur = f"({a}*sch_{p}_cr-{b}*sch_{p}_cs-{c}*sch_{p}_cm)"
    prev = f"({a}*sch_{p}_cr_0-{b}*sch_{p}_cs_0-{c}*sch_{p}_cm_0)"
    last = f"({a}*INDEX(sch_{p}_cr,c_schedule_months)-{b}*INDEX(sch_{p}_cs,c_schedule_months)-" \
           f"{c}*INDEX(sch_{p}_cm,c_schedule_months))"
    net_last = f"({a}*INDEX(sch_{p}_rf,c_schedule_months)/c_months_per_year-{b}*INDEX(sch_{p}_spread," \
               f"c_schedule_months)-{c}*INDEX(sch_{p}_mfrac,c_schedule_months)/c_months_per_year)"
    return (f'{{=IF(AND({a}=0,{b}=0,{c}=0),"nothing to pay back",IF({last}<0,IF({net_last}>0,"not within 10 years",'
            f'"never"),MAX(IF(({prev}<0)*({cur}>=0),(sch_month-1)+(-{prev})/({cur}-{prev}),0))))}}')


def _scenario_table(ws, st, case, scenarios, ids, names, row) -> int:
    ws.merge_range(row, 0, row, 12, "Scenario comparison: every option under low, base and high (the portfolio "
                                    "keeps its members)", st.h2)
    row += 1
    heads = ["Option"]
    for s in SCENARIOS:
        heads += [f"{s.capitalize()}: NPV", f"{s.capitalize()}: PI", f"{s.capitalize()}: ROI",
                  f"{s.capitalize()}: payback (months)"]
    ws.write_row(row, 0, heads, st.header)
    ws.set_row(row, 32)
    row += 1
    res = {(x.scenario, x.option_id): x for x in scenarios}
    sols = case.solutions
    for rid in ids:
        ws.write_string(row, 0, names[rid], st.wrap)
        for k, s in enumerate(SCENARIOS):
            x = res[(s, rid)]
            c = 1 + 4 * k
            if rid != "portfolio":
                p = prefix(rid)
                e, t, b_, c_ = (f"scn_{p}_{s}_{q}" for q in "etbc")
                pvs = f"{e}*{t}*{bc(rid, 'v')}"
                pvc = f"({b_}*{bc(rid, 'pvi1')}+{c_}*{bc(rid, 'pvm1')})"
                hs = f"{e}*{t}*{bc(rid, 'w1')}"
                hc = f"({b_}*{bc(rid, 'i1')}+{c_}*{bc(rid, 'm1')})"
                pb = _payback_array(f"{e}*{t}", b_, c_, p)
            else:
                terms = [(prefix(r.id), r.id) for r in sols]
                pvs = "(" + "+".join(f"scn_{p}_{s}_ar*{bc(i, 'v')}" for p, i in terms) + ")"
                pvc = "(" + "+".join(f"{bc(i, 'mem')}*(scn_{p}_{s}_b*{bc(i, 'pvi1')}+scn_{p}_{s}_c*{bc(i, 'pvm1')})"
                                     for p, i in terms) + ")"
                hs = "(" + "+".join(f"scn_{p}_{s}_ar*{bc(i, 'w1')}" for p, i in terms) + ")"
                hc = "(" + "+".join(f"{bc(i, 'mem')}*(scn_{p}_{s}_b*{bc(i, 'i1')}+scn_{p}_{s}_c*{bc(i, 'm1')})"
                                    for p, i in terms) + ")"
                cur, prev = f"sch_portfolio_scen_{s}", f"sch_portfolio_scen_{s}_0"
                pb = (f'{{=IF(SUM(sch_portfolio_inv)+SUM(sch_portfolio_mnt)+SUM(sch_portfolio_sav)=0,'
                      f'"nothing to pay back",IF(INDEX({cur},c_schedule_months)<0,IF(INDEX({cur},c_schedule_months)-'
                      f'INDEX({cur},c_schedule_months-1)>0,"not within 10 years","never"),MAX(IF(({prev}<0)*'
                      f'({cur}>=0),(sch_month-1)+(-{prev})/({cur}-{prev}),0))))}}')
            ws.write_formula(row, c, f"={pvs}-{pvc}", st.num["usd0"], x.npv_usd)
            ws.write_formula(row, c + 1, f'=IF({pvc}<=0,"{NA}",{pvs}/{pvc})', st.num["ratio"],
                             _v(x.profitability_index))
            ws.write_formula(row, c + 2, f'=IF({hc}<=0,"{NA}",({hs}-{hc})/{hc})', st.num["fraction"], _v(x.roi))
            pbv = x.payback_months if x.payback_months is not None else x.payback_status
            ws.write_array_formula(row, c + 3, row, c + 3, pb, st.num["months"], pbv)
        ws.set_row(row, 30)
        row += 1
    note = ("NPV = effect x spend x V - investment x PVI1 - maintenance x PVM1 per option (the working figures of the "
            "Business Case sheet); payback over the 120-month schedule, may fall after the horizon.")
    ws.merge_range(row, 0, row, 12, note, st.note)
    ws.set_row(row, 30)
    return row + 1


def _sens_values(case: BusinessCase) -> dict[tuple[str, str, str], tuple[float, float]]:
    """(option, input, end) -> (standalone NPV, contribution to the portfolio NPV)."""
    drivers = catalogue().sensitivity
    out = {}
    for key in SENSITIVITY_KEYS:
        for end in ("low", "high"):
            v = case.assumptions["sensitivity"][key][end]
            if drivers[key].kind == "multiplier":
                c = evaluate(case.baseline, case.assumptions, members=case.members, factors={key: v})
            else:
                a = copy.deepcopy(case.assumptions)
                a["global"][key] = int(v) if key == "horizon_years" else v
                c = evaluate(case.baseline, a, members=case.members)
            for r in c.solutions:
                out[(r.id, key, end)] = (r.npv_usd, _contribution(r))
            out[("portfolio", key, end)] = (c.portfolio.npv_usd, c.portfolio.npv_usd)
    return out


def _sens_formulas(rid: str, i: int, key: str, v: str, sols) -> tuple[str, str]:
    """(standalone NPV, portfolio contribution) formulas of solution *rid* with input *key* at value cell *v*."""
    p = prefix(rid)
    e, t, inv, mnt = bc(rid, "eff"), bc(rid, "tgt"), bc(rid, "inv"), bc(rid, "mnt")
    V, I1, M1, mem, rem = bc(rid, "v"), bc(rid, "pvi1"), bc(rid, "pvm1"), bc(rid, "mem"), bc(rid, "rem")

    def lin(e_, t_, inv_, mnt_, rem_):
        return (f"={e_}*{t_}*{V}-{inv_}*{I1}-{mnt_}*{M1}",
                f"={mem}*({e_}*{rem_}*{t_}*{V}-{inv_}*{I1}-{mnt_}*{M1})")

    if key == "effect":
        e2 = f"MIN(1,{p}_effect*sc_effect*{v})"
        terms = [f"(1-{bc(sols[j].id, 'mem')}*MIN(1,{prefix(sols[j].id)}_effect*sc_effect*{v})*"
                 f"({prefix(sols[j].id)}_target={p}_target))" for j in range(i)]
        rem2 = f"{mem}*" + ("*".join(terms) if terms else "1")
        return lin(e2, t, inv, mnt, f"({rem2})")
    if key == "weekly_rate":
        inv2 = f"(({p}_people*{p}_weeks*{p}_weekly_rate_usd*{v}+{p}_tooling_usd)*sc_investment)"
        mnt2 = (f"(({p}_maintenance_usd_per_year+{p}_maintenance_fte*{p}_weekly_rate_usd*{v}*c_working_weeks_per_year)"
                f"*sc_maintenance)")
        return lin(e, t, inv2, mnt2, rem)
    if key == "maintenance":
        return lin(e, t, inv, f"({mnt}*{v})", rem)
    if key == "storage_usd_per_month":
        t2 = (f"({t}+IF(g_storage_confirmed,({v}-g_storage_usd_per_month)*c_months_per_year,0)*"
              f'(({p}_target="storage_cost")+({p}_target="total_cost")))')
        return lin(e, t2, inv, mnt, rem)
    if key == "data_coverage":
        q = f"(g_data_coverage/{v})"
        t2 = (f'IF({p}_target="storage_cost",{t},IF({p}_target="total_cost",{t}+(bl_compute_cost+bl_incident_cost)*'
              f"({q}-1),{t}*{q}))")
        return lin(e, f"({t2})", inv, mnt, rem)
    s_, i_, m_, n_ = sch("sav", rid), sch("inv", rid), sch("mnt", rid), sch("net", rid)
    if key == "discount_rate":
        d = f"(1+{v})^(-sch_month/c_months_per_year)"
        return (f"=SUMPRODUCT({n_}*sch_inh*{d})", f"={mem}*SUMPRODUCT(({s_}*{rem}-{i_}-{m_})*sch_inh*{d})")
    if key == "growth_rate":
        g2 = f"{s_}/sch_growth*(1+{v})^((sch_month-1)/c_months_per_year)"
        return (f"=SUMPRODUCT(({g2}-{i_}-{m_})*sch_disc*sch_inh)",
                f"={mem}*SUMPRODUCT(({g2}*{rem}-{i_}-{m_})*sch_disc*sch_inh)")
    if key == "horizon_years":
        hm = f"(sch_month<={v}*c_months_per_year)"
        return (f"=SUMPRODUCT({n_}*sch_disc*{hm})", f"={mem}*SUMPRODUCT(({s_}*{rem}-{i_}-{m_})*sch_disc*{hm})")
    raise KeyError(key)


def _sensitivity(wb, ws, st, case: BusinessCase, sens: list[SensitivityRow], ids, names, row: int, c0: int) -> int:
    sols = case.solutions
    drivers = catalogue().sensitivity
    vals = _sens_values(case)
    # ---- helper table: input x end rows; per solution standalone NPV and contribution, portfolio total ----
    hrow = 25
    ws.write_string(hrow - 2, c0, "Working figures: sensitivity (not printed)", st.label)
    heads = ["Input", "End", "Value"] + [f"{r.number}: NPV" for r in sols] + [f"{r.number}: share of portfolio NPV"
                                                                             for r in sols] + ["Portfolio NPV"]
    ws.write_row(hrow - 1, c0, heads, st.header)
    cell = {}
    r0 = hrow
    for key in SENSITIVITY_KEYS:
        for end in ("low", "high"):
            ws.write_string(r0, c0, drivers[key].label, st.text)
            ws.write_string(r0, c0 + 1, end, st.text)
            ws.write_formula(r0, c0 + 2, f"=sens_{key}_{end}", st.num["number"],
                             case.assumptions["sensitivity"][key][end])
            vcell = a1(r0, c0 + 2, abs_row=True, abs_col=True)
            contrib = []
            for i, r in enumerate(sols):
                fs, fp = _sens_formulas(r.id, i, key, vcell, sols)
                sv, pv = vals[(r.id, key, end)]
                ws.write_formula(r0, c0 + 3 + i, fs, st.num["usd0"], sv)
                ws.write_formula(r0, c0 + 3 + len(sols) + i, fp, st.num["usd0"], pv)
                cell[(r.id, key, end)] = a1(r0, c0 + 3 + i, abs_row=True, abs_col=True)
                contrib.append(a1(r0, c0 + 3 + len(sols) + i))
            pc = c0 + 3 + 2 * len(sols)
            ws.write_formula(r0, pc, "=" + "+".join(contrib), st.num["usd0"], vals[("portfolio", key, end)][0])
            cell[("portfolio", key, end)] = a1(r0, pc, abs_row=True, abs_col=True)
            r0 += 1
    # ---- visible tables and tornado charts, one per option ----------------------------------------
    ws.merge_range(row, 0, row, 12, "One-at-a-time sensitivity of NPV, largest swing first", st.h2)
    row += 1
    for rid in ids:
        rows = tornado(sens, rid)
        base = rows[0].npv_base if rows else 0.0
        ws.merge_range(row, 0, row, 6, f"{names[rid]}: NPV in force", st.section)
        ws.write_formula(row, 7, f"={bc(rid, 'npv')}", st.bold["usd0"], base)
        row += 1
        ws.write_row(row, 0, ("Input (sorted by swing)", "Low value", "High value", "NPV at low", "NPV at high",
                              "Swing", "Low - in force", "High - in force"), st.header)
        ws.set_row(row, 30)
        row += 1
        # unsorted block (hidden columns M..P) to rank from
        t0 = row
        swing_cells = []
        for k, key in enumerate(SENSITIVITY_KEYS):
            lo, hi = cell[(rid, key, "low")], cell[(rid, key, "high")]
            ws.write_formula(t0 + k, 13, f"=ROUND(ABS({hi}-{lo}),2)", st.num["usd"],
                             float(money_round(next(x.swing for x in sens if x.option_id == rid and x.input == key))))
            swing_cells.append(a1(t0 + k, 13))
        sw_rng = f"$N${t0 + 1}:$N${t0 + len(SENSITIVITY_KEYS)}"
        order = [SENSITIVITY_KEYS.index(x.input) for x in rows]
        for k in range(len(SENSITIVITY_KEYS)):
            before = f"$N${t0 + 1}:N{t0 + k}" if k else None
            rank = f"=SUMPRODUCT(--({sw_rng}>N{t0 + k + 1}))" + (f"+SUMPRODUCT(--({before}=N{t0 + k + 1}))"
                                                                    if before else "") + "+1"
            ws.write_formula(t0 + k, 14, rank, st.num["count"], order.index(k) + 1)
        rank_rng = f"$O${t0 + 1}:$O${t0 + len(SENSITIVITY_KEYS)}"
        for k, x in enumerate(rows):
            pos = f"MATCH({k + 1},{rank_rng},0)"
            labels = [drivers[key].label for key in SENSITIVITY_KEYS]
            rr = row + k
            lo_list = ",".join(cell[(rid, key, "low")] for key in SENSITIVITY_KEYS)
            hi_list = ",".join(cell[(rid, key, "high")] for key in SENSITIVITY_KEYS)
            lab_list = ",".join('"' + lab.replace('"', "'") + '"' for lab in labels)
            vlo = ",".join(f"sens_{key}_low" for key in SENSITIVITY_KEYS)
            vhi = ",".join(f"sens_{key}_high" for key in SENSITIVITY_KEYS)
            ws.write_formula(rr, 0, f"=CHOOSE({pos},{lab_list})", st.text, x.label)
            ws.write_formula(rr, 1, f"=CHOOSE({pos},{vlo})", st.num["number"], x.low_value)
            ws.write_formula(rr, 2, f"=CHOOSE({pos},{vhi})", st.num["number"], x.high_value)
            ws.write_formula(rr, 3, f"=CHOOSE({pos},{lo_list})", st.num["usd0"], x.npv_low)
            ws.write_formula(rr, 4, f"=CHOOSE({pos},{hi_list})", st.num["usd0"], x.npv_high)
            ws.write_formula(rr, 5, f"=ABS(E{rr + 1}-D{rr + 1})", st.num["usd0"], x.swing)
            ws.write_formula(rr, 6, f"=D{rr + 1}-{bc(rid, 'npv')}", st.num["usd0"], x.npv_low - base)
            ws.write_formula(rr, 7, f"=E{rr + 1}-{bc(rid, 'npv')}", st.num["usd0"], x.npv_high - base)
        _tornado_chart(wb, ws, rid, names[rid], row, len(rows), row - 2)
        row += max(len(rows), 16) + 2
    ws.set_column(13, 14, None, None, {"hidden": True})
    return row


def _tornado_chart(wb, ws, rid: str, name: str, first: int, n: int, anchor: int) -> None:
    ch = wb.add_chart({"type": "bar"})
    for label, c, color in (("Input at its low value", 6, "#9C755F"), ("Input at its high value", 7, "#76B7B2")):
        ch.add_series({"name": label, "categories": [SCENARIO_SHEET, first, 0, first + n - 1, 0],
                       "values": [SCENARIO_SHEET, first, c, first + n - 1, c], "fill": {"color": color},
                       "border": {"none": True}, "gap": 40, "overlap": 100})
    ch.set_title({"name": f"{name}: NPV sensitivity", "name_font": {"size": 10, "bold": True}})
    ch.set_x_axis({"name": "Change in NPV from the case in force (USD)", "num_format": "$#,##0;($#,##0)",
                   "num_font": {"size": 8, "rotation": 0}, "name_font": {"size": 8},
                   "major_gridlines": {"visible": True, "line": {"color": "#E0E0E0"}}})
    ch.set_y_axis({"reverse": True, "num_font": {"size": 8}, "label_position": "low"})
    ch.set_legend({"position": "bottom", "font": {"size": 8}})
    ch.set_size({"width": 520, "height": 300})
    ch.set_chartarea({"border": {"none": True}})
    ws.insert_chart(anchor, 8, ch, {"object_position": 1})
