"""The Business Case sheet: every figure of every option as a live formula over the named inputs.

Columns: figure, unit, the five solutions, the portfolio, doing nothing (grey where a row
does not apply). Sections: IT leadership (investment, peak FTE and person-weeks,
timeline), what each solution acts on (measured or assumed), finance per period,
sizing, finance over the horizon (NPV with an ``NPV()`` cross-check, PI, IRR, ROI,
payback and discounted payback with their horizon flags, switching values), operations,
and the conventions, one per line. Below the printed area: the working figures the
Scenarios sheet uses (PV per dollar of target, of investment and of maintenance) and the
table that picks the NPV-maximising portfolio (all 32 combinations).

Results get defined names ``bc_<option>_<figure>`` (:mod:`etl_desk.core.workbook.names`).
"""
from __future__ import annotations

import numpy as np

from etl_desk.core.business_case.catalogue import catalogue, targets
from etl_desk.core.business_case.model import BusinessCase
from etl_desk.core.business_case.periods import PERIODS, per_period
from etl_desk.core.business_case.report import CONVENTIONS
from etl_desk.core.business_case.scenarios import SwitchingValue
from etl_desk.core.data.xlsx_book import print_setup
from etl_desk.core.workbook.formats import Styles, wrapped_height
from etl_desk.core.workbook.case_working import write_working
from etl_desk.core.workbook.names import BUSINESS_CASE_SHEET, a1, bc, define, prefix, sch

NA = "n/a"
PERIOD_DIV = {"day": "/c_days_per_year", "week": "/c_days_per_year*c_days_per_week", "month": "/c_months_per_year",
              "quarter": "/c_quarters_per_year", "year": ""}
C0 = 2  # first solution column


def _payback_cell(pb: float | None, status: str):
    return pb if pb is not None else status


class _Sheet:
    def __init__(self, wb, st: Styles, case: BusinessCase):
        self.wb, self.st, self.case = wb, st, case
        self.ws = wb.add_worksheet(BUSINESS_CASE_SHEET)
        self.sols = case.solutions
        self.ns = len(self.sols)
        self.pcol = C0 + self.ns
        self.dcol = self.pcol + 1
        self.row = 0
        self.rows: dict[str, int] = {}

    def col_of(self, rid: str) -> int:
        if rid == "portfolio":
            return self.pcol
        if rid == "do-nothing":
            return self.dcol
        return C0 + [r.id for r in self.sols].index(rid)

    def addr(self, key: str, rid: str, absolute: bool = True) -> str:
        return a1(self.rows[key], self.col_of(rid), abs_row=absolute, abs_col=absolute)

    def rng(self, key: str) -> str:
        r = self.rows[key]
        return f"{a1(r, C0, abs_row=True, abs_col=True)}:{a1(r, C0 + self.ns - 1, abs_row=True, abs_col=True)}"

    def section(self, text: str) -> None:
        self.ws.merge_range(self.row, 0, self.row, self.dcol, text, self.st.section)
        self.row += 1

    def new(self, key: str, label: str, unit: str, name: str | None = None) -> int:
        r = self.row
        self.rows[key] = r
        self.ws.write_string(r, 0, label, self.st.wrap)
        self.ws.write_string(r, 1, unit, self.st.text)
        self.ws.set_row(r, wrapped_height(label, 44))
        self.row += 1
        if name:
            for res in self.sols + [self.case.portfolio]:
                define(self.wb, bc(res.id, name), BUSINESS_CASE_SHEET, r, self.col_of(res.id))
        return r

    def put(self, key: str, rid: str, formula: str, value, fmt) -> None:
        if isinstance(value, float) and not np.isfinite(value):
            value = NA
        self.ws.write_formula(self.rows[key], self.col_of(rid), formula, fmt, value)

    def na(self, key: str, rid: str = "do-nothing") -> None:
        self.ws.write_blank(self.rows[key], self.col_of(rid), None, self.st.na)


