"""The business-case model: baseline from the job runs, then pure arithmetic.

Two steps, so the window can recompute on every keystroke:

1. :func:`compute_baseline` reads the DataFrame once (the only step that does).
2. :func:`evaluate` turns a :class:`Baseline` and an assumptions dict into a
   :class:`BusinessCase` with a few NumPy operations on at most 120 months.

:func:`business_case` does both; :func:`business_case_json` gives the
JSON-safe dict used by ``etl-desk analyze --json``.

Conventions (the Excel workbook uses exactly the same formulas, see
:mod:`etl_desk.core.finance_xlsx`):

* **Periods**: year = 365 days, quarter = year / 4, month = year / 12,
  week = 7 days. Every per-period figure is derived from the yearly run-rate:
  ``day = year / 365``, ``week = year / 365 * 7``, ``month = year / 12``,
  ``quarter = year / 4``.
* **Annualisation**: measured cost over the data's span is scaled by
  ``365 / span_days`` (span = first start to last end, at least one day) or, with
  ``annualisation = "active_days"``, by ``365 / days with at least one run``;
  then divided by ``data_coverage`` (the share of the estate the data covers).
* **Time line**: monthly. Month *m* = 1..12 x horizon covers ``(m-1, m]`` in months
  from now; a week is ``7 * 12 / 365`` months. Investment is spread evenly over
  the implementation (``start_week`` to ``start_week + weeks``); maintenance runs
  from go-live; savings ramp linearly from 0 at go-live to the full effect after
  ``ramp_weeks`` (each month gets the exact average of the ramp over it). Spend
  of doing nothing, and with it every saving, grows by ``(1 + growth_rate) **
  ((m - 1) / 12)`` in month *m*.
* **NPV**: monthly cash flows at the end of each month, discounted monthly at
  the monthly rate equivalent to the yearly discount rate:
  ``NPV = sum_m (savings_m - investment_m - maintenance_m) * (1 + r) ** (-m / 12)``
  (in Excel: ``SUMPRODUCT(net, discount_factor)``).
* **Payback**: months until the cumulative net cash flow turns non-negative for
  the last time within the horizon, interpolated linearly inside that month;
  ``None`` ("never") when the cumulative net is negative at the horizon. This is
  exactly where the cumulative cost "with the solution" crosses "doing nothing".
  Break-even month = ``ceil(payback)``.
* **ROI**: net benefit over the horizon / costs over the horizon (investment +
  maintenance, undiscounted); ``None`` when there are no costs.
* **Portfolio**: enabled solutions in catalogue order; a solution that shares
  its target with earlier enabled ones acts on what they leave: its effect is
  ``e_i * prod_{j<i} (1 - e_j)``, so the combined effect on a target is
  ``1 - prod (1 - e_i)`` and never exceeds it.
"""
from __future__ import annotations

import copy
import json
import math
import os
import pathlib
import tomllib
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .schema import FAILED, DataError, has_values
from .solutions import GLOBAL_KEYS, SOLUTION_KEYS, Assumption, catalogue, global_assumptions, load_catalogue

DAYS_PER_YEAR = 365
DAYS_PER_WEEK = 7
MONTHS_PER_YEAR = 12
QUARTERS_PER_YEAR = 4
#: Months in one week: 7 * 12 / 365.
PERIODS = ("day", "week", "month", "quarter", "year")

#: Measured baseline components (sums over the data), in display order.
MEASURED = ("compute_cost", "failed_cost", "retry_cost", "on_demand_cost", "large_volume_cost",
            "anomaly_excess_cost")
#: Annual baseline components a solution can target (plus storage and total).
TARGET_KEYS = ("failed_cost", "retry_cost", "on_demand_cost", "large_volume_cost", "storage_cost",
               "anomaly_excess_cost", "total_cost")

LARGE_VOLUME_QUANTILE = 0.8
FALLBACK_Z = 3.5

Assumptions = dict  # {"global": {...}, "solutions": {id: {...}}} -- plain, JSON/TOML-serialisable


