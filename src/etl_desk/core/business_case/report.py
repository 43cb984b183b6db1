"""The business case as JSON (``etl-desk analyze --json``) and as terminal text.

:func:`business_case_json` gives every figure of the business case and of its appraisal
(scenarios, sensitivity, switching values, the annual roll-up and the decision page) as
plain JSON: money in USD, shares as fractions, ``null`` where a figure does not exist
("never pays back", no IRR) -- never NaN and never 0 for unknown.
"""
from __future__ import annotations

import copy
import dataclasses
import datetime as _dt
import math

import numpy as np

from etl_desk.core import fmt
from etl_desk.core.business_case.baseline import ASSUMED
from etl_desk.core.business_case.model import BusinessCase, Result
from etl_desk.core.business_case.periods import per_period
from etl_desk.core.conventions import CONVENTION_LINES

CONVENTIONS = {
    "periods": CONVENTION_LINES[0] + " Per-period figures are steady-state run-rates derived from the yearly figure.",
    "people": CONVENTION_LINES[1] + " Investment = people x weeks x weekly rate + tooling; maintenance = running "
              "cost + maintenance FTE x weekly rate x 50.",
    "cash_flows": "Monthly, at month end, from the project start; investment spread evenly over the implementation "
                  "weeks, maintenance from go-live (no inflation), savings ramp linearly to the full effect over "
                  "ramp_weeks after go-live and grow with spend. No terminal value: benefits after the horizon are "
                  "ignored.",
    "npv": "sum over months m <= horizon of net_m * (1 + discount_rate) ** (-m / 12), i.e. Excel NPV at the monthly "
           "rate (1 + r) ** (1 / 12) - 1",
    "payback": "months until the cumulative net cash flow turns non-negative for good, over a 120-month schedule "
               "(linear within the month); payback_status says whether it falls within or beyond the horizon; "
               "null = not within 10 years or never. Discounted payback: the same on discounted flows.",
    "irr": "(1 + monthly IRR) ** 12 - 1 of the flows within the horizon; null unless they change sign once",
    "profitability_index": "PV of savings / PV of costs (investment + maintenance) over the horizon; > 1 pays back",
    "roi": "(savings - investment - maintenance) / (investment + maintenance) over the horizon, undiscounted",
    "portfolio": "rule npv_max: the combination of the enabled solutions with the highest NPV (none when nothing "
                 "pays back); rule enabled: all enabled. Solutions sharing a target act on what earlier ones leave: "
                 "combined effect = 1 - prod(1 - effect). Personnel: peak FTE at one time and person-weeks.",
    "baseline": "measured = sums over the priced runs, annualised and divided by data coverage; assumed lines "
                "(storage, engineer time on failures) count only when confirmed",
}


