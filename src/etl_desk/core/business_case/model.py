"""The business-case model: a measured baseline, then pure arithmetic on at most 120 months.

:func:`evaluate` turns a :class:`~etl_desk.core.business_case.baseline.Baseline` and an
assumptions dict into a :class:`BusinessCase` in a few milliseconds, so the window can
recompute on every keystroke. The workbook (:mod:`etl_desk.core.workbook`) writes the
same formulas, term for term, as live Excel formulas.

Conventions (:mod:`etl_desk.core.conventions`; the JSON report and the workbook state
them the same way):

* **Periods**: year = 365 days, quarter = year / 4, month = year / 12, week = 7 days;
  per-period figures are steady-state run-rates derived from the yearly figure.
* **People**: investment = people x implementation weeks x loaded weekly rate + tooling;
  maintenance = running cost + maintenance FTE x weekly rate x 50 working weeks.
* **Scenario**: the scenario in force multiplies the effect (capped at 100 %), the
  investment, the maintenance and the measured baseline
  (:func:`~etl_desk.core.business_case.assumptions.scenario_multipliers`).
* **Cash flows**: monthly, month-end (:mod:`etl_desk.core.business_case.schedule`).
  Spend of doing nothing, and every saving, grows by ``(1 + growth) ** ((m - 1) / 12)``;
  maintenance does not inflate; no terminal value (benefits after the horizon ignored).
* **NPV** = ``sum_{m <= horizon} net_m * (1 + r) ** (-m / 12)`` (= Excel ``NPV`` at the
  monthly rate ``(1 + r) ** (1 / 12) - 1``); **PI** = PV of savings / PV of costs;
  **ROI** = net benefit / costs over the horizon, undiscounted; **IRR** annualised
  ``(1 + monthly IRR) ** 12 - 1`` where the flows change sign once.
* **Payback**: months until the cumulative net cash flow turns non-negative for good,
  over the whole 120-month schedule, linear within the month, and flagged when it falls
  after the horizon (``payback_status``); **discounted payback** the same on the
  discounted flows.
* **Portfolio**: with the rule ``npv_max`` (default), the combination of the solutions in
  the portfolio (``enabled``) with the highest NPV -- none when nothing pays back; with
  ``enabled``, all of them. Solutions that share a target act on what earlier ones leave:
  effect ``e_i * prod_{j<i} (1 - e_j)``, combined ``1 - prod (1 - e_i)``. Personnel is the
  peak FTE working at the same time, and the person-weeks of effort.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd

from etl_desk.core.business_case.assumptions import (
    Assumptions,
    default_assumptions,
    scenario_multipliers,
    start_date,
    validate_assumptions,
)
from etl_desk.core.business_case.baseline import (
    TARGET_KEYS,
    Baseline,
    BusinessCaseUnavailable,
    compute_baseline,
)
from etl_desk.core.business_case.catalogue import load_catalogue
from etl_desk.core.business_case.periods import MONTHS_PER_YEAR, WORKING_WEEKS_PER_YEAR
from etl_desk.core.business_case.schedule import (
    NOTHING,
    SCHEDULE_MONTHS,
    discount_factors,
    growth_factors,
    irr_annual,
    months,
    payback_months,
    payback_status,
    unit_series,
)

__all__ = ["Schedule", "Result", "BusinessCase", "evaluate", "business_case", "payback_months", "resolve_start"]


@dataclass
class Schedule:
    """Monthly cash flows in USD (index 0 = month 1)."""

    investment: np.ndarray
    maintenance: np.ndarray
    savings: np.ndarray

    @property
    def net(self) -> np.ndarray:
        """Net cash flow per month (USD): savings - investment - maintenance, same length as the series."""
        return self.savings - self.investment - self.maintenance

    @property
    def cumulative_net(self) -> np.ndarray:
        """Cumulative net cash flow at the end of each month (USD), undiscounted."""
        return np.cumsum(self.net)

    def head(self, n: int) -> "Schedule":
        """The first *n* months (the horizon) of the three series, as a new :class:`Schedule`."""
        return Schedule(self.investment[:n], self.maintenance[:n], self.savings[:n])


@dataclass
class Result:
    """One solution, the portfolio or doing nothing.

    ``schedule`` covers the horizon; ``full`` the whole 120-month schedule (payback is read
    off it). ``enabled``: the solution may be in the portfolio; ``member``: it is.
    ``units`` (solutions only): the unit series ``spread``, ``mfrac``, ``rf`` over 120 months.
    """

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
    full: Schedule
    discount_full: np.ndarray
    horizon_months: int
    target: str | None = None
    target_usd_per_year: float | None = None
    effect: float | None = None
    effect_input: float | None = None
    remaining_share: float | None = None
    number: int = 0
    timeline: str = ""
    member: bool = False
    person_weeks: float = 0.0
    units: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def __post_init__(self):
        h = self.horizon_months
        self.schedule = self.full.head(h)
        self.discount = self.discount_full[:h]
        flows = self.id != "do-nothing" and (self.full.investment.any() or self.full.maintenance.any()
                                             or self.full.savings.any())
        net = self.full.net
        self.payback_months = payback_months(np.cumsum(net)) if flows else None
        self.discounted_payback_months = payback_months(np.cumsum(net * self.discount_full)) if flows else None
        self.payback_status = payback_status(self.payback_months, net, h, flows)
        self.discounted_payback_status = payback_status(self.discounted_payback_months, net * self.discount_full,
                                                        h, flows)
        self.npv_usd = float(np.sum(self.schedule.net * self.discount))
        self.irr_annual = irr_annual(self.schedule.net) if flows else None

    @property
    def payback_within_horizon(self) -> bool:
        """True when the undiscounted payback falls within the horizon (``payback_months <= horizon_months``).
        """
        return self.payback_months is not None and self.payback_months <= self.horizon_months

    @property
    def break_even_month(self) -> int | None:
        """The month (1-based) in which cumulative net cash turns non-negative for good:
        ``ceil(payback_months)``; None when it never does within the 120-month schedule.
        """
        return None if self.payback_months is None else int(np.ceil(self.payback_months))

    @property
    def total_savings(self) -> float:
        """Savings summed over the horizon (USD, undiscounted)."""
        return float(self.schedule.savings.sum())

    @property
    def total_costs(self) -> float:
        """Investment plus maintenance summed over the horizon (USD, undiscounted)."""
        return float(self.schedule.investment.sum() + self.schedule.maintenance.sum())

    @property
    def net_benefit(self) -> float:
        """Savings minus costs over the horizon (USD, undiscounted)."""
        return self.total_savings - self.total_costs

    @property
    def roi(self) -> float | None:
        """Return on investment over the horizon, undiscounted: net benefit / costs as a fraction
        (0.5 = 50 %); None when there are no costs.
        """
        c = self.total_costs
        return None if c <= 0 else self.net_benefit / c

    @property
    def pv_costs(self) -> float:
        """Present value of investment plus maintenance over the horizon (USD; month-end discount factors
        ``(1 + r) ** (-m / 12)``).
        """
        return float(np.sum((self.schedule.investment + self.schedule.maintenance) * self.discount))

    @property
    def pv_savings(self) -> float:
        """Present value of the savings over the horizon (USD; month-end discount factors ``(1 + r) ** (-m / 12)``).
        """
        return float(np.sum(self.schedule.savings * self.discount))

    @property
    def profitability_index(self) -> float | None:
        """PV of savings / PV of costs over the horizon (> 1 pays back); ``None`` without costs."""
        c = self.pv_costs
        return None if c <= 0 else self.pv_savings / c


@dataclass
class BusinessCase:
    """Every solution, the portfolio and doing nothing under one set of assumptions."""

    baseline: Baseline
    assumptions: Assumptions
    annual: dict[str, float | None]
    assumed: dict[str, float]
    months: np.ndarray  # 1..horizon
    discount: np.ndarray
    growth: np.ndarray
    do_nothing_monthly: np.ndarray
    solutions: list[Result]
    portfolio: Result
    do_nothing: Result
    portfolio_targets: list[dict]
    scenario: str = "base"
    multipliers: dict[str, float] = field(default_factory=dict)
    start: _dt.date = _dt.date(2000, 1, 1)
    members: tuple[str, ...] = ()
    all_enabled_npv: float = 0.0

    @property
    def horizon_months(self) -> int:
        """The horizon in months (``horizon_years`` x 12; the length of ``months``, ``discount`` ...)."""
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
        """Cumulative cost with the portfolio at the end of months 0..N (USD, length horizon + 1)."""
        return self.with_cumulative(self.portfolio)

    def result(self, rid: str) -> Result:
        """The :class:`Result` of option *rid*: a solution id, ``"portfolio"`` or ``"do-nothing"``.

        Raises:
            KeyError: for any other id.
        """
        for r in self.solutions + [self.portfolio, self.do_nothing]:
            if r.id == rid:
                return r
        raise KeyError(rid)


def resolve_start(value: str, baseline: Baseline) -> _dt.date:
    """The project start: the date given, or (``auto``) the first day of the month after the data ends."""
    d = start_date(value)
    if d is not None:
        return d
    last = baseline.last_end or baseline.first_start
    if last is None:
        return _dt.date(2000, 1, 1)
    t = pd.Timestamp(last)
    return (t.to_period("M") + 1).to_timestamp().date()


def _remaining(order: list[int], targets: list[str], effects: list[float], member: list[bool]) -> list[float]:
    """Share of each solution's target left by earlier members acting on the same target."""
    rem, left = [], {}
    for i in order:
        r = left.get(targets[i], 1.0)
        rem.append(r if member[i] else 0.0)
        if member[i]:
            left[targets[i]] = r * (1 - effects[i])
    return rem


