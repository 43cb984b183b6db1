"""Big-history mode of the main window: the pages, filter bar and status-bar progress over the engine.

The window makes one :class:`BigMode` when it first opens a history above the
big-history threshold. Opening starts the index build (progress and Cancel in the
status bar); the window switches to the big-history pages when the first stage (the
per-day totals) exists, and back to its own pages when a history held in memory is
opened or generated. A Cancel before that first stage leaves the data on screen as it was.
"""
from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QStackedWidget

from etl_desk.core import fmt
from etl_desk.ui.big.page import BigDashboardPage
from etl_desk.ui.big.pages import BigInsightsPage, BigNoticePage
from etl_desk.ui.big.state import BigState
from etl_desk.ui.dashboard.filter_bar import FilterBar

PAGE_ORDER = ("dashboard", "insights", "business_case", "sources")
UNAVAILABLE = ("not available on a big history yet: the workbook and the data exports are made from runs held "
               "in memory; open an extract below the big-history threshold")


class BigMode(QObject):
    """Public: ``state``, ``dashboard``, ``pages`` (name -> page), ``stack``, ``filter_bar``, ``active``;
    ``open(path, rows)``, ``leave()``, ``show_page(name)``, ``cancel()``."""

    def __init__(self, win):
        super().__init__(win)
        self.win = win
        self.state = st = BigState(parent=self)
        self.active = False
        self._opened_at = 0.0  # when the history on screen was opened (time.time())
        self.dashboard = BigDashboardPage(st)
        self.pages = {"dashboard": self.dashboard,
                      "insights": BigInsightsPage(st, thresholds=lambda: win.analysis_job.thresholds),
                      "business_case": BigNoticePage(st, "business_case"),
                      "sources": BigNoticePage(st, "sources")}
        self.stack = QStackedWidget()
        self.stack.setObjectName("bigPages")
        for name in PAGE_ORDER:
            self.stack.addWidget(self.pages[name])
        self.stack.setVisible(False)
        win.body.addWidget(self.stack)
        win.body.setStretchFactor(win.body.indexOf(self.stack), 1)
        self.filter_bar = FilterBar(st)
        self.filter_bar.setObjectName("bigFilterBar")
        self.filter_action = win.toolbars[1].addWidget(self.filter_bar)
        self.filter_action.setVisible(False)
        self._rows = 0
        b = st.builder
        b.progress.connect(self._progress)
        b.busyChanged.connect(self._busy)
        st.entered.connect(self._enter)
        st.openFailed.connect(self._failed)
        st.openCancelled.connect(self._cancelled)
        st.stageChanged.connect(self._stage)

    # --- opening ---------------------------------------------------------------------------------
    def open(self, path: str, rows: int) -> None:
        self._rows = rows
        self._opened_at = time.time()  # an index created before this was found on disk, not built now
        label = path.rstrip("/").split("/")[-1] or path
        self.win.status_label.setText(f"Opening {path}: {fmt.count(rows)} runs — a big history, read by the "
                                      "engine; building its index (per-day totals first)…")
        self.state.open(path, label)

    def _progress(self, f: float) -> None:
        w = self.win
        w.work_progress.setValue(int(round(max(0.0, min(1.0, f)) * 100)))
        if self.state.building:
            w.status_label.setText(f"Indexing {self.state.label} ({fmt.count(self._rows)} runs): "
                                   f"{self.state.progress_text or 'per-day totals first'} — {f:.0%}")

    def _busy(self, busy: bool) -> None:
        w = self.win
        w.work_progress.setValue(0)
        w.work_progress.setVisible(busy)
        w.work_cancel.setVisible(busy)

    def _enter(self) -> None:
        w = self.win
        w.files.cancel()
        self.active = True
        w.stack.setVisible(False)
        self.stack.setVisible(True)
        w.filter_action.setVisible(False)
        self.filter_action.setVisible(True)
        w.current_path, w.source = self.state.path, self.state.label
        w._update_title()
        w.files.add_recent(self.state.path)
        self.show_page(w.current_page())
        w.selection_label.setText("")
        w.sources_button.setText(f"{fmt.count(self._rows)} runs · engine")
        QTimer.singleShot(0, self.dashboard.initial_sizes)
        w.bigHistoryOpened.emit(self.state.path)

    def _stage(self, stage: str) -> None:
        w = self.win
        if stage == "complete":
            idx = self.state.index
            meta = idx.meta if idx is not None else {}
            t = meta.get("timings_s", {})
            secs = sum(v for k, v in t.items() if k in ("rollups", "runs", "pyramid"))
            try:
                created = time.mktime(time.strptime(meta.get("created", ""), "%Y-%m-%dT%H:%M:%S"))
            except (ValueError, OverflowError):
                created = None
            if created is not None and created < self._opened_at - 1:
                took = f" (found on disk; built {meta['created'].replace('T', ' ')}" \
                       + (f" in {secs:.0f} s)" if t else ")")
            else:
                took = f" (built in {secs:.0f} s)" if t else " (reused)"
            w.status_label.setText(f"Opened {self.state.path}: {fmt.count(self._rows)} runs; index complete{took}")
        elif stage == "stopped":
            w.status_label.setText(f"{self.state.path}: index not complete — grouped views from what was built")

    def _failed(self, message: str) -> None:
        self.win._on_failed(message)

    def _cancelled(self) -> None:
        self.win._on_cancelled()

    # --- pages -----------------------------------------------------------------------------------
    def show_page(self, name: str) -> None:
        self.stack.setCurrentIndex(PAGE_ORDER.index(name))

    def leave(self) -> None:
        """Back to the window's own pages (a history held in memory was opened or generated)."""
        self.state.cancel()
        self.state.close_engine()
        if not self.active:
            return
        self.active = False
        w = self.win
        self.stack.setVisible(False)
        w.stack.setVisible(True)
        self.filter_action.setVisible(False)
        w.filter_action.setVisible(True)

    def unavailable(self) -> str:
        return f"{self.state.label}: {UNAVAILABLE}"

    def cancel(self) -> None:
        """The status bar's Cancel: stop the index build (the grouped views built so far stay)."""
        self.state.builder.cancel()

    def close(self) -> None:
        self.state.cancel()
        self.state.close_engine()



