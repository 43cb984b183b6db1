"""The Drift tab on the Insights page: pipelines whose cost per TB or duration per GB creeps up week after week.

It renders :func:`etl_desk.core.insights.drift.detect_drift` of the runs in the window's current
filter and computes nothing itself: the test runs off the UI thread on a
:class:`~etl_desk.ui.window.workers.FilteredJob` (with progress and Cancel), and only while the
tab is on screen (it takes seconds at a million runs). Money core could not put a figure on
(no run with a known cost) reads "unknown", never $0. Clicking a finding selects that
pipeline's runs in the filter from the drift's start (Ctrl adds), as a Chargeback row selects its runs.
"""
from __future__ import annotations

import html

import numpy as np
import pandas as pd
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QHBoxLayout, QHeaderView, QLabel, QTableView,
                               QVBoxLayout, QWidget)

from etl_desk.core import fmt
from etl_desk.core.data.schema import has_values
from etl_desk.core.insights.drift import DriftResult, DriftSettings, detect_drift
from etl_desk.ui.widgets.busy import progress_and_cancel
from etl_desk.ui.window.workers import FilteredJob

NO_NAME, ALL_RUNS = "(no name)", "(all runs)"  # the names core gives runs without a pipeline name


def method_text(st: DriftSettings) -> str:
    """The test core ran (:mod:`etl_desk.core.insights.drift`), with its settings and sources, in one sentence."""
    falls = "rises or falls" if st.falls else "rises"
    return (f"Method: per pipeline, the daily winsorised mean of cost per TB and duration per GB at equal data "
            f"volume (weekday and month-end pattern taken out) is tested for a sustained trend with the one-sided "
            f"Mann–Kendall test (Mann 1945, Kendall 1975) at α = {st.alpha:g} over the last {st.window_days} days, "
            f"else {st.long_window_days}; the rate is the Theil–Sen slope (Theil 1950, Sen 1968), reported when it "
            f"{falls} at least {st.min_pct_per_week:g} % a week; the start is a segmented-regression break "
            f"(Muggeo 2003). Extra spend: cost above what each run would have cost without the drift; annualised: "
            f"the last 7 days' extra cost × 52.")


def _work(runs: pd.DataFrame, extra, progress, cancel) -> tuple[DriftResult, int]:
    res = detect_drift(runs, progress=progress, cancel=cancel)
    pipes = int(runs["job_name"].nunique()) if has_values(runs, "job_name") else (1 if len(runs) else 0)
    return res, pipes


