"""The three bar charts: Cost, Data Processed, Duration — horizontal bars on one job axis.

Drawn as in the case-study dashboard: bar 0 at the top, values to the right,
Success orange (#F28E2B), Failed blue (#4E79A7). Each chart draws at most a
few thousand rectangles whatever the data size:

- only bars inside the visible job range are drawn;
- when more bars are visible than the plot has pixel rows, bars are binned
  (:mod:`etl_desk.core.dashboard.lod`): each drawn row is the mean of its bars,
  split honestly into failed and successful parts, so the blue share of what is
  drawn is the failed share of the runs in view at every zoom; the largest bar
  of each row is the envelope, drawn behind in a neutral grey; exact bars
  return when zoomed in;
- every layer is one single-brush ``BarGraphItem`` (pyqtgraph's fast
  ``drawRects`` path); a selection is drawn as second layers on top, with the
  rest dimmed.

The Success / Failed legend is not drawn on the plot: the dashboard shows it
in a header strip above the charts
(:class:`~etl_desk.ui.dashboard.chart_parts.StatusLegend`).

Hit-testing and tooltips are numpy look-ups on the view's arrays.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QToolTip

from etl_desk.core.dashboard.lod import Rows, rows_to_draw, snap_to_pixels
from etl_desk.core.dashboard.view import METRIC_TITLES, View
from etl_desk.core.data.schema import FAILED, STATUS_COLORS, SUCCESS
from etl_desk.ui.dashboard.chart_parts import FastBars, JobAxis, SelectViewBox, ValueAxis
from etl_desk.ui.widgets.guard import Guard
from etl_desk.ui.widgets.plots import follow_palette, set_axis_label, without_menus

BAR_HEIGHT = 0.78
DIM_ALPHA = 70
ENVELOPE_ALPHA = 60  # the envelope: a translucent grey, readable on light and dark backgrounds
GAP_PX = 3  # between the job axis line and the start of the bars
INITIAL_BARS = 44  # like the reference dashboard's first screen

def _color(hex_: str, alpha: int = 255) -> QColor:
    c = QColor(hex_)
    c.setAlpha(alpha)
    return c


class BarChart(pg.PlotWidget):
    """One metric's chart. Renders the window's view and selection; computes nothing itself."""

    hoveredBar = Signal(int)  # -1 when over no bar

    lodChanged = Signal(int)  # bars per drawn row (1 = exact bars)

    def __init__(self, metric: str, state, *, show_job_labels: bool = True, parent=None):
        # not "metric": QWidget.metric() is a virtual PySide would call on a str attribute (grab() crashed)
        self.metric_key = metric
        self.state = state
        self.job_axis = JobAxis(show_labels=show_job_labels)
        self.value_axis = ValueAxis(metric)
        self.vb = SelectViewBox()
        super().__init__(parent=parent, viewBox=self.vb,
                         axisItems={"left": self.job_axis, "bottom": self.value_axis})
        self.setObjectName(f"chart_{metric}")
        pi = self.getPlotItem()
        pi.hideButtons()
        without_menus(pi)
        pi.showGrid(x=True, y=False, alpha=0.25)
        self.vb.setZValue(1)  # the bars over the axes' grid lines (pyqtgraph puts the axes at 0.5)
        set_axis_label(pi, "bottom", METRIC_TITLES[metric])
        self.show_job_labels = show_job_labels
        if show_job_labels:
            set_axis_label(pi, "left", "Job ID")
        else:
            self.job_axis.setStyle(showValues=False, tickLength=0)
            self.job_axis.setWidth(8)
        self._anchor: int | None = None
        self._lod = 1
        self._drawing, self._draw_again = Guard(), False
        # layers: the envelope (largest bar of a binned row) behind, the bar (success colour = whole
        # bar), its failed part, then the selection on top
        self.items = {
            "envelope": FastBars(x0=[], y=[], height=BAR_HEIGHT, width=[], brush=QColor(128, 128, 128, ENVELOPE_ALPHA),
                                 pen=None),
            "total": FastBars(x0=[], y=[], height=BAR_HEIGHT, width=[], brush=STATUS_COLORS[SUCCESS], pen=None),
            "failed": FastBars(x0=[], y=[], height=BAR_HEIGHT, width=[], brush=STATUS_COLORS[FAILED], pen=None),
            "sel_total": FastBars(x0=[], y=[], height=BAR_HEIGHT, width=[], brush=STATUS_COLORS[SUCCESS],
                                  pen=pg.mkPen("#1d1d1d", width=1.2)),
            "sel_failed": FastBars(x0=[], y=[], height=BAR_HEIGHT, width=[], brush=STATUS_COLORS[FAILED],
                                   pen=pg.mkPen("#1d1d1d", width=1.2)),
        }
        for z, it in enumerate(self.items.values()):
            self.addItem(it)
            it.setZValue(10 + z)  # after addItem, which lifts items below the view box's own z
        follow_palette(self, self._palette_changed)
        self.vb.sigYRangeChanged.connect(self._redraw)
        self.vb.sigResized.connect(self._redraw)  # the level of detail depends on the pixel height
        self.vb.barClicked.connect(self._on_click)
        self.vb.rangeDragged.connect(self._on_drag)
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        state.viewChanged.connect(self.on_view_changed)
        state.selectionChanged.connect(self._redraw)
        self.setMinimumWidth(180)
        if state.view is not None:
            self.on_view_changed()

    def _palette_changed(self, pal: QPalette) -> None:
        outline = pal.color(QPalette.ColorRole.Text)
        for k in ("sel_total", "sel_failed"):
            self.items[k].setOpts(pen=pg.mkPen(outline, width=1.2))

    # --- rendering ------------------------------------------------------------------------
    @property
    def view(self) -> View | None:
        return self.state.view

    def on_view_changed(self) -> None:
        v = self.view
        self.job_axis.set_view(v)
        if self.show_job_labels:
            grouping = v.spec.grouping if v is not None else "run"
            set_axis_label(self.getPlotItem(), "left", {"run": "Job ID", "pipeline": "Pipeline", "day": "Day",
                                                        "week": "Week", "month": "Month"}[grouping])
        n = v.n_bars if v is not None else 0
        vals = v.totals[self.metric_key] if n else np.zeros(0)
        xmax = float(np.nanmax(vals)) if n and not np.isnan(vals).all() else 1.0
        if not np.isfinite(xmax) or xmax <= 0:
            xmax = 1.0
        self.vb.setLimits(xMin=-xmax, xMax=xmax * 1.06, yMin=-0.6, yMax=max(n, 1) - 0.4,
                          minYRange=3, maxYRange=max(n, 3) + 2)
        self.vb.scroll_limit = (-0.6, max(n, 1) - 0.4)
        self.vb.setXRange(0, xmax * 1.04, padding=0)
        self.reset_zoom()
        self._redraw()

    def reset_zoom(self) -> None:
        v = self.view
        n = v.n_bars if v is not None else 0
        self.vb.setYRange(-0.6, min(n, INITIAL_BARS) - 0.4, padding=0)

    def visible_range(self) -> tuple[int, int]:
        """[first, last) bar indices inside the visible job range."""
        v = self.view
        if v is None:
            return 0, 0
        y0, y1 = self.vb.viewRange()[1]
        return max(0, int(math.floor(y0 + 0.5))), min(v.n_bars, int(math.floor(y1 + 0.5)) + 1)

    def level_of_detail(self) -> int:
        """Bars per drawn row: 1 means exact bars."""
        return self._lod

    def _redraw(self, *args) -> None:
        """Draw the bars in view. Fitting the value axis can move the job axis too (pyqtgraph
        re-applies the limits), which asks for a redraw from inside this one: that request is
        noted and served after, at most twice, instead of recursing."""
        if self._drawing:
            self._draw_again = True
            return
        with self._drawing:
            for _ in range(3):
                self._draw_again = False
                self._draw()
                if not self._draw_again:
                    break

    def _draw(self) -> None:
        v = self.view
        if v is None or v.n_bars == 0:
            for it in self.items.values():
                it.setOpts(x0=np.zeros(0), y=np.zeros(0), width=np.zeros(0), height=BAR_HEIGHT)
            self._set_lod(1)
            return
        i0, i1 = self.visible_range()
        # one extra bar at each edge so partially visible bars are drawn
        i0, i1 = max(0, i0 - 1), min(v.n_bars, i1 + 1)
        rows_px = max(1.0, self.vb.height())
        lod = max(1, int(math.ceil(max(i1 - i0, 1) / rows_px)))
        sel_bars = self.state.selected_bars()
        has_sel = bool(len(sel_bars) and sel_bars.any())
        r = rows_to_draw(v.totals[self.metric_key][i0:i1], v.failed_parts[self.metric_key][i0:i1], i0, lod, BAR_HEIGHT,
                         selected=sel_bars[i0:i1] if has_sel else None)
        self._set_lod(lod)
        # exact bars: the longest in view sets the scale; binned rows: the 99th percentile of the row
        # means does, so the coloured means stay readable (the few longer rows and the grey envelopes
        # of rows holding a much larger run reach the edge; hovering or zooming in shows the run)
        self._fit_value_axis(r.envelope if lod == 1 else np.array([np.percentile(r.total, 99) * 1.15]))
        alpha = DIM_ALPHA if has_sel else 255
        h = r.height
        binned = lod > 1
        if binned:
            # rows of ~1 px: whole pixels with the rounding carried from row to row, so thin failed
            # parts are not all rounded away; and full-height rows that tile the plot
            x0, x1 = self.vb.viewRange()[0]
            ppu = self.vb.width() / (x1 - x0) if x1 > x0 else 0.0
            total, failed = snap_to_pixels(r.total, ppu), snap_to_pixels(r.failed, ppu)
            r = Rows(r.y, float(lod), total, failed, r.envelope, r.selected,
                     None if r.sel_total is None else snap_to_pixels(r.sel_total, ppu),
                     None if r.sel_failed is None else snap_to_pixels(r.sel_failed, ppu))
            h = r.height
        self.items["envelope"].setOpts(x0=0.0, y=r.y if binned else np.zeros(0), height=h,
                                       width=r.envelope if binned else np.zeros(0))
        self.items["total"].setOpts(x0=0.0, y=r.y, height=h, width=r.total,
                                    brush=_color(STATUS_COLORS[SUCCESS], alpha))
        fmask = r.failed > 0
        self.items["failed"].setOpts(x0=0.0, y=r.y[fmask], height=h, width=r.failed[fmask],
                                     brush=_color(STATUS_COLORS[FAILED], alpha))
        if has_sel and r.selected.any():
            sel = r.selected
            self.items["sel_total"].setOpts(x0=0.0, y=r.y[sel], height=h, width=r.sel_total[sel])
            sf = sel & (r.sel_failed > 0)
            self.items["sel_failed"].setOpts(x0=0.0, y=r.y[sf], height=h, width=r.sel_failed[sf])
        else:
            for k in ("sel_total", "sel_failed"):
                self.items[k].setOpts(x0=0.0, y=np.zeros(0), height=h, width=np.zeros(0))

    def _set_lod(self, lod: int) -> None:
        if lod != self._lod:
            self._lod = lod
            self.lodChanged.emit(lod)

    def _fit_value_axis(self, drawn_totals: np.ndarray) -> None:
        """The value axis follows the bars in view, so a few huge runs elsewhere never flatten them."""
        top = float(drawn_totals.max()) if len(drawn_totals) else 0.0
        if not np.isfinite(top) or top <= 0:
            top = 1.0
        x0, x1 = self.vb.viewRange()[0]
        want = top * 1.04
        # bars start a few pixels right of the axis line, which would hide their first pixel (at a
        # million runs, the whole failed part of most rows)
        left = -GAP_PX * want / max(self.vb.width() - GAP_PX, 1.0)
        if abs(x1 - want) > 1e-9 * max(want, 1.0) or abs(x0 - left) > 1e-9 * max(want, 1.0):
            self.vb.setXRange(left, want, padding=0)

    # --- interaction ----------------------------------------------------------------------
    def bar_at(self, x: float, y: float) -> int:
        """Index of the bar under data point (x, y), or -1. Pure arithmetic on the view's arrays."""
        v = self.view
        if v is None or v.n_bars == 0:
            return -1
        i = int(math.floor(y + 0.5))
        if not 0 <= i < v.n_bars or abs(y - i) > BAR_HEIGHT / 2 * max(1, self._lod):
            return -1
        val = v.totals[self.metric_key][i]
        # generous on short bars: anywhere on the bar's row up to the bar end (at least 3 % of the axis)
        xr = self.vb.viewRange()[0]
        reach = max(val if np.isfinite(val) else 0.0, (xr[1] - xr[0]) * 0.03)
        return i if 0 <= x <= reach or self._lod > 1 else -1

    def row_at(self, y: float) -> int:
        v = self.view
        if v is None:
            return -1
        i = int(math.floor(y + 0.5))
        return i if 0 <= i < v.n_bars else -1

    @staticmethod
    def _mode(mods) -> str:
        if mods & Qt.KeyboardModifier.ControlModifier:
            return "toggle"
        if mods & Qt.KeyboardModifier.ShiftModifier:
            return "add"
        return "replace"

    def _on_click(self, y: float, mods) -> None:
        i = self.row_at(y)
        if i < 0:
            if self._mode(mods) == "replace":
                self.state.clear_selection()
            return
        if mods & Qt.KeyboardModifier.ShiftModifier and self._anchor is not None:
            lo, hi = sorted((self._anchor, i))
            self.state.select_bars(np.arange(lo, hi + 1), "add")
            return
        self._anchor = i
        self.state.select_bars([i], self._mode(mods))

    def _on_drag(self, y0: float, y1: float, mods) -> None:
        v = self.view
        if v is None or v.n_bars == 0:
            return
        lo = max(0, int(math.ceil(y0 - BAR_HEIGHT / 2)))
        hi = min(v.n_bars - 1, int(math.floor(y1 + BAR_HEIGHT / 2)))
        if hi < lo:
            return
        mode = self._mode(mods)
        self.state.select_bars(np.arange(lo, hi + 1), "add" if mode == "toggle" else mode)

    def select_bar(self, i: int, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
        """Programmatic click on bar *i* (same rules as a mouse click)."""
        self._on_click(float(i), modifiers)

    def _on_mouse_moved(self, scene_pos) -> None:
        if not self.vb.sceneBoundingRect().contains(scene_pos):
            return
        p = self.vb.mapSceneToView(scene_pos)
        i = self.bar_at(p.x(), p.y())
        self.hoveredBar.emit(i)
        if i < 0:
            QToolTip.hideText()
            return
        QToolTip.showText(self.mapToGlobal(self.mapFromScene(scene_pos).toPoint()), self.tooltip_html(i), self)

    def tooltip_html(self, i: int) -> str:
        v = self.view
        rows = "".join(f"<tr><td style='color:#666;padding-right:8px'>{k}</td><td><b>{val}</b></td></tr>"
                       for k, val in v.describe(i))
        return f"<table>{rows}</table>"

    def export_image(self, path: str) -> None:
        """Save this chart as PNG or SVG (by extension)."""
        from pyqtgraph.exporters import ImageExporter

        item = self.getPlotItem()
        if path.lower().endswith(".svg"):
            from PySide6.QtCore import QRect, QSize
            from PySide6.QtGui import QPainter
            from PySide6.QtSvg import QSvgGenerator

            gen = QSvgGenerator()
            gen.setFileName(path)
            gen.setSize(QSize(self.width(), self.height()))
            gen.setViewBox(QRect(0, 0, self.width(), self.height()))
            gen.setTitle(f"ETL Desk — {METRIC_TITLES[self.metric_key]}")
            painter = QPainter(gen)
            try:
                self.render(painter)
            finally:
                painter.end()
        else:
            exp = ImageExporter(item)
            exp.parameters()["width"] = max(800, int(self.width() * 2))
            exp.export(path)
