"""The workbook's report sheets: cover, KPIs (formulas over the Data table) and insights (formats by unit)."""
from __future__ import annotations

import datetime as _dt
import math

import numpy as np
import pandas as pd

from etl_desk.core.data import xlsx_sheet
from etl_desk.core.data.schema import has_values
from etl_desk.core.data.xlsx_book import DATA_SHEET, app_version, print_setup
from etl_desk.core.insights.kpis import kpi_label, kpi_unit, ordered_kpis
from etl_desk.core.workbook.assumptions_sheet import DataRefs
from etl_desk.core.workbook.decision_sheet import flag_cell
from etl_desk.core.workbook.formats import Styles, wrapped_height
from etl_desk.core.workbook.names import quote
from etl_desk.core import fmt

#: The shared cell formats under their older name (the trend sheets use it).
Formats = Styles

SHEET_TITLES = {
    "Decision": "The decision: options ranked, what would have to be true, risks, provenance, checks",
    "Cover": "Data source, filters, contents and how to read the workbook",
    "Assumptions": "Every input with its unit and rationale (edit here), the measured and assumed baseline",
    "Business Case": "Every figure of every option as live formulas; switching values; operations",
    "Annual cash flows": "The fiscal-year roll-up (Year 0..N) behind every NPV",
    "Scenarios": "Low / base / high side by side; one-at-a-time sensitivity with tornado charts",
    "Checks": "Tie-outs the workbook proves about itself, with one master flag",
    "Sources": "Files read, rows left out and why, prices used, the reconciliation with billing",
    "Chargeback": "Cost, failed cost and runs by team, tag, workspace or SKU, untagged spend included",
    "Forecast": "Daily cost forecast with 80 % and 95 % bands, its backtest, and the budget",
    "Drift": "Pipelines whose cost per TB or duration per GB keeps rising, with the extra spend",
    "KPIs": "Headline numbers of the runs, as formulas over the Data table",
    "Insights": "Findings with their numbers and evidence",
    "Anomalies": "Runs flagged by the anomaly rules: one row per run, thresholds in the observed unit, excess dollars",
    "Charts": "Runs by status, cost over time, J-curves of every option with break-even",
    "Benefits realisation": "Measured change of each remedy's target after go-live, beside the projection",
    "Monthly schedule": "The 120-month dated cash flows behind every figure (working sheet)",
    "Data": "Every run as an Excel table (filter and sort in place)",
}


def finite(x) -> bool:
    """True for a real, finite number (int, float, numpy number; not bool, None, NaN, inf or text)."""
    try:
        return x is not None and not isinstance(x, bool) and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def write_value(ws, row: int, col: int, value, fmt=None, text_fmt=None) -> None:
    """Write one Python value safely: text always as text, NaN/None as blank."""
    if value is None or value is pd.NA or value is pd.NaT:
        if fmt is not None:
            ws.write_blank(row, col, None, fmt)
        return
    if isinstance(value, (bool, np.bool_)):
        ws.write_boolean(row, col, bool(value), text_fmt)
    elif isinstance(value, (int, float, np.integer, np.floating)):
        v = float(value)
        if math.isfinite(v):
            ws.write_number(row, col, v, fmt)
        elif fmt is not None:
            ws.write_blank(row, col, None, fmt)
    elif isinstance(value, (pd.Timestamp, _dt.datetime, _dt.date, np.datetime64)):
        ts = pd.Timestamp(value)
        if ts.tzinfo is not None:
            ts = ts.tz_convert("UTC").tz_localize(None)
        ws.write_number(row, col, float(xlsx_sheet.excel_serial([ts.to_datetime64()])[0]), fmt)
    else:
        ws.write_string(row, col, str(value)[:xlsx_sheet.EXCEL_MAX_TEXT], text_fmt)


