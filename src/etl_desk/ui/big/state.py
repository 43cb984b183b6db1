"""The state of a big history in the window: the engine, its index as it is built, filter, sort,
grouping, selection (a rule) and the key figures -- what :class:`~etl_desk.ui.dashboard.state.DashboardState`
is for runs held in memory.

Opening runs :func:`~etl_desk.core.engine.index.build_index` on a worker; each stage it
reports is used from then on ("day": per-day totals and the unfiltered key figures; "cube":
every grouping and filter on status, source, dates; "rollups": duration percentiles;
complete: per-run views from the run order and the level-of-detail pyramid). Every engine
query runs on a worker lane (:mod:`.lanes`, :mod:`.requests`): the index lane answers from the
rollup cube in milliseconds, the scan lane what the index does not hold; a filter change asks
for what the views need (the bars first, then the key figures, then their percentiles), a
newer change drops what an older one asked, and the views keep what they show until the
answer arrives. Only reads of the index's own files (pyramid slices, pages of the run-ordered
file: a few ms, no SQL) run on the UI thread. The selection is a
:class:`~etl_desk.core.engine.rules.Rule`, never an array of rows.
"""
from __future__ import annotations

import gc
import logging
from dataclasses import replace

import numpy as np
import pandas as pd
from PySide6.QtCore import QObject, Signal

from etl_desk.core.dashboard.view import ViewFilter, ViewSpec
from etl_desk.ui.big.lanes import Lane
from etl_desk.ui.big.requests import RequestsMixin
from etl_desk.ui.big.run_rows import RunRowsMixin, RunView
from etl_desk.ui.big.selection import SelectionMixin
from etl_desk.ui.window.workers import TaskRunner

log = logging.getLogger(__name__)
#: Runs per page of the table (one page read from the run-ordered file is ~13 ms at 100M).
PAGE_ROWS = 200
KPI_KINDS = ("kpis", "percentiles")  # the requests of the key figures (see _compute_kpis)


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


