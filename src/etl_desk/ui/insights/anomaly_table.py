"""The anomalies as a sortable table: rule, metric, pipeline, run, observed, baseline, threshold, score.

Observed and baseline values are formatted by the rule's metric (a duration in
minutes, a cost in dollars, a cost per minute, a failure rate) through
:mod:`etl_desk.core.fmt`; the sort role holds the raw numbers.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from etl_desk.core import fmt
from etl_desk.core.insights.anomaly_rules import RULE_LABELS

METRIC_LABELS = {"duration_min": "Duration", "cost_usd": "Cost", "cost_per_min": "Cost per minute",
                 "failure_rate": "Failure rate"}
SCORE_COLUMN = 7


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
                    "threshold": "The rule's threshold (change it under Anomaly rules)"}.get(self.COLUMNS[section][0])
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


def make_anomaly_table(parent=None) -> tuple[AnomalyModel, QSortFilterProxyModel, QTableView]:
    """The model, its sorting proxy and the view, sorted by score (largest first)."""
    model = AnomalyModel(parent)
    proxy = QSortFilterProxyModel(parent)
    proxy.setSourceModel(model)
    proxy.setSortRole(Qt.ItemDataRole.UserRole)
    t = QTableView()
    t.setObjectName("anomalyTable")
    t.horizontalHeader().setResizeContentsPrecision(50)
    t.setModel(proxy)
    t.setSortingEnabled(True)
    t.sortByColumn(SCORE_COLUMN, Qt.SortOrder.DescendingOrder)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    t.setAlternatingRowColors(True)
    t.verticalHeader().setVisible(False)
    t.verticalHeader().setDefaultSectionSize(20)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    t.horizontalHeader().setStretchLastSection(True)
    return model, proxy, t


def fit_columns(table: QTableView, columns: int) -> None:
    table.resizeColumnsToContents()
    hh = table.horizontalHeader()
    for c in range(columns):
        hh.resizeSection(c, min(max(hh.sectionSize(c) + 10, 60), 300))