def write_cover(wb, ws, st: Styles, df, names, *, title, source, filters_text, notes, flag: str | None,
                cost_basis: str = "") -> None:
    """Fill worksheet *ws* as the cover: title, checks flag (*flag*: the Checks sheet's master cell,
    None when there is no Checks sheet), data source, cost basis, run count, period (first start to
    last end, UTC), filters in force, when and by which version it was made, *notes* (warnings
    in red), a linked contents list of the sheets *names* with their :data:`SHEET_TITLES`, and how
    to read it (units: USD, GB with 1 TB = 1,000 GB, minutes, UTC; the year/month/week conventions).
    *df* is the canonical run table the workbook holds.
    """
    ws.hide_gridlines(2)
    ws.set_column(0, 0, 3)
    ws.set_column(1, 1, 24)
    ws.set_column(2, 2, 100)
    ws.write_string(1, 1, title or "ETL Desk", st.title)
    ws.write_string(2, 1, "Where does the money go, what do failures cost, and which fix pays back first.",
                    st.subtitle)
    if flag is not None:
        ws.write_string(3, 1, "Workbook checks", st.label)
        flag_cell(wb, ws, st, 3, 2, flag)
    made = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z").strip()
    span = ""
    if len(df):
        t0, t1 = df["start_time"].min(), df["end_time"].max()
        if pd.notna(t0) and pd.notna(t1):
            span = f"{fmt.from_to(f'{t0:%Y-%m-%d %H:%M}', f'{t1:%Y-%m-%d %H:%M}')} (UTC)"
    rows = [("Data source", source or df.attrs.get("source", "") or "(not saved to a file)"),
            ("Cost basis", cost_basis or "—"), ("Runs", f"{len(df):,}"),
            ("Period", span or "—"), ("Filters in force", filters_text or "None: all runs"), ("Made", made),
            ("Made by", f"ETL Desk {app_version()}")]
    r = 5
    for label, value in rows:
        ws.write_string(r, 1, label, st.label)
        ws.write_string(r, 2, str(value), st.wrap_plain)
        r += 1
    for note in notes:
        ws.write_string(r, 1, "Note", st.warn)
        ws.write_string(r, 2, note, st.warn)
        ws.set_row(r, wrapped_height(note, 100))
        r += 1
    r += 1
    ws.write_string(r, 1, "Contents", st.h2)
    ws.write_blank(r, 2, None, st.h2)
    r += 1
    for name in names:
        if name == "Cover":
            continue
        base = DATA_SHEET if name.startswith(DATA_SHEET + " (") else name
        ws.write_url(r, 1, f"internal:{quote(name)}!A1", st.link, string=name, tip=f"Go to {name}")
        ws.write_string(r, 2, SHEET_TITLES.get(base, ""), st.plain)
        r += 1
    r += 1
    ws.write_string(r, 1, "How to read it", st.h2)
    ws.write_blank(r, 2, None, st.h2)
    r += 1
    howto = [
        "Money is US dollars; data volumes are GB (1 TB = 1,000 GB); durations are minutes; times are UTC.",
        "Inputs are blue text on a yellow background (Assumptions sheet): change one and every figure follows. "
        "All other cells are locked (Review > Unprotect sheet; no password).",
        "Year = 365 days, month = year / 12, week = 7 days; a person-year is 50 working weeks.",
        "Assumed lines (storage bill, engineer time on failures) are marked in red and count only once confirmed.",
    ]
    if has_values(df, "result_state"):
        howto.append("A run counts as failed when Databricks reports it failed, timed out or (by default) cancelled.")
    for line in howto:
        ws.write_string(r, 2, line, st.wrap_plain)
        ws.set_row(r, wrapped_height(line, 100))
        r += 1
    print_setup(ws, title="Cover")


