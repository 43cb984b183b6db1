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

import numpy as np
import pandas as pd

from etl_desk.core.insights.base import TOP_N, Insight, _Ctx, _ctx, usd
from etl_desk.core.insights.case_claims import _case_study
from etl_desk.core.insights.cost import _cost_insights
from etl_desk.core.insights.duration import _duration_insights
from etl_desk.core.insights.volume import _volume_insights

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
        top = a.sort_values("score", ascending=False).head(TOP_N)
        observed = top["observed"].to_numpy(dtype=float)
        expected = top["baseline"].to_numpy(dtype=float)
        if metric == "cost":
            # cost-per-minute findings in dollars of the run: its cost, and what it would cost at the usual rate
            per_min = (top["metric"] == "cost_per_min").to_numpy()
            run_cost = top["run_cost_usd"].to_numpy(dtype=float)
            with np.errstate(divide="ignore", invalid="ignore"):
                expected = np.where(per_min, run_cost * expected / observed, expected)
            observed = np.where(per_min, run_cost, observed)
            unit, obs_col, exp_col = "usd", "Cost (USD)", "Expected cost (USD)"
        else:
            unit, obs_col, exp_col = "min", "Duration (min)", "Expected duration (min)"
        ev = pd.DataFrame({"Job ID": top["run_id"].astype(str).to_numpy(), "Pipeline": top["pipeline"].to_numpy(),
                           "Rule": top["rule"].to_numpy(), obs_col: observed, exp_col: expected,
                           "Score": top["score"].to_numpy(dtype=float)})
        out.append(Insight(iid, area, "warning" if len(ids) >= 10 else "notice", title, head, evidence=ev,
                           run_ids=ids, units={obs_col: unit, exp_col: unit, "Score": "number"}))
    return out


# --------------------------------------------------------------------------- entry point

def compute_insights(df: pd.DataFrame, anomalies: pd.DataFrame | None = None, *,
                     kpis: dict | None = None) -> list[Insight]:
    """All insights for the canonical table *df* (case study first, then cost, data volume, duration).

    *anomalies* (from :func:`etl_desk.core.insights.anomalies.detect_anomalies`) adds a summary
    insight per metric; *kpis* may be passed to avoid computing them twice.
    """
    if len(df) == 0:
        return [Insight("cost.failed_share", "cost", "info", "No runs", "There are no runs to analyse.",
                        missing="the table is empty")]
    ctx = _ctx(df, kpis)
    if ctx.kpis.get("total_cost_usd") is None:  # unknown is not zero: no cost insight can be computed
        why = df.attrs.get("cost_unknown_why") or "the source has no cost"
        cost = [Insight("cost.unknown", "cost", "info", "Cost is unknown",
                        f"Cost cannot be checked: {why}.", missing="cost is unknown for this source")]
    else:
        cost = _cost_insights(ctx)
    vol, vol_res = _volume_insights(ctx)
    dur, dur_res = _duration_insights(ctx)
    case = _case_study(ctx, vol_res, dur_res)
    an = _anomaly_insights(ctx, anomalies) if anomalies is not None else []
    cost += [i for i in an if i.area == "cost"]
    dur += [i for i in an if i.area == "duration"]
    return case + cost + vol + dur
