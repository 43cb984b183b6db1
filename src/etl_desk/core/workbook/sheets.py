"""The workbook's report sheets: cover, KPIs, insights and anomalies, with shared formats."""
from __future__ import annotations

import datetime as _dt
import math

import numpy as np
import pandas as pd

from etl_desk.core.data import xlsx_sheet
from etl_desk.core.data.xlsx_book import DATA_SHEET, app_version, print_setup
from etl_desk.core.insights.kpis import kpi_format, kpi_label, ordered_kpis

SHEET_TITLES = {
    "Cover": "Title, data source, filters and contents",
    "Assumptions": "Every business-case assumption, with its unit and rationale (edit here)",
    "Business Case": "Investment, maintenance, savings, payback, ROI and NPV as live formulas",
    "KPIs": "Headline numbers of the runs in this workbook",
    "Insights": "Findings with their numbers and evidence",
    "Anomalies": "Runs flagged by the anomaly rules, with rule and threshold",
    "Charts": "Cost, data processed and duration by status; cumulative cost",
    "Data": "Every run as an Excel table (filter and sort in place)",
}


def finite(x) -> bool:
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
    elif isinstance(value, (pd.Timestamp, _dt.datetime, np.datetime64)):
        ts = pd.Timestamp(value)
        if ts.tzinfo is not None:
            ts = ts.tz_convert("UTC").tz_localize(None)
        ws.write_number(row, col, float(xlsx_sheet.excel_serial([ts.to_datetime64()])[0]), fmt)
    else:
        ws.write_string(row, col, str(value)[:xlsx_sheet.EXCEL_MAX_TEXT], text_fmt)


