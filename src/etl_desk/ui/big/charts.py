"""The three bar charts over a big history: the Dashboard's :class:`BarChart`, fed by the engine.

Grouped views (per day, week, month, pipeline) are ordinary dashboard views built
from the index's rollups, drawn by the base class unchanged. A chart not on screen (another
page shown) draws nothing and asks nothing: it is marked stale and redrawn when shown. Per run, nothing per
run is held: for the bars in view the chart asks the state for the rows to draw
(:meth:`BigState.run_rows`): exact runs when they fit the pixel rows, else one row per
pyramid block of equal size, each the mean of its runs with the failed runs' part in
blue (so the blue share of the drawn length is the failed share of the runs in view,
the rule of :mod:`etl_desk.core.dashboard.lod`) and the largest run as the grey envelope.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from etl_desk.core import fmt
from etl_desk.core.dashboard.lod import snap_to_pixels
from etl_desk.core.data.schema import FAILED, STATUS_COLORS, SUCCESS
from etl_desk.ui.big.state import RunView
from etl_desk.ui.dashboard.charts import BAR_HEIGHT, DIM_ALPHA, BarChart, _color
from etl_desk.ui.widgets.plots import set_axis_label


class BigBarChart(BarChart):
    """One metric over a big history (``state`` is a :class:`~etl_desk.ui.big.state.BigState`). ``stale``: "view"
    or "draw" when the view or its drawing changed while the chart was not on screen (done when shown), else ""."""

    def __init__(self, metric: str, state, *, show_job_labels: bool = True, parent=None):
        self.waiting = pg.TextItem(anchor=(0.5, 0.5))
        # "view": the view changed while the chart was not on screen, "draw": the selection or the rows did;
        # done when shown
        self.stale = ""
        super().__init__(metric, state, show_job_labels=show_job_labels, parent=parent)
        self.setObjectName(f"bigChart_{metric}")
        self.waiting.setZValue(100)
        self.getPlotItem().vb.addItem(self.waiting, ignoreBounds=True)
        state.rowsReady.connect(self._rows_arrived)
        self.drawn = None  # the RunRows last drawn (per-run views)

    @property
    def per_run(self) -> bool:
        return isinstance(self.view, RunView)

    def _rows_arrived(self) -> None:
        """The runs in view came from the scan lane: draw them, and relabel the job axis (its ticks were drawn
        with positions, "#1,234", before the run IDs were known)."""
        self._redraw()
        if self.isVisible():
            self.job_axis.picture = None
            self.job_axis.update()

    def showEvent(self, ev) -> None:  # noqa: N802 - Qt API
        super().showEvent(ev)
        stale, self.stale = self.stale, ""
        if stale == "view":
            self.on_view_changed()
        elif stale == "draw":
            self._redraw()

    def _redraw(self, *args) -> None:
        if not self.isVisible():  # drawn when shown (nothing is asked of the engine for a hidden chart)
            self.stale = self.stale or "draw"
            return
        super()._redraw(*args)

    def on_view_changed(self) -> None:
        if not self.isVisible():
            self.stale = "view"
            return
        self.stale = ""
        v = self.view
        self.drawn = None
        if not isinstance(v, RunView):
            self.waiting.setText("")
            super().on_view_changed()
            return
        self.job_axis.set_view(v)
        if self.show_job_labels:
            set_axis_label(self.getPlotItem(), "left", "Job ID")
        n = v.n_bars
        self.vb.setLimits(xMin=None, xMax=None, yMin=-0.6, yMax=max(n, 1) - 0.4, minYRange=3,
                          maxYRange=max(n, 3) + 2)
        self.vb.scroll_limit = (-0.6, max(n, 1) - 0.4)
        self.waiting.setText(v.waiting if n == 0 and v.waiting and self.show_job_labels else "")
        self.reset_zoom()
        x0, x1 = self.vb.viewRange()[0]
        self.waiting.setPos((x0 + x1) / 2, 2.0)
        self._redraw()

    def _draw(self) -> None:
        v = self.view
        if not isinstance(v, RunView):
            super()._draw()
            return
        empty = dict(x0=np.zeros(0), y=np.zeros(0), width=np.zeros(0), height=BAR_HEIGHT)
        if v.n_bars == 0:
            for it in self.items.values():
                it.setOpts(**empty)
            self._set_lod(1)
            return
        i0, i1 = self.visible_range()
        i0, i1 = max(0, i0 - 1), min(v.n_bars, i1 + 1)
        rr = self.state.run_rows(i0, i1, max(1.0, self.vb.height()))
        if rr is None:
            return  # a worker computes them; rowsReady redraws
        self.drawn = rr
        m, lod = self.metric_key, rr.lod
        self._set_lod(lod)
        total, failed, env = rr.total[m], rr.failed[m], rr.envelope[m]
        binned = lod > 1
        self._fit_value_axis(env if not binned or not len(total)
                             else np.array([np.percentile(total, 99) * 1.15]))
        h = BAR_HEIGHT
        sel = self._selected_rows(rr)
        alpha = DIM_ALPHA if sel is not None and sel.any() else 255
        if binned:
            x0, x1 = self.vb.viewRange()[0]
            ppu = self.vb.width() / (x1 - x0) if x1 > x0 else 0.0
            total, failed = snap_to_pixels(total, ppu), snap_to_pixels(failed, ppu)
            h = lod * 0.98
        self.items["envelope"].setOpts(x0=0.0, y=rr.y if binned else np.zeros(0), height=h,
                                       width=env if binned else np.zeros(0))
        self.items["total"].setOpts(x0=0.0, y=rr.y, height=h, width=total, brush=_color(STATUS_COLORS[SUCCESS], alpha))
        fm = failed > 0
        self.items["failed"].setOpts(x0=0.0, y=rr.y[fm], height=h, width=failed[fm],
                                     brush=_color(STATUS_COLORS[FAILED], alpha))
        if sel is not None and sel.any():
            self.items["sel_total"].setOpts(x0=0.0, y=rr.y[sel], height=h, width=total[sel])
            sf = sel & fm
            self.items["sel_failed"].setOpts(x0=0.0, y=rr.y[sf], height=h, width=failed[sf])
        else:
            for k in ("sel_total", "sel_failed"):
                self.items[k].setOpts(x0=0.0, y=np.zeros(0), height=h, width=np.zeros(0))

    def _selected_rows(self, rr):
        """Exact rows whose run is in a hand-picked selection (other selections show in the table and counts)."""
        sel = self.state.selection
        if sel is None or sel.run_ids is None or rr.rows is None:
            return None
        return rr.rows["run_id"].astype(str).isin(list(sel.run_ids)).to_numpy(dtype=bool)

    def bar_at(self, x: float, y: float) -> int:
        if not self.per_run:
            return super().bar_at(x, y)
        i = self.row_at(y)
        return i if i >= 0 and x >= 0 else -1

    def tooltip_html(self, i: int) -> str:
        if not self.per_run:
            return super().tooltip_html(i)
        row = self.state.rows_at(i)
        if row is not None:
            pairs = [("Job ID", str(row["run_id"])), ("Pipeline", str(row["job_name"])),
                     ("Status", str(row["status"])), ("Start", f"{row['start_time']:%Y-%m-%d %H:%M:%S}"),
                     ("Duration", fmt.minutes(row["duration_min"])), ("Data processed", fmt.gb(row["data_processed_gb"])),
                     ("Cost", fmt.usd(row["cost_usd"], missing="unknown"))]
        else:
            rr = self.drawn
            if rr is None or not len(rr.y):
                return ""
            k = int(np.clip(np.searchsorted(rr.y - (rr.runs - 1) / 2.0, i, side="right") - 1, 0, len(rr.y) - 1))
            first = int(rr.y[k] - (rr.runs[k] - 1) / 2.0)
            runs, nf = int(rr.runs[k]), int(rr.failed_runs[k])
            m = self.metric_key
            unit = fmt.usd if m == "cost_usd" else fmt.gb if m == "data_processed_gb" else fmt.minutes
            pairs = [("Runs", f"{first + 1:,}–{first + runs:,} ({runs:,} runs, {nf:,} failed)"),
                     ("Mean", unit(rr.total[m][k])), ("Largest", unit(rr.envelope[m][k])),
                     ("", "Zoom in (Ctrl+wheel) to see the runs")]
        rows = "".join(f"<tr><td style='color:#666;padding-right:8px'>{k}</td><td><b>{v}</b></td></tr>"
                       for k, v in pairs)
        return f"<table>{rows}</table>"

    def _on_drag(self, y0: float, y1: float, mods) -> None:
        if not self.per_run or self._lod == 1:
            super()._on_drag(y0, y1, mods)

    def _on_click(self, y: float, mods) -> None:
        if self.per_run and self._lod > 1:
            return  # a row of thousands of runs: zoom in to pick runs
        super()._on_click(y, mods)
