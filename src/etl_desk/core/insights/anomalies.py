"""Anomalies: runs (and pipeline-weeks) out of line with their pipeline's own history.

Transparent rules, each reported with the observed value, the baseline it was
compared with, the threshold and a score. All rules work per pipeline
(``job_name``); without pipeline names they fall back to all runs together and
say so in the notes (``result.attrs["notes"]``).

Rules
-----
``duration_z`` (metric ``duration_min``)
    The pipeline's expected duration for the run's data volume comes from a
    robust per-pipeline fit ``duration = start-up + GB / throughput`` (iteratively
    re-weighted least squares on relative errors, Huber weights, successful runs
    only -- failed runs stop part-way). The run's residual is
    ``r = log(duration / expected)``; its robust z-score is
    ``(r - median(r)) / (1.4826 * MAD(r))`` over the pipeline's successful runs,
    with the spread floored at ``min_spread``. A run with ``z > z_threshold`` is
    flagged. A month-end run with three times the data is expected to take longer
    and is not flagged. Only slow runs are flagged (fast runs cost less).
``cost_z`` (metric ``cost_usd``)
    Expected cost = expected duration for the volume x the pipeline's median cost
    per minute (separately on spot and on-demand instances); robust z of
    ``log(cost / expected cost)`` as above.
``cost_rate_z`` (metric ``cost_per_min``)
    Cost per minute of run time against the pipeline's median (spot and on-demand
    separately): catches a runaway autoscaler (more nodes, same wall-clock time),
    also on runs that failed part-way.
``cost_spike`` (metric ``cost_usd``)
    Cost at least ``spike_factor`` x the trailing mean cost of the pipeline's
    previous ``spike_window`` runs, that mean scaled to this run's data volume
    (so a month-end peak is compared with what its volume should cost).
``failure_rate_jump`` (metric ``failure_rate``)
    A pipeline's failure rate in a calendar week (Monday to Sunday) is at least
    ``failure_jump_pp`` percentage points above the week before, both weeks with
    at least ``failure_min_runs`` runs. One finding per pipeline-week: ``run_id``
    is its first failed run and ``run_ids`` all failed runs of that week. These
    findings are about pipelines, not runs: detection scoring leaves them out
    (see :func:`score_detection`).

Everything is vectorised (``np.bincount`` sums, pandas groupby medians); no
Python loop runs per row. 1,000,000 runs take about 0.3 s.

Size: one detector (~670 lines): the run rules share one per-pipeline baseline (medians, MADs,
seasonal adjustment) computed once and freed rule by rule for memory; the rule settings are in
``anomaly_rules`` and seasonality in ``seasonal``. Next cut: the pipeline-level rules (``GROUP_RULES``)
into ``anomaly_groups.py``.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from etl_desk.core.data.schema import has_values
from etl_desk.core.data.times import datetime_ns
from etl_desk.core.insights.anomaly_rules import (GROUP_RULES, RULE_LABELS, RUN_RULES, AnomalyThresholds,
                                                  describe_rules)
from etl_desk.core.insights.kpis import failed_mask
from etl_desk.core.insights.seasonal import CLASS_LABELS, N_CLASSES, season_adjustment, season_class, week_index

__all__ = ["ANOMALY_COLUMNS", "RUN_RULES", "GROUP_RULES", "RULE_LABELS", "AnomalyThresholds", "describe_rules",
           "detect_anomalies", "empty_anomalies", "robust_z", "fit_startup_throughput", "baseline_sample",
           "group_median", "flagged_runs", "score_detection"]

ANOMALY_COLUMNS = ("run_id", "rule", "metric", "observed", "baseline", "threshold", "score", "pipeline",
                   "detail", "run_ids", "start_time", "run_cost_usd", "excess_usd", "excess_pct", "reason")

_MAD_TO_SD = 1.4826


def empty_anomalies() -> pd.DataFrame:
    """The anomaly table with no findings: the :data:`ANOMALY_COLUMNS` with their dtypes (float64 for
    the numbers, datetime64 for ``start_time``, object for the rest) and ``attrs["notes"] = []``.
    """
    df = pd.DataFrame({c: pd.Series(dtype="float64" if c in ("observed", "baseline", "threshold", "score",
                                                             "excess_usd", "excess_pct")
                                    else "object") for c in ANOMALY_COLUMNS})
    df["start_time"] = pd.Series(dtype="datetime64[ns]")
    df["run_cost_usd"] = pd.Series(dtype="float64")
    df.attrs["notes"] = []
    return df


# --------------------------------------------------------------------------- group statistics

#: Rows per block where a per-run array is computed block by block (robust_z)
_BLOCK = 1 << 16


def _gsum(codes: np.ndarray, k: int, w: np.ndarray) -> np.ndarray:
    return np.bincount(codes, weights=w, minlength=k)


def group_median(values: np.ndarray, codes: np.ndarray, k: int) -> np.ndarray:
    """Median of *values* per group code 0..k-1 (NaN for empty groups)."""
    if values.size == 0:
        return np.full(k, np.nan)
    med = pd.Series(values).groupby(codes).median()
    out = np.full(k, np.nan)
    out[med.index.to_numpy()] = med.to_numpy()
    return out


def robust_z(values: np.ndarray, codes: np.ndarray, k: int, base: np.ndarray, min_spread: float = 0.0
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Robust z-scores of *values* per group against the rows in *base*.

    ``z = (x - median) / max(1.4826 * MAD, min_spread)``, median and MAD of the
    group's *base* rows. Returns ``(z, median, spread, base count)`` (per-group arrays).
    """
    vb, cb = values[base], codes[base]
    med = group_median(vb, cb, k)
    mad = group_median(np.abs(vb - med[cb]), cb, k)
    spread = np.maximum(_MAD_TO_SD * mad, min_spread)
    cnt = np.bincount(cb, minlength=k)
    z = np.empty(len(values), dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        # (values - median) / spread, the same numbers, block by block: the per-run median and spread
        # are never whole 1M-run arrays beside z (peak memory, issue 15 item 8)
        for i in range(0, len(values), _BLOCK):
            c = codes[i:i + _BLOCK]
            np.subtract(values[i:i + _BLOCK], med[c], out=z[i:i + _BLOCK])
            z[i:i + _BLOCK] /= spread[c]
    return z, med, spread, cnt


def fit_startup_throughput(gb: np.ndarray, dur: np.ndarray, codes: np.ndarray, k: int, fit: np.ndarray,
                           iterations: int = 2, huber: float = 1.5) -> tuple[np.ndarray, np.ndarray]:
    """Per-group robust fit ``dur = a + b * gb`` (a = start-up minutes, b = minutes per GB).

    Weighted least squares on relative errors (weight 1 / fitted²), re-weighted
    with Huber weights on ``log(dur / fitted)``. ``a`` and ``b`` are kept >= 0; a
    group without volume variation gets ``b = 0`` and ``a`` = its typical duration.
    Only rows in *fit* are used. Returns per-group ``(a, b)``.
    """
    x, y, c = gb[fit], dur[fit], codes[fit]
    w = 1.0 / np.maximum(y, 1e-9) ** 2
    a = np.zeros(k)
    b = np.zeros(k)
    for it in range(iterations + 1):
        s0 = _gsum(c, k, w)
        sx, sy = _gsum(c, k, w * x), _gsum(c, k, w * y)
        sxx, sxy = _gsum(c, k, w * x * x), _gsum(c, k, w * x * y)
        with np.errstate(divide="ignore", invalid="ignore"):
            den = s0 * sxx - sx * sx
            b = np.where(den > 1e-12 * np.maximum(s0 * sxx, 1e-300), (s0 * sxy - sx * sy) / den, 0.0)
            b = np.nan_to_num(np.maximum(b, 0.0))
            a = np.where(s0 > 0, (sy - b * sx) / s0, 0.0)
            neg = a < 0  # no negative start-up: refit through the origin
            if neg.any():
                b = np.where(neg, np.where(sxx > 0, sxy / sxx, 0.0), b)
                a = np.where(neg, 0.0, a)
        if it == iterations:
            break
        f = np.maximum(a[c] + b[c] * x, 1e-9)
        r = np.log(y / f)
        # robust scale per group from the weighted mean absolute residual (cheap; the final
        # z-scores use the median and MAD)
        cnt = np.bincount(c, minlength=k)
        scale = np.maximum(np.divide(_gsum(c, k, np.abs(r)), cnt, out=np.zeros(k), where=cnt > 0) * 1.25, 1e-6)
        u = np.abs(r) / scale[c]
        w = np.minimum(1.0, huber / np.maximum(u, 1e-12)) / f ** 2
    return a, b


def baseline_sample(base: np.ndarray, codes: np.ndarray, k: int, cap: int) -> np.ndarray:
    """Rows of *base*, thinned to about *cap* per group by a fixed hash of the row position.

    Deterministic (no random state): Knuth's multiplicative hash of the position spreads
    the kept rows evenly over the table. Groups with at most *cap* rows keep them all.
    """
    if cap <= 0:
        return base
    cnt = np.bincount(codes[base], minlength=k)
    if not cnt.size or cnt.max() <= cap:
        return base
    frac = np.minimum(1.0, cap / np.maximum(cnt, 1))
    pos = np.arange(len(codes), dtype=np.uint64)
    h = ((pos * np.uint64(2654435761)) & np.uint64(0xFFFFFFFF)).astype(np.float64) / 2.0**32
    return base & (h < frac[codes])


# --------------------------------------------------------------------------- detection

def _groups(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, str | None]:
    if has_values(df, "job_name"):
        codes, names = pd.factorize(df["job_name"], sort=False)
        names = np.asarray(names, dtype=object)
        note = None
        if (codes < 0).any():
            note = (f"{int((codes < 0).sum()):,} runs without a pipeline name are compared with each other "
                    "as one group '(no name)'")
            codes = np.where(codes < 0, len(names), codes)
            names = np.append(names, "(no name)")
        return codes.astype(np.int64, copy=False), names, note
    return (np.zeros(len(df), dtype=np.int64), np.array(["(all runs)"], dtype=object),
            "This data has no pipeline names (Job Name is empty): each run is compared with all runs together, "
            "not with its own pipeline's history.")


def _take_ids(run_ids: pd.Series, idx: np.ndarray) -> np.ndarray:
    """Run IDs at positions *idx* as a str object array (only those rows are converted)."""
    return np.asarray(run_ids.iloc[idx].astype(str).to_numpy(dtype=object), dtype=object)


def _frame(idx: np.ndarray, rule: str, metric: str, observed, baseline, threshold: float, score,
           pipe_names: np.ndarray, codes: np.ndarray, run_ids: pd.Series, start: np.ndarray, detail,
           cost: np.ndarray, excess_usd, excess_pct, reason) -> pd.DataFrame:
    ids = _take_ids(run_ids, idx)
    return pd.DataFrame({
        "run_id": ids, "rule": rule, "metric": metric,
        "observed": np.asarray(observed, dtype=float), "baseline": np.asarray(baseline, dtype=float),
        "threshold": float(threshold), "score": np.asarray(score, dtype=float),
        "pipeline": pipe_names[codes[idx]].astype(str), "detail": detail,
        "run_ids": [[s] for s in ids], "start_time": start[idx], "run_cost_usd": cost[idx],
        "excess_usd": np.asarray(excess_usd, dtype=float), "excess_pct": np.asarray(excess_pct, dtype=float),
        "reason": reason,
    })


def _money(x: float) -> str:
    if not math.isfinite(x):
        return "an unknown amount (no cost for this run)"
    return f"${abs(x):,.2f}"


def _num(values, decimals: int) -> list[str]:
    """Numbers as text with thousands separators, formatted in C (the few >= 1,000 in Python)."""
    v = np.asarray(values, dtype=float)
    out = np.char.mod(f"%.{decimals}f", v).tolist()
    for i in np.flatnonzero(~(np.abs(v) < 1000)).tolist():
        out[i] = f"{v[i]:,.{decimals}f}" if math.isfinite(v[i]) else "unknown"
    return out


def _reasons(kind: str, idx: np.ndarray, observed, baseline, excess_usd, gb, use_vol: bool, season_txt) -> list[str]:
    """One plain-language sentence per finding: numbers formatted column-wise in C, joined per row."""
    o, b, e = (np.asarray(x, dtype=float) for x in (observed, baseline, excess_usd))
    n = len(o)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = _num(np.where(b > 0, o / b, np.inf), 1)
    more = np.where(o >= b, " more than usual.", " less than usual.").tolist()
    known = np.isfinite(e)
    money = ["$" + m if k else "an unknown amount (no cost for this run)"
             for m, k in zip(_num(np.abs(np.where(known, e, 0.0)), 2), known.tolist())]
    vol = [f" for {g} GB" for g in _num(gb[idx], 1)] if use_vol else [""] * n
    s = list(season_txt) if len(season_txt) else [""] * n
    if kind == "duration_z":
        cols = ("Ran ", _num(o, 1), " min, ", r, "x the ", _num(b, 1), " min its pipeline usually needs", vol, s)
    elif kind == "cost_rate_z":
        cols = ("Cost $", _num(o, 4), " a minute, ", r, "x its pipeline's usual $", _num(b, 4), s,
                " (more nodes or pricier instances for the same time)")
    elif kind == "cost_z":
        cols = ("Cost $", _num(o, 2), ", ", r, "x the $", _num(b, 2), " its pipeline usually spends", vol, s)
    else:
        cols = ("Cost $", _num(o, 2), ", ", r, "x the $", _num(b, 2), " its previous runs averaged", vol, s)
    cols = [c if isinstance(c, list) else [c] * n for c in cols] + [[": "] * n, money, more]
    return ["".join(t) for t in zip(*cols)]


def _season_text(seasonal: bool, cls: np.ndarray, idx: np.ndarray, adj: np.ndarray) -> list[str]:
    if not seasonal:
        return [""] * len(idx)
    return [f" on {CLASS_LABELS[c]}" + (" (its usual level for that day allowed for)" if abs(a) > 0.05 else "")
            for c, a in zip(cls[idx].tolist(), np.asarray(adj, float).tolist())]


def _direction(th: AnomalyThresholds, z: np.ndarray, limit: float) -> np.ndarray:
    up = z > limit if th.rises else np.zeros(len(z), dtype=bool)
    return up | (z < -limit) if th.falls else up


def _floors(th: AnomalyThresholds, excess_usd: np.ndarray, excess_pct: np.ndarray) -> np.ndarray:
    """Findings whose excess clears both floors (an unknown dollar excess is judged by the percentage)."""
    usd_ok = ~np.isfinite(excess_usd) | (np.abs(excess_usd) >= th.min_excess_usd)
    return usd_ok & (np.abs(excess_pct) >= th.min_excess_pct)


def detect_anomalies(df: pd.DataFrame, thresholds: AnomalyThresholds | None = None) -> pd.DataFrame:
    """All anomaly findings for the canonical table *df*, most severe first.

    Columns :data:`ANOMALY_COLUMNS`: ``run_id, rule, metric, observed, baseline, threshold,
    score, pipeline, detail, run_ids, start_time, run_cost_usd, excess_usd, excess_pct,
    reason``. One row per finding; ``run_ids`` lists the runs a finding concerns (one
    run, or a pipeline-week's failed runs); ``baseline`` is what was expected (volume,
    weekday and month-end allowed for), ``excess_usd`` the run's cost above (negative:
    below) that expectation (NaN when the cost is unknown), ``reason`` one plain sentence.
    Notes on what could not be done are in ``result.attrs["notes"]``; the rules as
    stated (:func:`describe_rules`) in ``result.attrs["rules"]``.

    Raises:
        ValueError: when *thresholds* are out of range or both directions are off (the message
            lists every problem, from :meth:`AnomalyThresholds.validate`).
    """
    th = thresholds or AnomalyThresholds()
    bad = th.validate()
    if bad:
        raise ValueError("; ".join(bad))
    n = len(df)
    if n == 0:
        out = empty_anomalies()
        out.attrs["rules"] = describe_rules(th)
        return out
    notes: list[str] = []
    codes, names, note = _groups(df)
    if note:
        notes.append(note)
    k = len(names)
    failed = failed_mask(df)
    dur = df["duration_min"].to_numpy(dtype=float, na_value=np.nan)
    cost = df["cost_usd"].to_numpy(dtype=float, na_value=np.nan)
    run_ids = df["run_id"]
    start = datetime_ns(df["start_time"])  # no copy
    use_vol = th.use_volume and has_values(df, "data_processed_gb")
    if use_vol:
        gb = df["data_processed_gb"].to_numpy(dtype=float, na_value=np.nan)
    else:
        gb = np.zeros(n)
        notes.append("Durations and costs are compared without allowing for data volume ("
                     + ("switched off" if not th.use_volume else "this source has no data-volume column")
                     + "): a run that processed more data may be flagged for that alone.")
    # duration rules need no cost: a source without prices still has its slow runs found
    valid = np.isfinite(dur) & (dur > 0) & np.isfinite(gb)
    unknown_cost = ~np.isfinite(cost)
    if unknown_cost.any():
        notes.append(f"{int(unknown_cost.sum()):,} run(s) have no known cost: the cost rules skip them and their "
                     "slow-run findings show the excess in dollars as unknown.")
    fit = valid & ~failed
    n_base = np.bincount(codes[fit], minlength=k)
    scored_group = n_base >= th.min_baseline_runs
    small = np.flatnonzero(~scored_group & (np.bincount(codes, minlength=k) > 0))
    if small.size:
        notes.append(f"{small.size} pipeline(s) have fewer than {th.min_baseline_runs} successful runs and are not "
                     f"scored by the z-score rules: " + ", ".join(map(str, names[small][:5]))
                     + (" …" if small.size > 5 else "") + ".")
    scored = valid & scored_group[codes]
    season = season_class(start) if th.seasonal else None
    week, n_weeks = week_index(start) if th.weekly_level else (None, 0)
    parts: list[pd.DataFrame] = []

    cells: dict = {}  # (group codes id, kind) -> cell index per run, shared by the rules

    def seasonal_z(resid, gcodes, gk, base):
        """Robust z of *resid* after the pipeline's weekday / month-end pattern and weekly level;
        (z, med, adj per row)."""
        adj = np.zeros(n)
        if season is None and week is None:
            z, med, _, _ = robust_z(resid, gcodes, gk, base, th.min_spread)
            return z, med, adj
        vb, cb = resid[base], gcodes[base]  # the pipeline's median and spread, on the baseline rows only
        pmed = np.nan_to_num(group_median(vb, cb, gk))
        pspread = np.nan_to_num(np.maximum(_MAD_TO_SD * group_median(np.abs(vb - pmed[cb]), cb, gk), th.min_spread))
        if season is not None:
            key = (id(gcodes), "season")
            if key not in cells:
                cells[key] = (gcodes * N_CLASSES + season).astype(np.int32)  # a few thousand cells
            adj = season_adjustment(resid, gcodes, gk, season, base, pmed, pspread)[cells[key]]
        if week is not None:  # the level of the pipeline that week (after its seasons), shrunk by its noise
            key = (id(gcodes), "week")
            if key not in cells:
                cells[key] = (gcodes * n_weeks + week).astype(np.int32)  # pipelines x weeks cells
            adj += season_adjustment(resid - adj, gcodes, gk, week, base, pmed, pspread,
                                     n_classes=n_weeks)[cells[key]]
        z, med, _, _ = robust_z(resid - adj, gcodes, gk, base, th.min_spread)
        return z, med, adj

    # --- duration vs volume -----------------------------------------------------------------------------
    fit_s = baseline_sample(fit, codes, k, th.baseline_sample)
    a, b = fit_startup_throughput(gb, dur, codes, k, fit_s)
    expected = np.maximum(a[codes] + b[codes] * gb, 1e-9)
    with np.errstate(divide="ignore", invalid="ignore"):
        r_dur = np.log(dur / expected)
    r_dur = np.where(valid, r_dur, 0.0)
    z, med, adj_d = seasonal_z(r_dur, codes, k, fit_s)
    hit = np.flatnonzero(scored & _direction(th, z, th.z_threshold))
    if hit.size:
        base = expected[hit] * np.exp(med[codes[hit]] + adj_d[hit])
        with np.errstate(divide="ignore", invalid="ignore"):
            ex_usd = cost[hit] * (1.0 - base / dur[hit])
        ex_pct = (dur[hit] / base - 1.0) * 100.0
        keep = _floors(th, ex_usd, ex_pct)
        hit, base, ex_usd, ex_pct = hit[keep], base[keep], ex_usd[keep], ex_pct[keep]
    if hit.size:
        vol_txt = (np.char.add(np.char.add(" for ", np.round(gb[hit], 1).astype(str)), " GB")
                   if use_vol else "")
        detail = np.char.add(np.char.add(np.char.add(
            np.char.add("took ", np.round(dur[hit] / base, 1).astype(str)), "× the usual"), vol_txt),
            np.char.add(" (z ", np.char.add(np.round(z[hit], 1).astype(str), ")")))
        reason = _reasons("duration_z", hit, dur[hit], base, ex_usd, gb, use_vol,
                          _season_text(season is not None, season, hit, adj_d[hit]))
        parts.append(_frame(hit, "duration_z", "duration_min", dur[hit], base, th.z_threshold, z[hit],
                            names, codes, run_ids, start, detail, cost, ex_usd, ex_pct, reason))
    # 1M-run arrays this rule alone used, freed before the next rule's (peak memory; issue 15 item 8)
    del r_dur, z, med, adj_d, fit, fit_s, scored
    cells.clear()  # the later rules group by (pipeline, spot) cells, not by pipeline

    # --- cost per minute (spot / on-demand separately) ----------------------------------------------------
    if has_values(df, "spot"):
        spot = df["spot"].to_numpy(dtype=float, na_value=np.nan)
        sk = np.where(np.isnan(spot), 2, spot).astype(np.int64)
        del spot
        ccodes = codes * 3 + sk
        del sk
    else:
        ccodes = codes * 3
    kc = k * 3
    cvalid = valid & ~unknown_cost & (np.nan_to_num(cost) > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(cvalid, np.log(cost / dur), 0.0)
    cbase = cvalid & ~failed
    cnt_rate = np.bincount(ccodes[cbase], minlength=kc)
    cbase = baseline_sample(cbase, ccodes, kc, th.baseline_sample)
    z_rate, med_rate, adj_r = seasonal_z(rate, ccodes, kc, cbase)
    cscored = cvalid & (cnt_rate[ccodes] >= th.min_baseline_runs) & scored_group[codes]
    hit = np.flatnonzero(cscored & _direction(th, z_rate, th.z_threshold))
    if hit.size:
        base = np.exp(med_rate[ccodes[hit]] + adj_r[hit])
        obs = cost[hit] / dur[hit]
        ex_usd = (obs - base) * dur[hit]
        ex_pct = (obs / base - 1.0) * 100.0
        keep = _floors(th, ex_usd, ex_pct)
        hit, base, obs, ex_usd, ex_pct = hit[keep], base[keep], obs[keep], ex_usd[keep], ex_pct[keep]
    if hit.size:
        detail = np.char.add(np.char.add("cost ", np.round(obs / base, 1).astype(str)), "× the usual per minute")
        reason = _reasons("cost_rate_z", hit, obs, base, ex_usd, gb, use_vol,
                          _season_text(season is not None, season, hit, adj_r[hit]))
        parts.append(_frame(hit, "cost_rate_z", "cost_per_min", obs, base, th.z_threshold, z_rate[hit],
                            names, codes, run_ids, start, detail, cost, ex_usd, ex_pct, reason))
    del rate, z_rate, adj_r

    # --- cost vs volume: expected duration x usual cost per minute ---------------------------------------
    exp_cost = expected * np.exp(med_rate[ccodes])
    with np.errstate(divide="ignore", invalid="ignore"):
        r_cost = np.where(cvalid, np.log(cost / exp_cost), 0.0)
    np.nan_to_num(r_cost, copy=False)  # in place: r_cost is ours
    z_c, med_c, adj_c = seasonal_z(r_cost, ccodes, kc, cbase)
    hit = np.flatnonzero(cscored & _direction(th, z_c, th.z_threshold))
    if hit.size:
        base = exp_cost[hit] * np.exp(med_c[ccodes[hit]] + adj_c[hit])
        ex_usd = cost[hit] - base
        ex_pct = (cost[hit] / base - 1.0) * 100.0
        keep = _floors(th, ex_usd, ex_pct)
        hit, base, ex_usd, ex_pct = hit[keep], base[keep], ex_usd[keep], ex_pct[keep]
    if hit.size:
        detail = np.char.add(np.char.add("cost ", np.round(cost[hit] / base, 1).astype(str)),
                             "× the usual for its data volume" if use_vol else "× the usual")
        reason = _reasons("cost_z", hit, cost[hit], base, ex_usd, gb, use_vol,
                          _season_text(season is not None, season, hit, adj_c[hit]))
        parts.append(_frame(hit, "cost_z", "cost_usd", cost[hit], base, th.z_threshold, z_c[hit],
                            names, codes, run_ids, start, detail, cost, ex_usd, ex_pct, reason))
    del exp_cost, r_cost, z_c, med_c, ccodes, cvalid, cbase, cscored
    cells.clear()

    # --- cost spike vs trailing mean ------------------------------------------------------------------------
    # the trailing mean is scaled to this run's expected level: its volume, and its weekday / month-end
    e = np.where(valid, expected, np.nan)
    del expected
    if season is not None:
        e *= np.exp(adj_c)
    parts.append(_cost_spikes(th, codes, names, start, cost, e, run_ids, use_vol, gb, season, adj_c))
    del e, adj_c

    # --- failure-rate jump week over week -------------------------------------------------------------------
    parts.append(_failure_jumps(th, codes, names, start, failed, run_ids, cost, season))

    parts = [p for p in parts if p is not None and len(p)]
    out = pd.concat(parts, ignore_index=True) if parts else empty_anomalies()
    if len(out):
        out = out.sort_values(["score", "run_id"], ascending=[False, True], kind="stable").reset_index(drop=True)
    out.attrs["notes"] = notes
    out.attrs["thresholds"] = th.to_dict()
    out.attrs["rules"] = describe_rules(th)
    return out


def _cost_spikes(th: AnomalyThresholds, codes, names, start, cost, expected, run_ids, use_vol, gb, season,
                 adj) -> pd.DataFrame | None:
    known = np.isfinite(cost)
    if not known.all():  # unknown cost is not $0: the window runs over the runs with a known cost
        sub = np.flatnonzero(known)
        if not sub.size:
            return None
        got = _cost_spikes(th, codes[sub], names, start[sub], cost[sub], expected[sub], run_ids.iloc[sub],
                           use_vol, gb[sub], None if season is None else season[sub], adj[sub])
        return got
    n = len(codes)
    w = th.spike_window
    t = start.view(np.int64)
    tsec = t - t.min()
    tsec //= 10**9
    # one stable argsort on a combined integer key: pipeline first, then start time (rows already in that
    # order, as generators and exports usually are, sort in linear time)
    key = codes * (int(tsec.max()) + 1)
    key += tsec
    del tsec
    order = np.argsort(key, kind="stable")
    del key
    identity = bool((order[1:] > order[:-1]).all())
    c = codes if identity else codes[order]
    pos = np.arange(n)
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(c[1:], c[:-1], out=new[1:])
    gstart = np.where(new, pos, 0)
    np.maximum.accumulate(gstart, out=gstart)
    pos -= gstart
    ready = pos >= w  # runs with a full window of earlier runs of the same pipeline
    del pos, gstart, new, c
    if not ready.any():
        return None
    x = cost if identity else cost[order]

    def window_sums(v: np.ndarray) -> np.ndarray:
        cs = np.zeros(n + 1)
        np.cumsum(v, out=cs[1:])
        out = np.zeros(n)
        np.subtract(cs[w:n], cs[:n - w], out=out[w:])  # sum of the w values before each position
        return out

    sum_x = window_sums(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        if use_vol or season is not None:
            e = expected if identity else expected[order]
            e = np.where(np.isfinite(e) & (e > 0), e, 0.0)
            # trailing mean cost, scaled by this run's expected cost over the window's mean expected cost
            base = sum_x * e
            del sum_x
            base /= window_sums(e)
            del e
        else:
            base = sum_x / w
        ratio = x / base
    ok = ready & np.isfinite(ratio) & (base > 0)
    hit_mask = ok & (ratio >= th.spike_factor) if th.rises else np.zeros(n, dtype=bool)
    if th.falls:
        hit_mask |= ok & (ratio <= 1.0 / th.spike_factor)
    hit_s = np.flatnonzero(hit_mask)
    if not hit_s.size:
        return None
    r, b = ratio[hit_s], base[hit_s]
    hit = order[hit_s]
    ex_usd = cost[hit] - b
    ex_pct = (r - 1.0) * 100.0
    keep = _floors(th, ex_usd, ex_pct)
    if not keep.any():
        return None
    hit, r, b, ex_usd, ex_pct = hit[keep], r[keep], b[keep], ex_usd[keep], ex_pct[keep]
    detail = np.char.add(np.char.add("cost ", np.round(r, 1).astype(str)),
                         f"× the trailing mean of the last {w} runs" + (", scaled to its volume" if use_vol else ""))
    reason = _reasons("cost_spike", hit, cost[hit], b, ex_usd, gb, use_vol,
                      _season_text(season is not None, season, hit, adj[hit] if season is not None else hit * 0.0))
    reason = [s.replace("averaged", f"averaged ({w} runs)", 1) for s in reason]
    return _frame(hit, "cost_spike", "cost_usd", cost[hit], b, th.spike_factor, r,
                  names, codes, run_ids, start, detail, cost, ex_usd, ex_pct, reason)


def _failure_jumps(th: AnomalyThresholds, codes, names, start, failed, run_ids, cost, season=None
                   ) -> pd.DataFrame | None:
    """Failure-rate jumps week over week; with *season*, the week before is raised by the rise its
    pipeline usually shows between such weeks (its failure rate per season class over the whole
    history, averaged over each week's runs), so a month-end week that always fails more is not flagged."""
    from scipy.special import ndtr  # SciPy when a test needs it, not with the window's pages (issue 15 item 8)

    k = len(names)
    ns = np.asarray(start, dtype="datetime64[ns]").view(np.int64)  # no copy
    week = (ns - np.datetime64("1970-01-05", "ns").astype(np.int64)) // (7 * 86_400 * 10**9)
    w0 = int(week.min())
    nw = int(week.max()) - w0 + 1
    cell = codes * nw + (week - w0)
    runs = np.bincount(cell, minlength=k * nw).reshape(k, nw)
    fails = np.bincount(cell, weights=failed, minlength=k * nw).reshape(k, nw)
    known = np.isfinite(cost)
    fcost = np.bincount(cell, weights=np.where(failed & known, cost, 0.0), minlength=k * nw).reshape(k, nw)
    fknown = np.bincount(cell, weights=failed & known, minlength=k * nw).reshape(k, nw)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(runs > 0, fails / np.maximum(runs, 1), np.nan)
    prev_rate = np.full_like(rate, np.nan)
    prev_rate[:, 1:] = rate[:, :-1]
    seasonal_rise = np.zeros_like(rate)
    if season is not None:
        # the pipeline's failure rate per season class from the *other* weeks (a week's own failures must
        # not explain themselves away); a class with fewer than 10 such runs uses the pipeline's rate
        sc = codes * N_CLASSES + season
        all_runs = np.bincount(sc, minlength=k * N_CLASSES).astype(float)
        all_fails = np.bincount(sc, weights=failed, minlength=k * N_CLASSES)
        wc = cell * N_CLASSES + season
        wk_runs = np.bincount(wc, minlength=k * nw * N_CLASSES).astype(float)
        wk_fails = np.bincount(wc, weights=failed, minlength=k * nw * N_CLASSES)
        other_runs = all_runs.reshape(k, 1, N_CLASSES) - wk_runs.reshape(k, nw, N_CLASSES)
        other_fails = all_fails.reshape(k, 1, N_CLASSES) - wk_fails.reshape(k, nw, N_CLASSES)
        p_runs = other_runs.sum(axis=2, keepdims=True)
        p_rate = other_fails.sum(axis=2, keepdims=True) / np.maximum(p_runs, 1)
        p_cls = np.where(other_runs >= 10, other_fails / np.maximum(other_runs, 1), p_rate)
        expected = (p_cls * wk_runs.reshape(k, nw, N_CLASSES)).sum(axis=2) / np.maximum(runs, 1)
        base_rate = p_rate[:, :, 0]
        # the rise a week of this make-up usually shows over one like the week before
        rise = (expected - base_rate)[:, 1:] - (expected - base_rate)[:, :-1]
        seasonal_rise[:, 1:] = np.round(np.nan_to_num(rise), 12)  # no float dust on an even week
        prev_rate = prev_rate + seasonal_rise
    prev_runs = np.zeros_like(runs)
    prev_runs[:, 1:] = runs[:, :-1]
    jump = (rate - prev_rate) * 100
    hit = (runs >= th.failure_min_runs) & (prev_runs >= th.failure_min_runs) & (jump >= th.failure_jump_pp)
    if th.failure_p_value < 1.0 and hit.any():
        # one-sided two-proportion z-test with the pooled rate (Fleiss, Levin & Paik, Statistical Methods for
        # Rates and Proportions, 3rd ed., 2003, section 2.2)
        prev_fails = np.zeros_like(fails)
        prev_fails[:, 1:] = fails[:, :-1]
        with np.errstate(divide="ignore", invalid="ignore"):
            pooled = (fails + prev_fails) / np.maximum(runs + prev_runs, 1)
            se = np.sqrt(pooled * (1 - pooled) * (1 / np.maximum(runs, 1) + 1 / np.maximum(prev_runs, 1)))
            z = np.where(se > 0, (rate - prev_rate) / se, np.inf)
        hit &= ndtr(-z) < th.failure_p_value
    gi, wi = np.nonzero(hit)
    if not gi.size:
        return None
    hit_cells = gi * nw + wi
    sel = failed & np.isin(cell, hit_cells)
    idx = np.flatnonzero(sel)
    cells = cell[idx]
    order = np.argsort(cells, kind="stable")
    idx, cells = idx[order], cells[order]
    bounds = np.searchsorted(cells, hit_cells)
    ends = np.searchsorted(cells, hit_cells, side="right")
    ids = _take_ids(run_ids, idx)
    week_start = (np.datetime64("1970-01-05", "D") + (wi + w0) * 7).astype("datetime64[D]")
    extra_failed = (rate[gi, wi] - prev_rate[gi, wi]) * runs[gi, wi]
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_failed_cost = np.where(fknown[gi, wi] > 0, fcost[gi, wi] / fknown[gi, wi], np.nan)
    excess = extra_failed * mean_failed_cost
    rows = pd.DataFrame({
        "run_id": [ids[s] for s in bounds],
        "rule": "failure_rate_jump", "metric": "failure_rate",
        "observed": rate[gi, wi], "baseline": prev_rate[gi, wi],
        "threshold": th.failure_jump_pp / 100.0, "score": jump[gi, wi],
        "pipeline": names[gi].astype(str),
        "detail": [f"week of {ws}: {int(fails[g, w])} of {int(runs[g, w])} runs failed "
                   f"({rate[g, w] * 100:.1f} %) against {prev_rate[g, w] * 100:.1f} % expected from the week "
                   f"before (+{jump[g, w]:.1f} points)"
                   for g, w, ws in zip(gi, wi, week_start)],
        "run_ids": [list(ids[s:e]) for s, e in zip(bounds, ends)],
        "start_time": week_start.astype("datetime64[ns]"),
        "run_cost_usd": np.nan,
        # the failed runs beyond the week before's rate, at this week's mean cost of a failed run
        "excess_usd": excess,
        "excess_pct": (rate[gi, wi] / np.where(prev_rate[gi, wi] > 0, prev_rate[gi, wi], np.nan) - 1.0) * 100.0,
        "reason": [f"In the week of {ws}, {int(fails[g, w])} of {int(runs[g, w])} runs failed "
                   f"({rate[g, w] * 100:.1f} %), against {prev_rate[g, w] * 100:.1f} % expected from the week before"
                   + (f" (its usual {seasonal_rise[g, w] * 100:+.1f} points for such a week allowed for)"
                      if abs(seasonal_rise[g, w]) >= 0.005 else "") + ": about "
                   f"{(rate[g, w] - prev_rate[g, w]) * runs[g, w]:.0f} more failed runs"
                   + (f", {_money(x)} of wasted compute." if np.isfinite(x) else ".")
                   for g, w, ws, x in zip(gi, wi, week_start, excess)],
    })
    return rows


# --------------------------------------------------------------------------- scoring

def flagged_runs(anomalies: pd.DataFrame, rules=RUN_RULES) -> set[str]:
    """Run IDs flagged by any of *rules* (default: the run-level rules, not failure-rate jumps)."""
    if anomalies is None or not len(anomalies):
        return set()
    return set(anomalies.loc[anomalies["rule"].isin(list(rules)), "run_id"].astype(str))


def score_detection(df: pd.DataFrame, anomalies: pd.DataFrame, rules=RUN_RULES) -> dict:
    """Precision and recall of run-level detection against ``injected_anomaly`` ground truth.

    A run counts as predicted anomalous when any rule in *rules* flags it.
    Failure-rate-jump findings concern pipeline-weeks, not runs, and are left out.

    Returns ``{"true_positives", "false_positives", "false_negatives": int, "precision", "recall":
    fraction or None when undefined}``.

    Raises:
        ValueError: when *df* has no ``injected_anomaly`` ground truth (only generated data has).
    """
    if not has_values(df, "injected_anomaly"):
        raise ValueError("no ground truth: the data has no 'Injected Anomaly' column")
    truth = df["injected_anomaly"].fillna(False).to_numpy(dtype=bool)
    pred = df["run_id"].astype(str).isin(flagged_runs(anomalies, rules)).to_numpy()
    tp = int((truth & pred).sum())
    fp = int((~truth & pred).sum())
    fn = int((truth & ~pred).sum())
    return {"true_positives": tp, "false_positives": fp, "false_negatives": fn,
            "precision": tp / (tp + fp) if tp + fp else None, "recall": tp / (tp + fn) if tp + fn else None}
