"""The run table's link to the state: selection both ways, the shared sort order on its header,
column widths fitted once per set of columns.

Selecting rows in the table selects those runs in the state (and so in every chart);
a selection made elsewhere is mirrored into the table as contiguous row ranges.
:attr:`TableSync.barActivated` asks the charts to bring the first selected bar into view.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QItemSelection, QItemSelectionModel, QObject, QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from etl_desk.ui.dashboard.table_model import SORTABLE, RunTableModel
from etl_desk.ui.widgets.guard import Guard

MAX_RANGES = 5000  # selection ranges mirrored into the table (each costs Qt a little)


def make_run_table(model: RunTableModel) -> QTableView:
    t = QTableView()
    t.setObjectName("runTable")
    t.setModel(model)
    t.setSortingEnabled(True)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    t.setAlternatingRowColors(True)
    t.verticalHeader().setDefaultSectionSize(20)
    t.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    hh = t.horizontalHeader()
    hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    hh.setDefaultSectionSize(120)
    hh.setSortIndicatorShown(True)
    hh.setResizeContentsPrecision(20)  # rows measured per column
    return t


def fit_columns_to_contents(table: QTableView) -> None:
    """Each column as wide as its header and the first rows' text (``setResizeContentsPrecision``), with a
    little air, between 70 and 260 px."""
    table.resizeColumnsToContents()
    hh = table.horizontalHeader()
    for c in range(table.model().columnCount()):
        hh.resizeSection(c, min(max(hh.sectionSize(c) + 12, 70), 260))


def show_sort_order(table: QTableView, model, spec) -> None:
    """*table*'s header shows *spec*'s sort key and direction on the column it sorts (none when no column
    does), without sorting again. *model*: a run table model (``column_key``)."""
    hh = table.horizontalHeader()
    col = next((c for c in range(model.columnCount())
                if SORTABLE.get(model.column_key(c)) == spec.sort_key
                and (spec.sort_key != "run_id" or model.column_key(c) in ("run_id", "group"))), -1)
    with QSignalBlocker(hh):
        order = Qt.SortOrder.DescendingOrder if spec.descending else Qt.SortOrder.AscendingOrder
        hh.setSortIndicatorShown(col >= 0)
        if col >= 0:
            hh.setSortIndicator(col, order)


class TableSync(QObject):
    barActivated = Signal(int)  # the first selected row, chosen in the table

    def __init__(self, state, table: QTableView, model: RunTableModel, parent=None):
        super().__init__(parent)
        self.state, self.table, self.model = state, table, model
        self._echo = Guard()
        self._fitted_columns: tuple | None = None
        table.selectionModel().selectionChanged.connect(self._on_table_selection)
        model.modelReset.connect(self.mirror_selection)
        model.modelReset.connect(self.fit_columns)
        state.viewChanged.connect(self.show_sort_order)  # (the model resets on it, and mirrors after that)
        state.selectionChanged.connect(self.mirror_selection)

    def mirror_selection(self) -> None:
        """Mirror the state's selection into the table (as contiguous row ranges)."""
        if self._echo or self.state.view is None:
            return
        bars = self.state.selected_bars()
        idx = np.flatnonzero(bars)
        with self._echo:
            sel = QItemSelection()
            if len(idx):
                breaks = np.flatnonzero(np.diff(idx) > 1)
                starts = np.r_[idx[0], idx[breaks + 1]]
                ends = np.r_[idx[breaks], idx[-1]]
                last_col = max(0, self.model.columnCount() - 1)
                for a, b in zip(starts[:MAX_RANGES], ends[:MAX_RANGES]):
                    sel.select(self.model.index(int(a), 0), self.model.index(int(b), last_col))
            self.table.selectionModel().select(sel, QItemSelectionModel.SelectionFlag.ClearAndSelect)
            if len(idx):
                self.table.scrollTo(self.model.index(int(idx[0]), 0))

    def _on_table_selection(self, *args) -> None:
        if self._echo:
            return
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        with self._echo:
            self.state.select_bars(rows, "replace")
        if rows:
            self.barActivated.emit(rows[0])

    def show_sort_order(self) -> None:
        """The header shows the shared sort order (which the filter bar may have set)."""
        show_sort_order(self.table, self.model, self.state.spec)

    def fit_columns(self) -> None:
        cols = tuple(self.model.column_key(c) for c in range(self.model.columnCount()))
        if cols == self._fitted_columns:
            return  # same columns: keep the user's widths (and skip measuring a million rows)
        self._fitted_columns = cols
        fit_columns_to_contents(self.table)
