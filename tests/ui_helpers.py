"""Helpers for UI tests (the window itself comes from the ``window`` fixture in conftest.py)."""
from __future__ import annotations

import numpy as np


def drawn(chart, layer="total"):
    """(y positions, widths) of a chart layer as drawn."""
    it = chart.items[layer]
    y = np.asarray(it.opts["y"], dtype=float)
    w = np.broadcast_to(np.asarray(it.opts["width"], dtype=float), y.shape)
    return y, np.asarray(w)


def business_case_window(window, qtbot, timeout_ms: int = 30_000):
    """A window (from the ``window`` fixture) with its pages built and the Business case evaluated."""
    w = window()
    w.ensure_pages()
    page = w.business_case_page
    qtbot.waitUntil(lambda: page.case is not None and page.appraisal is not None, timeout=timeout_ms)
    return w
