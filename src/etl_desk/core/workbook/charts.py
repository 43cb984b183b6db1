"""Native Excel charts of the finance workbook: runs by status, cost per period, cumulative cost, J-curves."""
from __future__ import annotations

import numpy as np
import pandas as pd

from etl_desk.core.data.schema import FAILED, STATUS_COLORS, SUCCESS
from etl_desk.core.data.xlsx_book import print_setup
from xlsxwriter.utility import xl_col_to_name as col_name

from etl_desk.core.business_case.schedule import SCHEDULE_MONTHS as N_MONTHS
from etl_desk.core.workbook.formats import Styles as Formats
from etl_desk.core.workbook.sheets import finite, write_value

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
        return "week", (start - pd.to_timedelta(start.dt.day_of_week, unit="D")).dt.floor("D")
    return "month", start.dt.to_period("M").dt.to_timestamp()


def write_charts(wb, ws, fm: Formats, df: pd.DataFrame, case) -> None:
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
        pick = np.argsort(-np.nan_to_num(cost), kind="stable")[:CHART_TOP_RUNS]
        scope = f"top {CHART_TOP_RUNS} of {n:,} runs by cost"
    ws.merge_range(1, 0, 1, 24, f"Orange = Success, blue = Failed, as in the case-study dashboard. Per-run charts "
                                f"show {scope}; the cost-over-time chart covers all runs. Chart data start in column "
                                f"AA. Cash-flow charts cover the horizon and follow it when it changes.", fm.subtitle)
    part = df.iloc[pick]
    labels = _run_labels(part)
    top, dc = 3, 26
    heads = ["Run", "Status", "Cost Success", "Cost Failed", "GB Success", "GB Failed", "Min Success", "Min Failed"]
    ws.write_string(top - 1, dc, f"Chart data: {scope}", fm.label)
    for j, h in enumerate(heads):
        ws.write_string(top, dc + j, h, fm.header)
    metrics = [("cost_usd", "usd"), ("data_processed_gb", "gb"), ("duration_min", "min")]
    pf = failed[pick]
    for i, (label, is_failed) in enumerate(zip(labels, pf)):
        r = top + 1 + i
        ws.write_string(r, dc, label, fm.text)
        ws.write_string(r, dc + 1, FAILED if is_failed else SUCCESS, fm.text)
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
        ch.set_x_axis({"num_format": numfmt, "num_font": {"size": 8}, "min": 0, "name": name,
                       "name_font": {"size": 8}, "major_gridlines": {"visible": True, "line": {"color": "#E0E0E0"}}})
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
    ch.set_x_axis({"date_axis": True, "num_format": "yyyy-mm-dd", "num_font": {"rotation": -45, "size": 8},
                   "name": unit.capitalize(), "name_font": {"size": 8}})
    ch.set_y_axis({"num_format": "$#,##0", "name": "Cost (USD)", "name_font": {"size": 8},
                   "major_gridlines": {"visible": True, "line": {"color": "#E0E0E0"}}})
    ch.set_legend({"position": "top"})
    ch.set_size({"width": 900, "height": 340})
    ch.set_chartarea({"border": {"none": True}})
    below = top + int(height / 20) + 2
    ws.insert_chart(below, 0, ch, {"object_position": 3})
    end = below + 18
    if case is not None:
        end = write_cash_flow_charts(wb, ws, fm, case, below, max(r1 + 3, 3))
    ws.print_area(0, 0, end, 24)
    print_setup(ws, title="Charts")


