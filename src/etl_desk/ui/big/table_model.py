"""The run table over a big history: rows fetched a page at a time, by key, as the user scrolls.

Grouped views show their (few) bars as the Dashboard's table does. Per run, the model
holds only the pages it has read (:data:`~etl_desk.ui.big.state.PAGE_ROWS` runs each):
a cell of a page not read yet shows "…" and asks for its page. In run-ID order without a
filter, the page comes from the index's run-ordered file on the UI thread (one row-group
read, ~13 ms at 100M runs, no query); otherwise the scan lane asks the engine -- by key after
the page before it when that one is known (keyset: as fast at row 50,000,000 as at row 0),
else by position -- and the rows appear when it answers.
"""
from __future__ import annotations

import pandas as pd
from PySide6.QtCore import QModelIndex, Qt

from etl_desk.core.data.schema import LABELS
from etl_desk.core.engine.engine import Page
from etl_desk.ui.big.run_rows import index_page
from etl_desk.ui.big.state import PAGE_ROWS, RunView
from etl_desk.ui.dashboard.table_model import GROUP_COLUMNS, RunTableModel

BIG_RUN_COLUMNS = ["run_id", "job_name", "source_system", "status", "start_time", "end_time", "duration_min",
                   "data_processed_gb", "compute_hours", "cost_usd", "attempt", "result_state", "termination_code",
                   "spot"]
PENDING = "…"
#: The position column: the table's own row header stays hidden (after a reset far down a 100M-row
#: table, QHeaderView asked for millions of section labels: minutes on the UI thread).
POSITION = "_pos"
MAX_WANTED = 4  # pages waiting for a worker (the newest first: what the user scrolled to)


class BigTableModel(RunTableModel):
    """Public: ``pages`` (page number -> DataFrame read so far), ``page_fetches`` (how many were read)."""

    def __init__(self, state, parent=None):
        self.pages: dict[int, pd.DataFrame] = {}
        self._cells: dict[int, dict] = {}
        self._next_key: dict[int, tuple] = {}
        self._wanted: list[int] = []
        self._fetching: int | None = None
        self.page_fetches = 0
        super().__init__(state, parent)

    def refresh(self) -> None:
        self.beginResetModel()
        self.pages, self._cells, self._next_key, self._wanted, self._fetching = {}, {}, {}, [], None
        v = self.view
        self._arrays = {}
        if v is None:
            self._cols = []
        elif isinstance(v, RunView):
            self._cols = [(POSITION, "#")] + [(c, LABELS[c]) for c in BIG_RUN_COLUMNS]
        else:
            self._cols = GROUP_COLUMNS
        self.endResetModel()

    def has_row(self, row: int) -> bool:
        """True when row *row*'s values are here (a grouped view always; runs once their page arrived)."""
        return not isinstance(self.view, RunView) or self._cells.get(row // PAGE_ROWS) is not None

    def raw_value(self, row: int, col: int):
        v = self.view
        if not isinstance(v, RunView):
            return super().raw_value(row, col)
        cells = self._cells.get(row // PAGE_ROWS)
        if cells is None:
            self._want(row // PAGE_ROWS)
            return None
        column = cells[self._cols[col][0]]
        i = row % PAGE_ROWS
        return column[i] if i < len(column) else None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if index.isValid() and isinstance(self.view, RunView) and self._cols[index.column()][0] == POSITION:
            if role == Qt.ItemDataRole.DisplayRole:
                return f"{index.row() + 1:,}"
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return index.row() + 1 if role == Qt.ItemDataRole.UserRole else None
        if (role == Qt.ItemDataRole.DisplayRole and index.isValid() and isinstance(self.view, RunView)
                and index.row() // PAGE_ROWS not in self.pages):
            self._want(index.row() // PAGE_ROWS)
            return PENDING if index.row() // PAGE_ROWS not in self.pages else super().data(index, role)
        return super().data(index, role)

    def run_id_at(self, row: int) -> str | None:
        page = self.pages.get(row // PAGE_ROWS)
        if page is None or row % PAGE_ROWS >= len(page):
            return None
        return str(page["run_id"].iat[row % PAGE_ROWS])

    # --- fetching -------------------------------------------------------------------------------
    def _fast(self) -> bool:
        st = self.state
        idx = st.index
        return bool(idx is not None and idx.has_runs and st.spec.sort_key == "run_id" and st.rule.is_all)

    def _want(self, p: int) -> None:
        if p in self.pages or p == self._fetching:
            return
        st = self.state
        if self._fast():
            rows = index_page(st.index, p * PAGE_ROWS, PAGE_ROWS, st.spec.descending)
            self._store(p, Page(rows, None))
            return
        if p in self._wanted:
            self._wanted.remove(p)
        self._wanted.insert(0, p)
        del self._wanted[MAX_WANTED:]
        self._next()

    def _next(self) -> None:
        table = self.state.runners.get("table")
        if self._fetching is not None and table is not None and table.busy:
            return  # one page at a time (a fetch dropped by a newer filter does not hold the next one up)
        self._fetching = None
        if not self._wanted:
            return
        p = self._wanted.pop(0)
        st, spec, rule = self.state, self.state.spec, self.state.rule
        after = self._next_key.get(p - 1)
        self._fetching = p
        at = None if after is not None or p == 0 else p * PAGE_ROWS

        def fetch(eng, cancel):
            return eng.page(spec.sort_key, after=after, n=PAGE_ROWS, rule=rule, descending=spec.descending, at=at,
                            cancel=cancel)

        def done(page):
            self._fetching = None
            self._store(p, page)
            top, bottom = p * PAGE_ROWS, min((p + 1) * PAGE_ROWS, self.rowCount()) - 1
            if bottom >= top:
                self.dataChanged.emit(self.index(top, 0), self.index(bottom, self.columnCount() - 1))
            self._next()

        st.ask("table", fetch, done, lane="scan")

    def _store(self, p: int, page) -> None:
        self.page_fetches += 1
        rows = self.pages[p] = page.rows.reset_index(drop=True)
        # the cells as Python objects, once per page (a pandas look-up per cell painted cost ~0.3 ms)
        self._cells[p] = {c: rows[c].to_numpy(dtype=object, na_value=None) for c in BIG_RUN_COLUMNS}
        if page.next_key is not None:
            self._next_key[p] = page.next_key

    def rowCount(self, parent=QModelIndex()):  # noqa: N802 - Qt API
        return 0 if parent.isValid() or self.view is None else self.view.n_bars