def write_business_case_sheet(wb, st: Styles, case: BusinessCase, switching: list[SwitchingValue]) -> None:
    """Write the Business Case sheet of *case* (the schedule sheet supplies the ``sch_`` names)."""
    s = _Sheet(wb, st, case)
    ws, sols, port = s.ws, s.sols, case.portfolio
    a = case.assumptions
    sw = {v.option_id: v for v in switching}
    ws.set_column(0, 0, 46)
    ws.set_column(1, 1, 15)
    ws.set_column(C0, s.dcol, 17)
    ws.write_string(0, 0, "Business case: the five solutions, the portfolio and doing nothing", st.title)
    ws.merge_range(1, 0, 1, s.dcol, "Every figure is a live formula over the Assumptions sheet's named inputs and the "
                                    "Monthly schedule. Conventions are listed at the bottom, one per line.", st.subtitle)
    s.row = 3
    ws.write_string(s.row, 0, "Figure", st.header)
    ws.write_string(s.row, 1, "Unit", st.header)
    for r in sols:
        ws.write_string(s.row, s.col_of(r.id), f"{r.number}. {r.name}", st.header)
    ws.write_string(s.row, s.pcol, "Portfolio", st.header)
    ws.write_string(s.row, s.dcol, "Doing nothing", st.header)
    ws.set_row(s.row, 48)
    hdr = s.row
    ws.freeze_panes(hdr + 1, 2)
    s.row += 1

    def each(key, label, unit, formula_fn, value_fn, fmt, name=None, port=None, nothing=None):
        s.new(key, label, unit, name)
        for r in sols:
            s.put(key, r.id, formula_fn(prefix(r.id), r), value_fn(r), fmt)
        if port is not None:
            s.put(key, "portfolio", port[0], port[1], port[2] if len(port) > 2 else fmt)
        if nothing is None:
            s.na(key)
        else:
            s.put(key, "do-nothing", nothing[0], nothing[1], nothing[2] if len(nothing) > 2 else fmt)

    # ---- IT leadership ------------------------------------------------------------------------
    s.section("IT leadership: investment, personnel, timeline")
    each("enabled", "Allowed in the portfolio (1 = yes)", "flag", lambda p, r: f"=IF({p}_enabled,1,0)",
         lambda r: 1 if r.enabled else 0, st.num["count"], name="en")
    s.put("enabled", "portfolio", f"=SUM({s.rng('enabled')})", sum(r.enabled for r in sols), st.num["count"])
    s.new("member", f"In the portfolio (rule: g_portfolio = {a['global']['portfolio']})", "flag", "mem")
    best_cell = "bc_best_mask"
    for i, r in enumerate(sols):
        p = prefix(r.id)
        s.put("member", r.id, f'=IF(g_portfolio="npv_max",MOD(INT({best_cell}/2^{i}),2),IF({p}_enabled,1,0))',
              1 if r.member else 0, st.num["count"])
    s.put("member", "portfolio", f"=SUM({s.rng('member')})", len(case.members), st.num["count"])
    s.na("member")
    mem = s.rng("member")
    each("inv", "Investment: (people x weeks x loaded weekly rate + tooling) x scenario", "USD",
         lambda p, r: f"=({p}_people*{p}_weeks*{p}_weekly_rate_usd+{p}_tooling_usd)*sc_investment",
         lambda r: r.investment_usd, st.bold["usd0"], name="inv")
    s.put("inv", "portfolio", f"=SUMPRODUCT({mem},{s.rng('inv')})", port.investment_usd, st.bold["usd0"])
    each("people", "Personnel during implementation (portfolio: peak FTE at one time)", "FTE",
         lambda p, r: f"={p}_people", lambda r: r.personnel_fte, st.num["number"], name="fte")
    each("pweeks", "Effort (people x weeks)", "person-weeks", lambda p, r: f"={p}_people*{p}_weeks",
         lambda r: r.person_weeks, st.num["number"], name="pweeks")
    s.put("pweeks", "portfolio", f"=SUMPRODUCT({mem},{s.rng('pweeks')})", port.person_weeks, st.num["number"])
    each("start_week", "Start", "week", lambda p, r: f"={p}_start_week", lambda r: r.start_week, st.num["number"])
    each("go_week", "Go-live", "week", lambda p, r: f"={p}_start_week+{p}_weeks", lambda r: r.go_live_week,
         st.num["number"])
    each("weeks", "Implementation time", "weeks", lambda p, r: f"={p}_weeks", lambda r: r.duration_weeks,
         st.num["number"])
    each("ramp_weeks", "Ramp-up to full effect after go-live", "weeks", lambda p, r: f"={p}_ramp_weeks",
         lambda r: a["solutions"][r.id]["ramp_weeks"], st.num["number"])
    en = [s.addr("member", r.id) for r in sols]
    sw_ = [s.addr("start_week", r.id) for r in sols]
    gw = [s.addr("go_week", r.id) for r in sols]
    ppl = [s.addr("people", r.id) for r in sols]
    none = f"SUM({mem})=0"
    p_start = "MIN(" + ",".join(f"IF({e}=1,{x},1E+300)" for e, x in zip(en, sw_)) + ")"
    p_end = "MAX(" + ",".join(f"IF({e}=1,{x},-1E+300)" for e, x in zip(en, gw)) + ")"
    s.put("start_week", "portfolio", f"=IF({none},0,{p_start})", port.start_week, st.num["number"])
    s.put("go_week", "portfolio", f"=IF({none},0,{p_end})", port.go_live_week, st.num["number"])
    s.put("weeks", "portfolio", f"=IF({none},0,{s.addr('go_week', 'portfolio')}-{s.addr('start_week', 'portfolio')})",
          port.duration_weeks, st.num["number"])
    s.na("ramp_weeks", "portfolio")
    loads = []
    for i in range(len(sols)):
        load = "+".join(f"{en[j]}*{ppl[j]}*({sw_[j]}<={sw_[i]})*({sw_[i]}<{gw[j]})" for j in range(len(sols)))
        loads.append(f"{en[i]}*({load})")
    s.put("people", "portfolio", "=MAX(" + ",".join(loads) + ")", port.personnel_fte, st.num["number"])
    for key, name, f, v in (("start_m", "start_m", "={p}_start_week*c_days_per_week*c_months_per_year/c_days_per_year",
                             lambda r: r.start_week * 7 * 12 / 365),
                            ("go_m", "go_m", "=({p}_start_week+{p}_weeks)*c_days_per_week*c_months_per_year/"
                                             "c_days_per_year", lambda r: r.go_live_week * 7 * 12 / 365),
                            ("ramp_m", "ramp_m", "={p}_ramp_weeks*c_days_per_week*c_months_per_year/c_days_per_year",
                             lambda r: a["solutions"][r.id]["ramp_weeks"] * 7 * 12 / 365)):
        label = {"start_m": "Start", "go_m": "Go-live", "ramp_m": "Ramp-up"}[key] + " (months from the start)"
        each(key, label, "months", lambda p, r, f=f: f.format(p=p), v, st.num["months"], name=name)
        s.na(key, "portfolio")

    # ---- effect on the baseline -------------------------------------------------------------
    s.section("What each solution acts on (measured from the runs, or assumed)")
    tl = targets()
    each("target", "Acts on", "", lambda p, r: f'=INDEX(bl_target_labels,MATCH("baseline."&{p}_target,'
                                              f'bl_target_keys,0))',
         lambda r: tl[r.target].label + ", a year", st.wrap)
    ws.set_row(s.rows["target"], 45)
    s.na("target", "portfolio")
    each("basis", "Measured or assumed", "", lambda p, r: f'=IF(OR({p}_target="storage_cost",'
                                                          f'{p}_target="incident_cost"),"ASSUMED","measured")',
         lambda r: "ASSUMED" if r.target in ("storage_cost", "incident_cost") else "measured", st.text)
    s.na("basis", "portfolio")
    each("tgt", "Yearly spend on that component, as counted", "USD per year",
         lambda p, r: f'=SUMPRODUCT((bl_target_keys="baseline."&{p}_target)*bl_target_values)',
         lambda r: r.target_usd_per_year or 0.0, st.num["usd0"], name="tgt",
         nothing=("=bl_total_cost", case.annual["total_cost"], st.num["usd0"]))
    s.na("tgt", "portfolio")
    each("effect_in", "Effect on the component (input)", "%", lambda p, r: f"={p}_effect", lambda r: r.effect_input,
         st.num["fraction"])
    s.na("effect_in", "portfolio")
    each("eff", "Effect in this scenario (input x scenario, at most 100 %)", "%",
         lambda p, r: f"=MIN(1,{p}_effect*sc_effect)", lambda r: r.effect, st.num["fraction"], name="eff")
    s.na("eff", "portfolio")

    def rem_formula(p, r):
        i = [x.id for x in sols].index(r.id)
        terms = [f"(1-{en[j]}*{s.addr('eff', sols[j].id)}*({prefix(sols[j].id)}_target={p}_target))"
                 for j in range(i)]
        return f"={en[i]}*" + ("*".join(terms) if terms else "1")

    each("rem", "Portfolio: share of the component left by earlier members", "%", rem_formula,
         lambda r: r.remaining_share, st.num["fraction"], name="rem")
    s.na("rem", "portfolio")

    # ---- per period ---------------------------------------------------------------------------
    s.section("Finance per period: steady-state run-rates (year = 365 days, month = year / 12, week = 7 days)")

    def periods(key, label, year_f, year_v, port_f, port_v, nothing=None, name=None, definition=""):
        if definition:
            ws.merge_range(s.row, 0, s.row, s.dcol, definition, st.note)
            s.row += 1
        first = s.row
        for k, per in enumerate(PERIODS):
            s.rows[f"{key}_{per}"] = first + k
            ws.write_string(first + k, 0, f"{label} per {per}", st.wrap)
            ws.write_string(first + k, 1, f"USD per {per}", st.text)
        s.row += len(PERIODS)
        ry = s.rows[f"{key}_year"]
        cols = [(r.id, year_f(prefix(r.id), r), year_v(r)) for r in sols] + [("portfolio", port_f, port_v)]
        if nothing:
            cols.append(("do-nothing", nothing[0], nothing[1]))
        for rid, f, v in cols:
            ws.write_formula(ry, s.col_of(rid), f, st.bold["usd0"], v)
            yref = a1(ry, s.col_of(rid))
            pv = per_period(v)
            for per in PERIODS[:-1]:
                ws.write_formula(s.rows[f"{key}_{per}"], s.col_of(rid), f"={yref}{PERIOD_DIV[per]}", st.num["usd"],
                                 pv[per])
        if not nothing:
            for per in PERIODS:
                s.na(f"{key}_{per}")
        if name:
            for r in sols + [port]:
                define(wb, bc(r.id, name), BUSINESS_CASE_SHEET, ry, s.col_of(r.id))

    periods("mnt", "Maintenance",
            lambda p, r: f"=({p}_maintenance_usd_per_year+{p}_maintenance_fte*{p}_weekly_rate_usd*"
                         f"c_working_weeks_per_year)*sc_maintenance", lambda r: r.maintenance_year,
            "=0", port.maintenance_year, name="mnt",
            definition="Maintenance = (running cost + maintenance FTE x loaded weekly rate x 50 working weeks) x the "
                       "scenario's maintenance multiplier")
    ry = s.rows["mnt_year"]
    rng_m = f"{a1(ry, C0, abs_row=True, abs_col=True)}:{a1(ry, C0 + s.ns - 1, abs_row=True, abs_col=True)}"
    ws.write_formula(ry, s.pcol, f"=SUMPRODUCT({mem},{rng_m})", st.bold["usd0"], port.maintenance_year)
    rem = s.rng("rem")
    periods("sav", "Savings",
            lambda p, r: f"={s.addr('eff', r.id)}*{s.addr('tgt', r.id)}", lambda r: r.savings_year,
            "=0", port.savings_year, name="sav",
            definition="Savings = effect in this scenario x yearly spend on the component (portfolio: x the share "
                       "left by earlier members)")
    ry = s.rows["sav_year"]
    rng_s = f"{a1(ry, C0, abs_row=True, abs_col=True)}:{a1(ry, C0 + s.ns - 1, abs_row=True, abs_col=True)}"
    ws.write_formula(ry, s.pcol, f"=SUMPRODUCT({mem},{rem},{rng_s})", st.bold["usd0"], port.savings_year)
    periods("net", "Net savings",
            lambda p, r: f"={a1(s.rows['sav_year'], s.col_of(r.id))}-{a1(s.rows['mnt_year'], s.col_of(r.id))}",
            lambda r: r.savings_year - r.maintenance_year,
            f"={a1(s.rows['sav_year'], s.pcol)}-{a1(s.rows['mnt_year'], s.pcol)}",
            port.savings_year - port.maintenance_year, definition="Net savings = savings - maintenance")
    periods("cost", "Total cost of ETL",
            lambda p, r: f"=bl_total_cost-{a1(s.rows['sav_year'], s.col_of(r.id))}+{a1(s.rows['mnt_year'], s.col_of(r.id))}",
            lambda r: r.cost_year,
            f"=bl_total_cost-{a1(s.rows['sav_year'], s.pcol)}+{a1(s.rows['mnt_year'], s.pcol)}", port.cost_year,
            nothing=("=bl_total_cost", case.annual["total_cost"]),
            definition="Total cost of ETL = the cost of doing nothing - savings + maintenance")

    # ---- sizing ---------------------------------------------------------------------------------
    s.section("Sizing: can the solution pay back at this scale?")
    each("upkeep_x", "Maintenance as a multiple of the spend it acts on", "x",
         lambda p, r: f'=IF({s.addr("tgt", r.id)}>0,{bc(r.id, "mnt")}/{s.addr("tgt", r.id)},"{NA}")',
         lambda r: (r.maintenance_year / r.target_usd_per_year) if (r.target_usd_per_year or 0) > 0 else NA,
         st.num["ratio"])
    s.na("upkeep_x", "portfolio")
    each("sizing", "Sizing warning", "", lambda p, r: f'=IF({bc(r.id, "mnt")}>{s.addr("tgt", r.id)},'
                                                      f'"Upkeep exceeds the spend it acts on","")',
         lambda r: "Upkeep exceeds the spend it acts on" if r.maintenance_year > (r.target_usd_per_year or 0) else "",
         st.warn)
    s.na("sizing", "portfolio")
    ws.set_row(s.rows["sizing"], 30)

    _horizon_rows(s, case, sw)
    _operations_and_conventions(s)
    last_printed = s.row - 1
    write_working(s, case)
    print_setup(ws, title=BUSINESS_CASE_SHEET)
    ws.print_area(0, 0, last_printed, s.dcol)
    ws.repeat_rows(hdr)
    ws.protect("", {"format_columns": True, "format_rows": True})