def write_cash_flow_charts(wb, ws, fm: Formats, case, row: int, data_row: int) -> int:
    """Cumulative cost (doing nothing vs the portfolio) and a J-curve per option with break-even, over the horizon.

    The chart data (from column AK) cover months 0..120 and read the Monthly schedule; months
    after the horizon are #N/A, so the charts follow ``g_horizon_years`` when it changes.
    """
    dc = 36
    h = case.horizon_months
    opts = list(case.solutions) + [case.portfolio]
    heads = ["Month", "Doing nothing: cumulative cost", "With the portfolio: cumulative cost"] + \
        [f"{r.number if r.id != 'portfolio' else 'P'}: cumulative net" for r in opts]
    ws.write_string(data_row - 1, dc, "Chart data: cumulative cash flows by month (#N/A after the horizon)", fm.label)
    ws.write_row(data_row, dc, heads, fm.header)
    first = data_row + 1
    inh = "<=g_horizon_years*c_months_per_year"
    dn = case.do_nothing_cumulative
    wc = case.portfolio_cumulative
    for m in range(N_MONTHS + 1):
        r = first + m
        within = m <= h
        ws.write_formula(r, dc, f"=IF({m}<=g_horizon_years*c_months_per_year,{m},NA())", fm.num["count"],
                         m if within else "#N/A")
        month = str(m)
        ref = f"INDEX({{}},{month}+1)"
        ws.write_formula(r, dc + 1, f"=IF({month}{inh},{ref.format('sch_dncum_all')},NA())", fm.num["usd"],
                         float(dn[m]) if within else "#N/A")
        ws.write_formula(r, dc + 2, f"=IF({month}{inh},{ref.format('sch_portfolio_withcum_all')},NA())",
                         fm.num["usd"], float(wc[m]) if within else "#N/A")
        for j, res in enumerate(opts):
            cum = np.concatenate(([0.0], res.schedule.cumulative_net))
            name = "sch_" + res.id.replace("-", "_") + "_cum_all"
            ws.write_formula(r, dc + 3 + j, f"=IF({month}{inh},{ref.format(name)},NA())", fm.num["usd"],
                             float(cum[m]) if within else "#N/A")
    last = first + N_MONTHS
    # break-even markers
    mrow = last + 2
    ws.write_row(mrow, dc, ["Break-even", "Month", "Net"], fm.header)
    for j, res in enumerate(opts):
        r = mrow + 1 + j
        ws.write_string(r, dc, res.name, fm.text)
        pb = "bc_" + res.id.replace("-", "_") + "_pb"
        x = res.payback_months if res.payback_months is not None and res.payback_months <= h else "#N/A"
        ws.write_formula(r, dc + 1, f"=IF(AND(ISNUMBER({pb}),N({pb})<=g_horizon_years*c_months_per_year),{pb},NA())",
                         fm.num["months"], x)
        ws.write_formula(r, dc + 2, f"=IF(ISNUMBER({col_name(dc + 1)}{r + 1}),0,NA())", fm.num["usd"],
                         0.0 if x != "#N/A" else "#N/A")
    ws.set_column(dc, dc + 2 + len(opts), 14)

    def line_chart(title, series, y_title):
        ch = wb.add_chart({"type": "scatter", "subtype": "straight"})
        for name, c, color, marker_row in series:
            ch.add_series({"name": name, "categories": ["Charts", first, dc, last, dc],
                           "values": ["Charts", first, c, last, c], "line": {"color": color, "width": 2},
                           "marker": {"type": "none"}})
            if marker_row is not None:
                ch.add_series({"name": "Break-even", "categories": ["Charts", marker_row, dc + 1, marker_row, dc + 1],
                               "values": ["Charts", marker_row, dc + 2, marker_row, dc + 2],
                               "marker": {"type": "diamond", "size": 9, "fill": {"color": "#1E7B45"},
                                          "border": {"color": "#1E7B45"}}, "line": {"none": True}})
        ch.set_title({"name": title, "name_font": {"size": 10, "bold": True}})
        ch.set_x_axis({"name": "Months from the project start", "min": 0, "name_font": {"size": 8},
                       "num_font": {"size": 8}})
        ch.set_y_axis({"name": y_title, "num_format": "$#,##0;($#,##0)", "name_font": {"size": 8},
                       "num_font": {"size": 8}, "major_gridlines": {"visible": True, "line": {"color": "#E0E0E0"}}})
        ch.set_legend({"position": "bottom", "font": {"size": 8}})
        ch.set_chartarea({"border": {"none": True}})
        return ch

    ch = line_chart("Cumulative cost: doing nothing vs with the portfolio",
                    [("Doing nothing", dc + 1, "#C00000", None), ("With the portfolio", dc + 2, "#2E75B6", None)],
                    "Cumulative cost (USD)")
    ch.set_size({"width": 640, "height": 340})
    ws.insert_chart(row, 14, ch, {"object_position": 3})
    row += 19
    ws.set_h_pagebreaks([row])
    ws.write_string(row, 0, "J-curves: cumulative net cash flow of each option (USD), break-even marked", fm.h2)
    row += 1
    for j, res in enumerate(opts):
        title = f"{res.number}. {res.name}" if res.id != "portfolio" else "Portfolio"
        ch = line_chart(title, [("Cumulative net", dc + 3 + j, "#2E75B6", mrow + 1 + j)], "Cumulative net (USD)")
        ch.set_size({"width": 520, "height": 270})
        ws.insert_chart(row + (j // 2) * 15, 0 if j % 2 == 0 else 9, ch, {"object_position": 3})
    return row + 15 * ((len(opts) + 1) // 2)