class DriftModel(QAbstractTableModel):
    """One row per :class:`~etl_desk.core.insights.drift.DriftFinding`, in core's order (largest annualised first)."""

    # what it costs first (the columns a narrow window still shows), then the evidence
    COLUMNS = [("pipeline", "Pipeline"), ("metric_label", "Metric"), ("pct_per_week", "Change a week"),
               ("extra_spend_usd", "Extra spend so far"), ("annualised_usd", "Annualised"), ("start", "Since"),
               ("before", "Before"), ("now", "Last 7 days"), ("p_value", "Mann–Kendall p")]
    TIPS = {"pct_per_week": "Theil–Sen rate over the test window, compounding, % a week",
            "start": "Day the drift began (segmented-regression break)",
            "before": "The metric over the 4 weeks before the start",
            "now": "The metric over the last 7 days of data",
            "extra_spend_usd": "Cost above what the runs since the start would have cost without the drift",
            "annualised_usd": "The last 7 days' extra cost × 52: what a year at today's level costs on top",
            "p_value": "One-sided Mann–Kendall test of 'no trend' (smaller: surer)"}

    def __init__(self, parent=None):
        super().__init__(parent)
        self.findings: list = []

    def set_findings(self, findings: list) -> None:
        self.beginResetModel()
        self.findings = list(findings)
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()):  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(self.findings)

    def columnCount(self, parent=QModelIndex()):  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802 - Qt API
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section][1]
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.TIPS.get(self.COLUMNS[section][0])
        return None

    @staticmethod
    def text(f, key: str) -> str:
        """How cell *key* of finding *f* reads (fmt only; unknown money says so)."""
        v = getattr(f, key)
        if key == "start":
            return f"{fmt.by_unit(pd.Timestamp(v), 'date')} ({fmt.number(f.weeks, 1)} wk)"
        if key == "pct_per_week":
            return f"{'+' if v >= 0 else '−'}{fmt.number(abs(v), 1)} %"
        if key in ("before", "now"):
            if v is None:
                return "unknown"
            if f.unit.startswith("$"):
                return fmt.usd(v) + (f"/{f.unit.split('/')[1]}" if "/" in f.unit else "")
            return f"{fmt.number(v, 2)} {f.unit}"
        if key in ("extra_spend_usd", "annualised_usd"):
            return fmt.usd(v, missing="unknown")
        if key == "p_value":
            return f"{v:.1g}" if v >= 1e-4 else "< 0.0001"
        return str(v)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        f, key = self.findings[index.row()], self.COLUMNS[index.column()][0]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(f, key)
        if role == Qt.ItemDataRole.UserRole:  # sort key
            v = getattr(f, key)
            return v if isinstance(v, str) else (float(v) if v is not None else -1.0)
        if role == Qt.ItemDataRole.TextAlignmentRole and key not in ("pipeline", "metric_label"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f.reason + "\nClick to select this pipeline's runs since the start (Ctrl adds)."
        return None


class _Proxy(QSortFilterProxyModel):
    def lessThan(self, left, right):  # noqa: N802 - Qt API
        a, b = left.data(Qt.ItemDataRole.UserRole), right.data(Qt.ItemDataRole.UserRole)
        return a < b if type(a) is type(b) else str(a) < str(b)


class DriftView(QWidget):
    """Public: ``job`` (FilteredJob), ``result`` (last DriftResult or None), ``pipelines`` (tested), ``model`` /
    ``proxy`` / ``table``, ``title``, ``method``, ``notes``, ``progress`` / ``cancel``; ``select_finding(row)``.
    Signal ``driftReady(DriftResult)``."""

    driftReady = Signal(object)

    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.setObjectName("driftView")
        self.state = state
        self.result: DriftResult | None = None
        self.pipelines = 0
        self.job = FilteredJob(state, _work, label="Drift", with_progress=True, parent=self)
        self.job.hold()  # seconds of CPU at 1M runs: only while the tab is on screen
        self.job.finished.connect(self._on_result)
        self.job.failed.connect(lambda exc, tb: self.title.setText(
            f"<span style='color:#C0392B'>Drift test failed: {html.escape(str(exc))}</span>"))
        r = self.job.runner
        r.busyChanged.connect(self._set_busy)
        r.progress.connect(self._set_progress)

        self.title = QLabel("Drift: not tested yet.")
        self.title.setObjectName("driftTitle")
        self.title.setWordWrap(True)
        self.progress, self.cancel = progress_and_cancel(
            "drift", "Testing", "Stop the drift test; the table keeps what it showed", r.cancel)
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.progress, 0, Qt.AlignmentFlag.AlignTop)
        head.addWidget(self.cancel, 0, Qt.AlignmentFlag.AlignTop)

        self.model = DriftModel(self)
        self.proxy = _Proxy(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setObjectName("driftTable")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(20)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.clicked.connect(self._row_clicked)
        self.method = QLabel(method_text(DriftSettings()))
        self.method.setObjectName("driftMethod")
        self.method.setWordWrap(True)
        self.method.setStyleSheet("color: palette(placeholder-text);")
        self.notes = QLabel()
        self.notes.setObjectName("driftNotes")
        self.notes.setWordWrap(True)
        self.notes.setStyleSheet("color: #8A6D00;")
        self.notes.setVisible(False)
        v = QVBoxLayout(self)
        v.setContentsMargins(4, 4, 4, 4)
        v.addLayout(head)
        v.addWidget(self.table, 1)
        v.addWidget(self.notes)
        v.addWidget(self.method)

    # the test takes seconds of CPU at 1M runs: it runs while the tab is on screen
    def showEvent(self, ev) -> None:  # noqa: N802 - Qt API
        super().showEvent(ev)
        self.job.release()

    def hideEvent(self, ev) -> None:  # noqa: N802 - Qt API
        super().hideEvent(ev)
        self.job.hold()

    def _set_busy(self, busy: bool) -> None:
        self.progress.setRange(0, 0)  # moving until core reports a fraction
        self.progress.setVisible(busy)
        self.cancel.setVisible(busy)

    def _set_progress(self, fraction: float) -> None:
        if fraction > 0:
            self.progress.setRange(0, 100)
            self.progress.setValue(int(round(fraction * 100)))

    # --- rendering -------------------------------------------------------------------------------
    def _on_result(self, out, n: int) -> None:
        res, pipes = out
        self.result, self.pipelines = res, pipes
        self.model.set_findings(res.findings)
        self.proxy.sort(-1)  # core's order until the user sorts
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.method.setText(method_text(res.settings))
        k = len(res.findings)
        if k == 0:
            self.title.setText(f"<b>No drift found in {fmt.count(pipes)} pipeline{'s' if pipes != 1 else ''}</b> "
                               f"({fmt.count(n)} runs in the filter).")
        else:
            drifting = len({f.pipeline for f in res.findings})
            # no grand total: a pipeline drifting in duration and in cost shows the same extra spend twice
            self.title.setText(f"<b>{fmt.count(k)} drift{'s' if k != 1 else ''}</b> in {fmt.count(drifting)} of "
                               f"{fmt.count(pipes)} pipelines ({fmt.count(n)} runs in the filter), largest "
                               f"annualised cost first. Click a row to select its runs since the start.")
        self.notes.setText(" ".join(res.notes))
        self.notes.setVisible(bool(res.notes))
        self.driftReady.emit(res)

    # --- selection -------------------------------------------------------------------------------
    def finding_mask(self, f) -> np.ndarray | None:
        """Rows of the runs in the filter of finding *f*'s pipeline that started on or after its start day."""
        ds, v = self.state.dataset, self.state.view
        if ds is None or v is None or getattr(ds, "df", None) is None:
            return None
        df = ds.df
        if has_values(df, "job_name"):
            names = df["job_name"].astype("string").fillna(NO_NAME)
            rows = (names == f.pipeline).to_numpy(dtype=bool, na_value=False)
        else:
            rows = np.ones(len(df), dtype=bool)
        since = df["start_time"].to_numpy(dtype="datetime64[ns]") >= np.datetime64(f.start, "ns")
        return rows & since & np.asarray(v.row_mask, dtype=bool)

    def select_finding(self, row: int, mode: str = "replace") -> int:
        """Select the runs of finding *row* (core's order) in the filter since its start; returns how many."""
        if not 0 <= row < len(self.model.findings):
            return 0
        rows = self.finding_mask(self.model.findings[row])
        if rows is None:
            return 0
        self.state.select_rows(rows, mode)
        return int(rows.sum())

    def _row_clicked(self, index) -> None:
        src = self.proxy.mapToSource(index)
        if src.isValid():
            ctrl = QApplication.keyboardModifiers() & Qt.KeyboardModifier.ControlModifier
            self.select_finding(src.row(), "toggle" if ctrl else "replace")
