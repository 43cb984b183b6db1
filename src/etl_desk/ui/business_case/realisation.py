"""Benefits realisation: what a remedy changed, measured on the loaded runs, beside the projection.

Mark a go-live date on the runs in the window's filter (the runs before it against those
after it, less a settling period), or compare them with an "after" history opened from
a file. The measurement is core's
:func:`~etl_desk.core.business_case.realisation.realised_vs_projected` (cost per TB of
each remedy's target with a 95 % confidence interval, normalised for volume, and the
business case's projection beside it), run off the UI thread with progress and Cancel
(in the window's status bar once the page is in a window, see :meth:`RealisationView.use_status_bar`);
this module only orchestrates it (the same steps as ``etl-desk analyze --go-live`` /
``--before``) and renders the :class:`~etl_desk.core.business_case.realisation.Realisation`.
"""
from __future__ import annotations

import html
import os

import pandas as pd
from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (QDateEdit, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QProgressBar, QPushButton,
                               QSpinBox, QTableWidgetItem, QToolButton, QVBoxLayout, QWidget)

from etl_desk.core import fmt
from etl_desk.core.business_case.baseline import compute_baseline
from etl_desk.core.business_case.model import evaluate
from etl_desk.core.business_case.realisation import realised_vs_projected, split_at
from etl_desk.core.errors import DataError
from etl_desk.core.tasks import Cancelled
from etl_desk.ui.business_case.audience import make_table
from etl_desk.ui.business_case.chart import NEGATIVE_COLOR, POSITIVE_COLOR
from etl_desk.ui.window.workers import TaskRunner

COLUMNS = ["Target", "Before", "After", "Change (95 % interval)", "Measured effect (95 % interval)",
           "Projected effect", "Saving a year (95 % interval)", "Projected saving a year", "Projection"]


def measure(before: pd.DataFrame, after: pd.DataFrame, assumptions, thresholds, go_live=None,
            progress=lambda f: None, cancel=lambda: False, measured: str = ""):
    """Worker thread: baselines of both periods, the before period's business case, then
    :func:`realised_vs_projected` (raises DataError; Cancelled between the steps)."""
    def step(f):
        if cancel():
            raise Cancelled()
        progress(f)

    step(0.05)
    b_base = compute_baseline(before, thresholds=thresholds)
    step(0.45)
    a_base = compute_baseline(after, thresholds=thresholds)
    step(0.85)
    case = evaluate(b_base, assumptions) if b_base.cost_known else None
    out = realised_vs_projected(before, after, case, before_anomaly_runs=b_base.anomaly_runs,
                                after_anomaly_runs=a_base.anomaly_runs,
                                data_coverage=assumptions["global"]["data_coverage"], go_live=go_live,
                                measured=measured)
    step(1.0)
    return out


def _rate(x: float, unit: str) -> str:
    per = unit.split(" per ")[-1]
    return f"{fmt.usd(x)} per {per}"


def change_cells(c) -> list[str]:
    """One MeasuredChange as the table shows it."""
    lo, hi = c.change_ci
    eff = "—" if c.measured_effect is None else (
        f"{fmt.pct(c.measured_effect, 1)} ({fmt.pct(c.measured_effect_ci[0], 1)} to "
        f"{fmt.pct(c.measured_effect_ci[1], 1)})")
    verdict = ("no projection" if c.projection_within_ci is None else
               "within the interval" if c.projection_within_ci else "outside the interval")
    return [c.label, _rate(c.before_rate, c.unit), _rate(c.after_rate, c.unit),
            f"{fmt.usd(c.change)} ({fmt.usd(lo)} to {fmt.usd(hi)})", eff,
            "—" if c.projected_effect is None else fmt.pct(c.projected_effect, 1),
            f"{fmt.usd(c.saving_usd_per_year, 0)} ({fmt.usd(c.saving_ci[0], 0)} to {fmt.usd(c.saving_ci[1], 0)})",
            "—" if c.projected_saving_usd_per_year is None else fmt.usd(c.projected_saving_usd_per_year, 0),
            verdict]