def _num(v) -> float | None:
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def plain_json(obj):
    """Dataclasses, dates and floats as JSON-safe values (NaN/inf -> null)."""
    if dataclasses.is_dataclass(obj):
        out = {f.name: plain_json(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
        if hasattr(obj, "swing"):
            out["swing"] = _num(obj.swing)
        return out
    if isinstance(obj, (list, tuple)):
        return [plain_json(x) for x in obj]
    if isinstance(obj, dict):
        return {str(k): plain_json(v) for k, v in obj.items()}
    if isinstance(obj, (_dt.date, _dt.datetime)):
        return obj.isoformat()
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return _num(obj)
    return obj


def result_json(r: Result, case: BusinessCase | None = None) -> dict:
    """One option (*r*: a solution, the portfolio or doing nothing) as a JSON-safe dict.

    Money in USD (``investment_usd``, ``npv_usd``, ``horizon_*_usd``, ``pv_*_usd``; per-period
    figures ``maintenance_usd`` / ``savings_usd`` / ``net_savings_usd`` / ``cost_usd`` as
    ``{"day", "week", "month", "quarter", "year"}`` run-rates, year = 365 days), time in weeks and
    months, ``roi`` / ``irr_annual`` / ``effect`` as fractions, ``profitability_index`` a ratio;
    ``null`` for a figure that does not exist (never pays back, no IRR, no costs), never NaN.
    ``target`` / ``effect`` keys only for options that have them; with *case*, also
    ``horizon_spend_usd`` (cumulative cost with this option at the horizon's end) and
    ``pv_spend_usd`` (PV of doing nothing minus this option's NPV).
    """
    out = {
        "id": r.id, "name": r.name, "enabled": r.enabled, "member": r.member,
        "investment_usd": _num(r.investment_usd), "personnel_fte": _num(r.personnel_fte),
        "person_weeks": _num(r.person_weeks),
        "duration_weeks": _num(r.duration_weeks), "start_week": _num(r.start_week),
        "go_live_week": _num(r.go_live_week), "timeline": r.timeline,
        "maintenance_usd": per_period(r.maintenance_year), "savings_usd": per_period(r.savings_year),
        "net_savings_usd": per_period(r.savings_year - r.maintenance_year), "cost_usd": per_period(r.cost_year),
        "payback_months": _num(r.payback_months), "payback_status": r.payback_status,
        "break_even_month": r.break_even_month,
        "discounted_payback_months": _num(r.discounted_payback_months),
        "discounted_payback_status": r.discounted_payback_status,
        "irr_annual": _num(r.irr_annual), "profitability_index": _num(r.profitability_index),
        "roi": _num(r.roi), "npv_usd": _num(r.npv_usd),
        "horizon_savings_usd": _num(r.total_savings), "horizon_costs_usd": _num(r.total_costs),
        "net_benefit_usd": _num(r.net_benefit), "pv_costs_usd": _num(r.pv_costs),
        "pv_savings_usd": _num(r.pv_savings),
    }
    if r.target is not None:
        out.update({"target": r.target, "target_usd_per_year": _num(r.target_usd_per_year)})
    if r.effect is not None:
        out["effect"] = r.effect
        out["effect_input"] = r.effect_input
        out["portfolio_share_of_effect"] = _num(r.remaining_share)
    if case is not None:
        pv_dn = float(np.sum(case.do_nothing_monthly * case.discount))
        out["horizon_spend_usd"] = _num(case.with_cumulative(r)[-1])
        out["pv_spend_usd"] = _num(pv_dn - r.npv_usd)
    return out


def business_case_json(case: BusinessCase | None, appraisal=None, *, unavailable: str = "") -> dict:
    """JSON-safe dict of *case* and its *appraisal* (an :class:`~etl_desk.core.business_case.results.Appraisal`).

    With no case: ``{"available": false, "reason": ...}``.
    """
    if case is None:
        return {"available": False, "reason": unavailable or "the business case could not be computed"}
    b = case.baseline
    g = case.assumptions["global"]
    confirmed = b.confirmed(case.assumptions)
    out = {
        "available": True,
        "currency": "USD",
        "conventions": CONVENTIONS,
        "horizon_months": case.horizon_months,
        "scenario": case.scenario, "scenario_multipliers": dict(case.multipliers),
        "start_date": case.start.isoformat(), "fiscal_year_start_month": g["fiscal_year_start_month"],
        "portfolio_rule": g["portfolio"], "portfolio_members": list(case.members),
        "all_enabled_npv_usd": _num(case.all_enabled_npv),
        "baseline": {
            "runs": b.runs, "first_start": b.first_start, "last_end": b.last_end,
            "span_days": b.span_days, "active_days": b.active_days,
            "annualisation": g["annualisation"], "annualisation_factor": b.factor(g["annualisation"]),
            "data_coverage": g["data_coverage"],
            "method": b.method_text(g["annualisation"], g["data_coverage"]),
            "cost_basis": b.cost_basis,
            "observed_usd": {k: _num(v) for k, v in b.observed.items()},
            "annual_usd": {k: _num(v) for k, v in case.annual.items()},
            "measured_usd_per_year": _num(case.annual["compute_cost"]),
            "assumed_usd_per_year": {k: {"amount": _num(case.assumed[k]), "confirmed": confirmed[k],
                                         "counted": _num(case.annual[k])} for k in ASSUMED},
            "counts": dict(b.counts), "large_volume_threshold_gb": _num(b.large_volume_threshold_gb),
            "anomaly_source": b.anomaly_source, "notes": list(b.notes),
        },
        "assumptions": copy.deepcopy(case.assumptions),
        "solutions": [result_json(r, case) for r in case.solutions],
        "do_nothing": result_json(case.do_nothing, case),
        "portfolio": {**result_json(case.portfolio, case), "solutions": list(case.members),
                      "targets": [{k: (_num(v) if isinstance(v, float) else v) for k, v in t.items()}
                                  for t in case.portfolio_targets]},
        "cumulative_cost_usd": {
            "month": list(range(case.horizon_months + 1)),
            "do_nothing": [float(x) for x in case.do_nothing_cumulative],
            "portfolio": [float(x) for x in case.portfolio_cumulative],
        },
    }
    if appraisal is not None:
        out["scenarios"] = plain_json(appraisal.scenarios)
        out["sensitivity"] = plain_json(appraisal.sensitivity)
        out["switching_values"] = plain_json(appraisal.switching)
        out["annual"] = plain_json(appraisal.annual)
        out["decision"] = plain_json(appraisal.decision)
    return out


def _usd(v: float | None) -> str:
    return fmt.usd(v, 0, missing="n/a")


def _payback(s: dict) -> str:
    if s["payback_months"] is None:
        return {"not within 10 years": ">120 mo", "nothing to pay back": "-"}.get(s["payback_status"], "never")
    flag = "*" if s["payback_status"] == "beyond the horizon" else ""
    return f"{s['payback_months']:.1f} mo{flag}"


def format_business_case(j: dict) -> list[str]:
    """A plain-text business-case section for the terminal report (from :func:`business_case_json`)."""
    if not j.get("available", True):
        return ["Business case: not available -- " + j.get("reason", "")]
    b = j["baseline"]
    assumed = "; ".join(f"{k.replace('_', ' ')} {_usd(v['amount'])} a year "
                        f"({'confirmed, counted' if v['confirmed'] else 'ASSUMED, not counted'})"
                        for k, v in b["assumed_usd_per_year"].items())
    lines = [f"Business case (USD; scenario {j['scenario']}; {b['method']})"]
    d = j.get("decision")
    if d:
        lines.append("  " + d["statement"])
    lines += [f"  Doing nothing: {_usd(j['do_nothing']['cost_usd']['year'])} a year measured and counted, "
              f"{_usd(j['do_nothing']['horizon_spend_usd'])} over {j['horizon_months']} months; assumed lines: "
              f"{assumed}"]
    head = (f"  {'option':<46} {'NPV':>11} {'PI':>5} {'payback':>10} {'disc. pb':>10} {'IRR':>7} "
            f"{'investment':>11} {'maint./yr':>10} {'savings/yr':>10}")
    lines.append(head)
    for s in j["solutions"] + [j["portfolio"]]:
        mark = "[x] " if s["member"] else "[ ] "
        name = (mark + s["name"]) if s["id"] != "portfolio" else s["name"] + f" ({j['portfolio_rule']})"
        pi = "n/a" if s["profitability_index"] is None else f"{s['profitability_index']:.2f}"
        irr = "n/a" if s["irr_annual"] is None else f"{s['irr_annual']:.0%}"
        dpb = {**s, "payback_months": s["discounted_payback_months"], "payback_status": s["discounted_payback_status"]}
        lines.append(f"  {name[:46]:<46} {_usd(s['npv_usd']):>11} {pi:>5} {_payback(s):>10} {_payback(dpb):>10} "
                     f"{irr:>7} {_usd(s['investment_usd']):>11} {_usd(s['maintenance_usd']['year']):>10} "
                     f"{_usd(s['savings_usd']['year']):>10}")
    lines.append(f"  * = pays back after the {j['horizon_months']}-month horizon. Personnel of the portfolio: peak "
                 f"{j['portfolio']['personnel_fte']:g} FTE, {j['portfolio']['person_weeks']:g} person-weeks.")
    if d:
        lines.append("  Top risks:")
        lines += [f"   - {r}" for r in d["risks"][:5]]
        lines.append("  " + d["provenance"])
    lines += [f"  Note: {n}" for n in b["notes"]]
    return lines
