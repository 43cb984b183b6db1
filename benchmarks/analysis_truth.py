"""Scoring every finding kind against the realistic generator's ground truth (used by bench_analysis).

One history per seed: ``RealisticSettings(runs, days=365, anomaly_rate=0.01, month_end_peak_scale=2.0,
team_tags=True, drift_pipelines=3, failure_waves=5)``. What is scored, per seed:

* **spikes** -- run-level rules (duration_z, cost_z, cost_rate_z, cost_spike) against
  ``injected_anomaly``: true/false positives and false negatives over every run;
* **month-end** -- SAP runs on the generator's peak days (last three calendar days and the 1st),
  not injected: how many the run-level rules flag (with the volume column, and without it as a
  system-table export would be);
* **failure waves** -- failure-rate-jump findings against the injected pipeline-weeks;
* **drift** -- the history cut 7, 14 and 21 days after each injected drift's start: the first cut
  whose drift findings name the pipeline; false drifts: the history cut at each quarter's end
  (days 91, 182, 273, 364), findings on pipelines with no drift begun by then, per pipeline-quarter;
* **forecast** -- backtest days inside the 80 % and 95 % intervals, all runs and each pipeline.
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd

from etl_desk.core.data.realistic import RealisticSettings, generate_realistic
from etl_desk.core.insights.anomalies import RUN_RULES, AnomalyThresholds, detect_anomalies
from etl_desk.core.insights.drift import detect_drift
from etl_desk.core.insights.forecast import forecast_costs

QUARTER_ENDS = (91, 182, 273, 364)


def truth_settings(seed: int, runs: int) -> RealisticSettings:
    return RealisticSettings(runs=runs, days=365, seed=seed, anomaly_rate=0.01, month_end_peak_scale=2.0,
                             team_tags=True, drift_pipelines=3, failure_waves=5)


def _flagged(df: pd.DataFrame, an: pd.DataFrame) -> np.ndarray:
    ids = set(an.loc[an["rule"].isin(list(RUN_RULES)), "run_id"].astype(str))
    return df["run_id"].astype(str).isin(ids).to_numpy()


def score_seed(seed: int, runs: int) -> dict:
    """Counts for one seed (see the module docstring) and the seconds each step took."""
    out: dict = {"seed": seed, "seconds": {}}
    df = generate_realistic(truth_settings(seed, runs))
    gt = df.attrs["ground_truth"]
    truth = df["injected_anomaly"].to_numpy(dtype=bool)
    an = detect_anomalies(df)
    flagged = _flagged(df, an)
    out["spikes"] = {"tp": int((truth & flagged).sum()), "fp": int((~truth & flagged).sum()),
                     "fn": int((truth & ~flagged).sum())}
    d = df["start_time"].dt
    peak = ((d.day == 1) | (d.days_in_month - d.day < 3)).to_numpy() & (df["source_system"] == "SAP").to_numpy()
    me = peak & ~truth
    out["month_end"] = {"runs": int(me.sum()), "flagged": int((me & flagged).sum())}
    novol = _flagged(df, detect_anomalies(df, AnomalyThresholds(use_volume=False)))
    out["month_end_no_volume"] = {"runs": int(me.sum()), "flagged": int((me & novol).sum())}
    # failure waves: pipeline-weeks
    waves = {(w["pipeline"], w["week_start"]) for w in gt["failure_waves"]}
    jumps = an[an["rule"] == "failure_rate_jump"]
    found = {(p, str(pd.Timestamp(t).date())) for p, t in zip(jumps["pipeline"], jumps["start_time"])}
    out["waves"] = {"tp": len(waves & found), "fp": len(found - waves), "fn": len(waves - found)}
    # drift: detection delay, then false drifts per pipeline-quarter
    delays = []
    t0 = time.perf_counter()
    for g in gt["drifts"]:
        start = pd.Timestamp(g["start"])
        hit = None
        for days in (7, 14, 21):
            sub = df[df["start_time"] < start + pd.Timedelta(days=days)]
            if g["pipeline"] in {f.pipeline for f in detect_drift(sub).findings}:
                hit = days
                break
        delays.append(hit)
    out["drift_delays"] = delays
    first = df["start_time"].min().normalize()
    false = pq = 0
    pipes = set(df["job_name"].astype(str))
    for q in QUARTER_ENDS:
        cut = first + pd.Timedelta(days=q)
        sub = df[df["start_time"] < cut]
        begun = {g["pipeline"] for g in gt["drifts"] if pd.Timestamp(g["start"]) < cut}
        clean = pipes - begun
        pq += len(clean)
        false += len({f.pipeline for f in detect_drift(sub).findings} & clean)
    out["false_drifts"] = {"false": false, "pipeline_quarters": pq}
    out["seconds"]["drift_scoring"] = time.perf_counter() - t0
    # forecast coverage, all runs and each pipeline
    t0 = time.perf_counter()
    fc = forecast_costs(df)
    out["seconds"]["forecast"] = time.perf_counter() - t0
    bts = ([fc.total.backtest] if fc.total else []) + [f.backtest for f in fc.pipelines.values()]
    out["forecast"] = {
        "days": sum(b.days for b in bts),
        "in80": sum(round(b.coverage80 * b.days) for b in bts if b.coverage80 is not None),
        "in95": sum(round(b.coverage95 * b.days) for b in bts if b.coverage95 is not None),
        "total_days": fc.total.backtest.days if fc.total else 0,
        "total_in80": round(fc.total.backtest.coverage80 * fc.total.backtest.days) if fc.total else 0,
    }
    return out
