"""The Annual cash flows sheet: the fiscal-year roll-up (Year 0..N) behind every NPV, printed.

One table per solution and for the portfolio: months, investment, maintenance, savings,
net, cumulative, discounted (month-end discount factors) and discounted cumulative per
fiscal year, as SUMIFS over the Monthly schedule's year index. The discounted column sums
to the option's NPV, and a tie-out row says so. Year 0 is the fiscal year of the project
start; years after the horizon are left blank.
"""
from __future__ import annotations

from etl_desk.core.business_case.cashflows import AnnualRow
from etl_desk.core.business_case.model import BusinessCase
from etl_desk.core.data.xlsx_book import print_setup
from etl_desk.core.workbook.formats import Styles
from etl_desk.core.workbook.names import ANNUAL_SHEET, bc, define, sch

MAX_YEARS = 11  # Year 0..10 covers any 10-year horizon
COLS = ("Year", "Fiscal year", "Months", "Investment", "Maintenance", "Savings", "Net", "Cumulative net",
        "Discounted net", "Discounted cumulative")


def write_annual_sheet(wb, st: Styles, case: BusinessCase, annual: dict[str, list[AnnualRow]]) -> None:
    """Add the "Annual cash flows" sheet to the xlsxwriter workbook *wb*.

    *annual*: option id (each solution's id and ``"portfolio"``) -> its :class:`AnnualRow` per
    fiscal year, as :func:`etl_desk.core.business_case.cashflows.annual_rollup` rolls them up; the
    rows only give the cached values, every cell is a SUMIFS formula over the Monthly schedule
    (``sch_yidx``, ``sch_inh``, ``sch_<option>_<column>``), so that sheet must be written too.
    One table per option of Year 0..10 (:data:`MAX_YEARS` rows, blank after the horizon): months,
    investment, maintenance, savings, net, cumulative, discounted net (month-end discount factors)
    and discounted cumulative, in USD; the total of the discounted column is named
    ``bc_<option>_annual_npv`` and the Checks sheet ties it to the option's NPV.
    """
    ws = wb.add_worksheet(ANNUAL_SHEET)
    ws.set_column(0, 0, 8)
    ws.set_column(1, 2, 11)
    ws.set_column(3, 8, 15)
    ws.set_column(9, 9, 21)
    ws.write_string(0, 0, "Annual cash flows: the fiscal-year roll-up behind every NPV (USD)", st.title)
    ws.merge_range(1, 0, 1, 9, "Year 0 is the fiscal year of the project start (a part year unless the start is the "
                               "first month of a fiscal year); fiscal years are named by the calendar year they end "
                               "in. Months after the horizon are not counted. Discounted = net x the month-end "
                               "discount factor; its total is the NPV.", st.note)
    ws.set_row(1, 45)
    row = 3
    for r in list(case.solutions) + [case.portfolio]:
        title = f"{r.number}. {r.name}" if r.id != "portfolio" else "Portfolio (" + (
            ", ".join(str(case.result(i).number) for i in case.members) or "no solution") + ")"
        ws.merge_range(row, 0, row, 9, title, st.section)
        row += 1
        ws.write_row(row, 0, COLS, st.header)
        row += 1
        rows = {x.year_index: x for x in annual[r.id]}
        first = row
        for k in range(MAX_YEARS):
            x = rows.get(k)
            R = row + 1
            count = f"COUNTIFS(sch_yidx,{k},sch_inh,1)"
            ws.write_formula(row, 0, f'=IF({count}=0,"",{k})', st.num["count"], k if x else "")
            ws.write_formula(row, 2, f'=IF({count}=0,"",{count})', st.num["count"], x.months if x else "")
            ws.write_formula(row, 1, f'=IF(N(C{R})=0,"","FY"&(INDEX(sch_fy,1)+{k}))', st.text,
                             x.fiscal_year if x else "")
            for j, (key, attr) in enumerate((("inv", "investment"), ("mnt", "maintenance"), ("sav", "savings"),
                                             ("neth", "net"))):
                f = f'=IF(N(C{R})=0,"",SUMIFS({sch(key, r.id)},sch_yidx,{k},sch_inh,1))'
                ws.write_formula(row, 3 + j, f, st.num["usd0"], getattr(x, attr) if x else "")
            cprev = f"N(H{R - 1})+" if k else ""
            ws.write_formula(row, 7, f'=IF(N(C{R})=0,"",{cprev}G{R})', st.num["usd0"], x.cumulative if x else "")
            ws.write_formula(row, 8, f'=IF(N(C{R})=0,"",SUMIFS({sch("dnet", r.id)},sch_yidx,{k}))', st.num["usd0"],
                             x.discounted if x else "")
            dprev = f"N(J{R - 1})+" if k else ""
            ws.write_formula(row, 9, f'=IF(N(C{R})=0,"",{dprev}I{R})', st.num["usd0"], x.discounted_cumulative if x else "")
            row += 1
        last = row - 1
        ws.write_string(row, 0, "Total", st.label)
        ws.write_formula(row, 2, f"=SUM(C{first + 1}:C{last + 1})", st.num["count"], case.horizon_months)
        for j, attr in enumerate(("investment", "maintenance", "savings", "net")):
            c = 3 + j
            colr = f"{chr(65 + c)}{first + 1}:{chr(65 + c)}{last + 1}"
            ws.write_formula(row, c, f"=SUM({colr})", st.bold["usd0"], sum(getattr(x, attr) for x in annual[r.id]))
        ws.write_formula(row, 8, f"=SUM(I{first + 1}:I{last + 1})", st.bold["usd0"], r.npv_usd)
        define(wb, bc(r.id, "annual_npv"), ANNUAL_SHEET, row, 8)
        ws.write_string(row, 9, "Total = NPV (Checks)", st.note)
        row += 2
    print_setup(ws, title=ANNUAL_SHEET)
    ws.print_area(0, 0, row, 9)
    ws.protect("", {"format_columns": True, "format_rows": True})
