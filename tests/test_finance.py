"""The finance model: hand-computed examples for each formula, properties, assumptions files."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from etl_desk.core.errors import DataError
from etl_desk.core.data.schema import to_canonical
from etl_desk.core.business_case.baseline import Baseline, MEASURED, TARGET_KEYS, compute_baseline
from etl_desk.core.business_case.periods import PERIODS, per_period
from etl_desk.core.business_case.assumptions import assumption_items, assumptions_from_items, default_assumptions, load_assumptions, save_assumptions, validate_assumptions
from etl_desk.core.business_case.model import business_case, evaluate, payback_months
from etl_desk.core.business_case.report import business_case_json, result_json

IDS = ["error-monitoring", "cost-optimisation", "parallel-processing", "data-lifecycle", "performance-monitoring"]


# ---------------------------------------------------------------------------------------------
# baseline
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def tiny():
    """Four runs over exactly 73 days (2024-01-01 00:00 to 2024-03-14 00:00): factor 365 / 73 = 5."""
    return to_canonical(pd.DataFrame({
        "run_id": ["1", "2", "3", "4"],
        "start_time": ["2024-01-01 00:00", "2024-01-10 00:00", "2024-01-20 00:00", "2024-03-13 23:00"],
        "duration_min": [60, 60, 60, 60],
        "data_processed_gb": [10.0, 20.0, 30.0, 1000.0],
        "status": ["Success", "Failed", "Success", "Failed"],
        "cost_usd": [100.0, 50.0, 30.0, 20.0],
        "attempt": [1, 1, 2, 2],
        "spot": [True, False, None, False],
    }))


def test_baseline_hand_computed(tiny):
    anomalies = pd.DataFrame({"run_id": ["1", "1"], "rule": ["cost spike", "robust z"]})
    b = compute_baseline(tiny, anomalies)
    assert b.span_days == 73 and b.factor() == 5 and b.active_days == 4
    assert b.observed == {"compute_cost": 200, "failed_cost": 70, "retry_cost": 50, "on_demand_cost": 100,
                          "large_volume_cost": 20, "anomaly_excess_cost": 60}  # 100 - median 40
    assert b.counts["anomalous_runs"] == 1 and b.counts["large_volume_runs"] == 1
    assert b.large_volume_threshold_gb == pytest.approx(418.0)  # 30 + 0.4 * (1000 - 30)
    annual = b.annual(default_assumptions())
    assert annual["compute_cost"] == 1000 and annual["failed_cost"] == 350 and annual["retry_cost"] == 250
    assert annual["on_demand_cost"] == 500 and annual["large_volume_cost"] == 100
    assert annual["anomaly_excess_cost"] == 300
    # assumed lines are shown but not counted until confirmed: storage 1,000 a month; 2 failed runs x 5 a year
    # x 0.5 h x $75 of engineer time
    assert b.assumed(default_assumptions()) == {"storage_cost": 12000, "incident_cost": 2 * 5 * 0.5 * 75}
    assert annual["storage_cost"] == 0 and annual["incident_cost"] == 0 and annual["total_cost"] == 1000
    a = default_assumptions()
    a["global"].update(storage_confirmed=True, incident_confirmed=True)
    assert b.annual(a)["storage_cost"] == 12000 and b.annual(a)["total_cost"] == 1000 + 12000 + 375
    a = default_assumptions()
    a["global"]["data_coverage"] = 0.5
    a["global"]["annualisation"] = "active_days"
    assert b.annual(a)["failed_cost"] == pytest.approx(70 * 365 / 4 / 0.5)
    assert "365 / 73 days" in b.method_text()


def test_baseline_without_optional_columns():
    df = to_canonical(pd.DataFrame({"run_id": ["a", "b"], "start_time": ["2024-01-01 00:00", "2024-01-01 01:00"],
                                    "duration_min": [10, 10], "status": ["Success", "Failed"],
                                    "cost_usd": [1.0, 2.0]}))
    b = compute_baseline(df, anomalies=pd.DataFrame({"run_id": []}))
    assert b.span_days == 1  # 70 minutes observed -> at least one day
    assert b.observed["large_volume_cost"] is None
    assert b.observed["on_demand_cost"] == 3.0  # no spot column: all on-demand
    assert any("data-volume" in n for n in b.notes) and any("spot" in n for n in b.notes)
    j = business_case_json(evaluate(b))
    assert j["baseline"]["annual_usd"]["large_volume_cost"] is None
    assert json.dumps(j, allow_nan=False)


def test_baseline_empty_frame():
    from etl_desk.core.data.schema import empty_frame

    b = compute_baseline(empty_frame())
    assert b.runs == 0 and b.observed["compute_cost"] == 0
    assert json.dumps(business_case_json(evaluate(b)), allow_nan=False)


def _baseline(**observed) -> Baseline:
    obs = {k: 0.0 for k in MEASURED}
    obs.update(observed)
    return Baseline(runs=1, first_start=None, last_end=None, span_days=365.0, active_days=365, observed=obs,
                      counts={}, large_volume_threshold_gb=None, anomaly_source="test")


def _only(sid: str, **over) -> dict:
    """Only *sid* in the portfolio (rule "enabled": taken whether or not it pays)."""
    a = default_assumptions()
    a["global"]["portfolio"] = "enabled"
    for s in a["solutions"].values():
        s["enabled"] = False
    a["solutions"][sid].update({"enabled": True, **over})
    return a


# ---------------------------------------------------------------------------------------------
# hand-computed examples
# ---------------------------------------------------------------------------------------------
def test_investment_maintenance_savings_per_period():
    b = _baseline(compute_cost=120_000.0, failed_cost=24_000.0)
    a = _only("error-monitoring", people=2, weeks=5, weekly_rate_usd=3000, tooling_usd=1000,
              maintenance_usd_per_year=1200, maintenance_fte=0.1, effect=0.25)
    r = evaluate(b, a).solutions[0]
    assert r.investment_usd == 2 * 5 * 3000 + 1000 == 31_000
    assert r.maintenance_year == 1200 + 0.1 * 3000 * 50 == 16_200  # a person-year is 50 working weeks
    assert r.savings_year == 0.25 * 24_000 == 6000
    j = result_json(r)
    assert j["savings_usd"] == {"day": 6000 / 365, "week": 6000 / 365 * 7, "month": 500, "quarter": 1500,
                                "year": 6000}
    assert j["maintenance_usd"]["month"] == r.maintenance_year / 12
    assert j["personnel_fte"] == 2 and j["duration_weeks"] == 5
    # storage is an unconfirmed assumption: not in the cost of doing nothing
    assert j["cost_usd"]["year"] == pytest.approx(120_000 - 6000 + r.maintenance_year)


def test_payback_roi_npv_hand_computed():
    # failed cost 120k/yr, effect 0.5 -> savings 60k/yr; maintenance 12k/yr; net 4k a month after go-live
    b = _baseline(compute_cost=120_000.0, failed_cost=120_000.0)
    a = _only("error-monitoring", people=1, weeks=4, weekly_rate_usd=3000, tooling_usd=0,
              maintenance_usd_per_year=12_000, maintenance_fte=0, effect=0.5, start_week=0, ramp_weeks=0)
    a["global"].update(horizon_years=1, discount_rate=0.0, growth_rate=0.0)
    case = evaluate(b, a)
    r = case.solutions[0]
    g = 4 * 7 * 12 / 365  # go-live in months: 0.9205...
    assert r.investment_usd == 12_000
    # all investment falls in month 1 (implementation shorter than a month)
    assert r.schedule.investment[0] == pytest.approx(12_000) and r.schedule.investment[1:].sum() == 0
    assert r.schedule.savings[0] == pytest.approx(5000 * (1 - g))
    assert r.schedule.savings[1] == pytest.approx(5000)
    assert r.payback_months == pytest.approx(g + 12_000 / 4000)  # 3.92 months
    assert r.break_even_month == 4
    assert r.total_savings == pytest.approx(5000 * (12 - g))
    assert r.total_costs == pytest.approx(12_000 + 1000 * (12 - g))
    net = 4000 * (12 - g) - 12_000
    assert r.net_benefit == pytest.approx(net)
    assert r.roi == pytest.approx(net / (12_000 + 1000 * (12 - g)))
    assert r.npv_usd == pytest.approx(net)  # no discounting
    # with 8 %: independent month-by-month discounting
    a["global"]["discount_rate"] = 0.08
    r8 = evaluate(b, a).solutions[0]
    flows = [5000 * (1 - g) - 12_000 - 1000 * (1 - g)] + [4000] * 11
    assert r8.npv_usd == pytest.approx(sum(cf / 1.08 ** (m / 12) for m, cf in enumerate(flows, 1)))
    assert r8.npv_usd < r.npv_usd


def test_ramp_and_spread_investment():
    b = _baseline(compute_cost=1.0, on_demand_cost=120_000.0)
    weeks = 365 / 84 * 3  # exactly 3 months of implementation
    a = _only("cost-optimisation", people=1, weeks=weeks, weekly_rate_usd=1000, tooling_usd=0,
              maintenance_usd_per_year=0, maintenance_fte=0, effect=0.1, start_week=365 / 84, ramp_weeks=365 / 84 * 2)
    a["global"].update(horizon_years=1, discount_rate=0.0)
    r = evaluate(b, a).solutions[1]
    inv = r.schedule.investment
    assert inv[0] == pytest.approx(0) and inv[1:4] == pytest.approx([weeks * 1000 / 3] * 3) and inv[4:].sum() == 0
    # go-live at month 4, ramp over 2 months: months 5 and 6 get 1/4 and 3/4 of 1,000, then 1,000
    assert r.schedule.savings[:4] == pytest.approx([0] * 4, abs=1e-9)
    assert r.schedule.savings[4:8] == pytest.approx([250, 750, 1000, 1000])
    assert r.total_savings == pytest.approx(1000 * (12 - 4 - 1))


def test_growth_of_doing_nothing():
    b = _baseline(compute_cost=12_000.0, failed_cost=1200.0)
    a = default_assumptions()
    a["global"].update(growth_rate=0.1, storage_usd_per_month=5000.0, horizon_years=2)  # unconfirmed: not counted
    case = evaluate(b, a)
    assert case.do_nothing_monthly[0] == 1000 and case.do_nothing_monthly[12] == pytest.approx(1100)
    assert case.do_nothing_cumulative[-1] == pytest.approx(sum(1000 * 1.1 ** ((m - 1) / 12) for m in range(1, 25)))


def test_portfolio_shared_target_applies_to_what_remains():
    b = _baseline(compute_cost=200_000.0, failed_cost=120_000.0)
    a = _only("error-monitoring", effect=0.5)
    a["solutions"]["performance-monitoring"].update(enabled=True, target="failed_cost", effect=0.4)
    case = evaluate(b, a)
    s1, s5 = case.solutions[0], case.solutions[4]
    assert s5.savings_year == 0.4 * 120_000  # standalone
    assert s5.remaining_share == 0.5
    assert case.portfolio.savings_year == pytest.approx(120_000 * (1 - 0.5 * 0.6))
    t = case.portfolio_targets[0]
    assert t["target"] == "failed_cost" and t["combined_effect"] == pytest.approx(0.7)
    assert case.portfolio.investment_usd == s1.investment_usd + s5.investment_usd
    # both start in week 0, so at the peak both teams work at once; effort adds up in person-weeks
    assert case.portfolio.personnel_fte == s1.personnel_fte + s5.personnel_fte
    assert case.portfolio.person_weeks == s1.person_weeks + s5.person_weeks
    assert case.portfolio.start_week == 0 and case.portfolio.go_live_week == max(s1.go_live_week, s5.go_live_week)


def test_period_identities_exact():
    for year in (0.0, 1.0, 365.0, 12_345.678, 1e9 / 3):
        p = per_period(year)
        assert p["week"] == p["day"] * 7 or p["week"] == year / 365 * 7
        assert p["week"] == year / 365 * 7 and p["day"] == year / 365
        assert p["quarter"] * 4 == year and p["month"] == year / 12
        assert math.isclose(p["month"] * 12, year, rel_tol=1e-15, abs_tol=0)


def test_payback_function_edges():
    assert payback_months(np.array([-10.0, -5.0, 5.0])) == pytest.approx(2.5)  # month 3: 2 + 5 / 10
    assert payback_months(np.array([-10.0, -5.0, -1.0])) is None
    assert payback_months(np.array([0.0, 1.0])) == 0
    # dips again: the last crossing counts
    assert payback_months(np.array([-1.0, 1.0, -1.0, 1.0])) == pytest.approx(3.5)


def test_case_study_json_shape(case_study):
    case = business_case(case_study)
    j = business_case_json(case)
    text = json.dumps(j, allow_nan=False)
    assert "NaN" not in text
    assert [s["id"] for s in j["solutions"]] == IDS
    for item in j["solutions"] + [j["do_nothing"], j["portfolio"]]:
        for k in ("id", "name", "investment_usd", "personnel_fte", "duration_weeks", "maintenance_usd",
                  "savings_usd", "payback_months", "roi", "npv_usd"):
            assert k in item, k
        for k in ("maintenance_usd", "savings_usd", "cost_usd"):
            assert set(item[k]) == set(PERIODS)
    assert j["do_nothing"]["payback_months"] is None and j["do_nothing"]["npv_usd"] == 0
    # the published data is a small estate (~8k USD a year of job runs): nothing pays back in 3 years
    assert j["portfolio"]["payback_months"] is None
    assert j["baseline"]["annualisation_factor"] == pytest.approx(365 / j["baseline"]["span_days"])
    assert len(j["cumulative_cost_usd"]["portfolio"]) == 37
    # NPV = PV(spend doing nothing) - PV(spend with)
    for item in j["solutions"] + [j["portfolio"]]:
        assert item["npv_usd"] == pytest.approx(j["do_nothing"]["pv_spend_usd"] - item["pv_spend_usd"])


# ---------------------------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------------------------
solution_st = st.fixed_dictionaries({
    "people": st.floats(0, 20), "weeks": st.floats(1, 104), "weekly_rate_usd": st.floats(0, 20_000),
    "tooling_usd": st.floats(0, 1e6), "maintenance_usd_per_year": st.floats(0, 1e6),
    "maintenance_fte": st.floats(0, 10), "effect": st.floats(0, 1), "start_week": st.floats(0, 104),
    "ramp_weeks": st.floats(0, 104),
})
global_st = st.fixed_dictionaries({
    "horizon_years": st.integers(1, 10), "discount_rate": st.floats(0, 0.5), "growth_rate": st.floats(-0.5, 2),
    "storage_usd_per_month": st.floats(0, 1e6),
})
baseline_st = st.builds(lambda c, f, o, l, an: _baseline(compute_cost=c, failed_cost=f * c, on_demand_cost=o * c,
                                                        large_volume_cost=l * c, anomaly_excess_cost=an * c),
                        st.floats(0, 1e8), st.floats(0, 1), st.floats(0, 1), st.floats(0, 1), st.floats(0, 1))
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(baseline_st, global_st, solution_st, st.sampled_from(IDS))
def test_zero_effect_npv_is_minus_pv_of_costs(b, g, s, sid):
    a = _only(sid, **{**s, "effect": 0.0})
    a["global"].update(g)
    case = evaluate(b, a)
    r = next(x for x in case.solutions if x.id == sid)
    m = np.arange(1, len(case.months) + 1)
    pv = np.sum((r.schedule.investment + r.schedule.maintenance) / (1 + g["discount_rate"]) ** (m / 12))
    assert r.npv_usd == pytest.approx(-pv, rel=1e-9, abs=1e-6)
    assert case.portfolio.npv_usd == pytest.approx(-pv, rel=1e-9, abs=1e-6)


@FAST
@given(baseline_st, global_st, solution_st, st.sampled_from(IDS))
def test_payback_is_where_cumulative_curves_cross(b, g, s, sid):
    a = _only(sid, **s)
    a["global"].update(g)
    case = evaluate(b, a)
    h = case.horizon_months
    # sub-micro-dollar investments make the crossing month a float artefact: money that small is irrelevant
    assume(case.solutions[IDS.index(sid)].investment_usd == 0 or case.solutions[IDS.index(sid)].investment_usd > 1e-6)
    for r in (next(x for x in case.solutions if x.id == sid), case.portfolio):
        gap = case.do_nothing_cumulative - case.with_cumulative(r)  # = cumulative net, month 0..N
        big = 1e-9 * max(1.0, float(np.abs(case.do_nothing_cumulative).max()))  # the difference cancels
        assert gap[1:] == pytest.approx(r.full.cumulative_net[:h], rel=1e-9, abs=big)
        full = np.concatenate(([0.0], r.full.cumulative_net))  # the whole 120-month schedule
        scale = 1e-9 * max(1.0, float(np.abs(full).max()))
        if r.payback_months is None:
            assert full[-1] < 0 or r.payback_status == "nothing to pay back"
            continue
        assert (r.payback_months <= h) == (r.payback_status == "within the horizon")
        k = r.break_even_month
        assert np.all(full[k:] >= -scale)  # from break-even on, "with" costs no more than doing nothing
        if r.payback_months > 0:
            assert full[k - 1] < scale  # before: it still cost more
            lo, hi = full[k - 1], full[k]
            if hi != lo:
                assert (k - 1) + (-lo) / (hi - lo) == pytest.approx(r.payback_months, abs=1e-9)


@FAST
@given(st.one_of(st.just(0.0), st.floats(1e-6, 1e12)))  # money: sub-micro-dollar values are irrelevant
def test_period_identities_property(year):
    p = per_period(year)
    assert p["day"] * 7 == p["week"] and p["quarter"] * 4 == year
    assert p["month"] == year / 12 and p["day"] == year / 365 and p["year"] == year
    assert math.isclose(p["day"] * 365, year, rel_tol=1e-15, abs_tol=1e-300)


@FAST
@given(baseline_st, global_st, st.lists(st.tuples(st.booleans(), st.floats(0, 1), st.sampled_from(TARGET_KEYS)),
                                        min_size=5, max_size=5))
def test_portfolio_savings_never_exceed_target(b, g, picks):
    a = default_assumptions()
    a["global"].update(g)
    for sid, (en, e, t) in zip(IDS, picks):
        a["solutions"][sid].update(enabled=en, effect=e, target=t)
    case = evaluate(b, a)
    for t in case.portfolio_targets:
        assert t["savings_usd_per_year"] <= (t["baseline_usd_per_year"] or 0) * (1 + 1e-12) + 1e-9
        assert t["combined_effect"] <= 1
    by_target: dict[str, float] = {}
    for r in case.solutions:
        if r.enabled:
            by_target[r.target] = by_target.get(r.target, 0.0) + r.savings_year * r.remaining_share
    for t, v in by_target.items():
        assert v <= (case.annual[t] or 0) * (1 + 1e-12) + 1e-9
    # month by month too: never more than the targets' spend that month
    cap = sum((case.annual[t] or 0) for t in by_target) / 12 * case.growth
    assert np.all(case.portfolio.schedule.savings <= cap * (1 + 1e-12) + 1e-9)


# ---------------------------------------------------------------------------------------------
# assumptions: validation, files
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("patch, key", [
    ({"solutions": {"error-monitoring": {"effect": 1.5}}}, "solutions.error-monitoring.effect: must be between 0 and 1"),
    ({"solutions": {"error-monitoring": {"effect": "high"}}}, "solutions.error-monitoring.effect: must be a number"),
    ({"solutions": {"error-monitoring": {"people": True}}}, "solutions.error-monitoring.people: must be a number"),
    ({"solutions": {"error-monitoring": {"enabled": 1}}}, "solutions.error-monitoring.enabled: must be true or false"),
    ({"solutions": {"error-monitoring": {"target": "coffee"}}}, "solutions.error-monitoring.target: must be one of"),
    ({"solutions": {"error-monitoring": {"colour": 1}}}, "solutions.error-monitoring.colour: unknown assumption"),
    ({"solutions": {"blockchain": {}}}, "solutions.blockchain: unknown solution"),
    ({"global": {"horizon_years": 2.5}}, "global.horizon_years: must be a whole number"),
    ({"global": {"discount_rate": float("nan")}}, "global.discount_rate: must be a finite number"),
    ({"global": {"vat": 0.2}}, "global.vat: unknown assumption"),
    ({"extra": {}}, "extra: unknown key"),
])
def test_validation_names_the_key(patch, key):
    with pytest.raises(DataError) as exc:
        validate_assumptions(patch)
    assert key in str(exc.value)


def test_partial_assumptions_take_defaults():
    a = validate_assumptions({"global": {"horizon_years": 5}})
    d = default_assumptions()
    assert a["global"]["horizon_years"] == 5 and a["solutions"] == d["solutions"]


@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_save_load_round_trip(tmp_path, suffix):
    a = default_assumptions()
    a["solutions"]["data-lifecycle"]["effect"] = 0.123456789
    a["solutions"]["cost-optimisation"]["enabled"] = False
    a["global"]["annualisation"] = "active_days"
    p = save_assumptions(a, tmp_path / f"a{suffix}")
    assert load_assumptions(p) == a
    assert [x.name for x in tmp_path.iterdir()] == [f"a{suffix}"]  # no temporary file left


def test_save_is_atomic(tmp_path, monkeypatch):
    p = tmp_path / "a.json"
    p.write_text("old")
    import os

    def boom(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        save_assumptions(default_assumptions(), p)
    assert p.read_text() == "old" and len(list(tmp_path.iterdir())) == 1


@pytest.mark.parametrize("name, text, expect", [
    ("bad.json", '{"solutions": {"error-monitoring": {"effect": 2}}}', "solutions.error-monitoring.effect"),
    ("bad.toml", '[solutions.data-lifecycle]\nweeks = -1\n', "solutions.data-lifecycle.weeks"),
    ("bad.toml", '[global]\nhorizon = 3\n', "global.horizon: unknown assumption"),
    ("broken.json", '{"global": ', "not valid JSON"),
    ("broken.toml", '[global\n', "not valid TOML"),
])
def test_bad_assumptions_file_names_file_and_key(tmp_path, name, text, expect):
    p = tmp_path / name
    p.write_text(text)
    with pytest.raises(DataError) as exc:
        load_assumptions(p)
    assert expect in str(exc.value) and name in str(exc.value)


def test_items_round_trip():
    a = default_assumptions()
    assert assumptions_from_items(assumption_items(a)) == a


def test_failure_rate_jumps_do_not_count_as_anomalous_runs(case_study):
    """Only run-level rules carry excess cost; a pipeline-week finding names its first failed run only."""
    import pandas as pd

    from etl_desk.core.business_case.baseline import compute_baseline

    top = case_study.loc[case_study["cost_usd"].idxmax(), "run_id"]
    jump = pd.DataFrame({"run_id": [top], "rule": ["failure_rate_jump"]})
    spike = pd.DataFrame({"run_id": [top], "rule": ["cost_spike"]})
    assert compute_baseline(case_study, jump).observed["anomaly_excess_cost"] == 0.0
    assert compute_baseline(case_study, spike).observed["anomaly_excess_cost"] > 0.0


def test_baseline_on_the_analysis_anomalies_matches_detection_at_the_same_thresholds(case_study):
    """compute_baseline(df, analysis.anomalies) == compute_baseline(df, thresholds=th): one detection, same figure."""
    from etl_desk.core.insights.analysis import analyze
    from etl_desk.core.insights.anomalies import AnomalyThresholds

    th = AnomalyThresholds(z_threshold=1.5)
    a = analyze(case_study, th)
    given = compute_baseline(case_study, a.anomalies)
    own = compute_baseline(case_study, thresholds=th)
    default = compute_baseline(case_study)
    assert given.observed["anomaly_excess_cost"] == pytest.approx(own.observed["anomaly_excess_cost"])
    assert given.counts["anomalous_runs"] == own.counts["anomalous_runs"] == a.anomalies["run_id"].nunique() > 0
    # the defaults flag nothing on the case study: the thresholds matter
    assert default.observed["anomaly_excess_cost"] == 0 < given.observed["anomaly_excess_cost"]
    # the source names the thresholds the figure was measured at
    assert "z > 1.5" in given.anomaly_source and "z > 1.5" in own.anomaly_source
    assert "z > 4" in default.anomaly_source
    case = business_case(case_study, anomalies=a.anomalies)
    assert case.baseline.observed == given.observed