# ---------------------------------------------------------------------------------------------
# periods
# ---------------------------------------------------------------------------------------------
def per_period(year: float) -> dict[str, float]:
    """A yearly figure per day, week, month, quarter and year (year = 365 days, week = 7 days)."""
    year = float(year)
    return {"day": year / DAYS_PER_YEAR, "week": year / DAYS_PER_YEAR * DAYS_PER_WEEK,
            "month": year / MONTHS_PER_YEAR, "quarter": year / QUARTERS_PER_YEAR, "year": year}


def weeks_to_months(weeks: float) -> float:
    return weeks * DAYS_PER_WEEK * MONTHS_PER_YEAR / DAYS_PER_YEAR


# ---------------------------------------------------------------------------------------------
# assumptions
# ---------------------------------------------------------------------------------------------
def default_assumptions() -> Assumptions:
    """The catalogue's defaults as a plain dict (a fresh copy)."""
    cat = catalogue()
    return {"global": {k: a.value for k, a in cat.globals.items()},
            "solutions": {s.id: {k: a.value for k, a in s.assumptions.items()} for s in cat.solutions}}


def _check_value(path: str, spec: Assumption, value: Any, file: str | None) -> Any:
    def fail(msg: str):
        raise DataError(f"{path}: {msg}", file=file)

    kind = spec.kind
    if kind == "bool":
        if not isinstance(value, bool):
            fail(f"must be true or false, found {value!r}")
        return value
    if kind == "choice":
        if not isinstance(value, str) or value not in spec.choices:
            fail(f"must be one of {', '.join(spec.choices)}, found {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        fail(f"must be a number, found {value!r}")
    if not math.isfinite(value):
        fail(f"must be a finite number, found {value!r}")
    if not spec.min <= value <= spec.max:
        fail(f"must be between {spec.min:g} and {spec.max:g}, found {value:g}")
    if kind == "int":
        if value != int(value):
            fail(f"must be a whole number, found {value!r}")
        return int(value)
    return float(value)


def validate_assumptions(a: Mapping, *, file: str | os.PathLike | None = None) -> Assumptions:
    """Check *a* and return a complete, normalised copy (missing keys take the defaults).

    Raises :class:`~etl_desk.core.schema.DataError` naming the offending key, e.g.
    ``solutions.error-monitoring.effect: must be between 0 and 1, found 1.5``.
    Unknown keys (sections, solutions, assumptions) are errors.
    """
    f = str(file) if file is not None else None
    if not isinstance(a, Mapping):
        raise DataError("assumptions must be a table with 'global' and 'solutions'", file=f)
    for k in a:
        if k not in ("global", "solutions"):
            raise DataError(f"{k}: unknown key (expected 'global' or 'solutions')", file=f)
    out = default_assumptions()
    specs_g = global_assumptions()
    g = a.get("global", {})
    if not isinstance(g, Mapping):
        raise DataError("global: must be a table", file=f)
    for k, v in g.items():
        if k not in specs_g:
            raise DataError(f"global.{k}: unknown assumption (known: {', '.join(GLOBAL_KEYS)})", file=f)
        out["global"][k] = _check_value(f"global.{k}", specs_g[k], v, f)
    sols = a.get("solutions", {})
    if not isinstance(sols, Mapping):
        raise DataError("solutions: must be a table", file=f)
    by_id = {s.id: s for s in catalogue().solutions}
    for sid, vals in sols.items():
        if sid not in by_id:
            raise DataError(f"solutions.{sid}: unknown solution (known: {', '.join(by_id)})", file=f)
        if not isinstance(vals, Mapping):
            raise DataError(f"solutions.{sid}: must be a table", file=f)
        specs = by_id[sid].assumptions
        for k, v in vals.items():
            if k not in specs:
                raise DataError(f"solutions.{sid}.{k}: unknown assumption (known: {', '.join(SOLUTION_KEYS)})",
                                file=f)
            out["solutions"][sid][k] = _check_value(f"solutions.{sid}.{k}", specs[k], v, f)
    return out


def load_assumptions(path: str | os.PathLike) -> Assumptions:
    """Read assumptions from a .json or .toml file (other suffixes: JSON, then TOML), validated.

    Keys not in the file take their defaults; unknown or invalid keys raise
    :class:`DataError` naming file and key.
    """
    p = pathlib.Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read assumptions ({exc.strerror or exc})", file=str(p)) from None
    text = raw.decode("utf-8-sig", errors="replace")
    suffix = p.suffix.lower()
    data = None
    errors = []
    order = ("toml",) if suffix == ".toml" else ("json",) if suffix == ".json" else ("json", "toml")
    for fmt in order:
        try:
            data = json.loads(text) if fmt == "json" else tomllib.loads(text)
            break
        except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
            errors.append(f"not valid {fmt.upper()} ({exc})")
    if data is None:
        raise DataError("; ".join(errors), file=str(p))
    return validate_assumptions(data, file=str(p))


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        r = repr(v)
        return r if any(c in r for c in ".en") else r + ".0"
    return json.dumps(str(v), ensure_ascii=False)


def assumptions_to_toml(a: Assumptions) -> str:
    lines = ["# ETL Desk business-case assumptions", "", "[global]"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in a["global"].items()]
    for sid, vals in a["solutions"].items():
        lines += ["", f"[solutions.{sid}]"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in vals.items()]
    return "\n".join(lines) + "\n"


def save_assumptions(a: Mapping, path: str | os.PathLike) -> pathlib.Path:
    """Validate and write *a* as TOML (``.toml``) or JSON (anything else), atomically."""
    p = pathlib.Path(path)
    full = validate_assumptions(a)
    text = assumptions_to_toml(full) if p.suffix.lower() == ".toml" else json.dumps(full, indent=2) + "\n"
    from .tables import atomic_write

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)

    atomic_write(p, write)
    return p


