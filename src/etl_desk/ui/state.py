"""The one state object the window owns: data, filter, sort, grouping and selection.

Every view (the three charts, the table, the KPI strip, the insights) subscribes
to its signals and renders what it holds; none of them computes the view
itself. The selection is a rule over the data: a boolean mask over the table's
rows (equivalently, a set of run IDs), so it survives re-sorting, re-grouping
and filtering.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from PySide6.QtCore import QObject, Signal

from etl_desk.core.dashboard.view import Dataset, View, ViewFilter, ViewSpec, build_view


class DashboardState(QObject):
    #: a new table was loaded (the view and selection were reset)
    datasetChanged = Signal()
    #: filter, sort or grouping changed (or a new table): `view` holds new bars
    viewChanged = Signal()
    #: the selected runs changed
    selectionChanged = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.dataset: Dataset | None = None
        self.spec = ViewSpec()
        self.view: View | None = None
        self._selection = np.zeros(0, dtype=bool)
        self._selected_bars: np.ndarray | None = None

    # --- data -------------------------------------------------------------------------
    @property
    def df(self) -> pd.DataFrame | None:
        return self.dataset.df if self.dataset is not None else None

    def set_data(self, df: pd.DataFrame, source: str = "", dataset: Dataset | None = None,
                 view: View | None = None) -> None:
        """New data. *dataset* and *view* may be precomputed off the UI thread (see prepare())."""
        self.dataset = dataset if dataset is not None else Dataset(df, source)
        self._selection = np.zeros(self.dataset.n, dtype=bool)
        # a filter on names or dates from the previous data rarely makes sense for new data
        self.spec = replace(self.spec, filter=ViewFilter())
        if view is not None and view.dataset is self.dataset and view.spec == self.spec:
            self._selected_bars = None
            self.view = view
        else:
            self._rebuild()
        self.datasetChanged.emit()
        self.viewChanged.emit()
        self.selectionChanged.emit()

    def prepare(self, df: pd.DataFrame, source: str = "") -> tuple[Dataset, View]:
        """Thread-safe: the Dataset and the first View that set_data would compute (for workers)."""
        ds = Dataset(df, source)
        return ds, build_view(ds, replace(self.spec, filter=ViewFilter()))

    # --- view spec ----------------------------------------------------------------------
    def set_spec(self, spec: ViewSpec) -> None:
        if spec == self.spec:
            return
        self.spec = spec
        self._rebuild()
        self.viewChanged.emit()

    def set_filter(self, f: ViewFilter) -> None:
        self.set_spec(replace(self.spec, filter=f))

    def set_sort(self, key: str, descending: bool = False) -> None:
        self.set_spec(replace(self.spec, sort_key=key, descending=descending))

    def set_grouping(self, grouping: str) -> None:
        self.set_spec(replace(self.spec, grouping=grouping))

    def _rebuild(self) -> None:
        self._selected_bars = None
        self.view = build_view(self.dataset, self.spec) if self.dataset is not None else None

    # --- selection ----------------------------------------------------------------------
    @property
    def selection(self) -> np.ndarray:
        """Boolean mask over the table's rows."""
        return self._selection

    def selected_count(self) -> int:
        return int(self._selection.sum())

    def selected_run_ids(self) -> list[str]:
        if self.dataset is None:
            return []
        return [str(x) for x in self.dataset.run_id[self._selection].tolist()]

    def selected_bars(self) -> np.ndarray:
        """Boolean per bar of the current view."""
        if self.view is None:
            return np.zeros(0, dtype=bool)
        if self._selected_bars is None:
            self._selected_bars = self.view.bars_of_rows(self._selection)
        return self._selected_bars

    def select_rows(self, mask: np.ndarray, mode: str = "replace") -> None:
        """mode: replace | add | toggle | remove."""
        if self.dataset is None:
            return
        mask = np.asarray(mask, dtype=bool)
        if mode == "replace":
            new = mask.copy()
        elif mode == "add":
            new = self._selection | mask
        elif mode == "toggle":
            new = self._selection ^ mask
        elif mode == "remove":
            new = self._selection & ~mask
        else:
            raise ValueError(mode)
        if np.array_equal(new, self._selection):
            return
        self._selection = new
        self._selected_bars = None
        self.selectionChanged.emit()

    def select_bars(self, bars, mode: str = "replace") -> None:
        if self.view is None:
            return
        self.select_rows(self.view.rows_of_bars(bars), mode)

    def select_run_ids(self, run_ids, mode: str = "replace") -> None:
        if self.dataset is None:
            return
        self.select_rows(self.dataset.rows_for_ids(run_ids), mode)

    def clear_selection(self) -> None:
        if self.dataset is not None:
            self.select_rows(np.zeros(self.dataset.n, dtype=bool))
