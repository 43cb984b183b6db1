"""The time view: cost of the runs in the filter per day or per week, failed part in blue at the
bottom of each column, the least-squares trend line over it, the selection outlined.

It reads the same state as the bar charts (filter and selection) and computes
nothing itself: :func:`etl_desk.core.dashboard.timeline.cost_timeline` does.
Clicking a column selects the runs of that period (Ctrl adds, like the bar charts).

Per day, the next N days' cost forecast follows the columns with its 80 % and 95 % bands
(core's :func:`~etl_desk.core.insights.forecast.forecast_costs`, run off the UI thread by
:class:`~etl_desk.ui.insights.forecast_job.ForecastJob` with progress and Cancel); the
"Month vs budget" tab draws the budget's status (:func:`~etl_desk.core.insights.budget.budget_status`)
when a monthly budget is set. Days ahead and the budget persist in the settings.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QTabWidget, QVBoxLayout, QWidget

from etl_desk.core import fmt
from etl_desk.core.dashboard.timeline import FREQS, Timeline, cost_timeline
from etl_desk.core.data.schema import FAILED, STATUS_COLORS, SUCCESS
from etl_desk.ui.dashboard.chart_parts import FastBars
from etl_desk.ui.insights.budget_chart import BudgetChart
from etl_desk.ui.insights.forecast_job import ForecastJob
from etl_desk.ui.insights.forecast_view import ForecastControls, ForecastLayer, coverage_text
from etl_desk.ui.widgets.plots import follow_palette, set_axis_label, without_menus

COLUMN_WIDTH = 0.8
TREND_COLOR = "#6B4C9A"  # not a status colour: the trend is neither success nor failure


def summary_text(t: Timeline, unit: str, unknown: int) -> str:
    """The line above the time view: columns, failed share of the cost, least-squares trend, runs left out."""
    note = f"; {fmt.count(unknown)} runs of unknown cost left out" if unknown else ""
    if t.slope is None:
        return f"{fmt.count(t.n)} {unit}{'s' if t.n != 1 else ''}; too few for a trend{note}"
    mean = float(t.total.mean())
    sign = "+" if t.slope >= 0 else "−"
    pct = abs(t.slope / mean * 100) if mean > 0 else None
    # one minus sign for both figures, and no sign on a share that rounds to nothing ("-0.00 %")
    rel = "" if pct is None else f" ({'' if round(pct, 2) == 0 else sign}{pct:.2f} % of the mean)"
    share = fmt.pct(t.failed.sum() / t.total.sum() if t.total.sum() else None, 1)
    money = fmt.usd(abs(t.slope))
    money = money if money == fmt.usd(0.0) else sign + "\u2060" + money  # word joiner: no line break after "−"
    return (f"{fmt.count(t.n)} {unit}s; failed runs {share} of the cost; "
            f"trend {money} a {unit}{rel}{note}")


class DateAxis(pg.AxisItem):
    """Period numbers as dates (column i starts ``i`` days or weeks after the first)."""

    def __init__(self, **kw):
        super().__init__("bottom", **kw)
        self.timeline: Timeline | None = None

    def tickValues(self, minVal, maxVal, size):  # noqa: N802 - pyqtgraph API
        """Ticks on whole columns only: a tick between two days would repeat a date."""
        levels = [(sp, [v for v in vals if abs(v - round(v)) < 1e-6])
                  for sp, vals in super().tickValues(minVal, maxVal, size) if sp >= 1]
        levels = [(sp, vals) for sp, vals in levels if vals]
        if not levels and math.isfinite(minVal) and math.isfinite(maxVal):
            levels = [(1.0, [float(i) for i in range(math.ceil(minVal), math.floor(maxVal) + 1)])]
        return levels

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph API
        t = self.timeline
        out = []
        step = 7 if t is not None and t.freq == "week" else 1
        for v in values:
            i = int(round(v))
            # past the last column (the forecast's days) the dates go on at the same step
            out.append(f"{np.datetime64(t.starts[0], 'D') + i * step}" if t is not None and t.n and i >= 0 else "")
        return out


class CostAxis(pg.AxisItem):
    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph API
        return [fmt.usd_short(v) for v in values]


class TimeChart(QWidget):
    """Public: ``plot``, ``items`` (layers ``success``, ``failed``, ``selected``), ``trend`` (the line),
    ``freq`` combo, ``timeline`` (what is drawn), ``summary`` label; ``select_period(i, mods)``;
    the forecast: ``forecast_job``, ``forecast_layer``, ``forecast_controls``, ``coverage`` label,
    ``budget_chart``, ``tabs`` (cost over time | month vs budget)."""

    periodClicked = Signal(int)

    def __init__(self, state, settings=None, parent=None):
        super().__init__(parent)
        self.setObjectName("timeChart")
        self.state = state
        self.timeline: Timeline | None = None
        self.date_axis = DateAxis()
        self.plot = pg.PlotWidget(axisItems={"bottom": self.date_axis, "left": CostAxis("left")})
        self.plot.setObjectName("timePlot")
        pi = self.plot.getPlotItem()
        pi.hideButtons()
        without_menus(pi)
        pi.showGrid(x=False, y=True, alpha=0.2)
        pi.vb.setZValue(1)  # the columns over the grid lines
        set_axis_label(pi, "left", "Cost (USD)")
        pi.setMouseEnabled(x=True, y=False)
        self.items = {
            "failed": FastBars(x=[], y0=0, height=[], width=COLUMN_WIDTH, brush=STATUS_COLORS[FAILED], pen=None),
            "success": FastBars(x=[], y0=[], height=[], width=COLUMN_WIDTH, brush=STATUS_COLORS[SUCCESS], pen=None),
            "selected": FastBars(x=[], y0=0, height=[], width=COLUMN_WIDTH, brush=None,
                                 pen=pg.mkPen("#1d1d1d", width=1.5)),
        }
        for z, it in enumerate(self.items.values()):
            pi.addItem(it)
            it.setZValue(10 + z)  # after addItem, which lifts items below the view box's own z
        self.trend = pi.plot([], [], pen=pg.mkPen(TREND_COLOR, width=2, style=Qt.PenStyle.DashLine))
        self.trend.setZValue(20)
        self.forecast_layer = ForecastLayer(pi, z=15)
        self.forecast_job = ForecastJob(state, settings, parent=self)
        self.forecast_job.job.hold()  # until the view is shown
        follow_palette(self.plot, self._palette_changed)
        self.plot.scene().sigMouseClicked.connect(self._on_click)

        self.freq = QComboBox()
        self.freq.setObjectName("timeFreq")
        for key, label in FREQS.items():
            self.freq.addItem(label, key)
        self.freq.setToolTip("Sum the cost of the runs in the filter per day or per week (weeks start on Monday)")
        self.freq.currentIndexChanged.connect(self.refresh)
        self.summary = QLabel()
        self.summary.setObjectName("timeSummary")
        self.summary.setWordWrap(True)
        trend_key = QLabel()
        trend_key.setFixedSize(18, 3)
        trend_key.setStyleSheet(f"background: {TREND_COLOR};")
        head = QHBoxLayout()
        head.setContentsMargins(4, 0, 4, 0)
        head.addWidget(self.freq)
        head.addSpacing(8)
        head.addWidget(trend_key, 0, Qt.AlignmentFlag.AlignVCenter)
        head.addWidget(QLabel("trend (least squares)"))
        head.addWidget(self.summary, 1)
        job = self.forecast_job
        self.forecast_controls = fc = ForecastControls(job.days, job.budget_text)
        fc.daysChanged.connect(job.set_days)
        job.daysChanged.connect(fc.days.setValue)  # set on the Insights page's Forecast tab too
        fc.budgetEdited.connect(self.set_budget)
        fc.cancel.clicked.connect(job.cancel)
        self.coverage = QLabel()
        self.coverage.setObjectName("forecastCoverage")
        self.coverage.setWordWrap(True)
        self.budget_chart = BudgetChart()
        time_page = QWidget()
        tv = QVBoxLayout(time_page)
        tv.setContentsMargins(0, 0, 0, 0)
        tv.setSpacing(2)
        tv.addLayout(head)
        tv.addWidget(self.plot, 1)
        tv.addWidget(self.coverage)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("timeTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(time_page, "Cost over time")
        self.tabs.addTab(self.budget_chart, "Month vs budget")
        v = QVBoxLayout(self)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(2)
        v.addWidget(fc)
        v.addWidget(self.tabs, 1)
        self._mask_key = None
        state.viewChanged.connect(self.refresh)
        state.selectionChanged.connect(self._draw_selection)
        job.resultReady.connect(self._draw_forecast)
        job.busyChanged.connect(fc.set_busy)
        job.progress.connect(fc.set_progress)
        job.failed.connect(self._forecast_failed)
        state.datasetChanged.connect(lambda: self._draw_forecast(None))
        self.refresh()

    # the forecast takes seconds of CPU at 1M runs: it runs while the time view is on screen
    def showEvent(self, ev) -> None:  # noqa: N802 - Qt API
        super().showEvent(ev)
        self.forecast_job.watch(self, True)

    def hideEvent(self, ev) -> None:  # noqa: N802 - Qt API
        super().hideEvent(ev)
        self.forecast_job.watch(self, False)

    def _palette_changed(self, pal: QPalette) -> None:
        self.items["selected"].setOpts(pen=pg.mkPen(pal.color(QPalette.ColorRole.Text), width=1.5))

    # --- drawing ---------------------------------------------------------------------------------
    def refresh(self, *args) -> None:
        """Recompute when the runs in the filter (or the period) changed; a new sort order does not."""
        ds, v = self.state.dataset, self.state.view
        if ds is None or v is None:
            return
        key = (id(ds), v.row_mask.tobytes() if v.spec.filter.is_active() else None, self.freq.currentData())
        if key == self._mask_key:
            return
        self._mask_key = key
        cost = ds.values["cost_usd"]
        unknown = int(np.isnan(cost[v.row_mask]).sum())
        t = cost_timeline(ds.start_ns, cost, ds.failed, v.row_mask & ~np.isnan(cost), self.freq.currentData())
        self.timeline = self.date_axis.timeline = t
        x = np.arange(t.n, dtype=np.float64)
        self.items["failed"].setOpts(x=x, y0=0.0, height=t.failed, width=COLUMN_WIDTH)
        self.items["success"].setOpts(x=x, y0=t.failed, height=t.total - t.failed, width=COLUMN_WIDTH)
        if t.trend is not None:
            self.trend.setData(x, t.trend)
        else:
            self.trend.setData([], [])
        self._fit_ranges()
        unit = "day" if t.freq == "day" else "week"
        if unknown and not t.n:
            self.summary.setText("Cost unknown for these runs: the source has no cost (nothing to draw)")
            return
        self.summary.setText(summary_text(t, unit, unknown))
        self._draw_selection()

    def _fit_ranges(self) -> None:
        """Columns, trend and (per day) the forecast's 95 % band all in view."""
        t = self.timeline
        if t is None:
            return
        self._place_forecast()
        fl = self.forecast_layer
        end = max(t.n, int(fl.x.max()) + 1 if len(fl.x) else 0, 1)
        top = float(max(t.total.max() if t.n else 0.0, np.max(t.trend) if t.trend is not None else 0.0,
                        fl.top(), 1e-9))
        pi = self.plot.getPlotItem()
        pi.setLimits(xMin=-1, xMax=end, yMin=0)
        pi.setXRange(-0.6, end - 0.4, padding=0)
        pi.setYRange(0, top * 1.08, padding=0)

    def _place_forecast(self) -> None:
        """Core's forecast frame on this chart's x (days since the first column); per week it is not drawn."""
        t, out = self.timeline, self.forecast_job.result
        total = out.forecast.total if out is not None else None
        if t is None or t.n == 0 or total is None or t.freq != "day":
            self.forecast_layer.clear()
            return
        self.forecast_layer.draw(total.frame, t.starts[0])

    def _draw_forecast(self, out) -> None:
        total = out.forecast.total if out is not None else None
        if out is None:
            self.coverage.setText("")
        elif total is None:
            self.coverage.setText("No forecast: " + " ".join(out.forecast.notes))
        else:
            per_week = "" if self.freq.currentData() == "day" else " (drawn per day: choose Per day to see it)"
            totals = total.period_total(out.days)
            self.coverage.setText(
                f"Forecast of the next {out.days} days{per_week}: {fmt.usd(totals['mean'], 0)} "
                + (f"(80 %: {fmt.from_to(fmt.usd(totals['lo80'], 0), fmt.usd(totals['hi80'], 0), '–')}). " if totals["lo80"] is not None
                   else "(80 % band on the total: unknown, too few past periods this long). ")
                + coverage_text(total.backtest))
            self.coverage.setToolTip(f"{total.method}\n" + "\n".join(total.notes + out.forecast.notes))
        if out is not None and out.budget is not None:
            self.budget_chart.show_status(out.budget)
        elif self.forecast_job.budget is None:
            self.budget_chart.show_status(None)
        self._fit_ranges()

    def _forecast_failed(self, message: str) -> None:
        self.coverage.setText(f"Forecast failed: {message}")

    def set_budget(self, text: str) -> bool:
        """Use the monthly budget typed as *text* (empty: none); False (and the field marked) when unreadable."""
        try:
            self.forecast_job.set_budget(text)
        except ValueError as exc:
            self.forecast_controls.show_budget(text)  # the text that was refused, marked
            self.forecast_controls.set_budget_error(str(exc))
            return False
        self.forecast_controls.set_budget_error(None)
        self.forecast_controls.show_budget(self.forecast_job.budget_text)  # set from code: the field shows it
        if self.forecast_job.budget is None:
            self.budget_chart.show_status(None)
        return True

    def _draw_selection(self) -> None:
        t, ds = self.timeline, self.state.dataset
        if t is None or ds is None or not self.state.selected_count():
            self.items["selected"].setOpts(x=np.zeros(0), height=np.zeros(0))
            return
        sel = self.state.selection & self.state.view.row_mask
        s = cost_timeline(ds.start_ns, ds.values["cost_usd"], ds.failed, sel, t.freq)
        if s.n == 0:
            self.items["selected"].setOpts(x=np.zeros(0), height=np.zeros(0))
            return
        first = t.period_of(np.asarray(s.starts, dtype="datetime64[ns]").view(np.int64)[:1])[0]
        keep = s.runs > 0
        x = (first + np.arange(s.n))[keep].astype(np.float64)
        self.items["selected"].setOpts(x=x, y0=0.0, height=s.total[keep], width=COLUMN_WIDTH)

    # --- interaction -----------------------------------------------------------------------------
    def _on_click(self, ev) -> None:
        vb = self.plot.getPlotItem().vb
        if ev.button() != Qt.MouseButton.LeftButton or not vb.sceneBoundingRect().contains(ev.scenePos()):
            return
        i = int(round(vb.mapSceneToView(ev.scenePos()).x()))
        self.select_period(i, ev.modifiers())

    def select_period(self, i: int, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
        """Select the runs (in the filter) that started in period *i*; Ctrl toggles, Shift adds."""
        t, ds, v = self.timeline, self.state.dataset, self.state.view
        if t is None or ds is None or not 0 <= i < t.n:
            if not modifiers & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier):
                self.state.clear_selection()
            return
        rows = (t.period_of(ds.start_ns) == i) & v.row_mask
        mode = "toggle" if modifiers & Qt.KeyboardModifier.ControlModifier else \
            "add" if modifiers & Qt.KeyboardModifier.ShiftModifier else "replace"
        self.state.select_rows(rows, mode)
        self.periodClicked.emit(i)

    def drawn_failed_share(self) -> float | None:
        """Blue share of the drawn column height (the failed share of the cost in view)."""
        t = self.timeline
        return float(t.failed.sum() / t.total.sum()) if t is not None and t.total.sum() > 0 else None

