"""The workbook for finance: data and findings in one .xlsx, written with XlsxWriter.

:func:`export_workbook` writes, in this order:

==================  ==================================================================
sheet               content
==================  ==================================================================
Cover               title, data source, when and by which version, filters in force,
                    notes, contents with a link to every sheet
Assumptions         every business-case assumption with a defined name (finance_xlsx)
Business Case       live formulas on the Assumptions names, with cached values (finance_xlsx)
KPIs                the headline numbers with Excel number formats
Insights            headline, severity, verdict and evidence table of each insight
Anomalies           rule, metric, observed, baseline, threshold, score per flagged run
Charts              native Excel charts: cost, data processed and duration per run by
                    status, cost per day/week/month by status, cumulative cost of doing
                    nothing against the portfolio
Data                every run as an Excel table (``Data (2)``, ... when split)
_etl_desk           hidden: format version, canonical column names, assumptions as JSON,
                    exact sub-millisecond times -- what :mod:`workbook_read` needs to
                    restore the DataFrame and the assumptions exactly
==================  ==================================================================

Safety: text is always written with ``write_string`` (a job named
``=HYPERLINK(...)`` stays text), the file is written to a temporary file in the
target folder and renamed into place (:func:`tables.atomic_write`), so a failure
or a cancel leaves any previous file untouched.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import math
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from . import tables
from .kpis import KPI_DISPLAY, KPI_KEYS, compute_kpis, format_value
from .schema import FAILED, LABELS, STATUS_COLORS, SUCCESS, DataError

#: Version of the workbook layout that :mod:`workbook_read` understands.
FORMAT_VERSION = 1
FORMAT_ID = "etl-desk-workbook"
META_SHEET = "_etl_desk"
DATA_SHEET = "Data"
TABLE_NAME = "Runs"
ROW_POLICIES = ("refuse", "truncate", "split")
#: First row (0-based) of the exact-time block on the hidden sheet; key/value pairs live above it.
META_BLOCK_ROW = 100
META_BLOCK_COL = 4
META_BLOCK_ROWS = 1_000_000
#: Longest text in one cell; longer JSON is continued in the next cells of the row.
_CELL_CHUNK = 30_000
#: Runs charted one by one; more runs are charted as the top N by cost.
CHART_TOP_RUNS = 50

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

ProgressFn = Callable[[float], None]
CancelFn = Callable[[], bool]


class TooManyRowsError(DataError):
    """More runs than one Excel sheet holds; ``max_rows_policy`` 'truncate' or 'split' resolves it."""

    def __init__(self, rows: int, limit: int, file: str | None = None):
        self.rows = rows
        self.limit = limit
        super().__init__(f"{rows:,} runs do not fit in one Excel sheet (at most {limit:,}); "
                         "choose to split them over several Data sheets, keep the first "
                         f"{limit:,}, or filter the data", file=file)


@dataclass
class ExportResult:
    path: Path
    sheets: list[str]
    rows_total: int
    rows_written: int
    data_sheets: list[str]
    truncated: bool = False
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


# --------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------

def _finite(x) -> bool:
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
        ws.write_number(row, col, float(tables.excel_serial([ts.to_datetime64()])[0]), fmt)
    else:
        ws.write_string(row, col, str(value)[:tables.EXCEL_MAX_TEXT], text_fmt)


def _sheet_ref(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def _kpi_format(key: str) -> str:
    if key in KPI_DISPLAY:
        return KPI_DISPLAY[key][1]
    if key.endswith("_usd"):
        return "usd"
    if key.endswith(("_share", "_rate")):
        return "pct"
    if key.endswith("_min"):
        return "min"
    if key in ("runs",) or key.endswith("_runs"):
        return "int"
    return "text"


def _kpi_label(key: str) -> str:
    return KPI_DISPLAY.get(key, (key.replace("_", " ").capitalize(), ""))[0]


def _ordered_kpis(kpis: dict) -> list[str]:
    keys = [k for k in KPI_KEYS if k in kpis]
    return keys + [k for k in kpis if k not in keys]


def kpi_table_text(kpis: dict) -> str:
    """The KPI table as tab-separated text (header line + one line per KPI), for the clipboard."""
    lines = ["KPI\tValue"]
    for key in _ordered_kpis(kpis):
        text = format_value(kpis[key], _kpi_format(key)) if not isinstance(kpis[key], (dict, list)) else ""
        lines.append(f"{_kpi_label(key)}\t{text}".replace("\n", " "))
    return "\n".join(lines) + "\n"


EXCEL_FORMATS = {
    "usd": "$#,##0.00", "int": "#,##0", "pct": "0.00%", "min": '#,##0.0" min"', "tb": '#,##0.00" TB"',
    "days": '#,##0.0" days"', "gb": "#,##0.00", "num": "#,##0.00", "date": "yyyy-mm-dd hh:mm:ss",
}


def _column_format(name: str, series: pd.Series | None = None) -> str | None:
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


# --------------------------------------------------------------------------------------
# the export
# --------------------------------------------------------------------------------------

class _Formats:
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


def _print_setup(ws, *, header_rows: int | None = None, landscape: bool = True, title: str = "") -> None:
    if landscape:
        ws.set_landscape()
    ws.set_paper(9)  # A4; Excel scales to Letter when the printer has no A4
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.5, right=0.5, top=0.7, bottom=0.7)
    ws.set_header(f"&L&8ETL Desk&R&8{title.replace('&', '&&')}")
    ws.set_footer("&L&8&A&R&8Page &P of &N")
    if header_rows is not None:
        ws.repeat_rows(0, header_rows)


def _row_plan(n: int, policy: str, path: str) -> tuple[list[tuple[int, int]], bool, list[str]]:
    """Split the rows over data sheets: list of (start, stop), truncated?, notes."""
    if policy not in ROW_POLICIES:
        raise ValueError(f"max_rows_policy must be one of {ROW_POLICIES}, not {policy!r}")
    cap = tables.EXCEL_MAX_ROWS - 1
    if n <= cap:
        return [(0, n)], False, []
    if policy == "refuse":
        raise TooManyRowsError(n, cap, file=path)
    if policy == "truncate":
        return [(0, cap)], True, [f"Only the first {cap:,} of {n:,} runs are in this workbook "
                                 f"(Excel holds at most {cap:,} rows per sheet); "
                                 "KPIs, insights and the business case use all runs."]
    parts = [(i, min(n, i + cap)) for i in range(0, n, cap)]
    return parts, False, [f"{n:,} runs are more than one Excel sheet holds; they continue over "
                          f"{len(parts)} Data sheets ({cap:,} runs each)."]


def data_sheet_names(parts: int) -> list[str]:
    return [DATA_SHEET] + [f"{DATA_SHEET} ({i})" for i in range(2, parts + 1)]


def export_workbook(path: str | os.PathLike, df: pd.DataFrame, *, analysis=None, assumptions=None, case=None,
                    baseline=None, thresholds=None,
                    source: str = "", filters_text: str = "", progress: ProgressFn | None = None,
                    cancel: CancelFn | None = None, max_rows_policy: str = "refuse",
                    title: str = "ETL job runs: cost, failures and the business case") -> ExportResult:
    """Write the workbook for finance to *path* (atomically) and return what was written.

    *analysis* (``analysis.analyze``), *assumptions* and *case* (``finance``) are
    computed from *df* when not given and their modules are installed: the
    analysis at *thresholds* (``AnomalyThresholds``; the defaults when ``None``),
    the case from *baseline* (``finance.compute_baseline`` of *df*) when given,
    else from a baseline measured on the analysis's anomalies -- anomaly
    detection runs at most once, and the business case's anomaly excess cost
    counts the runs the Anomalies sheet lists.
    ``progress(fraction)`` is called while the Data sheet is written; ``cancel()``
    returning True raises :class:`etl_desk.core.generate.Cancelled`. More runs
    than an Excel sheet holds raise :class:`TooManyRowsError` (a DataError) unless
    *max_rows_policy* is ``"truncate"`` or ``"split"``.
    """
    from .generate import Cancelled

    t0 = time.perf_counter()
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise DataError("the workbook must have the extension .xlsx", file=str(path))
    n = len(df)
    parts, truncated, notes = _row_plan(n, max_rows_policy, str(path))
    if cancel is not None and cancel():
        raise Cancelled("export cancelled")

    analysis, assumptions, case, more_notes = _complete_inputs(df, analysis, assumptions, case,
                                                               baseline=baseline, thresholds=thresholds)
    notes = notes + more_notes
    if cancel is not None and cancel():
        raise Cancelled("export cancelled")

    sheets: list[str] = []

    def write(tmp: str) -> None:
        sheets.clear()
        sheets.extend(_write_book(tmp, df, parts, analysis=analysis, assumptions=assumptions, case=case,
                                  source=source, filters_text=filters_text, notes=notes, progress=progress,
                                  cancel=cancel, title=title, truncated=truncated))

    _atomic(path, write)
    if progress is not None:
        progress(1.0)
    written = sum(b - a for a, b in parts)
    return ExportResult(path=path, sheets=[s for s in sheets if s != META_SHEET], rows_total=n,
                        rows_written=written, data_sheets=data_sheet_names(len(parts)), truncated=truncated,
                        notes=notes, seconds=time.perf_counter() - t0)


def export_data_workbook(path: str | os.PathLike, df: pd.DataFrame, *, progress: ProgressFn | None = None,
                         cancel: CancelFn | None = None, source: str = "") -> None:
    """The data alone: one Data sheet (an Excel table) plus the hidden metadata sheet. Atomic.

    What ``etl-desk generate -o runs.xlsx`` writes; :func:`workbook_read.read_workbook` reopens it exactly.
    """
    path = Path(path)
    n = len(df)
    parts, _, _ = _row_plan(n, "refuse", str(path))

    def write(tmp: str) -> None:
        _write_book(tmp, df, parts, data_only=True, source=source, progress=progress, cancel=cancel)

    _atomic(path, write)


def _atomic(path: Path, write: Callable[[str], None]) -> None:
    try:
        tables.atomic_write(path, write)
    except PermissionError:
        raise DataError("cannot write the workbook: permission denied (the file may be open in another "
                        "program, or the folder is read-only)", file=str(path)) from None
    except OSError as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(f"cannot write the workbook ({exc.strerror or exc})", file=str(path)) from None


def _complete_inputs(df, analysis, assumptions, case, *, baseline=None, thresholds=None):
    notes: list[str] = []
    if analysis is None:
        try:
            from .analysis import analyze
        except ImportError:
            analysis = None
        else:
            analysis = analyze(df, thresholds)
    finance = _finance_modules()
    if finance is not None:
        fin, _ = finance
        if assumptions is None and case is not None and getattr(case, "assumptions", None) is not None:
            assumptions = case.assumptions
        if assumptions is None:
            assumptions = fin.default_assumptions()
        if case is None and baseline is not None:
            case = fin.evaluate(baseline, assumptions)
        elif case is None:
            anomalies = getattr(analysis, "anomalies", None)
            case = fin.business_case(df, assumptions, anomalies=anomalies, thresholds=thresholds)
    else:
        notes.append("The business case is not in this workbook: this installation has no finance model.")
    return analysis, assumptions, case, notes


def _finance_modules():
    try:
        from . import finance, finance_xlsx
    except ImportError:
        return None
    return finance, finance_xlsx


def _write_book(tmp: str, df: pd.DataFrame, parts, *, analysis=None, assumptions=None, case=None,
                source: str = "", filters_text: str = "", notes=(), progress=None, cancel=None,
                title: str = "", truncated: bool = False, data_only: bool = False) -> list[str]:
    import xlsxwriter

    labelled_cols = tables.informative_columns(df)
    with tempfile.TemporaryDirectory(prefix="etl-desk-xlsx-", ignore_cleanup_errors=True) as tmpdir, \
            open(tmp, "wb") as raw:
        # XlsxWriter gets a file object we close ourselves: after a failure or a cancel its
        # half-written zip holds no handle on the temporary file (which must be deleted, also on Windows)
        fh = _Sink(raw)
        wb = xlsxwriter.Workbook(fh, {**tables.XLSX_OPTIONS, "tmpdir": tmpdir})
        wb.set_properties({"title": title or "ETL Desk data", "author": "ETL Desk",
                           "comments": f"Made by ETL Desk {_app_version()}"})
        wb.set_calc_mode("auto")
        fm = _Formats(wb)
        names: list[str] = []
        data_names = data_sheet_names(len(parts))
        if data_only:
            data_ws = [wb.add_worksheet(s) for s in data_names]
            names += data_names
        else:
            cover = wb.add_worksheet("Cover")
            names.append("Cover")
            fin = _finance_modules()
            fin_names = None
            if fin is not None and case is not None:
                _, fx = fin
                fin_names = fx.write_assumptions_sheet(wb, assumptions, _baseline(case))
                names.append("Assumptions")
                cum = fx.write_business_case_sheet(wb, case, fin_names)
                names.append("Business Case")
                for sheet in ("Assumptions", "Business Case"):
                    fws = wb.get_worksheet_by_name(sheet)
                    if fws is not None and not getattr(fws, "fit_page", 0):
                        _print_setup(fws, title=sheet)
            else:
                cum = None
            kpis = dict(getattr(analysis, "kpis", None) or compute_kpis(df))
            _write_kpis(wb.add_worksheet("KPIs"), fm, kpis, df)
            names.append("KPIs")
            _write_insights(wb.add_worksheet("Insights"), fm, analysis)
            names.append("Insights")
            _write_anomalies(wb.add_worksheet("Anomalies"), fm, analysis)
            names.append("Anomalies")
            charts_ws = wb.add_worksheet("Charts")
            names.append("Charts")
            data_ws = [wb.add_worksheet(s) for s in data_names]
            names += data_names
            _write_charts(wb, charts_ws, fm, df, case, cum)
        # data sheets last among the visible ones; the progress spans them
        total = max(1, sum(b - a for a, b in parts))
        done = 0
        for k, ((a, b), ws) in enumerate(zip(parts, data_ws)):
            part = df.iloc[a:b]
            labelled = tables.labelled_frame(part, labelled_cols)
            offset, size = done, b - a

            def prog(f, offset=offset, size=size):
                if progress is not None:
                    progress(0.98 * (offset + f * size) / total)

            tables.write_data_sheet(wb, ws, labelled, table_name=TABLE_NAME if k == 0 else f"{TABLE_NAME}_{k + 1}",
                                    progress=prog, cancel=cancel)
            _print_setup(ws, header_rows=0, title=ws.name)
            done += size
        meta = wb.add_worksheet(META_SHEET)
        _write_meta(wb, meta, df, parts, labelled_cols, assumptions, source=source, filters_text=filters_text,
                    truncated=truncated, data_names=data_names)
        meta.hide()
        if not data_only:
            _write_cover(cover, fm, df, names, title=title, source=source, filters_text=filters_text,
                         notes=list(notes), analysis=analysis)
            cover.activate()
        wb.close()
    return names + [META_SHEET]


class _Sink:
    """A binary file proxy that turns into a no-op once the real file is closed."""

    def __init__(self, fh):
        self._fh = fh

    def write(self, b):
        return 0 if self._fh.closed else self._fh.write(b)

    def tell(self):
        return 0 if self._fh.closed else self._fh.tell()

    def seek(self, *args):
        return 0 if self._fh.closed else self._fh.seek(*args)

    def flush(self):
        if not self._fh.closed:
            self._fh.flush()

    def seekable(self):
        return True


def _app_version() -> str:
    from etl_desk import __version__

    return __version__


def _baseline(case):
    return getattr(case, "baseline", None)


# --------------------------------------------------------------------------------------
# sheets
# --------------------------------------------------------------------------------------

def _write_cover(ws, fm: _Formats, df, names, *, title, source, filters_text, notes, analysis) -> None:
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
        ("Made by", f"ETL Desk {_app_version()}"),
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
        ws.write_url(r, 1, f"internal:{_sheet_ref(name)}!A1", fm.link, string=name,
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
    _print_setup(ws, title="Cover")


def _write_kpis(ws, fm: _Formats, kpis: dict, df) -> None:
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
    for key in _ordered_kpis(kpis):
        v = kpis[key]
        if isinstance(v, (dict, list, tuple)):
            continue
        kind = _kpi_format(key)
        ws.write_string(r, 0, _kpi_label(key), fm.cell)
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
    _print_setup(ws, header_rows=0, landscape=False, title="KPIs")


def _write_frame(ws, fm: _Formats, frame: pd.DataFrame, row: int, col: int = 0, *, max_rows: int | None = None,
                 widths: list[float] | None = None) -> int:
    """A small DataFrame as a bordered block (header + rows); returns the next free row."""
    cols = [str(c) for c in frame.columns]
    for j, c in enumerate(cols):
        ws.write_string(row, col + j, c, fm.header)
        if widths is not None and col + j < len(widths):
            widths[col + j] = max(widths[col + j], min(40, len(c) + 2))
    body = frame if max_rows is None else frame.iloc[:max_rows]
    kinds = [_column_format(c, frame[c]) for c in frame.columns]
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


def _write_insights(ws, fm: _Formats, analysis) -> None:
    ws.hide_gridlines(2)
    insights = list(getattr(analysis, "insights", None) or [])
    ws.write_string(0, 0, "Insights", fm.title)
    if not insights:
        ws.write_string(2, 0, "No insights: the analysis module was not available when this workbook was made.",
                        fm.note)
        ws.set_column(0, 0, 100)
        _print_setup(ws, title="Insights")
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
        r = _write_frame(ws, fm, ev.reset_index(drop=not _named_index(ev)), r, 0, max_rows=50, widths=widths) + 1
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    ws.freeze_panes(3, 0)
    _print_setup(ws, title="Insights")


def _named_index(frame: pd.DataFrame) -> bool:
    return any(n is not None for n in frame.index.names)


ANOMALY_COLUMNS = ("run_id", "pipeline", "rule", "metric", "observed", "baseline", "threshold", "score", "detail")


def _write_anomalies(ws, fm: _Formats, analysis) -> None:
    an = getattr(analysis, "anomalies", None)
    ws.write_string(0, 0, "Anomalies", fm.title)
    if not isinstance(an, pd.DataFrame):
        ws.write_string(2, 0, "No anomaly detection: the analysis module was not available.", fm.note)
        ws.set_column(0, 0, 80)
        _print_setup(ws, title="Anomalies")
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
        _print_setup(ws, title="Anomalies")
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
            if c in fmts and _finite(v):
                ws.write_number(top + 1 + i, j, float(v), fmts[c])
            else:
                write_value(ws, top + 1 + i, j, v, fm.num.get(_column_format(c, frame[c]) or "", None))
    ws.add_table(top, 0, top + len(frame), len(cols) - 1, {
        "name": "Anomalies", "style": "Table Style Light 9", "autofilter": True,
        "columns": [{"header": headers.get(c, str(c))} for c in cols]})
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    ws.freeze_panes(top + 1, 0)
    _print_setup(ws, header_rows=top, title="Anomalies")


# --------------------------------------------------------------------------------------
# charts
# --------------------------------------------------------------------------------------

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


def _write_charts(wb, ws, fm: _Formats, df: pd.DataFrame, case, cum) -> None:
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
            if _finite(v):
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
    _print_setup(ws, title="Charts")


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


# --------------------------------------------------------------------------------------
# hidden metadata
# --------------------------------------------------------------------------------------

def assumptions_to_json(assumptions) -> str | None:
    """Assumptions as JSON text (``None`` for none). Uses the finance module's own converters when present."""
    if assumptions is None:
        return None
    payload: Any
    fin = _finance_modules()
    conv = getattr(fin[0], "assumptions_to_dict", None) if fin else None
    if conv is not None:
        payload = {"kind": "finance", "value": conv(assumptions)}
    elif hasattr(assumptions, "to_dict"):
        payload = {"kind": "finance", "value": assumptions.to_dict()}
    elif dataclasses.is_dataclass(assumptions):
        payload = {"kind": "dataclass", "type": f"{type(assumptions).__module__}.{type(assumptions).__qualname__}",
                   "value": dataclasses.asdict(assumptions)}
    else:
        payload = {"kind": "plain", "value": assumptions}
    return json.dumps(payload, ensure_ascii=True, allow_nan=True, sort_keys=False, default=_json_default)


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, (np.bool_,)):
        return bool(o)
    if isinstance(o, (tuple, set, frozenset)):
        return list(o)
    if isinstance(o, (pd.Timestamp, _dt.datetime, _dt.date)):
        return o.isoformat()
    raise TypeError(f"cannot store {type(o).__name__} in the workbook")


