"""The workbook for finance: data and findings in one .xlsx, written with XlsxWriter.

:func:`export_workbook` writes, in this order:

==================  ==================================================================
sheet               content
==================  ==================================================================
Cover               title, data source, when and by which version, filters in force,
                    notes, contents with a link to every sheet
Assumptions         every business-case assumption with a defined name (assumptions_sheet)
Business Case       live formulas on the Assumptions names, with cached values (case_sheet)
KPIs                the headline numbers with Excel number formats
Insights            headline, severity, verdict and evidence table of each insight
Anomalies           rule, metric, observed, baseline, threshold, score per flagged run
Charts              native Excel charts: cost, data processed and duration per run by
                    status, cost per day/week/month by status, cumulative cost of doing
                    nothing against the portfolio
Chargeback,         when trends are given (trends_sheets): cost by tag/workspace/SKU with
Forecast, Drift     untagged spend; daily forecast with bands, backtest and budget chart;
                    drifting pipelines
Data                every run as an Excel table (``Data (2)``, ... when split)
_etl_desk           hidden: format version, canonical column names, assumptions as JSON,
                    exact sub-millisecond times -- what :mod:`etl_desk.core.data.xlsx_read` needs to
                    restore the DataFrame and the assumptions exactly
==================  ==================================================================

Safety: text is always written with ``write_string`` (a job named
``=HYPERLINK(...)`` stays text), the file is written to a temporary file in the
target folder and renamed into place (:func:`etl_desk.core.files.atomic_write`), so a failure
or a cancel leaves any previous file untouched.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from etl_desk.core.business_case.results import Results
from etl_desk.core.data.schema import informative_columns
from etl_desk.core.data.xlsx_book import (
    META_SHEET,
    data_sheet_names,
    open_book,
    print_setup,
    row_plan,
    write_atomically,
    write_data_sheets,
    write_meta_sheet,
)
from etl_desk.core.errors import DataError
from etl_desk.core.insights.kpis import compute_kpis
from etl_desk.core.insights.trends import Trends
from etl_desk.core.tasks import CancelFn, Cancelled, ProgressFn
from etl_desk.core.workbook.assumptions_sheet import write_assumptions_sheet
from etl_desk.core.workbook.case_sheet import write_business_case_sheet
from etl_desk.core.workbook.charts import write_charts
from etl_desk.core.workbook.sheets import Formats, write_anomalies, write_cover, write_insights, write_kpis
from etl_desk.core.workbook.trends_sheets import write_trend_sheets


@dataclass
class ExportResult:
    """What :func:`export_workbook` wrote: sheet names, runs in the data and on the Data sheets, time taken (s)."""

    path: Path
    sheets: list[str]
    rows_total: int
    rows_written: int
    data_sheets: list[str]
    truncated: bool = False
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def export_workbook(path: str | os.PathLike, df: pd.DataFrame, results: Results, *,
                    source: str = "", filters_text: str = "", progress: ProgressFn | None = None,
                    cancel: CancelFn | None = None, max_rows_policy: str = "refuse",
                    title: str = "ETL job runs: cost, failures and the business case",
                    trends: Trends | None = None) -> ExportResult:
    """Write the workbook for finance to *path* (atomically) and return what was written.

    *df* is the canonical table of the runs; *results* their analysis and business case
    (:func:`etl_desk.core.business_case.results.compute_results` of the same runs): the
    workbook renders them and computes nothing itself. ``progress(fraction)`` is called
    while the Data sheet is written; ``cancel()`` returning True raises
    :class:`etl_desk.core.tasks.Cancelled`. More runs than an Excel sheet holds raise
    :class:`~etl_desk.core.data.xlsx_book.TooManyRowsError` (a DataError) unless
    *max_rows_policy* is ``"truncate"`` or ``"split"``; a path without ``.xlsx`` or a
    folder that cannot be written raises :class:`DataError`. *trends*
    (:func:`etl_desk.core.insights.trends.compute_trends` of the same runs) adds the
    Chargeback, Forecast and Drift sheets (:mod:`etl_desk.core.workbook.trends_sheets`).
    """
    t0 = time.perf_counter()
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise DataError("the workbook must have the extension .xlsx", file=str(path))
    n = len(df)
    parts, truncated, notes = row_plan(n, max_rows_policy, str(path))
    if results.case is None:
        why = f" ({results.baseline_error})" if results.baseline_error is not None else ""
        notes.append(f"The business case is not in this workbook: it could not be computed{why}.")
    if cancel is not None and cancel():
        raise Cancelled("export cancelled")
    sheets: list[str] = []

    def write(tmp: str) -> None:
        sheets[:] = _write_book(tmp, df, parts, results, source=source, filters_text=filters_text, notes=notes,
                                progress=progress, cancel=cancel, title=title, truncated=truncated, trends=trends)

    write_atomically(path, write)
    if progress is not None:
        progress(1.0)
    written = sum(b - a for a, b in parts)
    return ExportResult(path=path, sheets=[s for s in sheets if s != META_SHEET], rows_total=n,
                        rows_written=written, data_sheets=data_sheet_names(len(parts)), truncated=truncated,
                        notes=notes, seconds=time.perf_counter() - t0)


def _write_book(tmp: str, df: pd.DataFrame, parts, results: Results, *, source, filters_text, notes, progress,
                cancel, title, truncated, trends=None) -> list[str]:
    cols = informative_columns(df)
    analysis, case = results.analysis, results.case
    with open_book(tmp, title=title or "ETL Desk") as wb:
        fm = Formats(wb)
        cover = wb.add_worksheet("Cover")
        names = ["Cover"]
        cum = None
        if case is not None:
            fin_names = write_assumptions_sheet(wb, results.assumptions, case.baseline)
            cum = write_business_case_sheet(wb, case, fin_names)
            names += ["Assumptions", "Business Case"]
            for sheet in ("Assumptions", "Business Case"):
                ws = wb.get_worksheet_by_name(sheet)
                if ws is not None and not getattr(ws, "fit_page", 0):
                    print_setup(ws, title=sheet)
        kpis = dict(analysis.kpis) if analysis is not None else compute_kpis(df)
        write_kpis(wb.add_worksheet("KPIs"), fm, kpis, df)
        write_insights(wb.add_worksheet("Insights"), fm, analysis)
        write_anomalies(wb.add_worksheet("Anomalies"), fm, analysis)
        charts_ws = wb.add_worksheet("Charts")
        names += ["KPIs", "Insights", "Anomalies", "Charts"]
        names += write_trend_sheets(wb, fm, trends)  # Chargeback, Forecast, Drift (when computed)
        data_names = data_sheet_names(len(parts))
        data_ws = [wb.add_worksheet(s) for s in data_names]
        names += data_names
        write_charts(wb, charts_ws, fm, df, case, cum)
        # data sheets last among the visible ones; the progress spans them
        write_data_sheets(wb, data_ws, df, parts, cols, progress=progress, cancel=cancel)
        write_meta_sheet(wb, df, parts, cols, results.assumptions, source=source, filters_text=filters_text,
                         truncated=truncated, data_names=data_names)
        write_cover(cover, fm, df, names, title=title, source=source, filters_text=filters_text,
                    notes=list(notes), analysis=analysis)
        cover.activate()
    return names + [META_SHEET]
