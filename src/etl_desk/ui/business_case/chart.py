"""The cumulative-cost chart: doing nothing against the portfolio over the horizon, break-even marked.

The legend sits in a header strip above the plot (never over the lines), the
break-even point is a red dot with a dashed month line and a label, and the two
end values are labelled at the right edge, one above and one below its line so
they never overlap.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from etl_desk.core import fmt
from etl_desk.ui.widgets.plots import without_menus

DO_NOTHING_COLOR = "#8C8C8C"
PORTFOLIO_COLOR = "#2E8B57"
BREAK_EVEN_COLOR = "#C0392B"
NEGATIVE_COLOR = QColor("#B03A2E")
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


def payback_text(r, horizon_years: int) -> str:
    if r.payback_months is None:
        return f"not within {horizon_years} y"
    if r.payback_months == 0:
        return "immediately"
    return f"{r.payback_months:,.1f} months"


class CumulativeCostChart(QWidget):
    """Public: ``chart`` (the PlotWidget), ``curves``, ``break_even_item``, ``break_even_line``,
    ``break_even_label``, ``end_labels``, ``status`` (the sentence under the chart)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("cumulativeCostHost")
        self.chart = pg.PlotWidget(axisItems={"left": MoneyAxis("left")})
        self.chart.setObjectName("cumulativeCostChart")
        self.chart.setBackground(None)
        pi = self.chart.getPlotItem()
        pi.setLabel("bottom", "Months from today")
        pi.setLabel("left", "Cumulative cost (USD)")
        pi.showGrid(x=True, y=True, alpha=0.15)
        without_menus(pi)
        pi.hideButtons()
        self.chart.setMouseEnabled(x=False, y=False)
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
        self.break_even_label = pg.TextItem(color=BREAK_EVEN_COLOR, anchor=(0, 1))
        pi.addItem(self.break_even_label)
        self.end_labels = {k: pg.TextItem(color=c, anchor=(1, 1)) for k, c in
                           (("do_nothing", DO_NOTHING_COLOR), ("portfolio", PORTFOLIO_COLOR))}
        for t in self.end_labels.values():
            pi.addItem(t)

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
        hl.addWidget(legend_swatch(DO_NOTHING_COLOR, "Doing nothing"))
        hl.addWidget(legend_swatch(PORTFOLIO_COLOR, "With the portfolio"))
        hl.addWidget(legend_swatch(BREAK_EVEN_COLOR, "Break-even", line=False))
        v.addWidget(header)
        v.addWidget(self.chart, 1)
        self.status = QLabel()
        self.status.setObjectName("breakEvenStatus")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.RichText)
        v.addWidget(self.status)
        self.setMinimumWidth(300)

    def show_case(self, case) -> None:
        months = np.arange(case.horizon_months + 1, dtype=float)
        dn, pf = case.do_nothing_cumulative, case.portfolio_cumulative
        self.curves["do_nothing"].setData(months, dn)
        self.curves["portfolio"].setData(months, pf)
        yrs = int(case.assumptions["global"]["horizon_years"])
        p = case.portfolio
        top = float(max(dn.max(), pf.max(), 1.0))
        red, green = NEGATIVE_COLOR.name(), POSITIVE_COLOR.name()
        if not p.enabled or p.payback_months is None:
            self.break_even_item.setData([], [])
            self.break_even_line.setVisible(False)
            self.break_even_label.setVisible(False)
            if not p.enabled:
                self.status.setText("No solution selected: the two lines are the same.")
            else:
                gap = float(pf[-1] - dn[-1])
                self.status.setText(
                    f"<span style='color:{red}'><b>No break-even within {yrs} years</b></span>: after {yrs} "
                    f"years the portfolio has cost <b>{fmt.usd(gap, 0)}</b> more than doing nothing.")
        else:
            x = float(p.payback_months)
            y = float(np.interp(x, months, dn))
            self.break_even_item.setData([x], [y])
            self.break_even_line.setVisible(True)
            self.break_even_line.setPos(x)
            self.break_even_label.setVisible(True)
            self.break_even_label.setText(f"Break-even: month {x:,.1f}\n{fmt.usd(y, 0)} spent either way")
            # above-left of the point when it is in the right part of the chart: clear of the end labels
            self.break_even_label.setAnchor((0, 1) if x < months[-1] * 0.6 else (1, 1))
            self.break_even_label.setPos(x, y)
            saved = float(dn[-1] - pf[-1])
            self.status.setText(
                f"<span style='color:{green}'><b>Break-even after {x:,.1f} months</b></span> (red dot): from "
                f"then on the portfolio costs less than doing nothing; after {yrs} years it has saved "
                f"<b>{fmt.usd(saved, 0)}</b>.")
        self.end_labels["do_nothing"].setText(f"Doing nothing {fmt.usd_short(dn[-1])}")
        self.end_labels["portfolio"].setText(f"Portfolio {fmt.usd_short(pf[-1])}")
        hi_key, lo_key = ("do_nothing", "portfolio") if dn[-1] >= pf[-1] else ("portfolio", "do_nothing")
        self.end_labels[hi_key].setAnchor((1, 1))
        self.end_labels[lo_key].setAnchor((1, 0))
        self.end_labels["do_nothing"].setPos(months[-1], dn[-1])
        self.end_labels["portfolio"].setPos(months[-1], pf[-1])
        pi = self.chart.getPlotItem()
        pi.setXRange(0, months[-1], padding=0.02)
        pi.setYRange(0, top * 1.12, padding=0)
        step = 6 if yrs <= 3 else 12
        pi.getAxis("bottom").setTicks([[(m, f"{m:g}") for m in range(0, int(months[-1]) + 1, step)],
                                       [(m, "") for m in range(0, int(months[-1]) + 1, 3)]])
