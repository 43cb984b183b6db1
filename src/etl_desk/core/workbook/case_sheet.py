"""The Assumptions and Business Case sheets of the finance workbook (XlsxWriter).

:func:`write_assumptions_sheet` puts every assumption and every baseline figure
in a labelled cell with a workbook-level defined name, its unit and rationale.
:func:`write_business_case_sheet` writes the business case as live formulas
that refer to those names -- change an assumption in Excel or LibreOffice and
every figure follows -- each with the value ETL Desk computed as the cached
result. The formulas are the model of :mod:`etl_desk.core.finance`, term for
term, and use only arithmetic, IF, AND, MIN, MAX, SUM, SUMPRODUCT, COUNT,
ISNUMBER and ROUNDUP, which Excel and LibreOffice evaluate identically.

Defined names:

* ``g_<key>`` for global assumptions (``g_discount_rate`` ...);
* ``<solution id with _>_<key>`` for solution assumptions
  (``error_monitoring_effect`` ...);
* ``bl_<component>_observed`` (sums over the data), ``bl_<component>``
  (annualised, formulas), ``bl_span_days``, ``bl_active_days``,
  ``bl_annualisation_factor``, ``bl_target_keys`` / ``bl_target_values``
  (the lookup table a solution's ``target`` picks from);
* ``bc_months``, ``bc_cum_do_nothing``, ``bc_cum_portfolio`` -- the monthly
  cumulative-cost table for the chart (months 0..horizon).
"""
from __future__ import annotations

import numpy as np
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

from etl_desk.core.business_case.catalogue import catalogue
from etl_desk.core.business_case.model import BusinessCase, Result
from etl_desk.core.business_case.periods import PERIODS, per_period
from etl_desk.core.workbook.assumptions_sheet import (
    BUSINESS_CASE_SHEET,
    NA,
    NEVER,
    _Formats,
    _sheet_ref,
    solution_prefix,
)


# ---------------------------------------------------------------------------------------------
# Business Case sheet
# ---------------------------------------------------------------------------------------------
def _crossings(cum: np.ndarray) -> list:
    prev = np.concatenate(([0.0], cum[:-1]))
    out = []
    for i, (p, c) in enumerate(zip(prev, cum)):
        out.append(float(i + (-p) / (c - p)) if (p < 0 and c >= 0) else "")
    return out


