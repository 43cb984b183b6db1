"""The three bar charts: Cost, Data Processed, Duration — horizontal bars on one job axis.

Drawn as in the case-study dashboard: bar 0 at the top, values to the right,
Success orange (#F28E2B), Failed blue (#4E79A7). Each chart draws at most a
few thousand rectangles whatever the data size:

- only bars inside the visible job range are drawn;
- when more bars are visible than the plot has pixel rows, bars are binned
  into a level-of-detail envelope (the largest bar of each bin, failed part
  on top), and exact bars return when zoomed in;
- every layer is one single-brush ``BarGraphItem`` (pyqtgraph's fast
  ``drawRects`` path); a selection is drawn as second layers on top, with the
  rest dimmed.

Hit-testing and tooltips are numpy look-ups on the view's arrays.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsRectItem, QToolTip

from etl_desk.core import fmt
from etl_desk.core.data.schema import FAILED, STATUS_COLORS, SUCCESS
from etl_desk.core.dashboard.view import METRIC_TITLES, View

BAR_HEIGHT = 0.78
DIM_ALPHA = 70
MIN_ROW_PX = 11  # run IDs are drawn as tick labels when rows are at least this tall
INITIAL_BARS = 44  # like the reference dashboard's first screen


class FastBars(pg.BarGraphItem):
    """A BarGraphItem whose shape is its bounding rect (pyqtgraph builds it bar by bar)."""

    def shape(self):
        p = QPainterPath()
        p.addRect(self.boundingRect())
        return p


def _color(hex_: str, alpha: int = 255) -> QColor:
    c = QColor(hex_)
    c.setAlpha(alpha)
    return c


class ValueAxis(pg.AxisItem):
    """Bottom axis: currency or thousands separators."""

    def __init__(self, metric: str, **kw):
        super().__init__("bottom", **kw)
        self.metric = metric

    def tickStrings(self, values, scale, spacing):
        out = []
        for v in values:
            if self.metric == "cost_usd":
                # one style for every tick level: cents on a short axis, whole dollars or $k beyond
                span = abs(self.range[1] - self.range[0]) if self.range else spacing
                if span >= 20_000:
                    out.append(fmt.usd_short(v))
                else:
                    out.append(f"${v:,.{2 if span < 20 else 0}f}")
            elif spacing >= 1:
                out.append(f"{v:,.0f}")
            else:
                decimals = max(0, int(-math.floor(math.log10(spacing)))) if spacing > 0 else 2
                out.append(f"{v:,.{decimals}f}")
        return out


class JobAxis(pg.AxisItem):
    """Left axis: one tick per bar with its run ID (or group label) when rows are tall enough."""

    def __init__(self, show_labels: bool = True, **kw):
        super().__init__("left", **kw)
        self.view: View | None = None
        self.show_labels = show_labels

    def tickValues(self, minVal, maxVal, size):
        if self.view is None or self.view.n_bars == 0:
            return []
        minVal, maxVal = min(minVal, maxVal), max(minVal, maxVal)  # the job axis is inverted
        lo, hi = max(0, math.ceil(minVal)), min(self.view.n_bars - 1, math.floor(maxVal))
        count = hi - lo + 1
        if count <= 0:
            return []
        if size / max(count, 1) >= MIN_ROW_PX:
            return [(1, list(range(lo, hi + 1)))]
        # too dense for every label: a readable subset
        step = max(1, int(math.ceil(count * MIN_ROW_PX * 1.6 / max(size, 1))))
        nice = [1, 2, 5]
        mag = 10 ** int(math.floor(math.log10(step)))
        step = next((m * mag for m in nice if m * mag >= step), 10 * mag)
        first = int(math.ceil(lo / step) * step)
        return [(step, list(range(first, hi + 1, step)))]

    def tickStrings(self, values, scale, spacing):
        if self.view is None or not self.show_labels:
            return ["" for _ in values]
        out = []
        for v in values:
            i = int(round(v))
            out.append(self.view.label(i) if 0 <= i < self.view.n_bars else "")
        return out


class SelectViewBox(pg.ViewBox):
    """Left click / Ctrl-click / Shift-click / left-drag select bars; right-drag pans;
    wheel scrolls the job axis, Ctrl+wheel zooms it."""

    barClicked = Signal(float, object)  # y in data coords, Qt.KeyboardModifiers
    rangeDragged = Signal(float, float, object)  # y0, y1, modifiers
    contextRequested = Signal(object)  # screen position

    def __init__(self):
        super().__init__(enableMenu=False)
        self.setMouseEnabled(x=False, y=True)
        self.invertY(True)
        self._band = QGraphicsRectItem()
        self._band.setPen(QPen(QColor(40, 40, 40, 180), 0))
        self._band.setBrush(QColor(90, 90, 90, 45))
        self._band.setZValue(1e6)
        self._band.hide()
        self.addItem(self._band, ignoreBounds=True)
        self.scroll_limit = (0.0, 1.0)

    def mouseClickEvent(self, ev):
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            p = self.mapSceneToView(ev.scenePos())
            self.barClicked.emit(p.y(), ev.modifiers())
        elif ev.button() == Qt.MouseButton.RightButton:
            ev.accept()
            self.contextRequested.emit(ev.screenPos())
        else:
            super().mouseClickEvent(ev)

    def mouseDragEvent(self, ev, axis=None):
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            a = self.mapSceneToView(ev.buttonDownScenePos())
            b = self.mapSceneToView(ev.scenePos())
            xr = self.viewRange()[0]
            y0, y1 = sorted((a.y(), b.y()))
            if ev.isFinish():
                self._band.hide()
                self.rangeDragged.emit(y0, y1, ev.modifiers())
            else:
                self._band.setRect(QRectF(QPointF(xr[0], y0), QPointF(xr[1], y1)))
                self._band.show()
        elif ev.button() in (Qt.MouseButton.RightButton, Qt.MouseButton.MiddleButton):
            # pan along the job axis
            ev.accept()
            last = self.mapSceneToView(ev.lastScenePos())
            now = self.mapSceneToView(ev.scenePos())
            self.scroll_by(last.y() - now.y())
        else:
            ev.ignore()

    def wheelEvent(self, ev, axis=None):
        delta = ev.delta() if hasattr(ev, "delta") else ev.angleDelta().y()
        if ev.modifiers() & Qt.KeyboardModifier.ControlModifier:
            super().wheelEvent(ev, axis=1)
            return
        ev.accept()
        y0, y1 = self.viewRange()[1]
        self.scroll_by(-(delta / 120.0) * max(3.0, (y1 - y0) * 0.1))

    def scroll_by(self, dy: float) -> None:
        y0, y1 = self.viewRange()[1]
        lo, hi = self.scroll_limit
        span = y1 - y0
        new0 = min(max(y0 + dy, lo), max(lo, hi - span))
        self.setYRange(new0, new0 + span, padding=0)


class BarChart(pg.PlotWidget):
    """One metric's chart. Renders the window's view and selection; computes nothing itself."""

    hoveredBar = Signal(int)  # -1 when over no bar

    def __init__(self, metric: str, state, *, show_job_labels: bool = True, show_legend: bool = False,
                 parent=None):
        self.metric = metric
        self.state = state
        self.job_axis = JobAxis(show_labels=show_job_labels)
        self.value_axis = ValueAxis(metric)
        self.vb = SelectViewBox()
        super().__init__(parent=parent, viewBox=self.vb,
                         axisItems={"left": self.job_axis, "bottom": self.value_axis})
        self.setObjectName(f"chart_{metric}")
        self.setBackground("w")
        pi = self.getPlotItem()
        pi.hideButtons()
        pi.setMenuEnabled(False)
        pi.showGrid(x=True, y=False, alpha=0.25)
        for ax in ("left", "bottom"):
            a = pi.getAxis(ax)
            a.setPen(pg.mkPen("#9a9a9a"))
            a.setTextPen(pg.mkPen("#333333"))
        pi.setLabel("bottom", METRIC_TITLES[metric])
        self.show_job_labels = show_job_labels
        if show_job_labels:
            pi.setLabel("left", "Job ID")
        else:
            self.job_axis.setStyle(showValues=False, tickLength=0)
            self.job_axis.setWidth(8)
        self._anchor: int | None = None
        self._lod = 1
        # layers: base (success colour = whole bar), base failed part, then the selection on top
        self.items = {
            "total": FastBars(x0=[], y=[], height=BAR_HEIGHT, width=[], brush=STATUS_COLORS[SUCCESS], pen=None),
            "failed": FastBars(x0=[], y=[], height=BAR_HEIGHT, width=[], brush=STATUS_COLORS[FAILED], pen=None),
            "sel_total": FastBars(x0=[], y=[], height=BAR_HEIGHT, width=[], brush=STATUS_COLORS[SUCCESS],
                                  pen=pg.mkPen("#1d1d1d", width=1.2)),
            "sel_failed": FastBars(x0=[], y=[], height=BAR_HEIGHT, width=[], brush=STATUS_COLORS[FAILED],
                                   pen=pg.mkPen("#1d1d1d", width=1.2)),
        }
        for z, it in enumerate(self.items.values()):
            it.setZValue(z)
            self.addItem(it)
        self.legend = None
        if show_legend:
            self.legend = pg.LegendItem(offset=(-8, 8), labelTextColor="#333333",
                                        brush=pg.mkBrush(255, 255, 255, 220), pen=pg.mkPen("#cccccc"))
            self.legend.setParentItem(pi.vb)
            self.legend.addItem(FastBars(x0=[0], y=[0], height=1, width=[1], brush=STATUS_COLORS[SUCCESS],
                                         pen=None), SUCCESS)
            self.legend.addItem(FastBars(x0=[0], y=[0], height=1, width=[1], brush=STATUS_COLORS[FAILED],
                                         pen=None), FAILED)
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

    # --- rendering ------------------------------------------------------------------------
    @property
    def view(self) -> View | None:
        return self.state.view

    def on_view_changed(self) -> None:
        v = self.view
        self.job_axis.view = v
        if self.show_job_labels:
            grouping = v.spec.grouping if v is not None else "run"
            self.getPlotItem().setLabel("left", {"run": "Job ID", "pipeline": "Pipeline", "day": "Day",
                                                 "week": "Week", "month": "Month"}[grouping])
        n = v.n_bars if v is not None else 0
        vals = v.totals[self.metric] if n else np.zeros(0)
        xmax = float(np.nanmax(vals)) if n and not np.isnan(vals).all() else 1.0
        if not np.isfinite(xmax) or xmax <= 0:
            xmax = 1.0
        self.vb.setLimits(xMin=0, xMax=xmax * 1.06, yMin=-0.6, yMax=max(n, 1) - 0.4,
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
        v = self.view
        if v is None or v.n_bars == 0:
            for it in self.items.values():
                it.setOpts(x0=np.zeros(0), y=np.zeros(0), width=np.zeros(0), height=BAR_HEIGHT)
            self._lod = 1
            return
        i0, i1 = self.visible_range()
        # one extra bar at each edge so partially visible bars are drawn
        i0, i1 = max(0, i0 - 1), min(v.n_bars, i1 + 1)
        rows_px = max(1.0, self.vb.height())
        count = max(i1 - i0, 1)
        lod = max(1, int(math.ceil(count / rows_px)))
        self._lod = lod
        total = v.totals[self.metric][i0:i1]
        failed = v.failed_parts[self.metric][i0:i1]
        sel_bars = self.state.selected_bars()
        has_sel = bool(sel_bars.any()) if len(sel_bars) else False
        sel = sel_bars[i0:i1] if has_sel else None
        if lod == 1:
            y = np.arange(i0, i1, dtype=np.float64)
            h = BAR_HEIGHT
        else:
            starts = np.arange(0, count, lod)
            total = np.maximum.reduceat(np.nan_to_num(total, nan=0.0), starts)
            failed = np.maximum.reduceat(np.nan_to_num(failed, nan=0.0), starts)
            if sel is not None:
                sel = np.maximum.reduceat(sel.astype(np.int8), starts).astype(bool)
            y = i0 + starts + (np.minimum(starts + lod, count) - starts - 1) / 2.0
            h = lod * 0.98
        total = np.nan_to_num(total, nan=0.0)
        failed = np.nan_to_num(failed, nan=0.0)
        self._fit_value_axis(total)
        alpha = DIM_ALPHA if has_sel else 255
        self.items["total"].setOpts(x0=0.0, y=y, height=h, width=total, brush=_color(STATUS_COLORS[SUCCESS], alpha))
        fmask = failed > 0
        self.items["failed"].setOpts(x0=0.0, y=y[fmask], height=h, width=failed[fmask],
                                     brush=_color(STATUS_COLORS[FAILED], alpha))
        if sel is not None and sel.any():
            self.items["sel_total"].setOpts(x0=0.0, y=y[sel], height=h, width=total[sel])
            sf = sel & fmask
            self.items["sel_failed"].setOpts(x0=0.0, y=y[sf], height=h, width=failed[sf])
        else:
            for k in ("sel_total", "sel_failed"):
                self.items[k].setOpts(x0=0.0, y=np.zeros(0), height=h, width=np.zeros(0))

    def _fit_value_axis(self, drawn_totals: np.ndarray) -> None:
        """The value axis follows the bars in view, so a few huge runs elsewhere never flatten them."""
        top = float(drawn_totals.max()) if len(drawn_totals) else 0.0
        if not np.isfinite(top) or top <= 0:
            top = 1.0
        x0, x1 = self.vb.viewRange()[0]
        want = top * 1.04
        if abs(x1 - want) > 1e-9 * max(want, 1.0) or x0 != 0:
            self.vb.setXRange(0, want, padding=0)

    # --- interaction ----------------------------------------------------------------------
    def bar_at(self, x: float, y: float) -> int:
        """Index of the bar under data point (x, y), or -1. Pure arithmetic on the view's arrays."""
        v = self.view
        if v is None or v.n_bars == 0:
            return -1
        i = int(math.floor(y + 0.5))
        if not 0 <= i < v.n_bars or abs(y - i) > BAR_HEIGHT / 2 * max(1, self._lod):
            return -1
        val = v.totals[self.metric][i]
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
            gen.setTitle(f"ETL Desk — {METRIC_TITLES[self.metric]}")
            painter = QPainter(gen)
            try:
                self.render(painter)
            finally:
                painter.end()
        else:
            exp = ImageExporter(item)
            exp.parameters()["width"] = max(800, int(self.width() * 2))
            exp.export(path)
