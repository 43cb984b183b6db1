"""Native Excel charts of the finance workbook: runs by status, cost per period, cumulative cost."""
from __future__ import annotations

import numpy as np
import pandas as pd

from etl_desk.core.data.schema import FAILED, STATUS_COLORS, SUCCESS
from etl_desk.core.data.xlsx_book import print_setup
from etl_desk.core.workbook.sheets import Formats, finite, write_value

#: Runs charted one by one; more runs are charted as the top N by cost.
CHART_TOP_RUNS = 50


def _run_labels(part: pd.DataFrame) -> list[str]:
    ids = part["run_id"].astype("string").fillna("").tolist()
    names = part["job_name"].astype("string").tolist() if "job_name" in part.columns else [pd.NA] * len(ids)
    out = []
    for rid, name in zip(ids, names):
        out.append(f"{name} · {rid}" if isinstance(name, str) and name else f"Job {rid}")
    return out


def _period(df: pd.DataFrame) -> tuple[str, pd.Series]:
    start = df["start_time"]
    if not len(df) or start.isna().all():
        return "day", start
    days = (start.max() - start.min()) / pd.Timedelta(days=1)
    if days <= 120:
        return "day", start.dt.floor("D")
    if days <= 2 * 365:
        return "week", (start - pd.to_timedelta(start.dt.weekday, unit="D")).dt.floor("D")
    return "month", start.dt.to_period("M").dt.to_timestamp()


def write_charts(wb, ws, fm: Formats, df: pd.DataFrame, case, cum) -> None:
    """Charts in columns A..Y (the printed area); their data from column AA on, visible and labelled."""
    ws.hide_gridlines(2)
    orange, blue = STATUS_COLORS[SUCCESS], STATUS_COLORS[FAILED]
    ws.write_string(0, 0, "Charts", fm.title)
    n = len(df)
    if not n:
        ws.write_string(2, 0, "No runs to chart.", fm.note)
        return
    failed = (df["status"].astype("object") == FAILED).to_numpy()
    if n <= CHART_TOP_RUNS:
        pick = np.arange(n)
        scope = f"all {n:,} runs"
    else:
        cost = df["cost_usd"].to_numpy(dtype=float, na_value=0.0)
        pick = np.argsort(-cost, kind="stable")[:CHART_TOP_RUNS]
        scope = f"top {CHART_TOP_RUNS} of {n:,} runs by cost"
    ws.write_string(1, 0, f"Orange = Success, blue = Failed, as in the case-study dashboard. Per-run charts show "
                    f"{scope}; the cost-over-time chart covers all runs. Chart data start in column AA.",
                    fm.subtitle)
    part = df.iloc[pick]
    labels = _run_labels(part)
    top, dc = 3, 26
    heads = ["Run", "Status", "Cost Success", "Cost Failed", "GB Success", "GB Failed", "Min Success", "Min Failed"]
    ws.write_string(top - 1, dc, f"Chart data: {scope}", fm.label)
    for j, h in enumerate(heads):
        ws.write_string(top, dc + j, h, fm.header)
    metrics = [("cost_usd", "usd"), ("data_processed_gb", "gb"), ("duration_min", "num")]
    pf = failed[pick]
    for i, (label, is_failed) in enumerate(zip(labels, pf)):
        r = top + 1 + i
        ws.write_string(r, dc, label, fm.cell)
        ws.write_string(r, dc + 1, FAILED if is_failed else SUCCESS, fm.cell)
        for k, (col, kind) in enumerate(metrics):
            v = part[col].iloc[i] if col in part.columns else None
            c_ok, c_fail = dc + 2 + 2 * k, dc + 3 + 2 * k
            if finite(v):
                ws.write_number(r, c_fail if is_failed else c_ok, float(v), fm.num[kind])
            ws.write_blank(r, c_ok if is_failed else c_fail, None, fm.num[kind])
    last = top + len(part)
    ws.set_column(dc, dc, 34)
    ws.set_column(dc + 1, dc + 1, 9)
    ws.set_column(dc + 2, dc + 7, 12)
    titles = [("Cost (USD)", "$#,##0.00"), ("Data Processed (GB)", "#,##0"), ("Duration (min)", "#,##0")]
    height = max(420, 16 * len(part) + 120)
    for k, (name, numfmt) in enumerate(titles):
        col = metrics[k][0]
        if col not in df.columns or not df[col].notna().any():
            ws.write_string(top + 1, 8 * k, f"{name}: not in this data", fm.note)
            continue
        ch = wb.add_chart({"type": "bar", "subtype": "stacked"})
        for status, color, c in ((SUCCESS, orange, dc + 2 + 2 * k), (FAILED, blue, dc + 3 + 2 * k)):
            ch.add_series({
                "name": status,
                "categories": ["Charts", top + 1, dc, last, dc],
                "values": ["Charts", top + 1, c, last, c],
                "fill": {"color": color}, "border": {"none": True}, "gap": 40, "overlap": 100,
            })
        ch.set_title({"name": f"{name} per run", "name_font": {"size": 11, "bold": True}})
        ch.set_y_axis({"reverse": True, "num_font": {"size": 7}, "visible": k == 0})
        ch.set_x_axis({"num_format": numfmt, "num_font": {"size": 8}, "min": 0,
                       "major_gridlines": {"visible": True, "line": {"color": "#E0E0E0"}}})
        ch.set_legend({"position": "top"})
        ch.set_size({"width": 640 if k == 0 else 420, "height": height})
        ch.set_chartarea({"border": {"none": True}})
        ws.insert_chart(top, [0, 10, 17][k], ch, {"object_position": 3})
    # ---- cost per day / week / month by status (all runs) ------------------------------
    unit, bucket = _period(df)
    agg = pd.DataFrame({"bucket": bucket, "failed": failed, "cost": df["cost_usd"].to_numpy(dtype=float)})
    tab = agg.pivot_table(index="bucket", columns="failed", values="cost", aggfunc="sum", fill_value=0.0)
    tab = tab.reindex(columns=[False, True], fill_value=0.0)
    r0 = last + 3
    ws.write_string(r0 - 1, dc, f"Chart data: cost per {unit}, all {n:,} runs", fm.label)
    for j, h in enumerate((unit.capitalize(), "", "Cost Success", "Cost Failed")):
        if h:
            ws.write_string(r0, dc + j, h, fm.header)
    datefmt = wb.add_format({"num_format": "yyyy-mm-dd", "border": 1, "border_color": "#D9D9D9"})
    for i, (b, row) in enumerate(tab.iterrows()):
        write_value(ws, r0 + 1 + i, dc, b, datefmt)
        ws.write_number(r0 + 1 + i, dc + 2, float(row[False]), fm.num["usd"])
        ws.write_number(r0 + 1 + i, dc + 3, float(row[True]), fm.num["usd"])
    r1 = r0 + len(tab)
    ch = wb.add_chart({"type": "column", "subtype": "stacked"})
    for status, color, c in ((SUCCESS, orange, dc + 2), (FAILED, blue, dc + 3)):
        ch.add_series({"name": status, "categories": ["Charts", r0 + 1, dc, r1, dc],
                       "values": ["Charts", r0 + 1, c, r1, c], "fill": {"color": color},
                       "border": {"none": True}, "gap": 30, "overlap": 100})
    ch.set_title({"name": f"Cost per {unit} by status, all {n:,} runs", "name_font": {"size": 11, "bold": True}})
    ch.set_x_axis({"date_axis": True, "num_format": "yyyy-mm-dd", "num_font": {"rotation": -45, "size": 8}})
    ch.set_y_axis({"num_format": "$#,##0", "major_gridlines": {"visible": True, "line": {"color": "#E0E0E0"}}})
    ch.set_legend({"position": "top"})
    ch.set_size({"width": 900, "height": 340})
    ch.set_chartarea({"border": {"none": True}})
    below = top + int(height / 20) + 2
    ws.insert_chart(below, 0, ch, {"object_position": 3})
    if cum is not None:
        _cumulative_chart(wb, ws, cum, below, 14)
    ws.print_area(0, 0, below + 18, 24)
    print_setup(ws, title="Charts")


