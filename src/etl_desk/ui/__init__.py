"""The window (PySide6 + pyqtgraph): renders what :mod:`etl_desk.core` computes."""
from __future__ import annotations

import sys


def disarm_pyside_import_hook() -> bool:
    """Stop PySide6 reading the source of every module imported after it.

    Once PySide6 is imported, its ``__import__`` hook calls ``inspect.getsource`` on each newly
    imported module (pyqtgraph's hundred modules, the window's, SciPy's on the analysis worker)
    to see whether it uses ``from __feature__ import …``. ETL Desk never does. The hook costs
    start-up time (reading the source of every module), and other PySide6 applications report
    memory corruption when it runs on a worker thread (the analysis imports SciPy there, off the
    UI thread). Telling it that no module uses PySide features makes it return at once.
    Returns False when this PySide6 has no such hook. Call after PySide6 is imported.
    """
    feature = sys.modules.get("shibokensupport.feature")
    if feature is None or not hasattr(feature, "_mod_uses_pyside"):
        return False
    feature._mod_uses_pyside = lambda module: False
    return True
