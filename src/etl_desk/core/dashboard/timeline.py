"""Cost over time: the runs in the filter summed per day or per week, with the failed part and a trend.

A run counts in the period its start time falls in (UTC calendar days; weeks start
on Monday, ISO 8601). Periods with no run are kept (as zero) so the time axis is
even. The trend is the ordinary least-squares line through the per-period totals
(``numpy.polyfit`` of degree 1 against the period number); its slope is the change
in cost per period. With fewer than two periods there is no trend (``None``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

NS_PER_DAY = 86_400 * 10**9
FREQS = {"day": "Per day", "week": "Per week"}
_MONDAY_OFFSET = 3  # 1970-01-01 was a Thursday: day + 3 counts weeks from a Monday


@dataclass(frozen=True)
class Timeline:
    """Per period: its first day (``starts``, datetime64[ns]), the cost of all runs in the filter
    (``total``), of the failed ones (``failed``), the number of runs, and the trend line's value
    (``trend``, or None). ``slope`` is the trend's change in cost per period (USD)."""

    freq: str
    starts: np.ndarray
    total: np.ndarray
    failed: np.ndarray
    runs: np.ndarray
    trend: np.ndarray | None
    slope: float | None

    @property
    def n(self) -> int:
        """Number of periods (length of every per-period array)."""
        return len(self.starts)

    def period_of(self, start_ns: np.ndarray) -> np.ndarray:
        """Index of the period each start time (int64 ns) falls in (-1 outside the timeline)."""
        if self.n == 0:
            return np.full(len(start_ns), -1, dtype=np.int64)
        first = _period_number(np.asarray(self.starts, dtype="datetime64[ns]").view(np.int64)[:1], self.freq)[0]
        idx = _period_number(start_ns, self.freq) - first
        return np.where((idx >= 0) & (idx < self.n), idx, -1)

    def label(self, i: int) -> str:
        """Axis label of period *i*: ``"2024-04-14"`` per day, ``"week of 2024-04-08"`` (a Monday) per week.
        """
        d = pd.Timestamp(self.starts[i])
        return f"{d:%Y-%m-%d}" if self.freq == "day" else f"week of {d:%Y-%m-%d}"


def _period_number(start_ns: np.ndarray, freq: str) -> np.ndarray:
    day = np.floor_divide(start_ns, NS_PER_DAY)
    return day if freq == "day" else np.floor_divide(day + _MONDAY_OFFSET, 7)


def cost_timeline(start_ns: np.ndarray, cost: np.ndarray, failed: np.ndarray, mask: np.ndarray | None = None,
                  freq: str = "day") -> Timeline:
    """Cost per *freq* (``"day"`` or ``"week"``) of the runs where *mask* is true.

    *start_ns*: start times as int64 nanoseconds since the epoch (UTC); *cost*: USD per run
    (NaN counts as 0); *failed*: bool per run. Raises ValueError for another *freq*.
    """
    if freq not in FREQS:
        raise ValueError(f"freq must be one of {', '.join(FREQS)}, not {freq!r}")
    start_ns = np.asarray(start_ns, dtype=np.int64)
    cost = np.nan_to_num(np.asarray(cost, dtype=np.float64), nan=0.0)
    failed = np.asarray(failed, dtype=bool)
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        start_ns, cost, failed = start_ns[mask], cost[mask], failed[mask]
    empty = np.zeros(0)
    if len(start_ns) == 0:
        return Timeline(freq, np.zeros(0, dtype="datetime64[ns]"), empty, empty, np.zeros(0, np.int64), None, None)
    p = _period_number(start_ns, freq)
    lo = int(p.min())
    idx = p - lo
    k = int(idx.max()) + 1
    total = np.bincount(idx, weights=cost, minlength=k)
    fail = np.bincount(idx, weights=np.where(failed, cost, 0.0), minlength=k)
    runs = np.bincount(idx, minlength=k).astype(np.int64)
    first_day = lo if freq == "day" else lo * 7 - _MONDAY_OFFSET
    step = 1 if freq == "day" else 7
    starts = ((first_day + np.arange(k) * step) * NS_PER_DAY).astype("datetime64[ns]")
    trend = slope = None
    if k >= 2:
        x = np.arange(k, dtype=np.float64)
        b, a = np.polyfit(x, total, 1)
        trend, slope = a + b * x, float(b)
    return Timeline(freq, starts, total, fail, runs, trend, slope)
