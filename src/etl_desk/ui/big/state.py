"""The state of a big history in the window: the engine, its index as it is built, filter, sort,
grouping, selection (a rule) and the key figures -- what :class:`~etl_desk.ui.dashboard.state.DashboardState`
is for runs held in memory.

Opening runs :func:`~etl_desk.core.engine.index.build_index` on a worker; each stage it
reports is attached to the window's engine on the UI thread ("day": per-day totals and
the unfiltered key figures; "cube": every grouping and filter on status, source, dates;
"rollups": duration percentiles; complete: per-run views from the run order and the
level-of-detail pyramid). Queries the index answers (milliseconds: the rollup cube,
pyramid slices, pages of the run-ordered file) run on the UI thread; every other query
(a name filter, a sort by cost, anything before the index has what it needs) runs on a
worker with its own engine connection, and the views keep what they show until it
arrives. The selection is a :class:`~etl_desk.core.engine.rules.Rule`, never an array of rows.
"""
from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from dataclasses import replace

import numpy as np
import pandas as pd
from PySide6.QtCore import QObject, QThreadPool, Signal

from etl_desk.core.dashboard.view import ViewFilter, ViewSpec
from etl_desk.ui.big.run_rows import RunRowsMixin, RunView
from etl_desk.ui.big.selection import SelectionMixin
from etl_desk.ui.window.workers import TaskRunner

log = logging.getLogger(__name__)
#: Runs per page of the table (one page read from the run-ordered file is ~13 ms at 100M).
PAGE_ROWS = 200
#: Worker threads while a big history is open: a scan the user has moved on from (interrupted within
#: 0.1 s, but its engine may still be opening) must not hold up the percentiles of the next filter.
POOL_THREADS = 6


class BigData:
    """What the filter bar reads of a dataset: run count, sources present, first and last start."""

    has_sources = True

    def __init__(self, n: int, first_ns: int, last_ns: int):
        self.n = n
        self.start_ns = np.asarray([first_ns, last_ns], dtype=np.int64)


class _Bridge(QObject):
    """Signals a worker emits to the UI thread (queued)."""

    opened = Signal(object, object)  # engine, source
    stage = Signal(str, object)  # stage name, partly built RunIndex
    text = Signal(str)


