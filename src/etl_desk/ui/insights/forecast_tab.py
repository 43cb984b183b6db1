"""The Forecast & budget tab on the Insights page: where the bill of the runs in the filter is heading.

A read-only view of the window's one :class:`~etl_desk.ui.insights.forecast_job.ForecastJob` (the
Dashboard's time view owns it and draws the same result over its columns): the job is computed
once and both views show it. This tab renders core's figures and computes nothing itself:
the total of the next 30 / 60 / 90 days with its 80 % and 95 % bands
(:meth:`~etl_desk.core.insights.forecast.Forecast.period_total`; a band core cannot measure
reads "unknown", and a period past the forecast's days says so), the backtest's measured
coverage (:func:`~etl_desk.ui.insights.forecast_view.coverage_text`), one row per pipeline when
core returned pipelines, and the month against the budget
(:class:`~etl_desk.ui.insights.budget_chart.BudgetChart`). Days ahead and the budget are set on
the time view (days ahead here too: one setting); while this tab is on screen the job runs (progress and
Cancel here too).
"""
from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from etl_desk.core import fmt
from etl_desk.ui.insights.budget_chart import BudgetChart
from etl_desk.ui.insights.forecast_job import (
    MAX_DAYS,
    MIN_DAYS,
    ForecastJob,
    ForecastOutcome,
)
from etl_desk.ui.insights.forecast_view import coverage_text
from etl_desk.ui.widgets.busy import progress_and_cancel

PERIODS = (30, 60, 90)
TOTAL_HEADERS = ["Next", "Forecast cost", "80 % band", "95 % band"]


def band_text(totals: dict, level: int) -> str:
    """'$lo–$hi' of *totals* (core's period_total) at *level* %, or why it is unknown."""
    lo, hi = totals[f"lo{level}"], totals[f"hi{level}"]
    if lo is None or hi is None:
        return "unknown (too few past periods this long)"
    return fmt.from_to(fmt.usd(lo, 0), fmt.usd(hi, 0), "–")


def _item(text: str, right: bool = True) -> QTableWidgetItem:
    it = QTableWidgetItem(text)
    it.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    if right:
        it.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return it


def _table(name: str, headers: list[str]) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setObjectName(name)
    t.setHorizontalHeaderLabels(headers)
    t.verticalHeader().setVisible(False)
    t.verticalHeader().setDefaultSectionSize(20)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    t.horizontalHeader().setStretchLastSection(True)
    return t


