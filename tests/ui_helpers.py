"""Helpers for UI tests (the window itself comes from the ``window`` fixture in conftest.py)."""
from __future__ import annotations

import numpy as np


def drawn(chart, layer="total"):
    """(y positions, widths) of a chart layer as drawn."""
    it = chart.items[layer]
    y = np.asarray(it.opts["y"], dtype=float)
    w = np.broadcast_to(np.asarray(it.opts["width"], dtype=float), y.shape)
    return y, np.asarray(w)