def _write_long_text(ws, row: int, key: str, text: str) -> None:
    ws.write_string(row, 0, key)
    chunks = [text[i:i + _CELL_CHUNK] for i in range(0, len(text), _CELL_CHUNK)] or [""]
    for j, c in enumerate(chunks):
        ws.write_string(row, 1 + j, c)


_SPECIAL_TEXT = re.compile(r"_x[0-9A-Fa-f]{4}_")


def _write_meta(wb, ws, df, parts, cols, assumptions, *, source, filters_text, truncated, data_names) -> None:
    n_written = sum(b - a for a, b in parts)
    exact_strings: dict[str, dict[str, str]] = {}
    written = df.iloc[:n_written] if truncated else df
    block = {}
    for name in cols:
        s = written[name]
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            ns = s.to_numpy(dtype="datetime64[ns]").astype(np.int64)
            valid = ~s.isna().to_numpy()
            if (ns[valid] % 1_000_000 != 0).any():
                # time to the nanosecond: whole seconds and nanoseconds as two exact numbers
                block[f"{name}.s"] = np.where(valid, ns // 10**9, np.nan)
                block[f"{name}.ns"] = np.where(valid, ns % 10**9, np.nan)
        elif not pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
            txt = s.astype("string")
            hit = txt.str.contains(_SPECIAL_TEXT, na=False).to_numpy()
            if hit.any():  # text that looks like an Excel _xHHHH_ escape: keep the exact value
                exact_strings[name] = {str(i): str(v) for i, v in zip(np.flatnonzero(hit), txt[hit])}
    meta = {
        "format": FORMAT_ID,
        "format_version": FORMAT_VERSION,
        "app_version": _app_version(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "source": source or str(df.attrs.get("source", "") or ""),
        "filters": filters_text,
        "rows_total": len(df),
        "rows_written": n_written,
        "truncated": truncated,
        "data_sheets": json.dumps([[s, b - a] for s, (a, b) in zip(data_names, parts)]),
        "columns": json.dumps([[LABELS[c], c] for c in cols]),
        "exact_strings": json.dumps(exact_strings, ensure_ascii=True),
    }
    r = 0
    for k, v in meta.items():
        ws.write_string(r, 0, k)
        if isinstance(v, bool):
            ws.write_boolean(r, 1, v)
        elif isinstance(v, (int, float)):
            ws.write_number(r, 1, v)
        else:
            ws.write_string(r, 1, str(v))
        r += 1
    text = assumptions_to_json(assumptions)
    _write_long_text(ws, r, "assumptions", text if text is not None else "null")
    r += 1
    if block:
        # exact times in blocks of META_BLOCK_ROWS rows, side by side, below the key/value pairs
        names = list(block)
        layout = []
        frames = {}
        for p0 in range(0, n_written, META_BLOCK_ROWS):
            p1 = min(n_written, p0 + META_BLOCK_ROWS)
            for name in names:
                frames[f"{name}@{p0}"] = block[name][p0:p1]
                layout.append([name, p0, p1])
        ws.write_string(r, 0, "exact_times")
        ws.write_string(r, 1, json.dumps({"first_row": META_BLOCK_ROW + 1, "first_col": META_BLOCK_COL,
                                          "columns": layout}))
        width = max(len(v) for v in frames.values())
        frame = pd.DataFrame({k: np.pad(v.astype(float), (0, width - len(v)), constant_values=np.nan)
                              for k, v in frames.items()})
        tables.write_plain_block(wb, ws, frame, META_BLOCK_ROW, META_BLOCK_COL)
    ws.set_column(0, 0, 16)
