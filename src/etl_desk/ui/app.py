"""Application start-up: QApplication, settings location, the main window, screenshots."""
from __future__ import annotations

import os
import sys

from etl_desk import APP_NAME, ORG_DOMAIN, ORG_NAME, __version__

#: Set to an .ini path to keep settings out of the user's real store (tests do).
SETTINGS_ENV = "ETL_DESK_SETTINGS"


def ensure_app(argv: list[str] | None = None):
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(argv or [sys.argv[0]])
    app.setOrganizationName(ORG_NAME)
    app.setOrganizationDomain(ORG_DOMAIN)
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    return app


def make_settings():
    """The QSettings the app uses: the user's store, or the file named by $ETL_DESK_SETTINGS."""
    from PySide6.QtCore import QSettings

    path = os.environ.get(SETTINGS_ENV)
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORG_NAME, APP_NAME)


def run_app(path: str | None = None) -> int:
    app = ensure_app()
    from etl_desk.ui.main_window import MainWindow

    win = MainWindow(settings=make_settings())
    win.show()
    if path:
        win.open_file(path)
    return app.exec()


def screenshot(png: str, path: str | None = None) -> int:
    """Render the main window with *path* (or the default data) to *png* and return 0."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = ensure_app()
    from etl_desk.core.schema import DataError
    from etl_desk.ui.main_window import MainWindow

    win = MainWindow(settings=make_settings(), restore=False)
    win.resize(1600, 1000)
    win.show()
    if path:
        try:
            win.load_path(path)
        except DataError as exc:
            print(f"etl-desk: error: {exc.message}", file=sys.stderr)
            return 2
    for _ in range(5):
        app.processEvents()
    ok = win.grab().save(png)
    win.close()
    if not ok:
        print(f"etl-desk: error: cannot write {png}", file=sys.stderr)
        return 2
    print(f"wrote {png}", file=sys.stderr)
    return 0