def _kpi_formulas(data: DataRefs, cells: dict[str, str]) -> dict[str, str]:
    """KPI key -> formula over the Runs table (only for keys the data supports)."""
    c = data.col
    cost = c("Cost (USD)")
    f = {"runs": f"=ROWS({c('Job ID')})", "failed_runs": f'=COUNTIFS({c("Job Status")},"Failed")',
         "total_cost_usd": f"=SUM({cost})", "failed_cost_usd": f'=SUMIFS({cost},{c("Job Status")},"Failed")'}
    R = cells
    f["success_rate"] = f'=IF({R["runs"]}=0,"n/a",({R["runs"]}-{R["failed_runs"]})/{R["runs"]})'
    f["failure_rate"] = f'=IF({R["runs"]}=0,"n/a",{R["failed_runs"]}/{R["runs"]})'
    f["failed_cost_share"] = f'=IF({R["total_cost_usd"]}=0,"n/a",{R["failed_cost_usd"]}/{R["total_cost_usd"]})'
    f["avg_cost_success_usd"] = (f'=IF({R["runs"]}-{R["failed_runs"]}=0,"n/a",({R["total_cost_usd"]}-'
                                 f'{R["failed_cost_usd"]})/({R["runs"]}-{R["failed_runs"]}))')
    f["avg_cost_failed_usd"] = f'=IF({R["failed_runs"]}=0,"n/a",{R["failed_cost_usd"]}/{R["failed_runs"]})'
    if data.has("Duration (min)"):
        for k, q in (("duration_p50_min", 0.5), ("duration_p90_min", 0.9), ("duration_p95_min", 0.95)):
            f[k] = f"=PERCENTILE({c('Duration (min)')},{q})"
    if data.has("Attempt"):
        f["retry_runs"] = f'=COUNTIFS({c("Attempt")},">1")'
        f["retry_cost_usd"] = f'=SUMIFS({cost},{c("Attempt")},">1")'
    if data.has("Data Processed (GB)"):
        gb = c("Data Processed (GB)")
        f["total_tb"] = f"=SUM({gb})/1000"
        f["cost_per_tb_usd"] = f'=IF(SUM({gb})=0,"n/a",SUMPRODUCT({cost}*ISNUMBER({gb}))/(SUM({gb})/1000))'
    if data.has("Start Time") and data.has("End Time"):
        f["first_start"] = f"=MIN({c('Start Time')})"
        f["last_end"] = f"=MAX({c('End Time')})"
        f["span_days"] = f"={R['last_end']}-{R['first_start']}"
    return f


def write_kpis(ws, st: Styles, kpis: dict, data: DataRefs) -> None:
    """Fill worksheet *ws* with the KPI table: KPI, value, how it is computed.

    *kpis*: :func:`etl_desk.core.insights.kpis.compute_kpis`'s dict (nested values are skipped).
    Where *data* holds every run the value is a live formula over the Data table (``COUNTIFS``,
    ``SUMIFS``, ``PERCENTILE`` (linear, like numpy's default); cost per TB over the runs with a
    known volume, 1 TB = 1,000 GB) with the app's value cached; else the value. A KPI the app
    could not compute (None) is written as ``"n/a"`` with the reason, never as 0.
    """
    ws.hide_gridlines(2)
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 22)
    ws.set_column(2, 2, 70)
    ws.write_row(0, 0, ("KPI", "Value", "How it is computed"), st.header)
    explain = {
        "success_rate": "Share of runs that succeeded", "failed_cost_share": "Failed-run cost over total cost",
        "cost_per_tb_usd": "Cost of the runs with a known volume over their volume (1 TB = 1,000 GB)",
        "retry_runs": "Runs with attempt > 1", "span_days": "From the first start to the last end",
        "duration_p50_min": "PERCENTILE (linear) of Duration (min)", "duration_p95_min": "PERCENTILE (linear)",
    }
    keys = [k for k in ordered_kpis(kpis) if not isinstance(kpis[k], (dict, list, tuple))]
    cells = {k: f"B{i + 2}" for i, k in enumerate(keys)}
    formulas = _kpi_formulas(data, cells) if data.complete else {}
    for i, key in enumerate(keys):
        r = i + 1
        v = kpis[key]
        unit = kpi_unit(key)
        ws.write_string(r, 0, kpi_label(key), st.text)
        fmt = st.big[unit] if unit in st.big else st.text
        note = explain.get(key, "")
        if key in formulas and v is not None:  # the app's "n/a" (e.g. a cost unknown) stays "n/a"
            cached = v
            if unit == "datetime" and v is not None:
                cached = float(xlsx_sheet.excel_serial([pd.Timestamp(v).to_datetime64()])[0])
            ws.write_formula(r, 1, formulas[key], fmt, "n/a" if cached is None else cached)
            note = (note + "; " if note else "") + "formula over the Data sheet"
        elif v is None:
            ws.write_string(r, 1, "n/a", st.text)
            note = ("No data-volume column in this source" if key == "cost_per_tb_usd" else
                    "No attempt or retry column in this source: retries are unknown, not 0"
                    if key in ("retry_runs", "retry_cost_usd") and kpis.get("retry_runs") is None else
                    "Cannot be computed from these runs")
        elif unit == "datetime":
            write_value(ws, r, 1, pd.Timestamp(v), fmt)
        elif isinstance(v, str):
            ws.write_string(r, 1, v, st.text)
        else:
            write_value(ws, r, 1, v, fmt)
        ws.write_string(r, 2, note, st.wrap)
    ws.freeze_panes(1, 0)
    print_setup(ws, header_rows=0, landscape=False, title="KPIs")


