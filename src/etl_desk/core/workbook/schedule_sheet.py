"""The Monthly schedule sheet: 120 dated months behind every NPV, payback and chart, as live formulas.

Row per month 0..120 (month 0 is the empty start row every cumulative column starts
from). Timeline columns (month, month-end date ``EOMONTH(g_start_date, m-1)``, fiscal
year, year index, in-horizon flag, growth and discount factors, doing nothing), the
portfolio block (printed) and one block per solution: the unit series (spread, maintenance
fraction, ramp factor), the cash flows, cumulative and discounted figures, the payback
crossings, and the cumulative unit series the Scenarios sheet uses for each scenario's
payback. Every column over months 1..120 has a defined name ``sch_<option>_<column>``
(see :mod:`etl_desk.core.workbook.names`).
"""
from __future__ import annotations

import numpy as np

from etl_desk.core.business_case.model import BusinessCase, Result
from etl_desk.core.business_case.schedule import SCHEDULE_MONTHS, growth_factors
from etl_desk.core.business_case.cashflows import fiscal_year, month_ends
from etl_desk.core.data.xlsx_book import print_setup
from etl_desk.core.data.xlsx_sheet import excel_serial
from etl_desk.core.workbook.formats import Styles
from etl_desk.core.workbook.names import SCHEDULE_SHEET, a1, bc, define, sch

HEADER_ROW = 3
FIRST = HEADER_ROW + 1  # month 0
N = SCHEDULE_MONTHS
TIMELINE = [("month", "Month"), ("mend", "Month end"), ("fy", "Fiscal year"), ("yidx", "Year index"),
            ("inh", "In horizon (1 = yes)"), ("growth", "Spend growth factor"), ("disc", "Discount factor"),
            ("dn", "Doing nothing: cost"), ("dncum", "Doing nothing: cumulative")]
FLOW_COLS = [("inv", "investment"), ("mnt", "maintenance"), ("sav", "savings"), ("net", "net"),
             ("cum", "cumulative net"), ("cross", "payback crossing"), ("neth", "net within the horizon"),
             ("dnet", "discounted net within the horizon"), ("dcum", "discounted cumulative"),
             ("dcross", "discounted payback crossing")]
UNIT_COLS = [("spread", "investment share"), ("mfrac", "maintenance share of month"), ("rf", "ramp x growth")]
CUM_UNITS = [("cr", "cumulative ramp / 12"), ("cs", "cumulative investment share"),
             ("cm", "cumulative maintenance / 12")]
SOL_COLS = UNIT_COLS + FLOW_COLS + CUM_UNITS
PORT_COLS = FLOW_COLS + [("withcum", "cumulative cost with the portfolio")]


def _crossings(cum: np.ndarray) -> list:
    prev = np.concatenate(([0.0], cum[:-1]))
    return [float(i + (-p) / (c - p)) if (p < 0 and c >= 0) else "" for i, (p, c) in enumerate(zip(prev, cum))]


class Layout:
    """Column of every schedule series (0-based), shared with the sheets that read it."""

    def __init__(self, solution_ids: list[str]):
        self.col: dict[tuple[str | None, str], int] = {}
        c = 0
        for key, _ in TIMELINE:
            self.col[(None, key)] = c
            c += 1
        for key, _ in PORT_COLS:
            self.col[("portfolio", key)] = c
            c += 1
        self.port_scen = {}
        for s in ("low", "base", "high"):
            self.port_scen[s] = c
            c += 1
        self.print_last = self.col[("portfolio", "withcum")]
        for sid in solution_ids:
            for key, _ in SOL_COLS:
                self.col[(sid, key)] = c
                c += 1
        self.ncols = c

    def c(self, key: str, rid: str | None = None) -> int:
        """0-based column of series *key* (a :data:`TIMELINE` key with *rid* None, else a column key of option *rid*).

        Raises:
            KeyError: for a key or option the layout has no column for.
        """
        return self.col[(rid, key)]

    def cell(self, key: str, m: int, rid: str | None = None) -> str:
        """A1 reference of series *key* in month *m* (0..120)."""
        return a1(FIRST + m, self.c(key, rid))


