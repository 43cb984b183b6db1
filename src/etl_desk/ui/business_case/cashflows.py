"""The cash flows behind every NPV: the J-curves of every option, and the fiscal-year roll-up of one.

Above, :class:`~etl_desk.ui.business_case.jcurves.JCurveChart`: the cumulative net cash flow
by month of the portfolio and of each solution, payback marked. Below, the fiscal-year
roll-up (Year 0…N) of the option chosen in the "Cash flows of" combo, which is also the
curve highlighted (one selection: clicking a legend row chooses that option).

It renders ``Results.appraisal.annual`` (:func:`~etl_desk.core.business_case.cashflows.annual_rollup`):
investment, maintenance, savings, net, cumulative and discounted cumulative net cash flow
per fiscal year, for the portfolio or one solution. The discounted column adds up to
the option's NPV in core (the note under the table says so, with the NPV beside it);
nothing is summed here.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QHeaderView, QLabel, QSplitter, QTableWidgetItem, QVBoxLayout,
                               QWidget)

from etl_desk.core import fmt
from etl_desk.core.fields import MONTH_NAMES
from etl_desk.ui.business_case.audience import make_table
from etl_desk.ui.business_case.chart import NEGATIVE_COLOR
from etl_desk.ui.business_case.jcurves import JCurveChart

COLUMNS = ["Year", "Fiscal year", "Months", "Investment", "Maintenance", "Savings", "Net cash flow",
           "Cumulative", "Discounted", "Discounted cumulative"]
TABLE_MIN_PX = 56
#: AnnualRow field of each money column
MONEY = ("investment", "maintenance", "savings", "net", "cumulative", "discounted", "discounted_cumulative")


def row_cells(r) -> list[str]:
    """One AnnualRow as the table shows it (USD to the cent, as the workbook prints it)."""
    span = f"{r.first_month_end:%b %Y} – {r.last_month_end:%b %Y} ({r.months})"
    return [f"Year {r.year_index}", r.fiscal_year, span] + [fmt.usd(getattr(r, k)) for k in MONEY]


class AnnualCashFlows(QWidget):
    """Public: ``option`` (combo: portfolio, then each solution), ``jcurves`` (:class:`JCurveChart`),
    ``table``, ``note``, ``splitter`` (chart above the table); :meth:`show_case`, :meth:`clear`."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("annualCashFlows")
        v = QVBoxLayout(self)
        v.setContentsMargins(0, 2, 0, 0)
        v.setSpacing(2)
        top = QHBoxLayout()
        lab = QLabel("Cash flows of")
        top.addWidget(lab)
        self.option = QComboBox()
        self.option.setObjectName("annualOption")
        self.option.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        top.addWidget(self.option)
        self.dates = QLabel()
        self.dates.setObjectName("annualDates")
        self.dates.setWordWrap(True)
        top.addWidget(self.dates, 1)
        v.addLayout(top)
        lab.setBuddy(self.option)
        self.jcurves = JCurveChart()
        self.table = make_table("annualTable")
        self.table.setMinimumHeight(TABLE_MIN_PX)  # shares the tab with the chart: header + a row, then it scrolls
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("cashFlowsSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.jcurves)
        self.splitter.addWidget(self.table)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        v.addWidget(self.splitter, 1)
        self._user_split = False  # once the user drags the splitter, their sizes stay
        self.splitter.splitterMoved.connect(lambda *_: setattr(self, "_user_split", True))
        self.splitter.installEventFilter(self)
        self.note = QLabel()
        self.note.setObjectName("annualNote")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("font-size: 8pt;")
        v.addWidget(self.note)
        self._appraisal = self._case = None
        self._chosen = False  # until the user picks an option: the portfolio, or the best when it is empty
        self.option.activated.connect(lambda _i: setattr(self, "_chosen", True))  # the user's choice stays
        self.option.currentIndexChanged.connect(lambda _i: self._render())
        self.jcurves.optionClicked.connect(self.choose)

    def choose(self, option_id: str) -> None:
        """Choose *option_id* (as the user does in the combo, or by clicking its legend row)."""
        i = self.option.findData(option_id)
        if i >= 0:
            self._chosen = True
            self.option.setCurrentIndex(i)

    def show_case(self, case, appraisal) -> None:
        """Show the roll-up of *appraisal* (of *case*); keeps the option chosen."""
        self._case, self._appraisal = case, appraisal
        # the portfolio, unless it is empty (nothing pays): then the best-ranked solution
        default = "portfolio" if case.members else appraisal.decision.options[0].id
        current = self.option.currentData() if self._chosen else default
        self.option.blockSignals(True)
        self.option.clear()
        self.option.addItem("Portfolio", "portfolio")
        for r in case.solutions:
            self.option.addItem(f"{r.number}. {r.name}", r.id)
        self.option.setCurrentIndex(max(0, self.option.findData(current)))
        self.option.blockSignals(False)
        self.jcurves.show_case(case)
        self._render()

    def clear(self, reason: str) -> None:
        """No business case (the cost is unknown): no curves, no table; *reason* said under the chart."""
        self._case = self._appraisal = None
        self.jcurves.clear(reason)
        self.table.clear()
        self.table.setRowCount(0)
        self.note.setText(f"No cash flows: {reason}")

    def _fit_split(self) -> None:
        """The table tall enough for all its rows, up to 40 % of the room; the chart takes the rest."""
        if self._user_split:
            return
        total = sum(self.splitter.sizes())
        if total <= 0:
            return
        t = self.table
        need = (t.horizontalHeader().sizeHint().height() + t.verticalHeader().length() + 2 * t.frameWidth()
                + t.horizontalScrollBar().sizeHint().height())
        table = max(TABLE_MIN_PX, min(need, total * 2 // 5))
        self.splitter.setSizes([total - table, table])

    def eventFilter(self, obj, ev):  # noqa: N802 - Qt API
        # getattr: Qt may still send events while the window is torn down at exit
        if ev.type() == QEvent.Type.Resize and obj is getattr(self, "splitter", None):
            QTimer.singleShot(0, self._fit_split)  # after the splitter's own resize has shared out the room
        return False

    def rows(self) -> list:
        """The AnnualRows shown (of the option chosen)."""
        return self._appraisal.annual[self.option.currentData()] if self._appraisal is not None else []

    def _render(self) -> None:
        case, ap = self._case, self._appraisal
        if case is None or ap is None or self.option.currentData() is None:
            return
        self.jcurves.highlight(self.option.currentData())
        rows = self.rows()
        t = self.table
        t.clear()
        t.setColumnCount(len(COLUMNS))
        t.setRowCount(len(rows))
        t.setHorizontalHeaderLabels(COLUMNS)
        for i, r in enumerate(rows):
            for c, text in enumerate(row_cells(r)):
                it = QTableWidgetItem(text)
                if c >= 3:
                    it.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    if getattr(r, MONEY[c - 3]) < 0:
                        it.setForeground(QBrush(NEGATIVE_COLOR))
                t.setItem(i, c, it)
        t.verticalHeader().setVisible(False)
        t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        t.resizeColumnsToContents()
        self._fit_split()
        g = case.assumptions["global"]
        fy = int(g["fiscal_year_start_month"])
        start = "the month after the data ends" if g["start_date"] == "auto" else "as entered"
        self.dates.setText(f"Month 1 = {case.start:%B %Y} ({start}); fiscal years start in {MONTH_NAMES[fy]} and "
                           f"are named by the calendar year they end in.")
        result = case.result(self.option.currentData())
        self.note.setText(
            f"US dollars, month-end cash flows over the {case.horizon_months}-month horizon, summed per fiscal year. "
            f"The discounted column (at {g['discount_rate'] * 100:g} % a year) adds up to the NPV: "
            f"{fmt.usd(result.npv_usd)}. No terminal value: benefits after the horizon are not counted.")
