"""The Decision view: the first tab a CFO sees on the Business case page.

It renders :class:`~etl_desk.core.business_case.decision.DecisionSummary` (from
``Results.appraisal.decision``) and nothing else: the decision asked, core's statement
(which says plainly when nothing pays back and at what spend each option would), the
options ranked by NPV with profitability index, payback (a number, flagged after the
horizon), discounted payback, annualised IRR where defined and the switching values,
then the top risks, the sizing warnings and the provenance. No arithmetic here: every
figure is a field of the summary, formatted by :mod:`etl_desk.core.fmt`.
"""
from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QFont
from PySide6.QtWidgets import QFrame, QHBoxLayout, QHeaderView, QLabel, QScrollArea, QTableWidgetItem, QVBoxLayout, QWidget

from etl_desk.core import fmt
from etl_desk.core.business_case.catalogue import global_assumptions, targets
from etl_desk.ui.business_case.audience import PORTFOLIO_BG, make_table
from etl_desk.ui.business_case.chart import NEGATIVE_COLOR, POSITIVE_COLOR, payback_text

COLUMNS = ["Rank", "Option", "NPV", "Profitability\nindex", "Payback", "Discounted\npayback", "IRR\n(a year)",
           "Pays back if\nthe effect is ≥", "…or the spend it\nacts on is ≥", "In\nportfolio"]
TIPS = {  # by header text, line breaks as spaces
    "NPV": "Net present value over the horizon: monthly net cash flows discounted at the discount rate",
    "Profitability index": "PV of savings / PV of costs over the horizon (above 1 pays back)",
    "Payback": "Months until the cumulative net cash flow turns positive for good, read over 10 years and "
               "flagged when it falls after the horizon",
    "Discounted payback": "The same on the discounted cash flows",
    "IRR (a year)": "Annualised internal rate of return, where the flows change sign once (costs, then gains)",
    "Pays back if the effect is ≥": "Switching value: the effect on the target at which NPV = 0, the rest as "
                                    "assumed (UK Green Book)",
    "…or the spend it acts on is ≥": "Switching value: the yearly spend on the target at which NPV = 0 at the "
                                     "assumed effect",
}


def effect_needed_text(o) -> str:
    """'45.2 % (assumed 30 %)'; 'more than 100 %: 4,023 %' when no effect is enough; '—' when nothing can."""
    if o.effect_needed is None:
        if o.target_usd_per_year is None:
            return "unknown: the spend it acts on is not in this data"
        return "none: no spend to act on"
    assumed = f" (assumed {fmt.pct(o.effect, 0)})" if o.effect is not None else ""
    if o.effect_needed > 1:
        return f"{fmt.pct(o.effect_needed, 0)}: impossible{assumed}"
    return f"{fmt.pct(o.effect_needed, 1)}{assumed}"


def spend_needed_text(o, with_target: bool = False) -> str:
    if o.target_needed_usd_per_year is None:
        return "—"
    today = fmt.usd(o.target_usd_per_year, 0) if o.target_usd_per_year is not None else "unknown"
    tl = targets()
    what = f" of {tl[o.target].label.lower()}" if with_target and o.target in tl else ""
    return f"{fmt.usd(o.target_needed_usd_per_year, 0)} a year{what} (today {today})"


def option_cells(o, horizon_years: int) -> list[str]:
    """The row of one option (an OptionSummary) as the table shows it."""
    name = f"{o.number}. {o.name}" if o.id != "portfolio" else "Portfolio"
    return [str(o.rank) if o.rank else "", name, fmt.usd(o.npv_usd, 0),
            "—" if o.profitability_index is None else f"{o.profitability_index:,.2f}",
            payback_text(o, horizon_years), payback_text(o, horizon_years, discounted=True),
            "not defined" if o.irr_annual is None else fmt.pct(o.irr_annual, 1),
            effect_needed_text(o) if o.id != "portfolio" else "—",
            spend_needed_text(o) if o.id != "portfolio" else "—",
            "" if o.id == "portfolio" else ("yes" if o.member else "no")]


def rule_label(rule: str) -> str:
    """'npv_max' -> 'NPV-maximising' (the form's label of the portfolio rule)."""
    return global_assumptions()["portfolio"].spec.choice_label(rule)


def _label(name: str, size: str = "") -> QLabel:
    lab = QLabel()
    lab.setObjectName(name)
    lab.setWordWrap(True)
    lab.setTextFormat(Qt.TextFormat.RichText)
    lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if size:
        lab.setStyleSheet(f"font-size: {size};")
    return lab


