"""The Insights tab: the analysis as a report — insight cards by area, anomalies, thresholds.

It renders what :func:`etl_desk.core.insights.analysis.analyze` computes; it computes
nothing itself. The analysis comes from the window's one
:class:`~etl_desk.ui.analysis_job.AnalysisJob` (off the UI thread, on the runs in
the current filter, debounced), which the Solutions tab shares: the thresholds
edited here go to that job, so a threshold change re-runs detection once and
both tabs update. Clicking a card (or its "Select N runs" button) or an anomaly
row selects those runs everywhere through the shared :class:`DashboardState`.

Public API (used by tests): ``analysis`` (last result or None), ``analysisReady``
signal, ``refresh()``, ``card_for(insight_id)``, ``select_insight(insight_id)``,
``anomaly_model`` (source model), ``anomaly_table``, ``threshold_editors``,
``thresholds`` / ``set_thresholds(t)``, ``job`` (the shared AnalysisJob) and ``runner``.
"""
from __future__ import annotations

import html
import math
from dataclasses import fields, replace

import numpy as np
import pandas as pd
from PySide6.QtCore import (QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt, Signal)
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QDoubleSpinBox, QFrame, QGridLayout, QGroupBox,
                               QHBoxLayout, QHeaderView, QLabel, QPushButton, QScrollArea, QSizePolicy,
                               QSpinBox, QSplitter, QTableView, QVBoxLayout, QWidget)

from etl_desk.core import fmt
from etl_desk.core.insights.anomalies import RULE_LABELS, AnomalyThresholds
from etl_desk.ui.analysis_job import AnalysisJob, error_text

AREA_ORDER = ("case study", "cost", "data volume", "duration")
AREA_TITLES = {
    "case study": "The case study's three insights — checked against the data",
    "cost": "Cost",
    "data volume": "Data volume",
    "duration": "Duration",
}
SEVERITY_COLORS = {"info": "#6B7A8F", "notice": "#2F7EBC", "warning": "#D98300", "critical": "#C0392B"}
VERDICT_COLORS = {"confirmed": "#2E8B57", "refuted": "#C0392B"}
EVIDENCE_MAX_ROWS = 12

METRIC_LABELS = {"duration_min": "Duration", "cost_usd": "Cost", "cost_per_min": "Cost per minute",
                 "failure_rate": "Failure rate"}


# ------------------------------------------------------------------------------------ formatting
def _is_num(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def _unit_of(label: str) -> str | None:
    """The unit a column or measure label carries: usd, pct, gb, tb, min, count, ratio."""
    s = str(label)
    low = s.lower()
    if "(usd)" in low or low.startswith("cost per tb") or "usd" in low:
        return "usd"
    if "(%)" in s or low.endswith(" %"):
        return "pct"
    if "(gb)" in low:
        return "gb"
    if low == "tb" or "(tb)" in low:
        return "tb"
    if "(min)" in low:
        return "min"
    if "gb per min" in low:
        return "gbmin"
    if low in ("runs", "failed", "failed runs", "retries", "attempts") or low.endswith(" runs"):
        return "count"
    return None


def _strip_unit(label: str) -> str:
    for u in (" (USD)", " (%)", " (GB)", " (TB)", " (min)"):
        label = label.replace(u, "")
    return label


def format_value(v, unit: str | None) -> str:
    """One evidence cell as text."""
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
        return "—"
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (pd.Timestamp, np.datetime64)):
        ts = pd.Timestamp(v)
        return ts.strftime("%d %b %Y") if ts == ts.normalize() else ts.strftime("%d %b %Y %H:%M")
    if hasattr(v, "isoformat") and not _is_num(v):  # datetime.date
        return pd.Timestamp(v).strftime("%d %b %Y")
    if not _is_num(v):
        return str(v)
    v = float(v)
    if not math.isfinite(v):
        return "—"
    if unit == "usd":
        return fmt.usd(v) if abs(v) >= 0.01 or v == 0 else f"${v:,.4f}"
    if unit == "pct":
        return f"{v:,.2f} %"
    if unit == "gb":
        return fmt.gb(v)
    if unit == "tb":
        return fmt.tb(v, 3)
    if unit == "min":
        return fmt.minutes(v)
    if unit == "gbmin":
        return f"{v:,.3f} GB/min"
    if unit == "count" or v == int(v) and abs(v) >= 1:
        return f"{v:,.0f}"
    return f"{v:,.2f}"