def sheet_ref(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


EXCEL_FORMATS = {
    "usd": "$#,##0.00", "int": "#,##0", "pct": "0.00%", "min": '#,##0.0" min"', "tb": '#,##0.00" TB"',
    "days": '#,##0.0" days"', "gb": "#,##0.00", "num": "#,##0.00", "date": "yyyy-mm-dd hh:mm:ss",
}


def column_format(name: str, series: pd.Series | None = None) -> str | None:
    """Guess an Excel number format from a column name of an evidence or anomaly table."""
    n = str(name).lower()
    if series is not None and pd.api.types.is_datetime64_any_dtype(series.dtype):
        return "date"
    if series is not None and not pd.api.types.is_numeric_dtype(series.dtype):
        return None
    if series is not None and pd.api.types.is_bool_dtype(series.dtype):
        return None
    if any(t in n for t in ("usd", "cost", "$", "saving", "spend")):
        return "usd"
    if any(t in n for t in ("share", "rate", "pct", "%", "fraction")) and "per" not in n:
        return "pct"
    if "_min" in n or "(min)" in n or "minutes" in n or "duration" in n:
        return "num"
    if "gb" in n or "tb" in n:
        return "gb"
    if series is not None and pd.api.types.is_integer_dtype(series.dtype):
        return "int"
    if n in ("runs", "count", "n", "failed", "failed_runs") or n.endswith(("_runs", " runs", "count")):
        return "int"
    return "num"


class Formats:
    def __init__(self, wb):
        add = wb.add_format
        self.title = add({"bold": True, "font_size": 18, "font_color": "#1F3864"})
        self.subtitle = add({"italic": True, "font_color": "#595959"})
        self.h2 = add({"bold": True, "font_size": 13, "font_color": "#1F3864", "bottom": 1,
                       "bottom_color": "#1F3864"})
        self.label = add({"bold": True, "valign": "top"})
        self.text = add({"text_wrap": True, "valign": "top"})
        self.plain = add({"valign": "top"})
        self.link = add({"font_color": "#0563C1", "underline": 1})
        self.header = add({"bold": True, "bg_color": "#1F3864", "font_color": "#FFFFFF", "border": 1,
                           "border_color": "#BFBFBF", "text_wrap": True, "valign": "top"})
        self.cell = add({"border": 1, "border_color": "#D9D9D9", "valign": "top"})
        self.cell_wrap = add({"border": 1, "border_color": "#D9D9D9", "valign": "top", "text_wrap": True})
        self.note = add({"italic": True, "font_color": "#7F7F7F", "text_wrap": True, "valign": "top"})
        self.warn = add({"bold": True, "font_color": "#C00000", "text_wrap": True})
        self.num = {k: add({"num_format": v, "border": 1, "border_color": "#D9D9D9", "valign": "top"})
                    for k, v in EXCEL_FORMATS.items()}
        self.big = {k: add({"num_format": v, "font_size": 12, "bold": True, "border": 1,
                            "border_color": "#D9D9D9"}) for k, v in EXCEL_FORMATS.items()}
        self.severity = {
            "critical": add({"bold": True, "font_color": "#FFFFFF", "bg_color": "#C00000", "border": 1,
                             "align": "center", "valign": "top"}),
            "warning": add({"bold": True, "bg_color": "#F4B183", "border": 1, "align": "center",
                            "valign": "top"}),
            "notice": add({"bg_color": "#FFE699", "border": 1, "align": "center", "valign": "top"}),
            "info": add({"bg_color": "#DDEBF7", "border": 1, "align": "center", "valign": "top"}),
        }


def write_cover(ws, fm: Formats, df, names, *, title, source, filters_text, notes, analysis) -> None:
    ws.hide_gridlines(2)
    ws.set_column(0, 0, 3)
    ws.set_column(1, 1, 24)
    ws.set_column(2, 2, 90)
    ws.write_string(1, 1, title or "ETL Desk", fm.title)
    ws.write_string(2, 1, "Where does the money go, what do failures cost, and which fix pays back first.",
                    fm.subtitle)
    made = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z").strip()
    span = ""
    if len(df):
        t0, t1 = df["start_time"].min(), df["end_time"].max()
        if pd.notna(t0) and pd.notna(t1):
            span = f"{t0:%Y-%m-%d %H:%M} to {t1:%Y-%m-%d %H:%M} (UTC)"
    rows = [
        ("Data source", source or df.attrs.get("source", "") or "(not saved to a file)"),
        ("Runs", f"{len(df):,}"),
        ("Period", span or "—"),
        ("Filters in force", filters_text or "None: all runs"),
        ("Made", made),
        ("Made by", f"ETL Desk {app_version()}"),
    ]
    r = 4
    for label, value in rows:
        ws.write_string(r, 1, label, fm.label)
        ws.write_string(r, 2, str(value), fm.text)
        r += 1
    for note in notes:
        ws.write_string(r, 1, "Note", fm.warn)
        ws.write_string(r, 2, note, fm.warn)
        r += 1
    r += 1
    ws.write_string(r, 1, "Contents", fm.h2)
    ws.write_blank(r, 2, None, fm.h2)
    r += 1
    for name in names:
        if name == "Cover":
            continue
        base = DATA_SHEET if name.startswith(DATA_SHEET + " (") else name
        ws.write_url(r, 1, f"internal:{sheet_ref(name)}!A1", fm.link, string=name,
                     tip=f"Go to {name}")
        ws.write_string(r, 2, SHEET_TITLES.get(base, ""), fm.plain)
        r += 1
    r += 1
    ws.write_string(r, 1, "How to read it", fm.h2)
    ws.write_blank(r, 2, None, fm.h2)
    r += 1
    howto = [
        "Money is US dollars; data volumes are GB (1 TB = 1,000 GB); durations are minutes; times are UTC.",
        "Blue cells on the Assumptions sheet are inputs: change one and every Business Case figure follows.",
        "A run counts as failed when Databricks reports it failed, timed out or (by default) cancelled.",
    ]
    for line in howto:
        ws.write_string(r, 2, line, fm.text)
        r += 1
    print_setup(ws, title="Cover")


def write_kpis(ws, fm: Formats, kpis: dict, df) -> None:
    ws.hide_gridlines(2)
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 20)
    ws.set_column(2, 2, 70)
    ws.write_string(0, 0, "KPI", fm.header)
    ws.write_string(0, 1, "Value", fm.header)
    ws.write_string(0, 2, "Note", fm.header)
    explain = {
        "success_rate": "Share of runs that succeeded",
        "failed_cost_share": "Failed-run cost over total cost",
        "cost_per_tb_usd": "Cost of the runs with a known volume over their volume (1 TB = 1,000 GB)",
        "retry_runs": "Runs with attempt > 1",
        "span_days": "From the first start to the last end",
    }
    r = 1
    for key in ordered_kpis(kpis):
        v = kpis[key]
        if isinstance(v, (dict, list, tuple)):
            continue
        kind = kpi_format(key)
        ws.write_string(r, 0, kpi_label(key), fm.cell)
        if v is None:
            ws.write_string(r, 1, "n/a", fm.cell)
            if key == "cost_per_tb_usd":
                ws.write_string(r, 2, "No data-volume column in this source", fm.cell_wrap)
            else:
                ws.write_string(r, 2, "Cannot be computed from these runs", fm.cell_wrap)
        elif kind == "text" or isinstance(v, str):
            ws.write_string(r, 1, str(v), fm.cell)
            ws.write_string(r, 2, explain.get(key, ""), fm.cell_wrap)
        else:
            fmt = {"int": "int", "usd": "usd", "pct": "pct", "min": "min", "tb": "tb", "days": "days"}.get(kind, "num")
            write_value(ws, r, 1, v, fm.big[fmt])
            ws.write_string(r, 2, explain.get(key, ""), fm.cell_wrap)
        r += 1
    ws.freeze_panes(1, 0)
    print_setup(ws, header_rows=0, landscape=False, title="KPIs")


