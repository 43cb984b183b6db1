"""The baseline: what the runs cost before any remedy (the only business-case step that reads the runs).

"Cost of doing nothing" is split in two:

* **measured** -- sums over the runs: compute (all runs), failed runs, retries
  (attempt > 1), on-demand runs of spot-eligible work, the top fifth of runs by volume,
  and the anomaly excess (flagged runs' cost above their pipeline's median cost);
* **assumed** -- lines the runs do not carry: the storage bill and engineer time spent
  on failures (failed runs x hours per failure x hourly rate). They are shown, marked
  as assumptions, and count in the cost of doing nothing (and in the savings of a
  solution acting on them) only once the user confirms them
  (``storage_confirmed``, ``incident_confirmed``).

Runs without a price (``cost_usd`` NaN: the source had no price for them) are left
out of every sum and counted in ``counts["unpriced_runs"]``; when no run has a price
the measured baseline is unknown (``None``) and :func:`etl_desk.core.business_case.model.evaluate`
refuses with :class:`BusinessCaseUnavailable` rather than showing $0.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd

from etl_desk.core.business_case.assumptions import default_assumptions, scenario_multipliers
from etl_desk.core.conventions import DAYS_PER_YEAR, MONTHS_PER_YEAR
from etl_desk.core.data.schema import FAILED, has_values
from etl_desk.core.errors import DataError
from etl_desk.core.insights.anomalies import GROUP_RULES, detect_anomalies
from etl_desk.core.insights.kpis import attempt_known, retry_unknown_reason

#: Measured baseline components (sums over the data), in display order.
MEASURED = ("compute_cost", "failed_cost", "retry_cost", "on_demand_cost", "large_volume_cost",
            "anomaly_excess_cost")
#: Assumed baseline lines (not in the runs), counted only when confirmed.
ASSUMED = ("storage_cost", "incident_cost")
#: Annual baseline components a solution can target (plus the total).
TARGET_KEYS = ("failed_cost", "retry_cost", "on_demand_cost", "large_volume_cost", "storage_cost",
               "anomaly_excess_cost", "incident_cost", "total_cost")
LARGE_VOLUME_QUANTILE = 0.8


class BusinessCaseUnavailable(DataError):
    """The business case cannot be computed from these runs (e.g. no run has a price)."""


@dataclass(frozen=True)
class Baseline:
    """What the data says, before any assumption: sums over the observed span (USD).

    ``observed`` holds measured costs summed over the priced runs; ``None`` where the
    data cannot give it (``large_volume_cost`` without a volume column; ``retry_cost`` when no
    run records its attempt; everything when no run has a price). ``anomaly_runs`` lists the flagged runs with their pipeline's
    median cost and the excess (columns ``run_id, pipeline, cost_usd,
    pipeline_median_usd, excess_usd``); its ``excess_usd`` sums to
    ``observed["anomaly_excess_cost"]``. Annual figures come from :meth:`annual`.
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
    anomaly_runs: pd.DataFrame | None = field(default=None, compare=False, repr=False)
    cost_basis: str = ""

    @property
    def cost_known(self) -> bool:
        """True when at least one run has a price."""
        return self.observed.get("compute_cost") is not None

    def factor(self, method: str = "span") -> float:
        """Annualisation factor: 365 / span_days, or 365 / active days."""
        if method == "active_days":
            return DAYS_PER_YEAR / max(self.active_days, 1)
        return DAYS_PER_YEAR / self.span_days

    def method_text(self, method: str = "span", coverage: float = 1.0) -> str:
        """How the observed sums were annualised, in words for reports and the workbook, e.g.
        ``"annualised x 12.17 = 365 / 30 days observed (first start ... to last end ...; at least 1 day)"``;
        *method* ``"span"`` or ``"active_days"`` (the ``annualisation`` assumption), *coverage* the
        ``data_coverage`` assumption (0..1; mentioned only when not 1).
        """
        if method == "active_days":
            base = (f"annualised x {self.factor(method):.4g} = 365 / {max(self.active_days, 1)} days with at "
                    f"least one run")
        else:
            base = (f"annualised x {self.factor(method):.4g} = 365 / {self.span_days:.4g} days observed "
                    f"(first start {self.first_start or '-'} to last end {self.last_end or '-'}; at least 1 day)")
        if coverage != 1:
            base += f", divided by data coverage {coverage:g} (the data is that share of the estate)"
        return base

    def failed_runs_per_year(self, assumptions: Mapping | None = None, scenario: str | None = None) -> float:
        """Failed runs a year at the baseline's rate (annualised, coverage and scenario applied)."""
        a = assumptions or default_assumptions()
        g = a["global"]
        m = scenario_multipliers(a, scenario)["baseline"]
        return (self.counts.get("failed_runs") or 0) * self.factor(g["annualisation"]) / g["data_coverage"] * m

    def assumed(self, assumptions: Mapping | None = None, scenario: str | None = None) -> dict[str, float]:
        """The assumed lines a year (USD), whether or not confirmed: storage and engineer time on failures."""
        g = (assumptions or default_assumptions())["global"]
        return {"storage_cost": g["storage_usd_per_month"] * MONTHS_PER_YEAR,
                "incident_cost": self.failed_runs_per_year(assumptions, scenario) * g["incident_hours_per_failure"]
                * g["incident_usd_per_hour"]}

    @staticmethod
    def confirmed(assumptions: Mapping) -> dict[str, bool]:
        """Which assumed lines count: ``{"storage_cost": bool, "incident_cost": bool}`` from the global
        ``storage_confirmed`` / ``incident_confirmed`` assumptions of *assumptions* (a validated
        assumptions dict).

        Raises:
            KeyError: when *assumptions* lacks ``global`` or those keys (pass it through
                :func:`~etl_desk.core.business_case.assumptions.validate_assumptions` first).
        """
        g = assumptions["global"]
        return {"storage_cost": bool(g["storage_confirmed"]), "incident_cost": bool(g["incident_confirmed"])}

    def annual(self, assumptions: Mapping | None = None, scenario: str | None = None) -> dict[str, float | None]:
        """Annual baseline per component (USD per year) as counted in the business case.

        Measured components: observed x annualisation factor / data coverage x the scenario's
        baseline multiplier. Assumed lines count only when confirmed (else 0).
        ``total_cost`` = compute + the counted assumed lines.
        """
        a = assumptions or default_assumptions()
        g = a["global"]
        f = self.factor(g["annualisation"])
        cov = g["data_coverage"]
        m = scenario_multipliers(a, scenario)["baseline"]
        out: dict[str, float | None] = {}
        for k in MEASURED:
            v = self.observed[k]
            out[k] = None if v is None else v * f / cov * m
        assumed = self.assumed(a, scenario)
        ok = self.confirmed(a)
        for k in ASSUMED:
            out[k] = assumed[k] if ok[k] else 0.0
        out["total_cost"] = (None if out["compute_cost"] is None else
                             out["compute_cost"] + sum(out[k] for k in ASSUMED))
        return out


