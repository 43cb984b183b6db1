"""Application start-up: QApplication, settings location, the main window, screenshots."""
from __future__ import annotations

import os
import sys

from etl_desk import APP_NAME, ORG_DOMAIN, ORG_NAME, __version__

#: Set to an .ini path to keep settings out of the user's real store (tests do).
SETTINGS_ENV = "ETL_DESK_SETTINGS"
#: Set to 1 to quit on the main window's first paint, printing "first-paint-epoch=<time.time()>"
#: on stdout (benchmarks/bench_startup.py measures launch-to-first-paint with it).
FIRST_PAINT_ENV = "ETL_DESK_EXIT_AFTER_FIRST_PAINT"


def ensure_app(argv: list[str] | None = None):
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(argv or [sys.argv[0]])
    app.setOrganizationName(ORG_NAME)
    app.setOrganizationDomain(ORG_DOMAIN)
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("etl-desk")  # matches packaging/etl-desk.desktop (Wayland/taskbar grouping)
    from etl_desk.ui.window.identity import app_icon

    app.setWindowIcon(app_icon())
    return app


def make_settings():
    """The QSettings the app uses: the user's store, or the file named by $ETL_DESK_SETTINGS."""
    from PySide6.QtCore import QSettings

    path = os.environ.get(SETTINGS_ENV)
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORG_NAME, APP_NAME)


def _import_data_libraries_first() -> None:
    """Import pandas (and NumPy, pyarrow with it) before PySide6.

    Once PySide6 is imported, its ``__feature__`` import hook reads the source of every
    module imported afterwards (``inspect.getsource``) to see whether it uses PySide:
    for pandas' several hundred modules that is ~0.1 s of start-up spent reading files.
    Modules imported before PySide6 are not looked at.
    """
    import pandas  # noqa: F401
    import pyarrow.compute  # noqa: F401 - pandas imports it lazily, on the first Arrow string operation
    import pyarrow.vendored.version  # noqa: F401 - the same, on the first Arrow-backed table

    # the Qt-free modules the window needs for its first paint (the case-study data and its view)
    import etl_desk.core.dashboard.view  # noqa: F401
    import etl_desk.core.data.case_study  # noqa: F401
    import etl_desk.core.insights.anomaly_rules  # noqa: F401
    import etl_desk.core.insights.kpis  # noqa: F401


def run_app(path: str | None = None) -> int:
    _import_data_libraries_first()
    app = ensure_app()
    from etl_desk.ui.window.main_window import MainWindow

    from etl_desk.ui.window.errors import ExceptionReporter

    reporter = ExceptionReporter(app)
    reporter.install()
    win = MainWindow(settings=make_settings())
    reporter.errorReported.connect(win.on_unexpected_error)
    if os.environ.get(FIRST_PAINT_ENV) == "1":
        _quit_on_first_paint(app, win)
    win.show()
    if path:
        win.open_file(path)
    return app.exec()


def _quit_on_first_paint(app, win) -> None:
    """Benchmark hook: print the wall-clock time of the window's first paint, then quit."""
    import time

    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QWidget

    class _FirstPaint(QObject):  # watches the whole app: opaque children may paint instead of win
        def eventFilter(self, obj, event):  # noqa: N802 - Qt API
            if (event.type() == QEvent.Type.Paint and not getattr(self, "seen", False)
                    and isinstance(obj, QWidget) and obj.window() is win):
                self.seen = True
                print(f"first-paint-epoch={time.time():.6f}", flush=True)
                QTimer.singleShot(0, app.quit)
            return False

    win._first_paint_filter = _FirstPaint(win)
    app.installEventFilter(win._first_paint_filter)


def screenshot(out: str, path: str | None = None, size: tuple[int, int] = (1600, 1000)) -> int:
    """Render the window with *path* (or the case study) and return 0 (2 on a bad input or path).

    *out* ending in ``.png``: the Dashboard page to that file. Otherwise *out* is a folder and
    every page is written to it as ``dashboard.png``, ``insights.png``, ``business_case.png`` and
    ``sources.png`` (the README's screenshots: ``etl-desk --screenshot docs/screenshots``).
    """
    import time
    from pathlib import Path

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = ensure_app()
    from etl_desk.core.errors import DataError
    from etl_desk.ui.window.main_window import PAGES, MainWindow

    win = MainWindow(settings=make_settings(), restore=False)
    win.resize(*size)
    win.show()
    if path:
        try:
            win.load_path(path)
        except DataError as exc:
            print(f"etl-desk: error: {exc.message}", file=sys.stderr)
            win.close_without_saving()
            return 2
    single = out.lower().endswith(".png")
    targets = {"dashboard": Path(out)} if single else {name: Path(out) / f"{name}.png" for name in PAGES}
    if not single:
        Path(out).mkdir(parents=True, exist_ok=True)
    win.ensure_pages()
    deadline = time.perf_counter() + 120
    while (win.analysis_job.busy or win.analysis_job.result is None) and time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.01)
    ok = True
    for name, png in targets.items():
        win.show_page(name)
        for _ in range(10):
            app.processEvents()
        ok = win.grab().save(str(png)) and ok
        print(f"wrote {png}", file=sys.stderr)
    win.close_without_saving()
    if not ok:
        print(f"etl-desk: error: cannot write {out}", file=sys.stderr)
        return 2
    return 0
