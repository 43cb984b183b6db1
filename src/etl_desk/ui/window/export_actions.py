"""What leaves the window: the finance workbook, its report pages as a PDF, the filtered runs as
CSV/Parquet, charts as images, and the key figures / business case on the clipboard.

:class:`ExportActions` reads the shared state, the shared analysis job and the
assumptions model (never a page's widgets) and reports by signals. The workbook
and the report PDF are written off the UI thread with a progress dialog; Cancel leaves
any existing file unchanged (the core writes atomically; the PDF is printed to a
temporary file first and moved into place only when not cancelled).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QProgressDialog, QWidget

from etl_desk import APP_NAME
from etl_desk.core.errors import DataError
from etl_desk.ui import settings as keys
from etl_desk.ui.settings import Settings
from etl_desk.ui.window.workers import TaskRunner


@dataclass(frozen=True)
class WorkbookWritten:
    """A finished workbook export: where it went and what the core reported."""

    path: str
    report: object  # what export_workbook returned


class ExportActions(QObject):
    """Exports of the runs in the current filter.

    Signals: ``finished(path)``, ``failed(message, traceback)`` (message "cancelled"
    after a Cancel), ``status(str)``.
    """

    finished = Signal(str)
    failed = Signal(object, str)  # exception (or "cancelled"), traceback
    status = Signal(str)

    def __init__(self, state, analysis_job, assumptions, settings: Settings, parent_widget: QWidget, *,
                 source=lambda: "", current_path=lambda: None, chart_for=None):
        """*assumptions*: a callable returning the window's AssumptionsModel (made when first needed)."""
        super().__init__(parent_widget)
        self.state, self.job, self.settings = state, analysis_job, settings
        self._assumptions = assumptions
        self.widget = parent_widget
        self._source, self._current_path = source, current_path
        self._chart_for = chart_for
        self.runner = TaskRunner(self)
        self.runner.progress.connect(self._on_progress)
        self.runner.finished.connect(self._on_finished)
        self.runner.failed.connect(self._on_failed)
        self.runner.cancelled.connect(self._on_cancelled)
        self._progress: QProgressDialog | None = None
        #: why exports are not available now (a big history is on screen: ui/big), or None
        self.blocked = lambda: None
        #: the key figures Copy takes (the window's state, or a big history's engine KPIs)
        self.kpis = lambda: self.state.kpis
        #: the measured benefits realisation (Business case › Realised) for the PDF report, or None
        self.realisation = lambda: None

    def _refuse(self) -> bool:
        reason = self.blocked()
        if reason:
            self.status.emit(f"Export {reason}")
            if not os.environ.get("ETL_DESK_NO_DIALOGS"):
                QMessageBox.information(self.widget, APP_NAME, f"Export {reason}.")
        return bool(reason)

    # --- workbook ------------------------------------------------------------------------------
    def workbook_dialog(self) -> None:
        if self.state.view is None or self._refuse():
            return
        start = self.settings.get(keys.EXPORT_DIR) or str(Path.home())
        current = self._current_path()
        stem = Path(current).stem if current else "etl-desk-report"
        path, _ = QFileDialog.getSaveFileName(self.widget, "Export workbook for finance",
                                              str(Path(start) / f"{stem}.xlsx"), "Excel workbook (*.xlsx)")
        if not path:
            return
        if not path.lower().endswith(".xlsx"):
            path += ".xlsx"
        self.settings.set(keys.EXPORT_DIR, str(Path(path).parent))
        policy = self._ask_rows_policy()
        if policy is not None:
            self.export_workbook(path, max_rows_policy=policy)

    def pdf_dialog(self) -> None:
        """File › Export report PDF…: ask where, then :meth:`export_pdf`."""
        if self.state.view is None:
            return
        start = self.settings.get(keys.EXPORT_DIR) or str(Path.home())
        current = self._current_path()
        stem = Path(current).stem if current else "etl-desk-report"
        path, _ = QFileDialog.getSaveFileName(self.widget, "Export report PDF",
                                              str(Path(start) / f"{stem}.pdf"), "PDF (*.pdf)")
        if not path:
            return
        if not path.lower().endswith(".pdf"):
            path += ".pdf"
        self.settings.set(keys.EXPORT_DIR, str(Path(path).parent))
        self.export_pdf(path)

    def export_pdf(self, path: str) -> None:
        """The report pages (decision, assumptions, business case, annual cash flows, scenarios, checks,
        charts, and the benefits realisation measured on the Realised tab, or "not measured") of the
        filtered runs as a PDF, as ``etl-desk analyze … -o report.pdf`` writes them
        (:func:`~etl_desk.core.workbook.pdf.export_report_pdf`, LibreOffice), in the background.

        A missing LibreOffice is a clear error (``failed`` with the core's DataError saying how to
        get it); Cancel keeps any existing file."""
        df, mask = self.state.df, self.state.view.row_mask
        sub = df if mask.all() else df.loc[mask].reset_index(drop=True)
        results = self.job.result if self.job.is_current() else None
        thresholds = self.job.thresholds
        assumptions = self._assumptions().assumptions
        source = self._source()
        realisation = self.realisation() or None  # the Realised tab's measurement; None: "not measured"

        def work(progress, cancel):
            import shutil
            import tempfile

            from etl_desk.core.business_case.results import compute_results, with_assumptions
            from etl_desk.core.files import atomic_write
            from etl_desk.core.tasks import Cancelled
            from etl_desk.core.workbook.pdf import export_report_pdf  # LibreOffice driver: only when exporting

            progress(0.05)
            r = results
            r = compute_results(sub, thresholds=thresholds, assumptions=assumptions) if r is None else \
                with_assumptions(r, assumptions)
            if cancel():
                raise Cancelled()
            progress(0.2)
            with tempfile.TemporaryDirectory(prefix="etl-desk-report-") as tmp:
                printed = export_report_pdf(Path(tmp) / "report.pdf", sub, r, source=source, realisation=realisation)
                if cancel():
                    raise Cancelled()
                atomic_write(path, lambda dst: shutil.copyfile(printed, dst))
            progress(1.0)
            return WorkbookWritten(path, None)

        self._start(work, path, f"Printing {os.path.basename(path)} with LibreOffice…", "Export report PDF")

    def _ask_rows_policy(self):
        """REFUSE when the runs fit one sheet; else the user's choice (None = cancelled)."""
        from etl_desk.core.data.xlsx_book import RowsPolicy  # the workbook writer: only when exporting
        from etl_desk.core.data.xlsx_sheet import EXCEL_MAX_ROWS

        n = int(self.state.view.row_mask.sum())
        if n + 1 <= EXCEL_MAX_ROWS:
            return RowsPolicy.REFUSE
        box = QMessageBox(QMessageBox.Icon.Question, APP_NAME,
                          f"The current filter holds {n:,} runs; one Excel sheet holds "
                          f"{EXCEL_MAX_ROWS - 1:,}.\n\nHow should the Data sheet be written?")
        split = box.addButton("Split across several Data sheets", QMessageBox.ButtonRole.AcceptRole)
        trunc = box.addButton(f"First {EXCEL_MAX_ROWS - 1:,} runs only", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return {split: RowsPolicy.SPLIT, trunc: RowsPolicy.TRUNCATE}.get(box.clickedButton())

    def export_workbook(self, path: str, max_rows_policy: str = "refuse") -> None:
        """Write the finance workbook of the filtered runs in the background (Cancel keeps any old file).

        *max_rows_policy*: a :class:`~etl_desk.core.data.xlsx_book.RowsPolicy` (or its value)."""
        from etl_desk.core.workbook.export import export_workbook

        if self._refuse():
            return
        df, mask = self.state.df, self.state.view.row_mask
        sub = df if mask.all() else df.loc[mask].reset_index(drop=True)
        # the shared results when they are of these runs; otherwise the export computes them, at the
        # thresholds the user set (never the defaults behind their back)
        results = self.job.result if self.job.is_current() else None
        thresholds = self.job.thresholds
        assumptions = self._assumptions().assumptions
        source, filters = self._source(), self.state.spec.filter.describe()

        def work(progress, cancel):
            from etl_desk.core.business_case.results import compute_results, with_assumptions

            r = results
            if r is None:
                r = compute_results(sub, thresholds=thresholds, assumptions=assumptions)
            else:
                r = with_assumptions(r, assumptions)
            rep = export_workbook(path, sub, r, source=source, filters_text=filters, progress=progress,
                                  cancel=cancel, max_rows_policy=max_rows_policy)
            return WorkbookWritten(path, rep)

        self._start(work, path, f"Writing {os.path.basename(path)}…", "Export workbook")

    def _start(self, work, path: str, text: str, title: str) -> None:
        """Run *work* on the export runner with a cancellable progress dialog (shown after 0.4 s)."""
        dlg = QProgressDialog(text, "Cancel", 0, 100, self.widget)
        dlg.setObjectName("exportProgress")
        dlg.setWindowTitle(title)
        dlg.setMinimumDuration(400)
        dlg.setAutoClose(False)
        dlg.setAutoReset(False)
        dlg.canceled.connect(self.runner.cancel)
        self._progress = dlg
        self.status.emit(f"Exporting {path}…")
        self.runner.start(work, "export")

    def _on_progress(self, f: float) -> None:
        if self._progress is not None:
            self._progress.setValue(int(f * 100))

    def _close_progress(self) -> None:
        if self._progress is not None:
            dlg, self._progress = self._progress, None
            dlg.canceled.disconnect()
            dlg.close()
            dlg.deleteLater()

    def _on_finished(self, done: WorkbookWritten) -> None:
        self._close_progress()
        self.status.emit(f"Wrote {done.path}")
        self.finished.emit(done.path)

    def _on_failed(self, exc, tb: str) -> None:
        self._close_progress()
        self.failed.emit(exc, tb)

    def _on_cancelled(self) -> None:
        self._close_progress()
        self.status.emit("Export cancelled — any existing file is unchanged.")
        self.failed.emit("cancelled", "")

    def cancel(self) -> None:
        self.runner.cancel()

    # --- data and charts -----------------------------------------------------------------------
    def data_dialog(self, kind: str) -> None:
        from etl_desk.core.data.tables import write_table

        if self.state.view is None or self._refuse():
            return
        path, _ = QFileDialog.getSaveFileName(self.widget, "Export filtered data", f"runs.{kind}",
                                              "CSV (*.csv)" if kind == "csv" else "Parquet (*.parquet)")
        if not path:
            return
        try:
            write_table(self.state.df.loc[self.state.view.row_mask], path)
        except (DataError, OSError) as exc:
            QMessageBox.warning(self.widget, APP_NAME, getattr(exc, "message", str(exc)))
            return
        self.status.emit(f"Wrote {path}")

    def chart_dialog(self, metric: str) -> None:
        path, _ = QFileDialog.getSaveFileName(self.widget, "Export chart", f"{metric}.png",
                                              "PNG (*.png);;SVG (*.svg)")
        if path:
            self._chart_for(metric).export_image(path)
            self.status.emit(f"Wrote {path}")

    # --- clipboard -----------------------------------------------------------------------------
    def copy_kpis(self) -> str:
        """The KPIs of the filtered runs, tab-separated (ready to paste into Excel), to the clipboard."""
        from etl_desk.core.insights.kpis import kpi_table_text

        text = kpi_table_text(self.kpis())
        QApplication.clipboard().setText(text)
        self.status.emit("Key figures copied to the clipboard")
        return text

    def copy_business_case(self) -> str:
        """The business case of the filtered runs at the current assumptions, as text, to the clipboard
        ("" when the analysis of these runs is not ready yet)."""
        from etl_desk.core.business_case.model import evaluate
        from etl_desk.core.business_case.report import business_case_json, format_business_case

        r = self.job.result if self.job.is_current() else None
        if r is None or r.baseline is None:
            self.status.emit("The business case of these runs is still being computed")
            return ""
        case = evaluate(r.baseline, self._assumptions().assumptions)
        text = "\n".join(format_business_case(business_case_json(case)))
        QApplication.clipboard().setText(text)
        self.status.emit("Business case copied to the clipboard")
        return text