def _pipeline_codes(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The group each run's cost is compared with: its pipeline (job name; runs without one
    together as "(unnamed)"), else its source system ("(unknown)" for none), else all runs.

    Returns (integer code per run, group names as a str object array): codes, not a column of
    1M Python strings (the grouping is the same, at 8 bytes a run).
    """
    if has_values(df, "job_name"):
        key, missing = df["job_name"], "(unnamed)"
    elif has_values(df, "source_system"):
        key, missing = df["source_system"], "(unknown)"
    else:
        return np.zeros(len(df), dtype=np.int64), np.array(["(all)"], dtype=object)
    codes, names = pd.factorize(key, sort=False)  # any dtype (text, categorical); NA -> -1
    names = np.asarray(names, dtype=object).astype(str).astype(object)
    if (codes < 0).any():  # runs without a name: one group, the same as a run named so
        same = np.flatnonzero(names == missing)
        if same.size:
            at = int(same[0])
        else:
            at, names = len(names), np.append(names, missing)
        codes = np.where(codes < 0, at, codes)
    return codes, names


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
    and rule), as from :func:`etl_desk.core.insights.anomalies.detect_anomalies` -- pass
    the ``anomalies`` of the :func:`etl_desk.core.insights.analysis.analyze` result you
    already have, so detection runs once and the anomaly excess counts the runs the
    analysis reports. Failure-rate jumps (pipeline-weeks, not runs) are left out.
    When absent, detection runs with *thresholds* (defaults when ``None``).

    *df* is a canonical table (costs in USD, NaN = no price; times UTC). Returns a
    :class:`Baseline` whose ``observed`` costs are USD sums over the priced runs.
    """
    notes: list[str] = []
    n = len(df)
    cost = df["cost_usd"].to_numpy(dtype="float64", na_value=np.nan) if n else np.zeros(0)
    basis = str(df.attrs.get("cost_basis", "") or "")
    if basis == "none":  # the source has no price: its zero costs are unknown, not free
        cost = np.full(n, np.nan)
    priced = ~np.isnan(cost)
    n_priced = int(priced.sum())
    cost0 = np.where(priced, cost, 0.0)
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
    counts: dict[str, int | None] = {"runs": n, "priced_runs": n_priced, "unpriced_runs": n - n_priced}
    if n and n_priced == 0:
        notes.append("no run has a price (the source carries no cost): the measured baseline is unknown, "
                     "not zero")
    elif n_priced < n:
        notes.append(f"{n - n_priced:,} of {n:,} runs have no price: the measured baseline sums the "
                     f"{n_priced:,} priced runs only (a lower bound)")

    def total(mask) -> float | None:
        return float(cost0[mask].sum()) if n_priced or not n else None

    observed: dict[str, float | None] = {"compute_cost": total(np.ones(n, bool))}
    failed = (df["status"] == FAILED).to_numpy(dtype=bool) if n else np.zeros(0, bool)
    observed["failed_cost"] = total(failed)
    counts["failed_runs"] = int(failed.sum())
    att, att_known = attempt_known(df)
    retry = att > 1
    why = retry_unknown_reason(n, int(att_known.sum()))
    if n and not att_known.any():  # no attempt recorded: retry cost unknown, not $0
        observed["retry_cost"] = None
        counts["retry_runs"] = None
        notes.append(f"{why}: retry cost cannot be measured (a solution acting on it has an unknown input "
                     f"and is sized on nothing)")
    else:
        observed["retry_cost"] = total(retry)
        counts["retry_runs"] = int(retry.sum())
        if why:
            notes.append(f"{why} (the measured retry cost is a lower bound)")

    if has_values(df, "spot"):
        on_demand = ~df["spot"].fillna(False).to_numpy(dtype=bool)
    else:
        on_demand = np.ones(n, dtype=bool)
        notes.append("no spot column in this source: every run is taken as on-demand (spot-eligible)")
    observed["on_demand_cost"] = total(on_demand)
    counts["on_demand_runs"] = int(on_demand.sum())

    threshold = None
    if has_values(df, "data_processed_gb"):
        vol = df["data_processed_gb"].to_numpy(dtype="float64")
        threshold = float(np.nanquantile(vol, LARGE_VOLUME_QUANTILE))
        large = np.nan_to_num(vol, nan=-np.inf) >= threshold
        observed["large_volume_cost"] = total(large)
        counts["large_volume_runs"] = int(large.sum())
    else:
        observed["large_volume_cost"] = None
        counts["large_volume_runs"] = None
        notes.append("no data-volume column in this source: large-volume run cost cannot be measured "
                     "(a solution acting on it saves nothing)")

    anomaly_runs = pd.DataFrame({"run_id": pd.Series(dtype=object), "pipeline": pd.Series(dtype=object),
                                 "cost_usd": pd.Series(dtype=float), "pipeline_median_usd": pd.Series(dtype=float),
                                 "excess_usd": pd.Series(dtype=float)})
    if n:
        if anomalies is None:
            anomalies = detect_anomalies(df, thresholds)
        ids, source = _anomaly_run_ids(anomalies)
        flagged = df["run_id"].astype(str).isin(set(map(str, ids))).to_numpy()
        codes, names = _pipeline_codes(df)
        med = pd.Series(cost).groupby(codes, sort=False).transform("median").to_numpy()
        excess = np.nan_to_num(np.clip(cost - med, 0, None))
        observed["anomaly_excess_cost"] = total(flagged) if n_priced == 0 else float(excess[flagged].sum())
        counts["anomalous_runs"] = int(flagged.sum())
        idx = np.flatnonzero(flagged)
        anomaly_runs = pd.DataFrame({"run_id": df["run_id"].iloc[idx].astype(str).to_numpy(dtype=object),
                                     "pipeline": names[codes[idx]].astype(str).astype(object),
                                     "cost_usd": cost[idx], "pipeline_median_usd": med[idx],
                                     "excess_usd": excess[idx]})
    else:
        source = "no runs"
        observed["anomaly_excess_cost"] = 0.0
        counts["anomalous_runs"] = 0

    def iso(t):
        return None if t is None or pd.isna(t) else pd.Timestamp(t).isoformat(sep=" ")

    return Baseline(runs=n, first_start=iso(t0), last_end=iso(t1), span_days=span_days, active_days=active,
                    observed=observed, counts=counts, large_volume_threshold_gb=threshold,
                    anomaly_source=source, notes=tuple(notes), anomaly_runs=anomaly_runs, cost_basis=basis)
