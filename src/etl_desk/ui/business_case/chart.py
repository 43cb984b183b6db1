"""The cumulative-cost chart: doing nothing against the portfolio over the horizon, break-even marked.

The legend sits in a header strip above the plot (never over the lines) and
carries each line's value at the end of the horizon; the break-even point is a
red dot with a dashed month line and a label placed in the empty corner under
the rising lines.
"""
from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from etl_desk.core import fmt
from etl_desk.core.business_case.schedule import BEYOND_HORIZON, NOTHING
from etl_desk.ui.widgets.plots import follow_palette, set_axis_label, without_menus

DO_NOTHING_COLOR = "#8C8C8C"
PORTFOLIO_COLOR = "#2E8B57"
BREAK_EVEN_COLOR = "#C0392B"
NEGATIVE_COLOR = QColor("#B03A2E")
LABEL_ROOM_PX = 12
POSITIVE_COLOR = QColor("#1E7B45")


class MoneyAxis(pg.AxisItem):
    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph API
        return [fmt.usd_short(v) for v in values]


def legend_swatch(color: str, text: str, line: bool = True) -> QWidget:
    """A small legend entry: a coloured line (or square) and its text."""
    w = QWidget()
    h = QHBoxLayout(w)
    h.setContentsMargins(0, 0, 0, 0)
    h.setSpacing(5)
    sw = QLabel()
    sw.setFixedSize(18 if line else 11, 4 if line else 11)
    sw.setStyleSheet(f"background: {color}; border-radius: {1 if line else 2}px;")
    h.addWidget(sw, 0, Qt.AlignmentFlag.AlignVCenter)
    lab = QLabel(text)
    h.addWidget(lab)
    return w


def payback_text(r, horizon_years: int, discounted: bool = False) -> str:
    """*r*'s payback (a Result or an OptionSummary) in words, as a number even after the horizon.

    '14.5 months'; '47.5 months (after the 36-month horizon)'; 'never' (the cumulative net
    cash flow falls for good); 'not within 10 years'; 'nothing to pay back'."""
    m = r.discounted_payback_months if discounted else r.payback_months
    status = r.discounted_payback_status if discounted else r.payback_status
    if status == NOTHING:
        return "nothing to pay back"
    if m is None:
        return status
    if m == 0:
        return "immediately"
    if status == BEYOND_HORIZON:
        return f"{m:,.1f} months (after the {horizon_years * 12}-month horizon)"
    return f"{m:,.1f} months"


def monthly_money_plot(name: str, money_label: str) -> pg.PlotWidget:
    """A still plot of USD (left, :class:`MoneyAxis`) over months from the project start (bottom): grid,
    no menus, no buttons, no mouse zoom; named *name* (the object name tests and styles find)."""
    plot = pg.PlotWidget(axisItems={"left": MoneyAxis("left")})
    plot.setObjectName(name)
    pi = plot.getPlotItem()
    set_axis_label(pi, "bottom", "Months from the project start")
    set_axis_label(pi, "left", money_label)
    pi.showGrid(x=True, y=True, alpha=0.15)
    without_menus(pi)
    pi.hideButtons()
    plot.setMouseEnabled(x=False, y=False)
    return plot


