"""Long work off the UI thread, with progress and cancel.

``TaskRunner.start(fn)`` runs ``fn(progress, cancel)`` on the global thread
pool; ``progress(fraction)`` and the result arrive on the UI thread as
signals. Cancelling sets a flag the work polls; the work raises
:class:`etl_desk.core.generate.Cancelled`, and the runner reports
``cancelled`` — the caller keeps whatever it had before.
"""
from __future__ import annotations

import threading
import traceback

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from etl_desk.core.generate import Cancelled


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

    def start(self, fn, label: str = "") -> None:
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
        QThreadPool.globalInstance().start(_Job(fn, sig, flag))

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

    @staticmethod
    def wait_all(msecs: int = 10_000) -> bool:
        return QThreadPool.globalInstance().waitForDone(msecs)
