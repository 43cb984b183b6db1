"""The business case per audience: IT leadership (investment, people, timeline) and Finance (running
cost per period, savings, payback, ROI, NPV) as tables of what :func:`~etl_desk.core.business_case.model.evaluate`
returned. Every figure goes through :mod:`etl_desk.core.fmt`.
"""
from __future__ import annotations

import textwrap

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from etl_desk.core import fmt
from etl_desk.core.business_case.periods import PERIODS, per_period
from etl_desk.ui.business_case.chart import NEGATIVE_COLOR, POSITIVE_COLOR, payback_text

PORTFOLIO_BG = QColor(46, 139, 87, 38)  # translucent green: the portfolio's row/column, on any palette
SECTION_BG = QColor(128, 128, 128, 40)
DISABLED_FG = QColor("#999999")

ROW_TIPS = {
    "Investment": "People × weeks × loaded weekly rate + one-off tooling, spent during implementation",
    "Maintenance": "Running cost after go-live: tooling per year + maintenance FTE × weekly rate × 365 / 7",
    "Savings": "Expected effect × the measured yearly cost of the target, at full effect",
    "Net saving": "Savings per year − maintenance per year, at full effect",
    "Payback": "Months until the cumulative net cash flow turns positive for good (where the lines cross)",
    "ROI": "(Savings − investment − maintenance) / (investment + maintenance) over the horizon, undiscounted",
    "NPV": "Monthly net cash flows discounted at the discount rate over the horizon",
    "Spend doing nothing": "Cumulative cost over the horizon if nothing changes",
    "Spend with": "Cumulative cost over the horizon with this solution (or the portfolio), investment included",
    "Impact vs": "Spend doing nothing − spend with the solution over the horizon (positive = saves money)",
}


def short_name(number: int, name: str, width: int = 16) -> str:
    """'Cost tracking, auto-scaling and spot instances' -> '2. Cost tracking' (for column headers)."""
    short = name.split(",")[0].split(" and ")[0].strip()
    return textwrap.fill(f"{number}. {short}", width)


def make_table(name: str) -> QTableWidget:
    t = QTableWidget()
    t.setObjectName(name)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionMode(QAbstractItemView.SelectionMode.ContiguousSelection)
    t.setAlternatingRowColors(True)
    t.verticalHeader().setDefaultSectionSize(22)
    t.setWordWrap(True)
    t.setMinimumHeight(120)
    return t


def with_note(table: QTableWidget) -> tuple[QWidget, QLabel]:
    w = QWidget()
    v = QVBoxLayout(w)
    v.setContentsMargins(0, 2, 0, 0)
    v.setSpacing(2)
    v.addWidget(table, 1)
    note = QLabel()
    note.setWordWrap(True)
    note.setStyleSheet("font-size: 8pt;")
    v.addWidget(note)
    return w, note


# ------------------------------------------------------------------------------------------ IT leadership
IT_COLUMNS = ["Solution", "In portfolio", "Investment", "People (FTE)", "Implementation", "Start → go-live",
              "Full effect", "Team", "Timeline"]


def render_it(t: QTableWidget, note: QLabel, case, solutions) -> None:
    t.clear()
    t.setColumnCount(len(IT_COLUMNS))
    t.setHorizontalHeaderLabels(IT_COLUMNS)
    rows = case.solutions + [case.portfolio]
    t.setRowCount(len(rows))
    cat = {s.id: s for s in solutions}
    ramp = {x.id: case.assumptions["solutions"][x.id]["ramp_weeks"] for x in case.solutions}
    for i, r in enumerate(rows):
        sol = cat.get(r.id)
        if sol:
            full = r.go_live_week + ramp[r.id]
        else:
            full = max((x.go_live_week + ramp[x.id] for x in case.solutions if x.enabled), default=0)
        vals = [
            f"{r.number}. {r.name}" if sol else "Portfolio (selected)",
            ("yes" if r.enabled else "no") if sol else f"{sum(1 for x in case.solutions if x.enabled)} of 5",
            fmt.usd(r.investment_usd, 0),
            f"{r.personnel_fte:g}",
            f"{r.duration_weeks:g} weeks",
            f"week {r.start_week:g} → {r.go_live_week:g}",
            f"week {full:g}",
            "; ".join(sol.personnel) if sol else "",
            sol.timeline if sol else r.timeline,
        ]
        for c, v in enumerate(vals):
            it = QTableWidgetItem(v)
            if c in (2, 3, 4):
                it.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if sol is None:
                f = it.font()
                f.setBold(True)
                it.setFont(f)
                it.setBackground(QBrush(PORTFOLIO_BG))
            elif not r.enabled:
                it.setForeground(QBrush(DISABLED_FG))
            if c in (0, 7, 8):
                it.setToolTip(v)
            t.setItem(i, c, it)
    hh = t.horizontalHeader()
    t.resizeColumnsToContents()
    for c in range(len(IT_COLUMNS)):
        hh.resizeSection(c, min(hh.sectionSize(c) + 8, 240 if c == 0 else 280 if c == 7 else 180))
    hh.setStretchLastSection(True)
    t.verticalHeader().setVisible(False)
    t.resizeRowsToContents()
    note.setText("Investment = people × weeks × loaded weekly rate + one-off tooling. People are "
                 "full-time equivalents during implementation; timeline in weeks from today.")