def _cumulative_chart(wb, ws, cum, row: int, col: int) -> None:
    """Line chart over the finance sheet's monthly cumulative-cost table.

    *cum* is what ``finance_xlsx.write_business_case_sheet`` returns: chart ranges
    ``months``, ``do_nothing``, ``portfolio`` and the header cells ``do_nothing_name``,
    ``portfolio_name`` (XlsxWriter ``add_series`` syntax).
    """
    if not isinstance(cum, dict) or not all(k in cum for k in ("months", "do_nothing", "portfolio")):
        return
    ch = wb.add_chart({"type": "line"})
    for key, name, color, dash in (("do_nothing", "Doing nothing", "#C00000", "solid"),
                                   ("portfolio", "With the portfolio", "#2E75B6", "solid")):
        ch.add_series({"name": cum.get(f"{key}_name", name), "categories": cum["months"], "values": cum[key],
                       "line": {"color": color, "width": 2.25, "dash_type": dash}, "marker": {"type": "none"}})
    ch.set_title({"name": "Cumulative cost: doing nothing vs the portfolio (USD)",
                  "name_font": {"size": 11, "bold": True}})
    ch.set_y_axis({"num_format": "$#,##0", "major_gridlines": {"visible": True, "line": {"color": "#E0E0E0"}}})
    ch.set_x_axis({"name": "Month", "interval_unit": 6, "num_font": {"size": 8}})
    ch.set_legend({"position": "top"})
    ch.set_size({"width": 640, "height": 340})
    ch.set_chartarea({"border": {"none": True}})
    ws.insert_chart(row, col, ch, {"object_position": 3})
