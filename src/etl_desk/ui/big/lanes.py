"""Where the big-history window's engine queries run: two worker lanes, never the UI thread.

* ``index``: the engine opened while the index is built, answering from the index's rollup cube
  and histograms (milliseconds): key figures, per-day/week/month/pipeline totals, counts;
* ``scan``: a second engine connection, opened on first use, for what the index does not hold
  (a name filter, a sort by cost, per-run views of a filter, table pages in another order):
  seconds at 100M runs, so they never hold up the index lane.

Each lane is a thread pool of its own with one thread: its queries run one at a time in the
order asked, so its connection is only ever used by one thread, and it is opened once per
history -- opening a connection reads every file's footer (~0.5 s on a 100M-run folder of 127
files, measured), which a connection per query paid on every filter change. Which request
wins is the callers' business (:class:`~etl_desk.ui.window.workers.TaskRunner`: a newer
request of a kind cancels the older; a query under way is interrupted within 0.1 s, one
still queued never starts). The global thread pool keeps Qt's default size.
"""
from __future__ import annotations

import threading

from PySide6.QtCore import QObject, QThreadPool

from etl_desk.ui.window.workers import TaskRunner


class Lane(QObject):
    """One worker thread with one engine connection. Public: ``name``, ``pool``; ``adopt(engine, source)``,
    ``engine_for(source, settings, index)`` (on the lane's thread only), ``close()``."""

    def __init__(self, name: str, parent=None):
        super().__init__(parent)
        self.name = name
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        TaskRunner.track(self.pool)
        self._lock = threading.Lock()
        self._engine = None
        self._source = None
        self._closer = TaskRunner(self)

    def adopt(self, engine, source) -> None:
        """Use *engine* (already open on *source*) for this lane's queries from now on."""
        with self._lock:
            old, self._engine, self._source = self._engine, engine, source
        if old is not None and old is not engine:
            self._close_later(old)

    def engine_for(self, source, settings, index):
        """The lane's engine on *source* with *index* attached, opened if needed (call on the lane's thread)."""
        from etl_desk.core.engine import Engine  # the engine (Ibis, DuckDB): only for big histories

        with self._lock:
            eng, src = self._engine, self._source
        if eng is None or src is not source:
            if eng is not None:
                eng.close()
            eng = Engine.open(source, "duckdb", settings, index=index)
            with self._lock:
                self._engine, self._source = eng, source
        elif eng.index is not index:
            eng.attach_index(index)
        return eng

    def close(self) -> None:
        """Close the lane's engine once the query under way (cancelled by the caller) has stopped."""
        with self._lock:
            old, self._engine, self._source = self._engine, None, None
        if old is not None:
            self._close_later(old)

    def _close_later(self, eng) -> None:
        def work(progress, cancel):
            eng.close()

        # a runner per close: a later close must not cancel this one before it ran
        TaskRunner(self).start(work, f"close {self.name} engine", pool=self.pool)