# ------------------------------------------------------------------------------------------ Finance
def finance_rows(case, target_specs) -> list[tuple[str, str | None, object]]:
    """(label, kind, fn(result) -> value) rows; kind None = section header."""
    g = case.assumptions["global"]
    yrs = int(g["horizon_years"])
    dn_total = float(case.do_nothing_cumulative[-1])

    def target_text(r):
        spec = target_specs.get(r.target)
        if spec is None:
            return "combined"
        if r.target_usd_per_year is None:
            return f"{spec.label}: unknown (not in this data)"
        return f"{spec.label}: {fmt.usd(r.target_usd_per_year, 0)}"

    rows: list = [("Investment (one-off)", "usd0", lambda r: r.investment_usd),
                  ("Maintenance (running cost)", None, None)]
    rows += [(f"   per {p}", "usd", lambda r, p=p: per_period(r.maintenance_year)[p]) for p in PERIODS]
    rows.append(("Savings against doing nothing", None, None))
    rows += [(f"   per {p}", "usd", lambda r, p=p: per_period(r.savings_year)[p]) for p in PERIODS]
    rows += [
        ("Net saving per year", "usd0", lambda r: r.savings_year - r.maintenance_year),
        (f"Over the horizon ({yrs} year{'s' if yrs != 1 else ''})", None, None),
        ("   Payback", "text", lambda r: payback_text(r, yrs)),
        ("   Discounted payback", "text", lambda r: payback_text(r, yrs, discounted=True)),
        ("   ROI", "pct", lambda r: r.roi),
        (f"   NPV at {g['discount_rate'] * 100:g} % a year", "usd0", lambda r: r.npv_usd),
        ("   Spend doing nothing", "usd0", lambda r: dn_total),
        ("   Spend with the solution", "usd0", lambda r: float(case.with_cumulative(r)[-1])),
        ("   Impact vs doing nothing", "usd0", lambda r: r.net_benefit),
        ("What it acts on", None, None),
        ("   Target, per year", "text", target_text),
        ("   Expected effect", "text",
         lambda r: f"{fmt.pct(r.effect, 1)} of target" if r.effect is not None else "see solutions"),
    ]
    return rows


def _text(kind: str, v) -> str:
    if kind == "usd":
        return fmt.usd(v)
    if kind == "usd0":
        return fmt.usd(v, 0)
    if kind == "pct":
        return fmt.pct(v, 1)
    return str(v)


def render_finance(t: QTableWidget, note: QLabel, case, target_specs) -> None:
    rows = finance_rows(case, target_specs)
    results = [case.portfolio] + case.solutions
    t.clear()
    t.clearSpans()
    t.setRowCount(len(rows))
    t.setColumnCount(len(results))
    headers = ["Portfolio\n(selected)"] + [short_name(r.number, r.name) + ("" if r.enabled else "\n(not selected)")
                                           for r in case.solutions]
    t.setHorizontalHeaderLabels(headers)
    t.setVerticalHeaderLabels([lab for lab, _, _ in rows])
    bold = QFont(t.font())
    bold.setBold(True)
    for i, (lab, kind, fn) in enumerate(rows):
        vh = t.verticalHeaderItem(i)
        vh.setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        tip = next((v for k, v in ROW_TIPS.items() if lab.strip().startswith(k)), None)
        if tip:
            vh.setToolTip(tip)
        if kind is None:
            vh.setFont(bold)
            t.setSpan(i, 0, 1, len(results))
            it = QTableWidgetItem("")
            it.setBackground(QBrush(SECTION_BG))
            t.setItem(i, 0, it)
            continue
        for c, r in enumerate(results):
            v = fn(r)
            txt = _text(kind, v)
            it = QTableWidgetItem(txt)
            it.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if kind == "text":
                it.setToolTip(txt)
            if kind in ("usd0", "pct") and isinstance(v, (int, float)) and v < 0:
                it.setForeground(QBrush(NEGATIVE_COLOR))
            if lab.strip().startswith("Payback"):
                it.setForeground(QBrush(POSITIVE_COLOR if r.payback_within_horizon else NEGATIVE_COLOR))
            if c == 0:
                it.setFont(bold)
                it.setBackground(QBrush(PORTFOLIO_BG))
            elif not r.enabled:
                it.setForeground(QBrush(DISABLED_FG))
            t.setItem(i, c, it)
    hh = t.horizontalHeader()
    hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    t.resizeColumnsToContents()
    for c in range(len(results)):
        hh.resizeSection(c, max(96, min(hh.sectionSize(c) + 10, 170)))
    t.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    g = case.assumptions["global"]
    note.setText(
        "US dollars. Periods: year = 365 days, quarter = year / 4, month = year / 12, week = 7 days "
        "(steady-state run-rates after go-live). Each solution's column is that solution on its own; the "
        "portfolio counts a shared target once (combined effect = 1 − ∏(1 − effect)). NPV: monthly cash flows "
        f"discounted at {g['discount_rate'] * 100:g} % a year; spend growth {g['growth_rate'] * 100:g} % a "
        "year. Negative figures in red.")
