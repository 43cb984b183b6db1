"""The J-curves: cumulative net cash flow by month of the portfolio and of every solution, side by side.

The same numbers as the finance workbook's J-curves (:func:`~etl_desk.core.workbook.charts.write_cash_flow_charts`):
each option's ``Result.schedule.cumulative_net`` (core's cumulative sum of its monthly net
cash flow, USD, months 1..horizon) drawn from 0 at month 0 (the project start, before any
cash flow). Each option's payback (``Result.payback_months``, core) is a diamond on the zero
line in the option's colour. The legend sits beside the plot (never over the lines): one row
per option with its value at the end of the horizon and its payback, "not within N months"
when it does not pay back inside the horizon. Hovering a legend row highlights that line;
clicking it chooses the option (``optionClicked``).

Colours: the portfolio keeps its colour of the cumulative-cost chart (``PORTFOLIO_COLOR``);
the solutions take the Okabe–Ito colour-blind-safe palette (Okabe & Ito, "Color Universal
Design", 2008) by their catalogue number, so solution 3 has one colour wherever it is drawn.
"""
from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from etl_desk.core import fmt
from etl_desk.core.business_case.schedule import NOTHING, WITHIN
from etl_desk.ui.business_case.chart import (NEGATIVE_COLOR, PORTFOLIO_COLOR, POSITIVE_COLOR, monthly_money_plot,
                                             payback_text)
from etl_desk.ui.widgets.elided import ElidedLabel
from etl_desk.ui.widgets.plots import follow_palette, set_axis_label