class DecisionView(QScrollArea):
    """Public: ``question``, ``statement``, ``table`` (ranked options, the portfolio last), ``risks``,
    ``warnings``, ``provenance`` (labels); :meth:`show_decision`."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("decisionView")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        body = QWidget()
        v = QVBoxLayout(body)
        v.setContentsMargins(4, 4, 4, 4)
        v.setSpacing(4)
        self.question = _label("decisionQuestion")
        self.statement = _label("decisionStatement", "10pt")
        v.addWidget(self.question)
        v.addWidget(self.statement)
        self.table = make_table("decisionTable")
        self.table.setMinimumHeight(60)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        v.addWidget(self.table)
        lower = QHBoxLayout()
        lower.setSpacing(16)
        self.risks = _label("decisionRisks")
        self.warnings = _label("decisionWarnings")
        left = QVBoxLayout()
        left.addWidget(self.risks)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(self.warnings)
        self.provenance = _label("decisionProvenance", "8pt")
        right.addWidget(self.provenance)
        right.addStretch(1)
        lower.addLayout(left, 3)
        lower.addLayout(right, 2)
        v.addLayout(lower)
        v.addStretch(1)
        self.setWidget(body)

    def show_decision(self, d, horizon_years: int) -> None:
        """Render *d* (a DecisionSummary) for a horizon of *horizon_years*."""
        self.question.setText(f"<i>The decision: {html.escape(d.question)}</i>")
        paying = any(o.npv_usd > 0 for o in d.options)
        col = POSITIVE_COLOR.name() if paying else NEGATIVE_COLOR.name()
        self.statement.setText(f"<b style='color:{col}'>{html.escape(d.statement)}</b>")
        t = self.table
        t.clear()
        rows = list(d.options) + [d.portfolio]
        t.setColumnCount(len(COLUMNS))
        t.setRowCount(len(rows))
        t.setHorizontalHeaderLabels(COLUMNS)
        for c, name in enumerate(COLUMNS):
            tip = TIPS.get(name.replace("\n", " "))
            if tip:
                t.horizontalHeaderItem(c).setToolTip(tip)
        bold = QFont(t.font())
        bold.setBold(True)
        for i, o in enumerate(rows):
            tl = targets()
            for c, text in enumerate(option_cells(o, horizon_years)):
                it = QTableWidgetItem(text)
                it.setToolTip(f"{text}: acts on the {tl[o.target].label.lower()}" if c == 1 and o.target in tl
                              else spend_needed_text(o, True) if c == 8 and o.id != "portfolio" else text)
                if c in (0, 2, 3, 6):
                    it.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if c == 2:
                    it.setForeground(QBrush(NEGATIVE_COLOR if o.npv_usd < 0 else POSITIVE_COLOR))
                if c == 4:
                    it.setForeground(QBrush(POSITIVE_COLOR if o.payback_status == "within the horizon"
                                            else NEGATIVE_COLOR))
                if o.id == "portfolio":
                    it.setFont(bold)
                    it.setBackground(QBrush(PORTFOLIO_BG))
                t.setItem(i, c, it)
        t.verticalHeader().setVisible(False)
        hh = t.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        t.resizeColumnsToContents()
        for c in range(len(COLUMNS)):
            hh.resizeSection(c, max(min(hh.sectionSize(c) + 8, 220 if c == 1 else 170), 64 if c == 9 else 0))
        t.resizeRowsToContents()
        # every row shown, and room for a horizontal scroll bar should the page be narrow
        h = hh.sizeHint().height() + sum(t.rowHeight(r) for r in range(t.rowCount())) + 2 * t.frameWidth()
        t.setFixedHeight(h + t.horizontalScrollBar().sizeHint().height())
        number = {o.id: o.number for o in d.options}
        members = ", ".join(str(number.get(i, i)) for i in d.npv_max_members) or "none"
        self.risks.setText("<b>Top risks</b><ul style='margin-left: -20px'>"
                           + "".join(f"<li>{html.escape(r)}</li>" for r in d.risks) + "</ul>")
        warn = "".join(f"<li>{html.escape(w)}</li>" for w in d.warnings)
        self.warnings.setText(
            f"<b>Portfolio rule</b>: {html.escape(rule_label(d.portfolio_rule))} (solutions {html.escape(members)}); every "
            f"ticked solution together: NPV {fmt.usd(d.all_enabled_npv_usd, 0)}."
            + (f"<br><b>Sizing warnings</b><ul style='margin-left: -20px'>{warn}</ul>" if warn else ""))
        self.provenance.setText(f"<b>Provenance</b>: {html.escape(d.provenance)}")
