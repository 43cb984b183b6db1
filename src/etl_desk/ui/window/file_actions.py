"""Where data comes from in the window: open, import with a mapping, recent files, generate, drop.

:class:`FileActions` does the work off the UI thread (its own :class:`TaskRunner`)
and reports by signals; the window connects them to the state and the status bar.
It never replaces the data on screen itself except through ``loaded``, so a
failure or a cancel keeps what is shown.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

from etl_desk.core.dashboard.view import Dataset, View
from etl_desk.core.data.locale_dates import AmbiguousDates
from etl_desk.core.data.locale_numbers import AmbiguousNumbers
from etl_desk.core.errors import DataError
from etl_desk.ui import settings as keys
from etl_desk.ui.settings import Settings
from etl_desk.ui.window.workers import TaskRunner

log = logging.getLogger(__name__)

OPEN_FILTER = ("Run histories (*.csv *.tsv *.txt *.xlsx *.parquet *.pq *.json);;"
               "CSV (*.csv *.tsv *.txt);;Excel (*.xlsx);;Parquet (*.parquet *.pq);;"
               "Databricks Jobs API JSON (*.json);;All files (*)")
NO_DIALOGS_ENV = "ETL_DESK_NO_DIALOGS"


@dataclass(frozen=True)
class LoadedRuns:
    """What a worker hands the window: the canonical table and everything precomputed for it.

    *source* names it for people (a file name or "Case study (seed 42)"); *path* is the
    file it came from (None when generated); *warnings* are the loader's messages.
    """

    source: str
    path: str | None
    df: object  # pandas.DataFrame (canonical runs)
    dataset: Dataset
    view: View
    kpis: dict
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class BigHistoryRequest:
    """What a worker hands the window instead of runs: *path* holds *rows* runs, above the big-history
    threshold, so the window opens it through the engine (ui/big) rather than loading it."""

    path: str
    rows: int


def parquet_rows(path: str) -> int | None:
    """Runs in a Parquet file or a folder of Parquet files (hive-partitioned), from the files' footers.

    None for anything else (the loader then reads it as today). Reads no data: milliseconds for
    100M runs in 126 files. Hidden and ``_``-prefixed files and folders are skipped, as Spark does.
    """
    import pyarrow.parquet as pq

    p = Path(path)
    try:
        if p.is_dir():
            files = [f for f in p.rglob("*") if f.suffix.lower() in (".parquet", ".pq") and f.is_file()
                     and not any(part.startswith((".", "_")) for part in f.relative_to(p).parts)]
        elif p.suffix.lower() in (".parquet", ".pq"):
            files = [p]
        else:
            return None
        return sum(pq.ParquetFile(f).metadata.num_rows for f in files) if files else None
    except Exception:  # noqa: BLE001 - unreadable: the loader reports it with its file and reason
        return None


def generated_label(preset: str, settings) -> str:
    if preset == "case-study":
        return "Case study (seed 42)"
    return f"Realistic ({settings.runs:,} runs, seed {settings.seed})"


class FileActions(QObject):
    """Open / import / generate in the background; recent files.

    Signals: ``loaded(LoadedRuns or BigHistoryRequest)``, ``failed(str)`` (the message to show; the data
    on screen stays), ``cancelled()``, ``status(str)``, ``recentChanged(list)``.
    """

    loaded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    status = Signal(str)
    recentChanged = Signal(list)

    def __init__(self, state, settings: Settings, parent_widget: QWidget):
        super().__init__(parent_widget)
        self.state = state
        self.settings = settings
        self.widget = parent_widget
        self.runner = TaskRunner(self)
        self.runner.finished.connect(self.loaded)
        self.runner.failed.connect(self._on_failed)
        self.runner.cancelled.connect(self.cancelled)

    # --- background work -------------------------------------------------------------------------
    def _prepare(self, df, source: str, path: str | None, warnings: list[str]) -> LoadedRuns:
        """Runs in the worker: everything the window needs that touches every row."""
        from etl_desk.ui.dashboard.table_model import run_columns

        ds, view, kpis = self.state.prepare(df, source)
        run_columns(ds)  # the table's arrays, here rather than on the UI thread
        return LoadedRuns(source, path, df, ds, view, kpis, list(warnings))

    def open_file(self, path: str, options=None) -> None:
        """Load *path* in the background (``loaded`` or ``failed``; the current data stays on failure)."""
        from etl_desk.core.data.loaders import load_path
        from etl_desk.core.errors import LoadReport

        path = str(path)
        self._last_open = (path, options)

        threshold = int(self.settings.get(keys.BIG_HISTORY_RUNS))

        def work(progress, cancel):
            rows = parquet_rows(path) if options is None else None
            if rows is not None and rows > threshold:
                return BigHistoryRequest(path, rows)
            rep = LoadReport()
            df = load_path(path, report=rep, options=options)
            return self._prepare(df, os.path.basename(path), path, rep.warnings)

        self.status.emit(f"Opening {path}…")
        self.runner.start(work, f"Opening {os.path.basename(path)}")

    def generate(self, preset: str = "case-study", settings=None) -> None:
        """Generate runs in the background (progress on ``runner``; Cancel keeps the old data)."""
        from etl_desk.core.data.generate import generate
        from etl_desk.core.tasks import Cancelled

        label = generated_label(preset, settings)

        def work(progress, cancel):
            df = generate(preset, settings=settings, progress=progress, cancel=cancel)
            if cancel():
                raise Cancelled()
            return self._prepare(df, label, None, [])

        self.status.emit(f"Generating {label}…")
        self.runner.start(work, label)

    def cancel(self) -> None:
        if self.runner.busy:
            self.runner.cancel()

    def _on_failed(self, exc, tb: str) -> None:
        if isinstance(exc, DataError):
            message = exc.message
        else:
            log.error("background work failed:\n%s", tb)
            message = f"Unexpected error: {type(exc).__name__}: {exc}"
        last = getattr(self, "_last_open", None)
        if isinstance(exc, (AmbiguousNumbers, AmbiguousDates)) and last and not os.environ.get(NO_DIALOGS_ENV):
            self.ask_locale(*last, message)
        else:
            self.failed.emit(message)

    def ask_locale(self, path: str, options, message: str) -> None:
        """A load refused as ambiguous: the mapping dialog again, with *message* (it names the column) and
        the options used, to choose the decimal mark / date order and retry (the data on screen stays).
        Closing the dialog reports the refusal as any failed load (``failed``)."""
        from etl_desk.ui.data.import_dialog import ImportDialog

        self.status.emit(message)
        try:
            dlg = ImportDialog(path, self.settings, self.widget, options=options, error=message)
        except DataError as exc:
            self.failed.emit(exc.message)
            return
        try:
            if dlg.exec() == ImportDialog.DialogCode.Accepted:
                self.open_file(path, dlg.options())
            else:
                self.failed.emit(message)
        finally:
            dlg.deleteLater()

    # --- dialogs ---------------------------------------------------------------------------------
    def open_dialog(self) -> None:
        start = self.settings.get(keys.OPEN_DIR) or str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self.widget, "Open run history", start, OPEN_FILTER)
        if path:
            self.settings.set(keys.OPEN_DIR, str(Path(path).parent))
            self.import_file(path)

    def import_dialog(self) -> None:
        start = self.settings.get(keys.OPEN_DIR) or str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self.widget, "Import run history", start, OPEN_FILTER)
        if path:
            self.settings.set(keys.OPEN_DIR, str(Path(path).parent))
            self.import_file(path, always_ask=True)

    def import_file(self, path: str, always_ask: bool = False) -> None:
        """Open *path*, asking for a column mapping when the file needs one (or when *always_ask*)."""
        from etl_desk.core.data.loaders import detect
        from etl_desk.ui.data.import_dialog import ImportDialog, needs_mapping

        try:
            ask, options = needs_mapping(path, self.settings)
            ask = (ask or always_ask) and detect(path) == "table"
        except DataError as exc:
            self.failed.emit(exc.message)
            return
        if ask:
            if os.environ.get(NO_DIALOGS_ENV):
                self.failed.emit(DataError("the columns need a mapping (Import with column mapping…)",
                                           file=path).message)
                return
            try:
                dlg = ImportDialog(path, self.settings, self.widget)
            except DataError as exc:
                self.failed.emit(exc.message)
                return
            if dlg.exec() != ImportDialog.DialogCode.Accepted:
                return
            options = dlg.options()
        self.open_file(path, options)

    # --- recent files ----------------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        return self.settings.get(keys.RECENT)

    def add_recent(self, path: str) -> None:
        files = self.settings.add_recent(str(Path(path).resolve()))
        self.recentChanged.emit(files)

    def fill_recent_menu(self, menu: QMenu) -> None:
        menu.clear()
        files = self.recent_files()
        for i, p in enumerate(files):
            a = menu.addAction(f"&{i + 1} {os.path.basename(p)}")
            a.setToolTip(p)
            a.setStatusTip(p)
            a.triggered.connect(lambda _=False, p=p: self.import_file(p))
        menu.setEnabled(bool(files))
