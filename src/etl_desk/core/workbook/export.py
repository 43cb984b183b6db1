"""The workbook for finance: the decision and its working in one .xlsx, written with XlsxWriter.

:func:`export_workbook` renders the :class:`~etl_desk.core.business_case.results.Results`
it is handed (it computes nothing of its own), in this order:

===================  ==================================================================
sheet                content
===================  ==================================================================
Decision             the question, options ranked by NPV (live), risks, provenance, checks flag
Cover                data source, filters, contents, how to read it, checks flag
Assumptions          every input (named, unlocked), scenario and sensitivity ranges, the
                     measured baseline as formulas over the Data table, assumed lines
Business Case        every figure of every option as live formulas (case_sheet)
Annual cash flows    fiscal-year roll-up (Year 0..N) behind every NPV (annual_sheet)
Scenarios            low / base / high; sensitivity tables and tornado charts (scenario_sheet)
Checks               tie-outs with one master flag (decision_sheet)
Sources              files read, rows left out and why, prices, the reconciliation with billing (sources_sheet)
KPIs                 headline numbers, as formulas over the Data table
Insights             findings and evidence, number formats from core's units
Anomalies            one row per flagged run, thresholds in the observed unit, excess dollars
Charts               runs by status, cost over time, cumulative cost, J-curves
Chargeback,          when trends are given (trends_sheets): cost by tag/workspace/SKU with
Forecast, Drift      untagged spend; daily forecast with bands, backtest and budget chart;
                     drifting pipelines
Benefits realisation measured change after go-live beside the projection (when given)
Monthly schedule     the 120 dated months behind every figure (schedule_sheet)
Data                 every run as an Excel table (``Data (2)``, ... when split); not printed
                     beyond its first page
_etl_desk            hidden: what :mod:`etl_desk.core.data.xlsx_read` needs to reopen it
===================  ==================================================================

Safety: text is always written as text (a job named ``=HYPERLINK(...)`` stays text); the
file is written to a temporary file and renamed into place
(:func:`etl_desk.core.files.atomic_write`), so a failure or a cancel leaves any previous
file untouched.
"""
from __future__ import annotations

import copy
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from etl_desk.core.business_case.catalogue import SCENARIOS
from etl_desk.core.business_case.model import evaluate
from etl_desk.core.business_case.results import Results
from etl_desk.core.data.schema import LABELS, informative_columns
from etl_desk.core.data.xlsx_book import (
    META_SHEET,
    RowsPolicy,
    TABLE_NAME,
    data_sheet_names,
    open_book,
    row_plan,
    write_atomically,
    write_data_sheets,
    write_meta_sheet,
)
from etl_desk.core.errors import DataError
from etl_desk.core.insights.anomaly_table import runs_table
from etl_desk.core.insights.kpis import compute_kpis
from etl_desk.core.insights.trends import Trends
from etl_desk.core.tasks import CancelFn, Cancelled, ProgressFn
from etl_desk.core.workbook.annual_sheet import write_annual_sheet
from etl_desk.core.workbook.anomalies_sheet import TABLE as ANOMALY_TABLE
from etl_desk.core.workbook.anomalies_sheet import write_anomalies
from etl_desk.core.workbook.assumptions_sheet import DataRefs, write_assumptions_sheet
from etl_desk.core.workbook.case_sheet import write_business_case_sheet
from etl_desk.core.workbook.charts import write_charts
from etl_desk.core.workbook.decision_sheet import write_checks_sheet, write_decision_sheet
from etl_desk.core.workbook.formats import Styles
from etl_desk.core.workbook.realisation_sheet import write_not_measured_sheet, write_realisation_sheet
from etl_desk.core.workbook.scenario_sheet import write_scenario_sheet
from etl_desk.core.workbook.schedule_sheet import write_schedule_sheet
from etl_desk.core.workbook.sheets import write_cover, write_insights, write_kpis
from etl_desk.core.workbook.sources_sheet import SHEET as SOURCES_SHEET
from etl_desk.core.workbook.sources_sheet import cost_basis_sentence, write_sources_sheet
from etl_desk.core.workbook.trends_sheets import write_trend_sheets

