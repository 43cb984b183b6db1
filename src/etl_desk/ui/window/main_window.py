"""The main window: a shell of full-size pages — Dashboard, Insights, Business case, Sources.

It owns the shared objects — the :class:`DashboardState` (data, filter, sort,
grouping, selection, KPIs), the :class:`AnalysisJob` (one analysis + baseline of the
filtered runs) and the :class:`AssumptionsModel` — and composes the pages and the
helpers that work on them by signals: :class:`FileActions` (open, import, generate,
recent files) and :class:`ExportActions` (workbook, data, charts, clipboard). The
pages subscribe to the shared objects, so switching pages keeps the filter and the
selection. Ctrl+1…4 move between pages; the generator panel opens beside any page
(one click on "Generator"); the filter bar is above every page. Only the Dashboard
page is built before the first paint; the others right after it.

Size: the window shell (pages, status bar, persistence hooks, big-history switch) is ~530 lines;
its helpers already live beside it (file_actions, export_actions, menus, persistence). Next cut: the
status-bar work indicator into ``window/status.py``.
"""
from __future__ import annotations

import logging
import os

from PySide6.QtCore import QEvent, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QActionGroup
from PySide6.QtWidgets import (QLabel, QMainWindow, QMessageBox, QProgressBar, QScrollArea, QSplitter,
                               QStackedWidget, QToolBar, QToolButton, QWidget)

from etl_desk import APP_NAME
from etl_desk.core.dashboard.view import Dataset
from etl_desk.ui import settings as keys
from etl_desk.ui.dashboard.filter_bar import FilterBar
from etl_desk.ui.dashboard.page import DashboardPage
from etl_desk.ui.dashboard.state import DashboardState
from etl_desk.ui.settings import Settings
from etl_desk.ui.window.analysis_job import AnalysisJob
from etl_desk.ui.window.export_actions import ExportActions
from etl_desk.ui.window.file_actions import NO_DIALOGS_ENV, BigHistoryRequest, FileActions, LoadedRuns
from etl_desk.ui.window import persistence
from etl_desk.ui.window.menus import action, build_menus

log = logging.getLogger(__name__)
PAGES = {"dashboard": "Dashboard", "insights": "Insights", "business_case": "Business case", "sources": "Sources"}


