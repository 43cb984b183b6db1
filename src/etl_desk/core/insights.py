"""Insights: findings with numbers, evidence and the runs they concern.

Every insight is an :class:`Insight` with an area (cost, data volume, duration,
case study), a severity, a headline sentence that carries the numbers, a small
evidence table, the run IDs it concerns (so the window can select them), a
verdict for the case study's three claims, and -- when the data cannot support
it -- what is missing and why.

All work is vectorised (NumPy / pandas groupby); nothing loops over runs.
Statistical tests use :mod:`scipy.stats`.

Insight IDs (stable; the UI and tests refer to them):

=========================  ============  =====================================================
id                         area          what
=========================  ============  =====================================================
cost.failed_share          cost          failed-run cost and its share of the total
cost.failed_vs_success     cost          average cost of a failed versus a successful run
cost.retry                 cost          cost of retries (attempt > 1)
cost.top_pipelines         cost          pipelines by cost and by failed cost
cost.top_runs              cost          the most expensive runs and the most expensive failures
cost.per_tb                cost          cost per TB processed by status and source system
cost.week_over_week        cost          last complete week against the week before
cost.run_rate              cost          annualised run-rate of total and failed cost
cost.anomalies             cost          summary of cost anomalies (when anomalies are given)
volume.failure_by_band     data volume   failure rate by volume quintile + chi-square test
volume.failed_vs_success   data volume   volumes of failed vs successful runs + Mann-Whitney U
duration.by_status         duration      p50/p90/p95 and CV per status
duration.by_pipeline       duration      p50/p90/p95 and CV per pipeline
duration.throughput        duration      GB per minute per pipeline
duration.anomalies         duration      summary of duration anomalies (when anomalies are given)
case.failed_cost           case study    "Failed jobs add to cost"               confirmed/refuted
case.volume_extremes       case study    "Failures occur at small and large data volumes"
case.duration_spread       case study    "Job durations vary widely"
=========================  ============  =====================================================
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from . import fmt as _fmt
from .kpis import GB_PER_TB, compute_kpis, failed_mask
from .schema import has_values

AREAS = ("case study", "cost", "data volume", "duration")
SEVERITIES = ("info", "notice", "warning", "critical")
VERDICTS = ("confirmed", "refuted")

#: Significance level used to turn a p-value into a yes/no sentence.
ALPHA = 0.05
#: Number of volume bands (quintiles).
VOLUME_BANDS = 5
#: "Durations vary widely" when the slowest tenth of runs takes at least this
#: many times as long as the fastest tenth (p90 / p10) ...
WIDE_SPREAD_RATIO = 2.0
#: ... or the coefficient of variation is at least this.
WIDE_SPREAD_CV = 0.5
#: Rows in an evidence table listing pipelines or runs.
TOP_N = 10


@dataclass
class Insight:
    id: str
    area: str  # 'cost' | 'data volume' | 'duration' | 'case study'
    severity: str  # 'info' | 'notice' | 'warning' | 'critical'
    title: str
    headline: str
    evidence: pd.DataFrame = field(default_factory=pd.DataFrame)
    run_ids: list[str] = field(default_factory=list)
    verdict: str | None = None  # 'confirmed' | 'refuted' | None
    missing: str | None = None


# --------------------------------------------------------------------------- words

def usd(x: float | None) -> str:
    return _fmt.usd(x, missing="n/a")


def cents(x):
    """Money rounded to the cent as a spreadsheet shows it (scalars, arrays and Series)."""
    if x is None:
        return None
    if isinstance(x, pd.Series):
        return x.map(lambda v: v if pd.isna(v) else float(_fmt.money_round(v)))
    if isinstance(x, np.ndarray):
        return np.array([v if not np.isfinite(v) else float(_fmt.money_round(v)) for v in x.astype(float)])
    return x if not math.isfinite(float(x)) else float(_fmt.money_round(x))


def pct(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x * 100:.{digits}f} %"


def num(x: float | None, digits: int = 1) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:,.{digits}f}"


def chance_in_words(p: float) -> str:
    """'about 43 in 100', 'about 1 in 250', 'less than 1 in 1,000,000'."""
    if not math.isfinite(p):
        return "an unknown number of times"
    if p >= 0.095:
        return f"about {round(p * 100):.0f} in 100 times"
    if p >= 0.001:
        return f"about 1 in {1 / p:,.0f} times"
    if p >= 1e-6:
        return "less than 1 in 1,000 times"
    return "less than 1 in a million times"


def explain_p(p: float, effect: str, cause: str) -> str:
    """A p-value in words a manager understands.

    >>> explain_p(0.43, "failures", "data volume")  # doctest: +ELLIPSIS
    'If data volume made no difference to failures, ... no evidence that ...'
    """
    ptxt = f"p = {p:.3g}" if p >= 0.001 else "p < 0.001"
    base = (f"If {cause} made no difference to {effect}, a pattern at least this strong would "
            f"turn up by chance {chance_in_words(p)} ({ptxt})")
    if p < ALPHA:
        return base + f": strong evidence that {effect} depend on {cause}."
    return base + f": no evidence that {effect} depend on {cause}."


# --------------------------------------------------------------------------- statistics

def chi_square_independence(table) -> dict:
    """Pearson chi-square test of independence of a contingency table (no continuity correction).

    Rows/columns that are all zero are dropped first (they carry no information and
    would make the expected counts zero). Returns ``{chi2, p, dof, expected}`` with
    ``p = nan`` when fewer than two rows or columns remain.
    """
    t = np.asarray(table, dtype=float)
    t = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0] if t.size else t
    if t.ndim != 2 or t.shape[0] < 2 or t.shape[1] < 2:
        return {"chi2": float("nan"), "p": float("nan"), "dof": 0, "expected": None}
    res = stats.chi2_contingency(t, correction=False)
    return {"chi2": float(res.statistic), "p": float(res.pvalue), "dof": int(res.dof),
            "expected": res.expected_freq}


def volume_bands(volume: np.ndarray, bands: int = VOLUME_BANDS) -> tuple[np.ndarray, np.ndarray]:
    """Assign each volume to a quantile band 0..k-1; returns (band, edges incl. min and max).

    Ties at an edge go to the upper band; duplicate edges (heavily tied data) collapse.
    """
    v = np.asarray(volume, dtype=float)
    inner = np.unique(np.quantile(v, np.linspace(0, 1, bands + 1)[1:-1])) if v.size else np.array([])
    band = np.searchsorted(inner, v, side="right")
    edges = np.concatenate([[v.min()], inner, [v.max()]]) if v.size else np.array([])
    return band, edges


def failure_by_volume_band(volume, failed, bands: int = VOLUME_BANDS) -> dict:
    """Failure counts and rate per volume band and the chi-square test of independence.

    Returns ``{table: DataFrame, chi2, p, dof}``; *table* has one row per band.
    """
    v = np.asarray(volume, dtype=float)
    f = np.asarray(failed, dtype=bool)
    band, edges = volume_bands(v, bands)
    k = len(edges) - 1
    runs = np.bincount(band, minlength=k)
    fails = np.bincount(band, weights=f, minlength=k).astype(int)
    test = chi_square_independence(np.vstack([fails, runs - fails]))
    labels = [f"Q{i + 1}" if k == bands else f"B{i + 1}" for i in range(k)]
    table = pd.DataFrame({
        "Volume band": labels,
        "From (GB)": np.round(edges[:-1], 2),
        "To (GB)": np.round(edges[1:], 2),
        "Runs": runs,
        "Failed": fails,
        "Failure rate (%)": np.round(np.divide(fails, runs, out=np.zeros(k), where=runs > 0) * 100, 2),
    })
    return {"table": table, "chi2": test["chi2"], "p": test["p"], "dof": test["dof"], "band": band}


#: Above this many runs the Mann-Whitney test uses one NumPy sort and the normal
#: approximation (the same formula scipy's ``method="asymptotic"`` uses, with tie
#: and continuity corrections) instead of :func:`scipy.stats.mannwhitneyu`, which
#: takes about 0.3 s for a million runs.
MWU_FAST_ABOVE = 20_000


def _mwu_asymptotic(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """U of *a* and the two-sided p-value by the normal approximation (ties averaged)."""
    n1, n2 = a.size, b.size
    n = n1 + n2
    s = np.sort(np.concatenate([a, b]))
    # average 1-based rank of each value of a: (number below) + (ties + 1) / 2
    lo = np.searchsorted(s, a, side="left")
    hi = np.searchsorted(s, a, side="right")
    r1 = float(((lo + hi + 1) / 2.0).sum())
    starts = np.r_[0, np.flatnonzero(s[1:] != s[:-1]) + 1]
    counts = np.diff(np.r_[starts, n])
    u1 = r1 - n1 * (n1 + 1) / 2.0
    u = max(u1, n1 * n2 - u1)
    tie = float((counts.astype(float) ** 3 - counts).sum())
    sd = math.sqrt(n1 * n2 / 12.0 * ((n + 1) - tie / (n * (n - 1))))
    if sd == 0:
        return u1, 1.0
    z = (u - n1 * n2 / 2.0 - 0.5) / sd
    return u1, float(min(2.0 * stats.norm.sf(z), 1.0))


def mann_whitney_volumes(failed_volumes, ok_volumes) -> dict:
    """Two-sided Mann-Whitney U test: do failed runs process different volumes than successful ones?

    ``U`` is the statistic of the failed sample (number of (failed, successful) pairs
    where the failed run had more data, ties counting one half). Small samples use
    :func:`scipy.stats.mannwhitneyu` (exact p-values where scipy chooses them).
    """
    a = np.asarray(failed_volumes, dtype=float)
    b = np.asarray(ok_volumes, dtype=float)
    if a.size == 0 or b.size == 0:
        return {"U": float("nan"), "p": float("nan"), "effect": float("nan")}
    if a.size + b.size > MWU_FAST_ABOVE:
        u, p = _mwu_asymptotic(a, b)
        return {"U": u, "p": p, "effect": u / (a.size * b.size)}
    res = stats.mannwhitneyu(a, b, alternative="two-sided")
    u = float(res.statistic)
    # probability that a random failed run processed more data than a random successful one
    return {"U": u, "p": float(res.pvalue), "effect": u / (a.size * b.size)}


# --------------------------------------------------------------------------- context

@dataclass
class _Ctx:
    df: pd.DataFrame
    n: int
    failed: np.ndarray
    cost: np.ndarray
    dur: np.ndarray
    gb: np.ndarray | None
    rid: pd.Series  # run_id column (converted to Python strings only where needed)
    group_codes: np.ndarray | None  # pipeline codes (or source system); -1 = none
    group_names: np.ndarray | None
    group_label: str  # "pipeline" or "source system"
    group_note: str | None
    kpis: dict


def _codes(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(s.dtype, pd.CategoricalDtype):
        used = s.cat.remove_unused_categories()
        return used.cat.codes.to_numpy().astype(np.int64), np.asarray(used.cat.categories, dtype=object)
    codes, uniques = pd.factorize(s, sort=True)
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)


def pipeline_groups(df: pd.DataFrame) -> tuple[np.ndarray | None, np.ndarray | None, str, str | None]:
    """(codes, names, label, note): pipelines, else source systems, else None, with a note saying so."""
    if has_values(df, "job_name"):
        codes, names = _codes(df["job_name"])
        note = None
        if (codes < 0).any():
            note = f"{int((codes < 0).sum()):,} runs have no pipeline name and are left out of per-pipeline figures"
        return codes, names, "pipeline", note
    if has_values(df, "source_system"):
        codes, names = _codes(df["source_system"])
        return codes, names, "source system", ("this data has no pipeline names (Job Name is empty); "
                                                "figures per source system are shown instead")
    return None, None, "pipeline", ("this data has no pipeline names (Job Name is empty) and no source system; "
                                    "figures are for all runs together")


def _ctx(df: pd.DataFrame, kpis: dict | None = None) -> _Ctx:
    n = len(df)
    gb = None
    if has_values(df, "data_processed_gb"):
        gb = df["data_processed_gb"].to_numpy(dtype=float, na_value=np.nan)
    codes, names, label, note = pipeline_groups(df)
    return _Ctx(df=df, n=n, failed=failed_mask(df),
                cost=np.nan_to_num(df["cost_usd"].to_numpy(dtype=float, na_value=np.nan)),
                dur=df["duration_min"].to_numpy(dtype=float, na_value=np.nan), gb=gb,
                rid=df["run_id"],
                group_codes=codes, group_names=names, group_label=label, group_note=note,
                kpis=kpis if kpis is not None else compute_kpis(df))


def _rid(ctx: _Ctx, idx) -> np.ndarray:
    """Run IDs at positions (or boolean mask) *idx* as a str object array."""
    idx = np.asarray(idx)
    if idx.dtype == bool:
        idx = np.flatnonzero(idx)
    return np.asarray(ctx.rid.iloc[idx].astype(str).to_numpy(dtype=object), dtype=object)


_ID_CACHE_ATTR = "_etl_desk_failed_ids"


def _ids(ctx: _Ctx, mask_or_idx) -> list[str]:
    m = np.asarray(mask_or_idx)
    if m.dtype == bool and m.shape == ctx.failed.shape and np.array_equal(m, ctx.failed):
        # the failed runs are listed by several insights: convert them once
        cached = getattr(ctx, _ID_CACHE_ATTR, None)
        if cached is None:
            cached = _rid(ctx, m).tolist()
            setattr(ctx, _ID_CACHE_ATTR, cached)
        return cached
    return _rid(ctx, m).tolist()


def _group_sums(codes: np.ndarray, k: int, *weights: np.ndarray) -> list[np.ndarray]:
    """Count and weighted sums per group code 0..k-1 (code -1 = left out)."""
    ok = codes >= 0
    if ok.all():
        return [np.bincount(codes, minlength=k).astype(float)] + \
            [np.bincount(codes, weights=w, minlength=k) for w in weights]
    c = codes[ok]
    out = [np.bincount(c, minlength=k).astype(float)]
    for w in weights:
        out.append(np.bincount(c, weights=w[ok], minlength=k))
    return out


# --------------------------------------------------------------------------- cost

def _share_severity(share: float | None) -> str:
    if share is None:
        return "info"
    if share >= 0.15:
        return "critical"
    if share >= 0.05:
        return "warning"
    if share >= 0.01:
        return "notice"
    return "info"


def _cost_insights(ctx: _Ctx) -> list[Insight]:
    k, out = ctx.kpis, []
    n, nf = k["runs"], k["failed_runs"]
    share = k["failed_cost_share"]
    ev = pd.DataFrame({
        "Status": ["Success", "Failed", "All"],
        "Runs": [n - nf, nf, n],
        "Cost (USD)": [cents(k["total_cost_usd"] - k["failed_cost_usd"]), cents(k["failed_cost_usd"]),
                       cents(k["total_cost_usd"])],
        "Share of cost (%)": [round((1 - share) * 100, 2) if share is not None else None,
                              round(share * 100, 2) if share is not None else None, 100.0],
    })
    out.append(Insight(
        id="cost.failed_share", area="cost", severity=_share_severity(share),
        title="What failed runs cost",
        headline=(f"{nf:,} of {n:,} runs failed ({pct(k['failure_rate'])}); they cost {usd(k['failed_cost_usd'])}, "
                  f"{pct(share)} of the total {usd(k['total_cost_usd'])}, and produced nothing usable."),
        evidence=ev, run_ids=_ids(ctx, ctx.failed)))

    af, asu = k["avg_cost_failed_usd"], k["avg_cost_success_usd"]
    if af is None or asu is None:
        out.append(Insight("cost.failed_vs_success", "cost", "info", "Cost of a failed versus a successful run",
                           "Cannot compare: the data has " + ("no failed runs." if af is None else
                                                              "no successful runs."),
                           missing="needs both failed and successful runs"))
    else:
        ratio = af / asu if asu else float("nan")
        more = "more" if ratio > 1 else "less"
        med_f = float(np.median(ctx.cost[ctx.failed]))
        med_s = float(np.median(ctx.cost[~ctx.failed]))
        out.append(Insight(
            id="cost.failed_vs_success", area="cost", severity="notice" if ratio > 1.2 else "info",
            title="Cost of a failed versus a successful run",
            headline=(f"A failed run cost {usd(af)} on average against {usd(asu)} for a successful run "
                      f"({num(ratio, 2)}×, {abs(ratio - 1) * 100:.0f} % {more}); medians {usd(med_f)} and "
                      f"{usd(med_s)}."),
            evidence=pd.DataFrame({"Status": ["Success", "Failed"], "Runs": [n - nf, nf],
                                   "Average cost (USD)": [round(asu, 4), round(af, 4)],
                                   "Median cost (USD)": [round(med_s, 4), round(med_f, 4)]}),
            run_ids=_ids(ctx, ctx.failed)))

    # retries
    att = ctx.df["attempt"].to_numpy(dtype=float, na_value=1.0) if "attempt" in ctx.df.columns else np.ones(n)
    retry = att > 1
    if not retry.any():
        out.append(Insight("cost.retry", "cost", "info", "Cost of retries",
                           "No retries recorded: every run is a first attempt.", run_ids=[],
                           missing="this source records no retries (every run is attempt 1), so retry cost "
                                   "is zero or unknown"))
    else:
        rc = float(ctx.cost[retry].sum())
        levels = np.clip(att.astype(np.int64), 1, None)
        lv = np.unique(levels[retry])
        rows = [{"Attempt": int(a), "Runs": int((levels == a).sum()),
                 "Cost (USD)": cents(float(ctx.cost[levels == a].sum())),
                 "Failed": int((ctx.failed & (levels == a)).sum())} for a in lv]
        rshare = rc / k["total_cost_usd"] if k["total_cost_usd"] else None
        out.append(Insight(
            "cost.retry", "cost", _share_severity(rshare), "Cost of retries",
            (f"{int(retry.sum()):,} runs were retries (attempt 2 or later); they cost {usd(rc)}, "
             f"{pct(rshare)} of the total — money spent re-doing work that had already failed once."),
            evidence=pd.DataFrame(rows), run_ids=_ids(ctx, retry)))

    out.append(_top_pipelines(ctx))
    out.append(_top_runs(ctx))
    out.append(_cost_per_tb(ctx))
    out.append(_week_over_week(ctx))
    out.append(_run_rate(ctx))
    return out


def _top_pipelines(ctx: _Ctx) -> Insight:
    title = "Where the money goes: top pipelines"
    if ctx.group_codes is None:
        return Insight("cost.top_pipelines", "cost", "info", title,
                       "Cannot rank pipelines: " + (ctx.group_note or "no pipeline names") + ".",
                       missing=ctx.group_note + "; see the top runs instead")
    names, codes = ctx.group_names, ctx.group_codes
    cnt, cost, fcost, fails = _group_sums(codes, len(names), ctx.cost, ctx.cost * ctx.failed,
                                          ctx.failed.astype(float))
    total = ctx.kpis["total_cost_usd"] or float("nan")
    ev = pd.DataFrame({ctx.group_label.capitalize(): names, "Runs": cnt.astype(int), "Failed": fails.astype(int),
                       "Cost (USD)": cents(cost), "Failed cost (USD)": cents(fcost),
                       "Share of cost (%)": (cost / total * 100).round(2)})
    ev = ev.sort_values("Cost (USD)", ascending=False, kind="stable").head(TOP_N).reset_index(drop=True)
    top = int(np.argmax(cost))
    topf = int(np.argmax(fcost))
    top3 = np.sort(cost)[::-1][:3].sum()
    label = ctx.group_label
    head = (f"The most expensive {label} is {names[top]} at {usd(cost[top])} ({pct(cost[top] / total)} of "
            f"the total); the top 3 account for {pct(top3 / total)}. The largest failed cost is "
            f"{names[topf]}'s {usd(fcost[topf])} over {int(fails[topf]):,} failed runs.")
    if ctx.group_note and label != "pipeline":
        head = f"No pipeline names, so by {label}: " + head
    return Insight("cost.top_pipelines", "cost", "notice" if top3 / total > 0.5 else "info", title, head,
                   evidence=ev, run_ids=_ids(ctx, (codes == topf) & ctx.failed),
                   missing=ctx.group_note if label != "pipeline" else None)


def _top_runs(ctx: _Ctx) -> Insight:
    n = ctx.n
    m = min(TOP_N, n)
    top = np.argpartition(-ctx.cost, m - 1)[:m] if n else np.array([], dtype=int)
    top = top[np.argsort(-ctx.cost[top], kind="stable")]
    fidx = np.flatnonzero(ctx.failed)
    mf = min(TOP_N, fidx.size)
    topf = fidx[np.argpartition(-ctx.cost[fidx], mf - 1)[:mf]] if mf else np.array([], dtype=int)
    topf = topf[np.argsort(-ctx.cost[topf], kind="stable")]
    rows = np.concatenate([top, topf])
    ev = pd.DataFrame({
        "Ranking": ["Most expensive"] * len(top) + ["Most expensive failure"] * len(topf),
        "Job ID": _rid(ctx, rows),
        "Start": ctx.df["start_time"].to_numpy()[rows],
        "Status": np.where(ctx.failed[rows], "Failed", "Success"),
        "Duration (min)": np.round(ctx.dur[rows], 1),
        "Cost (USD)": cents(ctx.cost[rows]),
    })
    if ctx.group_codes is not None:
        ev.insert(2, ctx.group_label.capitalize(),
                  np.where(ctx.group_codes[rows] >= 0, ctx.group_names[np.maximum(ctx.group_codes[rows], 0)], ""))
    total = ctx.kpis["total_cost_usd"] or float("nan")
    head = (f"The {len(top)} most expensive runs cost {usd(ctx.cost[top].sum())} "
            f"({pct(ctx.cost[top].sum() / total)} of the total); the costliest, {_rid(ctx, top[:1])[0]}, "
            f"cost {usd(ctx.cost[top[0]])}." if n else "No runs.")
    if mf:
        head += f" The costliest failure, {_rid(ctx, topf[:1])[0]}, cost {usd(ctx.cost[topf[0]])}."
    return Insight("cost.top_runs", "cost", "info", "Most expensive runs", head, evidence=ev,
                   run_ids=_ids(ctx, np.unique(rows)))


def _cost_per_tb(ctx: _Ctx) -> Insight:
    title = "Cost per TB processed"
    if ctx.gb is None:
        return Insight("cost.per_tb", "cost", "info", title, "Cost per TB cannot be computed.",
                       missing="this source has no data-volume column (Data Processed (GB))")
    known = ~np.isnan(ctx.gb)
    rows = []
    # one pass: sums per (source system, status) cell
    if has_values(ctx.df, "source_system"):
        scodes, snames = _codes(ctx.df["source_system"])
    else:
        scodes, snames = np.zeros(ctx.n, dtype=np.int64), np.array([], dtype=object)
    ns = max(len(snames), 1)
    cell = np.where(known & (scodes >= 0), np.maximum(scodes, 0) * 2 + ctx.failed, -1)
    cnt, gb, cost = _group_sums(cell, ns * 2, np.nan_to_num(ctx.gb), ctx.cost)
    cnt, gb, cost = (x.reshape(ns, 2) for x in (cnt, gb, cost))

    def row(group: str, value: str, c_: float, g_: float, n_: float):
        tb = g_ / GB_PER_TB
        rows.append({"Group": group, "Value": value, "Runs": int(n_), "TB": round(tb, 3),
                     "Cost (USD)": cents(c_), "Cost per TB (USD)": cents(c_ / tb) if tb > 0 else None})

    # runs without a source system still count in All and per status
    nosrc = known & (scodes < 0)
    extra = [(float(ctx.cost[nosrc & ~ctx.failed].sum()), float(ctx.gb[nosrc & ~ctx.failed].sum()),
              float((nosrc & ~ctx.failed).sum())),
             (float(ctx.cost[nosrc & ctx.failed].sum()), float(ctx.gb[nosrc & ctx.failed].sum()),
              float((nosrc & ctx.failed).sum()))] if nosrc.any() else [(0.0, 0.0, 0.0)] * 2
    ok_ = [cost[:, 0].sum() + extra[0][0], gb[:, 0].sum() + extra[0][1], cnt[:, 0].sum() + extra[0][2]]
    bad_ = [cost[:, 1].sum() + extra[1][0], gb[:, 1].sum() + extra[1][1], cnt[:, 1].sum() + extra[1][2]]
    row("All", "All runs", ok_[0] + bad_[0], ok_[1] + bad_[1], ok_[2] + bad_[2])
    row("Status", "Success", *ok_)
    row("Status", "Failed", *bad_)
    for i, nm in enumerate(snames):
        row("Source system", str(nm), cost[i].sum(), gb[i].sum(), cnt[i].sum())
    ev = pd.DataFrame(rows)
    all_, ok, bad = (ev["Cost per TB (USD)"].iloc[i] for i in range(3))
    head = f"Processing cost {usd(all_)} per TB overall: {usd(ok)} per TB for successful runs"
    head += f" and {usd(bad)} per TB for failed runs" if bad is not None else ""
    srcs = ev[ev["Group"] == "Source system"]
    if len(srcs):
        head += "; by source system " + ", ".join(f"{r.Value} {usd(r._6)}" for r in srcs.itertuples()
                                                  if r._6 is not None)
    head += "."
    missing = None
    if not known.all():
        missing = f"{int((~known).sum()):,} runs have no data volume and are left out"
    return Insight("cost.per_tb", "cost", "info", title, head, evidence=ev, missing=missing)


def _week_index(start: pd.Series) -> np.ndarray:
    """Weeks since Monday 1970-01-05 (ISO weeks start on Monday)."""
    ns = start.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    return (ns - np.datetime64("1970-01-05", "ns").astype(np.int64)) // (7 * 86_400 * 10**9)


def _week_start(w: np.ndarray | int) -> pd.DatetimeIndex:
    return pd.to_datetime(np.datetime64("1970-01-05", "D") + np.asarray(w, dtype=np.int64) * 7)


def complete_weeks(week: np.ndarray, start: pd.Series) -> tuple[int, int] | None:
    """First and last week index fully covered by the data (runs on its first and last day)."""
    if not len(week):
        return None
    t0, t1 = start.min(), start.max()
    first, last = int(week.min()), int(week.max())
    if t0.normalize() > _week_start([first])[0]:
        first += 1
    if t1.normalize() < _week_start([last])[0] + pd.Timedelta(days=6):
        last -= 1
    return (first, last) if last >= first else None


def _week_over_week(ctx: _Ctx) -> Insight:
    title = "Week over week"
    start = ctx.df["start_time"]
    if ctx.n == 0 or start.isna().all():
        return Insight("cost.week_over_week", "cost", "info", title, "No start times.", missing="no start times")
    week = _week_index(start)
    w0 = int(week.min())
    k = int(week.max()) - w0 + 1
    rel = week - w0
    cnt = np.bincount(rel, minlength=k)
    cost = np.bincount(rel, weights=ctx.cost, minlength=k)
    fcost = np.bincount(rel, weights=ctx.cost * ctx.failed, minlength=k)
    fails = np.bincount(rel, weights=ctx.failed, minlength=k).astype(int)
    weeks = _week_start(np.arange(w0, w0 + k))
    full = complete_weeks(week, start)
    complete = np.zeros(k, dtype=bool)
    if full:
        complete[full[0] - w0: full[1] - w0 + 1] = True
    ev = pd.DataFrame({"Week starting": weeks.date, "Complete": complete, "Runs": cnt, "Failed": fails,
                       "Cost (USD)": cents(cost), "Failed cost (USD)": cents(fcost)}).tail(TOP_N + 2)
    if not full or full[1] - full[0] < 1:
        return Insight("cost.week_over_week", "cost", "info", title,
                       "Fewer than two complete weeks of data: no week-over-week comparison.",
                       evidence=ev.reset_index(drop=True), missing="needs at least two complete weeks of runs")
    a, b = full[1] - w0 - 1, full[1] - w0
    ch = (cost[b] - cost[a]) / cost[a] if cost[a] else float("nan")
    chf = fcost[b] - fcost[a]
    sev = "warning" if ch > 0.25 else ("notice" if ch > 0.10 else "info")  # NaN (no cost before): info
    if cost[a] > 0:
        change = f"{'up' if ch >= 0 else 'down'} {abs(ch) * 100:.1f} % on the week before ({usd(cost[a])})"
    else:
        change = "against no cost the week before"
    head = (f"Week of {weeks[b]:%d %b %Y} (last complete week): cost {usd(cost[b])}, {change}; "
            f"failed cost {usd(fcost[b])} "
            f"({'+' if chf >= 0 else '−'}{usd(abs(chf))}), {fails[b]:,} failed of {cnt[b]:,} runs.")
    return Insight("cost.week_over_week", "cost", sev, title, head, evidence=ev.reset_index(drop=True),
                   run_ids=_ids(ctx, (rel == b) & ctx.failed))


def _run_rate(ctx: _Ctx) -> Insight:
    k = ctx.kpis
    days = k["span_days"]
    title = "Annualised run-rate"
    if not days or days <= 0:
        return Insight("cost.run_rate", "cost", "info", title, "The data spans no time; no run-rate.",
                       missing="needs runs over more than one moment in time")
    days_eff = max(days, 1.0)
    per_day, fper_day = k["total_cost_usd"] / days_eff, k["failed_cost_usd"] / days_eff
    ev = pd.DataFrame({"Period": ["Observed", "Per day", "Per month (30.4 d)", "Per year (365 d)"],
                       "Days": [round(days, 1), 1, 30.4, 365],
                       "Cost (USD)": [cents(k["total_cost_usd"]), cents(per_day), cents(per_day * 30.4),
                                      round(per_day * 365, 2)],
                       "Failed cost (USD)": [cents(k["failed_cost_usd"]), cents(fper_day),
                                             round(fper_day * 30.4, 2), round(fper_day * 365, 2)]})
    head = (f"Over {days:,.1f} days the runs cost {usd(k['total_cost_usd'])}: a run-rate of "
            f"{usd(per_day * 365)} a year, of which failed runs {usd(fper_day * 365)} a year.")
    return Insight("cost.run_rate", "cost", "info", title, head, evidence=ev)


# --------------------------------------------------------------------------- data volume

def _volume_insights(ctx: _Ctx) -> tuple[list[Insight], dict | None]:
    why = "this source has no data-volume column (Data Processed (GB))"
    if ctx.gb is None:
        return [Insight("volume.failure_by_band", "data volume", "info", "Failure rate by data volume",
                        "Failure rate by data volume cannot be computed.", missing=why),
                Insight("volume.failed_vs_success", "data volume", "info", "Volumes of failed and successful runs",
                        "Volumes of failed and successful runs cannot be compared.", missing=why)], None
    known = ~np.isnan(ctx.gb)
    v, f = ctx.gb[known], ctx.failed[known]
    res = failure_by_volume_band(v, f)
    tab = res["table"]
    p = res["p"]
    lo, hi = tab.iloc[0], tab.iloc[-1]
    worst = tab.iloc[int(tab["Failure rate (%)"].to_numpy().argmax())]
    if math.isnan(p):
        words = "A test is not possible: " + ("no failed runs." if not f.any() else "all runs failed."
                                              if f.all() else "too few distinct volumes.")
    else:
        words = explain_p(p, "failures", "data volume")
    head = (f"Failure rate is {lo['Failure rate (%)']:.1f} % in the smallest-volume fifth "
            f"(≤ {lo['To (GB)']:,.0f} GB) and {hi['Failure rate (%)']:.1f} % in the largest "
            f"(≥ {hi['From (GB)']:,.0f} GB); highest in {worst['Volume band']} at {worst['Failure rate (%)']:.1f} %. "
            f"Chi-square test of independence: χ² = {res['chi2']:.2f}, {res['dof']} degrees of freedom. {words}")
    sig = not math.isnan(p) and p < ALPHA
    ins = [Insight("volume.failure_by_band", "data volume", "warning" if sig else "info",
                   "Failure rate by data volume", head, evidence=tab,
                   run_ids=_ids(ctx, np.flatnonzero(known)[(res["band"] == int(worst.name)) & f]),
                   missing=(f"{int((~known).sum()):,} runs without a data volume are left out"
                            if not known.all() else None))]
    mw = mann_whitney_volumes(v[f], v[~f])
    if math.isnan(mw["p"]):
        ins.append(Insight("volume.failed_vs_success", "data volume", "info",
                           "Volumes of failed and successful runs", "Needs both failed and successful runs.",
                           missing="needs both failed and successful runs with a data volume"))
    else:
        vf, vs = v[f], v[~f]
        qf, qs = np.percentile(vf, [25, 50, 75]), np.percentile(vs, [25, 50, 75])
        mf, ms = float(qf[1]), float(qs[1])
        head = (f"Failed runs processed a median {mf:,.1f} GB against {ms:,.1f} GB for successful runs; a random "
                f"failed run processed more data than a random successful one in {mw['effect'] * 100:.0f} % of "
                f"pairs (Mann–Whitney U = {mw['U']:,.0f}). {explain_p(mw['p'], 'failures', 'data volume')}")
        ev = pd.DataFrame({"Status": ["Success", "Failed"], "Runs": [vs.size, vf.size],
                           "p25 (GB)": [round(qs[0], 2), round(qf[0], 2)],
                           "Median (GB)": [round(ms, 2), round(mf, 2)],
                           "p75 (GB)": [round(qs[2], 2), round(qf[2], 2)],
                           "Mean (GB)": [round(float(vs.mean()), 2), round(float(vf.mean()), 2)]})
        ins.append(Insight("volume.failed_vs_success", "data volume", "warning" if mw["p"] < ALPHA else "info",
                           "Volumes of failed and successful runs", head, evidence=ev,
                           run_ids=_ids(ctx, ctx.failed & ~np.isnan(ctx.gb))))
    return ins, {"bands": res, "mw": mw}


# --------------------------------------------------------------------------- duration

def _spread(x: np.ndarray) -> dict:
    if x.size == 0:
        return {"Runs": 0, "p10": None, "p50": None, "p90": None, "p95": None, "Mean": None, "CV": None}
    p10, p50, p90, p95 = np.percentile(x, [10, 50, 90, 95])
    mean = float(x.mean())
    sd = float(x.std(ddof=1)) if x.size > 1 else 0.0
    return {"Runs": int(x.size), "p10": p10, "p50": p50, "p90": p90, "p95": p95, "Mean": mean,
            "CV": sd / mean if mean else None}


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
                   run_ids=_ids(ctx, ok & ctx.failed))]
    by_pipe = _duration_by_group(ctx)
    out.append(by_pipe[0])
    out.append(_throughput(ctx))
    return out, {"overall": al, "group_table": by_pipe[1]}


def _group_duration_table(ctx: _Ctx) -> pd.DataFrame | None:
    if ctx.group_codes is None:
        return None
    codes = ctx.group_codes
    ok = (codes >= 0) & ~np.isnan(ctx.dur)
    s = pd.Series(ctx.dur[ok])
    c = codes[ok]
    q = s.groupby(c).quantile([0.1, 0.5, 0.9, 0.95]).unstack()
    k = len(ctx.group_names)
    cnt, sm, sq = _group_sums(c, k, s.to_numpy(), s.to_numpy() ** 2)
    mean = np.divide(sm, cnt, out=np.full(k, np.nan), where=cnt > 0)
    var = np.divide(sq - cnt * mean ** 2, cnt - 1, out=np.full(k, np.nan), where=cnt > 1)
    sd = np.sqrt(np.clip(var, 0, None))
    q = q.reindex(range(k))
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
                   missing=ctx.group_note if lab != "pipeline" else None), t


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
        return Insight("duration.throughput", "duration", "info", title, head, evidence=ev, missing=ctx.group_note)
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
                   missing=ctx.group_note if ctx.group_label != "pipeline" else None)


# --------------------------------------------------------------------------- case study

def _case_study(ctx: _Ctx, vol: dict | None, dur: dict) -> list[Insight]:
    k, out = ctx.kpis, []
    # 1. Failed jobs add to cost
    nf, fc = k["failed_runs"], k["failed_cost_usd"]
    verdict = "confirmed" if nf and fc > 0 else "refuted"
    if verdict == "confirmed":
        head = (f"Confirmed: {nf:,} of {k['runs']:,} runs failed and cost {usd(fc)}, {pct(k['failed_cost_share'])} "
                f"of the {usd(k['total_cost_usd'])} total — money spent for no output. A failed run cost "
                f"{usd(k['avg_cost_failed_usd'])} on average against {usd(k['avg_cost_success_usd'])} for a "
                f"successful one.")
    else:
        head = (f"Refuted: no failed run cost anything in this data ({nf:,} failed runs, failed cost {usd(fc)}).")
    out.append(Insight("case.failed_cost", "case study", _share_severity(k["failed_cost_share"]) if nf else "info",
                       "Case study insight 1: failed jobs add to cost", head,
                       evidence=pd.DataFrame({"Measure": ["Runs", "Failed runs", "Total cost (USD)",
                                                          "Failed cost (USD)", "Failed share of cost (%)"],
                                              "Value": [k["runs"], nf, cents(k["total_cost_usd"]), cents(fc),
                                                        _r((k["failed_cost_share"] or 0) * 100)]}),
                       run_ids=_ids(ctx, ctx.failed), verdict=verdict))

    # 2. Failures occur at both small and large volumes
    title2 = "Case study insight 2: failures occur at small and large data volumes"
    if vol is None:
        out.append(Insight("case.volume_extremes", "case study", "info", title2,
                           "Cannot be checked: this source has no data-volume column.",
                           missing="this source has no data-volume column (Data Processed (GB))"))
    else:
        tab = vol["bands"]["table"]
        lo, hi = tab.iloc[0], tab.iloc[-1]
        both = lo["Failed"] > 0 and hi["Failed"] > 0
        p = vol["bands"]["p"]
        verdict = "confirmed" if both else "refuted"
        indep = ("" if math.isnan(p) else
                 (" Failure rates differ between volume bands more than chance would explain (chi-square "
                  f"p = {p:.3g}), so volume matters." if p < ALPHA else
                  f" Failure rates do not differ between volume bands more than chance would explain (chi-square "
                  f"p = {p:.3g}): failures are not tied to volume."))
        head = (f"{'Confirmed' if both else 'Refuted'}: {int(lo['Failed'])} failures among the smallest fifth of runs "
                f"(≤ {lo['To (GB)']:,.0f} GB, {lo['Failure rate (%)']:.1f} %) and {int(hi['Failed'])} among the "
                f"largest fifth (≥ {hi['From (GB)']:,.0f} GB, {hi['Failure rate (%)']:.1f} %).{indep}")
        known = ~np.isnan(ctx.gb)
        band = vol["bands"]["band"]
        kmax = int(band.max()) if band.size else 0
        idx = np.flatnonzero(known)[((band == 0) | (band == kmax)) & ctx.failed[known]]
        out.append(Insight("case.volume_extremes", "case study", "info", title2, head, evidence=tab,
                           run_ids=_ids(ctx, idx), verdict=verdict))

    # 3. Durations vary widely
    t3 = "Case study insight 3: job durations vary widely"
    al = dur["overall"]
    gt = dur["group_table"]
    if al["Runs"] == 0:
        out.append(Insight("case.duration_spread", "case study", "info", t3, "No durations.",
                           missing="no durations"))
        return out
    ratio = al["p90"] / al["p10"] if al["p10"] else float("inf")
    if gt is not None and ctx.group_label == "pipeline" and len(gt):
        # within the same pipeline: the claim is about one job behaving differently run to run
        r_med = float(gt["p90/p10"].median())
        cv_med = float(gt["CV"].median())
        wide = r_med >= WIDE_SPREAD_RATIO or cv_med >= WIDE_SPREAD_CV
        head = (f"{'Confirmed' if wide else 'Refuted'} within pipelines: in the median pipeline the slowest tenth of "
                f"runs takes {r_med:.1f}× as long as the fastest tenth (CV {cv_med:.2f}); across all runs p10 "
                f"{num(al['p10'])} min, p50 {num(al['p50'])}, p90 {num(al['p90'])}, p95 {num(al['p95'])} min. "
                f"Rule: 'wide' means p90/p10 ≥ {WIDE_SPREAD_RATIO:g} or CV ≥ {WIDE_SPREAD_CV:g}.")
        ev = gt[["Pipeline", "Runs", "p10 (min)", "p50 (min)", "p90 (min)", "p90/p10", "CV"]] \
            .sort_values("p90/p10", ascending=False).head(TOP_N).reset_index(drop=True)
        missing = None
    else:
        wide = ratio >= WIDE_SPREAD_RATIO or (al["CV"] or 0) >= WIDE_SPREAD_CV
        head = (f"{'Confirmed' if wide else 'Refuted'}: durations run from p10 {num(al['p10'])} min to p90 "
                f"{num(al['p90'])} min — the slowest tenth of runs takes {ratio:.1f}× as long as the fastest tenth "
                f"(p50 {num(al['p50'])}, p95 {num(al['p95'])} min, CV {num(al['CV'], 2)}). "
                f"Rule: 'wide' means p90/p10 ≥ {WIDE_SPREAD_RATIO:g} or CV ≥ {WIDE_SPREAD_CV:g}. "
                f"Measured over all runs together because {ctx.group_note or 'there are no pipeline names'}.")
        ev = pd.DataFrame({"Measure": ["Runs", "p10 (min)", "p50 (min)", "p90 (min)", "p95 (min)", "p90/p10", "CV"],
                           "Value": [al["Runs"], _r(al["p10"], 1), _r(al["p50"], 1), _r(al["p90"], 1),
                                     _r(al["p95"], 1), _r(ratio), _r(al["CV"])]})
        missing = ctx.group_note
    sel = (ctx.dur >= al["p90"]) | (ctx.dur <= al["p10"])
    out.append(Insight("case.duration_spread", "case study", "notice" if wide else "info", t3, head, evidence=ev,
                       run_ids=_ids(ctx, sel), verdict="confirmed" if wide else "refuted", missing=missing))
    return out


# --------------------------------------------------------------------------- anomalies summary

def _anomaly_insights(ctx: _Ctx, anomalies: pd.DataFrame) -> list[Insight]:
    out = []
    if anomalies is None or len(anomalies) == 0:
        return out
    for area, metric, iid, title in (("duration", "duration", "duration.anomalies", "Unusually slow runs"),
                                     ("cost", "cost", "cost.anomalies", "Unusually expensive runs")):
        a = anomalies[anomalies["metric"].astype(str).str.startswith(metric)]
        if a.empty:
            continue
        a = a[a["rule"].isin(["duration_z", "cost_z", "cost_rate_z", "cost_spike"])]
        if a.empty:
            continue
        first = a.drop_duplicates("run_id")
        ids = first["run_id"].astype(str).tolist()
        by_rule = a.groupby("rule", sort=True).size()
        rules = ", ".join(f"{r}: {c:,}" for r, c in by_rule.items())
        extra = float(np.nansum(first["run_cost_usd"].to_numpy(dtype=float))) if "run_cost_usd" in a.columns \
            else float("nan")
        allow = "after allowing for data volume " if ctx.gb is not None else ""
        head = (f"{len(ids):,} runs are out of line with their {ctx.group_label}'s own history {allow}"
                f"({rules}); together they cost {usd(extra)}.")
        ev = a.sort_values("score", ascending=False).head(TOP_N)[
            ["run_id", "pipeline", "rule", "observed", "baseline", "score"]].rename(
            columns={"run_id": "Job ID", "pipeline": "Pipeline", "rule": "Rule", "observed": "Observed",
                     "baseline": "Expected", "score": "Score"}).reset_index(drop=True)
        out.append(Insight(iid, area, "warning" if len(ids) >= 10 else "notice", title, head, evidence=ev,
                           run_ids=ids))
    return out


# --------------------------------------------------------------------------- entry point

def compute_insights(df: pd.DataFrame, anomalies: pd.DataFrame | None = None, *,
                     kpis: dict | None = None) -> list[Insight]:
    """All insights for the canonical table *df* (case study first, then cost, data volume, duration).

    *anomalies* (from :func:`etl_desk.core.anomalies.detect_anomalies`) adds a summary
    insight per metric; *kpis* may be passed to avoid computing them twice.
    """
    if len(df) == 0:
        return [Insight("cost.failed_share", "cost", "info", "No runs", "There are no runs to analyse.",
                        missing="the table is empty")]
    ctx = _ctx(df, kpis)
    cost = _cost_insights(ctx)
    vol, vol_res = _volume_insights(ctx)
    dur, dur_res = _duration_insights(ctx)
    case = _case_study(ctx, vol_res, dur_res)
    an = _anomaly_insights(ctx, anomalies) if anomalies is not None else []
    cost += [i for i in an if i.area == "cost"]
    dur += [i for i in an if i.area == "duration"]
    return case + cost + vol + dur
