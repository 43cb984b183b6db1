"""The workbook's trend sheets: Chargeback (who pays), Forecast (with the budget) and Drift.

Each renders what :func:`etl_desk.core.insights.trends.compute_trends` computed; nothing is
computed here. Money cells use the workbook's $ format; unknown money is a blank cell with
the reason in a note, never $0. Charts are native Excel charts over the sheet's own cells.
"""
from __future__ import annotations

import pandas as pd

from etl_desk.core.data.xlsx_book import print_setup
from etl_desk.core.insights.trends import Trends
from etl_desk.core.workbook.sheets import Formats, write_value

__all__ = ["TREND_SHEETS", "write_trend_sheets"]

TREND_SHEETS = {
    "Chargeback": "Cost, failed cost and runs by tag, workspace, SKU or pipeline; untagged spend shown",
    "Forecast": "Daily cost forecast with 80 % and 95 % intervals, backtest coverage, budgets",
    "Drift": "Pipelines whose cost per TB or duration per GB creeps up week after week",
}


def write_trend_sheets(wb, fm: Formats, trends: Trends | None) -> list[str]:
    """Add the sheets *trends* has content for; returns their names in order."""
    if trends is None:
        return []
    names = []
    if trends.attribution:
        _chargeback(wb, wb.add_worksheet("Chargeback"), fm, trends)
        names.append("Chargeback")
    if trends.forecast is not None:
        _forecast(wb, wb.add_worksheet("Forecast"), fm, trends)
        names.append("Forecast")
    if trends.drift is not None:
        _drift(wb.add_worksheet("Drift"), fm, trends)
        names.append("Drift")
    return names


def _chargeback(wb, ws, fm: Formats, t: Trends) -> None:
    ws.write_string(0, 0, "Chargeback: who pays", fm.title)
    ws.write_string(1, 0, "Known cost per group; runs with unknown cost count as runs, not as $0. The untagged row "
                    "is always shown.", fm.subtitle)
    r = 3
    for i, a in enumerate(t.attribution):
        ws.write_string(r, 0, a.label, fm.h2)
        r += 1
        heads = ["Group", "Runs", "Failed runs", "Cost (USD)", "Failed cost (USD)", "Share of cost",
                 "Runs with unknown cost"]
        for j, h in enumerate(heads):
            ws.write_string(r, j, h, fm.header)
        first = r + 1
        for row in a.rows:
            r += 1
            ws.write_string(r, 0, row.key, fm.warn if row.untagged else fm.cell)
            write_value(ws, r, 1, row.runs, fm.num["int"])
            write_value(ws, r, 2, row.failed_runs, fm.num["int"])
            write_value(ws, r, 3, row.cost_usd, fm.num["usd"])
            write_value(ws, r, 4, row.failed_cost_usd, fm.num["usd"])
            write_value(ws, r, 5, row.share, fm.num["pct"])
            write_value(ws, r, 6, row.unknown_cost_runs, fm.num["int"])
        last = r
        r += 1
        ws.write_string(r, 0, "Total", fm.label)
        for j, col, attr in ((1, "B", "runs"), (2, "C", "failed_runs"), (3, "D", "cost_usd"),
                             (4, "E", "failed_cost_usd"), (6, "G", "unknown_cost_runs")):
            # live sums over the rows above, with the computed value cached
            val = getattr(a.total, attr)
            ws.write_formula(r, j, f"=SUM({col}{first + 1}:{col}{last + 1})",
                             fm.big["usd" if j in (3, 4) else "int"], val if val is not None else "")
        for n in a.notes:
            r += 1
            ws.write_string(r, 0, n, fm.note)
        ch = wb.add_chart({"type": "bar"})
        ch.add_series({"name": "Cost", "categories": ["Chargeback", first, 0, last, 0],
                       "values": ["Chargeback", first, 3, last, 3], "fill": {"color": "#F28E2B"}, "gap": 40})
        ch.add_series({"name": "Failed cost", "categories": ["Chargeback", first, 0, last, 0],
                       "values": ["Chargeback", first, 4, last, 4], "fill": {"color": "#4E79A7"}, "gap": 40})
        ch.set_title({"name": f"Cost by {a.label}", "name_font": {"size": 11, "bold": True}})
        ch.set_y_axis({"reverse": True, "num_font": {"size": 8}})
        ch.set_x_axis({"num_format": "$#,##0", "major_gridlines": {"visible": True, "line": {"color": "#E0E0E0"}}})
        ch.set_legend({"position": "top"})
        ch.set_size({"width": 560, "height": max(220, 28 * len(a.rows) + 90)})
        ws.insert_chart(first - 1, 8, ch, {"object_position": 3})
        r = max(r + 3, first + int(max(220, 28 * len(a.rows) + 90) / 20) + 2)
        if i == 0:
            ws.freeze_panes(3, 0)
    for j, w in enumerate((34, 10, 12, 16, 16, 12, 12)):
        ws.set_column(j, j, w)
    print_setup(ws, title="Chargeback")


