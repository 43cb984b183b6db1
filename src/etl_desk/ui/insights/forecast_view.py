"""The forecast drawn over the daily-cost chart, and its controls (days ahead, budget, progress, cancel).

:class:`ForecastLayer` draws core's :class:`~etl_desk.core.insights.forecast.Forecast` frame
(``mean``, ``lo80``/``hi80``, ``lo95``/``hi95``, USD a day) as a dashed line inside two
shaded bands on a plot whose x is "days since the first drawn day". :class:`ForecastControls`
is the strip above the chart: the legend of those layers (outside the plot), the number of
days ahead, the monthly budget, and the job's progress with a Cancel button.
:func:`coverage_text` states the backtest's measured coverage in words.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QSpinBox, QWidget

from etl_desk.core import fmt
from etl_desk.core.insights.forecast import Backtest
from etl_desk.ui.insights.forecast_job import MAX_DAYS, MIN_DAYS
from etl_desk.ui.widgets.busy import progress_and_cancel

FORECAST_COLOR = "#2E8B86"  # neither status colour nor the trend's purple
BAND80_ALPHA, BAND95_ALPHA = 95, 45
BUDGET_COLOR = "#C0392B"


def band_brush(alpha: int) -> QColor:
    c = QColor(FORECAST_COLOR)
    c.setAlpha(alpha)
    return c


def key_swatch(color, height: int = 10, dashed: bool = False) -> QLabel:
    """A small coloured box (or a line when *height* is small) for a legend strip outside the plot."""
    lab = QLabel()
    lab.setFixedSize(18, height)
    c = QColor(color)
    rgba = f"rgba({c.red()},{c.green()},{c.blue()},{c.alpha()})"
    lab.setStyleSheet(f"border-top: 2px dashed {rgba};" if dashed else f"background: {rgba};")
    return lab


def coverage_text(bt: Backtest | None) -> str:
    """The backtest in words: how often the bands held the actual cost on past days (or why unknown)."""
    if bt is None or bt.coverage80 is None:
        return "Backtest: too little history to measure how often the bands hold."
    mape = f"; the dashed line was off by {fmt.pct(bt.mape, 0)} on an average day" if bt.mape is not None else ""
    return (f"Backtest over the last {bt.weeks} weeks ({fmt.count(bt.days)} days): the 80 % band held the actual "
            f"cost on {fmt.pct(bt.coverage80, 0)} of days, the 95 % band on {fmt.pct(bt.coverage95, 0)}{mape}.")


class ForecastLayer:
    """Public: ``mean`` (PlotDataItem), ``band80`` / ``band95`` (FillBetweenItem) and their edges
    ``edges[name]`` (lo80, hi80, lo95, hi95); ``x`` / ``frame`` of what is drawn."""

    def __init__(self, plot_item, z: float = 15):
        self.edges = {n: pg.PlotCurveItem([], [], pen=None) for n in ("lo80", "hi80", "lo95", "hi95")}
        self.band95 = pg.FillBetweenItem(self.edges["lo95"], self.edges["hi95"], brush=band_brush(BAND95_ALPHA))
        self.band80 = pg.FillBetweenItem(self.edges["lo80"], self.edges["hi80"], brush=band_brush(BAND80_ALPHA))
        self.mean = pg.PlotDataItem([], [], pen=pg.mkPen(FORECAST_COLOR, width=2, style=Qt.PenStyle.DashLine))
        for i, it in enumerate([*self.edges.values(), self.band95, self.band80, self.mean]):
            plot_item.addItem(it)
            it.setZValue(z + (i if i > 3 else 0))
        self.x = np.zeros(0)
        self.frame: pd.DataFrame | None = None

    def draw(self, frame: pd.DataFrame | None, first_day: np.datetime64 | None) -> None:
        """Draw *frame* (core's forecast columns) with x = days since *first_day*; None clears."""
        if frame is None or first_day is None or not len(frame):
            self.clear()
            return
        day0 = np.datetime64(first_day, "D")
        days = np.asarray(frame["day"].to_numpy(), dtype="datetime64[D]")
        self.x = (days - day0).astype(np.float64)
        self.frame = frame
        for n, c in self.edges.items():
            c.setData(self.x, frame[n].to_numpy(float))
        self.mean.setData(self.x, frame["mean"].to_numpy(float))

    def clear(self) -> None:
        self.x, self.frame = np.zeros(0), None
        for c in self.edges.values():
            c.setData([], [])
        self.mean.setData([], [])

    def top(self) -> float:
        return float(self.frame["hi95"].max()) if self.frame is not None else 0.0

    def set_visible(self, on: bool) -> None:
        for it in (*self.edges.values(), self.band95, self.band80, self.mean):
            it.setVisible(on)


class ForecastControls(QWidget):
    """The strip above the time view. Signals ``daysChanged(int)``, ``budgetEdited(str)``; ``cancel`` button."""

    daysChanged = Signal(int)
    budgetEdited = Signal(str)

    def __init__(self, days: int, budget_text: str, parent=None):
        super().__init__(parent)
        self.setObjectName("forecastControls")
        h = QHBoxLayout(self)
        h.setContentsMargins(4, 0, 4, 0)
        h.setSpacing(4)
        for sw, text in ((key_swatch(FORECAST_COLOR, 4, dashed=True), "forecast"),
                         (key_swatch(band_brush(BAND80_ALPHA)), "80 %"),
                         (key_swatch(band_brush(BAND95_ALPHA)), "95 % band")):
            h.addWidget(sw, 0, Qt.AlignmentFlag.AlignVCenter)
            h.addWidget(QLabel(text))
        h.addSpacing(10)
        self.days = QSpinBox()
        self.days.setObjectName("forecastDays")
        self.days.setRange(MIN_DAYS, MAX_DAYS)
        self.days.setValue(days)
        self.days.setSuffix(" days")
        self.days.setKeyboardTracking(False)
        self.days.setToolTip("How many days ahead to forecast the daily cost of the runs in the filter")
        self.days.valueChanged.connect(self.daysChanged)
        h.addWidget(QLabel("Next"))
        h.addWidget(self.days)
        h.addSpacing(10)
        h.addWidget(QLabel("Budget / month $"))
        self.budget = QLineEdit(budget_text)
        self.budget.setObjectName("budgetInput")
        self.budget.setPlaceholderText("none")
        self.budget.setClearButtonEnabled(True)
        self.budget.setMinimumWidth(90)
        self.budget.setMaximumWidth(200)
        self.budget.setToolTip("Monthly budget in USD, e.g. 25000 or 25k; 25k:team=finance counts only runs "
                               "tagged team=finance. Empty: no budget. Press Enter to apply.")
        self._budget_tip = self.budget.toolTip()
        self.budget.editingFinished.connect(lambda: self.budgetEdited.emit(self.budget.text()))
        h.addWidget(self.budget)
        self.progress, self.cancel = progress_and_cancel(
            "forecast", "Forecast", "Stop the forecast; the chart keeps what it showed", width=90)  # the time chart connects it
        h.addWidget(self.progress)
        h.addWidget(self.cancel)
        h.addStretch(1)

    def set_busy(self, busy: bool) -> None:
        # a moving bar until core reports a fraction (the all-runs fit is one step: it reports at its end)
        self.progress.setRange(0, 0)
        self.progress.setVisible(busy)
        self.cancel.setVisible(busy)

    def set_progress(self, fraction: float) -> None:
        if fraction > 0:
            self.progress.setRange(0, 100)
            self.progress.setValue(int(round(fraction * 100)))

    def show_budget(self, text: str) -> None:
        """Show the budget in use (*text*, as typed) in the field; no signal (it is already applied)."""
        if self.budget.text() != text:
            self.budget.setText(text)

    def set_budget_error(self, message: str | None) -> None:
        self.budget.setStyleSheet("border: 1px solid #C0392B;" if message else "")
        self.budget.setToolTip(message or self._budget_tip)
