"""The anomaly findings as finance reads them: one row per run, thresholds in the observed unit.

:func:`runs_table` folds the run-level findings of
:func:`~etl_desk.core.insights.anomalies.detect_anomalies` into one row per run (its
strongest finding, with every rule that flagged it), adds the value at which the rule
would have flagged it *in the same unit as the observed value*, and the run's cost above
its pipeline's median -- the excess the business case's baseline counts, so the column
ties to ``Baseline.observed["anomaly_excess_cost"]``.

The flag-at value follows from each rule's definition (see the anomalies module):
robust-z rules flag when ``log(observed / usual) / spread > z_threshold``, so with the
reported score ``z = log(observed / usual) / spread`` the limit is
``usual * (observed / usual) ** (z_threshold / z)``; the cost spike flags at
``spike_factor x`` the trailing mean; a failure-rate jump at the week before plus
``failure_jump_pp`` points.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from etl_desk.core.insights.anomalies import GROUP_RULES, RULE_LABELS, RUN_RULES

#: Unit (:data:`etl_desk.core.fmt.UNITS`) of each anomaly metric.
METRIC_UNITS = {"duration_min": "min", "cost_usd": "usd", "cost_per_min": "usd_per_min", "failure_rate": "fraction"}
METRIC_LABELS = {"duration_min": "duration (min)", "cost_usd": "cost (USD)", "cost_per_min": "cost per minute (USD)",
                 "failure_rate": "failure rate"}
RUN_COLUMNS = ("Job ID", "Pipeline", "Start", "Rules", "Measured", "Observed", "Usual for the pipeline", "Flag at",
               "Score", "Cost (USD)", "Pipeline median cost (USD)", "Excess over pipeline median (USD)", "Detail")
#: Units of the fixed columns (Observed / Usual / Flag at take each row's ``unit``).
RUN_UNITS = {"Start": "datetime", "Score": "number", "Cost (USD)": "usd", "Pipeline median cost (USD)": "usd",
             "Excess over pipeline median (USD)": "usd"}


def flag_at(rule: np.ndarray, observed: np.ndarray, usual: np.ndarray, threshold: np.ndarray,
            score: np.ndarray) -> np.ndarray:
    """The value at which each finding's rule flags, in the observed value's unit."""
    rule = np.asarray(rule, dtype=object)
    out = np.full(len(rule), np.nan)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        z = np.isin(rule, ["duration_z", "cost_z", "cost_rate_z"])
        out[z] = usual[z] * np.power(observed[z] / usual[z], threshold[z] / score[z])
        sp = rule == "cost_spike"
        out[sp] = usual[sp] * threshold[sp]
        fj = rule == "failure_rate_jump"
        out[fj] = usual[fj] + threshold[fj]
    return out


def runs_table(anomalies: pd.DataFrame | None, anomaly_runs: pd.DataFrame | None) -> pd.DataFrame:
    """One row per flagged run (strongest finding first by excess dollars), columns :data:`RUN_COLUMNS` plus ``unit``.

    *anomaly_runs* is ``Baseline.anomaly_runs`` (run_id, cost_usd, pipeline_median_usd,
    excess_usd); without it the cost columns are blank.
    """
    cols = list(RUN_COLUMNS) + ["unit"]
    if anomalies is None or not len(anomalies):
        return pd.DataFrame(columns=cols)
    a = anomalies[anomalies["rule"].isin(list(RUN_RULES))].copy()
    if a.empty:
        return pd.DataFrame(columns=cols)
    a["run_id"] = a["run_id"].astype(str)
    a["flag_at"] = flag_at(a["rule"].to_numpy(), a["observed"].to_numpy(float), a["baseline"].to_numpy(float),
                           a["threshold"].to_numpy(float), a["score"].to_numpy(float))
    rules = a.groupby("run_id", sort=False)["rule"].agg(lambda s: ", ".join(RULE_LABELS.get(r, r) for r in
                                                                           dict.fromkeys(s)))
    a["_rel"] = np.where(a["rule"] == "cost_spike", a["score"] / a["threshold"], a["score"] / a["threshold"])
    top = a.sort_values(["_rel", "run_id"], ascending=[False, True], kind="stable").drop_duplicates("run_id")
    out = pd.DataFrame({
        "Job ID": top["run_id"].to_numpy(dtype=object),
        "Pipeline": top["pipeline"].astype(str).to_numpy(dtype=object),
        "Start": pd.to_datetime(top["start_time"]).to_numpy(),
        "Rules": rules.reindex(top["run_id"]).to_numpy(dtype=object),
        "Measured": top["metric"].map(METRIC_LABELS).fillna(top["metric"]).to_numpy(dtype=object),
        "Observed": top["observed"].to_numpy(float),
        "Usual for the pipeline": top["baseline"].to_numpy(float),
        "Flag at": top["flag_at"].to_numpy(float),
        "Score": top["score"].to_numpy(float),
        "Detail": top["detail"].astype(str).to_numpy(dtype=object),
        "unit": top["metric"].map(METRIC_UNITS).fillna("number").to_numpy(dtype=object),
    })
    if anomaly_runs is not None and len(anomaly_runs):
        ex = anomaly_runs.drop_duplicates("run_id").set_index("run_id")
        out["Cost (USD)"] = ex["cost_usd"].reindex(out["Job ID"]).to_numpy(float)
        out["Pipeline median cost (USD)"] = ex["pipeline_median_usd"].reindex(out["Job ID"]).to_numpy(float)
        out["Excess over pipeline median (USD)"] = ex["excess_usd"].reindex(out["Job ID"]).to_numpy(float)
    else:
        for c in ("Cost (USD)", "Pipeline median cost (USD)", "Excess over pipeline median (USD)"):
            out[c] = np.nan
    out = out.sort_values(["Excess over pipeline median (USD)", "Score"], ascending=[False, False],
                          kind="stable", na_position="last").reset_index(drop=True)
    return out[cols]


JUMP_COLUMNS = ("Pipeline", "Week of", "Failure rate", "Week before", "Flag at", "Jump (points)",
                "First failed run", "Failed runs", "Detail")
JUMP_UNITS = {"Week of": "date", "Failure rate": "fraction", "Week before": "fraction", "Flag at": "fraction",
              "Jump (points)": "number", "Failed runs": "count"}


def jumps_table(anomalies: pd.DataFrame | None) -> pd.DataFrame:
    """Failure-rate jumps: one row per pipeline-week (they concern pipelines, not single runs)."""
    if anomalies is None or not len(anomalies):
        return pd.DataFrame(columns=list(JUMP_COLUMNS))
    j = anomalies[anomalies["rule"].isin(list(GROUP_RULES))]
    if j.empty:
        return pd.DataFrame(columns=list(JUMP_COLUMNS))
    obs, usual, th = (j[c].to_numpy(float) for c in ("observed", "baseline", "threshold"))
    return pd.DataFrame({
        "Pipeline": j["pipeline"].astype(str).to_numpy(dtype=object),
        "Week of": pd.to_datetime(j["start_time"]).to_numpy(),
        "Failure rate": obs, "Week before": usual, "Flag at": usual + th, "Jump (points)": j["score"].to_numpy(float),
        "First failed run": j["run_id"].astype(str).to_numpy(dtype=object),
        "Failed runs": [len(x) if isinstance(x, (list, tuple, np.ndarray)) else 1 for x in j["run_ids"]],
        "Detail": j["detail"].astype(str).to_numpy(dtype=object)})