def _forecast(wb, ws, fm: Formats, t: Trends) -> None:
    fc = t.forecast
    ws.write_string(0, 0, "Forecast: where the bill is heading", fm.title)
    if fc.total is None:
        ws.write_string(2, 0, "No forecast: " + " ".join(fc.notes), fm.note)
        ws.set_column(0, 0, 100)
        print_setup(ws, title="Forecast")
        return
    f, bt = fc.total, fc.total.backtest
    ws.write_string(1, 0, f"Model: {f.method}.", fm.subtitle)
    cov = (f"Backtest, last {bt.weeks} weeks ({bt.days} days, 7 days ahead): {bt.coverage80:.0%} of days inside "
           f"the 80 % interval, {bt.coverage95:.0%} inside the 95 % one; mean absolute error {bt.mape:.1%}."
           if bt.coverage80 is not None else "Too little history for a backtest.")
    ws.write_string(2, 0, cov, fm.subtitle)
    row = 4
    for b in t.budgets:
        ws.write_string(row, 0, f"Budget {b.budget.label}: {b.status}", fm.h2)
        ws.write_string(row + 1, 0, b.reason, fm.note)
        row += 2
    top = row + 1
    heads = ["Day", "Actual (USD)", "Forecast (USD)", "80 % low", "80 % high", "95 % low", "95 % high"]
    for j, h in enumerate(heads):
        ws.write_string(top, j, h, fm.header)
    hist = f.history.tail(90)
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd", "border": 1, "border_color": "#D9D9D9"})
    r = top
    for d, v in zip(hist["day"], hist["cost_usd"]):
        r += 1
        write_value(ws, r, 0, pd.Timestamp(d), date_fmt)
        write_value(ws, r, 1, float(v), fm.num["usd"])
    for row_ in f.frame.itertuples(index=False):
        r += 1
        write_value(ws, r, 0, pd.Timestamp(row_.day), date_fmt)
        for j, c in enumerate(("mean", "lo80", "hi80", "lo95", "hi95"), start=2):
            write_value(ws, r, j, float(getattr(row_, c)), fm.num["usd"])
    ch = wb.add_chart({"type": "line"})
    series = (("Actual", 1, "#404040", 1.5), ("Forecast", 2, "#F28E2B", 2.0), ("80 % low", 3, "#9DC3E6", 1.0),
              ("80 % high", 4, "#9DC3E6", 1.0), ("95 % low", 5, "#BDD7EE", 1.0), ("95 % high", 6, "#BDD7EE", 1.0))
    for name, col, color, width in series:
        ch.add_series({"name": name, "categories": ["Forecast", top + 1, 0, r, 0],
                       "values": ["Forecast", top + 1, col, r, col],
                       "line": {"color": color, "width": width, "dash_type": "dash" if "%" in name else "solid"},
                       "marker": {"type": "none"}})
    ch.set_title({"name": "Daily cost: the last 90 days and the forecast (USD)", "name_font": {"size": 11,
                                                                                               "bold": True}})
    ch.set_x_axis({"date_axis": True, "num_format": "yyyy-mm-dd", "num_font": {"rotation": -45, "size": 8}})
    ch.set_y_axis({"num_format": "$#,##0", "major_gridlines": {"visible": True, "line": {"color": "#E0E0E0"}}})
    ch.set_legend({"position": "top"})
    ch.set_size({"width": 900, "height": 380})
    ws.insert_chart(top, 8, ch, {"object_position": 3})
    if t.budgets and len(t.budgets[0].daily):
        _budget_chart(wb, ws, fm, t.budgets[0], top, date_fmt)
    for j, w in enumerate((12, 14, 14, 12, 12, 12, 12)):
        ws.set_column(j, j, w)
    ws.freeze_panes(top + 1, 0)
    print_setup(ws, header_rows=top, title="Forecast")