class ForecastTab(QWidget):
    """Public: ``job`` (the shared ForecastJob), ``outcome`` (what is shown), ``title``, ``totals`` /
    ``pipelines`` (QTableWidget), ``coverage``, ``budget_chart``, ``progress`` / ``cancel``."""

    def __init__(self, job: ForecastJob, parent=None):
        super().__init__(parent)
        self.setObjectName("forecastTab")
        self.job = job
        self.outcome: ForecastOutcome | None = None
        self.title = QLabel()
        self.title.setObjectName("forecastTabTitle")
        self.title.setWordWrap(True)
        self.progress, self.cancel = progress_and_cancel(
            "forecastTab", "Forecast", "Stop the forecast; the tab keeps what it showed", job.cancel)
        self.days = QSpinBox()
        self.days.setObjectName("forecastTabDays")
        self.days.setRange(MIN_DAYS, MAX_DAYS)
        self.days.setValue(job.days)
        self.days.setPrefix("Next ")
        self.days.setSuffix(" days")
        self.days.setKeyboardTracking(False)
        self.days.setToolTip("How many days ahead to forecast (the same setting as the Dashboard's time view; "
                             "90 gives the 60- and 90-day totals)")
        self.days.valueChanged.connect(job.set_days)
        job.daysChanged.connect(self.days.setValue)
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.days, 0, Qt.AlignmentFlag.AlignTop)
        head.addWidget(self.progress, 0, Qt.AlignmentFlag.AlignTop)
        head.addWidget(self.cancel, 0, Qt.AlignmentFlag.AlignTop)
        self.totals = _table("forecastTotals", TOTAL_HEADERS)
        self.totals.setRowCount(len(PERIODS))
        self.totals.horizontalHeader().setStretchLastSection(False)
        self.totals.setFixedHeight(self.totals.horizontalHeader().sizeHint().height() + 20 * len(PERIODS) + 4)
        self.coverage = QLabel()
        self.coverage.setObjectName("forecastTabCoverage")
        self.coverage.setWordWrap(True)
        self.budget_note = QLabel()  # no budget: this line instead of an empty chart
        self.budget_note.setObjectName("forecastTabBudgetNote")
        self.budget_note.setWordWrap(True)
        self.pipelines = _table("forecastPipelines", ["Pipeline", "Next 30 days", "80 % band"])
        self.budget_chart = BudgetChart()
        split = QSplitter(Qt.Orientation.Vertical)
        split.setObjectName("forecastTabSplitter")
        split.setChildrenCollapsible(False)
        split.addWidget(self.pipelines)
        split.addWidget(self.budget_chart)
        self.split = split
        v = QVBoxLayout(self)
        v.setContentsMargins(4, 4, 4, 4)
        v.addLayout(head)
        v.addWidget(self.totals)
        v.addWidget(self.coverage)
        v.addWidget(self.budget_note)
        v.addWidget(split, 1)
        job.resultReady.connect(self.show_outcome)
        job.failed.connect(lambda msg: self.title.setText(
            f"<span style='color:#C0392B'>Forecast failed: {html.escape(msg)}</span>"))
        job.busyChanged.connect(self._set_busy)
        job.progress.connect(self._set_progress)
        job.job.state.datasetChanged.connect(lambda: self.show_outcome(None))  # new data: the old forecast is gone
        self._set_busy(job.busy)
        self.show_outcome(job.result)

    # the forecast takes seconds of CPU at 1M runs: the shared job runs while a view of it is on screen
    def showEvent(self, ev) -> None:  # noqa: N802 - Qt API
        super().showEvent(ev)
        self.job.watch(self, True)
        if self.outcome is not self.job.result:
            self.show_outcome(self.job.result)

    def hideEvent(self, ev) -> None:  # noqa: N802 - Qt API
        super().hideEvent(ev)
        self.job.watch(self, False)

    def _set_busy(self, busy: bool) -> None:
        self.progress.setRange(0, 0)
        self.progress.setVisible(busy)
        self.cancel.setVisible(busy)

    def _set_progress(self, fraction: float) -> None:
        if fraction > 0:
            self.progress.setRange(0, 100)
            self.progress.setValue(int(round(fraction * 100)))

    # --- rendering -------------------------------------------------------------------------------
    def show_outcome(self, out: ForecastOutcome | None) -> None:
        """Show the job's result (None: nothing yet)."""
        self.outcome = out
        total = out.forecast.total if out is not None else None
        for r in range(len(PERIODS)):
            for c in range(len(TOTAL_HEADERS)):
                self.totals.setItem(r, c, _item("", c > 0))
        self.pipelines.setRowCount(0)
        if out is None:
            self.title.setText("Forecast: not computed yet (it runs on the runs in the filter while this tab or the "
                               "Dashboard's time view is on screen).")
            self.coverage.setText("")
            self.pipelines.setVisible(False)
            self._show_budget(None)
            return
        if total is None:
            self.title.setText("<b>No forecast</b>: " + html.escape(" ".join(out.forecast.notes)))
            self.coverage.setText("")
        else:
            self.title.setText(
                f"<b>Cost forecast of the runs in the filter</b>, the next {out.days} days (the same forecast as the "
                f"Dashboard's time view, where the budget is set). {html.escape(total.method)}")
            for r, days in enumerate(PERIODS):
                self.totals.setItem(r, 0, _item(f"{days} days", False))
                if days > len(total.frame):
                    past = f"beyond the {len(total.frame)}-day forecast (set Next to {days} days above)"
                    self.totals.setItem(r, 1, _item(past, False))
                    self.totals.setSpan(r, 1, 1, 3)
                    continue
                if self.totals.columnSpan(r, 1) > 1:
                    self.totals.setSpan(r, 1, 1, 1)
                t = total.period_total(days)
                self.totals.setItem(r, 1, _item(fmt.usd(t["mean"], 0)))
                self.totals.setItem(r, 2, _item(band_text(t, 80)))
                self.totals.setItem(r, 3, _item(band_text(t, 95)))
            notes = " ".join(total.notes + out.forecast.notes)
            self.coverage.setText(coverage_text(total.backtest) + (f" {notes}" if notes else ""))
        pipes = out.forecast.pipelines
        self.pipelines.setVisible(bool(pipes))
        self.pipelines.setRowCount(len(pipes))
        for r, (name, f) in enumerate(sorted(pipes.items(), key=lambda kv: -kv[1].period_total(30)["mean"])):
            t = f.period_total(30)
            self.pipelines.setItem(r, 0, _item(name, False))
            self.pipelines.setItem(r, 1, _item(fmt.usd(t["mean"], 0)))
            self.pipelines.setItem(r, 2, _item(band_text(t, 80)))
        self._show_budget(out.budget)

    def _show_budget(self, status) -> None:
        """The month against the budget (core's BudgetStatus), or one line saying where to set one."""
        self.budget_chart.setVisible(status is not None)
        self.budget_note.setVisible(status is None)
        if status is not None:
            self.budget_chart.show_status(status)
        elif self.job.budget is not None:
            self.budget_note.setText("Budget: waiting for the forecast.")
        else:
            self.budget_note.setText("No monthly budget set: set one on the Dashboard's time view (Budget / month) "
                                     "to see the month against it here.")
