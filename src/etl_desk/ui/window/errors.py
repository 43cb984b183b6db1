"""The global exception hook: an unexpected error is logged and shown, and the app keeps running."""
from __future__ import annotations

import logging
import os
import sys
import threading
import traceback
from logging.handlers import RotatingFileHandler
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, Signal

from etl_desk import APP_NAME, __version__

LOG_ENV = "ETL_DESK_LOG"
log = logging.getLogger("etl_desk")


def log_path() -> Path:
    """Where the log file lives ($ETL_DESK_LOG, else the platform's app-data folder)."""
    env = os.environ.get(LOG_ENV)
    if env:
        return Path(env)
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppLocalDataLocation)
    return Path(base or Path.home() / ".etl-desk") / "logs" / "etl-desk.log"


def setup_logging() -> Path:
    path = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not any(isinstance(h, RotatingFileHandler) and getattr(h, "baseFilename", "") == str(path)
                   for h in log.handlers):
            h = RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
            h.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
            log.addHandler(h)
            log.setLevel(logging.INFO)
    except OSError:
        pass
    return path


class ExceptionReporter(QObject):
    """Installed as sys.excepthook (and threading.excepthook) while the window runs."""

    errorReported = Signal(str, str)  # summary, details

    def __init__(self, parent=None):
        super().__init__(parent)
        self.path = setup_logging()
        self._prev_hook = None
        self._prev_thread_hook = None
        self.reported = 0

    def install(self) -> None:
        self._prev_hook = sys.excepthook
        self._prev_thread_hook = threading.excepthook
        sys.excepthook = self.handle
        threading.excepthook = lambda args: self.handle(args.exc_type, args.exc_value, args.exc_traceback)

    def uninstall(self) -> None:
        if self._prev_hook is not None:
            sys.excepthook = self._prev_hook
            threading.excepthook = self._prev_thread_hook

    def handle(self, exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            (self._prev_hook or sys.__excepthook__)(exc_type, exc, tb)
            return
        details = "".join(traceback.format_exception(exc_type, exc, tb))
        log.error("unexpected error (ETL Desk %s):\n%s", __version__, details)
        self.reported += 1
        summary = f"{exc_type.__name__}: {exc}"
        self.errorReported.emit(summary, details)
        if os.environ.get("ETL_DESK_NO_DIALOGS"):
            return
        if threading.current_thread() is not threading.main_thread():
            return  # the signal above reaches the UI thread; no widgets from here
        self.show_dialog(summary, details)

    def show_dialog(self, summary: str, details: str) -> None:
        from PySide6.QtWidgets import QApplication, QMessageBox

        if QApplication.instance() is None:
            return
        box = QMessageBox(QMessageBox.Icon.Critical, APP_NAME,
                          f"Something went wrong, but your data is still open.\n\n{summary}\n\n"
                          f"Details were written to:\n{self.path}")
        box.setDetailedText(details)
        box.setStandardButtons(QMessageBox.StandardButton.Ok)
        box.exec()
