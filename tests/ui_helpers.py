"""Helpers for UI tests: a window on the case study with its own settings file."""
from __future__ import annotations

import numpy as np


def make_window(qtbot, settings_file, **kw):
    from PySide6.QtCore import QSettings

    from etl_desk.ui.main_window import MainWindow

    win = MainWindow(settings=QSettings(str(settings_file), QSettings.Format.IniFormat), **kw)
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    return win


def drawn(chart, layer="total"):
    """(y positions, widths) of a chart layer as drawn."""
    it = chart.items[layer]
    y = np.asarray(it.opts["y"], dtype=float)
    w = np.broadcast_to(np.asarray(it.opts["width"], dtype=float), y.shape)
    return y, np.asarray(w)
