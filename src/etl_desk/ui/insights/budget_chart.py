"""The month against its budget: running cost to date, the forecast to month-end with its 80/95 % bands,
the budget line and the day it is expected to be crossed.

It draws :class:`etl_desk.core.insights.budget.BudgetStatus` as core computes it (``daily``:
running totals ``actual``, ``forecast``, ``lo80``..``hi95`` per day of the month) and states
``reason`` in words; x is the day of the month (1 = the first). The legend is a strip above
the plot, never on it.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from etl_desk.core import fmt
from etl_desk.core.insights.budget import BudgetStatus
from etl_desk.ui.insights.forecast_view import (BAND80_ALPHA, BAND95_ALPHA, BUDGET_COLOR, FORECAST_COLOR, band_brush,
                                                key_swatch)
from etl_desk.ui.widgets.plots import follow_palette, set_axis_label, without_menus

ACTUAL_COLOR = "#4A4A4A"


class _UsdAxis(pg.AxisItem):
    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph API
        return [fmt.usd_short(v) for v in values]


class BudgetChart(QWidget):
    """Public: ``plot``, ``actual`` / ``forecast`` (PlotDataItem), ``edges`` and ``band80`` / ``band95``,
    ``budget_line`` / ``crossing_line`` (InfiniteLine), ``month_end`` (ErrorBarItem), ``summary`` label,
    ``status`` (what is drawn); ``show_status(BudgetStatus | None)``."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("budgetChart")
        self.status: BudgetStatus | None = None
        self.plot = pg.PlotWidget(axisItems={"left": _UsdAxis("left")})
        self.plot.setObjectName("budgetPlot")
        pi = self.plot.getPlotItem()
        pi.hideButtons()
        without_menus(pi)
        pi.showGrid(x=False, y=True, alpha=0.2)
        pi.setMouseEnabled(x=False, y=False)
        set_axis_label(pi, "left", "Cost (USD)")  # running total of the month: short enough for a low dock
        set_axis_label(pi, "bottom", "Day of the month")
        self.edges = {n: pg.PlotCurveItem([], [], pen=None) for n in ("lo80", "hi80", "lo95", "hi95")}
        self.band95 = pg.FillBetweenItem(self.edges["lo95"], self.edges["hi95"], brush=band_brush(BAND95_ALPHA))
        self.band80 = pg.FillBetweenItem(self.edges["lo80"], self.edges["hi80"], brush=band_brush(BAND80_ALPHA))
        self.forecast = pg.PlotDataItem([], [], pen=pg.mkPen(FORECAST_COLOR, width=2, style=Qt.PenStyle.DashLine))
        self.actual = pg.PlotDataItem([], [], pen=pg.mkPen(ACTUAL_COLOR, width=2.5))
        self.month_end = pg.ErrorBarItem(x=np.zeros(0), y=np.zeros(0), beam=0.4, pen=pg.mkPen(FORECAST_COLOR, width=2))
        self.budget_line = pg.InfiniteLine(angle=0, movable=False, pen=pg.mkPen(BUDGET_COLOR, width=2))
        self.crossing_line = pg.InfiniteLine(angle=90, movable=False,
                                             pen=pg.mkPen(BUDGET_COLOR, width=1.5, style=Qt.PenStyle.DotLine))
        for it in (*self.edges.values(), self.band95, self.band80, self.forecast, self.actual, self.month_end,
                   self.budget_line, self.crossing_line):
            pi.addItem(it)
        follow_palette(self.plot, self._palette_changed)

        legend = QHBoxLayout()
        legend.setContentsMargins(4, 0, 4, 0)
        legend.setSpacing(4)
        for sw, text in ((key_swatch(ACTUAL_COLOR, 4), "spent so far"),
                         (key_swatch(FORECAST_COLOR, 4, dashed=True), "forecast"),
                         (key_swatch(band_brush(BAND80_ALPHA)), "80 %"),
                         (key_swatch(band_brush(BAND95_ALPHA)), "95 % band"),
                         (key_swatch(BUDGET_COLOR, 4), "budget"),
                         (key_swatch(BUDGET_COLOR, 4, dashed=True), "expected crossing")):
            legend.addWidget(sw, 0, Qt.AlignmentFlag.AlignVCenter)
            legend.addWidget(QLabel(text))
            legend.addSpacing(4)
        legend.addStretch(1)
        self.summary = QLabel("Set a monthly budget above to see the month against it.")
        self.summary.setObjectName("budgetSummary")
        self.summary.setWordWrap(True)
        v = QVBoxLayout(self)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(2)
        v.addLayout(legend)
        v.addWidget(self.plot, 1)
        v.addWidget(self.summary)
        self.show_status(None)

    def _palette_changed(self, pal: QPalette) -> None:
        self.actual.setPen(pg.mkPen(pal.color(QPalette.ColorRole.Text), width=2.5))

    def crossing_day(self) -> int | None:
        """Day of the month drawn as the expected crossing (None when not drawn)."""
        return int(round(self.crossing_line.value())) if self.crossing_line.isVisible() else None

    def show_status(self, st: BudgetStatus | None, message: str | None = None) -> None:
        """Draw *st* (None: nothing, with *message* or the hint to set a budget)."""
        self.status = st
        if st is None or st.daily is None or not len(st.daily):
            for c in (*self.edges.values(),):
                c.setData([], [])
            self.forecast.setData([], [])
            self.actual.setData([], [])
            self.month_end.setData(x=np.zeros(0), y=np.zeros(0), top=np.zeros(0), bottom=np.zeros(0))
            self.budget_line.setVisible(st is not None)
            self.crossing_line.setVisible(False)
            if st is not None:
                self.budget_line.setValue(st.budget.amount_usd)
            self.summary.setText(message or (st.reason if st is not None else
                                             "Set a monthly budget above to see the month against it."))
            # an empty month, not pyqtgraph's default range of an empty plot (it read -400..400 x0.001)
            pi = self.plot.getPlotItem()
            pi.setXRange(1, 31, padding=0.02)
            top = st.budget.amount_usd * 1.1 if st is not None else 1.0
            pi.setYRange(0, top, padding=0)
            pi.getAxis("left").setStyle(showValues=st is not None)
            return
        self.plot.getPlotItem().getAxis("left").setStyle(showValues=True)
        d = st.daily
        x = pd.to_datetime(d["day"]).dt.day.to_numpy(dtype=np.float64)
        act = d["actual"].to_numpy(float)
        fc = d["forecast"].to_numpy(float)
        have = np.isfinite(act)
        self.actual.setData(x[have], act[have])
        # the forecast line starts from the last actual day, so the two meet
        fmask = np.isfinite(fc)
        if have.any() and fmask.any():
            last = int(np.flatnonzero(have)[-1])
            fx = np.concatenate([[x[last]], x[fmask]])
            self.forecast.setData(fx, np.concatenate([[act[last]], fc[fmask]]))
            for n, c in self.edges.items():
                c.setData(fx, np.concatenate([[act[last]], d[n].to_numpy(float)[fmask]]))
        else:
            self.forecast.setData(x[fmask], fc[fmask])
            for n, c in self.edges.items():
                c.setData(x[fmask], d[n].to_numpy(float)[fmask])
        if st.month_end is not None and fmask.any():
            xe = np.array([x[-1]])
            self.month_end.setData(x=xe, y=np.array([st.month_end]),
                                   top=np.array([st.month_end_hi95 - st.month_end]),
                                   bottom=np.array([st.month_end - st.month_end_lo95]))
        else:
            self.month_end.setData(x=np.zeros(0), y=np.zeros(0), top=np.zeros(0), bottom=np.zeros(0))
        amount = st.budget.amount_usd
        self.budget_line.setValue(amount)
        self.budget_line.setVisible(True)
        if st.crossing:
            self.crossing_line.setValue(float(pd.Timestamp(st.crossing).day))
            self.crossing_line.setVisible(True)
        else:
            self.crossing_line.setVisible(False)
        top = max(amount, float(np.nanmax(d[["actual", "hi95"]].to_numpy(float))) if len(d) else amount)
        pi = self.plot.getPlotItem()
        pi.setXRange(0.5, st.days_in_month + 0.5, padding=0)
        pi.setYRange(0, top * 1.08, padding=0)
        band95 = (f" 95 % band of the month-end: {fmt.from_to(fmt.usd(st.month_end_lo95, 0), fmt.usd(st.month_end_hi95, 0), '–')}."
                  if st.month_end_lo95 is not None else "")
        self.summary.setText(f"<b>{st.status.capitalize()}</b> — {st.reason}{band95}")