def assumption_items(a: Assumptions) -> list[tuple[str, Any]]:
    """Flat (dotted key, value) pairs: ``global.discount_rate``, ``solutions.<id>.effect`` ..."""
    out = [(f"global.{k}", v) for k, v in a["global"].items()]
    for sid, vals in a["solutions"].items():
        out += [(f"solutions.{sid}.{k}", v) for k, v in vals.items()]
    return out


def assumptions_from_items(items) -> Assumptions:
    """Inverse of :func:`assumption_items` (e.g. read back from the workbook), validated."""
    a: dict = {"global": {}, "solutions": {}}
    for key, value in items:
        parts = str(key).split(".")
        if len(parts) == 2 and parts[0] == "global":
            a["global"][parts[1]] = value
        elif len(parts) == 3 and parts[0] == "solutions":
            a["solutions"].setdefault(parts[1], {})[parts[2]] = value
        else:
            raise DataError(f"{key}: unknown assumption key")
    return validate_assumptions(a)


# ---------------------------------------------------------------------------------------------
# baseline
# ---------------------------------------------------------------------------------------------
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


def _anomaly_run_ids(df: pd.DataFrame, anomalies, thresholds=None) -> tuple[np.ndarray, str]:
    """Flagged run ids and where they came from."""
    if anomalies is None:
        try:
            from .anomalies import detect_anomalies  # optional: written by another module owner

            anomalies = detect_anomalies(df, thresholds)
            source = "etl_desk.core.anomalies.detect_anomalies" + _rules_text(anomalies.attrs.get("thresholds"))
        except Exception as exc:  # missing module or a failure there must not sink the business case
            cost = df["cost_usd"].to_numpy(dtype="float64")
            key = _pipeline_key(df)
            med = df.groupby(key, sort=False)["cost_usd"].transform("median").to_numpy()
            dev = np.abs(cost - med)
            mad = pd.Series(dev).groupby(key.to_numpy(), sort=False).transform("median").to_numpy()
            with np.errstate(divide="ignore", invalid="ignore"):
                z = 0.6745 * (cost - med) / mad
            flagged = (mad > 0) & (z > FALLBACK_Z)
            why = "" if isinstance(exc, ImportError) else f" ({type(exc).__name__}: {exc})"
            return (df["run_id"].to_numpy()[flagged],
                    f"built-in rule: robust z-score of cost against the pipeline median > {FALLBACK_Z}{why}")
    else:
        attrs = getattr(anomalies, "attrs", None)
        th = attrs.get("thresholds") if isinstance(attrs, dict) else None
        source = ("the analysis's anomaly rules" + _rules_text(th)) if th else "anomalies given by the caller"
    if not isinstance(anomalies, pd.DataFrame):
        for attr in ("table", "frame", "df", "anomalies"):
            cand = getattr(anomalies, attr, None)
            if isinstance(cand, pd.DataFrame):
                anomalies = cand
                break
    if not isinstance(anomalies, pd.DataFrame) or "run_id" not in anomalies.columns:
        return np.array([], dtype=object), "no anomaly table with a run_id column"
    if "rule" in anomalies.columns:
        # only run-level findings carry excess cost; a failure-rate jump describes a pipeline-week
        from .anomalies import GROUP_RULES

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
    When absent, that function is run with *thresholds*
    (:class:`~etl_desk.core.anomalies.AnomalyThresholds`; its defaults when
    ``None``) if available, else a built-in robust z-score rule.
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
        ids, source = _anomaly_run_ids(df, anomalies, thresholds)
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


