"""Seasonality of a pipeline's runs: day of the week and the month-end close.

Every run falls in one *season class* (:func:`season_class`):

* ``0..6`` -- an ordinary day, by day of the week (Monday = 0);
* ``7..11`` -- the last five calendar days of the month (7 = the last day);
* ``12..14`` -- the first three calendar days of the month (12 = the 1st).

Calendar positions cover both conventions of a month-end close: SAP's close runs on the
last and first *business* days (the last business day is always among the last three
calendar days; the first among the first three), and schedulers that key on calendar
days (the realistic generator peaks on the last three days and the 1st). A pipeline's
baseline then allows for each class it has enough runs in (:func:`season_adjustment`),
so a month-end peak the pipeline shows every month is not an anomaly, and a Monday
backlog is not either.

The adjustment per pipeline and class is the class's median residual minus the
pipeline's, ``d``, shrunk towards 0 by ``d² / (d² + se²)`` where ``se = 1.2533 x s / sqrt(n)``
is the standard error of a median of n runs with spread s (the pipeline's robust spread):
a shift that is large against its own noise is kept whole, one the size of the noise
is halved, and a class with fewer than ``MIN_CLASS_RUNS`` runs is not adjusted. This is
the empirical-Bayes (positive-part James-Stein) weight with the shift itself as the
prior variance; see Efron & Morris (1975), "Data analysis using Stein's estimator and
its generalizations", JASA 70(350), and for the median's standard error
``sqrt(pi / 2) = 1.2533``, Kendall & Stuart, The Advanced Theory of Statistics, vol. 1.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["N_CLASSES", "CLASS_LABELS", "season_class", "month_end_close", "season_adjustment", "week_index"]

N_CLASSES = 15
CLASS_LABELS = (("a Monday", "a Tuesday", "a Wednesday", "a Thursday", "a Friday", "a Saturday", "a Sunday")
                + tuple(f"the {n} day of the month" for n in ("last", "2nd-last", "3rd-last", "4th-last",
                                                              "5th-last"))
                + ("the 1st of the month", "the 2nd of the month", "the 3rd of the month"))
#: Classes that make up the month-end close (last five and first three calendar days).
MONTH_END_CLASSES = tuple(range(7, 15))
MIN_CLASS_RUNS = 3


def _classes_of_days(day: np.ndarray) -> np.ndarray:
    """Season class of each day (datetime64[D] array)."""
    month = day.astype("datetime64[M]")
    dom = (day - month.astype("datetime64[D]")).astype(np.int64)  # 0 on the 1st
    to_end = ((month + 1).astype("datetime64[D]") - day).astype(np.int64)  # 1 on the last day
    dow = (day.astype(np.int64) - 4) % 7  # 1970-01-01 was a Thursday (3): Monday = 0
    cls = np.where(dom <= 2, 12 + dom, dow)
    cls = np.where(to_end <= 5, 6 + to_end, cls)
    return cls.astype(np.int8)


def season_class(start: np.ndarray) -> np.ndarray:
    """The season class (0..14, see the module docstring) of each start time (datetime64[ns] array).

    Classes are worked out once per calendar day of the span and looked up (a year of 1M runs
    needs 365 calendar sums, not a million).
    """
    if not len(start):
        return np.zeros(0, dtype=np.int8)
    days = start.astype("datetime64[D]").astype(np.int64)
    d0 = int(days.min())
    span = int(days.max()) - d0 + 1
    table = _classes_of_days(np.arange(d0, d0 + span).astype("datetime64[D]"))
    return table[days - d0]


def month_end_close(start: np.ndarray) -> np.ndarray:
    """True for runs on the last five or first three calendar days of a month."""
    return season_class(start) >= 7


def season_adjustment(resid: np.ndarray, codes: np.ndarray, k: int, season: np.ndarray, base: np.ndarray,
                      pipe_median: np.ndarray, pipe_spread: np.ndarray, n_classes: int = N_CLASSES) -> np.ndarray:
    """Per (pipeline, class) adjustment of a log residual: ``k x n_classes`` array (see the module docstring).

    *resid* is per run, *codes* the pipeline code (0..k-1), *season* the class (0..n_classes-1:
    the season classes, or any other cells such as calendar weeks), *base* the rows the
    baseline uses, *pipe_median* and *pipe_spread* the pipeline's median residual and robust
    spread (1.4826 x MAD) over them.
    """
    N_CLASSES = n_classes  # noqa: N806 - the cell count of this call
    cell = codes[base] * N_CLASSES + season[base]
    if not cell.size:
        return np.zeros(k * N_CLASSES)
    g = pd.Series(resid[base]).groupby(cell)
    med = g.median()
    cnt = g.size()
    out = np.zeros(k * N_CLASSES)
    idx = med.index.to_numpy()
    n = cnt.to_numpy().astype(float)
    shift = med.to_numpy() - pipe_median[idx // N_CLASSES]
    se2 = (1.2533 * pipe_spread[idx // N_CLASSES]) ** 2 / n
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.where(shift * shift + se2 > 0, shift * shift / (shift * shift + se2), 0.0)
    out[idx] = np.where(n >= MIN_CLASS_RUNS, shift * weight, 0.0)
    return np.nan_to_num(out)


def week_index(start: np.ndarray) -> tuple[np.ndarray, int]:
    """Calendar week (Monday to Sunday) of each start time, numbered from 0; and the number of weeks."""
    ns = np.ascontiguousarray(start.astype("datetime64[ns]", copy=False)).view(np.int64)  # no copy
    week = ns - np.datetime64("1970-01-05", "ns").astype(np.int64)
    week //= 7 * 86_400 * 10**9
    w0 = int(week.min()) if len(week) else 0
    week -= w0  # in place: the array is ours
    return week.astype(np.int64, copy=False), (int(week.max()) + 1) if len(week) else 0
