"""Cost over time for a big history: the Dashboard's :class:`TimeChart`, fed by the engine's rollups.

The per-day or per-week totals come from the engine's lanes (the index's cube when the filter
is one it holds; per day, the same answer the per-day bars draw), asked only while the chart
is on screen; the drawing, the trend and the summary are the time chart's own. Clicking a
column selects the runs of that period as a rule.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from etl_desk.ui.dashboard.time_chart import TimeChart, summary_text


class BigTimeChart(TimeChart):
    """The time view over a :class:`~etl_desk.ui.big.state.BigState`. ``stale``: the filter changed while it was
    not on screen (it asks for its totals when shown)."""

    def __init__(self, state, parent=None):
        self._big_key = None
        self.stale = False
        super().__init__(state, parent)
        self.setObjectName("bigTimeChart")
        # the forecast and the budget are fitted on the runs in memory, which a big history does not hold
        self.forecast_controls.setEnabled(False)
        self._draw_forecast(None)

    def _draw_forecast(self, out) -> None:
        """No forecast here: say why, in its place."""
        self.forecast_layer.clear()
        self.coverage.setText("Forecast and budget: not available on a big history yet (they are fitted on the runs "
                              "in memory); open a smaller extract, e.g. a few months, to see them.")

    def refresh(self, *args) -> None:
        """Ask for the cost per day or week of the runs in the filter -- only while on screen: hidden, the
        chart is marked stale and asks when shown (:meth:`showEvent`)."""
        st = self.state
        if st.engine is None or st.dataset is None:
            return
        if not self.isVisible():
            self.stale = True
            return
        self.stale = False
        freq, rule = self.freq.currentData(), st.rule
        key = (id(st.engine), st.stage, rule, freq)
        if key == self._big_key:
            return
        self._big_key = key
        if not st.fast(rule, freq):
            self.summary.setText(f"Summing the cost per {freq} (scanning the runs)…")

        def done(df):
            if self._big_key == key:
                self._show(df, freq)

        st.ask_rollup(freq, rule, done)

    def showEvent(self, ev) -> None:  # noqa: N802 - Qt API
        super().showEvent(ev)
        if self.stale:
            self.refresh()

    def _show(self, df, freq: str) -> None:
        from etl_desk.core.engine.views import timeline_from_rollup

        t, unknown = timeline_from_rollup(df, freq)
        self.draw_timeline(t, unknown)
        self._draw_selection()

    def draw_timeline(self, t, unknown: int) -> None:
        """Draw *t* (a Timeline) as :meth:`TimeChart.refresh` draws the one it computes from the runs."""
        self.timeline = self.date_axis.timeline = t
        x = np.arange(t.n, dtype=np.float64)
        self.items["failed"].setOpts(x=x, y0=0.0, height=t.failed, width=0.8)
        self.items["success"].setOpts(x=x, y0=t.failed, height=t.total - t.failed, width=0.8)
        if t.trend is not None:
            self.trend.setData(x, t.trend)
        else:
            self.trend.setData([], [])
        pi = self.plot.getPlotItem()
        top = float(max(t.total.max() if t.n else 0.0, np.max(t.trend) if t.trend is not None else 0.0, 1e-9))
        pi.setLimits(xMin=-1, xMax=max(t.n, 1), yMin=0)
        pi.setXRange(-0.6, max(t.n, 1) - 0.4, padding=0)
        pi.setYRange(0, top * 1.08, padding=0)
        unit = "day" if t.freq == "day" else "week"
        if unknown and not t.total.sum():
            self.summary.setText("Cost unknown for these runs: the source has no cost (nothing to draw)")
        else:
            self.summary.setText(summary_text(t, unit, unknown))

    def _draw_selection(self) -> None:
        st, t = self.state, self.timeline
        sel = st.selection
        if t is None or sel is None or not t.n or (sel.start is None and sel.end is None):
            self.items["selected"].setOpts(x=np.zeros(0), height=np.zeros(0))
            return
        starts = np.asarray(t.starts, dtype="datetime64[ns]")
        step = np.timedelta64(1 if t.freq == "day" else 7, "D")
        lo = np.datetime64(sel.start) if sel.start is not None else starts[0]
        hi = np.datetime64(sel.end) if sel.end is not None else starts[-1] + step
        keep = (starts >= lo) & (starts + step <= hi)
        x = np.flatnonzero(keep).astype(np.float64)
        self.items["selected"].setOpts(x=x, y0=0.0, height=t.total[keep], width=0.8)

    def select_period(self, i: int, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
        """Select the runs (in the filter) that started in period *i*, as a rule."""
        import pandas as pd

        from etl_desk.core.engine.rules import Rule

        t = self.timeline
        if t is None or not 0 <= i < t.n:
            self.state.clear_selection()
            return
        start = pd.Timestamp(t.starts[i])
        end = start + pd.Timedelta(days=1 if t.freq == "day" else 7)
        self.state.select_rule(Rule(start=start, end=end))
        self.periodClicked.emit(i)
