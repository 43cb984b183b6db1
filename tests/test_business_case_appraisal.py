"""What finance asks of the business case: payback flags, IRR, PI, scenarios, sensitivity, switching values,
the NPV-maximising portfolio, dated cash flows, measured vs assumed baseline and unknown cost -- hand-computed."""
from __future__ import annotations

import copy
import datetime as _dt
import math

import numpy as np
import pandas as pd
import pytest

from etl_desk.core.business_case.assumptions import default_assumptions
from etl_desk.core.business_case.baseline import Baseline, BusinessCaseUnavailable, compute_baseline
from etl_desk.core.business_case.cashflows import annual_rollup, fiscal_year, month_ends
from etl_desk.core.business_case.decision import decide
from etl_desk.core.business_case.model import evaluate
from etl_desk.core.business_case.report import business_case_json
from etl_desk.core.business_case.results import compute_results
from etl_desk.core.business_case.scenarios import scenario_results, sensitivity, switching_values, tornado
from etl_desk.core.business_case.schedule import irr_annual, irr_defined
from etl_desk.core.data.schema import to_canonical

IDS = ["error-monitoring", "cost-optimisation", "parallel-processing", "data-lifecycle", "performance-monitoring"]


def _baseline(**observed) -> Baseline:
    """A baseline observed over exactly a year (factor 1)."""
    obs = {k: 0.0 for k in ("compute_cost", "failed_cost", "retry_cost", "on_demand_cost", "large_volume_cost",
                            "anomaly_excess_cost")}
    obs.update(observed)
    return Baseline(runs=1, first_start="2024-01-01 00:00:00", last_end="2024-12-30 10:00:00", span_days=365.0,
                    active_days=365, observed=obs, counts={"failed_runs": 0}, large_volume_threshold_gb=None,
                    anomaly_source="test")


def _only(sid: str, **over) -> dict:
    a = default_assumptions()
    a["global"].update(portfolio="enabled", discount_rate=0.0, growth_rate=0.0)
    for s in a["solutions"].values():
        s["enabled"] = False
    a["solutions"][sid].update({"enabled": True, "start_week": 0, "ramp_weeks": 0, "tooling_usd": 0,
                                "maintenance_fte": 0, **over})
    return a


G = 4 * 7 * 12 / 365  # go-live of a 4-week implementation, in months (0.9205...)


def test_payback_after_the_horizon_is_a_month_with_a_flag_not_never():
    # failed cost 120k a year, effect 0.5: 5,000 a month of savings; 1,000 a month upkeep; net 4,000 a month
    b = _baseline(compute_cost=120_000.0, failed_cost=120_000.0)
    a = _only("error-monitoring", people=5, weeks=4, weekly_rate_usd=3000, maintenance_usd_per_year=12_000,
              effect=0.5)
    a["global"]["horizon_years"] = 1
    r = evaluate(b, a).solutions[0]
    assert r.investment_usd == 60_000
    assert r.payback_months == pytest.approx(G + 60_000 / 4000)  # month 15.92, after the 12-month horizon
    assert r.payback_status == "beyond the horizon" and not r.payback_within_horizon
    assert r.npv_usd < 0  # within the horizon it does not pay
    a["global"]["horizon_years"] = 2
    r2 = evaluate(b, a).solutions[0]
    assert r2.payback_months == pytest.approx(r.payback_months) and r2.payback_status == "within the horizon"
    # upkeep above the savings: it never pays back
    a["solutions"]["error-monitoring"]["maintenance_usd_per_year"] = 61_000
    assert evaluate(b, a).solutions[0].payback_status == "never"
    # a tiny positive net: recovers, but not within the 120-month schedule
    a["solutions"]["error-monitoring"]["maintenance_usd_per_year"] = 59_000  # net 83.33 a month
    r3 = evaluate(b, a).solutions[0]
    assert r3.payback_months is None and r3.payback_status == "not within 10 years"


