"""Realised against projected: what a remedy changed, measured from runs before and after it went live.

Give two histories (before and after a remedy went live) -- or one history and a go-live
date (:func:`split_at`) -- and :func:`realised_vs_projected` measures, for each target a
remedy acts on, the change in its cost **per TB processed** (per run when a history has
no volume column), so a busier or quieter month does not pass for a saving:

* the rate of each period is a ratio estimator ``R = sum(cost) / sum(TB)`` over its days;
* its variance treats days as the sampled units (runs on one day share a cluster, a
  platform incident, a month-end peak): ``Var(R) = sum_d (y_d - R x_d)^2 / (n (n - 1) xbar^2)``
  over the *n* days with runs (Cochran, *Sampling Techniques*, 3rd ed. 1977, section 6.3);
* the change ``R_after - R_before`` has the 95 % confidence interval
  ``+- 1.96 sqrt(Var_before + Var_after)`` (normal approximation, independent periods);
* a year's saving is ``-(change) x`` the after period's TB a year (annualised over its
  span, divided by data coverage), with the same interval scaled.

Beside each, the projection of the business case: the solutions that act on that target
and their combined effect ``1 - prod(1 - effect)`` on the before period's baseline. The
measured effect is ``-(change) / R_before``. Qt-free: the window calls
:func:`realised_vs_projected` with the two loaded tables (or :func:`split_at`).
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from etl_desk.core.business_case.catalogue import targets
from etl_desk.core.business_case.model import BusinessCase
from etl_desk.core.conventions import DAYS_PER_YEAR
from etl_desk.core.data.schema import FAILED, has_values
from etl_desk.core.errors import DataError
from etl_desk.core.insights.kpis import attempt_known

Z95 = 1.959963984540054
#: Targets measured, in display order (``compute_cost`` is the total cost per TB).
MEASURED_TARGETS = ("failed_cost", "retry_cost", "on_demand_cost", "anomaly_excess_cost", "compute_cost")
LABELS = {"compute_cost": "Cost per TB (all runs)"}


@dataclass(frozen=True)
class Period:
    """One history's span and volume."""

    runs: int
    days_with_runs: int
    first_start: str | None
    last_end: str | None
    span_days: float
    volume: float  # TB (or runs when per run)


@dataclass(frozen=True)
class MeasuredChange:
    """The measured change of one target's rate, and what the business case projected for it (USD)."""

    target: str
    label: str
    unit: str  # "USD per TB" or "USD per run"
    before_rate: float
    after_rate: float
    change: float
    change_ci: tuple[float, float]
    measured_effect: float | None
    measured_effect_ci: tuple[float, float] | None
    saving_usd_per_year: float
    saving_ci: tuple[float, float]
    projected_effect: float | None = None
    projected_saving_usd_per_year: float | None = None
    solutions: tuple[str, ...] = ()

    @property
    def significant(self) -> bool:
        """The 95 % interval of the change excludes zero."""
        return self.change_ci[0] > 0 or self.change_ci[1] < 0

    @property
    def projection_within_ci(self) -> bool | None:
        """Whether the projected effect lies inside the measured effect's 95 % interval (bounds
        included); None when there is no projection or no interval (unknown, not "no").
        """
        if self.projected_effect is None or self.measured_effect_ci is None:
            return None
        lo, hi = self.measured_effect_ci
        return lo <= self.projected_effect <= hi


@dataclass(frozen=True)
class Realisation:
    """Before, after, and the measured change of every target beside its projection."""

    before: Period
    after: Period
    per: str  # "TB" or "run"
    changes: list[MeasuredChange]
    on_demand_share: tuple[float, float]  # before, after (fraction of cost)
    go_live: str | None = None
    method: str = ""
    notes: list[str] = field(default_factory=list)
    #: what was measured, in words: the go-live split or the "after" file, and the files read
    measured: str = ""

    def change(self, target: str) -> MeasuredChange:
        """The :class:`MeasuredChange` of *target* (a :data:`MEASURED_TARGETS` key).

        Raises:
            KeyError: when *target* was not measured.
        """
        for c in self.changes:
            if c.target == target:
                return c
        raise KeyError(f"no measured change for target {target!r}")