#: Okabe–Ito colours for solutions 1, 2, 3, ... (cycled past the fifth); green is the portfolio's.
SOLUTION_COLORS = ("#0072B2", "#E69F00", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#000000")
PLAIN_WIDTH, HIGHLIGHT_WIDTH = 1.6, 3.4
FADED_ALPHA = 110  # of 255: the lines not highlighted stay readable, the highlighted one stands out
LEGEND_PT = 8
PLOT_MIN_PX = 320  # the plot keeps this width; the legend's option names are shortened first (full in the tooltip)


def option_color(result) -> str:
    """The colour of option *result* (a Result): the portfolio's green, else by solution number."""
    if result.id == "portfolio":
        return PORTFOLIO_COLOR
    return SOLUTION_COLORS[(max(int(result.number), 1) - 1) % len(SOLUTION_COLORS)]


def option_label(result) -> str:
    return "Portfolio" if result.id == "portfolio" else f"{result.number}. {result.name}"


def cumulative_net(result) -> np.ndarray:
    """Cumulative net cash flow of *result* at the end of months 0..horizon (USD): 0 at the start, then
    core's ``schedule.cumulative_net`` (the series the workbook's J-curves plot)."""
    return np.concatenate(([0.0], result.schedule.cumulative_net))


def legend_payback(result, horizon_months: int) -> str:
    """The legend's payback column: 'month 14.5' inside the horizon, else 'not within 36 months'."""
    if result.payback_status == NOTHING:
        return "nothing to pay back"
    if result.payback_status == WITHIN:
        return f"month {result.payback_months:,.1f}"
    return f"not within {horizon_months} months"


def row(host: QWidget, swatch: QWidget, name: QLabel, value: QLabel, payback: QLabel) -> None:
    """Lay out one legend row in *host*: swatch, name (takes the slack), value, payback."""
    h = QHBoxLayout(host)
    h.setContentsMargins(0, 0, 0, 0)
    h.setSpacing(8)
    h.addWidget(swatch, 0, Qt.AlignmentFlag.AlignVCenter)
    h.addWidget(name, 1)
    h.addWidget(value)
    h.addWidget(payback)


class LegendEntry(QWidget):
    """One legend row: swatch, option, end value, payback. Hover -> ``hovered(id)``/``hovered('')``;
    click -> ``clicked(id)``."""

    hovered = Signal(str)
    clicked = Signal(str)

    def __init__(self, option_id: str, parent=None):
        super().__init__(parent)
        self.option_id = option_id
        self.setObjectName(f"jcurveLegend_{option_id}")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setAutoFillBackground(True)
        self.swatch = QLabel()
        self.swatch.setFixedSize(16, 4)
        self.name, self.value, self.payback = ElidedLabel(), QLabel(), QLabel()
        self.value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        row(self, self.swatch, self.name, self.value, self.payback)

    def set_highlighted(self, on: bool) -> None:
        pal = self.palette()
        role = QPalette.ColorRole.Highlight if on else QPalette.ColorRole.Window
        c = QColor(self.parentWidget().palette().color(role)) if self.parentWidget() else QColor(0, 0, 0, 0)
        if on:
            c.setAlpha(60)
        pal.setColor(QPalette.ColorRole.Window, c)
        self.setPalette(pal)
        f = self.name.font()
        f.setBold(on)
        self.name.setFont(f)

    def enterEvent(self, ev):  # noqa: N802 - Qt API
        self.hovered.emit(self.option_id)
        super().enterEvent(ev)

    def leaveEvent(self, ev):  # noqa: N802 - Qt API
        self.hovered.emit("")
        super().leaveEvent(ev)

    def mousePressEvent(self, ev):  # noqa: N802 - Qt API
        if ev.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(self.option_id)
        super().mousePressEvent(ev)


class JCurveChart(QWidget):
    """Public: ``chart`` (PlotWidget), ``curves`` / ``payback_items`` / ``legend`` (option id -> line, marker,
    :class:`LegendEntry`), ``zero_line``, ``status`` (the reason when there is no chart), ``highlighted``
    (the chosen option), ``emphasised`` (the one drawn thick: the hovered one, else the chosen one);
    :meth:`show_case`, :meth:`clear`, :meth:`highlight`, :meth:`hover`. ``optionClicked(id)``: a legend row
    clicked."""

    optionClicked = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("jcurveHost")
        self.chart = monthly_money_plot("jcurveChart", "USD")  # the legend's header says what: the plot is short
        pi = self.chart.getPlotItem()
        self.zero_line = pg.InfiniteLine(pos=0, angle=0, movable=False)
        pi.addItem(self.zero_line)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.payback_items: dict[str, pg.ScatterPlotItem] = {}
        self.legend: dict[str, LegendEntry] = {}
        self._colors: dict[str, str] = {}
        self.highlighted: str | None = None
        self._hovered: str | None = None
        follow_palette(self.chart, self._apply_palette)

        self.legend_box = QWidget()
        self.legend_box.setObjectName("jcurveLegend")
        self.legend_box.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Preferred)
        self._grid = QVBoxLayout(self.legend_box)
        self._grid.setContentsMargins(4, 0, 2, 0)
        self._grid.setSpacing(0)
        self._rows = QWidget()
        self._rows_box = QVBoxLayout(self._rows)
        self._rows_box.setContentsMargins(0, 0, 0, 0)
        self._rows_box.setSpacing(0)
        # the header row is the chart's title: the plot is short at 1366x768, a title row would cost a line
        self._heads = [ElidedLabel(), QLabel("Month 36"), QLabel("Payback")]
        self._heads[0].setObjectName("jcurveTitle")
        for i, lab in enumerate(self._heads):
            self._small(lab, italic=i > 0)
        self._heads[1].setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        f = self._heads[0].font()
        f.setBold(True)
        self._heads[0].setFont(f)
        self._heads[0].setText("Cumulative net cash flow")
        self._heads[0].setToolTip("Cumulative net cash flow (savings less investment and maintenance, USD, "
                                  "undiscounted) of each option by month; diamonds mark the payback")
        head = QWidget()
        spacer = QWidget()
        spacer.setFixedSize(16, 4)
        row(head, spacer, *self._heads)
        self._rows_box.addWidget(head)
        self._grid.addWidget(self._rows)
        self.status = QLabel()  # said instead of the legend when there is no chart
        self.status.setObjectName("jcurveStatus")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.status.setMaximumWidth(320)
        self.status.setVisible(False)
        self._grid.addWidget(self.status)
        self._grid.addStretch(1)

        h = QHBoxLayout(self)
        h.setContentsMargins(0, 0, 0, 0)
        h.setSpacing(4)
        h.addWidget(self.chart, 1)
        h.addWidget(self.legend_box, 0)
        self.chart.setMinimumWidth(PLOT_MIN_PX)
        self.setMinimumHeight(100)

    @staticmethod
    def _small(lab: QLabel, italic: bool = False) -> None:
        f = lab.font()
        f.setPointSizeF(LEGEND_PT)
        f.setItalic(italic)
        lab.setFont(f)

    def _apply_palette(self, pal) -> None:
        c = QColor(pal.color(QPalette.ColorRole.Text))
        c.setAlpha(160)
        self.zero_line.setPen(pg.mkPen(c, width=1.2))
        for e in self.legend.values():
            e.set_highlighted(e.option_id == self.emphasised)

    # --- the options ------------------------------------------------------------------------------
    def _entry(self, rid: str) -> LegendEntry:
        """The legend row of *rid* (made on first use)."""
        e = self.legend.get(rid)
        if e is None:
            e = LegendEntry(rid, self._rows)
            e.hovered.connect(lambda i: self.hover(i or None))
            e.clicked.connect(self.optionClicked)
            self.legend[rid] = e
            for lab in (e.name, e.value, e.payback):
                self._small(lab)
                lab.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            self._rows_box.addWidget(e)
        return e

    def options(self) -> list[str]:
        """The option ids drawn, in legend order (the portfolio first)."""
        return list(self.curves)

    def show_case(self, case) -> None:
        """Draw every option of *case* (a BusinessCase): the portfolio, then the solutions by number."""
        pi = self.chart.getPlotItem()
        pi.getAxis("left").setStyle(showValues=True)
        opts = [case.portfolio] + sorted(case.solutions, key=lambda r: r.number)
        ids = [r.id for r in opts]
        for rid in [k for k in self.curves if k not in ids]:  # options gone from the catalogue
            pi.removeItem(self.curves.pop(rid))
            pi.removeItem(self.payback_items.pop(rid))
            e = self.legend.pop(rid)
            self._rows_box.removeWidget(e)
            e.deleteLater()
        h = case.horizon_months
        months = np.arange(h + 1, dtype=float)
        lo, hi = 0.0, 0.0
        for r in opts:
            color = option_color(r)
            self._colors[r.id] = color
            if r.id not in self.curves:
                self.curves[r.id] = pi.plot([], [], name=option_label(r))
                self.payback_items[r.id] = pg.ScatterPlotItem(size=13, symbol="d")
                pi.addItem(self.payback_items[r.id])
            y = cumulative_net(r)
            self.curves[r.id].setData(months, y)
            lo, hi = min(lo, float(y.min())), max(hi, float(y.max()))
            pb = self.payback_items[r.id]
            pb.setPen(pg.mkPen("w", width=1.2))
            pb.setBrush(pg.mkBrush(color))
            if r.payback_status == WITHIN:
                pb.setData([float(r.payback_months)], [0.0])
            else:
                pb.setData([], [])
            e = self._entry(r.id)
            e.swatch.setStyleSheet(f"background: {color}; border-radius: 1px;")
            e.name.setText(option_label(r))
            end = float(y[-1])
            e.value.setText(fmt.usd(end, 0))
            e.value.setStyleSheet(f"color: {(NEGATIVE_COLOR if end < 0 else POSITIVE_COLOR).name()};")
            e.payback.setText(legend_payback(r, h))
            e.payback.setStyleSheet("" if r.payback_status == NOTHING else f"color: "
                                    f"{(POSITIVE_COLOR if r.payback_status == WITHIN else NEGATIVE_COLOR).name()};")
            yrs = int(case.assumptions["global"]["horizon_years"])
            e.setToolTip(f"{option_label(r)}: cumulative net cash flow {fmt.usd(end)} after {h} months; payback "
                         f"{payback_text(r, yrs)}. Click to show its cash flows.")
        self._heads[1].setText(f"Month {h}")
        self._align_columns()
        set_axis_label(pi, "bottom", f"Months from the project start ({case.start:%B %Y})")
        pi.setXRange(0, h, padding=0.035)  # room for the last month's tick label
        pad = max((hi - lo) * 0.06, 1.0)
        pi.setYRange(lo - pad, hi + pad, padding=0)
        step = 6 if h <= 36 else 12
        pi.getAxis("bottom").setTicks([[(m, f"{m:g}") for m in range(0, h + 1, step)],
                                       [(m, "") for m in range(0, h + 1, 3)]])
        self._rows.setVisible(True)
        self.status.setVisible(False)
        self.status.clear()
        if self.highlighted not in self.curves:
            self.highlighted = ids[0]
        self._restyle()

    def clear(self, reason: str) -> None:
        """No business case (e.g. the cost is unknown): no lines, no markers, no $ scale; *reason* said."""
        for rid, c in self.curves.items():
            c.setData([], [])
            self.payback_items[rid].setData([], [])
            e = self.legend[rid]
            e.value.setText("unknown")
            e.value.setStyleSheet("")
            e.payback.setText("unknown")
            e.payback.setStyleSheet("")
        pi = self.chart.getPlotItem()
        pi.getAxis("left").setStyle(showValues=False)
        pi.setYRange(-1, 1, padding=0)
        self._align_columns()
        self.status.setText(f"<b>Cumulative net cash flow</b><br>No chart: {html.escape(reason)}")
        self._rows.setVisible(False)
        self.status.setVisible(True)

    def _align_columns(self) -> None:
        """The value and payback columns as wide as their widest cell, in every row and the header."""
        rows = [(self._heads[1], self._heads[2])] + [(e.value, e.payback) for e in self.legend.values()]
        for col in (0, 1):
            w = max(r[col].sizeHint().width() for r in rows)
            for r in rows:
                r[col].setFixedWidth(w)

    # --- highlight ------------------------------------------------------------------------------------
    @property
    def emphasised(self) -> str | None:
        """The option drawn thick: the one under the mouse in the legend, else the chosen one."""
        return self._hovered or self.highlighted

    def highlight(self, rid: str | None) -> None:
        """Choose option *rid* (the combo's choice): its line is drawn thick and on top."""
        self.highlighted = rid
        self._restyle()

    def hover(self, rid: str | None) -> None:
        """Emphasise *rid* while the mouse is over its legend row (None: back to the chosen one)."""
        self._hovered = rid if rid in self.curves else None
        self._restyle()

    def _restyle(self) -> None:
        top = self.emphasised
        for rid, c in self.curves.items():
            col = QColor(self._colors.get(rid, PORTFOLIO_COLOR))
            on = rid == top
            if not on and top is not None:
                col.setAlpha(FADED_ALPHA)
            c.setPen(pg.mkPen(col, width=HIGHLIGHT_WIDTH if on else PLAIN_WIDTH))
            c.setZValue(10 if on else 1)
            self.payback_items[rid].setZValue(11 if on else 2)
            self.legend[rid].set_highlighted(on)