def test_discounted_payback_irr_and_profitability_index_hand_computed():
    b = _baseline(compute_cost=120_000.0, failed_cost=120_000.0)
    a = _only("error-monitoring", people=1, weeks=4, weekly_rate_usd=3000, maintenance_usd_per_year=12_000,
              effect=0.5)
    a["global"].update(horizon_years=1, discount_rate=0.12)
    r = evaluate(b, a).solutions[0]
    flows = np.array([5000 * (1 - G) - 12_000 - 1000 * (1 - G)] + [4000] * 11)
    disc = 1.12 ** (-np.arange(1, 13) / 12)
    dcum = np.cumsum(flows * disc)
    k = int(np.flatnonzero(dcum >= 0)[0])
    assert r.discounted_payback_months == pytest.approx(k + (-dcum[k - 1]) / (dcum[k] - dcum[k - 1]))
    assert r.discounted_payback_months > r.payback_months
    # IRR: the monthly rate at which these flows have NPV 0, annualised
    irr = r.irr_annual
    m = (1 + irr) ** (1 / 12) - 1
    assert np.sum(flows / (1 + m) ** np.arange(1, 13)) == pytest.approx(0, abs=1e-6)
    # PI = PV savings / PV costs
    sav = np.array([5000 * (1 - G)] + [5000] * 11)
    cost = np.array([12_000 + 1000 * (1 - G)] + [1000] * 11)
    assert r.profitability_index == pytest.approx(np.sum(sav * disc) / np.sum(cost * disc))
    assert r.npv_usd == pytest.approx(np.sum(flows * disc))


def test_irr_is_defined_only_for_costs_then_gains():
    assert irr_defined(np.array([-100.0, 0.0, 60.0, 60.0]))
    assert not irr_defined(np.array([-100.0, 60.0, -10.0, 60.0]))
    assert not irr_defined(np.array([-100.0, -10.0]))
    assert irr_annual(np.array([-100.0, 110.0])) == pytest.approx(1.1 ** 12 - 1)
    assert irr_annual(np.array([-100.0, -10.0])) is None


def test_low_scenario_applies_its_multipliers():
    b = _baseline(compute_cost=100_000.0, failed_cost=100_000.0)
    a = _only("error-monitoring", people=1, weeks=4, weekly_rate_usd=3000, maintenance_usd_per_year=10_000,
              effect=0.9)
    base = evaluate(b, a)
    a["global"]["scenario"] = "low"  # effect x 0.75, investment x 1.25, maintenance x 1.25, measured spend x 0.9
    low = evaluate(b, a)
    r0, r1 = base.solutions[0], low.solutions[0]
    assert r1.investment_usd == pytest.approx(12_000 * 1.25)
    assert r1.maintenance_year == pytest.approx(10_000 * 1.25)
    assert r1.effect == pytest.approx(0.9 * 0.75)
    assert r1.target_usd_per_year == pytest.approx(90_000)
    assert r1.savings_year == pytest.approx(0.675 * 90_000)
    a["global"]["scenario"] = "high"  # effect x 1.25 would be 112.5 %: capped at 100 %
    assert evaluate(b, a).solutions[0].effect == 1.0
    rows = {(x.scenario, x.option_id): x for x in scenario_results(base)}
    assert rows[("low", "error-monitoring")].npv_usd == pytest.approx(r1.npv_usd)
    assert rows[("base", "error-monitoring")].npv_usd == pytest.approx(r0.npv_usd)


def test_sensitivity_moves_one_input_and_keeps_the_portfolio():
    b = _baseline(compute_cost=100_000.0, failed_cost=100_000.0)
    a = _only("error-monitoring", people=1, weeks=4, weekly_rate_usd=3000, maintenance_usd_per_year=10_000,
              effect=0.5)
    case = evaluate(b, a)
    r = case.solutions[0]
    rows = {x.input: x for x in sensitivity(case) if x.option_id == "error-monitoring"}
    maint_h = float(r.schedule.maintenance.sum())  # undiscounted (rate 0)
    assert rows["maintenance"].npv_low == pytest.approx(r.npv_usd + 0.5 * maint_h)  # upkeep x 0.5
    assert rows["maintenance"].npv_high == pytest.approx(r.npv_usd - 0.5 * maint_h)
    sav_h = float(r.schedule.savings.sum())
    assert rows["effect"].npv_low == pytest.approx(r.npv_usd - 0.25 * sav_h)
    assert rows["discount_rate"].npv_low < r.npv_usd or r.npv_usd < 0
    assert rows["storage_usd_per_month"].swing == 0  # storage unconfirmed: it cannot move this option
    order = [x.input for x in tornado(sensitivity(case), "error-monitoring")]
    swings = [rows[k].swing for k in order]
    assert swings == sorted(swings, reverse=True)
    port = {x.input: x for x in sensitivity(case) if x.option_id == "portfolio"}
    assert port["maintenance"].npv_low == pytest.approx(rows["maintenance"].npv_low)  # the only member