def _horizon_rows(s: _Sheet, case: BusinessCase, sw: dict[str, SwitchingValue]) -> None:
    st, sols, port = s.st, s.sols, case.portfolio
    s.section("Finance over the horizon (monthly cash flows at month end; Monthly schedule and Annual cash flows)")
    all_r = sols + [port]

    def row(key, label, unit, formula, value, fmt, name=None, nothing=None):
        s.new(key, label, unit, name)
        for r in all_r:
            p = prefix(r.id)
            s.put(key, r.id, formula(p, r), value(r), fmt)
        if nothing is None:
            s.na(key)
        else:
            s.put(key, "do-nothing", nothing[0], nothing[1], fmt)

    row("hsav", "Savings over the horizon", "USD", lambda p, r: f"=SUMPRODUCT({sch('sav', r.id)},sch_inh)",
        lambda r: r.total_savings, st.num["usd0"])
    row("hcost", "Costs over the horizon (investment + maintenance)", "USD",
        lambda p, r: f"=SUMPRODUCT({sch('inv', r.id)}+{sch('mnt', r.id)},sch_inh)", lambda r: r.total_costs,
        st.num["usd0"])
    row("hnet", "Net benefit over the horizon", "USD",
        lambda p, r: f"={s.addr('hsav', r.id)}-{s.addr('hcost', r.id)}", lambda r: r.net_benefit, st.bold["usd0"])
    row("roi", "ROI (net benefit / costs, undiscounted)", "%",
        lambda p, r: f'=IF({s.addr("hcost", r.id)}<=0,"{NA}",{s.addr("hnet", r.id)}/{s.addr("hcost", r.id)})',
        lambda r: NA if r.roi is None else r.roi, st.num["fraction"], name="roi")
    row("pvs", "Present value of the savings", "USD",
        lambda p, r: f"=SUMPRODUCT({sch('sav', r.id)},sch_disc,sch_inh)", lambda r: r.pv_savings, st.num["usd0"],
        name="pvs")
    row("pvc", "Present value of the costs", "USD",
        lambda p, r: f"=SUMPRODUCT({sch('inv', r.id)}+{sch('mnt', r.id)},sch_disc,sch_inh)", lambda r: r.pv_costs,
        st.num["usd0"], name="pvc")
    row("npv", "NPV at the discount rate (sum of discounted monthly net)", "USD",
        lambda p, r: f"=SUM({sch('dnet', r.id)})", lambda r: r.npv_usd, st.bold["usd0"], name="npv",
        nothing=("=0", 0.0))
    row("npv_check", "NPV cross-check: Excel NPV() at the monthly rate", "USD",
        lambda p, r: f"=NPV((1+g_discount_rate)^(1/c_months_per_year)-1,{sch('neth', r.id)})",
        lambda r: r.npv_usd, st.num["usd0"], name="npv_check")
    row("pi", "Profitability index (PV savings / PV costs; > 1 pays back)", "x",
        lambda p, r: f'=IF({s.addr("pvc", r.id)}<=0,"{NA}",{s.addr("pvs", r.id)}/{s.addr("pvc", r.id)})',
        lambda r: NA if r.profitability_index is None else r.profitability_index, st.num["ratio"], name="pi")

    def irr_f(p, r):
        n = sch("neth", r.id)
        cond = (f"AND(SUMPRODUCT(--({n}<0))>0,SUMPRODUCT(--({n}>0))>0,SUMPRODUCT(MAX(({n}<0)*sch_month))<"
                f"SUMPRODUCT(MIN(({n}>0)*sch_month+({n}<=0)*1E+9)))")
        return f'=IF({cond},(1+IRR({n},0.01))^c_months_per_year-1,"{NA}")'

    row("irr", "IRR, annualised (where the flows change sign once)", "%", irr_f,
        lambda r: NA if r.irr_annual is None else r.irr_annual, st.num["fraction"], name="irr")

    def pb_f(cum, cross, net_last, p, r):
        none = (f"AND({bc(r.id, 'inv')}=0,{bc(r.id, 'mnt')}=0,{bc(r.id, 'sav')}=0)" if r.id != "portfolio"
                else f"SUM({s.rng('member')})=0")
        return (f'=IF({none},"nothing to pay back",IF(INDEX({cum},c_schedule_months)<0,IF({net_last}>0,'
                f'"not within 10 years","never"),IF(COUNT({cross})=0,0,MAX({cross}))))')

    row("pb", "Payback (months; may fall after the horizon)", "months",
        lambda p, r: pb_f(sch("cum", r.id), sch("cross", r.id), f"INDEX({sch('net', r.id)},c_schedule_months)", p, r),
        lambda r: _payback_cell(r.payback_months, r.payback_status), st.num["months"], name="pb")

    def status_f(key):
        return lambda p, r: (f'=IF(ISNUMBER({s.addr(key, r.id)}),IF({s.addr(key, r.id)}<=g_horizon_years*'
                             f'c_months_per_year,"within the horizon","beyond the horizon"),{s.addr(key, r.id)})')

    row("pb_status", "Payback: within the horizon?", "", status_f("pb"), lambda r: r.payback_status, st.text,
        name="pb_status")
    row("dpb", "Discounted payback (months)", "months",
        lambda p, r: pb_f(sch("dcum", r.id), sch("dcross", r.id),
                          f"INDEX({sch('net', r.id)},c_schedule_months)*INDEX(sch_disc,c_schedule_months)", p, r),
        lambda r: _payback_cell(r.discounted_payback_months, r.discounted_payback_status), st.num["months"],
        name="dpb")
    row("dpb_status", "Discounted payback: within the horizon?", "", status_f("dpb"),
        lambda r: r.discounted_payback_status, st.text)
    row("be", "Break-even month (cumulative with = doing nothing)", "month",
        lambda p, r: f'=IF(ISNUMBER({s.addr("pb", r.id)}),ROUNDUP({s.addr("pb", r.id)},0),"{NA}")',
        lambda r: NA if r.break_even_month is None else r.break_even_month, st.num["count"])
    pv_dn = float(np.sum(case.do_nothing_monthly * case.discount))
    row("pvspend", "Present value of total spend (doing nothing - NPV)", "USD",
        lambda p, r: f"=SUMPRODUCT(sch_dn,sch_disc)-{s.addr('npv', r.id)}", lambda r: pv_dn - r.npv_usd,
        st.num["usd0"], nothing=("=SUMPRODUCT(sch_dn,sch_disc)", pv_dn))
    row("hspend", "Total spend over the horizon", "USD",
        lambda p, r: f"=SUM(sch_dn)-SUMPRODUCT({sch('net', r.id)},sch_inh)",
        lambda r: float(case.with_cumulative(r)[-1]), st.num["usd0"],
        nothing=("=SUM(sch_dn)", float(case.do_nothing_cumulative[-1])))

    s.section("What would have to be true: switching values (NPV = 0, one input at a time)")
    s.new("eff_needed", "Effect needed for NPV = 0 (may exceed 100 %: no effect is enough)", "%")
    s.new("tgt_needed", "Yearly spend on the component needed for NPV = 0", "USD per year")
    s.new("tgt_multiple", "... as a multiple of today's spend (portfolio: of every member's)", "x")
    for r in sols:
        v = sw[r.id]
        s.put("eff_needed", r.id, f'=IF({bc(r.id, "tgt")}*{bc(r.id, "v")}>0,{bc(r.id, "pvc")}/({bc(r.id, "tgt")}*'
                                  f'{bc(r.id, "v")}),"{NA}")', NA if v.effect_needed is None else v.effect_needed,
              st.num["fraction"])
        s.put("tgt_needed", r.id, f'=IF({bc(r.id, "eff")}*{bc(r.id, "v")}>0,{bc(r.id, "pvc")}/({bc(r.id, "eff")}*'
                                  f'{bc(r.id, "v")}),"{NA}")',
              NA if v.target_needed_usd_per_year is None else v.target_needed_usd_per_year, st.num["usd0"])
        s.put("tgt_multiple", r.id, f'=IF({bc(r.id, "pvs")}>0,{bc(r.id, "pvc")}/{bc(r.id, "pvs")},"{NA}")',
              NA if v.baseline_multiple is None else v.baseline_multiple, st.num["ratio"])
    v = sw["portfolio"]
    s.na("eff_needed", "portfolio")
    s.na("tgt_needed", "portfolio")
    s.put("tgt_multiple", "portfolio", f'=IF({bc("portfolio", "pvs")}>0,{bc("portfolio", "pvc")}/'
                                       f'{bc("portfolio", "pvs")},"{NA}")',
          NA if v.baseline_multiple is None else v.baseline_multiple, st.num["ratio"])
    for k in ("eff_needed", "tgt_needed", "tgt_multiple"):
        s.na(k)
    for r in sols:
        define(s.wb, bc(r.id, "eff_needed"), BUSINESS_CASE_SHEET, s.rows["eff_needed"], s.col_of(r.id))
        define(s.wb, bc(r.id, "tgt_needed"), BUSINESS_CASE_SHEET, s.rows["tgt_needed"], s.col_of(r.id))


