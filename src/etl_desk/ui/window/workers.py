"""Long work off the UI thread, with progress and cancel.

``TaskRunner.start(fn)`` runs ``fn(progress, cancel)`` on the global thread
pool; ``progress(fraction)`` and the result arrive on the UI thread as
signals. Cancelling sets a flag the work polls; the work raises
:class:`etl_desk.core.tasks.Cancelled`, and the runner reports
``cancelled`` — the caller keeps whatever it had before.
"""
from __future__ import annotations

import threading
import traceback
from dataclasses import dataclass

import numpy as np

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal

from etl_desk.core.tasks import Cancelled


class _Signals(QObject):
    progress = Signal(float)
    finished = Signal(object)
    failed = Signal(object, str)  # exception, formatted traceback
    cancelled = Signal()


class _Job(QRunnable):
    def __init__(self, fn, signals: _Signals, flag: threading.Event):
        super().__init__()
        self.fn, self.signals, self.flag = fn, signals, flag
        self.setAutoDelete(True)

    def _emit(self, signal, *args) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:  # the receiver is gone (window closed, app quitting): nobody to tell
            pass

    def _progress(self, fraction: float) -> None:
        self._emit(self.signals.progress, fraction)

    def run(self):  # worker thread
        try:
            result = self.fn(self._progress, self.flag.is_set)
        except Cancelled:
            self._emit(self.signals.cancelled)
        except BaseException as exc:  # noqa: BLE001 - reported to the UI, never lost
            self._emit(self.signals.failed, exc, traceback.format_exc())
        else:
            if self.flag.is_set():
                self._emit(self.signals.cancelled)
            else:
                self._emit(self.signals.finished, result)


