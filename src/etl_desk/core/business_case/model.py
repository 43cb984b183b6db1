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

import math
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd

from etl_desk.core.business_case.assumptions import Assumptions, default_assumptions, validate_assumptions
from etl_desk.core.business_case.baseline import TARGET_KEYS, Baseline, compute_baseline
from etl_desk.core.business_case.catalogue import load_catalogue
from etl_desk.core.business_case.periods import MONTHS_PER_YEAR, weeks_to_months


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