def _operations_and_conventions(s: _Sheet) -> None:
    st, ws = s.st, s.ws
    s.section("Operations: personnel, timeline, feasibility, technology")
    for key, label, getter in (
            ("roles", "Personnel (roles)", lambda x: "; ".join(x.personnel)),
            ("timeline_text", "Timeline", lambda x: x.timeline),
            ("feasibility", "Feasibility", lambda x: x.feasibility),
            ("technology", "Technology requirements", lambda x: "; ".join(x.technology))):
        r = s.new(key, label, "text")
        height = 15.0
        for i, sol in enumerate(catalogue().solutions):
            text = getter(sol)
            ws.write_string(r, C0 + i, text, st.wrap)
            height = max(height, wrapped_height(text, 17))
        ws.set_row(r, min(height, 409))
        s.na(key, "portfolio")
        s.na(key)
    s.row += 1
    ws.merge_range(s.row, 0, s.row, s.dcol, "Conventions (one per line)", st.h2)
    s.row += 1
    for k, text in CONVENTIONS.items():
        line = f"{k.replace('_', ' ').capitalize()}: {text}"
        ws.merge_range(s.row, 0, s.row, s.dcol, line, st.wrap_plain)
        ws.set_row(s.row, wrapped_height(line, 46 + 15 + 17 * 7))
        s.row += 1