def write_frame(ws, fm: Formats, frame: pd.DataFrame, row: int, col: int = 0, *, max_rows: int | None = None,
                 widths: list[float] | None = None) -> int:
    """A small DataFrame as a bordered block (header + rows); returns the next free row."""
    cols = [str(c) for c in frame.columns]
    for j, c in enumerate(cols):
        ws.write_string(row, col + j, c, fm.header)
        if widths is not None and col + j < len(widths):
            widths[col + j] = max(widths[col + j], min(40, len(c) + 2))
    body = frame if max_rows is None else frame.iloc[:max_rows]
    kinds = [column_format(c, frame[c]) for c in frame.columns]
    for i, values in enumerate(body.itertuples(index=False, name=None)):
        for j, v in enumerate(values):
            kind = kinds[j]
            write_value(ws, row + 1 + i, col + j, v, fm.num[kind] if kind else fm.cell, fm.cell)
            if widths is not None and col + j < len(widths) and isinstance(v, str):
                widths[col + j] = max(widths[col + j], min(50, len(v) + 2))
    end = row + 1 + len(body)
    if max_rows is not None and len(frame) > max_rows:
        ws.write_string(end, col, f"… {len(frame) - max_rows:,} more rows not shown", fm.note)
        end += 1
    return end


def write_insights(ws, fm: Formats, analysis) -> None:
    ws.hide_gridlines(2)
    insights = list(getattr(analysis, "insights", None) or [])
    ws.write_string(0, 0, "Insights", fm.title)
    if not insights:
        ws.write_string(2, 0, "No insights: the analysis module was not available when this workbook was made.",
                        fm.note)
        ws.set_column(0, 0, 100)
        print_setup(ws, title="Insights")
        return
    # summary table, then one block per insight with its evidence
    widths = [14, 12, 34, 90, 12, 12, 12, 12]
    r = 2
    for j, h in enumerate(("Area", "Severity", "Finding", "Headline", "Verdict")):
        ws.write_string(r, j, h, fm.header)
    r += 1
    for ins in insights:
        ws.write_string(r, 0, str(getattr(ins, "area", "")), fm.cell)
        sev = str(getattr(ins, "severity", "info"))
        ws.write_string(r, 1, sev, fm.severity.get(sev, fm.cell))
        ws.write_string(r, 2, str(getattr(ins, "title", "")), fm.cell_wrap)
        headline = str(getattr(ins, "headline", ""))
        missing = getattr(ins, "missing", None)
        if missing:
            headline = f"{headline} (Not computed: {missing})" if headline else f"Not computed: {missing}"
        ws.write_string(r, 3, headline, fm.cell_wrap)
        ws.write_string(r, 4, str(getattr(ins, "verdict", None) or ""), fm.cell)
        ws.set_row(r, 15 * max(1, math.ceil(len(headline) / 95)))
        r += 1
    r += 2
    for ins in insights:
        ev = getattr(ins, "evidence", None)
        if not isinstance(ev, pd.DataFrame) or ev.empty:
            continue
        ws.write_string(r, 0, str(getattr(ins, "title", "")), fm.h2)
        for j in range(1, 4):
            ws.write_blank(r, j, None, fm.h2)
        r += 1
        r = write_frame(ws, fm, ev.reset_index(drop=not _named_index(ev)), r, 0, max_rows=50, widths=widths) + 1
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    ws.freeze_panes(3, 0)
    print_setup(ws, title="Insights")