#: Rows of a Data sheet in its print area (the full table stays in the workbook).
DATA_PRINT_ROWS = 40


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
                    cancel: CancelFn | None = None, max_rows_policy: RowsPolicy | str = RowsPolicy.REFUSE,
                    title: str = "ETL job runs: cost, failures and the business case",
                    realisation=None, report_only: bool = False, trends: Trends | None = None) -> ExportResult:
    """Write the workbook for finance to *path* (atomically) and return what was written.

    *df* is the canonical table of the runs; *results* their analysis and business case
    (:func:`etl_desk.core.business_case.results.compute_results` of the same runs): the
    workbook renders them and computes nothing itself. *realisation* (optional, a
    :class:`~etl_desk.core.business_case.realisation.Realisation`) adds the Benefits
    realisation sheet. ``progress(fraction)`` is called while the Data sheet is written;
    ``cancel()`` returning True raises :class:`etl_desk.core.tasks.Cancelled`. More runs
    than an Excel sheet holds raise :class:`~etl_desk.core.data.xlsx_book.TooManyRowsError`
    (a DataError) unless *max_rows_policy* is ``"truncate"`` or ``"split"``; a path without
    ``.xlsx`` or a folder that cannot be written raises :class:`DataError`.

    *report_only* writes the report pages alone (no Data, KPIs, Insights or Anomalies
    sheets; the measured baseline as values; the Monthly schedule hidden): the workbook
    :func:`etl_desk.core.workbook.pdf.export_report_pdf` prints. It cannot be reopened as data. *trends*
    (:func:`etl_desk.core.insights.trends.compute_trends` of the same runs) adds the
    Chargeback, Forecast and Drift sheets (:mod:`etl_desk.core.workbook.trends_sheets`).
    """
    t0 = time.perf_counter()
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise DataError("the workbook must have the extension .xlsx", file=str(path))
    n = len(df)
    parts, truncated, notes = row_plan(n, "truncate" if report_only else max_rows_policy, str(path))
    if results.case is None:
        why = f" ({results.baseline_error})" if results.baseline_error is not None else ""
        notes.append(f"The business case is not in this workbook: it could not be computed{why}.")
    if cancel is not None and cancel():
        raise Cancelled("export cancelled")
    sheets: list[str] = []

    def write(tmp: str) -> None:
        sheets[:] = _write_book(tmp, df, parts, results, source=source, filters_text=filters_text, notes=notes,
                                progress=progress, cancel=cancel, title=title, truncated=truncated,
                                realisation=realisation, report_only=report_only,
                                trends=trends)

    write_atomically(path, write)
    if progress is not None:
        progress(1.0)
    written = sum(b - a for a, b in parts)
    return ExportResult(path=path, sheets=[s for s in sheets if s != META_SHEET], rows_total=n,
                        rows_written=written, data_sheets=data_sheet_names(len(parts)), truncated=truncated,
                        notes=notes, seconds=time.perf_counter() - t0)


def scenario_cumulative(results: Results) -> dict[str, np.ndarray]:
    """The portfolio's cumulative net per scenario over months 0..120 (members of the case in force)."""
    case = results.case
    out = {}
    for s in SCENARIOS:
        a = copy.deepcopy(case.assumptions)
        a["global"]["scenario"] = s
        c = evaluate(case.baseline, a, members=case.members)
        out[s] = np.concatenate(([0.0], np.cumsum(c.portfolio.full.net)))
    return out


