"""The engine's queries on an in-memory canonical DataFrame, with pandas and NumPy.

This is the ``--engine pandas`` path and the reference the DuckDB and Spark
results are checked against: same definitions as :mod:`.queries` and
:meth:`.engine.Engine.anomaly_scores`, computed without any SQL engine.
KPIs are the project's own :func:`~etl_desk.core.insights.kpis.compute_kpis`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import sketch
from ._project import FAILED, NO_NAME, AnomalyThresholds, compute_kpis
from .engine import MAD_TO_SD, fit_from_sums
from .queries import GRAINS, MIN_MINUTES
from .rules import Rule


def _sel(df: pd.DataFrame, rule: Rule | None) -> pd.DataFrame:
    return df if rule is None or rule.is_all else df[rule.mask(df)]


def kpis(df: pd.DataFrame, rule: Rule | None = None) -> dict:
    """:func:`~etl_desk.core.insights.kpis.compute_kpis` of the runs of *rule*."""
    return compute_kpis(_sel(df, rule))


def _key(df: pd.DataFrame, grain: str) -> pd.Series:
    start = df["start_time"]
    if grain == "day":
        return start.dt.floor("D")
    if grain == "week":
        return (start.dt.floor("D") - pd.to_timedelta(start.dt.day_of_week, unit="D"))
    if grain == "month":
        return start.dt.to_period("M").dt.start_time
    if grain == "pipeline":
        return df["job_name"].astype("object").fillna(NO_NAME)
    if grain == "status":
        return df["status"].astype("object")
    if grain == "source":
        return df["source_system"].astype("object")
    raise ValueError(f"unknown grain {grain!r}; use one of: {', '.join(GRAINS)}")


def rollup(df: pd.DataFrame, grain: str, rule: Rule | None = None) -> pd.DataFrame:
    """Same columns and order as :meth:`.engine.Engine.rollup`."""
    d = _sel(df, rule)
    f = (d["status"].astype("object") == FAILED).to_numpy()
    cost = d["cost_usd"].to_numpy(dtype=float, na_value=np.nan)
    gb = d["data_processed_gb"].to_numpy(dtype=float, na_value=np.nan)
    dur = d["duration_min"].to_numpy(dtype=float, na_value=np.nan)
    x = pd.DataFrame({
        "key": _key(d, grain).to_numpy(), "runs": 1, "failed_runs": f.astype(np.int64),
        "cost_known": (~np.isnan(cost)).astype(np.int64), "cost_usd": cost, "failed_cost_usd": np.where(f, cost, np.nan),
        "data_processed_gb": gb, "failed_data_processed_gb": np.where(f, gb, np.nan),
        "duration_min": dur, "failed_duration_min": np.where(f, dur, np.nan),
    })
    g = x.groupby("key", sort=True, dropna=False)
    out = g[["runs", "failed_runs", "cost_known"]].sum()
    for c in ("cost_usd", "failed_cost_usd", "data_processed_gb", "failed_data_processed_gb", "duration_min",
              "failed_duration_min"):
        out[c] = g[c].sum(min_count=1)
    return out.reset_index()


def _median_by(keys: np.ndarray, values: np.ndarray, exact: bool) -> dict:
    if not len(values):
        return {}
    if exact:
        s = pd.Series(values).groupby(keys, sort=False).median()
        return dict(zip(s.index, s.to_numpy()))
    return sketch.grouped_quantiles(keys, sketch.linear_bucket(values), np.ones(len(values), np.int64), 0.5,
                                    kind="linear")


def anomaly_scores(df: pd.DataFrame, rule: Rule | None = None, thresholds=None, exact: bool = True
                   ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The robust z of every run as in :meth:`.engine.Engine.anomaly_scores`.

    Returns ``(stats, z, flagged)``: stats per pipeline key (key, n_base, a, b,
    mean_gb, med, mad, spread, scored); z and flagged arrays aligned with the
    selected rows of *df*.
    """
    th = thresholds or AnomalyThresholds()
    d = _sel(df, rule)
    keys = d["job_name"].astype("object").fillna(NO_NAME).to_numpy()
    dur = d["duration_min"].to_numpy(dtype=float, na_value=np.nan)
    gb = d["data_processed_gb"].to_numpy(dtype=float, na_value=np.nan)
    base = (d["status"].astype("object") != FAILED).to_numpy() & (dur > 0)
    has_x = base & ~np.isnan(gb)
    parts = pd.DataFrame({"key": keys[base], "x": np.where(has_x, gb, np.nan)[base], "y": dur[base],
                          "hx": has_x[base]})
    parts["xy"] = parts["x"] * parts["y"]
    parts["xx"] = parts["x"] * parts["x"]
    parts["yx"] = np.where(parts["hx"], parts["y"], np.nan)
    g = parts.groupby("key", sort=True)
    sums = pd.DataFrame({"n": g.size(), "n_x": g["hx"].sum(), "sx": g["x"].sum(), "sy": g["yx"].sum(),
                         "sxy": g["xy"].sum(), "sxx": g["xx"].sum(), "sy_all": g["y"].sum()}).reset_index()
    fit = fit_from_sums(sums).set_index("key")
    a = fit["a"].reindex(keys).to_numpy()
    b = fit["b"].reindex(keys).to_numpy()
    mean_gb = fit["mean_gb"].reindex(keys).to_numpy()
    x = np.where(np.isnan(gb), mean_gb, gb)
    x = np.nan_to_num(x, nan=0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = np.maximum(a + b * x, MIN_MINUTES)
        r = np.log(np.maximum(dur, MIN_MINUTES)) - np.log(expected)
    med = _median_by(keys[base], r[base], exact)
    medr = np.array([med.get(k, np.nan) for k in keys], dtype=float)
    dev = np.abs(r - medr)
    mad = _median_by(keys[base], dev[base], exact)
    stats = fit.reset_index()[["key", "n", "a", "b", "mean_gb"]].rename(columns={"n": "n_base"})
    stats["med"] = stats["key"].map(med)
    stats["mad"] = stats["key"].map(mad)
    stats["spread"] = np.maximum(MAD_TO_SD * stats["mad"].to_numpy(dtype=float), th.min_spread)
    stats["scored"] = (stats["n_base"] >= th.min_baseline_runs) & stats["med"].notna()
    st = stats.set_index("key")
    spread = st["spread"].reindex(keys).to_numpy(dtype=float)
    scored = st["scored"].reindex(keys).fillna(False).to_numpy(dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (r - medr) / spread
    flagged = scored & (z > th.z_threshold)
    return stats, z, flagged
