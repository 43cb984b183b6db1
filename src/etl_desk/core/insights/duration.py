"""Duration insights: percentiles and spread per status and pipeline, throughput."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from etl_desk.core.insights.base import TOP_N, Insight, _Ctx, _group_sums, _ids, num


def _spread(x: np.ndarray) -> dict:
    if x.size == 0:
        return {"Runs": 0, "p10": None, "p50": None, "p90": None, "p95": None, "Mean": None, "CV": None}
    p10, p50, p90, p95 = np.percentile(x, [10, 50, 90, 95])
    mean = float(x.mean())
    sd = float(x.std(ddof=1)) if x.size > 1 else 0.0
    return {"Runs": int(x.size), "p10": p10, "p50": p50, "p90": p90, "p95": p95, "Mean": mean,
            "CV": sd / mean if mean else None}


#: Units of the duration-spread tables.
SPREAD_UNITS = {"Runs": "count", "p10 (min)": "min", "p50 (min)": "min", "p90 (min)": "min", "p95 (min)": "min",
                "Mean (min)": "min", "CV": "number", "p90/p10": "ratio"}


def _r(x, d=2):
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else round(float(x), d)


def _duration_insights(ctx: _Ctx) -> tuple[list[Insight], dict]:
    ok = ~np.isnan(ctx.dur)
    rows = {"Success": _spread(ctx.dur[ok & ~ctx.failed]), "Failed": _spread(ctx.dur[ok & ctx.failed]),
            "All": _spread(ctx.dur[ok])}
    ev = pd.DataFrame([{"Status": k, "Runs": v["Runs"], "p50 (min)": _r(v["p50"], 1), "p90 (min)": _r(v["p90"], 1),
                        "p95 (min)": _r(v["p95"], 1), "Mean (min)": _r(v["Mean"], 1), "CV": _r(v["CV"], 2)}
                       for k, v in rows.items()])
    s, fa, al = rows["Success"], rows["Failed"], rows["All"]
    head = (f"Durations: p50 {num(al['p50'])} min, p90 {num(al['p90'])}, p95 {num(al['p95'])} min "
            f"(coefficient of variation {num(al['CV'], 2)}).")
    if s["Runs"] and fa["Runs"]:
        head += (f" Successful runs: p50 {num(s['p50'])} / p95 {num(s['p95'])} min, CV {num(s['CV'], 2)}; "
                 f"failed runs: p50 {num(fa['p50'])} / p95 {num(fa['p95'])} min, CV {num(fa['CV'], 2)} — "
                 f"failed runs' durations {'vary more' if (fa['CV'] or 0) > (s['CV'] or 0) else 'vary no more'} "
                 f"than successful ones'.")
    out = [Insight("duration.by_status", "duration", "info", "Duration spread by status", head, evidence=ev,
                   run_ids=_ids(ctx, ok & ctx.failed), units=SPREAD_UNITS)]
    by_pipe = _duration_by_group(ctx)
    out.append(by_pipe[0])
    out.append(_throughput(ctx))
    return out, {"overall": al, "group_table": by_pipe[1]}


def group_quantiles(values: np.ndarray, codes: np.ndarray, k: int, qs) -> pd.DataFrame:
    """Quantiles *qs* (linear interpolation, :func:`numpy.quantile`'s default and pandas'
    ``groupby().quantile()``'s) of *values* per group code 0..k-1: one row per code, one column
    per quantile; NaN for a code without values. *values* has no NaN; *codes* are all >= 0.

    One stable sort by code, then each group's slice: ~16 MB of temporaries at 1M values where
    pandas' grouped quantile took ~57 MB (issue 15 item 8).
    """
    qs = list(qs)
    out = np.full((k, len(qs)), np.nan)
    by_code = values[np.argsort(codes, kind="stable")]
    bounds = np.searchsorted(np.sort(codes), np.arange(k + 1))
    for g in range(k):
        seg = by_code[bounds[g]:bounds[g + 1]]
        if len(seg):
            out[g] = np.quantile(seg, qs)
    return pd.DataFrame(out, columns=qs)


def _group_duration_table(ctx: _Ctx) -> pd.DataFrame | None:
    if ctx.group_codes is None:
        return None
    codes = ctx.group_codes
    ok = (codes >= 0) & ~np.isnan(ctx.dur)
    v = ctx.dur[ok]
    c = codes[ok]
    k = len(ctx.group_names)
    q = group_quantiles(v, c, k, (0.1, 0.5, 0.9, 0.95))
    cnt, sm, sq = _group_sums(c, k, v, v ** 2)
    mean = np.divide(sm, cnt, out=np.full(k, np.nan), where=cnt > 0)
    var = np.divide(sq - cnt * mean ** 2, cnt - 1, out=np.full(k, np.nan), where=cnt > 1)
    sd = np.sqrt(np.clip(var, 0, None))
    t = pd.DataFrame({ctx.group_label.capitalize(): ctx.group_names, "Runs": cnt.astype(int),
                      "p10 (min)": q[0.1].to_numpy().round(1), "p50 (min)": q[0.5].to_numpy().round(1),
                      "p90 (min)": q[0.9].to_numpy().round(1), "p95 (min)": q[0.95].to_numpy().round(1),
                      "Mean (min)": mean.round(1), "CV": np.divide(sd, mean, out=np.full(k, np.nan),
                                                                   where=mean > 0).round(2)})
    t["p90/p10"] = (t["p90 (min)"] / t["p10 (min)"].where(t["p10 (min)"] > 0)).round(2)
    return t[t["Runs"] > 0].reset_index(drop=True)


def _duration_by_group(ctx: _Ctx) -> tuple[Insight, pd.DataFrame | None]:
    title = "Duration spread per pipeline"
    t = _group_duration_table(ctx)
    if t is None:
        return Insight("duration.by_pipeline", "duration", "info", title,
                       "Cannot break durations down per pipeline: " + ctx.group_note + ".",
                       missing=ctx.group_note), None
    t = t.sort_values("CV", ascending=False, kind="stable").reset_index(drop=True)
    lab = ctx.group_label
    top = t.iloc[0]
    head = (f"{len(t):,} {lab}s: median CV {t['CV'].median():.2f}; the most variable is {top.iloc[0]} "
            f"(CV {top['CV']:.2f}, p50 {top['p50 (min)']:,.1f} min, p95 {top['p95 (min)']:,.1f} min); the slowest p95 "
            f"is {t.loc[t['p95 (min)'].idxmax()].iloc[0]} at {t['p95 (min)'].max():,.1f} min.")
    if lab != "pipeline":
        head = f"No pipeline names, so per {lab}: " + head
    name_idx = {str(nm): i for i, nm in enumerate(ctx.group_names)}
    sel = ctx.group_codes == name_idx.get(str(top.iloc[0]), -2)
    return Insight("duration.by_pipeline", "duration", "notice" if top["CV"] > 1 else "info", title, head,
                   evidence=t.head(TOP_N * 3), run_ids=_ids(ctx, sel),
                   missing=ctx.group_note if lab != "pipeline" else None, units=SPREAD_UNITS), t


def _throughput(ctx: _Ctx) -> Insight:
    title = "Throughput (GB per minute)"
    if ctx.gb is None:
        return Insight("duration.throughput", "duration", "info", title, "Throughput cannot be computed.",
                       missing="this source has no data-volume column (Data Processed (GB))")
    ok = ~np.isnan(ctx.gb) & (ctx.dur > 0)
    okf = ok & ~ctx.failed
    overall = ctx.gb[okf].sum() / ctx.dur[okf].sum() if okf.any() else float("nan")
    if ctx.group_codes is None:
        tp = np.full(ctx.n, np.nan)
        tp[ok] = ctx.gb[ok] / ctx.dur[ok]
        overall_all = ctx.gb[ok].sum() / ctx.dur[ok].sum() if ok.any() else float("nan")
        ev = pd.DataFrame({"Group": ["All runs", "Successful runs"],
                           "Runs": [int(ok.sum()), int(okf.sum())],
                           "GB per min (total)": [round(overall_all, 3), round(overall, 3) if okf.any() else None],
                           "Median GB per min": [round(float(np.median(tp[ok])), 3) if ok.any() else None,
                                                 round(float(np.median(tp[okf])), 3) if okf.any() else None]})
        head = (f"Throughput {overall_all:,.2f} GB per minute over all runs (median run {ev.iloc[0, 3]} GB/min). "
                f"No per-pipeline breakdown: {ctx.group_note}.")
        return Insight("duration.throughput", "duration", "info", title, head, evidence=ev, missing=ctx.group_note,
                       units={"Runs": "count", "GB per min (total)": "gb_per_min",
                              "Median GB per min": "gb_per_min"})
    codes, k = ctx.group_codes, len(ctx.group_names)
    m = okf & (codes >= 0)
    cnt, gb, mins = _group_sums(np.where(m, codes, -1), k, np.nan_to_num(ctx.gb), np.nan_to_num(ctx.dur))
    rate = np.divide(gb, mins, out=np.full(k, np.nan), where=mins > 0)
    ev = pd.DataFrame({ctx.group_label.capitalize(): ctx.group_names, "Successful runs": cnt.astype(int),
                       "GB processed": gb.round(1), "Minutes": mins.round(1), "GB per min (total)": rate.round(3)})
    ev = ev[ev["Successful runs"] > 0].sort_values("GB per min (total)", kind="stable").reset_index(drop=True)
    if ev.empty:
        return Insight("duration.throughput", "duration", "info", title, "No successful runs with a volume.",
                       missing="needs successful runs with a data volume")
    lo, hi = ev.iloc[0], ev.iloc[-1]
    head = (f"Successful runs move {overall:,.2f} GB per minute overall; the slowest {ctx.group_label} is "
            f"{lo.iloc[0]} at {lo['GB per min (total)']:,.3f} GB/min, the fastest {hi.iloc[0]} at "
            f"{hi['GB per min (total)']:,.3f} GB/min.")
    return Insight("duration.throughput", "duration", "info", title, head, evidence=ev.head(TOP_N * 3),
                   missing=ctx.group_note if ctx.group_label != "pipeline" else None,
                   units={"Successful runs": "count", "GB processed": "gb", "Minutes": "min",
                          "GB per min (total)": "gb_per_min"})