# ---------------------------------------------------------------------------------------------
# evaluation
# ---------------------------------------------------------------------------------------------
@dataclass
class Schedule:
    """Monthly cash flows (index 0 = month 1)."""

    investment: np.ndarray
    maintenance: np.ndarray
    savings: np.ndarray

    @property
    def net(self) -> np.ndarray:
        return self.savings - self.investment - self.maintenance

    @property
    def cumulative_net(self) -> np.ndarray:
        return np.cumsum(self.net)


@dataclass
class Result:
    """One solution, the portfolio or doing nothing."""

    id: str
    name: str
    enabled: bool
    investment_usd: float
    personnel_fte: float
    duration_weeks: float
    start_week: float
    go_live_week: float
    maintenance_year: float
    savings_year: float
    cost_year: float
    schedule: Schedule
    discount: np.ndarray
    target: str | None = None
    target_usd_per_year: float | None = None
    effect: float | None = None
    remaining_share: float | None = None  # share of the target left by earlier portfolio members
    number: int = 0
    timeline: str = ""
    payback_months: float | None = field(init=False)
    npv_usd: float = field(init=False)

    def __post_init__(self):
        self.payback_months = None if self.id == "do-nothing" else payback_months(self.schedule.cumulative_net)
        self.npv_usd = float(np.sum(self.schedule.net * self.discount))

    @property
    def break_even_month(self) -> int | None:
        return None if self.payback_months is None else int(math.ceil(self.payback_months))

    @property
    def total_savings(self) -> float:
        return float(self.schedule.savings.sum())

    @property
    def total_costs(self) -> float:
        return float(self.schedule.investment.sum() + self.schedule.maintenance.sum())

    @property
    def net_benefit(self) -> float:
        return self.total_savings - self.total_costs

    @property
    def roi(self) -> float | None:
        c = self.total_costs
        return None if c <= 0 else self.net_benefit / c

    @property
    def pv_costs(self) -> float:
        return float(np.sum((self.schedule.investment + self.schedule.maintenance) * self.discount))


def payback_months(cum: np.ndarray) -> float | None:
    """Months until the cumulative net cash flow is non-negative for good (linear inside the month).

    ``None`` when it is negative at the end; 0 when it never goes negative.
    """
    if len(cum) == 0:
        return 0.0
    if cum[-1] < 0:
        return None
    prev = np.concatenate(([0.0], cum[:-1]))
    cross = np.flatnonzero((prev < 0) & (cum >= 0))
    if len(cross) == 0:
        return 0.0
    i = cross[-1]
    return float(i + (-prev[i]) / (cum[i] - prev[i]))


def _ramp_integral(t: np.ndarray, go: float, ramp: float) -> np.ndarray:
    """Integral from 0 to t of the ramp level (0 before go-live, linear to 1 over *ramp* months)."""
    after = np.maximum(t - go, 0.0)
    if ramp == 0:
        return after
    return np.minimum(after, ramp) ** 2 / (2 * ramp) + np.maximum(t - go - ramp, 0.0)


