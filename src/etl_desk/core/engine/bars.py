"""Envelopes reduced from runs that arrive in run order, part by part.

The exact chart bars of a range of the run order (:meth:`.index.RunIndex.envelope` zoomed in, and a
filtered per-run view streamed from the index's run-ordered file by :meth:`.engine.Engine.envelopes`)
come from parts in order: the row groups of ``runs.parquet`` or the batches of a query. Each part is
reduced at the bucket edges inside it (no copy of the range); a bucket that spans two parts combines
their partial results. Bucket *i* of a range of *m* runs in buckets of *width* runs holds the positions
whose ``floor(position / width)`` is *i* -- the rule of the engine's window query, so both give the
same bars.

No Qt, no Ibis: NumPy only. The callers build the :class:`~.engine.Envelope` from :func:`combine`'s arrays.
"""
from __future__ import annotations

import numpy as np

__all__ = ["ascending_edges", "bucket_starts", "combine", "partials", "prepare"]


def bucket_starts(n: int, width: float, buckets: int) -> np.ndarray:
    """First position of each bucket when position *i* of *n* falls in bucket
    ``min(floor(i / width), buckets - 1)`` (*width* >= 1, so no bucket is empty): ``ceil(k * width)``,
    corrected by one where floating point rounds the other way, without a pass over the *n* positions;
    buckets that would start at or past *n* are left out."""
    k = np.arange(min(buckets, n), dtype=np.int64)
    s = np.ceil(k * width).astype(np.int64)
    s -= (s > 0) & (np.floor((s - 1) / width) >= k)
    s += np.floor(s / width) < k
    return s[s < n]  # a last bucket can start past the end (ceil(n / width) buckets asked): none there


def ascending_edges(starts: np.ndarray, m: int, descending: bool) -> np.ndarray:
    """The bucket edges *starts* (counted in the asked direction over a range of *m* runs) as positions of
    the same range counted ascending; the buckets then come in reverse order when *descending*."""
    return (m - np.r_[starts[1:], m])[::-1] if descending else starts


def prepare(failed: np.ndarray, values: dict) -> dict:
    """One part ready to reduce: ``"failed_cum"`` (int64, length rows + 1: failed runs before each row)
    and per metric ``(v, vz, fv, fz)``: the values (float64, unknown = NaN), the same with unknown as 0
    (for sums; *v* itself when nothing is unknown), and the failed runs' values alone, in order, with a
    sentinel at the end (NaN in *fv*, 0 in *fz*): ``failed_cum`` maps a row to its index there.

    *failed*: bool per row; *values*: metric -> float64 array of the same length."""
    fpos = np.flatnonzero(failed)
    out = {"failed_cum": np.r_[0, np.cumsum(failed, dtype=np.int64)]}
    for m, v in values.items():
        vz = np.where(np.isnan(v), 0.0, v) if np.isnan(v).any() else v  # unknown adds nothing to a sum
        out[m] = (v, vz, np.r_[v[fpos], np.nan], np.r_[vz[fpos], 0.0])
    return out


def partials(part: dict, a: int, b: int, seg0: int, asc: np.ndarray, metric: str) -> tuple:
    """Rows *a*..*b*-1 of a *part* made by :func:`prepare`, whose row *a* is position *seg0* of the range,
    reduced at the ascending bucket edges *asc* inside it: (bucket ids, failed counts, max, min, sum,
    failed max, failed sum), one entry per partial."""
    i0 = int(np.searchsorted(asc, seg0, side="right"))  # edges up to seg0 belong to earlier parts
    i1 = int(np.searchsorted(asc, seg0 + (b - a), side="left"))
    cuts = np.r_[a, asc[i0:i1] - seg0 + a]  # rows where a new partial begins
    k = part["failed_cum"][np.r_[cuts, b]]  # each partial's first failed run among the part's failed runs
    count = np.diff(k)
    v, vz, fv, fz = part[metric]
    c = cuts - a
    # failed values: reduce the compact arrays between k[i] and k[i+1] (the last index, k[-1] <= the
    # sentinel's, only ends the one before it); a partial without failed runs gets NaN / 0
    none = count == 0
    return (np.arange(i0 - 1, i1), count, np.fmax.reduceat(v[a:b], c), np.fmin.reduceat(v[a:b], c),
            np.add.reduceat(vz[a:b], c), np.where(none, np.nan, np.fmax.reduceat(fv, k)[:-1]),
            np.where(none, 0.0, np.add.reduceat(fz, k)[:-1]))


def combine(parts: list[tuple], descending: bool) -> list[np.ndarray]:
    """:func:`partials` of consecutive parts (every bucket has a run) combined per bucket: failed counts,
    max, min, sum, failed max, failed sum, in the asked direction (reversed when *descending*)."""
    ids = np.concatenate([p[0] for p in parts])
    first = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    cols = [np.concatenate([p[j] for p in parts]) for j in range(1, 7)]
    out = [np.add.reduceat(cols[0], first), np.fmax.reduceat(cols[1], first), np.fmin.reduceat(cols[2], first),
           np.add.reduceat(cols[3], first), np.fmax.reduceat(cols[4], first), np.add.reduceat(cols[5], first)]
    return [x[::-1] for x in out] if descending else out