def write_frame(ws, st: Styles, frame: pd.DataFrame, row: int, col: int = 0, *, units: dict | None = None,
                max_rows: int | None = None, widths: list[float] | None = None) -> int:
    """A small DataFrame as a bordered block (header + rows), formats from *units*; returns the next free row."""
    cols = [str(c) for c in frame.columns]
    units = units or {}
    measure_value = cols == ["Measure", "Value"]
    for j, c in enumerate(cols):
        ws.write_string(row, col + j, c, st.header)
        if widths is not None and col + j < len(widths):
            widths[col + j] = max(widths[col + j], min(40, len(c) + 2))
    body = frame if max_rows is None else frame.iloc[:max_rows]
    for i, values in enumerate(body.itertuples(index=False, name=None)):
        for j, v in enumerate(values):
            c = cols[j]
            unit = units.get(str(values[0])) if measure_value and c == "Value" else units.get(c)
            if unit is None and isinstance(v, (pd.Timestamp, _dt.date, np.datetime64)):
                unit = "date"
            fmt = st.unit(unit) if unit else (st.num["number"] if isinstance(v, (float, np.floating)) else st.text)
            write_value(ws, row + 1 + i, col + j, v, fmt, st.text)
            if widths is not None and col + j < len(widths) and isinstance(v, str):
                widths[col + j] = max(widths[col + j], min(50, len(v) + 2))
    end = row + 1 + len(body)
    if max_rows is not None and len(frame) > max_rows:
        ws.write_string(end, col, f"… {len(frame) - max_rows:,} more rows not shown", st.note)
        end += 1
    return end


def write_insights(ws, st: Styles, analysis) -> None:
    """Fill worksheet *ws* with *analysis*'s insights (an :class:`~etl_desk.core.insights.analysis.Analysis`
    or anything with an ``insights`` list): one row per finding (area, severity, title, headline
    with what was not computed, verdict), then each non-empty evidence DataFrame (first 50 rows)
    with number formats from the insight's ``units``. No insights: one line saying so.
    """
    ws.hide_gridlines(2)
    insights = list(getattr(analysis, "insights", None) or [])
    ws.write_string(0, 0, "Insights", st.title)
    if not insights:
        ws.write_string(2, 0, "No insights: the analysis could not be computed when this workbook was made.",
                        st.note)
        ws.set_column(0, 0, 100)
        print_setup(ws, title="Insights")
        return
    widths = [16, 12, 34, 90, 12, 12, 12, 12]
    r = 2
    for j, h in enumerate(("Area", "Severity", "Finding", "Headline", "Verdict")):
        ws.write_string(r, j, h, st.header)
    r += 1
    for ins in insights:
        ws.write_string(r, 0, str(ins.area), st.text)
        ws.write_string(r, 1, str(ins.severity), st.severity.get(ins.severity, st.text))
        ws.write_string(r, 2, str(ins.title), st.wrap)
        headline = str(ins.headline)
        if ins.missing:
            headline = f"{headline} (Not computed: {ins.missing})" if headline else f"Not computed: {ins.missing}"
        ws.write_string(r, 3, headline, st.wrap)
        ws.write_string(r, 4, str(ins.verdict or ""), st.text)
        ws.set_row(r, max(wrapped_height(headline, 90), wrapped_height(ins.title, 34)))
        r += 1
    r += 2
    for ins in insights:
        ev = ins.evidence
        if not isinstance(ev, pd.DataFrame) or ev.empty:
            continue
        ws.write_string(r, 0, str(ins.title), st.h2)
        for j in range(1, 4):
            ws.write_blank(r, j, None, st.h2)
        r += 1
        frame = ev.reset_index(drop=not any(n is not None for n in ev.index.names))
        r = write_frame(ws, st, frame, r, 0, units=ins.units, max_rows=50, widths=widths) + 1
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    ws.freeze_panes(3, 0)
    print_setup(ws, title="Insights")
