"""One insight as a card: verdict and severity badges, title, headline, evidence table, what is missing.

Evidence cells are formatted by the units core declares on the insight
(:attr:`~etl_desk.core.insights.base.Insight.units`) through :func:`etl_desk.core.fmt.by_unit`;
nothing here reads a unit out of a column label.
"""
from __future__ import annotations

import html

import numpy as np
import pandas as pd
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout

from etl_desk.core import fmt
from etl_desk.core.insights.base import Area, Severity, Verdict

AREA_TITLES = {
    Area.CASE_STUDY: "The case study's three insights — checked against the data",
    Area.COST: "Cost",
    Area.VOLUME: "Data volume",
    Area.DURATION: "Duration",
}
SEVERITY_COLORS = {Severity.INFO: "#6B7A8F", Severity.NOTICE: "#2F7EBC", Severity.WARNING: "#D98300",
                   Severity.CRITICAL: "#C0392B"}
VERDICT_COLORS = {Verdict.CONFIRMED: "#2E8B57", Verdict.REFUTED: "#C0392B"}
EVIDENCE_MAX_ROWS = 12
# translucent greys: readable on the light and on the dark palette
HEADER_ROW = "rgba(128,128,128,46)"
ODD_ROW = "rgba(128,128,128,20)"


def _is_num(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def evidence_html(insight) -> str:
    """The insight's evidence table as compact HTML, each cell formatted by its declared unit."""
    ev = insight.evidence
    if ev is None or ev.empty:
        return ""
    cols = list(ev.columns)
    measures = insight.is_measure_table
    # plain Python values once: element access on Arrow-backed columns costs ~0.1 ms a cell
    data = [[None if v is pd.NA else v for v in rec] for rec in ev.head(EVIDENCE_MAX_ROWS).to_numpy(dtype=object)]
    first = data[0] if data else [None] * len(cols)
    head = "".join(f"<th align='{'left' if i == 0 or not _is_num(first[i]) else 'right'}'>{html.escape(str(c))}</th>"
                   for i, c in enumerate(cols))
    rows = []
    for r, row in enumerate(data):
        cells = []
        for c, v in zip(cols, row):
            unit = insight.unit_of(c, str(row[0]) if measures else None)
            align = "right" if _is_num(v) else "left"
            cells.append(f"<td align='{align}'>{html.escape(fmt.by_unit(v, unit))}</td>")
        shade = ODD_ROW if r % 2 else "transparent"
        rows.append(f"<tr style='background-color:{shade}'>{''.join(cells)}</tr>")
    more = ""
    if len(ev) > EVIDENCE_MAX_ROWS:
        more = f"<div>… and {len(ev) - EVIDENCE_MAX_ROWS:,} more rows</div>"
    return ("<table cellspacing='0' cellpadding='3' border='0'>"
            f"<tr style='background-color:{HEADER_ROW}'>{head}</tr>{''.join(rows)}</table>{more}")


def _badge_style(color: str, size: str = "8pt") -> str:
    return (f"QLabel#badge {{ background: {color}; color: white; border-radius: 3px; "
            f"padding: 1px 6px; font-size: {size}; font-weight: 600; }}")


def _badge(text: str, color: str, size: str = "8pt") -> QLabel:
    lab = QLabel(text)
    lab.setObjectName("badge")
    lab.setStyleSheet(_badge_style(color, size))
    lab.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
    return lab


def select_text(n: int) -> str:
    return f"Select {n:,} run{'s' if n != 1 else ''}" if n else "No runs to select"


class InsightCard(QFrame):
    """One insight: badges, title, headline, evidence, what is missing, a select button."""

    clicked = Signal(str)

    def __init__(self, insight, parent=None):
        super().__init__(parent)
        self.insight = insight
        self.setObjectName("insightCard")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Click to select the runs this insight is about in the charts and the table")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.active = False
        self._set_active(False)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 8, 10, 8)
        lay.setSpacing(5)

        top = QHBoxLayout()
        top.setSpacing(6)
        self.verdict_badge = None
        if insight.verdict:
            self.verdict_badge = _badge(insight.verdict.upper(), VERDICT_COLORS[insight.verdict], "9pt")
            top.addWidget(self.verdict_badge)
        self.severity_badge = _badge(insight.severity.upper(), SEVERITY_COLORS[insight.severity])
        self.severity_badge.setToolTip(f"Severity: {insight.severity}")
        top.addWidget(self.severity_badge)
        self.title = QLabel(insight.title)
        f = QFont(self.title.font())
        f.setBold(True)
        f.setPointSizeF(f.pointSizeF() * 1.1)
        self.title.setFont(f)
        self.title.setWordWrap(True)
        top.addWidget(self.title, 1)
        n = len(insight.run_ids)
        self.select_button = QPushButton(select_text(n))
        self.select_button.setObjectName("selectRunsButton")
        self.select_button.setEnabled(n > 0)
        self.select_button.setToolTip("Select these runs in the three charts and the data table")
        self.select_button.clicked.connect(lambda: self.clicked.emit(self.insight.id))
        self.select_button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        top.addWidget(self.select_button, 0, Qt.AlignmentFlag.AlignTop)
        lay.addLayout(top)

        self.headline = QLabel(insight.headline)
        self.headline.setWordWrap(True)
        self.headline.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.headline)

        self.evidence = None
        if insight.evidence is not None and not insight.evidence.empty:
            self.evidence = QLabel(evidence_html(insight))
            self.evidence.setObjectName("evidenceTable")
            self.evidence.setTextFormat(Qt.TextFormat.RichText)
            self.evidence.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            lay.addWidget(self.evidence)
        self.missing = None
        if insight.missing:
            self.missing = QLabel(f"<b>What is missing:</b> {html.escape(insight.missing)}")
            self.missing.setObjectName("missingNote")
            self.missing.setWordWrap(True)
            self.missing.setTextFormat(Qt.TextFormat.RichText)
            self.missing.setStyleSheet("color: #8A6D00; background: #FFF8E1; padding: 3px;")
            lay.addWidget(self.missing)

    @staticmethod
    def _shape(insight) -> tuple:
        """What decides which widgets a card has (texts aside)."""
        return (insight.id, bool(insight.verdict),
                insight.evidence is not None and not insight.evidence.empty, bool(insight.missing))

    def update_from(self, insight) -> bool:
        """Show *insight* in this card's widgets (no new widgets, no re-styling unless a colour
        changes). False when it needs other widgets than this card has: build a new card."""
        if self._shape(insight) != self._shape(self.insight):
            return False
        old, self.insight = self.insight, insight
        if insight.verdict and insight.verdict != old.verdict:
            self.verdict_badge.setText(insight.verdict.upper())
            self.verdict_badge.setStyleSheet(_badge_style(VERDICT_COLORS[insight.verdict], "9pt"))
        if insight.severity != old.severity:
            self.severity_badge.setText(insight.severity.upper())
            self.severity_badge.setStyleSheet(_badge_style(SEVERITY_COLORS[insight.severity]))
            self.severity_badge.setToolTip(f"Severity: {insight.severity}")
        self.title.setText(insight.title)
        n = len(insight.run_ids)
        self.select_button.setText(select_text(n))
        self.select_button.setEnabled(n > 0)
        self.headline.setText(insight.headline)
        if self.evidence is not None:
            self.evidence.setText(evidence_html(insight))
        if self.missing is not None:
            self.missing.setText(f"<b>What is missing:</b> {html.escape(insight.missing)}")
        return True

    def _set_active(self, on: bool) -> None:
        width = 2 if on else 1
        border = "#2F7EBC" if on else "palette(mid)"
        self.setStyleSheet(f"QFrame#insightCard {{ background: palette(base); border: {width}px solid {border}; "
                           f"border-radius: 5px; }}")
        self.active = on

    def mouseReleaseEvent(self, ev):  # noqa: N802 - Qt API
        if ev.button() == Qt.MouseButton.LeftButton and self.rect().contains(ev.position().toPoint()):
            self.clicked.emit(self.insight.id)
        super().mouseReleaseEvent(ev)