def write_schedule_sheet(wb, st: Styles, case: BusinessCase, scen_cum: dict[str, np.ndarray], *,
                         printable: bool = True) -> Layout:
    """Write the monthly schedule of *case*; *scen_cum*: the portfolio's cumulative net per scenario (121 values).

    Not *printable*: hidden, with no print area (LibreOffice prints a hidden sheet that has one).
    """
    ws = wb.add_worksheet(SCHEDULE_SHEET)
    sols = case.solutions
    lay = Layout([r.id for r in sols])
    g = case.assumptions["global"]
    h = case.horizon_months
    m_all = np.arange(0, N + 1, dtype=float)
    ends = month_ends(case.start, N)
    ends0 = [None] + ends
    fy_first = int(g["fiscal_year_start_month"])
    fys = [fiscal_year(d, fy_first) for d in ends]
    growth = growth_factors(g["growth_rate"], m_all)
    disc = (1 + g["discount_rate"]) ** (-m_all / 12)
    inh = ((m_all >= 1) & (m_all <= h)).astype(float)
    dn = case.annual["total_cost"] / 12 * growth * inh

    ws.write_string(0, 0, "Monthly schedule: the cash flows behind every NPV, payback and chart", st.title)
    ws.merge_range(1, 0, 1, lay.print_last, "Month m covers months m-1 to m from the project start; month-end dates and fiscal years "
                          "follow the start date and fiscal-year inputs. All 120 months are computed so a payback "
                          "after the horizon is found; horizon figures count months with 'In horizon' = 1. The "
                          "printed part is the timeline and the portfolio; one block per solution follows.",
                   st.subtitle)
    ws.set_row(1, 45)
    for key, label in TIMELINE:
        ws.write_string(HEADER_ROW, lay.c(key), label, st.header)
    for key, label in PORT_COLS:
        ws.write_string(HEADER_ROW, lay.c(key, "portfolio"), f"Portfolio: {label}", st.header)
    for s in ("low", "base", "high"):
        ws.write_string(HEADER_ROW, lay.port_scen[s], f"Portfolio: cumulative net, {s} scenario", st.header)
    for r in sols:
        for key, label in SOL_COLS:
            ws.write_string(HEADER_ROW, lay.c(key, r.id), f"{r.number}: {label}", st.header)
    ws.set_row(HEADER_ROW, 48)
    ws.freeze_panes(FIRST, 1)

    def R(m: int) -> int:  # 1-based row number of month m in formulas
        return FIRST + m + 1

    first_fy_cell = a1(FIRST + 1, lay.c("fy"), abs_row=True, abs_col=True)
    for m in range(N + 1):
        row, rr = FIRST + m, R(m)
        ws.write_number(row, lay.c("month"), m, st.num["count"])
        if m == 0:
            ws.write_formula(row, lay.c("mend"), "=EOMONTH(g_start_date,-1)", st.num["date"],
                             float(excel_serial([np.datetime64(case.start) - np.timedelta64(1, "D")])[0]))
            ws.write_blank(row, lay.c("fy"), None, st.num["count"])
            ws.write_blank(row, lay.c("yidx"), None, st.num["count"])
        else:
            ws.write_formula(row, lay.c("mend"), f"=EOMONTH(g_start_date,A{rr}-1)", st.num["date"],
                             float(excel_serial([np.datetime64(ends0[m])])[0]))
            mend = a1(row, lay.c("mend"))
            ws.write_formula(row, lay.c("fy"), f"=YEAR({mend})+IF(AND(g_fiscal_year_start_month>1,MONTH({mend})>="
                                               f"g_fiscal_year_start_month),1,0)", st.num["count"], fys[m - 1])
            ws.write_formula(row, lay.c("yidx"), f"={a1(row, lay.c('fy'))}-{first_fy_cell}", st.num["count"],
                             fys[m - 1] - fys[0])
        ws.write_formula(row, lay.c("inh"), f"=IF(AND(A{rr}>=1,A{rr}<=g_horizon_years*c_months_per_year),1,0)",
                         st.num["count"], inh[m])
        ws.write_formula(row, lay.c("growth"), f"=(1+g_growth_rate)^((A{rr}-1)/c_months_per_year)",
                         st.num["factor"], growth[m])
        ws.write_formula(row, lay.c("disc"), f"=(1+g_discount_rate)^(-A{rr}/c_months_per_year)",
                         st.num["factor"], disc[m])
        ws.write_formula(row, lay.c("dn"), f"={lay.cell('inh', m)}*bl_total_cost/c_months_per_year*"
                                           f"{lay.cell('growth', m)}", st.num["usd"], dn[m])
        ws.write_formula(row, lay.c("dncum"), "=0" if m == 0 else f"={lay.cell('dncum', m - 1)}+{lay.cell('dn', m)}",
                         st.num["usd"], float(dn[:m + 1].sum()))

    for r in sols:
        _solution_block(ws, st, lay, r, R)
    _portfolio_block(ws, st, lay, case, R, scen_cum)

    # names over months 1..120 (and months 0..119 for the "_0" variants)
    for (rid, key), c in lay.col.items():
        define(wb, sch(key, rid), SCHEDULE_SHEET, FIRST + 1, c, FIRST + N, c)
        if key in ("cum", "dcum", "cr", "cs", "cm"):
            define(wb, sch(key + "_0", rid), SCHEDULE_SHEET, FIRST, c, FIRST + N - 1, c)
    for rid, key in [(None, "dncum"), ("portfolio", "withcum"), ("portfolio", "cum")] + [(r.id, "cum") for r in sols]:
        c = lay.c(key, rid)
        define(wb, sch(key, rid) + "_all", SCHEDULE_SHEET, FIRST, c, FIRST + N, c)
    for s, c in lay.port_scen.items():
        define(wb, f"sch_portfolio_scen_{s}", SCHEDULE_SHEET, FIRST + 1, c, FIRST + N, c)
        define(wb, f"sch_portfolio_scen_{s}_0", SCHEDULE_SHEET, FIRST, c, FIRST + N - 1, c)
    ws.set_column(0, 0, 7)
    ws.set_column(1, 1, 11)
    ws.set_column(2, lay.ncols, 13)
    if printable:
        print_setup(ws, title=SCHEDULE_SHEET)
        ws.print_area(0, 0, FIRST + N, lay.print_last)
        ws.repeat_rows(HEADER_ROW)
    else:
        ws.hide()
    ws.protect("", {"format_columns": True, "format_rows": True})
    return lay