def _write_book(tmp: str, df: pd.DataFrame, parts, results: Results, *, source, filters_text, notes, progress,
                cancel, title, truncated, realisation, report_only=False, trends=None) -> list[str]:
    cols = informative_columns(df)
    analysis, case, appraisal = results.analysis, results.case, results.appraisal
    runs = runs_table(getattr(analysis, "anomalies", None), getattr(results.baseline, "anomaly_runs", None))
    data = DataRefs(table=TABLE_NAME, labels=frozenset(LABELS[c] for c in cols),
                    complete=len(parts) == 1 and not truncated and not report_only,
                    anomaly_table=ANOMALY_TABLE if len(runs) and not report_only else None,
                    why_values="this report copy has no Data sheet" if report_only else
                    "the Data sheet holds only part of them")
    with open_book(tmp, title=title or "ETL Desk") as wb:
        st = Styles(wb)
        names: list[str] = []
        decision_ws = None
        checks_ok = True
        if case is not None and appraisal is not None:
            decision_ws = wb.add_worksheet("Decision")
            names.append("Decision")
        cover = None if report_only and decision_ws is not None else wb.add_worksheet("Cover")
        if cover is not None:
            names.append("Cover")
        if decision_ws is not None:
            write_assumptions_sheet(wb, st, case, data)
            write_business_case_sheet(wb, st, case, appraisal.switching)
            write_annual_sheet(wb, st, case, appraisal.annual)
            write_scenario_sheet(wb, st, case, appraisal.scenarios, appraisal.sensitivity)
            checks_ok = write_checks_sheet(wb, st, case, data)
            names += ["Assumptions", "Business Case", "Annual cash flows", "Scenarios", "Checks"]
        provenance = df.attrs.get("provenance")
        write_sources_sheet(wb, st, provenance, source=source or str(df.attrs.get("source", "")))
        names.append(SOURCES_SHEET)
        if not report_only:
            kpis = dict(analysis.kpis) if analysis is not None else compute_kpis(df)
            write_kpis(wb.add_worksheet("KPIs"), st, kpis, data)
            write_insights(wb.add_worksheet("Insights"), st, analysis)
            write_anomalies(wb.add_worksheet("Anomalies"), st, analysis, results.baseline)
            names += ["KPIs", "Insights", "Anomalies"]
        charts_ws = wb.add_worksheet("Charts")
        names.append("Charts")
        if not report_only:
            names += write_trend_sheets(wb, st, trends)  # Chargeback, Forecast, Drift (when computed)
        if realisation is not None:
            write_realisation_sheet(wb, st, realisation)
            names.append("Benefits realisation")
        elif report_only:  # the report says it was not measured, rather than leave the page out
            write_not_measured_sheet(wb, st)
            names.append("Benefits realisation")
        if decision_ws is not None:
            write_schedule_sheet(wb, st, case, scenario_cumulative(results), printable=not report_only)
            names.append("Monthly schedule")
        write_charts(wb, charts_ws, st, df, case if decision_ws is not None else None)
        if not report_only:
            data_names = data_sheet_names(len(parts))
            data_ws = [wb.add_worksheet(s) for s in data_names]
            names += data_names
            write_data_sheets(wb, data_ws, df, parts, cols, progress=progress, cancel=cancel)
            for ws in data_ws:
                ws.print_area(0, 0, DATA_PRINT_ROWS, max(len(cols) - 1, 0))
                ws.set_footer(f"&L&8&A: the first {DATA_PRINT_ROWS} runs are printed; all runs are in the workbook"
                              f"&R&8Page &P of &N")
            write_meta_sheet(wb, df, parts, cols, results.assumptions, source=source, filters_text=filters_text,
                             truncated=truncated, data_names=data_names)
        if cover is not None:
            write_cover(wb, cover, st, df, names, title=title, source=source, filters_text=filters_text,
                        notes=list(notes), flag=("OK" if checks_ok else "CHECK") if decision_ws is not None else None,
                        cost_basis=cost_basis_sentence(provenance, source or str(df.attrs.get("source", ""))))
        if decision_ws is not None:
            write_decision_sheet(decision_ws, wb, st, case, appraisal.decision, checks_ok, title)
            decision_ws.activate()
        else:
            cover.activate()
    if report_only:
        return names
    return names + [META_SHEET]