class TaskRunner(QObject):
    """One background task at a time (a new start cancels the previous one)."""

    progress = Signal(float)
    finished = Signal(object)
    failed = Signal(object, str)
    cancelled = Signal()
    busyChanged = Signal(bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._flag: threading.Event | None = None
        self._signals: _Signals | None = None
        self._live: set = set()
        self.label = ""

    @property
    def busy(self) -> bool:
        return self._flag is not None

    def start(self, fn, label: str = "", pool: QThreadPool | None = None) -> None:
        """Run ``fn(progress, cancel)`` on *pool* (default: the global pool); cancels the task under way."""
        self.cancel()
        flag = threading.Event()
        sig = _Signals()
        # bound slots of this QObject (which lives on the UI thread): queued delivery
        sig.progress.connect(self._on_progress)
        sig.finished.connect(self._on_finished)
        sig.failed.connect(self._on_failed)
        sig.cancelled.connect(self._on_cancelled)
        self._flag, self._signals, self.label = flag, sig, label
        self._live.add(sig)  # keep every task's signal object alive until that task reports
        self.busyChanged.emit(True)
        (pool or QThreadPool.globalInstance()).start(_Job(fn, sig, flag))

    def cancel(self) -> None:
        if self._flag is not None:
            self._flag.set()
            # forget it: a late result of a cancelled task is dropped
            self._flag, self._signals = None, None
            self.cancelled.emit()
            self.busyChanged.emit(False)

    def _current(self, final: bool = False) -> bool:
        sender = self.sender()
        if final:
            self._live.discard(sender)
        return self._signals is not None and sender is self._signals

    def _on_progress(self, fraction: float) -> None:
        if self._current():
            self.progress.emit(fraction)

    def _finish(self) -> None:
        self._flag, self._signals = None, None
        self.busyChanged.emit(False)

    def _on_finished(self, result) -> None:
        if self._current(final=True):
            self._finish()
            self.finished.emit(result)

    def _on_failed(self, exc, tb: str) -> None:
        if self._current(final=True):
            self._finish()
            self.failed.emit(exc, tb)

    def _on_cancelled(self) -> None:
        if self._current(final=True):
            self._finish()
            self.cancelled.emit()

    #: pools of their own (besides the global one) that :meth:`wait_all` waits for too; see :meth:`track`
    _pools: list = []

    @staticmethod
    def track(pool: QThreadPool) -> QThreadPool:
        """Let :meth:`wait_all` wait for *pool* too (a pool of its own, e.g. a big history's query lanes)."""
        TaskRunner._pools.append(pool)
        return pool

    @staticmethod
    def wait_all(msecs: int = 10_000) -> bool:
        """Wait until no task runs on the global pool or a tracked one (each waited for up to *msecs*)."""
        ok = True
        for pool in list(TaskRunner._pools):
            try:
                ok = pool.waitForDone(msecs) and ok
            except RuntimeError:  # deleted with its owner: nothing runs there
                TaskRunner._pools.remove(pool)
        return QThreadPool.globalInstance().waitForDone(msecs) and ok


@dataclass(frozen=True)
class _Done:
    """A FilteredJob's result: what it was computed on (*key*), how many runs, the value."""

    key: tuple
    runs: int
    value: object


class FilteredJob(QObject):
    """Background work on the runs in the window's current filter, done once per change.

    ``fn(runs, extra)`` runs on the thread pool with *runs* the filtered table and
    *extra* whatever ``extra()`` returned (e.g. thresholds). A data, filter or
    *extra* change schedules it after *delay_ms* (edits in quick succession are
    coalesced); a change that leaves the runs and *extra* as they were — a new sort
    order, a grouping — does not re-run it. ``finished(result, runs)`` arrives on the
    UI thread; results of superseded work are dropped. With *with_progress* the work is
    called ``fn(runs, extra, progress, cancel)`` (progress on ``runner.progress``; it raises
    :class:`~etl_desk.core.tasks.Cancelled` when ``cancel()`` turns true).
    """

    finished = Signal(object, int)  # result, number of runs it was computed on
    failed = Signal(object, str)  # exception, formatted traceback

    def __init__(self, state, fn, *, label: str = "", delay_ms: int = 300, extra=None, with_progress: bool = False,
                 parent=None):
        super().__init__(parent)
        self.state, self.fn, self.label = state, fn, label
        self.with_progress = with_progress
        self.extra = extra or (lambda: None)
        self.runner = TaskRunner(self)
        self.runner.finished.connect(self._on_finished)
        self.runner.failed.connect(self._on_failed)
        self.runner.cancelled.connect(self._on_cancelled)
        self._done_key = self._pending_key = None
        self._generation = 0  # bumped per dataset (an id() could be reused)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self._run_if_changed)
        state.datasetChanged.connect(self._new_dataset)
        state.viewChanged.connect(self.schedule)
        if state.dataset is not None:
            self.schedule()

    def _new_dataset(self) -> None:
        self._generation += 1
        self.schedule()

    def key(self):
        v = self.state.view
        # no runs in memory (none loaded, or a big history the engine answers): nothing to compute on
        if getattr(self.state.dataset, "df", None) is None or v is None:
            return None
        return (self._generation, np.asarray(v.row_mask, dtype=bool).tobytes(), self.extra())

    def schedule(self, force: bool = False) -> None:
        """Run after the delay, if something changed (always, with *force*)."""
        if force:
            self._done_key = None
        self._timer.start()

    def is_current(self) -> bool:
        """True when the last result was computed on the runs (and *extra*) the window shows now."""
        return self._done_key is not None and self._pending_key is None and self._done_key == self.key()

    def hold(self) -> None:
        """Do not start work until :meth:`release` (changes are still noted)."""
        self._held = True

    def release(self) -> None:
        """Start the work that waited, if any."""
        if getattr(self, "_held", False):
            self._held = False
            self.schedule()

    def _run_if_changed(self) -> None:
        if getattr(self, "_held", False):
            return
        key = self.key()
        if key is None:
            return
        if key == self._done_key:
            if self._pending_key is not None:
                # back to what the last result was computed on (e.g. a filter undone while the
                # work for it ran): that work is superseded, its result must not arrive
                self.runner.cancel()
            return
        if key != self._pending_key:
            self.run_now()

    def run_now(self) -> None:
        """Start the work now on the runs in the current filter."""
        self._timer.stop()
        key = self.key()
        if key is None:
            return
        df, extra, fn, both = self.state.dataset.df, key[2], self.fn, self.with_progress
        mask = np.asarray(self.state.view.row_mask, dtype=bool).copy()
        n = int(mask.sum())

        def work(progress, cancel):
            runs = df if n == len(df) else df.loc[mask]
            return _Done(key, n, fn(runs, extra, progress, cancel) if both else fn(runs, extra))

        self.runner.start(work, self.label)  # cancels (and forgets) any earlier work
        self._pending_key = key

    def _on_finished(self, done: "_Done") -> None:
        self._pending_key, self._done_key = None, done.key
        self.finished.emit(done.value, done.runs)

    def _on_failed(self, exc, tb: str) -> None:
        self._pending_key = None
        self.failed.emit(exc, tb)

    def _on_cancelled(self) -> None:
        # cancelled from outside (window closing, a test) or by a newer start: nothing is pending
        self._pending_key = None