def _series(r: Result) -> dict[str, np.ndarray]:
    """Every solution column over months 0..120 (month 0 = 0)."""
    z = np.zeros(1)
    f = r.full
    net = f.net
    disc = r.discount_full
    inh = np.zeros(N)
    inh[:r.horizon_months] = 1.0
    out = {"inv": f.investment, "mnt": f.maintenance, "sav": f.savings, "net": net, "cum": np.cumsum(net),
           "neth": net * inh, "dnet": net * inh * disc, "dcum": np.cumsum(net * disc)}
    if r.units:
        out.update({k: r.units[k] for k in ("spread", "mfrac", "rf")})
        out["cr"] = np.cumsum(r.units["rf"]) / 12
        out["cs"] = np.cumsum(r.units["spread"])
        out["cm"] = np.cumsum(r.units["mfrac"]) / 12
    return {k: np.concatenate((z, v)) for k, v in out.items()}


def _flows(ws, st, lay: Layout, rid: str, vals: dict, R, flow_formulas) -> None:
    cross = [""] + _crossings(vals["cum"][1:])
    dcross = [""] + _crossings(vals["dcum"][1:])
    for m in range(N + 1):
        row = FIRST + m
        c = {k: lay.cell(k, m, rid) for k, _ in FLOW_COLS}
        if m == 0:
            for k in ("inv", "mnt", "sav", "net", "cum", "neth", "dnet", "dcum"):
                ws.write_number(row, lay.c(k, rid), 0, st.num["usd"])
            ws.write_blank(row, lay.c("cross", rid), None, st.num["months"])
            ws.write_blank(row, lay.c("dcross", rid), None, st.num["months"])
            continue
        p = {k: lay.cell(k, m - 1, rid) for k in ("cum", "dcum")}
        f_inv, f_mnt, f_sav = flow_formulas(m)
        inh, disc, month = lay.cell("inh", m), lay.cell("disc", m), lay.cell("month", m)
        w = ws.write_formula
        w(row, lay.c("inv", rid), f_inv, st.num["usd"], vals["inv"][m])
        w(row, lay.c("mnt", rid), f_mnt, st.num["usd"], vals["mnt"][m])
        w(row, lay.c("sav", rid), f_sav, st.num["usd"], vals["sav"][m])
        w(row, lay.c("net", rid), f"={c['sav']}-{c['inv']}-{c['mnt']}", st.num["usd"], vals["net"][m])
        w(row, lay.c("cum", rid), f"={p['cum']}+{c['net']}", st.num["usd"], vals["cum"][m])
        w(row, lay.c("cross", rid), f'=IF(AND({p["cum"]}<0,{c["cum"]}>=0),({month}-1)+(-{p["cum"]})/'
                                    f'({c["cum"]}-{p["cum"]}),"")', st.num["months"], cross[m])
        w(row, lay.c("neth", rid), f"={c['net']}*{inh}", st.num["usd"], vals["neth"][m])
        w(row, lay.c("dnet", rid), f"={c['neth']}*{disc}", st.num["usd"], vals["dnet"][m])
        w(row, lay.c("dcum", rid), f"={p['dcum']}+{c['net']}*{disc}", st.num["usd"], vals["dcum"][m])
        w(row, lay.c("dcross", rid), f'=IF(AND({p["dcum"]}<0,{c["dcum"]}>=0),({month}-1)+(-{p["dcum"]})/'
                                     f'({c["dcum"]}-{p["dcum"]}),"")', st.num["months"], dcross[m])