def test_switching_values_make_npv_zero():
    b = _baseline(compute_cost=100_000.0, failed_cost=40_000.0)
    a = _only("error-monitoring", people=2, weeks=4, weekly_rate_usd=3000, maintenance_usd_per_year=5000,
              effect=0.2)
    case = evaluate(b, a)
    sw = next(s for s in switching_values(case) if s.option_id == "error-monitoring")
    a2 = copy.deepcopy(a)
    a2["solutions"]["error-monitoring"]["effect"] = sw.effect_needed
    assert 0 < sw.effect_needed <= 1
    assert evaluate(b, a2).solutions[0].npv_usd == pytest.approx(0, abs=1e-6)
    b3 = _baseline(compute_cost=100_000.0, failed_cost=sw.target_needed_usd_per_year)
    assert evaluate(b3, a).solutions[0].npv_usd == pytest.approx(0, abs=1e-6)


def test_default_portfolio_maximises_npv_and_reports_all_enabled():
    # cost optimisation pays (on-demand spend large), error monitoring does not (no failed spend)
    b = _baseline(compute_cost=2_000_000.0, on_demand_cost=2_000_000.0)
    a = default_assumptions()
    case = evaluate(b, a)
    npv = {r.id: r.npv_usd for r in case.solutions}
    assert npv["cost-optimisation"] > 0 and npv["error-monitoring"] < 0
    assert case.members == tuple(k for k in IDS if npv[k] > 0)  # distinct targets: the positive ones
    assert case.portfolio.npv_usd == pytest.approx(sum(v for v in npv.values() if v > 0))
    assert case.all_enabled_npv == pytest.approx(sum(npv.values()))
    a["global"]["portfolio"] = "enabled"
    assert evaluate(b, a).members == tuple(IDS)
    # nothing pays: the NPV-maximising portfolio is empty, and the decision says so
    small = evaluate(_baseline(compute_cost=1000.0, on_demand_cost=1000.0), default_assumptions())
    assert small.members == () and small.portfolio.npv_usd == 0
    d = decide(small, sensitivity(small), switching_values(small))
    assert d.statement.startswith("No option pays back within the 36-month horizon")
    assert "break even" in d.statement and d.npv_max_members == ()


def test_peak_fte_and_person_weeks():
    b = _baseline(compute_cost=1.0)
    a = default_assumptions()
    a["global"]["portfolio"] = "enabled"
    for sid, (people, start, weeks) in zip(IDS, [(1, 0, 4), (2, 2, 6), (2, 10, 4), (1, 20, 2), (1, 20, 2)]):
        a["solutions"][sid].update(people=people, start_week=start, weeks=weeks)
    p = evaluate(b, a).portfolio
    # weeks 2-4: solutions 1 and 2 (3 FTE); week 20: solutions 4 and 5 (2 FTE); peak 3
    assert p.personnel_fte == 3
    assert p.person_weeks == 4 + 12 + 8 + 2 + 2


