"""The bar charts' parts: fast bars, the value and job axes, the selecting view box, the status legend.

:class:`~etl_desk.ui.dashboard.charts.BarChart` is assembled from these; each is a
small pyqtgraph or Qt piece with one job.
"""
from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsRectItem, QHBoxLayout, QLabel, QWidget

from etl_desk.core import fmt
from etl_desk.core.dashboard.view import View
from etl_desk.core.data.schema import FAILED, STATUS_COLORS, SUCCESS

MIN_ROW_PX = 11  # run IDs are drawn as tick labels when rows are at least this tall (and the font's height)
#: Widest job label in pixels: a longer run ID or pipeline name is elided in its middle (its distinguishing
#: end stays: "sap-co-cost-a…-000037-a1"), so long IDs never squeeze the bars and value ticks into a sliver.
MAX_JOB_LABEL_PX = 150
#: Room between two value-axis labels, pixels.
VALUE_LABEL_GAP_PX = 14


class FastBars(pg.BarGraphItem):
    """A BarGraphItem whose shape is its bounding rect (pyqtgraph builds it bar by bar)."""

    def shape(self):
        p = QPainterPath()
        p.addRect(self.boundingRect())
        return p


class StatusLegend(QWidget):
    """The header strip naming the status colours ("Job Status ■ Success ■ Failed"), outside the plots."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("statusLegend")
        h = QHBoxLayout(self)
        h.setContentsMargins(8, 2, 8, 2)
        h.setSpacing(6)
        title = QLabel("<b>Job Status</b>")
        h.addWidget(title)
        for status in (SUCCESS, FAILED):
            sw = QLabel()
            sw.setObjectName(f"legendSwatch_{status}")
            sw.setFixedSize(12, 12)
            sw.setStyleSheet(f"background: {STATUS_COLORS[status]}; border-radius: 2px;")
            h.addWidget(sw)
            h.addWidget(QLabel(status))
            h.addSpacing(8)
        self.note = QLabel()
        self.note.setObjectName("lodNote")
        h.addWidget(self.note)
        h.addStretch(1)

    def set_binned(self, on: bool) -> None:
        self.note.setText("Zoomed out: each row shows the mean of the runs it stands for; grey reaches the largest"
                          if on else "")


class ValueAxis(pg.AxisItem):
    """Bottom axis: currency or thousands separators, never more labels than fit side by side."""

    def __init__(self, metric: str, **kw):
        super().__init__("bottom", **kw)
        self.metric = metric
        # the labels below are the values themselves: pyqtgraph's SI prefix would add "(x0.001)" to the
        # axis title for small values while these labels ignore its scale (a reader would divide by 1,000)
        self.enableAutoSIPrefix(False)

    def tickSpacing(self, minVal, maxVal, size):  # noqa: N802 - pyqtgraph API
        """pyqtgraph's spacing, widened (1-2-5 steps) until the major labels fit side by side on *size* px.

        pyqtgraph always draws its major level's labels, so on a narrow chart ("$2.00$4.00$6.00")
        they ran together; the minor levels it thins out itself.
        """
        levels = super().tickSpacing(minVal, maxVal, size)
        span = abs(maxVal - minVal)
        if not levels or span <= 0 or size <= 0:
            return levels
        font = self.style.get("tickFont") or self.font()
        widest = max(QFontMetrics(font).horizontalAdvance(t) for t in self.tickStrings([minVal, maxVal], 1.0,
                                                                                       levels[0][0]))
        fits = max(1, int(size // (widest + VALUE_LABEL_GAP_PX)))
        major = levels[0][0]
        if span / major <= fits:
            return levels
        mag = 10 ** math.floor(math.log10(major))
        steps = [m * mag * 10 ** k for k in range(4) for m in (1, 2, 5)]
        major = next((s for s in steps if s >= major and span / s <= fits), steps[-1])
        lead = round(major / 10 ** math.floor(math.log10(major)))
        return [(major, 0), (major / 5 if lead == 5 else major / 2, 0)]

    def tickStrings(self, values, scale, spacing):
        out = []
        for v in values:
            if self.metric == "cost_usd":
                # one style for every tick level: cents on a short axis, whole dollars or $k beyond
                span = abs(self.range[1] - self.range[0]) if self.range else spacing
                if span >= 20_000:
                    out.append(fmt.usd_short(v))
                elif span >= 20:
                    out.append(f"${v:,.0f}")
                else:  # cents, or as many decimals as the step needs (a run of $0.004 is not "$0.00")
                    decimals = min(6, max(2, -math.floor(math.log10(spacing)))) if spacing > 0 else 2
                    out.append(f"${v:,.{decimals}f}")
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

    def set_view(self, view) -> None:
        """Label the bars of *view* from now on, and redraw the labels now: pyqtgraph keeps the drawn
        axis until the range changes, so a new data set shown over the same rows kept the previous
        data set's run IDs on the axis."""
        self.view = view
        self.picture = None
        self.update()

    def tickValues(self, minVal, maxVal, size):
        if self.view is None or self.view.n_bars == 0:
            return []
        minVal, maxVal = min(minVal, maxVal), max(minVal, maxVal)  # the job axis is inverted
        lo, hi = max(0, math.ceil(minVal)), min(self.view.n_bars - 1, math.floor(maxVal))
        count = hi - lo + 1
        if count <= 0:
            return []
        row_px = max(MIN_ROW_PX, self.label_height())
        if size / max(count, 1) >= row_px:
            return [(1, list(range(lo, hi + 1)))]
        # too dense for every label: every step-th, evenly, a label's height apart at least
        step = max(1, int(math.ceil(count * row_px * 1.2 / max(size, 1))))
        nice = [1, 2, 5]
        mag = 10 ** int(math.floor(math.log10(step)))
        step = next((m * mag for m in nice if m * mag >= step), 10 * mag)
        first = int(math.ceil(lo / step) * step)
        return [(step, list(range(first, hi + 1, step)))]

    def label_height(self) -> int:
        """Height of one tick label in pixels (the axis' tick font)."""
        font = self.style.get("tickFont") or self.font()
        return QFontMetrics(font).height()

    def tickStrings(self, values, scale, spacing):
        if self.view is None or not self.show_labels:
            return ["" for _ in values]
        metrics = QFontMetrics(self.style.get("tickFont") or self.font())
        out = []
        for v in values:
            i = int(round(v))
            text = self.view.label(i) if 0 <= i < self.view.n_bars else ""
            out.append(metrics.elidedText(text, Qt.TextElideMode.ElideMiddle, MAX_JOB_LABEL_PX))
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