def _solution_block(ws, st, lay: Layout, r: Result, R) -> None:
    vals = _series(r)
    sid = r.id
    go, stm, rm = bc(sid, "go_m"), bc(sid, "start_m"), bc(sid, "ramp_m")

    def ramp_int(t: str) -> str:
        return f"IF({rm}=0,MAX({t}-{go},0),MIN(MAX({t}-{go},0),{rm})^2/(2*{rm})+MAX({t}-{go}-{rm},0))"

    for m in range(N + 1):
        row = FIRST + m
        if m == 0:
            for k in ("spread", "mfrac", "rf", "cr", "cs", "cm"):
                ws.write_number(row, lay.c(k, sid), 0, st.num["factor"])
            continue
        a = lay.cell("month", m)
        ws.write_formula(row, lay.c("spread", sid), f"=MAX(0,MIN({go},{a})-MAX({stm},{a}-1))/({go}-{stm})",
                         st.num["factor"], vals["spread"][m])
        ws.write_formula(row, lay.c("mfrac", sid), f"=MAX({a}-{go},0)-MAX({a}-1-{go},0)", st.num["factor"],
                         vals["mfrac"][m])
        ws.write_formula(row, lay.c("rf", sid), f"={lay.cell('growth', m)}*({ramp_int(a)}-{ramp_int(f'({a}-1)')})",
                         st.num["factor"], vals["rf"][m])
        for k, term in (("cr", f"{lay.cell('rf', m, sid)}/c_months_per_year"), ("cs", lay.cell("spread", m, sid)),
                        ("cm", f"{lay.cell('mfrac', m, sid)}/c_months_per_year")):
            ws.write_formula(row, lay.c(k, sid), f"={lay.cell(k, m - 1, sid)}+{term}", st.num["factor"], vals[k][m])

    def flows(m):
        return (f"={bc(sid, 'inv')}*{lay.cell('spread', m, sid)}",
                f"={bc(sid, 'mnt')}/c_months_per_year*{lay.cell('mfrac', m, sid)}",
                f"={bc(sid, 'sav')}/c_months_per_year*{lay.cell('rf', m, sid)}")

    _flows(ws, st, lay, sid, vals, R, flows)


def _portfolio_block(ws, st, lay: Layout, case: BusinessCase, R, scen_cum: dict[str, np.ndarray]) -> None:
    p = case.portfolio
    vals = _series(p)
    sols = case.solutions

    def flows(m):
        inv = "+".join(f"{bc(r.id, 'mem')}*{lay.cell('inv', m, r.id)}" for r in sols)
        mnt = "+".join(f"{bc(r.id, 'mem')}*{lay.cell('mnt', m, r.id)}" for r in sols)
        sav = "+".join(f"{bc(r.id, 'mem')}*{bc(r.id, 'rem')}*{lay.cell('sav', m, r.id)}" for r in sols)
        return "=" + inv, "=" + mnt, "=" + sav

    _flows(ws, st, lay, "portfolio", vals, R, flows)
    dn_cum = np.concatenate(([0.0], np.cumsum(case.do_nothing_monthly), np.zeros(N - case.horizon_months)))
    dn_cum[case.horizon_months + 1:] = dn_cum[case.horizon_months]
    neth_cum = np.cumsum(vals["neth"])
    for m in range(N + 1):
        row = FIRST + m
        ws.write_formula(row, lay.c("withcum", "portfolio"),
                         f"={lay.cell('dncum', m)}-SUM({lay.cell('neth', 0, 'portfolio')}:{lay.cell('neth', m, 'portfolio')})",
                         st.num["usd"], float(dn_cum[m] - neth_cum[m]))
        for s, c in lay.port_scen.items():
            if m == 0:
                ws.write_number(row, c, 0, st.num["usd"])
                continue
            terms = "+".join(f"scn_{r.id.replace('-', '_')}_{s}_ar*{lay.cell('cr', m, r.id)}"
                             f"-{bc(r.id, 'mem')}*(scn_{r.id.replace('-', '_')}_{s}_b*{lay.cell('cs', m, r.id)}"
                             f"+scn_{r.id.replace('-', '_')}_{s}_c*{lay.cell('cm', m, r.id)})" for r in sols)
            ws.write_formula(row, c, "=" + terms, st.num["usd"], float(scen_cum[s][m]))
