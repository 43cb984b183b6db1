"""The business case as JSON (etl-desk analyze --json) and as terminal text."""
from __future__ import annotations

import copy
import math

import numpy as np

from etl_desk.core.business_case.model import BusinessCase, Result
from etl_desk.core.business_case.periods import per_period
from etl_desk.core.fmt import usd

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
