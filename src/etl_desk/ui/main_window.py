"""The main window: generator dock, three linked chart docks, data table, KPIs, insights, solutions."""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QEvent, QItemSelection, QItemSelectionModel, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QAbstractItemView, QDockWidget, QFileDialog, QHeaderView, QLabel,
                               QMainWindow, QMessageBox, QTableView, QToolBar, QWidget)

from etl_desk import APP_NAME, __version__
from etl_desk.core.errors import DataError
from etl_desk.core.dashboard.view import METRIC_TITLES, METRICS, Dataset
from etl_desk.ui.analysis_job import AnalysisJob
from etl_desk.ui.charts import BarChart
from etl_desk.ui.filter_bar import FilterBar
from etl_desk.ui.generator_panel import GeneratorPanel
from etl_desk.ui.kpi_strip import KpiStrip
from etl_desk.ui.state import DashboardState
from etl_desk.ui.table_model import RunTableModel
from etl_desk.ui.workers import TaskRunner

log = logging.getLogger(__name__)

OPEN_FILTER = ("Run histories (*.csv *.tsv *.txt *.xlsx *.parquet *.pq *.json);;"
               "CSV (*.csv *.tsv *.txt);;Excel (*.xlsx);;Parquet (*.parquet *.pq);;"
               "Databricks Jobs API JSON (*.json);;All files (*)")
MAX_RECENT = 8
LAYOUT_VERSION = 1


