"""Cost insights: failed and retry spend, top pipelines and runs, cost per TB, week over week, run-rate."""
from __future__ import annotations

import numpy as np
import pandas as pd

from etl_desk.core.data.schema import has_values
from etl_desk.core.data.times import datetime_ns
from etl_desk.core.insights.base import (
    TOP_N,
    Insight,
    _codes,
    _Ctx,
    _group_sums,
    _ids,
    _rid,
    _share_severity,
    cents,
    num,
    pct,
    usd,
)
from etl_desk.core.conventions import DAYS_PER_YEAR, MONTHS_PER_YEAR
from etl_desk.core.insights.kpis import GB_PER_TB, attempt_known, retry_unknown_reason


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
        evidence=ev, run_ids=_ids(ctx, ctx.failed),
        units={"Runs": "count", "Cost (USD)": "usd", "Share of cost (%)": "percent"}))

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
            run_ids=_ids(ctx, ctx.failed),
            units={"Runs": "count", "Average cost (USD)": "usd", "Median cost (USD)": "usd"}))

    # retries: counted among the runs that record their attempt; none recorded -> unknown, not 0
    att, att_known = attempt_known(ctx.df)
    retry = att > 1
    partial = retry_unknown_reason(n, int(att_known.sum()))
    if not att_known.any():
        out.append(Insight("cost.retry", "cost", "info", "Cost of retries",
                           "Retry cost unknown: this source does not record attempts.", run_ids=[],
                           missing=partial))
    elif not retry.any():
        out.append(Insight("cost.retry", "cost", "info", "Cost of retries",
                           "No retries recorded: every run with an attempt is a first attempt.", run_ids=[],
                           missing=partial))
    else:
        rc = float(ctx.cost[retry].sum())
        levels = np.clip(np.nan_to_num(att, nan=0).astype(np.int64), 0, None)
        lv = np.unique(levels[retry])
        rows = [{"Attempt": int(a), "Runs": int((levels == a).sum()),
                 "Cost (USD)": cents(float(ctx.cost[levels == a].sum())),
                 "Failed": int((ctx.failed & (levels == a)).sum())} for a in lv]
        rshare = rc / k["total_cost_usd"] if k["total_cost_usd"] else None
        out.append(Insight(
            "cost.retry", "cost", _share_severity(rshare), "Cost of retries",
            (f"{int(retry.sum()):,} runs were retries (attempt 2 or later); they cost {usd(rc)}, "
             f"{pct(rshare)} of the total — money spent re-doing work that had already failed once."),
            evidence=pd.DataFrame(rows), run_ids=_ids(ctx, retry), missing=partial,
            units={"Attempt": "count", "Runs": "count", "Cost (USD)": "usd", "Failed": "count"}))

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
                   units={"Runs": "count", "Failed": "count", "Cost (USD)": "usd", "Failed cost (USD)": "usd",
                          "Share of cost (%)": "percent"},
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
                   run_ids=_ids(ctx, np.unique(rows)),
                   units={"Start": "datetime", "Duration (min)": "min", "Cost (USD)": "usd"})


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
    return Insight("cost.per_tb", "cost", "info", title, head, evidence=ev, missing=missing,
                   units={"Runs": "count", "TB": "tb", "Cost (USD)": "usd", "Cost per TB (USD)": "usd_per_tb"})


def _week_index(start: pd.Series) -> np.ndarray:
    """Weeks since Monday 1970-01-05 (ISO weeks start on Monday)."""
    ns = datetime_ns(start).view(np.int64)  # no copy
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


_WEEK_UNITS = {"Week starting": "date", "Complete": "bool", "Runs": "count", "Failed": "count", "Cost (USD)": "usd",
               "Failed cost (USD)": "usd"}


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
                       evidence=ev.reset_index(drop=True), missing="needs at least two complete weeks of runs",
                       units=_WEEK_UNITS)
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
                   run_ids=_ids(ctx, (rel == b) & ctx.failed), units=_WEEK_UNITS)


def _run_rate(ctx: _Ctx) -> Insight:
    k = ctx.kpis
    days = k["span_days"]
    title = "Annualised run-rate"
    if not days or days <= 0:
        return Insight("cost.run_rate", "cost", "info", title, "The data spans no time; no run-rate.",
                       missing="needs runs over more than one moment in time")
    days_eff = max(days, 1.0)
    per_day, fper_day = k["total_cost_usd"] / days_eff, k["failed_cost_usd"] / days_eff
    # one calendar convention with the business case: year = 365 days, month = year / 12
    month = DAYS_PER_YEAR / MONTHS_PER_YEAR
    ev = pd.DataFrame({"Period": ["Observed", "Per day", "Per month (year / 12)", "Per year (365 days)"],
                       "Days": [days, 1.0, month, float(DAYS_PER_YEAR)],
                       "Cost (USD)": [k["total_cost_usd"], per_day, per_day * month, per_day * DAYS_PER_YEAR],
                       "Failed cost (USD)": [k["failed_cost_usd"], fper_day, fper_day * month,
                                             fper_day * DAYS_PER_YEAR]})
    head = (f"Over {days:,.1f} days the runs cost {usd(k['total_cost_usd'])}: a run-rate of "
            f"{usd(per_day * DAYS_PER_YEAR)} a year, of which failed runs {usd(fper_day * DAYS_PER_YEAR)} a year.")
    return Insight("cost.run_rate", "cost", "info", title, head, evidence=ev,
                   units={"Days": "days", "Cost (USD)": "usd", "Failed cost (USD)": "usd"})
