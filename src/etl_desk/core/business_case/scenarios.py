"""What would have to be true: scenarios, one-at-a-time sensitivity and switching values.

All three re-use :func:`~etl_desk.core.business_case.model.evaluate` with the portfolio
held to the members of the case they vary, so a sensitivity of the portfolio moves its
inputs, not its composition. The workbook computes the same figures with closed-form
formulas over the live inputs (NPV is linear in effect, spend, investment and
maintenance), and the LibreOffice recalculation test checks they agree.

* :func:`scenario_results` -- NPV, PI, ROI, payback and IRR of every option under the
  low, base and high scenarios (``[scenario_drivers]`` multipliers).
* :func:`sensitivity` -- NPV of every option and the portfolio with one input at its
  low and then its high value (``[sensitivity]`` ranges), the others unchanged;
  :func:`tornado` sorts one option's rows by swing (largest first).
* :func:`switching_values` -- the effect, and the yearly spend on the target, at which
  an option's NPV is zero (UK Green Book "switching values"); for the portfolio the
  multiple of today's targets at which it breaks even.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from etl_desk.core.business_case.catalogue import SCENARIOS, SENSITIVITY_KEYS, catalogue
from etl_desk.core.fmt import money_round
from etl_desk.core.business_case.model import BusinessCase, Result, evaluate
from etl_desk.core.business_case.periods import MONTHS_PER_YEAR


@dataclass(frozen=True)
class ScenarioResult:
    """One option (a solution or ``portfolio``) under one scenario (``low``, ``base``, ``high``)."""

    scenario: str
    option_id: str
    option_name: str
    npv_usd: float
    profitability_index: float | None
    roi: float | None
    payback_months: float | None
    payback_status: str
    irr_annual: float | None


@dataclass(frozen=True)
class SensitivityRow:
    """NPV of one option with one input at its low and at its high value (USD)."""

    option_id: str
    option_name: str
    input: str
    label: str
    low_value: float
    high_value: float
    npv_low: float
    npv_high: float
    npv_base: float

    @property
    def swing(self) -> float:
        """``|npv_high - npv_low|`` (USD): the bar length the tornado chart sorts by."""
        return abs(self.npv_high - self.npv_low)


@dataclass(frozen=True)
class SwitchingValue:
    """Where an option's NPV crosses zero, one input at a time.

    ``effect_needed``: the effect (fraction of the target) at which NPV = 0 with
    everything else as assumed (may exceed 1: then no effect is enough at today's
    spend). ``target_needed_usd_per_year``: the yearly spend on the target at which
    NPV = 0 at the assumed effect. For the portfolio, ``baseline_multiple``: the multiple
    of every member's target at which NPV = 0. ``None`` when the option saves nothing
    whatever the input (no spend to act on, or effect 0).
    """

    option_id: str
    option_name: str
    npv_usd: float
    effect: float | None
    effect_needed: float | None
    target: str | None
    target_usd_per_year: float | None
    target_needed_usd_per_year: float | None
    baseline_multiple: float | None


def _results(case: BusinessCase) -> list[Result]:
    return list(case.solutions) + [case.portfolio]


def scenario_results(case: BusinessCase) -> list[ScenarioResult]:
    """Every solution and the portfolio (its members fixed) under the low, base and high scenarios."""
    out = []
    for sc in SCENARIOS:
        a = copy.deepcopy(case.assumptions)
        a["global"]["scenario"] = sc
        c = evaluate(case.baseline, a, members=case.members)
        for r in _results(c):
            out.append(ScenarioResult(scenario=sc, option_id=r.id, option_name=r.name, npv_usd=r.npv_usd,
                                      profitability_index=r.profitability_index, roi=r.roi,
                                      payback_months=r.payback_months, payback_status=r.payback_status,
                                      irr_annual=r.irr_annual))
    return out


def sensitivity(case: BusinessCase) -> list[SensitivityRow]:
    """One-at-a-time sensitivity of every option's NPV (and the portfolio's, members fixed)."""
    drivers = catalogue().sensitivity
    ranges = case.assumptions["sensitivity"]
    base = {r.id: r.npv_usd for r in _results(case)}
    names = {r.id: r.name for r in _results(case)}
    npv: dict[tuple[str, str], dict[str, float]] = {}
    for key in SENSITIVITY_KEYS:
        d = drivers[key]
        for end in ("low", "high"):
            v = ranges[key][end]
            if d.kind == "multiplier":
                c = evaluate(case.baseline, case.assumptions, members=case.members, factors={key: v})
            else:
                a = copy.deepcopy(case.assumptions)
                a["global"][key] = int(v) if key == "horizon_years" else v
                c = evaluate(case.baseline, a, members=case.members)
            for r in _results(c):
                npv.setdefault((r.id, key), {})[end] = r.npv_usd
    rows = []
    for rid in base:
        for key in SENSITIVITY_KEYS:
            rows.append(SensitivityRow(option_id=rid, option_name=names[rid], input=key, label=drivers[key].label,
                                       low_value=float(ranges[key]["low"]), high_value=float(ranges[key]["high"]),
                                       npv_low=npv[(rid, key)]["low"], npv_high=npv[(rid, key)]["high"],
                                       npv_base=base[rid]))
    return rows


def tornado(rows: list[SensitivityRow], option_id: str) -> list[SensitivityRow]:
    """*option_id*'s rows, largest swing (to the cent) first; equal swings keep the input order.

    Swings are compared rounded to the cent, as the workbook's live ranking does, so two
    inputs that move NPV by the same amount (up to float noise) rank the same everywhere.
    """
    mine = [r for r in rows if r.option_id == option_id]
    order = sorted(range(len(mine)), key=lambda i: (-float(money_round(mine[i].swing)), i))
    return [mine[i] for i in order]


def pv_per_target_dollar(r: Result) -> float:
    """PV over the horizon of the savings of $1 a year of target at effect 1 (the ``V`` of the workbook)."""
    h = r.horizon_months
    return float(np.sum(r.units["rf"][:h] * r.discount_full[:h]) / MONTHS_PER_YEAR)


def switching_values(case: BusinessCase) -> list[SwitchingValue]:
    """Switching values of every solution and of the portfolio."""
    out = []
    for r in case.solutions:
        v = pv_per_target_dollar(r)
        t = r.target_usd_per_year or 0.0
        pvc = r.pv_costs
        out.append(SwitchingValue(
            option_id=r.id, option_name=r.name, npv_usd=r.npv_usd, effect=r.effect,
            effect_needed=pvc / (t * v) if t * v > 0 else None, target=r.target,
            target_usd_per_year=r.target_usd_per_year,  # None: unknown (e.g. retries without attempts)
            target_needed_usd_per_year=pvc / (r.effect * v) if r.effect and v > 0 else None,
            baseline_multiple=pvc / r.pv_savings if r.pv_savings > 0 else None))
    p = case.portfolio
    out.append(SwitchingValue(option_id=p.id, option_name=p.name, npv_usd=p.npv_usd, effect=None,
                              effect_needed=None, target=None, target_usd_per_year=None,
                              target_needed_usd_per_year=None,
                              baseline_multiple=p.pv_costs / p.pv_savings if p.pv_savings > 0 else None))
    return out
