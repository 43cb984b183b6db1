"""Level of detail for the bar charts: more bars in view than the plot has pixel rows.

Consecutive bars are binned, *lod* bars per drawn row. Each row is drawn honestly:
its coloured bar is the **mean** of the bars it stands for, split into the failed
part (the mean of their failed parts) and the rest. Because every full bin holds the
same number of bars, the drawn lengths add up in proportion to the real sums, so
the failed colour takes the same share of the drawn length as the failed runs take
of the metric in view. (Drawing the largest bar of each bin with the largest failed
part on top, as before, made a 3.8 % failure rate look mostly failed: in a bin of a
thousand runs one large failure is enough to paint the row.)

The largest bar of each bin is kept as the **envelope**, drawn behind in a neutral
colour, so a single huge run still shows at any zoom.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Rows:
    """What one chart draws: per drawn row its centre *y*, *height* (in bars), the mean *total*
    and mean *failed* part (for exact bars, the bars themselves), the *envelope* (largest bar of
    the row) and, when a selection is given, the mean of the selected bars (*sel_total*,
    *sel_failed*) and which rows contain any (*selected*)."""

    y: np.ndarray
    height: float
    total: np.ndarray
    failed: np.ndarray
    envelope: np.ndarray
    selected: np.ndarray | None = None
    sel_total: np.ndarray | None = None
    sel_failed: np.ndarray | None = None


def rows_to_draw(total: np.ndarray, failed: np.ndarray, first: int, lod: int, bar_height: float,
                 selected: np.ndarray | None = None) -> Rows:
    """Bin bars ``first, first+1, …`` (values *total* / *failed*, NaN = 0) *lod* to a row.

    *lod* = 1 returns the bars as they are. The last row may hold fewer bars; its
    mean is over the bars it holds.
    """
    total = np.nan_to_num(np.asarray(total, dtype=np.float64), nan=0.0)
    failed = np.nan_to_num(np.asarray(failed, dtype=np.float64), nan=0.0)
    n = len(total)
    sel = None if selected is None else np.asarray(selected, dtype=bool)
    if lod <= 1:
        y = np.arange(first, first + n, dtype=np.float64)
        if sel is None:
            return Rows(y, bar_height, total, failed, total)
        return Rows(y, bar_height, total, failed, total, sel, np.where(sel, total, 0.0),
                    np.where(sel, failed, 0.0))
    starts = np.arange(0, n, lod)
    counts = np.minimum(starts + lod, n) - starts
    mean_total = np.add.reduceat(total, starts) / counts
    mean_failed = np.add.reduceat(failed, starts) / counts
    envelope = np.maximum.reduceat(total, starts)
    y = first + starts + (counts - 1) / 2.0
    height = lod * 0.98
    if sel is None:
        return Rows(y, height, mean_total, mean_failed, envelope)
    n_sel = np.add.reduceat(sel.astype(np.int64), starts)
    any_sel = n_sel > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        sel_total = np.where(any_sel, np.add.reduceat(np.where(sel, total, 0.0), starts) / n_sel, 0.0)
        sel_failed = np.where(any_sel, np.add.reduceat(np.where(sel, failed, 0.0), starts) / n_sel, 0.0)
    return Rows(y, height, mean_total, mean_failed, envelope, any_sel, sel_total, sel_failed)


def snap_to_pixels(widths: np.ndarray, px_per_unit: float) -> np.ndarray:
    """*widths* (data units, >= 0) changed so each is a whole number of pixels, rounding the
    running total rather than each bar: every row is within a pixel of its value and the sum of
    the drawn pixels is within one pixel of the sum of the values. Rounding each bar on its own
    would drop every part narrower than half a pixel — at a million runs, most failed parts.
    """
    w = np.nan_to_num(np.asarray(widths, dtype=np.float64), nan=0.0)
    if px_per_unit <= 0 or not np.isfinite(px_per_unit) or len(w) == 0:
        return w
    edges = np.rint(np.cumsum(w * px_per_unit))
    px = np.diff(edges, prepend=0.0)
    return px / px_per_unit