class MainWindow(QMainWindow):
    """The ETL Desk window.

    Public API used by tests and the app: ``state``, ``analysis_job``, ``assumptions``, ``settings``,
    ``files`` / ``exports`` (helpers), ``dashboard`` (the page: ``charts``, ``chart_docks``, ``table``,
    ``table_model``, ``time_chart``, ``kpis``; the same names are on the window), ``insights_page``,
    ``business_case_page``, ``sources_page`` (built after the first paint, or on first use),
    ``show_page(name)`` / ``current_page()``, ``set_data(df, source)``, ``load_path(path)``
    (synchronous, raises DataError), ``open_file(path)`` (background), ``generate(preset, settings)``
    (background), ``cancel_work()``, ``close_without_saving()``.
    """

    dataLoaded = Signal(str)  # source description
    loadFailed = Signal(str)  # message shown to the user
    workCancelled = Signal()
    exportFinished = Signal(str)  # path
    exportFailed = Signal(str)  # message, or "cancelled"
    pageChanged = Signal(str)
    bigHistoryOpened = Signal(str)  # path: the big-history pages are on screen (ui/big)

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
        self.analysis_job.hold()  # until the first paint (released with the other pages)
        self._assumptions = None  # the AssumptionsModel, made on first use (not needed for the first paint)
        self.source = ""
        self.current_path: str | None = None
        self.big = None  # BigMode (ui/big), made when a history above the big-history threshold is opened
        self.setAcceptDrops(True)

        self.dashboard = DashboardPage(self.state, settings)
        d = self.dashboard
        self.charts, self.chart_docks, self.kpis = d.charts, d.chart_docks, d.kpis
        self.table, self.table_model, self.table_dock = d.table, d.table_model, d.table_dock
        self._pages: dict[str, QWidget | None] = {"dashboard": d, "insights": None, "business_case": None,
                                                  "sources": None}
        self.stack = QStackedWidget()
        self.stack.setObjectName("pages")
        self.stack.addWidget(d)
        for name in ("insights", "business_case", "sources"):
            self.stack.addWidget(self._placeholder(name))
        # the generator panel is built when first opened (or used): it is hidden at start-up
        self._generator = None
        self.generator_host = self._scrolled(QWidget(), "generatorPanelScroll")
        self.generator_host.setVisible(False)
        self.body = QSplitter(Qt.Orientation.Horizontal)
        self.body.setObjectName("windowBody")
        self.body.setChildrenCollapsible(False)
        self.body.addWidget(self.generator_host)
        self.body.addWidget(self.stack)
        self.body.setStretchFactor(1, 1)
        self.setCentralWidget(self.body)

        self.files = FileActions(self.state, settings, self)
        self.exports = ExportActions(self.state, self.analysis_job, lambda: self.assumptions, settings, self,
                                     source=lambda: self.source, current_path=lambda: self.current_path,
                                     chart_for=self.charts.__getitem__)
        # the Business case › Realised tab's last measurement goes into the PDF report (None: not measured)
        self.exports.realisation = self._measured_realisation
        self.runner, self.export_runner = self.files.runner, self.exports.runner
        self._build_toolbars()
        self._build_status_bar()
        build_menus(self)
        self._wire()
        self._fit_to_screen(1500, 920)
        self._restored = restore and self.restore_settings()
        self._update_title()
        if load_default:
            from etl_desk.core.data.case_study import generate_case_study

            self.set_data(generate_case_study(), "Case study (seed 42)")

    # --- construction ----------------------------------------------------------------------
    @staticmethod
    def _scrolled(w: QWidget, name: str) -> QScrollArea:
        sa = QScrollArea()
        sa.setObjectName(name)
        sa.setWidgetResizable(True)
        sa.setFrameShape(QScrollArea.Shape.NoFrame)
        sa.setWidget(w)
        return sa

    @staticmethod
    def _placeholder(name: str) -> QLabel:
        lab = QLabel(f"Preparing {PAGES[name]}…")
        lab.setObjectName(f"placeholder_{name}")
        lab.setAlignment(Qt.AlignmentFlag.AlignCenter)
        return lab

    def _build_toolbars(self) -> None:
        nav = QToolBar("Pages", self)
        nav.setObjectName("pageToolbar")
        nav.setMovable(False)
        nav.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        group = QActionGroup(self)
        group.setExclusive(True)
        self.page_actions = {}
        for i, (name, title) in enumerate(PAGES.items(), 1):
            a = action(self, title, lambda _=False, n=name: self.show_page(n), f"Ctrl+{i}",
                       f"Show the {title} page (Ctrl+{i})", checkable=True)
            a.setObjectName(f"pageAction_{name}")
            group.addAction(a)
            nav.addAction(a)
            self.page_actions[name] = a
        self.page_actions["dashboard"].setChecked(True)
        nav.addSeparator()
        self.act_generator = action(self, "Generator", self.set_generator_visible, "Ctrl+Shift+G",
                                    "Show or hide the generator settings beside the page", checkable=True)
        nav.addAction(self.act_generator)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, nav)
        self.addToolBarBreak()
        self.filter_bar = FilterBar(self.state)
        tb = QToolBar("Filter, sort and grouping", self)
        tb.setObjectName("filterToolbar")
        tb.setMovable(False)
        self.filter_action = tb.addWidget(self.filter_bar)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)
        self.toolbars = [nav, tb]

    def _build_status_bar(self) -> None:
        self.status_label = QLabel()
        self.status_label.setObjectName("statusMessage")
        self.statusBar().addWidget(self.status_label, 1)
        self.sources_button = QToolButton()
        self.sources_button.setObjectName("sourcesButton")
        self.sources_button.setAutoRaise(True)
        self.sources_button.setToolTip("What was read, the cost basis and the reconciliation (Ctrl+4)")
        self.sources_button.clicked.connect(lambda: self.show_page("sources"))
        self.statusBar().addPermanentWidget(self.sources_button)
        self.selection_label = QLabel()
        self.selection_label.setObjectName("selectionCount")
        self.statusBar().addPermanentWidget(self.selection_label)
        # long work (opening, generating) shows here on every page, with its Cancel
        self.work_progress = QProgressBar()
        self.work_progress.setObjectName("workProgress")
        self.work_progress.setRange(0, 100)
        self.work_progress.setMaximumWidth(160)
        self.work_cancel = QToolButton()
        self.work_cancel.setObjectName("workCancel")
        self.work_cancel.setText("Cancel")
        self.work_cancel.setToolTip("Stop; the data on screen stays")
        self.work_cancel.clicked.connect(self.cancel_work)
        for w in (self.work_progress, self.work_cancel):
            w.setVisible(False)
            self.statusBar().addPermanentWidget(w)

    def _wire(self) -> None:
        st, f, x = self.state, self.files, self.exports
        st.selectionChanged.connect(self._show_selection_count)
        st.datasetChanged.connect(self._on_dataset_changed)
        f.runner.progress.connect(lambda x: self.work_progress.setValue(int(round(max(0.0, min(1.0, x)) * 100))))
        f.runner.busyChanged.connect(self._show_work)
        f.loaded.connect(self._on_loaded)
        f.failed.connect(self._on_failed)
        f.cancelled.connect(self._on_cancelled)
        f.status.connect(self.status_label.setText)
        f.recentChanged.connect(lambda _files: f.fill_recent_menu(self.recent_menu))
        x.status.connect(self.status_label.setText)
        x.finished.connect(self.exportFinished)
        x.failed.connect(self._on_export_failed)

    def _fit_to_screen(self, w: int, h: int) -> None:
        screen = self.screen().availableGeometry() if self.screen() else None
        if screen is not None and screen.width() > 0:
            w, h = min(w, screen.width() - 40), min(h, screen.height() - 60)
        self.resize(w, h)

    # --- pages -------------------------------------------------------------------------------
    def eventFilter(self, obj, event):  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.Paint and self._pages["insights"] is None:
            obj.removeEventFilter(self)
            QTimer.singleShot(0, self.ensure_pages)
        return False

    @property
    def time_chart(self):
        return self.dashboard.time_chart

    def _measured_realisation(self):
        """The Realised tab's last measurement (a Realisation), or None when nothing was measured."""
        page = self._pages.get("business_case")
        return page.realisation.realisation if page is not None else None

    def ensure_pages(self) -> None:
        """Build the Insights, Business case and Sources pages (deferred until after the first paint)."""
        self.analysis_job.release()
        self.dashboard.ensure_time_chart()
        if self._pages["insights"] is not None:
            return
        # their modules import the rest of the UI: only now, after the window is on screen
        from etl_desk.ui.business_case.page import BusinessCasePage
        from etl_desk.ui.insights.page import InsightsPage
        from etl_desk.ui.sources.page import SourcesPage

        # one forecast for the window: the time view owns it, the Insights page shows the same result
        built = {"insights": InsightsPage(self.state, job=self.analysis_job,
                                          forecast_job=self.dashboard.time_chart.forecast_job),
                 "business_case": BusinessCasePage(self.state, job=self.analysis_job, model=self.assumptions,
                                                   settings=self.settings),
                 "sources": SourcesPage(self.state)}
        current = self.current_page()
        for name, page in built.items():
            old = self.stack.widget(list(PAGES).index(name))
            self.stack.insertWidget(list(PAGES).index(name), page)
            self.stack.removeWidget(old)
            old.deleteLater()
            self._pages[name] = page
        persistence.restore_pages(self)
        self.stack.setCurrentIndex(list(PAGES).index(current))

    def _page(self, name: str):
        self.ensure_pages()
        return self._pages[name]

    insights_page = property(lambda self: self._page("insights"))
    business_case_page = property(lambda self: self._page("business_case"))
    sources_page = property(lambda self: self._page("sources"))

    def show_page(self, name: str) -> None:
        """Show page *name* (one of :data:`PAGES`); the filter and the selection stay as they are."""
        if name not in PAGES:
            raise KeyError(name)
        if name != "dashboard":
            self.ensure_pages()
        self.stack.setCurrentIndex(list(PAGES).index(name))
        if self.big_active:
            self.big.show_page(name)
        self.page_actions[name].setChecked(True)
        page = self._pages[name]
        if hasattr(page, "set_on_screen"):
            page.set_on_screen(True)
        self.pageChanged.emit(name)

    def current_page(self) -> str:
        return list(PAGES)[self.stack.currentIndex()]

    @property
    def assumptions(self):
        """The one AssumptionsModel (business case page, export, Copy, persistence)."""
        if self._assumptions is None:
            from etl_desk.ui.business_case.assumptions_model import AssumptionsModel  # start-up: after the paint

            self._assumptions = AssumptionsModel(self.settings, parent=self)
        return self._assumptions

    @property
    def generator(self):
        """The generator panel (built on first use, with the stored settings and what is loaded)."""
        if self._generator is None:
            from etl_desk.ui.data.generator_panel import GeneratorPanel  # start-up: hidden until opened

            g = self._generator = GeneratorPanel()
            stored = self.settings.get(keys.GENERATOR)
            if isinstance(stored, dict):
                g.restore_state(stored)
            if self.state.dataset is not None:
                g.show_loaded(self.source, self.current_path, self.state.dataset.n)
            g.generateRequested.connect(self.generate)
            g.cancelRequested.connect(self.cancel_work)
            self.files.runner.progress.connect(g.set_progress)
            self.files.runner.busyChanged.connect(g.set_busy)
            g.set_busy(self.files.runner.busy)
            old = self.generator_host.takeWidget()
            self.generator_host.setWidget(g)
            old.deleteLater()
        return self._generator

    def set_generator_visible(self, on: bool) -> None:
        if on:
            self.generator  # noqa: B018 - built on first opening
        self.generator_host.setVisible(bool(on))
        self.act_generator.setChecked(bool(on))
        if on and self.body.sizes()[0] < 300:
            self.body.setSizes([340, max(self.width() - 340, 400)])

    def generate_from_panel(self) -> None:
        self.generator._on_generate()

    # --- data ------------------------------------------------------------------------------
    def set_data(self, df, source: str = "", path: str | None = None, dataset: Dataset | None = None,
                 view=None, kpis: dict | None = None) -> None:
        """Show *df* (a canonical table). The previous data is replaced only here."""
        if self.big is not None:
            self.big.leave()
        self.source = source or df.attrs.get("source", "")
        self.current_path = path
        self.state.set_data(df, self.source, dataset=dataset, view=view, kpis=kpis)
        if self._generator is not None:
            self._generator.show_loaded(self.source, path, len(df))
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
        """Generate in the background (progress and Cancel in the status bar and the generator panel)."""
        self.files.generate(preset, settings)

    def cancel_work(self) -> None:
        self.files.cancel()
        if self.big is not None:
            self.big.cancel()

    @property
    def big_active(self) -> bool:
        """True while a big history (read by the engine, ui/big) is on screen."""
        return self.big is not None and self.big.active

    def open_big(self, path: str, rows: int) -> None:
        """Open *path* (Parquet above the big-history threshold) through the engine; the pages switch when
        its per-day totals exist (a Cancel before that keeps the data on screen)."""
        if self.big is None:
            from etl_desk.ui.big.mode import BigMode  # the engine (Ibis, DuckDB): only for big histories

            self.big = BigMode(self)
            self.exports.blocked = lambda: self.big.unavailable() if self.big_active else None
            self.exports.kpis = lambda: self.big.state.kpis if self.big_active else self.state.kpis
        self.big.open(path, rows)

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
        if isinstance(r, BigHistoryRequest):
            self.open_big(r.path, r.rows)
            return
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
    def _on_dataset_changed(self) -> None:
        self._update_title()
        QTimer.singleShot(0, self._show_sources_status)  # after the paint that shows the new data

    def _show_sources_status(self) -> None:
        from etl_desk.ui.sources.provenance import read_provenance, status_text  # not needed for the first paint

        ds = self.state.dataset
        self.sources_button.setText(status_text(read_provenance(ds.df if ds is not None else None)))

    def _show_work(self, busy: bool) -> None:
        self.work_progress.setValue(0)
        self.work_progress.setVisible(busy)
        self.work_cancel.setVisible(busy)

    def _show_selection_count(self) -> None:
        n = self.state.selected_count()
        self.selection_label.setText(f"{n:,} run(s) selected" if n else "")

    def select_all_in_view(self) -> None:
        if self.state.view is not None:
            self.state.select_rows(self.state.view.row_mask)

    def ensure_bar_visible(self, i: int) -> None:
        self.dashboard.ensure_bar_visible(i)

    def reset_zoom(self) -> None:
        self.dashboard.reset_zoom()

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
        if not getattr(self, "_shown_once", False):
            self._shown_once = True
            if not self._restored:
                QTimer.singleShot(0, self.dashboard.initial_sizes)
            # build the other pages once the dashboard has been painted (or after 1 s at the latest)
            self.dashboard.charts["cost_usd"].viewport().installEventFilter(self)
            QTimer.singleShot(1000, self.ensure_pages)

    def restore_settings(self) -> bool:
        """Restore geometry, the dashboard's panels, the generator and the page; True when a layout was restored."""
        return persistence.restore_window(self)

    def save_settings(self) -> None:
        persistence.save_window(self)

    def reset_layout(self) -> None:
        """Every page's panels back where they started (the data, filter and selection stay)."""
        self.dashboard.reset_layout()
        if self._pages["insights"] is not None:
            for name in ("insights", "business_case", "sources"):
                self._pages[name].reset_layout()

    def cancel_all_work(self) -> None:
        """Stop every background task of this window (their late results are dropped)."""
        self.files.cancel()
        self.exports.cancel()
        self.analysis_job.cancel()
        self.time_chart.forecast_job.cancel()
        if self._pages["insights"] is not None:  # pages built after the first paint
            self._pages["insights"].chargeback.job.runner.cancel()
            self._pages["insights"].drift.job.runner.cancel()
            self._pages["business_case"].realisation.runner.cancel()
        if self.big is not None:
            self.big.close()

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