class BigState(RequestsMixin, RunRowsMixin, SelectionMixin, QObject):
    """Public: ``engine``, ``index``, ``stage`` ("none", "day", "cube", "rollups", "complete", "stopped"),
    ``building``, ``spec``, ``view``, ``dataset``, ``selection`` (a Rule or None), ``kpis``, ``timings``
    (name -> seconds the last queries took on their lane), ``lanes``; ``open(path)``,
    ``set_filter/sort/grouping``, ``select_rule(rule)``, ``select_bars(bars)``, ``selected_count()``,
    ``run_rows(i0, i1, px)``, ``ask(...)``, ``ask_rollup(...)``, ``pending()``."""

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
        gc.freeze()  # the engine's modules were just imported: long-lived (see entered() in _enter)
        self.index_base = None  # None: the user cache folder (ETL_DESK_INDEX_DIR overrides)
        self.engine = self.index = self.source = self.dataset = self.view = self.selection = None
        self.path = self.label = ""
        self.stage, self.building, self.progress_text = "none", False, ""
        self.spec = ViewSpec(grouping="day")
        self._kpis: dict = {}
        self._gen = 0
        self._entered = False
        self._rows: dict = {}
        self._rows_wanted = None
        self._sel_bars = self._sel_count = None
        self.lanes = {"index": Lane("index", self), "scan": Lane("scan", self)}
        self._init_requests()
        self.bridge = _Bridge(self)
        self.bridge.opened.connect(self._on_opened)
        self.bridge.stage.connect(self._on_stage)
        self.bridge.text.connect(self._on_text)
        self.builder = TaskRunner(self)
        self.builder.progress.connect(lambda f: setattr(self, "builder_progress", float(f)))
        self.builder.finished.connect(self._on_built)
        self.builder.failed.connect(self._on_build_failed)
        self.builder.cancelled.connect(self._on_build_cancelled)

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
        # the index lane queries on this engine from now on (the UI thread only reads its index's files)
        self.lanes["index"].adopt(engine, source)

    def _on_text(self, text: str) -> None:
        self.progress_text = text

    def _on_stage(self, name: str, idx) -> None:
        if self.engine is None or not self.building or name not in ("day", "cube", "rollups"):
            return  # "runs": the run order lives in a folder renamed when complete; wait for that
        self._use_index(idx, name)

    def _on_built(self, idx) -> None:
        self.building = False
        if self.engine is None:
            return
        self.progress_text = "index complete"
        self._use_index(idx, "complete")

    def _use_index(self, idx, stage: str) -> None:
        """Answer from *idx* (the lanes attach it before their next query); enter or refresh the views."""
        self.index, self.stage = idx, stage
        if not self._entered:
            self._enter()
        else:
            self._refresh(kpis=True)
        self.stageChanged.emit(stage)

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
        """The first stage: the run count and time span (from the cube, on the index lane), then the first view."""
        self._entered = True

        def entered(k):
            # what the process holds now (the window, the engine's Ibis/DuckDB/SQLGlot modules) lives on: leave it
            # out of the cyclic garbage collector's full passes, which took 0.2-0.3 s at random moments (measured
            # at 100M runs: a filter change or a zoom step that happened to trigger one missed its goal)
            gc.freeze()
            first = pd.Timestamp(k["first_start"]) if k.get("first_start") else pd.Timestamp(0)
            last = pd.Timestamp(k["last_end"]) if k.get("last_end") else first
            self.dataset = BigData(int(k["runs"]), first.value, last.value)
            self.spec = ViewSpec(grouping="day")
            self.selection = None
            self._kpis = k
            self.entered.emit()
            self.datasetChanged.emit()
            self._refresh(kpis=True)
            self.selectionChanged.emit()

        self.ask("open", lambda eng, cancel: eng.kpis(quantiles=False, cancel=cancel), entered)

    def cancel(self) -> None:
        """Stop the index build (nothing half-built is kept) and every query under way."""
        self.builder.cancel()
        self.cancel_queries()

    def close_engine(self) -> None:
        self.cancel_queries()
        self._rollups.clear()
        for lane in self.lanes.values():
            lane.close()  # after the (cancelled) query under way, on the lane's own thread
        self.engine = self.index = self.dataset = self.view = None
        self.stage, self._entered = "none", False

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

    def fast(self, rule=None, grain: str | None = None) -> bool:
        """True when the index's cube answers *rule* (and *grain*) in milliseconds (the index lane asks)."""
        from etl_desk.core.engine.engine import cube_answers

        cube = self.index.cube if self.engine is not None and self.index is not None else None
        return cube is not None and cube_answers(cube.column_names, rule, grain)

    def _refresh(self, kpis: bool = True) -> None:
        """A new filter, sort or grouping (or index stage): drop what was asked for the old one, ask anew --
        the bars first, then the key figures (their percentiles last)."""
        if self.engine is None or self.dataset is None:
            return
        self._gen += 1
        # a new sort or grouping keeps the key figures asked for this filter (still under way, maybe)
        self.cancel_queries(keep=() if kpis else KPI_KINDS)
        self._rows.clear()
        self._rows_wanted = None
        self._sel_bars = self._sel_count = None
        self.note.emit("")  # the page's note line asks for the selection's count within the new filter
        rule = self.rule
        self._build_view(rule)
        if kpis:
            self._compute_kpis(rule)

    # --- key figures ------------------------------------------------------------------------------
    @property
    def kpis(self) -> dict:
        return self._kpis

    def _compute_kpis(self, rule) -> None:
        def done(k):
            self._kpis = k
            self.kpisChanged.emit()

        def same_filter():  # the key figures answer a filter, whatever the sort or grouping
            return self.rule == rule

        if self.fast(rule):
            # sums from the cube (milliseconds), shown as soon as they come; then the percentiles from its
            # histograms (~0.1 s for a filter at 100M runs), asked now: the index lane answers in the order asked
            hist = self.index.hist is not None
            self.ask("kpis", lambda eng, cancel: eng.kpis(rule, quantiles=not hist, cancel=cancel), done,
                     still=same_filter)
            if hist:
                self.ask("percentiles", lambda eng, cancel: eng.kpis(rule, cancel=cancel), done, still=same_filter)
            return
        self._kpis = {"pending": True}
        self.kpisChanged.emit()
        self.note.emit("Computing the key figures of this filter (scanning the runs)…")

        def scanned(k):
            done(k)
            self.note.emit("")

        self.ask("kpis", lambda eng, cancel: eng.kpis(rule, cancel=cancel), scanned, lane="scan", still=same_filter)

    # --- views ------------------------------------------------------------------------------------
    def _build_view(self, rule) -> None:
        from etl_desk.core.engine.views import group_view

        spec, gen = self.spec, self._gen
        if spec.grouping != "run":
            def grouped(df):
                if gen == self._gen:
                    self._set_view(group_view(df, spec))

            self.ask_rollup(spec.grouping, rule, grouped)
            return
        if not self.run_views_ready:
            pct = f" ({self.builder_progress:.0%})" if self.builder_progress else ""
            self._set_view(RunView(self, spec, 0, "Per-run views appear when the index has the run order and the "
                                                  f"level-of-detail pyramid{pct}; the grouped views work now."))
            return
        if rule.is_all:
            self._set_view(RunView(self, spec, self.dataset.n))
            return
        fast = self.fast(rule)
        if not fast:
            self.note.emit("Counting the runs of this filter (scanning the runs)…")

        def counted(n):
            if not fast:
                self.note.emit("")
            self._set_view(RunView(self, spec, int(n)))

        self.ask("view", lambda eng, cancel: eng.count(rule), counted, lane="index" if fast else "scan")

    def _set_view(self, view) -> None:
        self.view = view
        self._sel_bars = None  # per bar of this view
        self.viewChanged.emit()

    builder_progress = 0.0


__all__ = ["BigData", "BigState", "PAGE_ROWS", "RunView"]
