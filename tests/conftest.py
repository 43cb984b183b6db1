"""Shared fixtures. Qt runs offscreen and never touches the real user settings."""
from __future__ import annotations

import gc
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
_settings_dir = tempfile.mkdtemp(prefix="etl-desk-test-settings-")
os.environ["ETL_DESK_SETTINGS"] = str(Path(_settings_dir) / "settings.ini")

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def case_study():
    from etl_desk.core.data.case_study import generate_case_study

    return generate_case_study()


@pytest.fixture
def settings_path(tmp_path, monkeypatch):
    """A fresh settings file for one test."""
    p = tmp_path / "settings.ini"
    monkeypatch.setenv("ETL_DESK_SETTINGS", str(p))
    return p


def run_cli(*args, cwd=None, timeout=120):
    """Run `python -m etl_desk ARGS` in a subprocess; returns CompletedProcess."""
    import subprocess

    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    return subprocess.run([sys.executable, "-m", "etl_desk", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=timeout, env=env)


# --------------------------------------------------------------------------------- the window
def _alive_top_levels() -> set:
    from PySide6.QtWidgets import QApplication

    return {w for w in QApplication.topLevelWidgets() if type(w).__name__ not in _IGNORED_TOP_LEVELS}


#: Qt's own shared popups (one per application, reused): not ours to close.
_IGNORED_TOP_LEVELS = {"QTipLabel"}


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    """A factory of main windows on the case study, like napari's ``make_napari_viewer``.

    ``window(settings_file=None, show=True, **MainWindow kwargs)`` builds a shown window
    whose settings live in *settings_file* (default ``tmp_path / "settings.ini"``). The
    environment is patched for the test only (no modal dialogs; the app's settings file
    in ``tmp_path``). At teardown every window still open is closed **without saving**,
    its background work is cancelled and waited for, and the test **fails** when a
    top-level widget it created is still alive (a leaked dialog, popup or window).
    """
    from PySide6.QtCore import QEvent, QSettings
    from PySide6.QtWidgets import QApplication

    from etl_desk.ui.window.main_window import MainWindow
    from etl_desk.ui.window.workers import TaskRunner

    monkeypatch.setenv("ETL_DESK_NO_DIALOGS", "1")
    monkeypatch.setenv("ETL_DESK_SETTINGS", str(tmp_path / "settings.ini"))
    app = QApplication.instance()
    before = _alive_top_levels()
    made = []

    def make(settings_file=None, show=True, size=(1400, 900), **kw):
        ini = str(settings_file or tmp_path / "settings.ini")
        win = MainWindow(settings=QSettings(ini, QSettings.Format.IniFormat), **kw)
        made.append(win)
        win.resize(*size)
        if show:
            win.show()
            qtbot.waitExposed(win)
        return win

    yield make

    for win in made:
        win.cancel_all_work()
        if win.isVisible():
            win.close_without_saving()
    assert TaskRunner.wait_all(30_000), "background work still running after the test"
    for win in made:
        win.deleteLater()
    made.clear()
    app.processEvents()
    app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    app.processEvents()
    gc.collect()  # pyqtgraph keeps its context menus (parentless QMenus) until its items are collected
    app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert_no_leaked_top_levels(before)


def assert_no_leaked_top_levels(before: set) -> None:
    """Fail when a top-level widget that was not in *before* is still alive (and close it)."""
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    leaked = list(_alive_top_levels() - before)
    names = [f"{type(w).__name__}({w.objectName() or w.windowTitle()!r})" for w in leaked]
    for w in leaked:
        w.close()
        w.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert not leaked, f"top-level widgets leaked by the test: {', '.join(names)}"