def _best_members(pv_s: list[float], pv_c: list[float], targets: list[str], effects: list[float],
                  enabled: list[bool]) -> tuple[list[bool], float]:
    """The NPV-maximising combination of the enabled solutions (first best in bit order; empty when none pays)."""
    k = len(pv_s)
    best, best_npv = [False] * k, 0.0
    for mask in range(1, 2 ** k):
        member = [bool(mask >> i & 1) for i in range(k)]
        if any(m and not e for m, e in zip(member, enabled)):
            continue
        rem = _remaining(list(range(k)), targets, effects, member)
        npv = sum(pv_s[i] * rem[i] - pv_c[i] for i in range(k) if member[i])
        if npv > best_npv:
            best, best_npv = member, npv
    return best, best_npv


def evaluate(baseline: Baseline, assumptions: Mapping | None = None, *, members: tuple[str, ...] | None = None,
             factors: Mapping[str, float] | None = None) -> BusinessCase:
    """The business case for *assumptions* (validated; defaults when ``None``): pure arithmetic.

    *members* forces the portfolio to these solution ids (scenario and sensitivity
    comparisons keep the portfolio of the case they vary); *factors* multiplies
    ``effect`` (capped at 1), ``weekly_rate`` and ``maintenance`` on top of the scenario
    (one-at-a-time sensitivity). Raises :class:`BusinessCaseUnavailable` when no run has
    a price (the baseline is unknown, not zero).
    """
    if not baseline.cost_known:
        raise BusinessCaseUnavailable("the business case needs costs, and no run in this data has a price "
                                      "(the source carries no cost): the cost of doing nothing is unknown")
    a = validate_assumptions(assumptions if assumptions is not None else default_assumptions())
    g = a["global"]
    fx = {"effect": 1.0, "weekly_rate": 1.0, "maintenance": 1.0, **(factors or {})}
    mult = scenario_multipliers(a)
    annual = baseline.annual(a)
    assumed = baseline.assumed(a)
    h = int(g["horizon_years"]) * MONTHS_PER_YEAR
    m = months(SCHEDULE_MONTHS)
    growth = growth_factors(g["growth_rate"], m)
    discount = discount_factors(g["discount_rate"], m)
    total_year = annual["total_cost"]

    cat = load_catalogue()
    rows = []
    for sol in cat:
        s = a["solutions"][sol.id]
        rate = s["weekly_rate_usd"] * fx["weekly_rate"]
        invest = (s["people"] * s["weeks"] * rate + s["tooling_usd"]) * mult["investment"]
        maint = (s["maintenance_usd_per_year"] + s["maintenance_fte"] * rate * WORKING_WEEKS_PER_YEAR) \
            * mult["maintenance"] * fx["maintenance"]
        eff = min(1.0, s["effect"] * mult["effect"] * fx["effect"])
        target_year = annual[s["target"]] or 0.0
        spread, mfrac, rf = unit_series(s["start_week"], s["weeks"], s["ramp_weeks"], growth, m)
        full = Schedule(invest * spread, maint / MONTHS_PER_YEAR * mfrac, eff * target_year / MONTHS_PER_YEAR * rf)
        rows.append((sol, s, invest, maint, eff, target_year, full, {"spread": spread, "mfrac": mfrac, "rf": rf}))

    targets = [r[1]["target"] for r in rows]
    effects = [r[4] for r in rows]
    enabled = [bool(r[1]["enabled"]) for r in rows]
    pv_s = [float(np.sum(r[6].savings[:h] * discount[:h])) for r in rows]
    pv_c = [float(np.sum((r[6].investment[:h] + r[6].maintenance[:h]) * discount[:h])) for r in rows]
    rem_all = _remaining(list(range(len(rows))), targets, effects, enabled)
    all_npv = sum(pv_s[i] * rem_all[i] - pv_c[i] for i in range(len(rows)) if enabled[i])
    if members is not None:
        member = [r[0].id in members for r in rows]
    elif g["portfolio"] == "npv_max":
        member, _ = _best_members(pv_s, pv_c, targets, effects, enabled)
    else:
        member = enabled
    rem = _remaining(list(range(len(rows))), targets, effects, member)

    results: list[Result] = []
    for i, (sol, s, invest, maint, eff, target_year, full, units) in enumerate(rows):
        sav_year = eff * target_year
        end_week = s["start_week"] + s["weeks"]
        results.append(Result(
            id=sol.id, name=sol.name, number=sol.number, enabled=enabled[i], member=member[i],
            investment_usd=invest, personnel_fte=float(s["people"]), person_weeks=float(s["people"] * s["weeks"]),
            duration_weeks=float(s["weeks"]), start_week=float(s["start_week"]), go_live_week=float(end_week),
            maintenance_year=maint, savings_year=sav_year, cost_year=total_year - sav_year + maint,
            full=full, discount_full=discount, horizon_months=h, target=s["target"],
            target_usd_per_year=annual[s["target"]], effect=eff, effect_input=s["effect"],
            remaining_share=rem[i], units=units,
            timeline=(f"start week {s['start_week']:g}, {s['weeks']:g} weeks of implementation, go-live week "
                      f"{end_week:g}, full effect week {end_week + s['ramp_weeks']:g}")))

    mem = [r for r in results if r.member]
    z = np.zeros(SCHEDULE_MONTHS)
    p_full = Schedule(sum((r.full.investment for r in mem), z.copy()), sum((r.full.maintenance for r in mem), z.copy()),
                      sum((r.full.savings * r.remaining_share for r in mem), z.copy()))
    p_sav_year = sum(r.savings_year * r.remaining_share for r in mem)
    p_maint_year = sum(r.maintenance_year for r in mem)
    start = min((r.start_week for r in mem), default=0.0)
    end = max((r.go_live_week for r in mem), default=0.0)
    peak = max((sum(o.personnel_fte for o in mem if o.start_week <= r.start_week < o.go_live_week) for r in mem),
               default=0.0)
    portfolio = Result(
        id="portfolio", name="Portfolio", enabled=bool(mem), member=bool(mem),
        investment_usd=sum(r.investment_usd for r in mem), personnel_fte=float(peak),
        person_weeks=sum(r.person_weeks for r in mem), duration_weeks=(end - start) if mem else 0.0,
        start_week=start, go_live_week=end, maintenance_year=p_maint_year, savings_year=p_sav_year,
        cost_year=total_year - p_sav_year + p_maint_year, full=p_full, discount_full=discount, horizon_months=h,
        timeline=(f"weeks {start:g} to {end:g}: solutions " + ", ".join(f"{r.number}" for r in mem))
        if mem else "no solution in the portfolio")
    do_nothing = Result(
        id="do-nothing", name="Doing nothing", enabled=True, investment_usd=0.0, personnel_fte=0.0,
        duration_weeks=0.0, start_week=0.0, go_live_week=0.0, maintenance_year=0.0, savings_year=0.0,
        cost_year=total_year, full=Schedule(z.copy(), z.copy(), z.copy()), discount_full=discount, horizon_months=h,
        target="total_cost", target_usd_per_year=total_year, timeline="today's run-rate continues")
    do_nothing.payback_status = NOTHING

    ptargets = []
    for t in TARGET_KEYS:
        on = [r for r in mem if r.target == t]
        if not on:
            continue
        ptargets.append({"target": t, "baseline_usd_per_year": annual[t], "solutions": [r.id for r in on],
                         "combined_effect": 1 - float(np.prod([1 - r.effect for r in on])),
                         "savings_usd_per_year": sum(r.savings_year * r.remaining_share for r in on)})
    return BusinessCase(baseline=baseline, assumptions=a, annual=annual, assumed=assumed, months=m[:h],
                        discount=discount[:h], growth=growth[:h], do_nothing_monthly=total_year / 12 * growth[:h],
                        solutions=results, portfolio=portfolio, do_nothing=do_nothing, portfolio_targets=ptargets,
                        scenario=g["scenario"], multipliers=mult, start=resolve_start(g["start_date"], baseline),
                        members=tuple(r.id for r in mem), all_enabled_npv=float(all_npv))


def business_case(df: pd.DataFrame, assumptions: Mapping | None = None,
                  anomalies: pd.DataFrame | None = None, thresholds=None) -> BusinessCase:
    """Baseline from *df* (and *anomalies*, or detection at *thresholds*), then :func:`evaluate`."""
    return evaluate(compute_baseline(df, anomalies, thresholds), assumptions)
