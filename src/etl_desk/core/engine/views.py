"""What the window draws for a big history, from the engine's answers (no Qt here).

* :func:`group_view` -- a rollup (:meth:`.engine.Engine.rollup`) as the dashboard's
  grouped :class:`~etl_desk.core.dashboard.view.View` (one bar per day, week, month or
  pipeline; labels, order and totals as :func:`~etl_desk.core.dashboard.view.build_view`
  makes them from the runs in memory);
* :func:`rows_per_draw` -- how many runs one drawn row stands for at a zoom, chosen so
  every row holds the same number of runs (the pyramid's blocks are powers of two);
* :class:`RunRows` / :func:`rows_from_envelopes` / :func:`rows_from_runs` -- the rows one
  chart draws per run: the mean of the runs a row stands for, its failed part
  (``failed_sum / runs``: the blue share of the drawn length is the failed share in
  view, the rule of :mod:`etl_desk.core.dashboard.lod`) and the largest run (envelope);
* :func:`timeline_from_rollup` -- cost per day or week for the time view
  (:class:`~etl_desk.core.dashboard.timeline.Timeline`, same trend definition).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._project import FAILED, NS_PER_DAY, Timeline, View, ViewSpec
from .index import EXACT_ENVELOPE_BARS, PYRAMID_BASE
from .queries import METRICS

_ROLLUP_METRIC = {"cost_usd": ("cost_usd", "failed_cost_usd"),
                  "data_processed_gb": ("data_processed_gb", "failed_data_processed_gb"),
                  "duration_min": ("duration_min", "failed_duration_min")}
GRAIN_OF = {"day": "day", "week": "week", "month": "month", "pipeline": "pipeline"}


def _labels(keys: pd.Series, grouping: str) -> np.ndarray:
    if grouping == "pipeline":
        return keys.astype(str).to_numpy(dtype=object)
    # vectorised (a Timestamp per day formatted one by one took ~25 ms for a year of days)
    ts = pd.to_datetime(keys).to_numpy(dtype="datetime64[ns]")
    if grouping == "month":
        return np.datetime_as_string(ts, unit="M").astype(object)
    days = np.datetime_as_string(ts, unit="D").astype(object)
    return days + " wk" if grouping == "week" else days


def group_view(rollup: pd.DataFrame, spec: ViewSpec) -> View:
    """The grouped view of *spec* (grouping day/week/month/pipeline) from a rollup of the filtered runs.

    Bars in key order (chronological / alphabetical), or by a metric's total when the sort key
    is one (descending flips, ties keep key order) -- as :func:`build_view` orders groups. A group
    whose cost is unknown draws as 0 and shows "unknown" in the table. ``keys`` (the rollup's
    key per bar) is kept in ``View.positions``-free form as ``group_labels`` plus ``keys``
    attribute for selections.
    """
    df = rollup[rollup["runs"] > 0].reset_index(drop=True)
    totals = {m: df[a].to_numpy(dtype=np.float64) for m, (a, _) in _ROLLUP_METRIC.items()}
    failed = {m: np.nan_to_num(df[b].to_numpy(dtype=np.float64)) for m, (_, b) in _ROLLUP_METRIC.items()}
    n = len(df)
    if spec.sort_key in METRICS:
        key = np.nan_to_num(totals[spec.sort_key], nan=-np.inf if spec.descending else np.inf)
        order = np.lexsort((np.arange(n), -key if spec.descending else key))
    else:
        order = np.arange(n)[::-1] if spec.descending else np.arange(n)
    view = View(None, spec, n, np.zeros(0, dtype=np.int64), {m: v[order] for m, v in totals.items()},
                {m: v[order] for m, v in failed.items()}, df["runs"].to_numpy(np.int64)[order],
                df["failed_runs"].to_numpy(np.int64)[order], group_labels=_labels(df["key"], spec.grouping)[order])
    view.keys = df["key"].to_numpy(dtype=object)[order]  # for selections by group
    view.cost_known = df["cost_known"].to_numpy(np.int64)[order]
    return view


def rows_per_draw(visible: int, rows_px: float, indexed: bool) -> int:
    """Runs per drawn row for *visible* runs on *rows_px* pixel rows: 1 (exact bars) when they fit.

    With the index's pyramid (*indexed*) and more runs than are read exactly, the count is
    rounded up to a pyramid block (``PYRAMID_BASE * 2**k``) so every row is one whole block:
    rows then hold equal numbers of runs and their means add up honestly.
    """
    lod = max(1, int(math.ceil(max(visible, 1) / max(rows_px, 1.0))))
    if indexed and lod >= PYRAMID_BASE and visible > EXACT_ENVELOPE_BARS:
        lod = PYRAMID_BASE << max(0, math.ceil(math.log2(lod / PYRAMID_BASE)))
    return lod


def aligned_range(i0: int, i1: int, lod: int, n: int) -> tuple[int, int]:
    """[i0, i1) widened to whole rows of *lod* runs (clipped to the *n* bars)."""
    lo = (max(i0, 0) // lod) * lod
    hi = min(-(-max(i1, lo + 1) // lod) * lod, n)
    return lo, max(hi, lo)


@dataclass
class RunRows:
    """Rows one per-run chart draws for bars ``lo..hi-1`` at *lod* runs a row.

    Per metric: ``total`` (mean of the row's runs; the run itself when lod = 1), ``failed``
    (the failed runs' sum / the row's runs), ``envelope`` (the largest run). ``y`` is each
    row's centre in bar units, ``runs`` / ``failed_runs`` its counts; ``rows`` holds the runs
    themselves (lod = 1: run IDs for the axis and tooltips), else None.
    """

    lo: int
    hi: int
    lod: int
    y: np.ndarray
    runs: np.ndarray
    failed_runs: np.ndarray
    total: dict
    failed: dict
    envelope: dict
    rows: pd.DataFrame | None = None

    def label(self, i: int) -> str | None:
        """The run ID at position *i* when these rows hold it (positions ``lo .. lo + len(rows) - 1``), else None."""
        if self.rows is None or not self.lo <= i < self.lo + len(self.rows):
            return None
        return str(self.rows["run_id"].iat[i - self.lo])


def rows_from_runs(rows: pd.DataFrame, lo: int) -> RunRows:
    """Exact bars (lod = 1) from the runs at positions lo, lo+1, ... (canonical columns)."""
    f = (rows["status"] == FAILED).to_numpy(dtype=bool)
    total, failed = {}, {}
    for m in METRICS:
        v = np.nan_to_num(rows[m].to_numpy(dtype=np.float64, na_value=np.nan))
        total[m], failed[m] = v, np.where(f, v, 0.0)
    n = len(rows)
    return RunRows(lo, lo + n, 1, np.arange(lo, lo + n, dtype=np.float64), np.ones(n, np.int64),
                   f.astype(np.int64), total, failed, dict(total), rows.reset_index(drop=True))


def rows_from_envelopes(envs: dict, lo: int, hi: int, lod: int) -> RunRows:
    """Binned rows from one :class:`~.engine.Envelope` per metric (same buckets)."""
    e0 = envs[METRICS[0]]
    runs = np.asarray(e0.runs, dtype=np.int64)
    safe = np.maximum(runs, 1)
    first = np.asarray(e0.first, dtype=np.float64)
    total, failed, env = {}, {}, {}
    for m in METRICS:
        e = envs[m]
        total[m] = np.nan_to_num(np.asarray(e.sum, dtype=np.float64)) / safe
        fs = e.failed_sum if e.failed_sum is not None else np.zeros(len(runs))
        failed[m] = np.nan_to_num(np.asarray(fs, dtype=np.float64)) / safe
        env[m] = np.nan_to_num(np.asarray(e.max, dtype=np.float64))
    return RunRows(lo, hi, lod, first + (runs - 1) / 2.0, runs, np.asarray(e0.failed_runs, dtype=np.int64),
                   total, failed, env)


def timeline_from_rollup(rollup: pd.DataFrame, freq: str) -> tuple[Timeline, int]:
    """Cost per *freq* ("day" or "week": the rollup's grain) as a Timeline, and the runs of unknown cost.

    Periods without runs are kept as zero, so the axis is even; the trend is the least-squares
    line through the per-period totals (``numpy.polyfit`` degree 1), as
    :func:`~etl_desk.core.dashboard.timeline.cost_timeline` defines it.
    """
    df = rollup[rollup["runs"] > 0]
    unknown = int((df["runs"] - df["cost_known"]).sum()) if len(df) else 0
    if df.empty:
        e = np.zeros(0)
        return Timeline(freq, np.zeros(0, dtype="datetime64[ns]"), e, e, np.zeros(0, np.int64), None, None), unknown
    days = (pd.to_datetime(df["key"]).to_numpy(dtype="datetime64[ns]").view(np.int64) // NS_PER_DAY)
    step = 1 if freq == "day" else 7
    idx = ((days - days.min()) // step).astype(np.int64)
    k = int(idx.max()) + 1
    total = np.bincount(idx, weights=np.nan_to_num(df["cost_usd"].to_numpy(dtype=np.float64)), minlength=k)
    fail = np.bincount(idx, weights=np.nan_to_num(df["failed_cost_usd"].to_numpy(dtype=np.float64)), minlength=k)
    runs = np.bincount(idx, weights=df["runs"].to_numpy(dtype=np.float64), minlength=k).astype(np.int64)
    starts = ((int(days.min()) + np.arange(k) * step) * NS_PER_DAY).astype("datetime64[ns]")
    trend = slope = None
    if k >= 2:
        x = np.arange(k, dtype=np.float64)
        b, a = np.polyfit(x, total, 1)
        trend, slope = a + b * x, float(b)
    return Timeline(freq, starts, total, fail, runs, trend, slope), unknown