@dataclass
class BusinessCase:
    baseline: Baseline
    assumptions: Assumptions
    annual: dict[str, float | None]
    months: np.ndarray  # 1..N
    discount: np.ndarray
    growth: np.ndarray
    do_nothing_monthly: np.ndarray
    solutions: list[Result]
    portfolio: Result
    do_nothing: Result
    portfolio_targets: list[dict]

    @property
    def horizon_months(self) -> int:
        return len(self.months)

    @property
    def do_nothing_cumulative(self) -> np.ndarray:
        """Cumulative cost of doing nothing at the end of months 0..N (starts at 0)."""
        return np.concatenate(([0.0], np.cumsum(self.do_nothing_monthly)))

    def with_cumulative(self, result: Result) -> np.ndarray:
        """Cumulative cost with *result* (a solution or the portfolio) at the end of months 0..N."""
        return self.do_nothing_cumulative - np.concatenate(([0.0], result.schedule.cumulative_net))

    @property
    def portfolio_cumulative(self) -> np.ndarray:
        return self.with_cumulative(self.portfolio)


def evaluate(baseline: Baseline, assumptions: Mapping | None = None) -> BusinessCase:
    """The business case for *assumptions* (validated; defaults when ``None``): pure arithmetic."""
    a = validate_assumptions(assumptions if assumptions is not None else default_assumptions())
    g = a["global"]
    annual = baseline.annual(a)
    n = int(g["horizon_years"]) * MONTHS_PER_YEAR
    m = np.arange(1, n + 1, dtype="float64")
    growth = (1 + g["growth_rate"]) ** ((m - 1) / 12)
    discount = (1 + g["discount_rate"]) ** (-m / 12)
    total_year = annual["total_cost"]
    do_nothing_monthly = total_year / 12 * growth

    results: list[Result] = []
    remaining_by_target: dict[str, float] = {}
    for sol in load_catalogue():
        s = a["solutions"][sol.id]
        target = s["target"]
        target_year = annual[target] or 0.0
        invest = s["people"] * s["weeks"] * s["weekly_rate_usd"] + s["tooling_usd"]
        maint_year = s["maintenance_usd_per_year"] + s["maintenance_fte"] * s["weekly_rate_usd"] * 365 / 7
        sav_year = s["effect"] * target_year
        st = weeks_to_months(s["start_week"])
        go = weeks_to_months(s["start_week"] + s["weeks"])
        ramp = weeks_to_months(s["ramp_weeks"])
        inv_m = invest * np.maximum(0.0, np.minimum(go, m) - np.maximum(st, m - 1)) / (go - st)
        maint_m = maint_year / 12 * (np.maximum(m - go, 0.0) - np.maximum(m - 1 - go, 0.0))
        sav_m = sav_year / 12 * growth * (_ramp_integral(m, go, ramp) - _ramp_integral(m - 1, go, ramp))
        remaining = remaining_by_target.get(target, 1.0)
        if s["enabled"]:
            remaining_by_target[target] = remaining * (1 - s["effect"])
        end_week = s["start_week"] + s["weeks"]
        timeline = (f"start week {s['start_week']:g}, {s['weeks']:g} weeks of implementation, go-live week "
                    f"{end_week:g}, full effect week {end_week + s['ramp_weeks']:g}")
        results.append(Result(
            id=sol.id, name=sol.name, number=sol.number, enabled=s["enabled"], investment_usd=invest,
            personnel_fte=float(s["people"]), duration_weeks=float(s["weeks"]), start_week=float(s["start_week"]),
            go_live_week=float(end_week), maintenance_year=maint_year, savings_year=sav_year,
            cost_year=total_year - sav_year + maint_year,
            schedule=Schedule(inv_m, maint_m, sav_m), discount=discount, target=target,
            target_usd_per_year=annual[target], effect=s["effect"],
            remaining_share=remaining if s["enabled"] else 0.0, timeline=timeline))

    en = [r for r in results if r.enabled]
    z = np.zeros(n)
    p_inv = sum((r.schedule.investment for r in en), z.copy())
    p_maint = sum((r.schedule.maintenance for r in en), z.copy())
    p_sav = sum((r.schedule.savings * r.remaining_share for r in en), z.copy())
    p_sav_year = sum(r.savings_year * r.remaining_share for r in en)
    p_maint_year = sum(r.maintenance_year for r in en)
    start = min((r.start_week for r in en), default=0.0)
    end = max((r.go_live_week for r in en), default=0.0)
    portfolio = Result(
        id="portfolio", name="Portfolio of selected solutions", enabled=bool(en),
        investment_usd=sum(r.investment_usd for r in en), personnel_fte=sum(r.personnel_fte for r in en),
        duration_weeks=(end - start) if en else 0.0, start_week=start, go_live_week=end,
        maintenance_year=p_maint_year, savings_year=p_sav_year, cost_year=total_year - p_sav_year + p_maint_year,
        schedule=Schedule(p_inv, p_maint, p_sav), discount=discount,
        timeline=(f"weeks {start:g} to {end:g}: " + ", ".join(f"{r.number}" for r in en)) if en else "nothing selected")
    do_nothing = Result(
        id="do-nothing", name="Doing nothing", enabled=True, investment_usd=0.0, personnel_fte=0.0,
        duration_weeks=0.0, start_week=0.0, go_live_week=0.0, maintenance_year=0.0, savings_year=0.0,
        cost_year=total_year, schedule=Schedule(z.copy(), z.copy(), z.copy()), discount=discount,
        target="total_cost", target_usd_per_year=total_year, timeline="today's run-rate continues")

    ptargets = []
    for t in TARGET_KEYS:
        members = [r for r in en if r.target == t]
        if not members:
            continue
        combined = 1 - float(np.prod([1 - r.effect for r in members]))
        ptargets.append({"target": t, "baseline_usd_per_year": annual[t], "solutions": [r.id for r in members],
                         "combined_effect": combined,
                         "savings_usd_per_year": sum(r.savings_year * r.remaining_share for r in members)})
    return BusinessCase(baseline=baseline, assumptions=a, annual=annual, months=m, discount=discount, growth=growth,
                        do_nothing_monthly=do_nothing_monthly, solutions=results, portfolio=portfolio,
                        do_nothing=do_nothing, portfolio_targets=ptargets)


