"""The selection of a big history: a rule (:class:`~etl_desk.core.engine.rules.Rule`), never a list of rows.

Mixed into :class:`~etl_desk.ui.big.state.BigState`: "all failed runs among 100M" is
``Rule(statuses={"Failed"})``; bars picked in a grouped view become a pipeline set or a date
range; runs picked when zoomed in become a small set of run IDs. Counts and the bars holding
selected runs are asked of the engine's lanes (the cube, or a scan when it cannot answer);
``selectionChanged`` follows again when they arrive.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from etl_desk.ui.big.run_rows import RunView


class SelectionMixin:
    def select_rule(self, rule, mode: str = "replace") -> None:
        """Select the runs of *rule* (a Rule, or None to clear). *mode* "add"/"toggle" unite hand-picked run IDs."""
        cur = self.selection
        if rule is not None and cur is not None and mode in ("add", "toggle") \
                and rule.run_ids is not None and cur.run_ids is not None:
            ids = cur.run_ids | rule.run_ids if mode == "add" else cur.run_ids ^ rule.run_ids
            rule = replace(cur, run_ids=ids) if ids else None
        if rule == cur:
            return
        self.selection = rule
        self._sel_bars = self._sel_count = None
        self.selectionChanged.emit()

    def clear_selection(self) -> None:
        self.select_rule(None)

    def select_bars(self, bars, mode: str = "replace") -> None:
        """Select what bars *bars* of the current view stand for, as a rule."""
        from etl_desk.core.engine.rules import Rule

        v, bars = self.view, [int(b) for b in np.atleast_1d(bars)]
        if v is None or not bars:
            return
        if isinstance(v, RunView):
            ids = [self.run_label(b) for b in bars]
            ids = [i for i in ids if i]
            if ids:
                self.select_rule(Rule(run_ids=frozenset(ids)), mode)
            return
        keys = [v.keys[b] for b in bars if 0 <= b < v.n_bars]
        if v.spec.grouping == "pipeline":
            self.select_rule(Rule(pipelines=frozenset(map(str, keys))), mode)
            return
        ts = sorted(pd.Timestamp(k) for k in keys)
        step = {"day": pd.Timedelta(days=1), "week": pd.Timedelta(days=7)}.get(v.spec.grouping)
        end = ts[-1] + step if step is not None else ts[-1] + pd.offsets.MonthBegin(1)
        self.select_rule(Rule(start=ts[0], end=end), mode)

    def selected_count(self) -> int | None:
        """Runs selected within the filter (None while the engine counts them)."""
        if self.selection is None or self.engine is None:
            return 0
        if self._sel_count is None:
            self._sel_count = -1
            sel, both = self.selection, self.rule & self.selection

            def done(n):
                if self.selection is sel:
                    self._sel_count = int(n)
                    self.selectionChanged.emit()

            self.ask("selection", lambda eng, cancel: eng.count(both), done,
                     lane="index" if self.fast(both) else "scan")
        return None if self._sel_count < 0 else self._sel_count

    def selected_bars(self) -> np.ndarray:
        """Per bar of a grouped view: does it hold selected runs (from the cube; none marked while it answers
        or when it cannot say)."""
        v = self.view
        if v is None or isinstance(v, RunView) or self.selection is None:
            return np.zeros(0 if isinstance(v, RunView) or v is None else v.n_bars, dtype=bool)
        if self._sel_bars is None:
            self._sel_bars = np.zeros(v.n_bars, dtype=bool)
            both = self.rule & self.selection
            if self.fast(both, v.spec.grouping):
                sel, later = self.selection, []

                def done(df):
                    if self.selection is not sel or self.view is not v:
                        return
                    keys = set(df.loc[df["runs"] > 0, "key"].tolist())
                    self._sel_bars = np.fromiter((k in keys for k in v.keys), dtype=bool, count=v.n_bars)
                    if later:  # answered by the engine now: the views draw it (a cached answer is drawn at once)
                        self.selectionChanged.emit()

                self.ask_rollup(v.spec.grouping, both, done)
                later.append(True)
        return self._sel_bars
