"""Filters and selections as rules over the runs, never as row indices.

A :class:`Rule` is a conjunction of simple conditions on the canonical columns
("failed SAP runs on spot since 1 October"). The same rule is turned into

* an Ibis boolean expression (:meth:`Rule.predicate`) that every backend
  compiles (DuckDB, Spark, Databricks SQL), so "all failed runs among 100M" is
  a ``WHERE`` clause, not an array of 100M booleans;
* a NumPy mask over an in-memory canonical DataFrame (:meth:`Rule.mask`), for
  the pandas path and for tests;
* a predicate over the index's rollup cube (:meth:`Rule.cube_predicate`) when
  every condition is one the cube can answer (:attr:`Rule.cube_compatible`).

The window's filter and its selection are both rules: the selection of the
dashboard is ``view_filter_rule & selection_rule``.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Iterable

import numpy as np
import pandas as pd

from ._project import FAILED, NO_NAME, ViewFilter


def _fs(values: Iterable[str] | None) -> frozenset[str] | None:
    return None if values is None else frozenset(str(v) for v in values)


@dataclass(frozen=True)
class Rule:
    """A conjunction of conditions on runs; ``Rule()`` selects every run.

    Fields (``None`` = no condition):

    - ``statuses``: allowed ``status`` values ("Success", "Failed");
    - ``sources``: allowed ``source_system`` values;
    - ``pipelines``: allowed ``job_name`` values (:data:`NO_NAME` matches an empty name);
    - ``start`` / ``end``: ``start_time >= start`` and ``start_time < end`` (naive UTC);
    - ``text``: case-insensitive substring of ``job_name`` or ``run_id``;
    - ``spot``: True for spot runs only, False for on-demand only;
    - ``retries``: True for attempts > 1 only, False for first attempts only;
    - ``run_ids``: an explicit set of run IDs (a hand-picked selection; keep it small).
    """

    statuses: frozenset[str] | None = None
    sources: frozenset[str] | None = None
    pipelines: frozenset[str] | None = None
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    text: str = ""
    spot: bool | None = None
    retries: bool | None = None
    run_ids: frozenset[str] | None = None

    def __post_init__(self):
        for name in ("statuses", "sources", "pipelines", "run_ids"):
            v = getattr(self, name)
            if v is not None and not isinstance(v, frozenset):
                object.__setattr__(self, name, _fs(v))
        for name in ("start", "end"):
            v = getattr(self, name)
            if v is not None and not isinstance(v, pd.Timestamp):
                object.__setattr__(self, name, pd.Timestamp(v))

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_view_filter(cls, f: ViewFilter) -> "Rule":
        """The rule of the window's :class:`~etl_desk.core.dashboard.view.ViewFilter`."""
        return cls(statuses=f.statuses, sources=f.sources, start=f.start, end=f.end, text=f.text.strip())

    @classmethod
    def failed(cls) -> "Rule":
        """The rule "status is Failed" (every failed run, whatever its source, time or name)."""
        return cls(statuses=frozenset({FAILED}))

    def __and__(self, other: "Rule") -> "Rule":
        """Both rules at once (set conditions intersect, ranges narrow; texts must both match)."""
        out = {}
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            if a is None or a == "":
                out[f.name] = b
            elif b is None or b == "" or a == b:
                out[f.name] = a
            elif f.name in ("statuses", "sources", "pipelines", "run_ids"):
                out[f.name] = a & b
            elif f.name == "start":
                out[f.name] = max(a, b)
            elif f.name == "end":
                out[f.name] = min(a, b)
            elif f.name == "text":
                raise ValueError(f"cannot combine two different text conditions ({a!r}, {b!r}) in one rule")
            else:  # spot / retries: contradictory booleans select nothing
                out[f.name] = a
                out["statuses"] = frozenset()
        return replace(self, **out)

    # ------------------------------------------------------------------ properties
    @property
    def is_all(self) -> bool:
        """True when the rule selects every run."""
        return self == Rule()

    @property
    def cube_compatible(self) -> bool:
        """True when the index's rollup cube (day x pipeline x source x status x spot) can answer the rule.

        Dates must fall on midnight (the cube's grain is a day); text and run-ID
        conditions and the retry condition need the runs themselves.
        """
        def midnight(ts):
            return ts is None or ts == ts.normalize()

        return not self.text and self.run_ids is None and self.retries is None \
            and midnight(self.start) and midnight(self.end)

    def cube_dims(self) -> set[str]:
        """The cube columns the rule's conditions use (``day``, ``status``, ...)."""
        used = set()
        for name, dim in (("statuses", "status"), ("sources", "source_system"), ("pipelines", "job_name"),
                          ("start", "day"), ("end", "day"), ("spot", "spot")):
            if getattr(self, name) is not None:
                used.add(dim)
        return used

    def describe(self) -> str:
        """One line for people, e.g. ``status: Failed; source: SAP; from 2025-10-01``."""
        parts = []
        for name, label in (("statuses", "status"), ("sources", "source"), ("pipelines", "pipeline")):
            v = getattr(self, name)
            if v is not None:
                parts.append(f"{label}: " + (", ".join(sorted(v)) or "none"))
        if self.start is not None:
            parts.append(f"from {self.start:%Y-%m-%d %H:%M}".removesuffix(" 00:00"))
        if self.end is not None:
            parts.append(f"before {self.end:%Y-%m-%d %H:%M}".removesuffix(" 00:00"))
        if self.text:
            parts.append(f"name contains {self.text!r}")
        if self.spot is not None:
            parts.append("spot only" if self.spot else "on-demand only")
        if self.retries is not None:
            parts.append("retries only" if self.retries else "first attempts only")
        if self.run_ids is not None:
            parts.append(f"{len(self.run_ids):,} chosen runs")
        return "; ".join(parts) if parts else "all runs"

    # ------------------------------------------------------------------ compilation
    def predicate(self, t):
        """The rule as an Ibis boolean expression over a canonical runs table *t* (None = no condition)."""
        import ibis

        conds = []
        if self.statuses is not None:
            conds.append(t.status.isin(sorted(self.statuses)) if self.statuses else ibis.literal(False))
        if self.sources is not None:
            conds.append(t.source_system.isin(sorted(self.sources)) if self.sources else ibis.literal(False))
        if self.pipelines is not None:
            conds.append(t.job_name.fill_null(NO_NAME).isin(sorted(self.pipelines)) if self.pipelines
                         else ibis.literal(False))
        if self.start is not None:
            conds.append(t.start_time >= self.start.to_pydatetime())
        if self.end is not None:
            conds.append(t.start_time < self.end.to_pydatetime())
        if self.text:
            needle = self.text.lower()
            conds.append(t.job_name.lower().contains(needle).fill_null(False)
                         | t.run_id.lower().contains(needle).fill_null(False))
        if self.spot is not None:
            conds.append(t.spot.fill_null(False) == self.spot)
        if self.retries is not None:
            retry = t.attempt.fill_null(1) > 1
            conds.append(retry if self.retries else ~retry)
        if self.run_ids is not None:
            conds.append(t.run_id.isin(sorted(self.run_ids)) if self.run_ids else ibis.literal(False))
        if not conds:
            return None
        out = conds[0]
        for c in conds[1:]:
            out = out & c
        return out

    def apply(self, t):
        """*t* filtered by the rule (an Ibis table expression)."""
        p = self.predicate(t)
        return t if p is None else t.filter(p)

    def cube_predicate(self, c):
        """The rule over the rollup cube *c* (columns ``day``, ``job_name``, ``source_system``, ``status``, ``spot``).

        Raises ValueError when :attr:`cube_compatible` is False.
        """
        if not self.cube_compatible:
            raise ValueError(f"the rollup cube cannot answer this rule ({self.describe()})")
        import ibis

        conds = []
        if self.statuses is not None:
            conds.append(c.status.isin(sorted(self.statuses)) if self.statuses else ibis.literal(False))
        if self.sources is not None:
            conds.append(c.source_system.isin(sorted(self.sources)) if self.sources else ibis.literal(False))
        if self.pipelines is not None:
            conds.append(c.job_name.isin(sorted(self.pipelines)) if self.pipelines else ibis.literal(False))
        if self.start is not None:
            conds.append(c.day >= self.start.to_pydatetime())
        if self.end is not None:
            conds.append(c.day < self.end.to_pydatetime())
        if self.spot is not None:
            conds.append(c.spot == self.spot)
        if not conds:
            return None
        out = conds[0]
        for x in conds[1:]:
            out = out & x
        return out

    def mask(self, df: pd.DataFrame) -> np.ndarray:
        """Boolean array (len(df),): which rows of the canonical DataFrame *df* the rule selects."""
        m = np.ones(len(df), dtype=bool)
        if self.statuses is not None:
            m &= df["status"].astype("object").isin(list(self.statuses)).to_numpy(dtype=bool)
        if self.sources is not None:
            m &= df["source_system"].astype("object").isin(list(self.sources)).to_numpy(dtype=bool)
        if self.pipelines is not None:
            m &= df["job_name"].fillna(NO_NAME).isin(list(self.pipelines)).to_numpy(dtype=bool)
        start = df["start_time"]
        if self.start is not None:
            m &= (start >= self.start).to_numpy(dtype=bool)
        if self.end is not None:
            m &= (start < self.end).to_numpy(dtype=bool)
        if self.text:
            needle = self.text.lower()
            hit = df["job_name"].astype("string").str.lower().str.contains(needle, regex=False).fillna(False)
            hit |= df["run_id"].astype("string").str.lower().str.contains(needle, regex=False).fillna(False)
            m &= hit.to_numpy(dtype=bool)
        if self.spot is not None:
            s = df["spot"] if "spot" in df.columns else pd.Series(False, index=df.index)
            m &= (s.fillna(False).astype(bool) == self.spot).to_numpy(dtype=bool)
        if self.retries is not None:
            a = df["attempt"] if "attempt" in df.columns else pd.Series(1, index=df.index)
            r = (a.fillna(1) > 1).to_numpy(dtype=bool)
            m &= r if self.retries else ~r
        if self.run_ids is not None:
            m &= df["run_id"].isin(list(self.run_ids)).to_numpy(dtype=bool)
        return m