def business_case(df: pd.DataFrame, assumptions: Mapping | None = None,
                  anomalies: pd.DataFrame | None = None, thresholds=None) -> BusinessCase:
    """Baseline from *df* (and *anomalies*, or detection at *thresholds*), then :func:`evaluate`."""
    return evaluate(compute_baseline(df, anomalies, thresholds), assumptions)


# ---------------------------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------------------------
CONVENTIONS = {
    "periods": "year = 365 days, quarter = year / 4, month = year / 12, week = 7 days; per-period "
               "figures are steady-state run-rates derived from the yearly figure",
    "cash_flows": "monthly; investment spread evenly over the implementation weeks, maintenance from go-live, "
                  "savings ramp linearly to the full effect over ramp_weeks after go-live and grow with spend",
    "npv": "monthly cash flows at month end discounted monthly: sum(net_m * (1 + discount_rate) ** (-m / 12)) "
           "over the horizon",
    "payback": "months until the cumulative net cash flow turns non-negative for the last time within the "
               "horizon (linear within the month); null = never within the horizon",
    "roi": "(savings - investment - maintenance) / (investment + maintenance) over the horizon, undiscounted",
    "portfolio": "enabled solutions in catalogue order; solutions sharing a target act on what earlier ones "
                 "leave: combined effect = 1 - prod(1 - effect)",
}


def _num(v) -> float | None:
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def result_json(r: Result, case: BusinessCase | None = None) -> dict:
    out = {
        "id": r.id, "name": r.name, "enabled": r.enabled,
        "investment_usd": _num(r.investment_usd), "personnel_fte": _num(r.personnel_fte),
        "duration_weeks": _num(r.duration_weeks), "start_week": _num(r.start_week),
        "go_live_week": _num(r.go_live_week), "timeline": r.timeline,
        "maintenance_usd": per_period(r.maintenance_year), "savings_usd": per_period(r.savings_year),
        "net_savings_usd": per_period(r.savings_year - r.maintenance_year), "cost_usd": per_period(r.cost_year),
        "payback_months": _num(r.payback_months), "break_even_month": r.break_even_month,
        "roi": _num(r.roi), "npv_usd": _num(r.npv_usd),
        "horizon_savings_usd": _num(r.total_savings), "horizon_costs_usd": _num(r.total_costs),
        "net_benefit_usd": _num(r.net_benefit), "pv_costs_usd": _num(r.pv_costs),
    }
    if r.target is not None:
        out.update({"target": r.target, "target_usd_per_year": _num(r.target_usd_per_year)})
    if r.effect is not None:
        out["effect"] = r.effect
        out["portfolio_share_of_effect"] = _num(r.remaining_share)
    if case is not None:
        pv_dn = float(np.sum(case.do_nothing_monthly * case.discount))
        out["horizon_spend_usd"] = _num(case.with_cumulative(r)[-1])
        out["pv_spend_usd"] = _num(pv_dn - r.npv_usd)
    return out


