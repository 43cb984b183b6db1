"""Who the app is: its icon and the About text.

Everything is read from the installed package (``importlib.resources``), so it works the
same from a source checkout, an installed wheel and the PyInstaller bundle.
"""
from __future__ import annotations

import functools
import sys
from importlib import resources

from etl_desk import APP_NAME, __version__

#: PNG sizes shipped in ``resources/icons`` (see packaging/make_icons.py).
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
LICENCE = "Proprietary. © ETL Desk team. All analysis runs offline; no data leaves this computer."


def icons_dir():
    """The packaged icon folder as an ``importlib.resources`` Traversable."""
    return resources.files("etl_desk.resources") / "icons"


def icon_file(size: int = 256):
    """The Traversable of the app icon PNG at *size* px (one of :data:`ICON_SIZES`)."""
    if size not in ICON_SIZES:
        raise ValueError(f"no {size}px icon; sizes are {ICON_SIZES}")
    return icons_dir() / f"etl-desk-{size}.png"


@functools.lru_cache(maxsize=1)
def app_icon():
    """The application icon as a QIcon holding every packaged size (needs a QGuiApplication)."""
    from PySide6.QtGui import QIcon, QPixmap

    import os

    icon = QIcon()
    for size in ICON_SIZES:
        f = icon_file(size)
        if isinstance(f, os.PathLike) and os.path.isfile(f):
            icon.addFile(os.fspath(f))  # decoded when a size is first drawn, not at start-up
            continue
        pm = QPixmap()  # a resource inside an archive: read it now
        try:
            data = f.read_bytes()
        except OSError:
            continue
        if pm.loadFromData(data, "PNG"):
            icon.addPixmap(pm)
    return icon


def _version(dist: str) -> str:
    from importlib import metadata  # ~20 ms of imports: only when the About box asks

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def versions() -> dict[str, str]:
    """Versions of the app and what it runs on, for the About dialog and bug reports."""
    import platform

    out = {APP_NAME: __version__, "Python": platform.python_version()}
    try:
        import PySide6
        from PySide6.QtCore import qVersion

        out["Qt"] = qVersion()
        out["PySide6"] = PySide6.__version__
    except ImportError:  # pragma: no cover - the window cannot exist without it
        out["Qt"] = out["PySide6"] = "not available"
    for label, module in (("pyqtgraph", "pyqtgraph"), ("pandas", "pandas"), ("NumPy", "numpy"),
                          ("openpyxl", "openpyxl")):
        mod = sys.modules.get(module)
        out[label] = getattr(mod, "__version__", None) or _version(module)
    out["Platform"] = f"{platform.system()} {platform.release()} ({platform.machine()})"
    if getattr(sys, "frozen", False):
        out["Build"] = "bundled application"
    return out


def about_text() -> str:
    """The About dialog's rich text (HTML): name, version, what it runs on, licence."""
    import html

    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>&nbsp;&nbsp;{html.escape(v)}</td></tr>"
                   for k, v in versions().items() if k != APP_NAME)
    return (f"<h3>{html.escape(APP_NAME)} {html.escape(__version__)}</h3>"
            "<p>Offline analysis of Databricks ETL job runs: where the money goes, what failures "
            "cost and which fix pays back first, with an Excel workbook for finance.</p>"
            f"<table>{rows}</table>"
            f"<p><small>{html.escape(LICENCE)}</small></p>")