def evidence_html(ev: pd.DataFrame) -> str:
    """The evidence table as compact HTML with formatted numbers."""
    if ev is None or ev.empty:
        return ""
    cols = list(ev.columns)
    measure_value = len(cols) == 2 and cols[1] == "Value"
    units = {c: _unit_of(c) for c in cols}
    # plain Python values once: element access on Arrow-backed columns costs ~0.1 ms a cell
    data = [[None if v is pd.NA else v for v in rec] for rec in ev.head(EVIDENCE_MAX_ROWS).to_numpy(dtype=object)]
    first = data[0] if data else [None] * len(cols)
    head = "".join(
        f"<th align='{'left' if i == 0 or not _is_num(first[i]) else 'right'}'>"
        f"{html.escape(_strip_unit(str(c)) if units[c] in ('usd', 'gb', 'tb', 'min') else str(c))}</th>"
        for i, c in enumerate(cols))
    rows = []
    for r, row in enumerate(data):
        cells = []
        for c, v in zip(cols, row):
            unit = units[c]
            if measure_value and c == "Value":
                unit = _unit_of(row[0]) or ("count" if _is_num(v) and float(v) == int(v) else None)
            txt = format_value(v, unit)
            align = "right" if _is_num(v) else "left"
            cells.append(f"<td align='{align}'>{html.escape(txt)}</td>")
        bg = "#f7f7f5" if r % 2 else "#ffffff"
        rows.append(f"<tr style='background:{bg}'>{''.join(cells)}</tr>")
    more = ""
    if len(ev) > EVIDENCE_MAX_ROWS:
        more = f"<div style='color:#777'>… and {len(ev) - EVIDENCE_MAX_ROWS:,} more rows</div>"
    return ("<table cellspacing='0' cellpadding='3' style='border:1px solid #dddddd'>"
            f"<tr style='background:#eeeeea'>{head}</tr>{''.join(rows)}</table>{more}")


def _badge_style(color: str) -> str:
    return (f"QLabel#badge {{ background: {color}; color: white; border-radius: 3px; "
            f"padding: 1px 6px; font-size: 8pt; font-weight: 600; }}")


def _badge(text: str, color: str) -> QLabel:
    lab = QLabel(text)
    lab.setObjectName("badge")
    lab.setStyleSheet(_badge_style(color))
    lab.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
    return lab