class MainWindow(QMainWindow):
    """The ETL Desk window.

    Public API used by tests and the app: ``state`` (the one DashboardState),
    ``analysis_job`` (the one analysis + business-case baseline of the filtered runs, which
    the Insights and Solutions tabs and the workbook export share),
    ``charts`` (metric -> BarChart), ``table`` / ``table_model``, ``kpis``,
    ``set_data(df, source)``, ``load_path(path)`` (synchronous, raises DataError),
    ``open_file(path)`` (background, errors shown, previous data kept),
    ``generate(preset, settings)`` (background), ``cancel_work()``.
    """

    dataLoaded = Signal(str)  # source description
    loadFailed = Signal(str)  # message shown to the user
    workCancelled = Signal()
    exportFinished = Signal(str)  # path
    exportFailed = Signal(str)  # message, or "cancelled"

    def __init__(self, settings: QSettings | None = None, restore: bool = True, load_default: bool = True):
        super().__init__()
        self.setObjectName("mainWindow")
        self.settings = settings if settings is not None else QSettings()
        self.state = DashboardState(self)
        # one analysis of the filtered runs for the whole window (the tabs, built after the first
        # paint, connect to it then and pick up its latest result)
        self.analysis_job = AnalysisJob(self.state, self.settings, parent=self)
        self.runner = TaskRunner(self)
        self.export_runner = TaskRunner(self)
        self._export_progress = None
        self.source = ""
        self.current_path: str | None = None
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.TopLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)

        self._build_docks()
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
        self.table = QTableView()
        self.table.setObjectName("runTable")
        self.table.setModel(self.table_model)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setDefaultSectionSize(20)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setDefaultSectionSize(120)
        self.table.horizontalHeader().setSortIndicatorShown(True)
        self.table.horizontalHeader().setResizeContentsPrecision(20)  # rows measured per column
        self.table_dock = self._dock("Data", "tableDock", self.table, Qt.DockWidgetArea.BottomDockWidgetArea)
        # The Insights and Solutions tabs are built right after the first paint (ensure_tabs):
        # the docks exist from the start so the saved layout restores, their content comes later.
        self._insights_widget = self._solutions_widget = None
        self.insights_dock = self._dock("Insights", "insightsDock", QLabel("Analysing…"),
                                        Qt.DockWidgetArea.BottomDockWidgetArea)
        self.solutions_dock = self._dock("Solutions", "solutionsDock", QLabel("Preparing the business case…"),
                                         Qt.DockWidgetArea.BottomDockWidgetArea)
        self.tabifyDockWidget(self.table_dock, self.insights_dock)
        self.tabifyDockWidget(self.insights_dock, self.solutions_dock)
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
        if event.type() == QEvent.Type.Paint and self._insights_widget is None:
            obj.removeEventFilter(self)
            QTimer.singleShot(0, self.ensure_tabs)
        return False

    def ensure_tabs(self) -> None:
        """Build the Insights and Solutions tabs (deferred until after the first paint)."""
        if self._insights_widget is not None:
            return
        self._insights_widget = self._optional_widget("etl_desk.ui.insights_tab", "InsightsTab")
        self.insights_dock.setWidget(self._scrolled(self._insights_widget))
        if hasattr(self._insights_widget, "set_on_screen"):  # a tabbed dock is covered, not hidden
            self.insights_dock.visibilityChanged.connect(self._insights_widget.set_on_screen)
        self._solutions_widget = self._optional_widget("etl_desk.ui.solutions_tab", "SolutionsTab")
        self.solutions_dock.setWidget(self._scrolled(self._solutions_widget))

    @property
    def insights_widget(self) -> QWidget:
        self.ensure_tabs()
        return self._insights_widget

    @property
    def solutions_widget(self) -> QWidget:
        self.ensure_tabs()
        return self._solutions_widget

    @staticmethod
    def _scrolled(w: QWidget) -> QWidget:
        """A tab with a large minimum size must not dictate the dock area's height."""
        from PySide6.QtWidgets import QScrollArea

        sa = QScrollArea()
        sa.setObjectName(f"{w.objectName() or type(w).__name__}Scroll")
        sa.setWidgetResizable(True)
        sa.setFrameShape(QScrollArea.Shape.NoFrame)
        sa.setWidget(w)
        return sa

    def _optional_widget(self, module: str, cls: str) -> QWidget:
        """The Insights and Solutions tabs, built on this window's state."""
        import importlib

        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            lab = QLabel("Not available in this build.")
            lab.setAlignment(Qt.AlignmentFlag.AlignCenter)
            return lab
        return getattr(mod, cls)(self.state, self, job=self.analysis_job)

    def _build_toolbars(self) -> None:
        self.filter_bar = FilterBar(self.state)
        tb = QToolBar("Filter, sort and grouping", self)
        tb.setObjectName("filterToolbar")
        tb.addWidget(self.filter_bar)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)
        self.addToolBarBreak()
        self.kpis = KpiStrip()
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
        mb = self.menuBar()
        m = mb.addMenu("&File")
        self.act_open = self._action("&Open…", self.open_dialog, QKeySequence.StandardKey.Open,
                                     "Open a run history (CSV, Excel, Parquet, Databricks exports, Jobs API JSON)", m)
        self.act_import = self._action("&Import with column mapping…", self.import_dialog, "Ctrl+I",
                                       "Open a CSV / Excel / Parquet file and choose which column holds what", m)
        self.recent_menu = m.addMenu("Open &Recent")
        m.addSeparator()
        self.act_case_study = self._action("Load &case-study data", lambda: self.generate("case-study"), None,
                                           "The published 1,000 runs (seed 42)", m)
        self.act_generate = self._action("&Generate", self.generator._on_generate, "Ctrl+G",
                                         "Generate with the generator panel's settings", m)
        m.addSeparator()
        self.act_export_workbook = self._action("Export &workbook for finance…", self.export_workbook_dialog,
                                                "Ctrl+E", "One .xlsx: cover, assumptions, KPIs, insights, "
                                                "anomalies, data, business case with live formulas, charts", m)
        self.export_menu = m.addMenu("&Export")
        self.act_export_csv = self._action("Filtered data as &CSV…", lambda: self.export_data_dialog("csv"),
                                           None, "The runs in the current filter as CSV", self.export_menu)
        self.act_export_parquet = self._action("Filtered data as &Parquet…",
                                               lambda: self.export_data_dialog("parquet"), None,
                                               "The runs in the current filter as Parquet", self.export_menu)
        self.export_menu.addSeparator()
        for m_ in METRICS:
            self._action(f"{METRIC_TITLES[m_]} chart as image…", lambda _=False, k=m_: self.export_chart_dialog(k),
                         None, "PNG or SVG", self.export_menu)
        m.addSeparator()
        self._action("&Quit", self.close, QKeySequence.StandardKey.Quit, "Quit ETL Desk", m)

        e = mb.addMenu("&Edit")
        self._action("Select &all runs in view", self.select_all_in_view, QKeySequence.StandardKey.SelectAll, None, e)
        self._action("&Clear selection", self.state.clear_selection, "Esc", None, e)
        self._action("Copy &key figures", self.copy_kpis, "Ctrl+Shift+C",
                     "Copy the KPI table (tab-separated) to the clipboard, ready to paste into Excel", e)
        self._action("&Find…", self.filter_bar.focus_text, QKeySequence.StandardKey.Find,
                     "Filter by pipeline name or run ID", e)

        v = mb.addMenu("&View")
        self.view_menu = v
        for d in [self.generator_dock, *self.chart_docks.values(), self.table_dock, self.insights_dock,
                  self.solutions_dock]:
            v.addAction(d.toggleViewAction())
        for t in self.toolbars:
            v.addAction(t.toggleViewAction())
        v.addSeparator()
        self._action("Reset &zoom", self.reset_zoom, "Ctrl+0", "Show the first bars again", v)
        self._action("&Reset layout", self.reset_layout, None, "Put every dock back where it started", v)

        h = mb.addMenu("&Help")
        self._action(f"&About {APP_NAME}", self.show_about, None, None, h)
        self._rebuild_recent_menu()

    def _wire(self) -> None:
        st = self.state
        st.viewChanged.connect(self._on_view_changed)
        st.selectionChanged.connect(self._on_selection_changed)
        st.datasetChanged.connect(self._on_dataset_changed)
        self.table.selectionModel().selectionChanged.connect(self._on_table_selection)
        self.table_model.modelReset.connect(self._reselect_table)
        self.table_model.modelReset.connect(self._fit_table_columns)
        self.generator.generateRequested.connect(self.generate)
        self.generator.cancelRequested.connect(self.cancel_work)
        self.runner.progress.connect(self.generator.set_progress)
        self.runner.busyChanged.connect(self.generator.set_busy)
        self.runner.finished.connect(self._on_work_finished)
        self.runner.failed.connect(self._on_work_failed)
        self.runner.cancelled.connect(self._on_work_cancelled)
        self.export_runner.progress.connect(self._on_export_progress)
        self.export_runner.finished.connect(self._on_export_finished)
        self.export_runner.failed.connect(self._on_export_failed)
        self.export_runner.cancelled.connect(self._on_export_cancelled)
        self._syncing_table = False

    # --- data ------------------------------------------------------------------------------
    def set_data(self, df, source: str = "", path: str | None = None, dataset: Dataset | None = None,
                 view=None, kpis: dict | None = None) -> None:
        """Show *df* (a canonical table). The previous data is replaced only here."""
        self.source = source or df.attrs.get("source", "")
        self.current_path = path
        self._precomputed_kpis = kpis
        self.state.set_data(df, self.source, dataset=dataset, view=view)
        self._update_title()
        self.dataLoaded.emit(self.source)

    def load_path(self, path: str) -> None:
        """Load a file synchronously (raises DataError; the current data stays on failure)."""
        from etl_desk.core.data.loaders import load_path

        df = load_path(path)
        self.set_data(df, os.path.basename(path), path=str(path))
        self.add_recent(str(path))

    def import_file(self, path: str, always_ask: bool = False) -> None:
        """Open *path*, asking for a column mapping when the file needs one (or when *always_ask*)."""
        from etl_desk.ui.import_dialog import ImportDialog, needs_mapping

        try:
            ask, options = needs_mapping(path, self.settings)
            ask = ask or always_ask
            if ask:
                from etl_desk.core.data.loaders import detect

                if detect(path) != "table":
                    ask = False
        except DataError as exc:
            self._on_work_failed(exc, "")
            return
        if ask:
            if os.environ.get("ETL_DESK_NO_DIALOGS"):
                self._on_work_failed(DataError("the columns need a mapping (Import with column mapping…)",
                                               file=path), "")
                return
            try:
                dlg = ImportDialog(path, self.settings, self)
            except DataError as exc:
                self._on_work_failed(exc, "")
                return
            if dlg.exec() != ImportDialog.DialogCode.Accepted:
                return
            options = dlg.options()
        self.open_file(path, options)

    def import_dialog(self) -> None:
        start = self.settings.value("lastDir", str(Path.home()))
        path, _ = QFileDialog.getOpenFileName(self, "Import run history", start, OPEN_FILTER)
        if path:
            self.settings.setValue("lastDir", str(Path(path).parent))
            self.import_file(path, always_ask=True)

    def open_file(self, path: str, options=None) -> None:
        """Load a file in the background; on failure show the message and keep the current data."""
        from etl_desk.core.data.loaders import load_path
        from etl_desk.core.errors import LoadReport

        def work(progress, cancel):
            rep = LoadReport()
            df = load_path(path, report=rep, options=options)
            return ("file", path, df, *self._prepare(df, os.path.basename(path)), rep.warnings)

        self.status_label.setText(f"Opening {path}…")
        self.runner.start(work, f"Opening {os.path.basename(path)}")

    def generate(self, preset: str = "case-study", settings=None) -> None:
        """Generate data in the background (progress in the generator dock; Cancel keeps the old data)."""
        from etl_desk.core.data.generate import generate

        label = "Case study (seed 42)" if preset == "case-study" else f"Realistic ({settings.runs:,} runs, " \
                                                                       f"seed {settings.seed})"

        def work(progress, cancel):
            df = generate(preset, settings=settings, progress=progress, cancel=cancel)
            if cancel():
                from etl_desk.core.tasks import Cancelled

                raise Cancelled()
            return ("generated", label, df, *self._prepare(df, label), [])

        self.status_label.setText(f"Generating {label}…")
        self.runner.start(work, label)

    def _prepare(self, df, source: str):
        """Runs in the worker: everything set_data needs that touches every row."""
        from etl_desk.core.insights.kpis import compute_kpis

        from etl_desk.ui.table_model import run_columns

        ds, view = self.state.prepare(df, source)
        run_columns(ds)  # the table's arrays, here rather than on the UI thread
        return ds, view, compute_kpis(df)

    def cancel_work(self) -> None:
        if self.runner.busy:
            self.runner.cancel()

    def _on_work_finished(self, result) -> None:
        kind, what, df, ds, view, kpis, warnings = result
        if kind == "file":
            self.set_data(df, os.path.basename(what), path=what, dataset=ds, view=view, kpis=kpis)
            self.add_recent(what)
            msg = f"Opened {what}: {len(df):,} runs"
        else:
            self.set_data(df, what, dataset=ds, view=view, kpis=kpis)
            msg = f"Generated {what}: {len(df):,} runs"
        if warnings:
            msg += f" — {len(warnings)} warning(s): " + "; ".join(warnings[:3])
        self.status_label.setText(msg)

    def _on_work_failed(self, exc, tb: str) -> None:
        if isinstance(exc, DataError):
            message = exc.message
        else:
            log.error("background work failed:\n%s", tb)
            message = f"Unexpected error: {type(exc).__name__}: {exc}"
        self.status_label.setText(message)
        self.loadFailed.emit(message)
        if not os.environ.get("ETL_DESK_NO_DIALOGS"):
            QMessageBox.warning(self, APP_NAME, f"{message}\n\nThe data on screen is unchanged.")

    def _on_work_cancelled(self) -> None:
        self.status_label.setText("Cancelled — the data on screen is unchanged.")
        self.workCancelled.emit()

    # --- reactions --------------------------------------------------------------------------
    def _on_dataset_changed(self) -> None:
        self._update_title()

    def _on_view_changed(self) -> None:
        from etl_desk.core.insights.kpis import compute_kpis

        v = self.state.view
        df = self.state.df
        if v is None or df is None:
            return
        self._sync_sort_indicator()
        pre, self._precomputed_kpis = getattr(self, "_precomputed_kpis", None), None
        if pre is not None and not v.spec.filter.is_active():
            self.kpis.set_kpis(pre)
        else:
            sub = df if len(df) == v.row_mask.sum() else df.loc[v.row_mask]
            self.kpis.set_kpis(compute_kpis(sub))
        self._on_selection_changed()

    def _sync_sort_indicator(self) -> None:
        """The table header shows the shared sort order (which the filter bar may have set)."""
        from etl_desk.ui.table_model import SORTABLE

        spec = self.state.spec
        hh = self.table.horizontalHeader()
        col = next((c for c in range(self.table_model.columnCount())
                    if SORTABLE.get(self.table_model.column_key(c)) == spec.sort_key
                    and (spec.sort_key != "run_id" or self.table_model.column_key(c) in ("run_id", "group"))),
                   -1)
        hh.blockSignals(True)
        try:
            order = Qt.SortOrder.DescendingOrder if spec.descending else Qt.SortOrder.AscendingOrder
            hh.setSortIndicatorShown(col >= 0)
            if col >= 0:
                hh.setSortIndicator(col, order)
        finally:
            hh.blockSignals(False)

    def _on_selection_changed(self) -> None:
        n = self.state.selected_count()
        self.selection_label.setText(f"{n:,} run(s) selected" if n else "")
        self._reselect_table()

    def _reselect_table(self) -> None:
        """Mirror the state's selection into the table (as contiguous row ranges)."""
        import numpy as np

        if self._syncing_table or self.state.view is None:
            return
        bars = self.state.selected_bars()
        sm = self.table.selectionModel()
        self._syncing_table = True
        try:
            sel = QItemSelection()
            idx = np.flatnonzero(bars)
            if len(idx):
                breaks = np.flatnonzero(np.diff(idx) > 1)
                starts = np.r_[idx[0], idx[breaks + 1]]
                ends = np.r_[idx[breaks], idx[-1]]
                last_col = max(0, self.table_model.columnCount() - 1)
                for a, b in zip(starts[:5000], ends[:5000]):
                    sel.select(self.table_model.index(int(a), 0), self.table_model.index(int(b), last_col))
            sm.select(sel, QItemSelectionModel.SelectionFlag.ClearAndSelect)
            if len(idx):
                self.table.scrollTo(self.table_model.index(int(idx[0]), 0))
        finally:
            self._syncing_table = False

    def _fit_table_columns(self) -> None:
        cols = tuple(self.table_model.column_key(c) for c in range(self.table_model.columnCount()))
        if cols == getattr(self, "_fitted_columns", None):
            return  # same columns: keep the user's widths (and skip measuring a million rows)
        self._fitted_columns = cols
        self.table.resizeColumnsToContents()
        hh = self.table.horizontalHeader()
        for c in range(self.table_model.columnCount()):
            hh.resizeSection(c, min(max(hh.sectionSize(c) + 12, 70), 260))

    def _on_table_selection(self, *args) -> None:
        if self._syncing_table:
            return
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        self._syncing_table = True
        try:
            self.state.select_bars(rows, "replace")
        finally:
            self._syncing_table = False
        # bring the first selected bar into view in the charts
        if rows:
            self.ensure_bar_visible(rows[0])

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

    # --- files --------------------------------------------------------------------------------
    def open_dialog(self) -> None:
        start = self.settings.value("lastDir", str(Path.home()))
        path, _ = QFileDialog.getOpenFileName(self, "Open run history", start, OPEN_FILTER)
        if path:
            self.settings.setValue("lastDir", str(Path(path).parent))
            self.import_file(path)

    def recent_files(self) -> list[str]:
        v = self.settings.value("recentFiles", [])
        if isinstance(v, str):
            v = [v]
        return [str(x) for x in (v or [])]

    def add_recent(self, path: str) -> None:
        path = str(Path(path).resolve())
        files = [p for p in self.recent_files() if p != path]
        files.insert(0, path)
        self.settings.setValue("recentFiles", files[:MAX_RECENT])
        self._rebuild_recent_menu()

    def _rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = self.recent_files()
        for i, p in enumerate(files):
            a = self.recent_menu.addAction(f"&{i + 1} {os.path.basename(p)}")
            a.setToolTip(p)
            a.setStatusTip(p)
            a.triggered.connect(lambda _=False, p=p: self.import_file(p))
        self.recent_menu.setEnabled(bool(files))

    def export_data_dialog(self, kind: str) -> None:
        from etl_desk.core.data.tables import write_table

        if self.state.view is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export filtered data", f"runs.{kind}",
                                              "CSV (*.csv)" if kind == "csv" else "Parquet (*.parquet)")
        if not path:
            return
        try:
            write_table(self.state.df.loc[self.state.view.row_mask], path)
        except (DataError, OSError) as exc:
            QMessageBox.warning(self, APP_NAME, getattr(exc, "message", str(exc)))
            return
        self.status_label.setText(f"Wrote {path}")

    def export_chart_dialog(self, metric: str) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export chart", f"{metric}.png", "PNG (*.png);;SVG (*.svg)")
        if path:
            self.charts[metric].export_image(path)
            self.status_label.setText(f"Wrote {path}")

    def copy_kpis(self) -> str:
        from PySide6.QtWidgets import QApplication

        from etl_desk.core.insights.kpis import kpi_table_text

        text = kpi_table_text(self.kpis.kpis)
        QApplication.clipboard().setText(text)
        self.status_label.setText("Key figures copied to the clipboard")
        return text

    def current_analysis(self):
        """The analysis of the runs in the current filter at the user's thresholds, or None if not ready."""
        job = self.analysis_job
        return job.result.analysis if job.is_current() else None

    def current_baseline(self):
        """The business-case baseline of the runs in the current filter (same anomalies), or None."""
        job = self.analysis_job
        return job.result.baseline if job.is_current() else None

    def current_assumptions(self):
        return getattr(self.solutions_widget, "assumptions", None)

    def export_workbook_dialog(self) -> None:
        if self.state.view is None:
            return
        start = self.settings.value("lastExportDir", str(Path.home()))
        stem = Path(self.current_path).stem if self.current_path else "etl-desk-report"
        path, _ = QFileDialog.getSaveFileName(self, "Export workbook for finance",
                                              str(Path(start) / f"{stem}.xlsx"), "Excel workbook (*.xlsx)")
        if not path:
            return
        if not path.lower().endswith(".xlsx"):
            path += ".xlsx"
        self.settings.setValue("lastExportDir", str(Path(path).parent))
        policy = "refuse"
        from etl_desk.core.data.xlsx_sheet import EXCEL_MAX_ROWS

        n = int(self.state.view.row_mask.sum())
        if n + 1 > EXCEL_MAX_ROWS:
            box = QMessageBox(QMessageBox.Icon.Question, APP_NAME,
                              f"The current filter holds {n:,} runs; one Excel sheet holds "
                              f"{EXCEL_MAX_ROWS - 1:,}.\n\nHow should the Data sheet be written?")
            split = box.addButton("Split across several Data sheets", QMessageBox.ButtonRole.AcceptRole)
            trunc = box.addButton(f"First {EXCEL_MAX_ROWS - 1:,} runs only", QMessageBox.ButtonRole.AcceptRole)
            box.addButton(QMessageBox.StandardButton.Cancel)
            box.exec()
            if box.clickedButton() is split:
                policy = "split"
            elif box.clickedButton() is trunc:
                policy = "truncate"
            else:
                return
        self.export_workbook(path, max_rows_policy=policy)

    def export_workbook(self, path: str, max_rows_policy: str = "refuse") -> None:
        """Write the finance workbook in the background with a progress dialog (Cancel keeps any old file)."""
        from PySide6.QtWidgets import QProgressDialog

        from etl_desk.core.workbook.export import export_workbook

        df = self.state.df
        mask = self.state.view.row_mask
        sub = df if mask.all() else df.loc[mask].reset_index(drop=True)
        # the shared results when they are of these runs; otherwise the export computes them, at the
        # thresholds the user set (never the defaults behind their back)
        results = self.analysis_job.result if self.analysis_job.is_current() else None
        thresholds = self.analysis_job.thresholds
        assumptions = self.current_assumptions()
        source, filters = self.source, self.state.spec.filter.describe()

        def work(progress, cancel):
            from etl_desk.core.business_case.results import compute_results, with_assumptions

            r = results
            if r is None:
                r = compute_results(sub, thresholds=thresholds, assumptions=assumptions)
            elif assumptions is not None:
                r = with_assumptions(r, assumptions)
            res = export_workbook(path, sub, r, source=source, filters_text=filters, progress=progress,
                                  cancel=cancel, max_rows_policy=max_rows_policy)
            return ("exported", path, res)

        dlg = QProgressDialog(f"Writing {os.path.basename(path)}…", "Cancel", 0, 100, self)
        dlg.setObjectName("exportProgress")
        dlg.setWindowTitle("Export workbook")
        dlg.setMinimumDuration(400)
        dlg.setAutoClose(False)
        dlg.setAutoReset(False)
        dlg.canceled.connect(self.export_runner.cancel)
        self._export_progress = dlg
        self.status_label.setText(f"Exporting {path}…")
        self.export_runner.start(work, "export")

    def _on_export_progress(self, f: float) -> None:
        if self._export_progress is not None:
            self._export_progress.setValue(int(f * 100))

    def _close_export_progress(self) -> None:
        if self._export_progress is not None:
            dlg, self._export_progress = self._export_progress, None
            dlg.canceled.disconnect()
            dlg.close()
            dlg.deleteLater()

    def _on_export_finished(self, result) -> None:
        self._close_export_progress()
        _, path, res = result
        self.status_label.setText(f"Wrote {path}")
        self.exportFinished.emit(path)

    def _on_export_failed(self, exc, tb: str) -> None:
        self._close_export_progress()
        self._on_work_failed(exc, tb)
        self.exportFailed.emit(getattr(exc, "message", str(exc)))

    def _on_export_cancelled(self) -> None:
        self._close_export_progress()
        self.status_label.setText("Export cancelled — any existing file is unchanged.")
        self.exportFailed.emit("cancelled")

    def on_unexpected_error(self, summary: str, details: str) -> None:
        self.status_label.setText(f"Unexpected error (logged): {summary}")

    # --- drag and drop ---------------------------------------------------------------------------
    def dragEnterEvent(self, ev):
        if ev.mimeData().hasUrls() and any(u.isLocalFile() for u in ev.mimeData().urls()):
            ev.acceptProposedAction()

    def dropEvent(self, ev):
        files = [u.toLocalFile() for u in ev.mimeData().urls() if u.isLocalFile()]
        if files:
            ev.acceptProposedAction()
            self.import_file(files[0])

    # --- settings ---------------------------------------------------------------------------------
    def showEvent(self, ev):
        super().showEvent(ev)
        if self._default_state is None:
            # the default layout is known only once the window has its final size
            if not self._restored:
                self._initial_sizes()
                QTimer.singleShot(0, self._initial_sizes)
            QTimer.singleShot(30, self._remember_default_layout)
            # build the tabs once the dashboard has been painted (or after 1 s at the latest)
            self.charts[METRICS[0]].viewport().installEventFilter(self)
            QTimer.singleShot(1000, self.ensure_tabs)

    def _remember_default_layout(self) -> None:
        if self._default_state is None:
            if not self._restored:
                self._initial_sizes()
            self._default_state = self.saveState(LAYOUT_VERSION)

    def restore_settings(self) -> bool:
        """Restore geometry, dock layout and generator settings; True when a layout was restored."""
        s = self.settings
        restored = False
        geo = s.value("window/geometry")
        if isinstance(geo, QByteArray) and not geo.isEmpty():
            self.restoreGeometry(geo)
        st = s.value("window/state")
        if isinstance(st, QByteArray) and not st.isEmpty():
            restored = self.restoreState(st, LAYOUT_VERSION)
        gen = s.value("generator/state")
        if gen:
            try:
                self.generator.restore_state(json.loads(gen))
            except (ValueError, TypeError):
                pass
        return bool(restored)

    def save_settings(self) -> None:
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState(LAYOUT_VERSION))
        s.setValue("generator/state", json.dumps(self.generator.state_dict()))
        s.sync()

    def reset_layout(self) -> None:
        for d in self.findChildren(QDockWidget):
            d.setFloating(False)
            d.show()
        if self._default_state is not None:
            self.restoreState(self._default_state, LAYOUT_VERSION)
        self._initial_sizes()

    def closeEvent(self, ev):
        self.cancel_work()
        self.export_runner.cancel()
        self.analysis_job.cancel()
        for tab in (self._insights_widget, self._solutions_widget):
            for name in ("runner", "base_runner"):
                r = getattr(tab, name, None)
                if isinstance(r, TaskRunner):
                    r.cancel()
        self.save_settings()
        super().closeEvent(ev)

    # --- misc ------------------------------------------------------------------------------------
    def _update_title(self) -> None:
        name = os.path.basename(self.current_path) if self.current_path else (self.source or "")
        self.setWindowTitle(f"{name} — {APP_NAME}" if name else APP_NAME)

    def show_about(self) -> None:
        try:
            from etl_desk.ui.identity import about_text

            text = about_text()
        except ImportError:
            text = f"<b>{APP_NAME}</b> {__version__}"
        QMessageBox.about(self, f"About {APP_NAME}", text)

