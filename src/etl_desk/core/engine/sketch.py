"""Mergeable histograms that rebuild quantiles with a stated error, on any engine.

Exact quantiles are holistic: at 100M runs DuckDB needs 8-10 GB for per-pipeline
medians and fails under a 2 GB ``memory_limit`` (../shared/ENGINE-MEASUREMENTS.md).
A histogram is an ordinary ``GROUP BY bucket`` count, so it runs in bounded
memory on DuckDB and Spark alike, merges by adding counts (the index stores one
per rollup cell), and -- because counts are exact -- gives *identical* answers
on every engine.

Two bucketings:

* **log buckets** for positive values such as durations (the DDSketch idea,
  Masson, Rim & Lee, "DDSketch: a fast and fully-mergeable quantile sketch with
  relative-error guarantees", VLDB 2019): bucket ``i = floor(ln(x) / ln(GAMMA))``
  covers ``[GAMMA**i, GAMMA**(i+1))``; its representative value
  ``2 * GAMMA**(i+1) / (GAMMA + 1)`` is within relative error
  ``ALPHA = (GAMMA - 1) / (GAMMA + 1)`` of every value in the bucket. Values
  ``<= 0`` go to bucket :data:`ZERO_BUCKET` and are represented by 0.
* **linear buckets** of width ``DELTA`` for signed values (log residuals of the
  anomaly score): representative = bucket middle, absolute error ``<= DELTA / 2``.

Stated error of a quantile ``q`` rebuilt from a histogram of ``n`` values: with
``k = floor((n - 1) * q)`` (0-based), the returned value is the representative
of the bucket holding the order statistic ``x_(k)``, so it is within ``ALPHA``
relative (log buckets) or ``DELTA / 2`` absolute (linear buckets) of ``x_(k)``.
Exact (linearly interpolated, NumPy's default) quantiles lie between ``x_(k)``
and ``x_(k+1)``. In rank terms the returned value cannot be told from the
other values of its bucket: :func:`quantiles_from_counts` also returns that
bucket's share of ``n`` as the rank error.
"""
from __future__ import annotations

import math

import numpy as np

#: Growth factor of the log buckets: 1 % wide, so ALPHA is just under 0.5 %.
GAMMA = 1.01
LN_GAMMA = math.log(GAMMA)
#: Relative error bound of a value rebuilt from a log bucket.
ALPHA = (GAMMA - 1.0) / (GAMMA + 1.0)
#: Bucket of values <= 0 (durations of 0 minutes).
ZERO_BUCKET = -100_000
#: Width of the linear buckets for log residuals (0.001 = 0.1 % in duration).
DELTA = 0.001


def log_bucket_expr(x):
    """Ibis expression: the log bucket of the numeric column expression *x* (NULL stays NULL)."""
    import ibis

    return ibis.ifelse(x > 0, (x.log() / LN_GAMMA).floor().cast("int64"), ibis.literal(ZERO_BUCKET, "int64"))


def linear_bucket_expr(x):
    """Ibis expression: the linear bucket ``floor(x / DELTA)`` of *x*."""
    return (x / DELTA).floor().cast("int64")


def log_bucket(x: np.ndarray) -> np.ndarray:
    """NumPy twin of :func:`log_bucket_expr` (int64 array, same shape as *x*; NaN must be removed first)."""
    x = np.asarray(x, dtype=np.float64)
    out = np.full(x.shape, ZERO_BUCKET, dtype=np.int64)
    pos = x > 0
    out[pos] = np.floor(np.log(x[pos]) / LN_GAMMA).astype(np.int64)
    return out


def linear_bucket(x: np.ndarray) -> np.ndarray:
    """NumPy twin of :func:`linear_bucket_expr`."""
    return np.floor(np.asarray(x, dtype=np.float64) / DELTA).astype(np.int64)


def log_value(bucket: np.ndarray) -> np.ndarray:
    """Representative value of log buckets: ``2 * GAMMA**(i+1) / (GAMMA+1)``; 0 for :data:`ZERO_BUCKET`."""
    b = np.asarray(bucket, dtype=np.int64)
    v = 2.0 * np.exp((b + 1) * LN_GAMMA) / (GAMMA + 1.0)
    return np.where(b == ZERO_BUCKET, 0.0, v)


def linear_value(bucket: np.ndarray) -> np.ndarray:
    """Representative value (middle) of linear buckets."""
    return (np.asarray(bucket, dtype=np.float64) + 0.5) * DELTA


def quantiles_from_counts(buckets: np.ndarray, counts: np.ndarray, qs, kind: str = "log"
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Quantiles *qs* (fractions in [0, 1]) rebuilt from one histogram.

    *buckets* and *counts* are 1-D arrays of equal length (any order; repeated
    buckets are added). Returns ``(values, rank_error)``, each of shape
    ``(len(qs),)``: the representative value of the bucket holding the order
    statistic ``x_(floor((n-1) q))``, and that bucket's count / n. NaN for both
    when the histogram is empty. Raises ValueError for an unknown *kind*.
    """
    if kind not in ("log", "linear"):
        raise ValueError(f"unknown bucket kind {kind!r}")
    qs = np.atleast_1d(np.asarray(qs, dtype=np.float64))
    b = np.asarray(buckets, dtype=np.int64)
    c = np.asarray(counts, dtype=np.int64)
    if b.size == 0 or c.sum() == 0:
        return np.full(qs.shape, np.nan), np.full(qs.shape, np.nan)
    ub, inv = np.unique(b, return_inverse=True)
    cnt = np.bincount(inv, weights=c, minlength=len(ub)).astype(np.int64)
    cum = np.cumsum(cnt)
    n = int(cum[-1])
    k = np.floor((n - 1) * qs).astype(np.int64)
    pos = np.searchsorted(cum, k, side="right")  # first bucket whose cumulative count exceeds k
    vals = (log_value if kind == "log" else linear_value)(ub[pos])
    return vals.astype(np.float64), cnt[pos] / n


def grouped_quantiles(groups: np.ndarray, buckets: np.ndarray, counts: np.ndarray, q: float,
                      kind: str = "log") -> dict:
    """One quantile *q* per group from a long histogram table (group, bucket, count): {group: value}."""
    groups = np.asarray(groups)
    out = {}
    if groups.size == 0:
        return out
    order = np.argsort(groups, kind="stable")
    g = groups[order]
    cut = np.flatnonzero(g[1:] != g[:-1]) + 1
    for lo, hi in zip(np.concatenate(([0], cut)), np.concatenate((cut, [len(g)]))):
        idx = order[lo:hi]
        v, _ = quantiles_from_counts(buckets[idx], counts[idx], [q], kind)
        out[g[lo].item() if hasattr(g[lo], "item") else g[lo]] = float(v[0])
    return out
