"""The main window: a shell that composes the views and the helpers that do the work.

It owns the shared objects — the :class:`DashboardState` (data, filter, sort,
grouping, selection, KPIs), the :class:`AnalysisJob` (one analysis + baseline of the
filtered runs) and the :class:`AssumptionsModel` — and wires small helpers to them by
signals: :class:`FileActions` (open, import, generate, recent files),
:class:`ExportActions` (workbook, data, charts, clipboard) and :class:`TableSync`
(the run table's selection and sort order). No helper reaches into a view by
attribute name; the views subscribe to the shared objects themselves.
"""
from __future__ import annotations

import logging
import os

from PySide6.QtCore import QEvent, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMessageBox, QScrollArea, QToolBar, QWidget

from etl_desk import APP_NAME
from etl_desk.core.dashboard.view import METRIC_TITLES, METRICS, Dataset
from etl_desk.ui import settings as keys
from etl_desk.ui.business_case.assumptions_model import AssumptionsModel
from etl_desk.ui.dashboard.charts import BarChart
from etl_desk.ui.dashboard.filter_bar import FilterBar
from etl_desk.ui.dashboard.kpi_strip import KpiStrip
from etl_desk.ui.dashboard.state import DashboardState
from etl_desk.ui.dashboard.table_model import RunTableModel
from etl_desk.ui.data.generator_panel import GeneratorPanel
from etl_desk.ui.settings import Settings
from etl_desk.ui.window.analysis_job import AnalysisJob
from etl_desk.ui.window.export_actions import ExportActions
from etl_desk.ui.window.file_actions import NO_DIALOGS_ENV, FileActions, LoadedRuns
from etl_desk.ui.window.table_sync import TableSync, make_run_table