# ------------------------------------------------------------------------------------ cards
class InsightCard(QFrame):
    """One insight: badges, title, headline, evidence, what is missing, a select button."""

    clicked = Signal(str)

    def __init__(self, insight, parent=None):
        super().__init__(parent)
        self.insight = insight
        self.setObjectName("insightCard")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Click to select the runs this insight is about in the charts and the table")
        self._set_active(False)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 8, 10, 8)
        lay.setSpacing(5)

        top = QHBoxLayout()
        top.setSpacing(6)
        if insight.verdict:
            self.verdict_badge = _badge(insight.verdict.upper(), VERDICT_COLORS.get(insight.verdict, "#555555"))
            self.verdict_badge.setStyleSheet(self.verdict_badge.styleSheet().replace("8pt", "9pt"))
            top.addWidget(self.verdict_badge)
        else:
            self.verdict_badge = None
        self.severity_badge = _badge(insight.severity.upper(), SEVERITY_COLORS.get(insight.severity, "#6B7A8F"))
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
        self.select_button = QPushButton(f"Select {n:,} run{'s' if n != 1 else ''}" if n else "No runs to select")
        self.select_button.setObjectName("selectRunsButton")
        self.select_button.setEnabled(n > 0)
        self.select_button.setToolTip("Select these runs in the three charts and the data table")
        self.select_button.clicked.connect(lambda: self.clicked.emit(self.insight.id))
        top.addWidget(self.select_button, 0, Qt.AlignmentFlag.AlignTop)
        lay.addLayout(top)

        self.headline = QLabel(insight.headline)
        self.headline.setWordWrap(True)
        self.headline.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.headline.setStyleSheet("color: #222222;")
        lay.addWidget(self.headline)

        self.evidence = None
        if insight.evidence is not None and not insight.evidence.empty:
            self.evidence = QLabel(evidence_html(insight.evidence))
            self.evidence.setTextFormat(Qt.TextFormat.RichText)
            self.evidence.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            lay.addWidget(self.evidence)
        self.missing = None
        if insight.missing:
            self.missing = QLabel(f"<b>What is missing:</b> {html.escape(insight.missing)}")
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
            color = VERDICT_COLORS.get(insight.verdict, "#555555")
            self.verdict_badge.setStyleSheet(_badge_style(color).replace("8pt", "9pt"))
        if insight.severity != old.severity:
            self.severity_badge.setText(insight.severity.upper())
            self.severity_badge.setStyleSheet(_badge_style(SEVERITY_COLORS.get(insight.severity, "#6B7A8F")))
            self.severity_badge.setToolTip(f"Severity: {insight.severity}")
        self.title.setText(insight.title)
        n = len(insight.run_ids)
        self.select_button.setText(f"Select {n:,} run{'s' if n != 1 else ''}" if n else "No runs to select")
        self.select_button.setEnabled(n > 0)
        self.headline.setText(insight.headline)
        if self.evidence is not None:
            self.evidence.setText(evidence_html(insight.evidence))
        if self.missing is not None:
            self.missing.setText(f"<b>What is missing:</b> {html.escape(insight.missing)}")
        return True

    def _set_active(self, on: bool) -> None:
        border = "#2F7EBC" if on else "#DDDDDD"
        width = 2 if on else 1
        self.setStyleSheet(f"QFrame#insightCard {{ background: #FFFFFF; border: {width}px solid {border}; "
                           f"border-radius: 5px; }}")
        self.active = on

    def mouseReleaseEvent(self, ev):
        if ev.button() == Qt.MouseButton.LeftButton and self.rect().contains(ev.position().toPoint()):
            self.clicked.emit(self.insight.id)
        super().mouseReleaseEvent(ev)


# ------------------------------------------------------------------------------------ anomalies
class AnomalyModel(QAbstractTableModel):
    """The anomalies DataFrame as a table: rule, metric, pipeline, run, observed, baseline, threshold, score."""

    COLUMNS = [("rule", "Rule"), ("metric", "Metric"), ("pipeline", "Pipeline"), ("run_id", "Run"),
               ("observed", "Observed"), ("baseline", "Baseline"), ("threshold", "Threshold"),
               ("score", "Score")]

    def __init__(self, parent=None):
        super().__init__(parent)
        self.df = pd.DataFrame(columns=[c for c, _ in self.COLUMNS])
        self._cols: dict = {}

    def set_frame(self, df: pd.DataFrame | None) -> None:
        self.beginResetModel()
        self.df = (df if df is not None else pd.DataFrame(columns=[c for c, _ in self.COLUMNS])).reset_index(
            drop=True)
        # one numpy array per column: cells are read by index, never through df.iloc (thousands of rows)
        self._cols = {c: self.df[c].to_numpy(dtype=object) for c in self.df.columns}
        self.endResetModel()

    def _at(self, key: str, row: int):
        col = self._cols.get(key)
        if col is None:
            return None
        v = col[row]
        return None if v is pd.NA else v

    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self.df)

    def columnCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section][1]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return {"score": "How far past the threshold: a robust z-score, a cost multiple, or a "
                             "failure-rate jump in percentage points",
                    "threshold": "The rule's threshold (change it on the left)"}.get(self.COLUMNS[section][0])
        return None

    @staticmethod
    def _metric_value(metric: str, v) -> str:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "—"
        if metric == "duration_min":
            return fmt.minutes(v)
        if metric == "cost_usd":
            return fmt.usd(v)
        if metric == "cost_per_min":
            return f"${float(v):,.3f}/min"
        if metric == "failure_rate":
            return fmt.pct(v, 1)
        return fmt.number(v)

    @staticmethod
    def _threshold(rule: str, v) -> str:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "—"
        if rule.endswith("_z"):
            return f"z > {float(v):g}"
        if rule == "cost_spike":
            return f"≥ {float(v):g}× trailing mean"
        if rule == "failure_rate_jump":
            return f"+{float(v) * 100:g} pp"
        return fmt.number(v)

    def row_run_ids(self, row: int) -> list[str]:
        ids = self._at("run_ids", row)
        if isinstance(ids, (list, tuple, np.ndarray)) and len(ids):
            return [str(x) for x in ids]
        return [str(self._at("run_id", row))]

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        key = self.COLUMNS[index.column()][0]
        row = index.row()
        v = self._at(key, row)
        if role == Qt.ItemDataRole.DisplayRole:
            if key == "rule":
                return RULE_LABELS.get(v, str(v))
            if key == "metric":
                return METRIC_LABELS.get(v, str(v))
            if key in ("observed", "baseline"):
                return self._metric_value(self._at("metric", row), v)
            if key == "threshold":
                return self._threshold(self._at("rule", row), v)
            if key == "score":
                return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{float(v):,.2f}"
            return "" if v is None else str(v)
        if role == Qt.ItemDataRole.UserRole:  # sort key
            if key in ("observed", "baseline", "threshold", "score"):
                return float(v) if v is not None and not (isinstance(v, float) and math.isnan(v)) else -math.inf
            return "" if v is None else str(v)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if key in ("observed", "baseline", "threshold", "score"):
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            d = self._at("detail", row)
            ids = self.row_run_ids(row)
            extra = f"\nClick to select {len(ids):,} run(s)." if len(ids) > 1 else "\nClick to select this run."
            rule = self._at("rule", row)
            return (str(d) if d else RULE_LABELS.get(rule, rule)) + extra
        return None


