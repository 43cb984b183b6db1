"""The data table: a QAbstractTableModel over the current view.

Rows are the view's bars in the same order as the charts (runs, or groups when
grouped). Cells are formatted on demand from the DataFrame's numpy columns; no
per-cell Python objects are kept. Sorting a column sets the window's shared
sort order, so the charts follow.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from etl_desk.core import fmt
from etl_desk.core.data.schema import FAILED, LABELS, STATUS_COLORS
from etl_desk.core.dashboard.view import View

RUN_COLUMNS = ["run_id", "job_name", "source_system", "status", "start_time", "end_time", "duration_min",
               "data_processed_gb", "compute_hours", "cost_usd", "attempt", "result_state", "termination_code",
               "spot", "injected_anomaly"]
#: table column -> shared sort key
SORTABLE = {"run_id": "run_id", "start_time": "start_time", "cost_usd": "cost_usd",
            "data_processed_gb": "data_processed_gb", "duration_min": "duration_min",
            "runs": None, "group": "run_id", "failed_cost": None}
GROUP_COLUMNS = [("group", "Group"), ("runs", "Runs"), ("failed_runs", "Failed runs"), ("failure_rate", "Failure rate"),
                 ("cost_usd", "Cost (USD)"), ("failed_cost", "Failed cost (USD)"),
                 ("data_processed_gb", "Data Processed (GB)"), ("duration_min", "Duration (min, total)")]
NUMERIC = {"duration_min", "data_processed_gb", "compute_hours", "cost_usd", "attempt", "runs", "failed_runs",
           "failure_rate", "failed_cost"}


def run_columns(ds) -> tuple[list[tuple[str, str]], dict]:
    """The per-run table's columns (those holding values) and their arrays, for *ds*.

    Thread-safe and cached on the dataset: the window computes it on the worker that builds
    the data, so showing a million new runs does not convert columns on the UI thread.
    """
    cached = ds.cache.get("run_columns")
    if cached is not None:
        return cached
    df = ds.df
    cols = []
    for c in RUN_COLUMNS:  # presence was measured when the data was built
        if c in ("run_id", "status", "start_time", "duration_min", "cost_usd") or ds.filled.get(c):
            if c == "attempt" and ds.single_attempt:
                continue
            cols.append((c, LABELS[c]))
    arrays = {}
    for c, _ in cols:
        s = df[c]
        if c in ("start_time", "end_time"):
            # the column's own datetime64 values (no copy); a cell shows whole seconds (raw_value)
            arrays[c] = s.to_numpy() if s.dtype.kind == "M" else s.to_numpy(dtype="datetime64[ns]")
        elif c in NUMERIC:
            # float and plain int columns as they are (no copy; attempt stays int64)
            plain = isinstance(s.dtype, np.dtype) and s.dtype.kind in "if"
            arrays[c] = s.to_numpy() if plain else s.to_numpy(dtype=np.float64)
        else:
            # text columns stay in pandas (Arrow strings): read per visible cell, no object copies
            arrays[c] = s.reset_index(drop=True).array
    ds.cache["run_columns"] = (cols, arrays)
    return cols, arrays


class RunTableModel(QAbstractTableModel):
    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.state = state
        self._cols: list[tuple[str, str]] = []
        self._arrays: dict[str, np.ndarray] = {}
        self._failed_brush = QBrush(QColor(STATUS_COLORS[FAILED]))
        state.viewChanged.connect(self.refresh)
        self.refresh()

    @property
    def view(self) -> View | None:
        return self.state.view

    def refresh(self) -> None:
        self.beginResetModel()
        v = self.view
        self._arrays = {}
        if v is None:
            self._cols = []
        elif v.grouped:
            self._cols = GROUP_COLUMNS
        else:
            self._cols, self._arrays = run_columns(v.dataset)
        self.endResetModel()

    # --- Qt model API -----------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() or self.view is None else self.view.n_bars

    def columnCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self._cols)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole:
            if orientation == Qt.Orientation.Horizontal:
                return self._cols[section][1] if section < len(self._cols) else None
            return str(section + 1)
        if role == Qt.ItemDataRole.ToolTipRole and orientation == Qt.Orientation.Horizontal:
            key = self._cols[section][0]
            if SORTABLE.get(key):
                return "Click to sort the charts and the table by this column"
        return None

    def column_key(self, section: int) -> str:
        return self._cols[section][0]

    def raw_value(self, row: int, col: int):
        v = self.view
        key = self._cols[col][0]
        if v.grouped:
            return {
                "group": lambda: v.label(row),
                "runs": lambda: int(v.runs[row]),
                "failed_runs": lambda: int(v.failed_runs[row]),
                "failure_rate": lambda: v.failed_runs[row] / v.runs[row] if v.runs[row] else 0.0,
                "cost_usd": lambda: float(v.totals["cost_usd"][row]),
                "failed_cost": lambda: float(v.failed_parts["cost_usd"][row]),
                "data_processed_gb": lambda: float(v.totals["data_processed_gb"][row]),
                "duration_min": lambda: float(v.totals["duration_min"][row]),
            }[key]()
        r = int(v.positions[row])
        val = self._arrays[key][r]
        if isinstance(val, np.datetime64):
            return val.astype("datetime64[s]")
        return None if val is pd.NA else val

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or self.view is None:
            return None
        row, col = index.row(), index.column()
        key = self._cols[col][0]
        if role == Qt.ItemDataRole.DisplayRole:
            val = self.raw_value(row, col)
            return self._format(key, val)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if key in NUMERIC:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and key == "status":
            if self.raw_value(row, col) == FAILED:
                return self._failed_brush
        if role == Qt.ItemDataRole.UserRole:
            return self.raw_value(row, col)
        return None

    def _format(self, key: str, val) -> str:
        if val is None or val is pd.NA or (isinstance(val, float) and np.isnan(val)):
            return ""
        if isinstance(val, np.datetime64):
            return "" if np.isnat(val) else str(val).replace("T", " ")
        if key in ("cost_usd", "failed_cost"):
            return fmt.usd(val)
        if key == "data_processed_gb":
            return fmt.number(val, 2)
        if key == "duration_min":
            return fmt.number(val, 1)
        if key == "compute_hours":
            return fmt.number(val, 2)
        if key == "failure_rate":
            return fmt.pct(val, 1)
        if key in ("attempt", "runs", "failed_runs"):
            return f"{int(val):,}"
        if key in ("spot", "injected_anomaly"):
            return "yes" if bool(val) else "no"
        return str(val)

    def sort(self, column, order=Qt.SortOrder.AscendingOrder):
        if not 0 <= column < len(self._cols):
            return
        key = SORTABLE.get(self._cols[column][0])
        if key:
            self.state.set_sort(key, descending=order == Qt.SortOrder.DescendingOrder)