LAYOUT_VERSION = 1
log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    """The ETL Desk window.

    Public API used by tests and the app: ``state``, ``analysis_job``, ``assumptions``
    (the AssumptionsModel), ``settings`` (:class:`~etl_desk.ui.settings.Settings`),
    ``files`` / ``exports`` (the helpers), ``charts`` (metric -> BarChart), ``table`` /
    ``table_model``, ``kpis``, ``insights_page`` / ``business_case_page`` (built after the
    first paint, or on first use), ``set_data(df, source)``, ``load_path(path)``
    (synchronous, raises DataError), ``open_file(path)`` (background, errors shown, previous
    data kept), ``generate(preset, settings)`` (background), ``cancel_work()``,
    ``close_without_saving()``.
    """

    dataLoaded = Signal(str)  # source description
    loadFailed = Signal(str)  # message shown to the user
    workCancelled = Signal()
    exportFinished = Signal(str)  # path
    exportFailed = Signal(str)  # message, or "cancelled"

    def __init__(self, settings: QSettings | Settings | None = None, restore: bool = True,
                 load_default: bool = True):
        super().__init__()
        self.setObjectName("mainWindow")
        if not isinstance(settings, Settings):
            settings = Settings(settings if settings is not None else QSettings())
        self.settings = settings
        self.save_on_close = True
        self.state = DashboardState(self)
        self.analysis_job = AnalysisJob(self.state, settings, parent=self)
        self.assumptions = AssumptionsModel(settings, parent=self)
        self.source = ""
        self.current_path: str | None = None
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.TopLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)

        self._build_docks()
        self.files = FileActions(self.state, settings, self)
        self.exports = ExportActions(self.state, self.analysis_job, self.assumptions, settings, self,
                                     source=lambda: self.source, current_path=lambda: self.current_path,
                                     chart_for=self.charts.__getitem__)
        self.runner, self.export_runner = self.files.runner, self.exports.runner
        self._build_toolbars()
        self._build_menus()
        self._wire()
        self._fit_to_screen(1500, 920)
        self._default_state = None
        self._restored = restore and self.restore_settings()
        self._update_title()
        if load_default:
            from etl_desk.core.data.case_study import generate_case_study

            self.set_data(generate_case_study(), "Case study (seed 42)")

    # --- construction ----------------------------------------------------------------------
    def _dock(self, title: str, name: str, widget: QWidget, area) -> QDockWidget:
        d = QDockWidget(title, self)
        d.setObjectName(name)
        d.setWidget(widget)
        d.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                      | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                      | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, d)
        return d

    def _build_docks(self) -> None:
        self.generator = GeneratorPanel()
        self.generator_dock = self._dock("Generator", "generatorDock", self.generator,
                                         Qt.DockWidgetArea.LeftDockWidgetArea)
        self.charts: dict[str, BarChart] = {}
        self.chart_docks: dict[str, QDockWidget] = {}
        prev = None
        for i, m in enumerate(METRICS):
            chart = BarChart(m, self.state, show_job_labels=(i == 0), show_legend=(i == len(METRICS) - 1))
            self.charts[m] = chart
            dock = self._dock(METRIC_TITLES[m], f"chartDock_{m}", chart, Qt.DockWidgetArea.RightDockWidgetArea)
            self.chart_docks[m] = dock
            if prev is not None:
                self.splitDockWidget(prev, dock, Qt.Orientation.Horizontal)
                chart.vb.setYLink(self.charts[METRICS[0]].vb)
            prev = dock
        self.table_model = RunTableModel(self.state, self)
        self.table = make_run_table(self.table_model)
        self.table_dock = self._dock("Data", "tableDock", self.table, Qt.DockWidgetArea.BottomDockWidgetArea)
        # The Insights and Business case views are built right after the first paint (ensure_pages):
        # the docks exist from the start so the saved layout restores, their content comes later.
        self._insights_page = self._business_case_page = None
        self.insights_dock = self._dock("Insights", "insightsDock", QLabel("Analysing…"),
                                        Qt.DockWidgetArea.BottomDockWidgetArea)
        self.business_case_dock = self._dock("Business case", "businessCaseDock",
                                             QLabel("Preparing the business case…"),
                                             Qt.DockWidgetArea.BottomDockWidgetArea)
        self.tabifyDockWidget(self.table_dock, self.insights_dock)
        self.tabifyDockWidget(self.insights_dock, self.business_case_dock)
        self.table_dock.raise_()
        self._initial_sizes()

    def _fit_to_screen(self, w: int, h: int) -> None:
        screen = self.screen().availableGeometry() if self.screen() else None
        if screen is not None and screen.width() > 0:
            w, h = min(w, screen.width() - 40), min(h, screen.height() - 60)
        self.resize(w, h)

    def _initial_sizes(self) -> None:
        self.resizeDocks([self.generator_dock], [330], Qt.Orientation.Horizontal)
        self.resizeDocks(list(self.chart_docks.values()), [420, 420, 420], Qt.Orientation.Horizontal)
        h = max(self.height() - 200, 400)
        self.resizeDocks([self.chart_docks[METRICS[0]], self.table_dock], [int(h * 0.68), int(h * 0.32)],
                         Qt.Orientation.Vertical)

    def eventFilter(self, obj, event):  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.Paint and self._insights_page is None:
            obj.removeEventFilter(self)
            QTimer.singleShot(0, self.ensure_pages)
        return False

    def ensure_pages(self) -> None:
        """Build the Insights and Business case views (deferred until after the first paint)."""
        if self._insights_page is not None:
            return
        # their modules import the rest of the UI: only now, after the window is on screen
        from etl_desk.ui.business_case.page import BusinessCasePage
        from etl_desk.ui.insights.page import InsightsPage

        self._insights_page = InsightsPage(self.state, job=self.analysis_job)
        self.insights_dock.setWidget(self._scrolled(self._insights_page))
        self.insights_dock.visibilityChanged.connect(self._insights_page.set_on_screen)  # a tab is covered
        self._business_case_page = BusinessCasePage(self.state, job=self.analysis_job, model=self.assumptions,
                                                    settings=self.settings)
        self.business_case_dock.setWidget(self._scrolled(self._business_case_page))

    @property
    def insights_page(self):
        self.ensure_pages()
        return self._insights_page

    @property
    def business_case_page(self):
        self.ensure_pages()
        return self._business_case_page

    @staticmethod
    def _scrolled(w: QWidget) -> QWidget:
        """A view with a large minimum size must not dictate the dock area's height."""
        sa = QScrollArea()
        sa.setObjectName(f"{w.objectName() or type(w).__name__}Scroll")
        sa.setWidgetResizable(True)
        sa.setFrameShape(QScrollArea.Shape.NoFrame)
        sa.setWidget(w)
        return sa

    def _build_toolbars(self) -> None:
        self.filter_bar = FilterBar(self.state)
        tb = QToolBar("Filter, sort and grouping", self)
        tb.setObjectName("filterToolbar")
        tb.addWidget(self.filter_bar)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)
        self.addToolBarBreak()
        self.kpis = KpiStrip(self.state)
        kb = QToolBar("Key figures", self)
        kb.setObjectName("kpiToolbar")
        kb.addWidget(self.kpis)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, kb)
        self.toolbars = [tb, kb]
        self.status_label = QLabel()
        self.statusBar().addWidget(self.status_label, 1)
        self.selection_label = QLabel()
        self.statusBar().addPermanentWidget(self.selection_label)

    def _action(self, text, slot, shortcut=None, tip=None, menu=None) -> QAction:
        a = QAction(text, self)
        if shortcut:
            a.setShortcut(QKeySequence(shortcut))
        if tip:
            a.setStatusTip(tip)
            a.setToolTip(tip)
        a.triggered.connect(slot)
        if menu is not None:
            menu.addAction(a)
        return a

    def _build_menus(self) -> None:
        mb, f, x = self.menuBar(), self.files, self.exports
        m = mb.addMenu("&File")
        self.act_open = self._action("&Open…", f.open_dialog, QKeySequence.StandardKey.Open,
                                     "Open a run history (CSV, Excel, Parquet, Databricks exports, Jobs API JSON)", m)
        self.act_import = self._action("&Import with column mapping…", f.import_dialog, "Ctrl+I",
                                       "Open a CSV / Excel / Parquet file and choose which column holds what", m)
        self.recent_menu = m.addMenu("Open &Recent")
        m.addSeparator()
        self.act_case_study = self._action("Load &case-study data", lambda: self.generate("case-study"), None,
                                           "The published 1,000 runs (seed 42)", m)
        self.act_generate = self._action("&Generate", self.generator._on_generate, "Ctrl+G",
                                         "Generate with the generator panel's settings", m)
        m.addSeparator()
        self.act_export_workbook = self._action("Export &workbook for finance…", x.workbook_dialog,
                                                "Ctrl+E", "One .xlsx: cover, assumptions, KPIs, insights, "
                                                "anomalies, data, business case with live formulas, charts", m)
        self.export_menu = m.addMenu("&Export")
        self._action("Filtered data as &CSV…", lambda: x.data_dialog("csv"), None,
                     "The runs in the current filter as CSV", self.export_menu)
        self._action("Filtered data as &Parquet…", lambda: x.data_dialog("parquet"), None,
                     "The runs in the current filter as Parquet", self.export_menu)
        self.export_menu.addSeparator()
        for m_ in METRICS:
            self._action(f"{METRIC_TITLES[m_]} chart as image…", lambda _=False, k=m_: x.chart_dialog(k),
                         None, "PNG or SVG", self.export_menu)
        m.addSeparator()
        self._action("&Quit", self.close, QKeySequence.StandardKey.Quit, "Quit ETL Desk", m)

        e = mb.addMenu("&Edit")
        self._action("Select &all runs in view", self.select_all_in_view, QKeySequence.StandardKey.SelectAll, None, e)
        self._action("&Clear selection", self.state.clear_selection, "Esc", None, e)
        self._action("Copy &key figures", x.copy_kpis, "Ctrl+Shift+C",
                     "Copy the KPI table (tab-separated) to the clipboard, ready to paste into Excel", e)
        self._action("Copy &business case", x.copy_business_case, None,
                     "Copy the business case at the current assumptions to the clipboard as text", e)
        self._action("&Find…", self.filter_bar.focus_text, QKeySequence.StandardKey.Find,
                     "Filter by pipeline name or run ID", e)

        v = mb.addMenu("&View")
        self.view_menu = v
        for d in [self.generator_dock, *self.chart_docks.values(), self.table_dock, self.insights_dock,
                  self.business_case_dock]:
            v.addAction(d.toggleViewAction())
        for t in self.toolbars:
            v.addAction(t.toggleViewAction())
        v.addSeparator()
        self._action("Reset &zoom", self.reset_zoom, "Ctrl+0", "Show the first bars again", v)
        self._action("&Reset layout", self.reset_layout, None, "Put every dock back where it started", v)

        h = mb.addMenu("&Help")
        self._action(f"&About {APP_NAME}", self.show_about, None, None, h)
        f.fill_recent_menu(self.recent_menu)

    def _wire(self) -> None:
        st, f, x = self.state, self.files, self.exports
        st.selectionChanged.connect(self._show_selection_count)
        st.datasetChanged.connect(self._update_title)
        self.table_sync = TableSync(st, self.table, self.table_model, self)
        self.table_sync.barActivated.connect(self.ensure_bar_visible)
        self.generator.generateRequested.connect(self.generate)
        self.generator.cancelRequested.connect(self.cancel_work)
        f.runner.progress.connect(self.generator.set_progress)
        f.runner.busyChanged.connect(self.generator.set_busy)
        f.loaded.connect(self._on_loaded)
        f.failed.connect(self._on_failed)
        f.cancelled.connect(self._on_cancelled)
        f.status.connect(self.status_label.setText)
        f.recentChanged.connect(lambda _files: f.fill_recent_menu(self.recent_menu))
        x.status.connect(self.status_label.setText)
        x.finished.connect(self.exportFinished)
        x.failed.connect(self._on_export_failed)

    # --- data ------------------------------------------------------------------------------
    def set_data(self, df, source: str = "", path: str | None = None, dataset: Dataset | None = None,
                 view=None, kpis: dict | None = None) -> None:
        """Show *df* (a canonical table). The previous data is replaced only here."""
        self.source = source or df.attrs.get("source", "")
        self.current_path = path
        self.state.set_data(df, self.source, dataset=dataset, view=view, kpis=kpis)
        self._update_title()
        self.dataLoaded.emit(self.source)

    def load_path(self, path: str) -> None:
        """Load a file synchronously (raises DataError; the current data stays on failure)."""
        from etl_desk.core.data.loaders import load_path

        df = load_path(path)
        self.set_data(df, os.path.basename(path), path=str(path))
        self.files.add_recent(str(path))

    def open_file(self, path: str, options=None) -> None:
        """Load a file in the background; on failure show the message and keep the current data."""
        self.files.open_file(path, options)

    def import_file(self, path: str, always_ask: bool = False) -> None:
        self.files.import_file(path, always_ask)

    def generate(self, preset: str = "case-study", settings=None) -> None:
        """Generate data in the background (progress in the generator panel; Cancel keeps the old data)."""
        self.files.generate(preset, settings)

    def cancel_work(self) -> None:
        self.files.cancel()

    def recent_files(self) -> list[str]:
        return self.files.recent_files()

    def add_recent(self, path: str) -> None:
        self.files.add_recent(path)

    def export_workbook(self, path: str, max_rows_policy="refuse") -> None:
        self.exports.export_workbook(path, max_rows_policy)

    def copy_kpis(self) -> str:
        return self.exports.copy_kpis()

    def current_analysis(self):
        """The analysis of the runs in the current filter at the user's thresholds, or None if not ready."""
        job = self.analysis_job
        return job.result.analysis if job.is_current() else None

    def current_baseline(self):
        """The business-case baseline of the runs in the current filter (same anomalies), or None."""
        job = self.analysis_job
        return job.result.baseline if job.is_current() else None

    def _on_loaded(self, r: LoadedRuns) -> None:
        self.set_data(r.df, r.source, path=r.path, dataset=r.dataset, view=r.view, kpis=r.kpis)
        if r.path:
            self.files.add_recent(r.path)
            msg = f"Opened {r.path}: {len(r.df):,} runs"
        else:
            msg = f"Generated {r.source}: {len(r.df):,} runs"
        if r.warnings:
            msg += f" — {len(r.warnings)} warning(s): " + "; ".join(r.warnings[:3])
        self.status_label.setText(msg)

    def _on_failed(self, message: str) -> None:
        self.status_label.setText(message)
        self.loadFailed.emit(message)
        if not os.environ.get(NO_DIALOGS_ENV):
            QMessageBox.warning(self, APP_NAME, f"{message}\n\nThe data on screen is unchanged.")

    def _on_cancelled(self) -> None:
        self.status_label.setText("Cancelled — the data on screen is unchanged.")
        self.workCancelled.emit()

    def _on_export_failed(self, exc, tb: str) -> None:
        if exc == "cancelled":
            self.exportFailed.emit("cancelled")
            return
        message = getattr(exc, "message", None)
        if message is None:
            log.error("export failed:\n%s", tb)
            message = f"Unexpected error: {type(exc).__name__}: {exc}"
        self._on_failed(message)
        self.exportFailed.emit(message)

    def on_unexpected_error(self, summary: str, details: str) -> None:
        self.status_label.setText(f"Unexpected error (logged): {summary}")

    # --- reactions --------------------------------------------------------------------------
    def _show_selection_count(self) -> None:
        n = self.state.selected_count()
        self.selection_label.setText(f"{n:,} run(s) selected" if n else "")

    def ensure_bar_visible(self, i: int) -> None:
        chart = self.charts[METRICS[0]]
        y0, y1 = chart.vb.viewRange()[1]
        if not (y0 <= i <= y1):
            span = y1 - y0
            chart.vb.setYRange(i - span / 3, i - span / 3 + span, padding=0)

    def select_all_in_view(self) -> None:
        if self.state.view is not None:
            self.state.select_rows(self.state.view.row_mask)

    def reset_zoom(self) -> None:
        self.charts[METRICS[0]].reset_zoom()

    # --- drag and drop ---------------------------------------------------------------------------
    def dragEnterEvent(self, ev):  # noqa: N802 - Qt API
        if ev.mimeData().hasUrls() and any(u.isLocalFile() for u in ev.mimeData().urls()):
            ev.acceptProposedAction()

    def dropEvent(self, ev):  # noqa: N802 - Qt API
        files = [u.toLocalFile() for u in ev.mimeData().urls() if u.isLocalFile()]
        if files:
            ev.acceptProposedAction()
            self.files.import_file(files[0])

    # --- settings ---------------------------------------------------------------------------------
    def showEvent(self, ev):  # noqa: N802 - Qt API
        super().showEvent(ev)
        if self._default_state is None:
            # the default layout is known only once the window has its final size
            if not self._restored:
                self._initial_sizes()
                QTimer.singleShot(0, self._initial_sizes)
            QTimer.singleShot(30, self._remember_default_layout)
            # build the views once the dashboard has been painted (or after 1 s at the latest)
            self.charts[METRICS[0]].viewport().installEventFilter(self)
            QTimer.singleShot(1000, self.ensure_pages)

    def _remember_default_layout(self) -> None:
        if self._default_state is None:
            if not self._restored:
                self._initial_sizes()
            self._default_state = self.saveState(LAYOUT_VERSION)

    def restore_settings(self) -> bool:
        """Restore geometry, dock layout and generator settings; True when a layout was restored."""
        s = self.settings
        geo = s.get(keys.GEOMETRY)
        if geo is not None:
            self.restoreGeometry(geo)
        layout = s.get(keys.LAYOUT)
        restored = bool(layout is not None and self.restoreState(layout, LAYOUT_VERSION))
        gen = s.get(keys.GENERATOR)
        if isinstance(gen, dict):
            self.generator.restore_state(gen)
        return restored

    def save_settings(self) -> None:
        s = self.settings
        s.set(keys.GEOMETRY, self.saveGeometry())
        s.set(keys.LAYOUT, self.saveState(LAYOUT_VERSION))
        s.set(keys.GENERATOR, self.generator.state_dict())
        s.sync()

    def reset_layout(self) -> None:
        for d in self.findChildren(QDockWidget):
            d.setFloating(False)
            d.show()
        if self._default_state is not None:
            self.restoreState(self._default_state, LAYOUT_VERSION)
        self._initial_sizes()

    def cancel_all_work(self) -> None:
        """Stop every background task of this window (their late results are dropped)."""
        self.files.cancel()
        self.exports.cancel()
        self.analysis_job.cancel()

    def close_without_saving(self) -> None:
        """Close and keep the stored settings as they are (tests; a reset)."""
        self.save_on_close = False
        self.close()

    def closeEvent(self, ev):  # noqa: N802 - Qt API
        self.cancel_all_work()
        if self.save_on_close:
            self.save_settings()
        super().closeEvent(ev)

    # --- misc ------------------------------------------------------------------------------------
    def _update_title(self) -> None:
        name = os.path.basename(self.current_path) if self.current_path else (self.source or "")
        self.setWindowTitle(f"{name} — {APP_NAME}" if name else APP_NAME)

    def show_about(self) -> None:
        from etl_desk.ui.window.identity import about_text  # importlib.metadata & co.: only when asked

        QMessageBox.about(self, f"About {APP_NAME}", about_text())