def _budget_chart(wb, ws, fm: Formats, b, top: int, date_fmt) -> None:
    """The month's running total (actual, forecast, 80 % band) against the budget line, right of the chart."""
    c0 = 24
    heads = ["Day", "Spent so far", "Forecast running total", "80 % low", "80 % high", "Budget"]
    for j, h in enumerate(heads):
        ws.write_string(top, c0 + j, h, fm.header)
    r = top
    for row in b.daily.itertuples(index=False):
        r += 1
        write_value(ws, r, c0, pd.Timestamp(row.day), date_fmt)
        for j, c in enumerate(("actual", "forecast", "lo80", "hi80"), start=1):
            write_value(ws, r, c0 + j, getattr(row, c), fm.num["usd"])
        write_value(ws, r, c0 + 5, b.budget.amount_usd, fm.num["usd"])
    ch = wb.add_chart({"type": "line"})
    for j, (name, color, dash) in enumerate((("Spent so far", "#404040", "solid"), ("Forecast", "#F28E2B", "solid"),
                                             ("80 % low", "#9DC3E6", "dash"), ("80 % high", "#9DC3E6", "dash"),
                                             ("Budget", "#C00000", "solid")), start=1):
        ch.add_series({"name": name, "categories": ["Forecast", top + 1, c0, r, c0],
                       "values": ["Forecast", top + 1, c0 + j, r, c0 + j],
                       "line": {"color": color, "width": 2.0, "dash_type": dash}, "marker": {"type": "none"}})
    ch.set_title({"name": f"{b.month}: spend against {b.budget.label}", "name_font": {"size": 11, "bold": True}})
    ch.set_x_axis({"date_axis": True, "num_format": "mm-dd", "num_font": {"size": 8}})
    ch.set_y_axis({"num_format": "$#,##0", "major_gridlines": {"visible": True, "line": {"color": "#E0E0E0"}}})
    ch.set_legend({"position": "top"})
    ch.set_size({"width": 900, "height": 340})
    ws.insert_chart(top + 20, 8, ch, {"object_position": 3})
    for j in range(6):
        ws.set_column(c0 + j, c0 + j, 14)


def _drift(ws, fm: Formats, t: Trends) -> None:
    d = t.drift
    ws.write_string(0, 0, "Drift: what is creeping up", fm.title)
    ws.write_string(1, 0, "Per pipeline, cost per TB and duration per GB at equal volume: one-sided Mann-Kendall "
                    "test and Theil-Sen rate on daily medians; extra spend since the estimated start.", fm.subtitle)
    heads = ["Pipeline", "Metric", "Since", "Weeks", "% a week", "p-value", "Before", "Last 7 days", "Unit",
             "Extra spend so far (USD)", "Annualised (USD)", "Why"]
    for j, h in enumerate(heads):
        ws.write_string(3, j, h, fm.header)
    r = 3
    for f in d.findings:
        r += 1
        vals = (f.pipeline, f.metric_label, f.start, f.weeks, f.pct_per_week / 100.0, f.p_value, f.before, f.now,
                f.unit, f.extra_spend_usd, f.annualised_usd, f.reason)
        fmts = (fm.cell, fm.cell, fm.cell, fm.num["num"], fm.num["pct"], fm.num["num"], fm.num["num"], fm.num["num"],
                fm.cell, fm.num["usd"], fm.num["usd"], fm.cell_wrap)
        for j, (v, f_) in enumerate(zip(vals, fmts)):
            write_value(ws, r, j, v, f_, f_)
    if not d.findings:
        ws.write_string(4, 0, "No pipeline is drifting.", fm.note)
    for n in d.notes:
        r += 2
        ws.write_string(r, 0, n, fm.note)
    for j, w in enumerate((28, 26, 11, 7, 9, 9, 10, 10, 8, 16, 14, 90)):
        ws.set_column(j, j, w)
    ws.freeze_panes(4, 0)
    print_setup(ws, header_rows=3, title="Drift")