class BigState(RunRowsMixin, SelectionMixin, QObject):
    """Public: ``engine``, ``index``, ``stage`` ("none", "day", "cube", "rollups", "complete", "stopped"),
    ``building``, ``spec``, ``view``, ``dataset``, ``selection`` (a Rule or None), ``kpis``, ``timings``
    (name -> seconds of the last UI-thread queries); ``open(path)``, ``set_filter/sort/grouping``,
    ``select_rule(rule)``, ``select_bars(bars)``, ``selected_count()``, ``run_rows(i0, i1, px)``."""

    datasetChanged = Signal()
    viewChanged = Signal()
    selectionChanged = Signal()
    kpisChanged = Signal()
    rowsReady = Signal()
    stageChanged = Signal(str)
    entered = Signal()  # the first view can be drawn: the window switches to the big-history pages
    note = Signal(str)  # what is being computed, for the page's note line
    openFailed = Signal(str)
    openCancelled = Signal()

    def __init__(self, settings=None, parent=None):
        super().__init__(parent)
        from etl_desk.core.engine import EngineSettings  # the engine (Ibis, DuckDB): only for big histories

        self.settings = settings or EngineSettings()
        pool = QThreadPool.globalInstance()
        pool.setMaxThreadCount(max(pool.maxThreadCount(), POOL_THREADS))
        self.index_base = None  # None: the user cache folder (ETL_DESK_INDEX_DIR overrides)
        self.engine = self.index = self.source = self.dataset = self.view = self.selection = None
        self.path = self.label = ""
        self.stage, self.building, self.progress_text = "none", False, ""
        self.spec = ViewSpec(grouping="day")
        self.timings: dict[str, float] = {}
        self._kpis: dict = {}
        self._gen = 0
        self._rows: dict = {}
        self._rollups: dict = {}
        self._rows_wanted = None
        self._sel_bars = self._sel_count = None
        self.bridge = _Bridge(self)
        self.bridge.opened.connect(self._on_opened)
        self.bridge.stage.connect(self._on_stage)
        self.bridge.text.connect(self._on_text)
        self.builder = TaskRunner(self)
        self.builder.progress.connect(lambda f: setattr(self, "builder_progress", float(f)))
        self.builder.finished.connect(self._on_built)
        self.builder.failed.connect(self._on_build_failed)
        self.builder.cancelled.connect(self._on_build_cancelled)
        self.runners = {k: TaskRunner(self) for k in ("kpis", "view", "rows", "selection", "table", "time")}
        self._done: dict = {}
        for k, r in self.runners.items():
            r.finished.connect(lambda res, k=k: self._done.pop(k, lambda _x: None)(res))
            r.failed.connect(lambda exc, tb, k=k: self._worker_failed(k, exc, tb))

    # --- opening ---------------------------------------------------------------------------------
    def open(self, path: str, label: str = "") -> None:
        """Open *path* (Parquet file or folder) and build or reuse its index in the background."""
        from etl_desk.core.engine import Engine
        from etl_desk.core.engine.backends import open_source
        from etl_desk.core.engine.index import build_index

        self.building = False  # the build being replaced reports no cancel
        self.cancel()
        self.close_engine()
        self.builder_progress = 0.0
        self.path, self.label = str(path), label or str(path)
        self.stage, self.building, self.index = "none", True, None
        settings, base, bridge = self.settings, self.index_base, self.bridge

        def work(progress, cancel):
            source = open_source(path)
            eng = Engine.open(source, "duckdb", settings)
            bridge.opened.emit(eng, source)

            def report(f, text):
                progress(f)
                bridge.text.emit(text)

            return build_index(source, base=base, memory_limit=settings.memory_limit, threads=settings.threads,
                               progress=report, cancel=cancel, on_stage=lambda name, idx: bridge.stage.emit(name, idx))

        self.builder.start(work, f"Indexing {self.label}")

    def _on_opened(self, engine, source) -> None:
        if not self.building:  # cancelled meanwhile
            engine.close()
            return
        self.engine, self.source = engine, source

    def _on_text(self, text: str) -> None:
        self.progress_text = text

    def _on_stage(self, name: str, idx) -> None:
        if self.engine is None or not self.building or name not in ("day", "cube", "rollups"):
            return  # "runs": the run order lives in a folder renamed when complete; wait for that
        self.index = idx
        self.engine.attach_index(idx)
        first = self.stage == "none"
        self.stage = name
        if first:
            self._enter()
        else:
            self._refresh(kpis=True)
        self.stageChanged.emit(name)

    def _on_built(self, idx) -> None:
        self.building = False
        if self.engine is None:
            return
        self.index = idx
        self.engine.attach_index(idx)
        first = self.stage == "none"
        self.stage = "complete"
        self.progress_text = "index complete"
        if first:
            self._enter()
        else:
            self._refresh(kpis=True)
        self.stageChanged.emit("complete")

    def _on_build_failed(self, exc, tb: str) -> None:
        self.building = False
        message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        log.error("index build failed:\n%s", tb)
        if self.stage == "none":
            self.close_engine()
            self.openFailed.emit(message)
            return
        self.stage = "stopped"
        self.note.emit(f"The index could not be completed ({message}); views scan the files instead.")
        self._refresh(kpis=False)
        self.stageChanged.emit("stopped")

    def _on_build_cancelled(self) -> None:
        was_building, self.building = self.building, False
        if not was_building:
            return
        if self.stage == "none":
            self.close_engine()
            self.openCancelled.emit()
            return
        self.stage = "stopped"
        self.note.emit("Index build cancelled: nothing half-built was kept. Per-run views now scan the files "
                       "(slow on big data); open the folder again to build the index.")
        self._refresh(kpis=False)
        self.stageChanged.emit("stopped")

    def _enter(self) -> None:
        k = self.engine.kpis(quantiles=False)
        first = pd.Timestamp(k["first_start"]) if k.get("first_start") else pd.Timestamp(0)
        last = pd.Timestamp(k["last_end"]) if k.get("last_end") else first
        self.dataset = BigData(int(k["runs"]), first.value, last.value)
        self.spec = ViewSpec(grouping="day")
        self.selection = None
        self.entered.emit()
        self.datasetChanged.emit()
        self._refresh(kpis=True)
        self.selectionChanged.emit()

    def cancel(self) -> None:
        """Stop the index build (nothing half-built is kept) and every query under way."""
        self.builder.cancel()
        for r in self.runners.values():
            r.cancel()

    def close_engine(self) -> None:
        for r in self.runners.values():
            r.cancel()
        self._rollups.clear()
        if self.engine is not None:
            self.engine.close()
        self.engine = self.index = self.dataset = self.view = None
        self.stage = "none"

    # --- filter, sort, grouping -------------------------------------------------------------------
    @property
    def rule(self):
        from etl_desk.core.engine.rules import Rule

        return Rule.from_view_filter(self.spec.filter)

    def set_spec(self, spec: ViewSpec) -> None:
        if spec == self.spec:
            return
        kpis = spec.filter != self.spec.filter
        self.spec = spec
        self._refresh(kpis=kpis)

    def set_filter(self, f: ViewFilter) -> None:
        self.set_spec(replace(self.spec, filter=f))

    def set_sort(self, key: str, descending: bool = False) -> None:
        self.set_spec(replace(self.spec, sort_key=key, descending=descending))

    def set_grouping(self, grouping: str) -> None:
        self.set_spec(replace(self.spec, grouping=grouping))

    @property
    def run_views_ready(self) -> bool:
        """Per-run views: from the pyramid once the index is complete; scanning the files when it was stopped."""
        return self.engine is not None and (self.stage in ("complete", "stopped"))

    def rollup(self, grain: str, rule):
        """The index's rollup of *grain* for *rule* (call only when :meth:`fast` says so), kept for the other
        views that ask for the same (the per-day bars, cost over time and the selection share one)."""
        key = (id(self.engine), self.stage, grain, rule)
        hit = self._rollups.get(key)
        if hit is None:
            with self.timed(f"per-{grain} totals"):
                hit = self.engine.rollup(grain, rule)
            while len(self._rollups) > 8:
                self._rollups.pop(next(iter(self._rollups)))
            self._rollups[key] = hit
        return hit

    def fast(self, rule=None, grain: str | None = None) -> bool:
        """True when the index answers *rule* (and *grain*) in milliseconds (the UI thread may ask)."""
        return self.engine is not None and self.engine.answers_from_index(rule, grain)

    @contextmanager
    def timed(self, name: str):
        t0 = time.perf_counter()
        yield
        self.timings[name] = dt = time.perf_counter() - t0
        log.info("big history: %s %.0f ms on the UI thread", name, dt * 1000)

    def in_worker(self, kind: str, fn, done) -> None:
        """Run ``fn(engine, cancel)`` on a worker with its own engine connection; ``done(result)`` on the UI thread."""
        from etl_desk.core.engine import Engine

        source, settings, index = self.source, self.settings, self.index
        gen = self._gen

        def work(progress, cancel):
            eng = Engine.open(source, "duckdb", settings, index=index)
            try:
                return fn(eng, cancel)
            finally:
                eng.close()

        self._done[kind] = lambda res: done(res) if gen == self._gen else None
        self.runners[kind].start(work, kind)

    def _worker_failed(self, kind: str, exc, tb: str) -> None:
        log.error("big-history %s query failed:\n%s", kind, tb)
        self.note.emit(f"Could not compute the {kind}: {getattr(exc, 'message', None) or exc}")

    def _refresh(self, kpis: bool = True) -> None:
        if self.engine is None:
            return
        self._gen += 1
        self.note.emit("")
        self._rows.clear()
        self._rows_wanted = None
        self._sel_bars = self._sel_count = None
        rule = self.rule
        if kpis:
            self._compute_kpis(rule)
        self._build_view(rule)

    # --- key figures ------------------------------------------------------------------------------
    @property
    def kpis(self) -> dict:
        return self._kpis

    def _compute_kpis(self, rule) -> None:
        def done(k):
            self._kpis = k
            self.kpisChanged.emit()
            self.note.emit("")

        if self.fast(rule):
            # sums from the cube now (milliseconds); the percentiles from its histograms on a worker
            # (a few hundred ms for a filter at 100M runs: not on the UI thread)
            with self.timed("kpis (cube sums)"):
                self._kpis = self.engine.kpis(rule, quantiles=self.index is None or self.index.hist is None)
            self.kpisChanged.emit()
            if self.index is not None and self.index.hist is not None:
                self.in_worker("kpis", lambda eng, cancel: eng.kpis(rule, cancel=cancel), done)
            return
        self._kpis = {"pending": True}
        self.kpisChanged.emit()
        self.note.emit("Computing the key figures of this filter (scanning the runs)…")
        self.in_worker("kpis", lambda eng, cancel: eng.kpis(rule, cancel=cancel), done)

    # --- views ------------------------------------------------------------------------------------
    def _build_view(self, rule) -> None:
        from etl_desk.core.engine.views import group_view

        spec = self.spec
        if spec.grouping != "run":
            if self.fast(rule, spec.grouping):
                self.view = group_view(self.rollup(spec.grouping, rule), spec)
                self.viewChanged.emit()
                return
            self.note.emit(f"Computing the per-{spec.grouping} totals (scanning the runs)…")

            def done(df):
                self.view = group_view(df, spec)
                self.note.emit("")
                self.viewChanged.emit()

            self.in_worker("view", lambda eng, cancel: eng.rollup(spec.grouping, rule, cancel=cancel), done)
            return
        if not self.run_views_ready:
            pct = f" ({self.builder_progress:.0%})" if self.builder_progress else ""
            self.view = RunView(self, spec, 0, "Per-run views appear when the index has the run order and the "
                                               f"level-of-detail pyramid{pct}; the grouped views work now.")
            self.viewChanged.emit()
            return
        if rule.is_all or self.fast(rule):
            with self.timed("count"):
                self.view = RunView(self, spec, self.engine.count(rule))
            self.viewChanged.emit()
            return
        self.note.emit("Counting the runs of this filter (scanning the runs)…")

        def counted(n):
            self.view = RunView(self, spec, int(n))
            self.note.emit("")
            self.viewChanged.emit()

        self.in_worker("view", lambda eng, cancel: eng.count(rule), counted)

    builder_progress = 0.0


__all__ = ["BigData", "BigState", "PAGE_ROWS", "RunView"]
