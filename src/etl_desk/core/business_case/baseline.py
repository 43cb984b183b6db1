"""The measured baseline: what the runs cost before any remedy (the only business-case step that reads the runs)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from etl_desk.core.business_case.assumptions import default_assumptions
from etl_desk.core.business_case.periods import DAYS_PER_YEAR, MONTHS_PER_YEAR
from etl_desk.core.data.schema import FAILED, has_values
from etl_desk.core.insights.anomalies import GROUP_RULES, detect_anomalies

#: Measured baseline components (sums over the data), in display order.
MEASURED = ("compute_cost", "failed_cost", "retry_cost", "on_demand_cost", "large_volume_cost",
            "anomaly_excess_cost")


#: Annual baseline components a solution can target (plus storage and total).
TARGET_KEYS = ("failed_cost", "retry_cost", "on_demand_cost", "large_volume_cost", "storage_cost",
               "anomaly_excess_cost", "total_cost")


LARGE_VOLUME_QUANTILE = 0.8


@dataclass(frozen=True)
class Baseline:
    """What the data says, before any assumption: sums over the observed span.

    ``observed`` holds costs summed over the data (USD); ``None`` where the data
    cannot give it (``large_volume_cost`` without a volume column). Annual
    figures come from :meth:`annual`, which applies the annualisation method and
    the data coverage (both assumptions).
    """

    runs: int
    first_start: str | None
    last_end: str | None
    span_days: float
    active_days: int
    observed: dict[str, float | None]
    counts: dict[str, int | None]
    large_volume_threshold_gb: float | None
    anomaly_source: str
    notes: tuple[str, ...] = ()

    def factor(self, method: str = "span") -> float:
        """Annualisation factor: 365 / span_days, or 365 / active days."""
        if method == "active_days":
            return DAYS_PER_YEAR / max(self.active_days, 1)
        return DAYS_PER_YEAR / self.span_days

    def method_text(self, method: str = "span", coverage: float = 1.0) -> str:
        if method == "active_days":
            base = (f"annualised x {self.factor(method):.4g} = 365 / {max(self.active_days, 1)} days with at "
                    f"least one run")
        else:
            base = (f"annualised x {self.factor(method):.4g} = 365 / {self.span_days:.4g} days observed "
                    f"(first start {self.first_start or '-'} to last end {self.last_end or '-'}; at least 1 day)")
        if coverage != 1:
            base += f", divided by data coverage {coverage:g} (the data is that share of the estate)"
        return base

    def annual(self, assumptions: Mapping | None = None) -> dict[str, float | None]:
        """Annual baseline per component (USD per year); storage from the assumptions."""
        g = (assumptions or default_assumptions())["global"]
        f = self.factor(g["annualisation"])
        cov = g["data_coverage"]
        out: dict[str, float | None] = {}
        for k in MEASURED:
            v = self.observed[k]
            out[k] = None if v is None else v * f / cov
        out["storage_cost"] = g["storage_usd_per_month"] * MONTHS_PER_YEAR
        out["total_cost"] = out["compute_cost"] + out["storage_cost"]
        return out


def _pipeline_key(df: pd.DataFrame) -> pd.Series:
    if has_values(df, "job_name"):
        return df["job_name"].astype("object").where(df["job_name"].notna(), "(unnamed)")
    if has_values(df, "source_system"):
        return df["source_system"].astype("object").where(df["source_system"].notna(), "(unknown)")
    return pd.Series("(all)", index=df.index, dtype="object")


def _rules_text(th: Mapping | None) -> str:
    """The anomaly rules' main thresholds in a few words (for the baseline's source note)."""
    if not th:
        return ""
    try:
        return (f" (robust z > {float(th['z_threshold']):g}, cost spike >= {float(th['spike_factor']):g}x the "
                f"trailing mean of {int(th['spike_window'])} runs)")
    except (KeyError, TypeError, ValueError):
        return ""


def _anomaly_run_ids(anomalies: pd.DataFrame) -> tuple[np.ndarray, str]:
    """Run ids flagged by run-level rules in *anomalies*, and a note on where they came from.

    Failure-rate jumps describe pipeline-weeks, not runs, so they carry no excess cost.
    """
    attrs = getattr(anomalies, "attrs", None)
    th = attrs.get("thresholds") if isinstance(attrs, dict) else None
    source = ("the analysis's anomaly rules" + _rules_text(th)) if th else "anomalies given by the caller"
    if "run_id" not in anomalies.columns:
        return np.array([], dtype=object), "no anomaly table with a run_id column"
    if "rule" in anomalies.columns:
        anomalies = anomalies[~anomalies["rule"].isin(list(GROUP_RULES))]
    return anomalies["run_id"].dropna().astype(str).unique(), source


def compute_baseline(df: pd.DataFrame, anomalies: pd.DataFrame | None = None,
                     thresholds=None) -> Baseline:
    """Measure the baseline from canonical job runs (the only step that reads *df*).

    *anomalies*: optional table with a ``run_id`` column (one row per flagged run
    and rule), as from ``etl_desk.core.anomalies.detect_anomalies`` -- pass the
    ``anomalies`` of the :func:`etl_desk.core.analysis.analyze` result you already
    have, so detection runs once and the anomaly excess cost counts the runs the
    analysis reports. Failure-rate jumps (pipeline-weeks, not runs) are left out.
    When absent, :func:`~etl_desk.core.insights.anomalies.detect_anomalies` runs with
    *thresholds* (:class:`~etl_desk.core.insights.anomalies.AnomalyThresholds`; its
    defaults when ``None``).

    *df* is a canonical table (costs in USD, times UTC). Returns a :class:`Baseline`
    whose ``observed`` costs are USD sums over the data.
    """
    notes: list[str] = []
    n = len(df)
    cost = df["cost_usd"].to_numpy(dtype="float64") if n else np.zeros(0)
    if n:
        t0, t1 = df["start_time"].min(), df["end_time"].max()
        span = (t1 - t0) / pd.Timedelta(days=1) if pd.notna(t0) and pd.notna(t1) else 0.0
        active = int(df["start_time"].dt.normalize().nunique())
    else:
        t0 = t1 = None
        span, active = 0.0, 0
    if span < 1:
        notes.append(f"observed span {span:.3g} days is under a day: annualised as 1 day")
    span_days = max(float(span), 1.0)

    observed: dict[str, float | None] = {"compute_cost": float(cost.sum())}
    counts: dict[str, int | None] = {"runs": n}
    failed = (df["status"] == FAILED).to_numpy(dtype=bool) if n else np.zeros(0, bool)
    observed["failed_cost"] = float(cost[failed].sum())
    counts["failed_runs"] = int(failed.sum())
    retry = (df["attempt"].to_numpy() > 1) if n and "attempt" in df.columns else np.zeros(n, bool)
    observed["retry_cost"] = float(cost[retry].sum())
    counts["retry_runs"] = int(retry.sum())

    if has_values(df, "spot"):
        on_demand = ~df["spot"].fillna(False).to_numpy(dtype=bool)
    else:
        on_demand = np.ones(n, dtype=bool)
        notes.append("no spot column in this source: every run is taken as on-demand (spot-eligible)")
    observed["on_demand_cost"] = float(cost[on_demand].sum())
    counts["on_demand_runs"] = int(on_demand.sum())

    threshold = None
    if has_values(df, "data_processed_gb"):
        vol = df["data_processed_gb"].to_numpy(dtype="float64")
        threshold = float(np.nanquantile(vol, LARGE_VOLUME_QUANTILE))
        large = np.nan_to_num(vol, nan=-np.inf) >= threshold
        observed["large_volume_cost"] = float(cost[large].sum())
        counts["large_volume_runs"] = int(large.sum())
    else:
        observed["large_volume_cost"] = None
        counts["large_volume_runs"] = None
        notes.append("no data-volume column in this source: large-volume run cost cannot be measured "
                     "(taken as 0 for the business case)")

    if n:
        if anomalies is None:
            anomalies = detect_anomalies(df, thresholds)
        ids, source = _anomaly_run_ids(anomalies)
        flagged = df["run_id"].astype(str).isin(set(map(str, ids))).to_numpy()
        med = df.groupby(_pipeline_key(df), sort=False)["cost_usd"].transform("median").to_numpy()
        excess = np.clip(cost - med, 0, None)
        observed["anomaly_excess_cost"] = float(excess[flagged].sum())
        counts["anomalous_runs"] = int(flagged.sum())
    else:
        source = "no runs"
        observed["anomaly_excess_cost"] = 0.0
        counts["anomalous_runs"] = 0

    def iso(t):
        return None if t is None or pd.isna(t) else pd.Timestamp(t).isoformat(sep=" ")

    return Baseline(runs=n, first_start=iso(t0), last_end=iso(t1), span_days=span_days, active_days=active,
                    observed=observed, counts=counts, large_volume_threshold_gb=threshold,
                    anomaly_source=source, notes=tuple(notes))
