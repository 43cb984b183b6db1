"""Scenarios and sensitivity: the Low / Base / High switch, each option under the three scenarios,
and a tornado chart with its table per option and for the portfolio, with the switching values.

Everything shown is a field of ``Results.appraisal`` (:mod:`etl_desk.core.business_case.scenarios`):
``scenarios`` (NPV and payback of every option under each scenario), ``sensitivity`` (NPV
with one input at its low and its high value; :func:`~etl_desk.core.business_case.scenarios.tornado`
orders them) and ``switching``. The switch writes the ``scenario`` assumption, so the
form, the workbook export and every other view follow it.
"""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QFont
from PySide6.QtWidgets import (QButtonGroup, QComboBox, QHBoxLayout, QHeaderView, QLabel, QPushButton, QSplitter,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from etl_desk.core import fmt
from etl_desk.core.business_case.catalogue import SCENARIOS, catalogue, global_assumptions
from etl_desk.core.business_case.scenarios import tornado
from etl_desk.ui.business_case.audience import PORTFOLIO_BG, make_table
from etl_desk.ui.business_case.chart import NEGATIVE_COLOR, POSITIVE_COLOR, MoneyAxis, legend_swatch, payback_text
from etl_desk.ui.business_case.decision import effect_needed_text, spend_needed_text
from etl_desk.ui.widgets.plots import follow_palette, set_axis_label, without_menus

LOW_COLOR = "#B07AA1"  # the input at its low value (not a status colour)
HIGH_COLOR = "#76B7B2"  # the input at its high value
BASE_COLOR = "#555555"
BREAK_EVEN_COLOR = "#C0392B"
SENS_COLUMNS = ["Input", "Low", "High", "NPV at low", "NPV at high", "Swing"]


def scenario_label(s: str) -> str:
    """'low' -> 'Low' (the form's label of the scenario)."""
    return global_assumptions()["scenario"].spec.choice_label(s)


def driver_value_text(key: str, v: float) -> str:
    """A sensitivity input's value in its unit: '×0.75', '4 % per year', '$2,000 per month', '5 years'."""
    d = catalogue().sensitivity[key]
    if d.kind == "multiplier":
        return f"×{v:g}"
    spec = global_assumptions()[key].spec
    prefix, suffix = spec.affixes()
    shown = v * spec.scale
    num = f"{shown:,.0f}" if float(shown).is_integer() else f"{shown:,.2f}".rstrip("0").rstrip(".")
    return f"{prefix}{num}{suffix}"


class SensitivityView(QWidget):
    """Public: ``scenario_buttons`` (value -> button), ``scenario_table``, ``option`` (combo),
    ``tornado`` (PlotWidget), ``bars`` ({"low", "high"}: BarGraphItems), ``sens_table``,
    ``switching``; ``scenarioChosen(str)``; :meth:`show_appraisal`, :meth:`tornado_rows`."""

    scenarioChosen = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("sensitivityView")
        v = QVBoxLayout(self)
        v.setContentsMargins(0, 2, 0, 0)
        v.setSpacing(3)
        top = QHBoxLayout()
        top.addWidget(QLabel("Scenario:"))
        self.scenario_group = QButtonGroup(self)
        self.scenario_group.setExclusive(True)
        self.scenario_buttons: dict[str, QPushButton] = {}
        tips = {"low": "Lower effects, higher costs, lower measured spend (the Scenario multipliers)",
                "base": "The inputs as entered", "high": "Higher effects, lower costs, higher measured spend"}
        for s in SCENARIOS:
            b = QPushButton(scenario_label(s))
            b.setObjectName(f"scenario_{s}")
            b.setCheckable(True)
            b.setToolTip(tips.get(s, ""))
            b.clicked.connect(lambda _on=False, s=s: self.scenarioChosen.emit(s))
            self.scenario_group.addButton(b)
            top.addWidget(b)
            self.scenario_buttons[s] = b
        top.addSpacing(16)
        top.addWidget(QLabel("Tornado of"))
        self.option = QComboBox()
        self.option.setObjectName("tornadoOption")
        self.option.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        top.addWidget(self.option)
        top.addStretch(1)
        v.addLayout(top)

        self.scenario_table = make_table("scenarioTable")
        self.scenario_table.setMinimumHeight(80)

        host = QWidget()
        hv = QVBoxLayout(host)
        hv.setContentsMargins(0, 0, 0, 0)
        hv.setSpacing(1)
        self.tornado_title = QLabel()
        self.tornado_title.setWordWrap(True)
        hv.addWidget(self.tornado_title)
        legend = QHBoxLayout()  # the legend above the plot, never over the bars
        legend.setSpacing(10)
        for color, text in ((LOW_COLOR, "Input at its low value"), (HIGH_COLOR, "at its high value")):
            legend.addWidget(legend_swatch(color, text, line=False))
        legend.addWidget(legend_swatch(BASE_COLOR, "NPV as assumed"))
        legend.addWidget(legend_swatch(BREAK_EVEN_COLOR, "NPV = 0"))
        legend.addStretch(1)
        hv.addLayout(legend)
        self.axis = pg.AxisItem("left")  # the input labels as ticks: outside the plot
        self.tornado = pg.PlotWidget(axisItems={"left": self.axis, "bottom": MoneyAxis("bottom")})
        self.tornado.setObjectName("tornadoChart")
        pi = self.tornado.getPlotItem()
        set_axis_label(pi, "bottom", "NPV over the horizon (USD)")
        pi.showGrid(x=True, y=False, alpha=0.15)
        without_menus(pi)
        pi.hideButtons()
        self.tornado.setMouseEnabled(x=False, y=False)
        follow_palette(self.tornado)
        self.bars = {"low": pg.BarGraphItem(x0=[], x1=[], y=[], height=0.36, brush=LOW_COLOR, pen=None),
                     "high": pg.BarGraphItem(x0=[], x1=[], y=[], height=0.36, brush=HIGH_COLOR, pen=None)}
        for b in self.bars.values():
            pi.addItem(b)
        self.base_line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(BASE_COLOR, width=1.5))
        self.zero_line = pg.InfiniteLine(angle=90, movable=False,
                                         pen=pg.mkPen(BREAK_EVEN_COLOR, width=1, style=Qt.PenStyle.DashLine))
        pi.addItem(self.base_line)
        pi.addItem(self.zero_line)
        hv.addWidget(self.tornado, 1)

        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.setSpacing(2)
        self.sens_table = make_table("sensitivityTable")
        self.sens_table.setMinimumHeight(80)
        rv.addWidget(self.sens_table, 1)
        self.switching = QLabel()
        self.switching.setObjectName("switchingValues")
        self.switching.setWordWrap(True)
        self.switching.setTextFormat(Qt.TextFormat.RichText)
        rv.addWidget(self.switching)

        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.setObjectName("tornadoSplitter")
        lower.setChildrenCollapsible(False)
        lower.addWidget(host)
        lower.addWidget(right)
        lower.setStretchFactor(0, 3)
        lower.setStretchFactor(1, 2)
        lower.setSizes([600, 400])
        upper = QSplitter(Qt.Orientation.Vertical)
        upper.setObjectName("scenarioSplitter")
        upper.setChildrenCollapsible(False)
        upper.addWidget(self.scenario_table)
        upper.addWidget(lower)
        upper.setStretchFactor(0, 2)
        upper.setStretchFactor(1, 3)
        upper.setSizes([170, 330])  # the scenario table's six rows where the height allows
        v.addWidget(upper, 1)
        self._case = self._appraisal = None
        self._chosen = False  # until the user picks an option: the portfolio, or the best when it is empty
        self.option.activated.connect(lambda _i: setattr(self, "_chosen", True))  # the user's choice stays
        self.option.currentIndexChanged.connect(lambda _i: self._render_tornado())

    # --- rendering ------------------------------------------------------------------------------
    def show_appraisal(self, case, appraisal) -> None:
        self._case, self._appraisal = case, appraisal
        for s, b in self.scenario_buttons.items():
            b.setChecked(s == case.scenario)
        # the portfolio, unless it is empty (nothing pays): then the best-ranked solution
        default = "portfolio" if case.members else appraisal.decision.options[0].id
        current = self.option.currentData() if self._chosen else default
        self.option.blockSignals(True)
        self.option.clear()
        self.option.addItem("the portfolio", "portfolio")
        for r in case.solutions:
            self.option.addItem(f"{r.number}. {r.name}", r.id)
        self.option.setCurrentIndex(max(0, self.option.findData(current)))
        self.option.blockSignals(False)
        self._render_scenarios()
        self._render_tornado()

    def _render_scenarios(self) -> None:
        case, ap = self._case, self._appraisal
        yrs = int(case.assumptions["global"]["horizon_years"])
        cols = [f"NPV {scenario_label(s).lower()}" for s in SCENARIOS] + \
               [f"Payback {scenario_label(s).lower()}" for s in SCENARIOS]
        ids = [r.id for r in case.solutions] + ["portfolio"]
        by = {(x.option_id, x.scenario): x for x in ap.scenarios}
        t = self.scenario_table
        t.clear()
        t.setColumnCount(len(cols))
        t.setRowCount(len(ids))
        t.setHorizontalHeaderLabels(cols)
        t.setVerticalHeaderLabels([f"{r.number}. {r.name}" for r in case.solutions] + ["Portfolio"])
        bold = QFont(t.font())
        bold.setBold(True)
        for i, oid in enumerate(ids):
            for j, s in enumerate(SCENARIOS):
                x = by[(oid, s)]
                for c, text in ((j, fmt.usd(x.npv_usd, 0)), (len(SCENARIOS) + j, payback_text(x, yrs))):
                    it = QTableWidgetItem(text)
                    it.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    it.setToolTip(text)
                    if c == j:
                        it.setForeground(QBrush(NEGATIVE_COLOR if x.npv_usd < 0 else POSITIVE_COLOR))
                    if s == case.scenario:
                        it.setFont(bold)
                    if oid == "portfolio":
                        it.setBackground(QBrush(PORTFOLIO_BG))
                    t.setItem(i, c, it)
        t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        t.resizeColumnsToContents()
        t.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)

    def tornado_rows(self) -> list:
        """The SensitivityRows of the option chosen, largest swing first (core's :func:`tornado`)."""
        if self._appraisal is None or self.option.currentData() is None:
            return []
        return tornado(self._appraisal.sensitivity, self.option.currentData())

    def _render_tornado(self) -> None:
        rows = self.tornado_rows()
        if not rows:
            return
        n = len(rows)
        ys = [n - 1 - i for i in range(n)]  # the largest swing on top
        base = rows[0].npv_base
        self.bars["low"].setOpts(x0=[base] * n, x1=[r.npv_low for r in rows], y=[y + 0.2 for y in ys], height=0.36)
        self.bars["high"].setOpts(x0=[base] * n, x1=[r.npv_high for r in rows], y=[y - 0.2 for y in ys],
                                  height=0.36)
        self.axis.setTicks([[(y, r.label) for y, r in zip(ys, rows)]])
        self.base_line.setPos(base)
        self.zero_line.setPos(0.0)
        lo = min([0.0, base] + [min(r.npv_low, r.npv_high) for r in rows])
        hi = max([0.0, base] + [max(r.npv_low, r.npv_high) for r in rows])
        pad = (hi - lo) * 0.05 or 1.0
        pi = self.tornado.getPlotItem()
        pi.setXRange(lo - pad, hi + pad, padding=0)
        pi.setYRange(-0.6, n - 0.4, padding=0)
        name = self.option.currentText()
        money = fmt.usd(base, 0).replace("-", "\u2011")  # a non-breaking minus: never wrapped off its amount
        self.tornado_title.setText(f"<b>NPV of {name}: {money}</b>, one input at a time")
        self._render_sens_table(rows)
        self._render_switching()

    def _render_sens_table(self, rows) -> None:
        t = self.sens_table
        t.clear()
        t.setColumnCount(len(SENS_COLUMNS))
        t.setRowCount(len(rows))
        t.setHorizontalHeaderLabels(SENS_COLUMNS)
        for i, r in enumerate(rows):
            cells = [r.label, driver_value_text(r.input, r.low_value), driver_value_text(r.input, r.high_value),
                     fmt.usd(r.npv_low, 0), fmt.usd(r.npv_high, 0), fmt.usd(r.swing, 0)]
            for c, text in enumerate(cells):
                it = QTableWidgetItem(text)
                it.setToolTip(text)
                if c:
                    it.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if c in (3, 4) and (r.npv_low if c == 3 else r.npv_high) < 0:
                    it.setForeground(QBrush(NEGATIVE_COLOR))
                t.setItem(i, c, it)
        t.verticalHeader().setVisible(False)
        t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        t.resizeColumnsToContents()
        t.horizontalHeader().resizeSection(0, min(t.horizontalHeader().sectionSize(0), 190))

    def _render_switching(self) -> None:
        oid = self.option.currentData()
        sw = next((s for s in self._appraisal.switching if s.option_id == oid), None)
        if sw is None:
            self.switching.setText("")
            return
        if oid == "portfolio":
            m = sw.baseline_multiple
            self.switching.setText(
                "<b>Switching value</b>: the portfolio saves nothing, whatever its targets." if m is None else
                f"<b>Switching value</b>: the portfolio breaks even (NPV = 0) when the spend on every member's "
                f"target is <b>{m:,.2f}×</b> today's.")
            return
        opt = next(o for o in self._appraisal.decision.options if o.id == oid)
        effect = ("no effect is enough: it acts on no spend" if opt.effect_needed is None else
                  f"an effect of <b>{effect_needed_text(opt)}</b>")
        self.switching.setText(f"<b>Switching values</b> (NPV = 0, the rest as assumed): {effect}; or a spend on "
                               f"the target of <b>{spend_needed_text(opt, True)}</b> at the assumed effect.")