def split_at(df: pd.DataFrame, go_live, settle_days: float = 0.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Runs that started before *go_live*, and those that started *settle_days* or more after it.

    Start times compare as naive UTC; runs within the settling period are in neither part.

    Raises:
        DataError: when either part would hold no run (the message gives the date and both
            counts; no file: the caller adds it).
        ValueError: when *go_live* is not a date :class:`pandas.Timestamp` can read.
    """
    t = pd.Timestamp(go_live)
    start = df["start_time"]
    before = df[start < t]
    after = df[start >= t + pd.Timedelta(days=settle_days)]
    if not len(before) or not len(after):
        raise DataError(f"the go-live date {t:%Y-%m-%d} leaves no runs on one side "
                        f"({len(before):,} before, {len(after):,} after)")
    return before, after


def _excess(df: pd.DataFrame, anomaly_runs: pd.DataFrame | None) -> np.ndarray:
    out = np.zeros(len(df))
    if anomaly_runs is not None and len(anomaly_runs):
        m = anomaly_runs.drop_duplicates("run_id").set_index("run_id")["excess_usd"]
        out = df["run_id"].astype(str).map(m).fillna(0.0).to_numpy(float)
    return out


def _measurable(df: pd.DataFrame, per_tb: bool, side: str, notes: list[str]) -> pd.DataFrame:
    """The runs of one period whose cost (and, per TB, data volume) is known; the rest left out with a note.

    An unpriced run counted as $0, or a run of unknown volume counted as 0 TB, would bias every
    rate (cost per TB up, cost per run down), so they are measured as absent, not as zero.

    Raises:
        DataError: when no run of the period has both.
    """
    known = df["cost_usd"].notna().to_numpy()
    if per_tb:
        known = known & df["data_processed_gb"].notna().to_numpy()
    left = int((~known).sum())
    if left == 0:
        return df
    if not known.any():
        raise DataError(f"no run {side} the go-live has a known cost{' and data volume' if per_tb else ''}: "
                        "nothing to measure")
    what = "cost or data volume" if per_tb else "cost"
    notes.append(f"{left:,} of {len(df):,} runs {side} the go-live left out: unknown {what}")
    return df[known]


def _daily(df: pd.DataFrame, per_tb: bool, anomaly_runs: pd.DataFrame | None) -> pd.DataFrame:
    cost = np.nan_to_num(df["cost_usd"].to_numpy(float, na_value=np.nan))
    failed = (df["status"].astype("object") == FAILED).to_numpy()
    retry = attempt_known(df)[0] > 1  # unknown attempts: NaN > 1 is False (the target is left out then)
    on_demand = ~df["spot"].fillna(False).to_numpy(bool) if has_values(df, "spot") else np.ones(len(df), bool)
    x = (np.nan_to_num(df["data_processed_gb"].to_numpy(float, na_value=np.nan)) / 1000.0 if per_tb
         else np.ones(len(df)))
    day = df["start_time"].dt.floor("D").to_numpy()
    frame = pd.DataFrame({"day": day, "x": x, "compute_cost": cost, "failed_cost": cost * failed,
                          "retry_cost": cost * retry, "on_demand_cost": cost * on_demand,
                          "anomaly_excess_cost": _excess(df, anomaly_runs)})
    return frame.groupby("day", sort=True).sum()


def _ratio(d: pd.DataFrame, col: str) -> tuple[float, float]:
    """Ratio estimate and its variance over the day clusters."""
    x, y = d["x"].to_numpy(float), d[col].to_numpy(float)
    n = len(d)
    if x.sum() <= 0:
        raise DataError("no volume to normalise by in one of the periods")
    r = y.sum() / x.sum()
    if n < 2:
        return r, float("nan")
    resid = y - r * x
    return r, float(np.sum(resid ** 2) / (n * (n - 1) * x.mean() ** 2))


def _period(df: pd.DataFrame, volume: float) -> Period:
    t0, t1 = df["start_time"].min(), df["end_time"].max()
    span = max((t1 - t0) / pd.Timedelta(days=1), 1.0) if len(df) else 1.0
    return Period(runs=len(df), days_with_runs=int(df["start_time"].dt.normalize().nunique()),
                  first_start=None if pd.isna(t0) else t0.isoformat(sep=" "),
                  last_end=None if pd.isna(t1) else t1.isoformat(sep=" "), span_days=float(span), volume=volume)


def realised_vs_projected(before: pd.DataFrame, after: pd.DataFrame, case: BusinessCase | None = None, *,
                          before_anomaly_runs: pd.DataFrame | None = None,
                          after_anomaly_runs: pd.DataFrame | None = None,
                          data_coverage: float | None = None, go_live: str | _dt.date | None = None,
                          measured: str = "") -> Realisation:
    """Measured change of each target between *before* and *after* (canonical tables), beside *case*'s projection.

    *case*: the business case of the before period (projection; optional). The anomaly
    excess is measured only when both periods' ``Baseline.anomaly_runs`` are given.
    *data_coverage* defaults to the case's (else 1). Raises :class:`DataError` when a
    period has no runs or no volume to normalise by. *measured*: what was compared, in words
    (the go-live split or the files), kept for the reports.
    """
    if not len(before) or not len(after):
        raise DataError("realised savings need runs before and after the go-live")
    per_tb = has_values(before, "data_processed_gb") and has_values(after, "data_processed_gb")
    notes = []
    if not per_tb:
        notes.append("a history has no data-volume column: rates are per run, not per TB")
    before, after = _measurable(before, per_tb, "before", notes), _measurable(after, per_tb, "after", notes)
    db, da = _daily(before, per_tb, before_anomaly_runs), _daily(after, per_tb, after_anomaly_runs)
    pb, pa = _period(before, float(db["x"].sum())), _period(after, float(da["x"].sum()))
    cov = data_coverage if data_coverage is not None else (
        case.assumptions["global"]["data_coverage"] if case is not None else 1.0)
    volume_year = pa.volume * DAYS_PER_YEAR / pa.span_days / cov
    tl = targets()
    projections = {}
    if case is not None:
        for t in MEASURED_TARGETS:
            on = [r for r in case.solutions if r.target == t]
            if on:
                eff = 1 - float(np.prod([1 - r.effect for r in on]))
                projections[t] = (eff, eff * (case.annual.get(t) or 0.0), tuple(r.id for r in on))
    changes = []
    targets_here = [t for t in MEASURED_TARGETS if t != "anomaly_excess_cost" or
                    (before_anomaly_runs is not None and after_anomaly_runs is not None)]
    # retries are measured only where every run records its attempt: a run of unknown attempt is
    # not a first attempt, and a retry rate over part of the runs would be biased
    no_attempt = {side: int((~attempt_known(d)[1]).sum()) for side, d in (("before", before), ("after", after))}
    if any(no_attempt.values()):
        targets_here.remove("retry_cost")
        notes.append("retry cost not measured: " + "; ".join(
            f"{k:,} of {len(d):,} runs {side} the go-live have no attempt recorded"
            for (side, k), d in zip(no_attempt.items(), (before, after)) if k))
    for t in targets_here:
        rb, vb = _ratio(db, t)
        ra, va = _ratio(da, t)
        ch = ra - rb
        half = Z95 * float(np.sqrt(vb + va))
        ci = (ch - half, ch + half)
        eff = -ch / rb if rb > 0 else None
        eff_ci = (-ci[1] / rb, -ci[0] / rb) if rb > 0 else None
        proj = projections.get(t)
        changes.append(MeasuredChange(
            target=t, label=LABELS.get(t, tl[t].label if t in tl else t), unit="USD per TB" if per_tb else "USD per run",
            before_rate=float(rb), after_rate=float(ra), change=float(ch), change_ci=(float(ci[0]), float(ci[1])),
            measured_effect=None if eff is None else float(eff),
            measured_effect_ci=None if eff_ci is None else (float(eff_ci[0]), float(eff_ci[1])),
            saving_usd_per_year=float(-ch * volume_year),
            saving_ci=(float(-ci[1] * volume_year), float(-ci[0] * volume_year)),
            projected_effect=None if proj is None else proj[0],
            projected_saving_usd_per_year=None if proj is None else proj[1],
            solutions=() if proj is None else proj[2]))
    share = (float(db["on_demand_cost"].sum() / max(db["compute_cost"].sum(), 1e-300)),
             float(da["on_demand_cost"].sum() / max(da["compute_cost"].sum(), 1e-300)))
    method = (f"Rates per {'TB processed' if per_tb else 'run'}: ratio estimators over the days with runs "
              f"({pb.days_with_runs} before, {pa.days_with_runs} after), 95 % intervals from the day-to-day "
              f"variation (Cochran 1977, 6.3); a year's saving = change x the after period's "
              f"{'TB' if per_tb else 'runs'} a year ({volume_year:,.1f}, data coverage {cov:g}).")
    return Realisation(before=pb, after=pa, per="TB" if per_tb else "run", changes=changes, on_demand_share=share,
                       go_live=None if go_live is None else str(pd.Timestamp(go_live).date()), method=method,
                       notes=notes, measured=measured)