def test_dated_cash_flows_and_fiscal_year_roll_up():
    assert month_ends(_dt.date(2025, 5, 1), 3) == [_dt.date(2025, 5, 31), _dt.date(2025, 6, 30), _dt.date(2025, 7, 31)]
    assert fiscal_year(_dt.date(2025, 6, 30), 7) == 2025 and fiscal_year(_dt.date(2025, 7, 31), 7) == 2026
    assert fiscal_year(_dt.date(2025, 12, 31), 1) == 2025
    b = _baseline(compute_cost=120_000.0, failed_cost=120_000.0)
    a = _only("error-monitoring", people=1, weeks=4, weekly_rate_usd=3000, maintenance_usd_per_year=12_000,
              effect=0.5)
    a["global"].update(start_date="2025-05-01", fiscal_year_start_month=7, horizon_years=1, discount_rate=0.08)
    case = evaluate(b, a)
    r = case.solutions[0]
    rows = annual_rollup(case, r)
    # May-Jun 2025 are Year 0 (FY2025), Jul 2025-Apr 2026 Year 1 (FY2026)
    assert [(x.year_index, x.fiscal_year, x.months) for x in rows] == [(0, "FY2025", 2), (1, "FY2026", 10)]
    assert rows[0].investment == pytest.approx(12_000)
    assert sum(x.discounted for x in rows) == pytest.approx(r.npv_usd)  # the roll-up ties to the NPV
    assert rows[-1].cumulative == pytest.approx(r.net_benefit)
    assert rows[-1].discounted_cumulative == pytest.approx(r.npv_usd)


def test_auto_start_is_the_month_after_the_data():
    case = evaluate(_baseline(compute_cost=1.0), default_assumptions())
    assert case.start == _dt.date(2025, 1, 1)  # data end 2024-12-30


def test_assumed_lines_count_only_when_confirmed():
    b = _baseline(compute_cost=10_000.0)
    a = default_assumptions()
    case = evaluate(b, a)
    assert case.annual["total_cost"] == 10_000 and case.assumed["storage_cost"] == 12_000
    lifecycle = case.solutions[3]
    assert lifecycle.target == "storage_cost" and lifecycle.savings_year == 0
    a["global"]["storage_confirmed"] = True
    case = evaluate(b, a)
    assert case.annual["total_cost"] == 22_000 and case.solutions[3].savings_year == pytest.approx(0.35 * 12_000)
    j = business_case_json(case)
    assert j["baseline"]["assumed_usd_per_year"]["storage_cost"] == {"amount": 12_000.0, "confirmed": True,
                                                                      "counted": 12_000.0}


def _runs(cost):
    """Canonical runs with these costs (NaN = the source had no price for the run)."""
    n = len(cost)
    df = to_canonical(pd.DataFrame({
        "run_id": [str(i) for i in range(n)], "start_time": pd.date_range("2024-01-01", periods=n, freq="D"),
        "duration_min": [10.0] * n, "status": ["Success", "Failed"] * (n // 2), "cost_usd": [0.0] * n}))
    df["cost_usd"] = np.asarray(cost, dtype=float)
    return df


def test_unknown_cost_is_never_zero():
    df = _runs([np.nan] * 10)
    b = compute_baseline(df, pd.DataFrame({"run_id": []}))
    assert b.observed["compute_cost"] is None and not b.cost_known
    with pytest.raises(BusinessCaseUnavailable, match="no run in this data has a price"):
        evaluate(b)
    res = compute_results(df)
    assert res.case is None and isinstance(res.baseline_error, BusinessCaseUnavailable)
    assert business_case_json(None, unavailable=str(res.baseline_error))["available"] is False
    # some priced: sums over the priced runs, and the note says it is a lower bound
    part = compute_baseline(_runs([1.0, np.nan] * 5), pd.DataFrame({"run_id": []}))
    assert part.observed["compute_cost"] == 5 and part.counts["unpriced_runs"] == 5
    assert any("lower bound" in n for n in part.notes)
    # a source that says it has no price: its zeros are unknown
    zeros = _runs([0.0] * 10)
    zeros.attrs["cost_basis"] = "none"
    assert not compute_baseline(zeros, pd.DataFrame({"run_id": []})).cost_known


def test_appraisal_in_the_json_report(case_study):
    res = compute_results(case_study)
    j = business_case_json(res.case, res.appraisal)
    assert {"scenarios", "sensitivity", "switching_values", "annual", "decision"} <= set(j)
    assert len(j["scenarios"]) == 3 * 6 and len(j["sensitivity"]) == 8 * 6
    assert j["decision"]["options"][0]["rank"] == 1
    assert math.isclose(sum(r["discounted"] for r in j["annual"]["error-monitoring"]),
                        j["solutions"][0]["npv_usd"], rel_tol=1e-12)
