"""How the big-history views ask the engine: off the UI thread, the latest request winning, one query per need.

Mixed into :class:`~etl_desk.ui.big.state.BigState`. :meth:`ask` runs ``fn(engine, cancel)`` on a
lane (:mod:`.lanes`) and calls ``done(result)`` on the UI thread -- unless the filter, sort or
grouping changed meanwhile (a new *generation*: the answer is dropped) or a newer request of the
same kind replaced it (the older is cancelled). :meth:`ask_rollup` shares one query among every
view that needs the same totals (the per-day bars and cost over time per day; the bars holding a
selection), in flight or answered.
"""
from __future__ import annotations

import logging
import time

from etl_desk.core.tasks import Cancelled
from etl_desk.ui.window.workers import TaskRunner

log = logging.getLogger(__name__)
ROLLUPS_KEPT = 12  # answered rollups kept (a few filters back and forth cost nothing)


class RequestsMixin:
    def _init_requests(self) -> None:
        self.runners: dict[str, TaskRunner] = {}
        self._done: dict = {}
        self._rollups: dict = {}  # (engine id, stage, grain, rule) -> DataFrame
        self._rollup_waiting: dict = {}  # same key -> [done callbacks] while its query runs
        self._rollup_kinds: dict = {}  # runner kind of a rollup query in flight -> its key
        self._rollup_seq = 0
        self.timings: dict[str, float] = {}  # what the last queries took on their lane (seconds)

    def _runner(self, kind: str) -> TaskRunner:
        r = self.runners.get(kind)
        if r is None:
            r = self.runners[kind] = TaskRunner(self)
            r.finished.connect(lambda res, k=kind: self._done.pop(k, lambda _x: None)(res))
            r.failed.connect(lambda exc, tb, k=kind: self._failed(k, exc, tb))
            r.cancelled.connect(lambda k=kind: self._dropped(k))
        return r

    def ask(self, kind: str, fn, done, lane: str = "index", still=None) -> None:
        """Run ``fn(engine, cancel)`` on *lane* ("index" or "scan"); ``done(result)`` on the UI thread if the answer
        still applies -- ``still()`` says so, by default: no filter, sort or grouping change came meanwhile. A newer
        request of *kind* cancels this one."""
        source, settings, index, gen, ln = self.source, self.settings, self.index, self._gen, self.lanes[lane]
        timings = self.timings

        def work(progress, cancel):
            if cancel():  # replaced while it waited for the lane: never starts
                raise Cancelled(kind)
            eng = ln.engine_for(source, settings, index)
            t0 = time.perf_counter()
            out = fn(eng, cancel)
            timings[kind.split(" #")[0]] = time.perf_counter() - t0
            return out

        r = self._runner(kind)
        r.cancel()  # the older request of this kind is dropped first (its cancelled signal forgets it)
        applies = still or (lambda: gen == self._gen)
        self._done[kind] = lambda res: done(res) if applies() else None
        r.start(work, kind, pool=ln.pool)

    def pending(self) -> bool:
        """True while a query the views wait for is under way (the index build aside)."""
        return any(r.busy for r in self.runners.values())

    def cancel_queries(self, keep: tuple = ()) -> None:
        """Cancel every query under way or queued, but those of the kinds in *keep*."""
        for kind, r in list(self.runners.items()):
            if kind not in keep:
                r.cancel()
        for kind in [k for k in self._done if k not in keep]:
            del self._done[kind]
        self._rollup_waiting.clear()
        for kind in list(self._rollup_kinds):
            self._rollup_kinds.pop(kind)
            self._forget_runner(kind)

    def _failed(self, kind: str, exc, tb: str) -> None:
        self._dropped(kind)
        log.error("big-history %s query failed:\n%s", kind, tb)
        self.note.emit(f"Could not compute the {kind}: {getattr(exc, 'message', None) or exc}")

    def _dropped(self, kind: str) -> None:
        self._done.pop(kind, None)
        key = self._rollup_kinds.pop(kind, None)
        if key is not None:
            self._rollup_waiting.pop(key, None)
            self._forget_runner(kind)

    def _forget_runner(self, kind: str) -> None:
        r = self.runners.pop(kind, None)
        if r is not None:
            r.deleteLater()

    # --- shared rollups ---------------------------------------------------------------------------
    def cached_rollup(self, grain: str, rule):
        """The totals per *grain* for *rule* if already answered, else None."""
        return self._rollups.get((id(self.engine), self.stage, grain, rule))

    def ask_rollup(self, grain: str, rule, done) -> None:
        """``done(DataFrame)`` with the totals per *grain* for *rule*: at once when answered before, else when
        the one query for them (shared by every view asking the same) answers. From the index's cube when it
        holds *rule* and *grain* (the index lane), else scanning the runs (the scan lane). Callers that may
        have moved on meanwhile check in *done* that the answer is still theirs."""
        key = (id(self.engine), self.stage, grain, rule)
        hit = self._rollups.get(key)
        if hit is not None:
            done(hit)
            return
        waiting = self._rollup_waiting.get(key)
        if waiting is not None:
            waiting.append(done)
            return
        self._rollup_waiting[key] = [done]
        self._rollup_seq += 1
        kind = f"rollup {grain} #{self._rollup_seq}"
        self._rollup_kinds[kind] = key
        fast = self.fast(rule, grain)
        if not fast:
            self.note.emit(f"Computing the per-{grain} totals (scanning the runs)…")

        def answered(df):
            self._rollup_kinds.pop(kind, None)
            self._forget_runner(kind)
            if not fast:
                self.note.emit("")
            while len(self._rollups) >= ROLLUPS_KEPT:
                self._rollups.pop(next(iter(self._rollups)))
            self._rollups[key] = df
            for cb in self._rollup_waiting.pop(key, []):
                cb(df)

        self.ask(kind, lambda eng, cancel: eng.rollup(grain, rule, cancel=cancel), answered,
                 lane="index" if fast else "scan")