def business_case_json(case: BusinessCase) -> dict:
    """JSON-safe dict (no NaN; ``null`` for "never pays back" and unavailable figures)."""
    b = case.baseline
    g = case.assumptions["global"]
    dn = result_json(case.do_nothing, case)
    return {
        "currency": "USD",
        "conventions": CONVENTIONS,
        "horizon_months": case.horizon_months,
        "baseline": {
            "runs": b.runs, "first_start": b.first_start, "last_end": b.last_end,
            "span_days": b.span_days, "active_days": b.active_days,
            "annualisation": g["annualisation"], "annualisation_factor": b.factor(g["annualisation"]),
            "data_coverage": g["data_coverage"],
            "method": b.method_text(g["annualisation"], g["data_coverage"]),
            "observed_usd": {k: _num(v) for k, v in b.observed.items()},
            "annual_usd": {k: _num(v) for k, v in case.annual.items()},
            "counts": dict(b.counts), "large_volume_threshold_gb": _num(b.large_volume_threshold_gb),
            "anomaly_source": b.anomaly_source, "notes": list(b.notes),
        },
        "assumptions": copy.deepcopy(case.assumptions),
        "solutions": [result_json(r, case) for r in case.solutions],
        "do_nothing": dn,
        "portfolio": {**result_json(case.portfolio, case),
                      "solutions": [r.id for r in case.solutions if r.enabled],
                      "targets": [{k: (_num(v) if isinstance(v, float) else v) for k, v in t.items()}
                                  for t in case.portfolio_targets]},
        "cumulative_cost_usd": {
            "month": list(range(case.horizon_months + 1)),
            "do_nothing": [float(x) for x in case.do_nothing_cumulative],
            "portfolio": [float(x) for x in case.portfolio_cumulative],
        },
    }


def _usd(v: float | None) -> str:
    from .fmt import usd

    return usd(v, missing="n/a")


def format_business_case(j: dict) -> list[str]:
    """A short plain-text business-case section for the terminal report (from :func:`business_case_json`)."""
    b = j["baseline"]
    lines = ["Business case (USD; " + b["method"] + ")",
             f"  Doing nothing: {_usd(j['do_nothing']['cost_usd']['year'])} a year, "
             f"{_usd(j['do_nothing']['horizon_spend_usd'])} over {j['horizon_months']} months"]
    head = f"  {'solution':<46} {'investment':>12} {'FTE':>5} {'weeks':>6} {'maint./month':>13} " \
           f"{'savings/month':>14} {'payback':>9} {'ROI':>8} {'NPV':>14}"
    lines.append(head)
    for s in j["solutions"] + [j["portfolio"]]:
        name = ("[x] " if s["enabled"] else "[ ] ") + s["name"] if s["id"] != "portfolio" else s["name"]
        pb = "never" if s["payback_months"] is None else f"{s['payback_months']:.1f} mo"
        roi = "n/a" if s["roi"] is None else f"{s['roi']:.0%}"
        lines.append(f"  {name[:46]:<46} {_usd(s['investment_usd']):>12} {s['personnel_fte']:>5g} "
                     f"{s['duration_weeks']:>6g} {_usd(s['maintenance_usd']['month']):>13} "
                     f"{_usd(s['savings_usd']['month']):>14} {pb:>9} {roi:>8} {_usd(s['npv_usd']):>14}")
    lines += [f"  Note: {n}" for n in b["notes"]]
    return lines