def write_business_case_sheet(workbook, case: BusinessCase, names: dict[str, str], *,
                              sheet_name: str = BUSINESS_CASE_SHEET) -> dict[str, str]:
    """Write the Business Case sheet as live formulas over the Assumptions names.

    Returns chart ranges (XlsxWriter ``add_series`` syntax) of the monthly
    cumulative-cost table: ``months``, ``do_nothing``, ``portfolio`` (months
    0..horizon), plus ``do_nothing_name`` / ``portfolio_name`` header cells.
    """
    f = _Formats(workbook)
    ws = workbook.add_worksheet(sheet_name)
    cat = catalogue()
    sols = case.solutions
    ns = len(sols)
    g_max_years = int(cat.globals["horizon_years"].max)
    rows_max = g_max_years * 12
    n = case.horizon_months
    a = case.assumptions
    col0 = 2  # first solution column
    pcol = col0 + ns  # portfolio column
    dcol = pcol + 1  # doing nothing column
    letters = {i: xl_col_to_name(col0 + i) for i in range(ns)}

    ws.set_column(0, 0, 46)
    ws.set_column(1, 1, 16)
    ws.set_column(col0, dcol, 19)
    ws.write(0, 0, "Business case: the five solutions against doing nothing", f.title)
    ws.write(1, 0, "Every figure is a live formula over the defined names of the Assumptions sheet. "
                   "Per-period figures are steady-state run-rates (year = 365 days, quarter = year / 4, "
                   "month = year / 12, week = 7 days). Cash flows are monthly; NPV discounts month m by "
                   "(1 + discount rate) ^ (-m / 12). Payback = months until the cumulative net cash flow "
                   "turns non-negative for good (linear within the month). ROI = net benefit / costs over "
                   "the horizon. The portfolio applies solutions that share a target to what earlier ones "
                   "leave (1 - product of (1 - effect)).", f.note)
    ws.set_row(1, 75)
    hdr_row = 3
    ws.write_string(hdr_row, 0, "Figure", f.header)
    ws.write_string(hdr_row, 1, "Unit", f.header)
    for i, r in enumerate(sols):
        ws.write_string(hdr_row, col0 + i, f"{r.number}. {r.name}", f.header)
    ws.write_string(hdr_row, pcol, "Portfolio (selected)", f.header)
    ws.write_string(hdr_row, dcol, "Doing nothing", f.header)
    ws.set_row(hdr_row, 48)
    ws.freeze_panes(hdr_row + 1, 2)

    rows: dict[str, int] = {}
    cur = [hdr_row + 1]

    def new_row(key: str, label: str, unit: str) -> int:
        r = cur[0]
        rows[key] = r
        ws.write_string(r, 0, label, f.text)
        ws.write_string(r, 1, unit, f.text)
        cur[0] += 1
        return r

    def section(label: str) -> None:
        ws.merge_range(cur[0], 0, cur[0], dcol, label, f.section)
        cur[0] += 1

    def cell(key: str, col: int, abs_col: bool = False) -> str:
        return xl_rowcol_to_cell(rows[key], col, row_abs=True, col_abs=abs_col)

    def per_solution(key, label, unit, formula_fn, value_fn, fmt, portfolio=None, nothing=None):
        """formula_fn(i, prefix, col_letter) -> formula; portfolio/nothing: (formula, value, fmt) or None."""
        r = new_row(key, label, unit)
        for i, res in enumerate(sols):
            v = value_fn(res)
            ws.write_formula(r, col0 + i, formula_fn(i, solution_prefix(res.id)), fmt, v)
        for col, spec in ((pcol, portfolio), (dcol, nothing)):
            if spec is None:
                continue
            formula, value, fmt2 = spec
            ws.write_formula(r, col, formula, fmt2 or fmt, value)
        return r

    def rng(key: str) -> str:
        return f"{cell(key, col0)}:{cell(key, col0 + ns - 1)}"

    def zero(fmt=f.usd):
        return ("=0", 0, fmt)

    # ---- IT leadership ---------------------------------------------------------------------
    section("IT leadership: investment, personnel, timeline")
    per_solution("enabled", "In the portfolio (1 = yes)", "flag",
                 lambda i, p: f"=IF({p}_enabled,1,0)", lambda r: 1 if r.enabled else 0, f.int)
    en_rng = rng("enabled")
    n_en = sum(1 for r in sols if r.enabled)
    ws.write_formula(rows["enabled"], pcol, f"=SUM({en_rng})", f.int, n_en)

    per_solution("investment", "Investment (people x weeks x rate + tooling)", "USD",
                 lambda i, p: f"={p}_people*{p}_weeks*{p}_weekly_rate_usd+{p}_tooling_usd",
                 lambda r: r.investment_usd, f.usd_bold, nothing=zero(f.usd_bold))
    ws.write_formula(rows["investment"], pcol, f"=SUMPRODUCT({en_rng},{rng('investment')})", f.usd_bold,
                     case.portfolio.investment_usd)
    per_solution("people", "Personnel during implementation", "FTE",
                 lambda i, p: f"={p}_people", lambda r: r.personnel_fte, f.num, nothing=zero(f.num))
    ws.write_formula(rows["people"], pcol, f"=SUMPRODUCT({en_rng},{rng('people')})", f.num,
                     case.portfolio.personnel_fte)
    per_solution("start_week", "Start", "week", lambda i, p: f"={p}_start_week",
                 lambda r: r.start_week, f.months, nothing=zero(f.months))
    per_solution("go_live_week", "Go-live", "week", lambda i, p: f"={p}_start_week+{p}_weeks",
                 lambda r: r.go_live_week, f.months, nothing=zero(f.months))
    per_solution("duration_weeks", "Implementation time", "weeks", lambda i, p: f"={p}_weeks",
                 lambda r: r.duration_weeks, f.months, nothing=zero(f.months))
    en_c = [cell("enabled", col0 + i) for i in range(ns)]
    sw_c = [cell("start_week", col0 + i) for i in range(ns)]
    gl_c = [cell("go_live_week", col0 + i) for i in range(ns)]
    p_start = "MIN(" + ",".join(f"IF({e}=1,{s},1E+300)" for e, s in zip(en_c, sw_c)) + ")"
    p_end = "MAX(" + ",".join(f"IF({e}=1,{s},-1E+300)" for e, s in zip(en_c, gl_c)) + ")"
    ws.write_formula(rows["start_week"], pcol, f"=IF(SUM({en_rng})=0,0,{p_start})", f.months,
                     case.portfolio.start_week)
    ws.write_formula(rows["go_live_week"], pcol, f"=IF(SUM({en_rng})=0,0,{p_end})", f.months,
                     case.portfolio.go_live_week)
    ws.write_formula(rows["duration_weeks"], pcol,
                     f"=IF(SUM({en_rng})=0,0,{cell('go_live_week', pcol)}-{cell('start_week', pcol)})",
                     f.months, case.portfolio.duration_weeks)
    per_solution("ramp_weeks", "Ramp-up to full effect after go-live", "weeks", lambda i, p: f"={p}_ramp_weeks",
                 lambda r: a["solutions"][r.id]["ramp_weeks"], f.months)

    # ---- effect on the baseline ------------------------------------------------------------
    section("What each solution acts on")
    r_t = new_row("target", "Acts on (baseline component)", "key")
    for i, res in enumerate(sols):
        ws.write_formula(r_t, col0 + i, f"={solution_prefix(res.id)}_target", f.gen, res.target)
    ws.write_string(r_t, dcol, "total_cost", f.gen)
    per_solution("target_usd", "Baseline of that component", "USD per year",
                 lambda i, p: f'=SUMPRODUCT((bl_target_keys="baseline."&{p}_target)*bl_target_values)',
                 lambda r: r.target_usd_per_year or 0.0, f.usd,
                 nothing=("=bl_total_cost", case.do_nothing.cost_year, None))
    per_solution("effect", "Effect on the component", "fraction", lambda i, p: f"={p}_effect",
                 lambda r: r.effect, f.pct)

    def remaining_formula(i: int, p: str) -> str:
        terms = []
        for j in range(i):
            q = solution_prefix(sols[j].id)
            terms.append(f"(1-{en_c[j]}*{q}_effect*({q}_target={p}_target))")
        return f"={en_c[i]}*" + ("*".join(terms) if terms else "1")

    per_solution("remaining", "Portfolio: share of the effect left by earlier selected solutions", "fraction",
                 remaining_formula, lambda r: r.remaining_share, f.pct)
    per_solution("start_month", "Start (months from now)", "months", lambda i, p: f"={p}_start_week*7*12/365",
                 lambda r: r.start_week * 7 * 12 / 365, f.months)
    per_solution("go_live_month", "Go-live (months from now)", "months",
                 lambda i, p: f"=({p}_start_week+{p}_weeks)*7*12/365",
                 lambda r: (r.go_live_week) * 7 * 12 / 365, f.months)
    per_solution("ramp_months", "Ramp-up (months)", "months", lambda i, p: f"={p}_ramp_weeks*7*12/365",
                 lambda r: a["solutions"][r.id]["ramp_weeks"] * 7 * 12 / 365, f.months)

    # ---- finance: per period ---------------------------------------------------------------
    section("Finance: maintenance, savings and cost per period (steady state, today's spend level)")

    def periods_block(key: str, label: str, year_formula, year_value, port, nothing):
        ry = None
        # the yearly row first (others derive from it), displayed last like the JSON order
        keys = {}
        for per in PERIODS:
            keys[per] = f"{key}_{per}"
        # rows: day, week, month, quarter, year
        base_row = cur[0]
        for k, per in enumerate(PERIODS):
            rows[keys[per]] = base_row + k
        cur[0] += len(PERIODS)
        ry = rows[keys["year"]]
        divs = {"day": "/365", "week": "/365*7", "month": "/12", "quarter": "/4", "year": ""}
        for per in PERIODS:
            r = rows[keys[per]]
            ws.write_string(r, 0, f"{label} per {per}", f.text)
            ws.write_string(r, 1, f"USD per {per}", f.text)
        cols = [(col0 + i, year_formula(i, solution_prefix(res.id)), year_value(res)) for i, res in enumerate(sols)]
        if port is not None:
            port = port() if callable(port) else port
            cols.append((pcol, port[0], port[1]))
        if nothing is not None:
            cols.append((dcol, nothing[0], nothing[1]))
        for col, formula, yv in cols:
            ws.write_formula(ry, col, formula, f.usd_bold, yv)
            yref = xl_rowcol_to_cell(ry, col)
            pv = per_period(yv)
            for per in PERIODS[:-1]:
                ws.write_formula(rows[keys[per]], col, f"={yref}{divs[per]}", f.usd, pv[per])

    periods_block("maintenance", "Maintenance", 
                  lambda i, p: f"={p}_maintenance_usd_per_year+{p}_maintenance_fte*{p}_weekly_rate_usd*365/7",
                  lambda r: r.maintenance_year,
                  lambda: (f"=SUMPRODUCT({en_rng},{rng('maintenance_year')})", case.portfolio.maintenance_year),
                  ("=0", 0.0))
    periods_block("savings", "Savings",
                  lambda i, p: f"={cell('effect', col0 + i)}*{cell('target_usd', col0 + i)}",
                  lambda r: r.savings_year,
                  lambda: (f"=SUMPRODUCT({en_rng},{rng('remaining')},{rng('savings_year')})",
                           case.portfolio.savings_year),
                  ("=0", 0.0))
    periods_block("net", "Net savings (savings - maintenance)",
                  lambda i, p: f"={cell('savings_year', col0 + i)}-{cell('maintenance_year', col0 + i)}",
                  lambda r: r.savings_year - r.maintenance_year,
                  (f"={cell('savings_year', pcol)}-{cell('maintenance_year', pcol)}",
                   case.portfolio.savings_year - case.portfolio.maintenance_year), ("=0", 0.0))
    periods_block("cost", "Total cost of ETL (spend - savings + maintenance)",
                  lambda i, p: f"=bl_total_cost-{cell('savings_year', col0 + i)}+{cell('maintenance_year', col0 + i)}",
                  lambda r: r.cost_year,
                  (f"=bl_total_cost-{cell('savings_year', pcol)}+{cell('maintenance_year', pcol)}",
                   case.portfolio.cost_year), ("=bl_total_cost", case.do_nothing.cost_year))

    # ---- monthly schedule (written below; summary refers to it) ----------------------------
    summary_keys = ["horizon_savings", "horizon_costs", "net_benefit", "roi", "npv", "pv_costs", "pv_spend",
                    "horizon_spend", "payback", "break_even"]
    section("Finance: over the horizon (monthly cash flows)")
    for k in summary_keys:
        rows[k] = cur[0]
        cur[0] += 1
    section("Operations: personnel, timeline, feasibility, technology")
    for key, label, getter in (
            ("roles", "Personnel (roles)", lambda s: "; ".join(s.personnel)),
            ("timeline_text", "Timeline", lambda s: s.timeline),
            ("feasibility", "Feasibility", lambda s: s.feasibility),
            ("technology", "Technology requirements", lambda s: "; ".join(s.technology))):
        r = new_row(key, label, "text")
        for i, sol in enumerate(cat.solutions):
            ws.write_string(r, col0 + i, getter(sol), f.wrap)
        ws.set_row(r, 150)
    sched_title = cur[0] + 2
    sched_hdr = sched_title + 1
    # print the summary a reader wants (figures x solutions), not the 120-month working schedule
    ws.print_area(0, 0, sched_title - 1, col0 + ns + 1)
    ws.repeat_rows(3)
    first = sched_hdr + 1  # month 1
    last = first + rows_max - 1
    # columns: A month, B in horizon, C growth, D discount, E do-nothing cost, F cumulative do-nothing
    A, B, C, D, E, F = range(6)
    blk = 6
    sc0 = 6  # first solution block column
    pc0 = sc0 + blk * ns  # portfolio block
    names_blk = ("investment", "maintenance", "savings", "net", "cumulative net", "payback crossing")

    def col_letter(c):
        return xl_col_to_name(c)

    ws.merge_range(sched_title, 0, sched_title, 5,
                   "Monthly schedule (month m covers months m-1 to m from now; rows beyond the horizon are 0)",
                   f.section)
    ws.write_row(sched_hdr, 0, ("Month", "In horizon", "Spend growth factor", "Discount factor",
                                "Doing nothing: cost", "Doing nothing: cumulative"), f.header)
    for i, res in enumerate(sols):
        for k, lab in enumerate(names_blk):
            ws.write_string(sched_hdr, sc0 + blk * i + k, f"{res.number}: {lab}", f.header)
    for k, lab in enumerate(names_blk + ("cumulative cost with portfolio",)):
        ws.write_string(sched_hdr, pc0 + k, f"Portfolio: {lab}", f.header)
    ws.set_row(sched_hdr, 45)

    m_all = np.arange(1, rows_max + 1, dtype="float64")
    in_h = (m_all <= n).astype(float)
    g = a["global"]
    growth = (1 + g["growth_rate"]) ** ((m_all - 1) / 12)
    disc = (1 + g["discount_rate"]) ** (-m_all / 12)

    def pad(x):
        out = np.zeros(rows_max)
        out[:len(x)] = x
        return out

    dn_cost = pad(case.do_nothing_monthly)
    dn_cum = np.cumsum(dn_cost)
    for k in range(rows_max):
        r = first + k
        R = r + 1  # 1-based row number in formulas
        ws.write_number(r, A, k + 1, f.int)
        ws.write_formula(r, B, f"=IF(A{R}<=g_horizon_years*12,1,0)", f.int, in_h[k])
        ws.write_formula(r, C, f"=(1+g_growth_rate)^((A{R}-1)/12)", f.num4, growth[k])
        ws.write_formula(r, D, f"=(1+g_discount_rate)^(-A{R}/12)", f.num4, disc[k])
        ws.write_formula(r, E, f"=B{R}*bl_total_cost/12*C{R}", f.usd, dn_cost[k])
        ws.write_formula(r, F, f"=E{R}" if k == 0 else f"=F{R - 1}+E{R}", f.usd, dn_cum[k])

    def write_block(c0: int, res: Result, formulas) -> None:
        inv, mnt, sav = (pad(res.schedule.investment), pad(res.schedule.maintenance), pad(res.schedule.savings))
        net = sav - inv - mnt
        cum = np.cumsum(net)
        cross = _crossings(cum)
        Li = [col_letter(c0 + k) for k in range(6)]
        for k in range(rows_max):
            r = first + k
            R = r + 1
            f_inv, f_mnt, f_sav = formulas(R)
            ws.write_formula(r, c0, f_inv, f.usd, inv[k])
            ws.write_formula(r, c0 + 1, f_mnt, f.usd, mnt[k])
            ws.write_formula(r, c0 + 2, f_sav, f.usd, sav[k])
            ws.write_formula(r, c0 + 3, f"={Li[2]}{R}-{Li[0]}{R}-{Li[1]}{R}", f.usd, net[k])
            ws.write_formula(r, c0 + 4, f"={Li[3]}{R}" if k == 0 else f"={Li[4]}{R - 1}+{Li[3]}{R}", f.usd, cum[k])
            prev = "0" if k == 0 else f"{Li[4]}{R - 1}"
            ws.write_formula(r, c0 + 5, f'=IF(AND({prev}<0,{Li[4]}{R}>=0),(A{R}-1)+(-{prev})/({Li[4]}{R}-{prev}),"")',
                             f.months, cross[k])

    for i, res in enumerate(sols):
        X = letters[i]

        def sref(key, X=X):
            return f"{X}${rows[key] + 1}"

        def ramp_int(t, X=X):
            go, rm = sref("go_live_month"), sref("ramp_months")
            return (f"IF({rm}=0,MAX({t}-{go},0),MIN(MAX({t}-{go},0),{rm})^2/(2*{rm})+MAX({t}-{go}-{rm},0))")

        def formulas(R, X=X, sref=sref, ramp_int=ramp_int):
            st, go = sref("start_month"), sref("go_live_month")
            f_inv = f"=B{R}*{sref('investment')}*MAX(0,MIN({go},A{R})-MAX({st},A{R}-1))/({go}-{st})"
            f_mnt = f"=B{R}*{sref('maintenance_year')}/12*(MAX(A{R}-{go},0)-MAX(A{R}-1-{go},0))"
            f_sav = f"=B{R}*{sref('savings_year')}/12*C{R}*({ramp_int(f'A{R}')}-{ramp_int(f'(A{R}-1)')})"
            return f_inv, f_mnt, f_sav

        write_block(sc0 + blk * i, res, formulas)

    def port_formulas(R):
        parts = {0: [], 1: [], 2: []}
        for i in range(ns):
            X = letters[i]
            en = f"{X}${rows['enabled'] + 1}"
            rem = f"{X}${rows['remaining'] + 1}"
            c = sc0 + blk * i
            parts[0].append(f"{en}*{col_letter(c)}{R}")
            parts[1].append(f"{en}*{col_letter(c + 1)}{R}")
            parts[2].append(f"{en}*{rem}*{col_letter(c + 2)}{R}")
        return tuple("=" + "+".join(parts[k]) for k in range(3))

    write_block(pc0, case.portfolio, port_formulas)
    p_cum_col = col_letter(pc0 + 4)
    with_col = pc0 + 6
    p_cum = np.cumsum(pad(case.portfolio.schedule.net))
    for k in range(rows_max):
        R = first + k + 1
        ws.write_formula(first + k, with_col, f"=F{R}-{p_cum_col}{R}", f.usd, dn_cum[k] - p_cum[k])
    ws.set_column(0, 0, 46)
    ws.set_column(sc0, with_col, 15)

    # ---- horizon summary rows (refer to the schedule) --------------------------------------
    def colrange(c):
        L = col_letter(c)
        return f"{L}{first + 1}:{L}{last + 1}"

    Drng = colrange(D)
    pv_dn = float(np.sum(case.do_nothing_monthly * case.discount))
    labels = {
        "horizon_savings": ("Savings over the horizon", "USD"),
        "horizon_costs": ("Costs over the horizon (investment + maintenance)", "USD"),
        "net_benefit": ("Net benefit over the horizon", "USD"),
        "roi": ("ROI (net benefit / costs)", "fraction"),
        "npv": ("NPV at the discount rate", "USD"),
        "pv_costs": ("Present value of the costs", "USD"),
        "pv_spend": ("Present value of total spend", "USD"),
        "horizon_spend": ("Total spend over the horizon", "USD"),
        "payback": ("Payback", "months"),
        "break_even": ("Break-even month (with = doing nothing)", "month"),
    }
    for k in summary_keys:
        ws.write_string(rows[k], 0, labels[k][0], f.text)
        ws.write_string(rows[k], 1, labels[k][1], f.text)
    all_results = list(enumerate(sols)) + [(None, case.portfolio)]
    for i, res in all_results:
        col = pcol if i is None else col0 + i
        c0 = pc0 if i is None else sc0 + blk * i
        inv_r, mnt_r, sav_r, net_r, cum_r, cr_r = (colrange(c0 + k) for k in range(6))
        cum_last = f"{col_letter(c0 + 4)}{last + 1}"
        me = lambda key: xl_rowcol_to_cell(rows[key], col)  # noqa: E731
        roi = res.roi
        pb = res.payback_months
        ws.write_formula(rows["horizon_savings"], col, f"=SUM({sav_r})", f.usd, res.total_savings)
        ws.write_formula(rows["horizon_costs"], col, f"=SUM({inv_r})+SUM({mnt_r})", f.usd, res.total_costs)
        ws.write_formula(rows["net_benefit"], col, f"={me('horizon_savings')}-{me('horizon_costs')}", f.usd_bold,
                         res.net_benefit)
        ws.write_formula(rows["roi"], col, f'=IF({me("horizon_costs")}<=0,"{NA}",{me("net_benefit")}/{me("horizon_costs")})',
                         f.pct, NA if roi is None else roi)
        ws.write_formula(rows["npv"], col, f"=SUMPRODUCT({net_r},{Drng})", f.usd_bold, res.npv_usd)
        ws.write_formula(rows["pv_costs"], col, f"=SUMPRODUCT({inv_r},{Drng})+SUMPRODUCT({mnt_r},{Drng})", f.usd,
                         res.pv_costs)
        ws.write_formula(rows["pv_spend"], col, f"=SUMPRODUCT({colrange(E)},{Drng})-{me('npv')}", f.usd,
                         pv_dn - res.npv_usd)
        ws.write_formula(rows["horizon_spend"], col, f"=F{last + 1}-{cum_last}", f.usd,
                         float(case.with_cumulative(res)[-1]))
        ws.write_formula(rows["payback"], col,
                         f'=IF({cum_last}<0,"{NEVER}",IF(COUNT({cr_r})=0,0,MAX({cr_r})))', f.months,
                         NEVER if pb is None else pb)
        ws.write_formula(rows["break_even"], col, f'=IF(ISNUMBER({me("payback")}),ROUNDUP({me("payback")},0),"{NEVER}")',
                         f.int, NEVER if pb is None else res.break_even_month)
    # doing nothing column
    for k, val in (("horizon_savings", 0.0), ("horizon_costs", 0.0), ("net_benefit", 0.0), ("npv", 0.0),
                   ("pv_costs", 0.0)):
        ws.write_formula(rows[k], dcol, "=0", f.usd, val)
    ws.write_formula(rows["roi"], dcol, f'="{NA}"', f.gen, NA)
    ws.write_formula(rows["payback"], dcol, f'="{NA}"', f.gen, NA)
    ws.write_formula(rows["break_even"], dcol, f'="{NA}"', f.gen, NA)
    ws.write_formula(rows["pv_spend"], dcol, f"=SUMPRODUCT({colrange(E)},{Drng})", f.usd, pv_dn)
    ws.write_formula(rows["horizon_spend"], dcol, f"=F{last + 1}", f.usd, float(case.do_nothing_cumulative[-1]))

    # ---- cumulative-cost table for the chart ----------------------------------------------
    tc = with_col + 2
    ws.write_string(sched_hdr - 1, tc, "Cumulative cost for the chart (months 0..horizon)", f.header)
    ws.write_row(sched_hdr, tc, ("Month", "Doing nothing", "With the portfolio"), f.header)
    t0 = sched_hdr + 1
    ws.write_number(t0, tc, 0, f.int)
    ws.write_formula(t0, tc + 1, "=0", f.usd, 0.0)
    ws.write_formula(t0, tc + 2, "=0", f.usd, 0.0)
    dn_c = case.do_nothing_cumulative
    p_c = case.portfolio_cumulative
    for k in range(1, n + 1):
        r = t0 + k
        src = first + k  # row of month k is first + k - 1 (0-based) -> 1-based first + k
        ws.write_formula(r, tc, f"=A{src}", f.int, k)
        ws.write_formula(r, tc + 1, f"=F{src}", f.usd, float(dn_c[k]))
        ws.write_formula(r, tc + 2, f"={col_letter(with_col)}{src}", f.usd, float(p_c[k]))
    ws.set_column(tc, tc + 2, 16)
    ranges = {
        "months": _sheet_ref(sheet_name, t0, tc, t0 + n, tc),
        "do_nothing": _sheet_ref(sheet_name, t0, tc + 1, t0 + n, tc + 1),
        "portfolio": _sheet_ref(sheet_name, t0, tc + 2, t0 + n, tc + 2),
        "do_nothing_name": _sheet_ref(sheet_name, sched_hdr, tc + 1),
        "portfolio_name": _sheet_ref(sheet_name, sched_hdr, tc + 2),
    }
    workbook.define_name("bc_months", ranges["months"])
    workbook.define_name("bc_cum_do_nothing", ranges["do_nothing"])
    workbook.define_name("bc_cum_portfolio", ranges["portfolio"])
    return ranges