def _named_index(frame: pd.DataFrame) -> bool:
    return any(n is not None for n in frame.index.names)


ANOMALY_COLUMNS = ("run_id", "pipeline", "rule", "metric", "observed", "baseline", "threshold", "score", "detail")


def write_anomalies(ws, fm: Formats, analysis) -> None:
    an = getattr(analysis, "anomalies", None)
    ws.write_string(0, 0, "Anomalies", fm.title)
    if not isinstance(an, pd.DataFrame):
        ws.write_string(2, 0, "No anomaly detection: the analysis module was not available.", fm.note)
        ws.set_column(0, 0, 80)
        print_setup(ws, title="Anomalies")
        return
    cols = [c for c in ANOMALY_COLUMNS if c in an.columns] + [c for c in an.columns if c not in ANOMALY_COLUMNS]
    frame = an[cols]
    headers = {"run_id": "Job ID", "pipeline": "Pipeline", "rule": "Rule", "metric": "Metric",
               "observed": "Observed", "baseline": "Baseline", "threshold": "Threshold", "score": "Score",
               "detail": "Detail"}
    ws.write_string(1, 0, f"{len(frame):,} flagged runs. Each row names the rule that flagged it, the measured "
                    "value, the pipeline's own baseline and the threshold the rule applies.", fm.subtitle)
    top = 3
    if frame.empty:
        ws.write_string(top, 0, "No run was flagged.", fm.note)
        ws.set_column(0, 0, 60)
        print_setup(ws, title="Anomalies")
        return
    num = {"observed": "num", "baseline": "num", "threshold": "num", "score": "num"}
    fmts = {c: fm.num[num[c]] for c in num}
    widths = []
    for j, c in enumerate(cols):
        s = frame[c]
        if c in ("observed", "baseline", "threshold", "score"):
            w = 12
        else:
            lens = s.dropna().astype(str).str.len()
            w = int(lens.quantile(0.95)) + 2 if len(lens) else 10
        widths.append(min(max(w, len(headers.get(c, c)) + 4, 10), 70))
    for i, values in enumerate(frame.itertuples(index=False, name=None)):
        for j, v in enumerate(values):
            c = cols[j]
            if c in fmts and finite(v):
                ws.write_number(top + 1 + i, j, float(v), fmts[c])
            else:
                write_value(ws, top + 1 + i, j, v, fm.num.get(column_format(c, frame[c]) or "", None))
    ws.add_table(top, 0, top + len(frame), len(cols) - 1, {
        "name": "Anomalies", "style": "Table Style Light 9", "autofilter": True,
        "columns": [{"header": headers.get(c, str(c))} for c in cols]})
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    ws.freeze_panes(top + 1, 0)
    print_setup(ws, header_rows=top, title="Anomalies")