class RealisationView(QWidget):
    """Public: ``go_live`` (QDateEdit), ``settle_days``, ``measure_button``, ``open_button``, ``progress``,
    ``cancel_button``, ``table``, ``summary``, ``runner``, ``realisation`` (the last result);
    ``measure_at(date)``, ``compare_with(df, source)``, ``cancel()``; signals ``measured(Realisation)``,
    ``failed(str)``, ``status(str)``.

    *state*: the window's DashboardState (the runs in the filter); *assumptions* / *thresholds*:
    callables returning the current assumptions and anomaly thresholds.
    """

    measured = Signal(object)
    failed = Signal(str)
    status = Signal(str)

    def __init__(self, state, assumptions, thresholds, parent=None):
        super().__init__(parent)
        self.setObjectName("realisationView")
        self.state, self._assumptions, self._thresholds = state, assumptions, thresholds
        self.realisation = None
        self.runner = TaskRunner(self)
        self.runner.progress.connect(lambda f: self.progress.setValue(int(round(f * 100))))
        self.runner.busyChanged.connect(self._busy)
        self.runner.finished.connect(self._on_finished)
        self.runner.failed.connect(self._on_failed)
        self.runner.cancelled.connect(lambda: self.status.emit("Measuring cancelled — the table is unchanged."))
        v = QVBoxLayout(self)
        v.setContentsMargins(0, 2, 0, 0)
        v.setSpacing(3)
        top = QHBoxLayout()
        lab = QLabel("Go-live")
        top.addWidget(lab)
        self.go_live = QDateEdit()
        self.go_live.setObjectName("goLiveDate")
        self.go_live.setCalendarPopup(True)
        self.go_live.setDisplayFormat("yyyy-MM-dd")
        self.go_live.setToolTip("The day the remedy went live: runs before it are 'before', runs from it on 'after'")
        lab.setBuddy(self.go_live)
        top.addWidget(self.go_live)
        top.addWidget(QLabel("settling"))
        self.settle_days = QSpinBox()
        self.settle_days.setObjectName("settleDays")
        self.settle_days.setRange(0, 180)
        self.settle_days.setSuffix(" days")
        self.settle_days.setToolTip("Leave out the runs of the first days after the go-live (the remedy settling in)")
        top.addWidget(self.settle_days)
        self.measure_button = QPushButton("Measure")
        self.measure_button.setObjectName("measureRealisation")
        self.measure_button.setToolTip("Measure the change in each target between the runs before and after "
                                       "the go-live (runs in the current filter)")
        self.measure_button.clicked.connect(lambda: self.measure_at(self.go_live.date().toString("yyyy-MM-dd")))
        top.addWidget(self.measure_button)
        self.open_button = QPushButton("Compare with an after history…")
        self.open_button.setObjectName("openAfterHistory")
        self.open_button.setToolTip("The runs in the window are 'before'; open a file of runs after the go-live")
        self.open_button.clicked.connect(self.open_after_dialog)
        top.addWidget(self.open_button)
        self.progress = QProgressBar()
        self.progress.setObjectName("realisationProgress")
        self.progress.setRange(0, 100)
        self.progress.setMaximumWidth(120)
        self.cancel_button = QToolButton()
        self.cancel_button.setObjectName("realisationCancel")
        self.cancel_button.setText("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        for w in (self.progress, self.cancel_button):
            w.setVisible(False)
            top.addWidget(w)
        top.addStretch(1)
        v.addLayout(top)
        self.summary = QLabel("Mark the day a remedy went live and press Measure, or open the runs after it.")
        self.summary.setObjectName("realisationSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        v.addWidget(self.summary)
        self.table = make_table("realisationTable")
        v.addWidget(self.table, 1)
        self.note = QLabel()
        self.note.setObjectName("realisationNote")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("font-size: 8pt;")
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        v.addWidget(self.note)
        state.datasetChanged.connect(self._new_data)
        self._new_data()

    # --- inputs --------------------------------------------------------------------------------
    def _runs(self) -> pd.DataFrame | None:
        st = self.state
        if st.dataset is None or st.view is None:
            return None
        mask = st.view.row_mask
        return st.df if mask.all() else st.df.loc[mask]

    def _new_data(self) -> None:
        """A go-live date in the middle of the new data (a place to start); a measurement of other data
        is dropped (the reports then say "not measured")."""
        if self.realisation is not None:
            self.realisation = None
            self.table.setRowCount(0)
            self.summary.setText("New data: measure again (go-live date or an 'after' file).")
            self.note.setText("")
        df = self.state.df if self.state.dataset is not None else None
        if df is None or not len(df):
            return
        t0, t1 = df["start_time"].min(), df["start_time"].max()
        mid = (t0 + (t1 - t0) / 2).normalize()
        self.go_live.setDateRange(QDate(t0.year, t0.month, t0.day), QDate(t1.year, t1.month, t1.day))
        self.go_live.setDate(QDate(mid.year, mid.month, mid.day))

    # --- work ------------------------------------------------------------------------------------
    def measure_at(self, go_live: str) -> None:
        """Split the runs in the filter at *go_live* (``YYYY-MM-DD``) and measure (in the background)."""
        df = self._runs()
        if df is None:
            return
        try:
            before, after = split_at(df, go_live, settle_days=float(self.settle_days.value()))
        except DataError as exc:
            self._on_failed(exc, "")
            return
        settle = int(self.settle_days.value())
        self._start(before, after, go_live, f"go-live {go_live}",
                    f"the runs in the filter of {self._source()} split at the go-live {go_live}"
                    + (f", the first {settle} day{'s' if settle != 1 else ''} after it left out (settling)"
                       if settle else ""))

    def compare_with(self, after: pd.DataFrame, source: str = "") -> None:
        """The runs in the filter are 'before', *after* (a canonical table) the runs after the go-live."""
        df = self._runs()
        if df is None:
            return
        self._start(df, after, None, f"after history {source}".strip(),
                    f"the runs in the filter of {self._source()} (before) against {source or 'a second history'} "
                    f"(after)")

    def open_after_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open the runs after the go-live", os.path.expanduser("~"),
                                              "Run histories (*.csv *.parquet *.xlsx *.json);;All files (*)")
        if not path:
            return
        before = self._runs()
        if before is None:
            return
        a, th = self._assumptions(), self._thresholds()
        src = self._source()

        def work(progress, cancel):
            from etl_desk.core.data.loaders import load_path  # the importers: only when a file is opened

            after = load_path(path)
            if cancel():
                raise Cancelled()
            return measure(before, after, a, th, None, lambda f: progress(0.3 + 0.7 * f), cancel,
                           measured=f"the runs in the filter of {src} (before) against {path} (after)")

        self.status.emit(f"Measuring against {path}…")
        self.runner.start(work, "realisation")

    def _start(self, before, after, go_live, what: str, measured: str = "") -> None:
        a, th = self._assumptions(), self._thresholds()
        self.status.emit(f"Measuring realised savings ({what})…")
        self.runner.start(lambda progress, cancel: measure(before, after, a, th, go_live, progress, cancel,
                                                           measured), "realisation")

    def _source(self) -> str:
        """The loaded data's source (its file(s)), for the report's 'what was measured'."""
        ds = self.state.dataset
        return (getattr(ds, "source", "") or "the loaded data") if ds is not None else "the loaded data"

    def cancel(self) -> None:
        self.runner.cancel()

    def use_status_bar(self, bar) -> None:
        """Show the progress and Cancel in the window's status bar *bar* (a QStatusBar), as the
        window's other long work does, and the status messages there for a few seconds."""
        for w in (self.progress, self.cancel_button):
            bar.addPermanentWidget(w)
        self.status.connect(lambda msg: bar.showMessage(msg, 6000))

    def _busy(self, on: bool) -> None:
        self.progress.setValue(0)
        self.progress.setVisible(on)
        self.cancel_button.setVisible(on)
        self.measure_button.setEnabled(not on)
        self.open_button.setEnabled(not on)

    def _on_failed(self, exc, tb: str) -> None:
        msg = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        self.summary.setText(f"<span style='color:{NEGATIVE_COLOR.name()}'>Cannot measure: {html.escape(msg)}</span>")
        self.failed.emit(msg)

    # --- rendering -------------------------------------------------------------------------------
    def _on_finished(self, r) -> None:
        self.realisation = r
        self.show_realisation(r)
        self.status.emit("Realised savings measured")
        self.measured.emit(r)

    def show_realisation(self, r) -> None:
        t = self.table
        t.clear()
        t.setColumnCount(len(COLUMNS))
        t.setRowCount(len(r.changes))
        t.setHorizontalHeaderLabels(COLUMNS)
        for i, c in enumerate(r.changes):
            for j, text in enumerate(change_cells(c)):
                it = QTableWidgetItem(text)
                it.setToolTip(text)
                if 0 < j < 8:
                    it.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if j == 3 and c.significant:
                    it.setForeground(QBrush(POSITIVE_COLOR if c.change < 0 else NEGATIVE_COLOR))
                t.setItem(i, j, it)
        t.verticalHeader().setVisible(False)
        t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        t.resizeColumnsToContents()
        b, a = r.before, r.after
        when = f"go-live {r.go_live}: " if r.go_live else ""
        self.summary.setText(
            f"<b>{when}{fmt.count(b.runs)} runs before</b> ({b.span_days:,.1f} days, {b.days_with_runs} with runs) "
            f"<b>against {fmt.count(a.runs)} after</b> ({a.span_days:,.1f} days, {a.days_with_runs} with runs), "
            f"per {r.per} processed. On-demand share of cost: {fmt.pct(r.on_demand_share[0], 1)} before, "
            f"{fmt.pct(r.on_demand_share[1], 1)} after. A change is significant when its interval excludes zero "
            f"(coloured).")
        self.note.setText(r.method + "".join(f" Note: {n}." for n in r.notes))