# ------------------------------------------------------------------------------------ the tab
class InsightsTab(QWidget):
    """Insight cards grouped by area, a sortable anomalies table and the anomaly thresholds.

    *job*: the window's shared :class:`AnalysisJob` (the parent's ``analysis_job``
    when not given; a tab of its own otherwise).
    """

    analysisReady = Signal(object)  # the Analysis
    analysisFailed = Signal(str)

    def __init__(self, state, parent=None, job: AnalysisJob | None = None):
        super().__init__(parent)
        self.setObjectName("insightsTab")
        self.state = state
        self.analysis = None
        if job is None:
            job = getattr(parent, "analysis_job", None)
        if job is None:
            job = AnalysisJob(state, getattr(parent, "settings", None), parent=self)
        self.job = job
        self.runner = job.runner
        self._cards: dict[str, InsightCard] = {}
        self._unrendered = None  # an analysis whose cards wait until the tab is shown
        self._active_id: str | None = None
        self._selecting = False
        self._build()
        job.resultReady.connect(self._on_result)
        job.failed.connect(self._on_failed)
        job.busyChanged.connect(self._on_busy)
        job.thresholdsChanged.connect(self._show_thresholds)
        state.selectionChanged.connect(self._on_selection_changed)
        # built after the job started (the window builds its tabs after the first paint)
        self._on_busy(job.busy)
        if job.result is not None:
            self._on_result(job.result)

    # --- construction ------------------------------------------------------------------------
    def _build(self) -> None:
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(4)
        head = QHBoxLayout()
        self.summary = QLabel("No data analysed yet.")
        self.summary.setObjectName("insightsSummary")
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet("color: #333333;")
        head.addWidget(self.summary, 1)
        self.busy_label = QLabel("Analysing…")
        self.busy_label.setObjectName("analysingIndicator")
        self.busy_label.setStyleSheet("color: white; background: #2F7EBC; border-radius: 3px; padding: 1px 8px;")
        self.busy_label.setVisible(False)
        head.addWidget(self.busy_label)
        lay.addLayout(head)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.setChildrenCollapsible(False)
        self.splitter = split
        # left: cards
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.cards_host = QWidget()
        self.cards_host.setObjectName("cardsHost")
        self.cards_host.setStyleSheet("QWidget#cardsHost { background: #F3F3F0; }")
        self.cards_layout = QVBoxLayout(self.cards_host)
        self.cards_layout.setContentsMargins(6, 6, 6, 6)
        self.cards_layout.setSpacing(6)
        self.cards_layout.addStretch(1)
        self.scroll.setWidget(self.cards_host)
        split.addWidget(self.scroll)

        # right: thresholds + anomalies
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.setSpacing(4)
        self.anomaly_title = QLabel("<b>Anomalies</b>")
        rl.addWidget(self.anomaly_title)
        self.anomaly_model = AnomalyModel(self)
        self.anomaly_proxy = QSortFilterProxyModel(self)
        self.anomaly_proxy.setSourceModel(self.anomaly_model)
        self.anomaly_proxy.setSortRole(Qt.ItemDataRole.UserRole)
        self.anomaly_table = QTableView()
        self.anomaly_table.horizontalHeader().setResizeContentsPrecision(50)
        self.anomaly_table.setObjectName("anomalyTable")
        self.anomaly_table.setModel(self.anomaly_proxy)
        self.anomaly_table.setSortingEnabled(True)
        self.anomaly_table.sortByColumn(7, Qt.SortOrder.DescendingOrder)
        self.anomaly_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.anomaly_table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.anomaly_table.setAlternatingRowColors(True)
        self.anomaly_table.verticalHeader().setVisible(False)
        self.anomaly_table.verticalHeader().setDefaultSectionSize(20)
        self.anomaly_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.anomaly_table.horizontalHeader().setStretchLastSection(True)
        self.anomaly_table.selectionModel().selectionChanged.connect(self._on_anomaly_selection)
        rl.addWidget(self.anomaly_table, 1)
        self.notes_label = QLabel()
        self.notes_label.setWordWrap(True)
        self.notes_label.setStyleSheet("color: #8A6D00;")
        rl.addWidget(self.notes_label)
        rl.addWidget(self._build_thresholds())
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([3000, 2000])  # scaled to the real width on first layout
        lay.addWidget(split, 1)

    def _build_thresholds(self) -> QGroupBox:
        box = QGroupBox("Anomaly rules — thresholds")
        box.setToolTip("Changing a threshold re-runs detection on the runs in the current filter")
        grid = QGridLayout(box)
        grid.setContentsMargins(6, 4, 6, 4)
        grid.setVerticalSpacing(2)
        grid.setHorizontalSpacing(8)
        self.threshold_editors: dict[str, QWidget] = {}
        for f in fields(AnomalyThresholds):
            md = f.metadata
            value = getattr(self.thresholds, f.name)
            tip = f"{md['help']}" + (f"\nRange {md['min']:,} – {md['max']:,} {md['unit']}".rstrip()
                                     if md.get("min") is not None else "")
            if isinstance(f.default, bool):
                w = QCheckBox()
                w.setChecked(bool(value))
                w.toggled.connect(self._on_threshold_edited)
            elif isinstance(f.default, int):
                w = QSpinBox()
                w.setRange(int(md["min"]), int(md["max"]))
                w.setSingleStep(int(md["step"]))
                w.setValue(int(value))
                w.setGroupSeparatorShown(True)
                w.valueChanged.connect(self._on_threshold_edited)
            else:
                w = QDoubleSpinBox()
                step = float(md["step"])
                w.setDecimals(max(0, min(4, -int(math.floor(math.log10(step)))) if step < 1 else 1))
                w.setRange(float(md["min"]), float(md["max"]))
                w.setSingleStep(step)
                w.setValue(float(value))
                w.valueChanged.connect(self._on_threshold_edited)
            if isinstance(w, (QSpinBox, QDoubleSpinBox)):
                unit = md.get("unit") or ""
                if unit:
                    w.setSuffix({"x": " ×", "percentage points": " pp"}.get(unit, f" {unit}"))
                w.setKeyboardTracking(False)
                w.setMinimumWidth(120)
            w.setObjectName(f"threshold_{f.name}")
            w.setToolTip(tip)
            lab = QLabel(md["label"])
            lab.setToolTip(tip)
            i = len(self.threshold_editors)
            grid.addWidget(lab, i // 2, (i % 2) * 2)
            grid.addWidget(w, i // 2, (i % 2) * 2 + 1)
            self.threshold_editors[f.name] = w
        self.defaults_button = QPushButton("Restore defaults")
        self.defaults_button.setToolTip("Put every threshold back to its default")
        self.defaults_button.clicked.connect(lambda: self.set_thresholds(AnomalyThresholds()))
        n = len(self.threshold_editors)
        grid.addWidget(self.defaults_button, (n + 1) // 2, 3, Qt.AlignmentFlag.AlignRight)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        return box

    # --- thresholds ------------------------------------------------------------------------------
    @property
    def thresholds(self) -> AnomalyThresholds:
        """The thresholds the shared analysis uses (and the editors show)."""
        return self.job.thresholds

    def _editor_values(self) -> AnomalyThresholds:
        vals = {}
        for name, w in self.threshold_editors.items():
            if isinstance(w, QCheckBox):
                vals[name] = w.isChecked()
            elif isinstance(w, QSpinBox):
                vals[name] = int(w.value())
            else:
                vals[name] = round(float(w.value()), 6)
        return replace(self.thresholds, **vals)

    def _on_threshold_edited(self, *args) -> None:
        # the shared job persists them and re-runs once; both tabs get the result
        self.job.set_thresholds(self._editor_values())

    def _show_thresholds(self, t: AnomalyThresholds) -> None:
        for name, w in self.threshold_editors.items():
            v = getattr(t, name)
            w.blockSignals(True)
            if isinstance(w, QCheckBox):
                w.setChecked(bool(v))
            else:
                w.setValue(v)
            w.blockSignals(False)

    def set_thresholds(self, t: AnomalyThresholds) -> None:
        """Show *t* in the editors and re-run detection (debounced)."""
        self._show_thresholds(t)
        self._on_threshold_edited()

    # --- analysis ----------------------------------------------------------------------------
    def _schedule(self, force: bool = False) -> None:
        self.job.schedule(force)

    def refresh(self) -> None:
        """Analyse the runs in the current filter now (in the background); emits ``analysisReady``."""
        self.job.refresh()

    def _on_busy(self, busy: bool) -> None:
        self.busy_label.setVisible(busy)

    def _show_failure(self, msg: str) -> None:
        self.summary.setText(f"<span style='color:#C0392B'>Analysis failed: {html.escape(msg)}</span>")
        self.analysisFailed.emit(msg)

    def _on_failed(self, exc, tb: str) -> None:
        self._show_failure(error_text(exc))

    def _on_result(self, result) -> None:
        if result.analysis is None:
            self._show_failure(error_text(result.analysis_error))
            return
        self._on_finished(result.analysis, result.runs)

    def _on_finished(self, analysis, n: int) -> None:
        self.analysis = analysis
        self._render(analysis, n)
        self.analysisReady.emit(analysis)

    # --- rendering ------------------------------------------------------------------------------
    def _render(self, a, n: int) -> None:
        k = a.kpis
        src = self.state.dataset.source if self.state.dataset is not None else ""
        verdicts = [i for i in a.insights if i.verdict]
        vtxt = ", ".join(f"{sum(1 for i in verdicts if i.verdict == v)} {v}" for v in ("confirmed", "refuted")
                         if any(i.verdict == v for i in verdicts))
        self.summary.setText(
            f"<b>{n:,} runs analysed</b>{' — ' + html.escape(src) if src else ''}: "
            f"total cost <b>{fmt.usd(k.get('total_cost_usd'))}</b>, failed runs "
            f"<b>{fmt.count(k.get('failed_runs'))}</b> costing <b>{fmt.usd(k.get('failed_cost_usd'))}</b> "
            f"({fmt.pct(k.get('failed_cost_share'))}). {len(a.insights)} insights"
            f"{' (case study: ' + vtxt + ')' if vtxt else ''}, {len(a.anomalies):,} anomalies.")
        self.anomaly_model.set_frame(a.anomalies)
        self.anomaly_title.setText(
            f"<b>Anomalies</b> — {len(a.anomalies):,} found" if len(a.anomalies)
            else "<b>Anomalies</b> — none at these thresholds")
        self.notes_label.setText("\n".join(a.anomalies.attrs.get("notes", [])))
        self.notes_label.setVisible(bool(a.anomalies.attrs.get("notes")))
        # the cards and the column widths are the costly part (a tenth of a second on the UI
        # thread after every filter change, plus their layout): only while the tab is on
        # screen, else when it is next shown
        self._unrendered = a
        self._mark_active(None)  # a new analysis: no card is the selection's source any more
        if self.isVisible() and not self.visibleRegion().isEmpty():
            self._render_unrendered()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        self._render_unrendered()

    def set_on_screen(self, visible: bool) -> None:
        """The tab came into view (e.g. its dock tab was chosen): render what waited."""
        if visible:
            self._render_unrendered()

    def _render_unrendered(self) -> None:
        a, self._unrendered = self._unrendered, None
        if a is None:
            return
        active = self._active_id  # an insight selected through the API before the cards existed
        self._render_cards(a)
        if not getattr(self, "_anomaly_columns_fitted", False) and self.anomaly_model.rowCount():
            # once, on the first anomalies: later results keep the widths (the user's, perhaps)
            self._anomaly_columns_fitted = True
            self.anomaly_table.resizeColumnsToContents()
            hh = self.anomaly_table.horizontalHeader()
            for c in range(self.anomaly_model.columnCount()):
                hh.resizeSection(c, min(max(hh.sectionSize(c) + 10, 60), 240))
        if active is not None:
            self._mark_active(active)

    def _render_cards(self, a) -> None:
        groups = a.by_area()
        order = [g for g in AREA_ORDER if g in groups] + [g for g in groups if g not in AREA_ORDER]
        # the same insights as shown (a new filter, say): update the cards in place: creating
        # and styling ~100 widgets again costs the UI thread a quarter second at 1M runs
        if ([(area, [i.id for i in groups[area]]) for area in order] == getattr(self, "_card_layout", None)
                and all(self._cards[i.id].update_from(i) for area in order for i in groups[area])):
            self._active_id = None
            for card in self._cards.values():
                if card.active:
                    card._set_active(False)
            return
        self._card_layout = [(area, [i.id for i in groups[area]]) for area in order]
        # remove the previous cards (keep the stretch at the end)
        while self.cards_layout.count() > 1:
            item = self.cards_layout.takeAt(0)
            w = item.widget()
            if w is not None:
                w.hide()
                w.deleteLater()
        self._cards.clear()
        self._active_id = None
        pos = 0
        for area in order:
            items = groups[area]
            hdr = QLabel(AREA_TITLES.get(area, area.title()))
            hdr.setObjectName(f"areaHeader_{area.replace(' ', '_')}")
            hdr.setStyleSheet("font-size: 12pt; font-weight: 700; color: #333333; padding: 6px 0 0 2px;")
            self.cards_layout.insertWidget(pos, hdr)
            pos += 1
            for ins in items:
                card = InsightCard(ins)
                card.clicked.connect(self.select_insight)
                self.cards_layout.insertWidget(pos, card)
                pos += 1
                self._cards[ins.id] = card

    # --- selection -------------------------------------------------------------------------------
    def card_for(self, insight_id: str) -> InsightCard | None:
        self._render_unrendered()
        return self._cards.get(insight_id)

    def select_insight(self, insight_id: str) -> None:
        """Select the runs of *insight_id* in the charts and the table."""
        if self.analysis is None:
            return
        ins = self.analysis.insight(insight_id)
        if ins is None:
            return
        self._selecting = True
        try:
            self.state.select_run_ids([str(r) for r in ins.run_ids])
        finally:
            self._selecting = False
        self._mark_active(insight_id)

    def _mark_active(self, insight_id: str | None) -> None:
        if self._active_id is not None and self._active_id in self._cards:
            self._cards[self._active_id]._set_active(False)
        self._active_id = insight_id
        if insight_id is not None and insight_id in self._cards:
            self._cards[insight_id]._set_active(True)

    def _on_selection_changed(self) -> None:
        if not self._selecting:
            self._mark_active(None)
            if self.state.selected_count() == 0:
                self.anomaly_table.selectionModel().blockSignals(True)
                self.anomaly_table.clearSelection()
                self.anomaly_table.selectionModel().blockSignals(False)

    def _on_anomaly_selection(self, *args) -> None:
        rows = sorted({self.anomaly_proxy.mapToSource(i).row()
                       for i in self.anomaly_table.selectionModel().selectedRows()})
        if not rows:
            return
        ids: list[str] = []
        for r in rows:
            ids.extend(self.anomaly_model.row_run_ids(r))
        self._selecting = True
        try:
            self.state.select_run_ids(ids)
        finally:
            self._selecting = False
        self._mark_active(None)