class CumulativeCostChart(QWidget):
    """Public: ``chart`` (the PlotWidget), ``curves``, ``break_even_item``, ``break_even_line``,
    ``break_even_label``, ``legend`` (key -> entry; its text carries the end value), ``status``
    (the sentence under the chart)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("cumulativeCostHost")
        # "Cumulative USD": short, the plot is ~130 px tall at 1366x768
        self.chart = monthly_money_plot("cumulativeCostChart", "Cumulative USD")
        pi = self.chart.getPlotItem()
        follow_palette(self.chart)
        self.curves = {
            "do_nothing": pi.plot([], [], pen=pg.mkPen(DO_NOTHING_COLOR, width=2.5), name="Doing nothing"),
            "portfolio": pi.plot([], [], pen=pg.mkPen(PORTFOLIO_COLOR, width=2.5), name="With the portfolio"),
        }
        self.break_even_item = pg.ScatterPlotItem(size=11, pen=pg.mkPen("w", width=1.5),
                                                  brush=pg.mkBrush(BREAK_EVEN_COLOR), symbol="o")
        pi.addItem(self.break_even_item)
        self.break_even_line = pg.InfiniteLine(angle=90, movable=False,
                                               pen=pg.mkPen(BREAK_EVEN_COLOR, width=1, style=Qt.PenStyle.DashLine))
        pi.addItem(self.break_even_line)
        self.break_even_label = pg.TextItem(color=BREAK_EVEN_COLOR, anchor=(0, 0))
        self.break_even_label.setVisible(False)
        self._be_point: tuple[float, float] | None = None
        pi.addItem(self.break_even_label)
        pi.vb.sigResized.connect(self._fit_y)
        pi.vb.sigResized.connect(self._place_label)

        v = QVBoxLayout(self)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(2)
        header = QWidget()
        header.setObjectName("cumulativeCostLegend")
        hl = QHBoxLayout(header)
        hl.setContentsMargins(4, 0, 4, 0)
        hl.setSpacing(14)
        self.title = QLabel("<b>Cumulative cost: doing nothing vs the portfolio</b>")
        self.title.setWordWrap(True)
        hl.addWidget(self.title, 1)
        self.legend = {k: legend_swatch(c, t) for k, c, t in (("do_nothing", DO_NOTHING_COLOR, "Doing nothing"),
                                                               ("portfolio", PORTFOLIO_COLOR, "With the portfolio"),
                                                               ("break_even", BREAK_EVEN_COLOR, "Break-even"))}
        self.legend["break_even"].findChild(QLabel).setFixedSize(11, 11)
        for w in self.legend.values():
            hl.addWidget(w)
        v.addWidget(header)
        v.addWidget(self.chart, 1)
        self.status = QLabel()
        self.status.setObjectName("breakEvenStatus")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.RichText)
        v.addWidget(self.status)
        self.setMinimumWidth(300)

    def _fit_y(self, *args) -> None:
        """A little room above the highest line, whatever the chart's height."""
        top = getattr(self, "_top", None)
        if top is None:
            return
        h = max(self.chart.getPlotItem().vb.height(), 60.0)
        self.chart.getPlotItem().setYRange(0, top / max(1.0 - LABEL_ROOM_PX / h, 0.5), padding=0)

    def _place_label(self, *args) -> None:
        """Put the break-even label where the lines are not and inside the plot: beside the point
        (below-right, below-left, above-left), else at the foot of the plot, as near the point as
        the rising lines allow."""
        lab = self.break_even_label
        if not lab.isVisible() or self._be_point is None:
            return
        vb = self.chart.getPlotItem().vb
        area = vb.sceneBoundingRect().adjusted(2, 2, -2, -2)
        size = lab.textItem.boundingRect().size()
        w, h = size.width(), size.height()
        pts = []
        for c in self.curves.values():
            x, y = c.getData()
            if x is not None and len(x) > 1:
                xs = np.linspace(float(x[0]), float(x[-1]), 300)
                pts += [vb.mapViewToScene(pg.Point(float(a), float(b))) for a, b in zip(xs, np.interp(xs, x, y))]

        def free(r: QRectF) -> bool:
            return area.contains(r) and not any(r.contains(q) for q in pts)

        x, y = self._be_point
        p = vb.mapViewToScene(pg.Point(x, y))
        for ax, ay in ((-0.04, -0.1), (1.04, -0.1), (1.04, 1.1)):
            if free(QRectF(p.x() - ax * w, p.y() - ay * h, w, h)):
                lab.setPos(x, y)
                lab.setAnchor((ax, ay))
                return
        foot = area.bottom() - h - 2
        for left in np.linspace(p.x() + 6, area.right() - w, 40):
            if free(QRectF(left, foot, w, h)):
                q = vb.mapSceneToView(pg.Point(float(left), float(foot)))
                lab.setAnchor((0, 0))
                lab.setPos(q.x(), q.y())
                return
        lab.setPos(x, y)
        lab.setAnchor((-0.04, -0.1))

    def clear(self, reason: str) -> None:
        """No business case (e.g. the cost is unknown): empty lines, no break-even, *reason* said under the chart."""
        for c in self.curves.values():
            c.setData([], [])
        self.break_even_item.setData([], [])
        self.break_even_line.setVisible(False)
        self.break_even_label.setVisible(False)
        self._be_point = None
        self._top = None
        self.legend["do_nothing"].findChildren(QLabel)[-1].setText("Doing nothing: unknown")
        self.legend["portfolio"].findChildren(QLabel)[-1].setText("With the portfolio: unknown")
        self.legend["break_even"].setVisible(False)
        pi = self.chart.getPlotItem()
        pi.getAxis("bottom").setTicks(None)
        pi.setXRange(0, 36, padding=0.02)
        pi.setYRange(0, 1, padding=0)
        pi.getAxis("left").setStyle(showValues=False)
        self.status.setText(f"No chart: {html.escape(reason)}")

    def show_case(self, case) -> None:
        self.chart.getPlotItem().getAxis("left").setStyle(showValues=True)
        months = np.arange(case.horizon_months + 1, dtype=float)
        dn, pf = case.do_nothing_cumulative, case.portfolio_cumulative
        self.curves["do_nothing"].setData(months, dn)
        self.curves["portfolio"].setData(months, pf)
        yrs = int(case.assumptions["global"]["horizon_years"])
        set_axis_label(self.chart.getPlotItem(), "bottom", f"Months from the project start ({case.start:%B %Y})")
        p = case.portfolio
        top = float(max(dn.max(), pf.max(), 1.0))
        red, green = NEGATIVE_COLOR.name(), POSITIVE_COLOR.name()
        if not p.enabled or not p.payback_within_horizon:
            self.break_even_item.setData([], [])
            self.break_even_line.setVisible(False)
            self.break_even_label.setVisible(False)
            if not p.enabled:
                self.status.setText("No solution in the portfolio: the two lines are the same.")
            else:
                gap = float(pf[-1] - dn[-1])
                later = (f" It pays back in month {p.payback_months:,.1f}, after the horizon."
                         if p.payback_months is not None else "")
                self.status.setText(
                    f"<span style='color:{red}'><b>No break-even within {yrs} years</b></span>: after {yrs} "
                    f"years the portfolio has cost <b>{fmt.usd(gap, 0)}</b> more than doing nothing.{later}")
        else:
            x = float(p.payback_months)
            y = float(np.interp(x, months, dn))
            self.break_even_item.setData([x], [y])
            self.break_even_line.setVisible(True)
            self.break_even_line.setPos(x)
            self.break_even_label.setVisible(True)
            self.break_even_label.setText(f"Break-even: month {x:,.1f}\n{fmt.usd(y, 0)} spent either way")
            self._be_point = (x, y)
            saved = float(dn[-1] - pf[-1])
            self.status.setText(
                f"<span style='color:{green}'><b>Break-even after {x:,.1f} months</b></span> (red dot): from "
                f"then on the portfolio costs less than doing nothing; after {yrs} years it has saved "
                f"<b>{fmt.usd(saved, 0)}</b>.")
        self.legend["do_nothing"].findChildren(QLabel)[-1].setText(f"Doing nothing: {fmt.usd_short(dn[-1])}")
        self.legend["portfolio"].findChildren(QLabel)[-1].setText(f"With the portfolio: {fmt.usd_short(pf[-1])}")
        self.legend["break_even"].setVisible(p.enabled and p.payback_within_horizon)
        pi = self.chart.getPlotItem()
        pi.setXRange(0, months[-1], padding=0.02)
        self._top = top
        self._fit_y()
        self._place_label()
        step = 6 if yrs <= 3 else 12
        pi.getAxis("bottom").setTicks([[(m, f"{m:g}") for m in range(0, int(months[-1]) + 1, step)],
                                       [(m, "") for m in range(0, int(months[-1]) + 1, 3)]])
