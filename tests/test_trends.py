"""Drift, forecast and budget: ground truth found, intervals calibrated, budgets added up by hand."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from etl_desk.core.data.realistic import RealisticSettings, generate_realistic
from etl_desk.core.data.schema import to_canonical
from etl_desk.core.insights.budget import Budget, budget_status, parse_budget
from etl_desk.core.insights.drift import detect_drift
from etl_desk.core.insights.forecast import ForecastSettings, forecast_costs
from etl_desk.core.tasks import Cancelled


def daily_runs(days=120, *, start="2024-01-01", per_day=20, growth_from=None, pct=5.0, seed=0, cost=None):
    """One pipeline, `per_day` runs a day of 10 GB; cost $1 a run (x noise); from day `growth_from` its
    cost per TB grows `pct` % a week."""
    rng = np.random.default_rng(seed)
    n = days * per_day
    t = pd.Timestamp(start) + pd.to_timedelta(np.repeat(np.arange(days), per_day), unit="D") \
        + pd.to_timedelta(np.tile(np.arange(per_day) * (1440 // per_day), days), unit="min")
    dur = 10.0 * np.exp(0.1 * rng.standard_normal(n))
    c = dur / 10.0 if cost is None else cost(np.repeat(np.arange(days), per_day), rng)
    if growth_from is not None:
        d = np.repeat(np.arange(days), per_day)
        c = c * np.where(d >= growth_from, (1 + pct / 100) ** ((d - growth_from) / 7.0), 1.0)
    return to_canonical(pd.DataFrame({"run_id": [f"P-{i}" for i in range(n)], "job_name": "P", "start_time": t,
                                      "duration_min": dur, "data_processed_gb": 10.0, "status": "Success",
                                      "cost_usd": c}))


def test_drift_found_with_its_start_rate_and_money():
    df = daily_runs(growth_from=80, pct=5.0)
    res = detect_drift(df)
    f = [x for x in res.findings if x.metric == "cost_per_tb"]
    assert len(f) == 1
    f = f[0]
    assert f.pipeline == "P" and f.pct_per_week == pytest.approx(5.0, abs=1.5)
    assert abs((pd.Timestamp(f.start) - pd.Timestamp("2024-01-01")).days - 80) <= 4
    # extra spend by hand: each run after day 80 costs (1.05^(w) - 1) more than $1-ish
    d = np.repeat(np.arange(120), 20)
    c = df["cost_usd"].to_numpy()
    truth = float((c * (1 - 1.05 ** (-(np.maximum(d - 80, 0)) / 7.0)))[d >= 80].sum())
    assert f.extra_spend_usd == pytest.approx(truth, rel=0.25)
    last7 = c[d >= 113] * (1 - 1.05 ** (-(d[d >= 113] - 80) / 7.0))
    assert f.annualised_usd == pytest.approx(last7.sum() * 52, rel=0.25)
    assert f.before == pytest.approx(100.0, rel=0.05)  # $1 per 10 GB = $100 per TB before
    assert "a week since" in f.reason and f.p_value < 0.001
    # the duration did not drift
    assert not [x for x in res.findings if x.metric == "duration_per_gb"]


def test_no_drift_on_a_flat_pipeline_and_month_end_is_not_drift():
    def monthly(d, rng):  # month-end days cost 2.5x, every month
        days = pd.Timestamp("2024-01-01") + pd.to_timedelta(d, unit="D")
        return np.where(days.is_month_end | (days.day == 1), 2.5, 1.0) * np.exp(0.1 * rng.standard_normal(len(d)))
    assert detect_drift(daily_runs(days=180, cost=monthly)).findings == []
    assert detect_drift(daily_runs(days=20)).notes[0].startswith("Drift needs at least")


def test_drift_cancel_and_progress():
    df = daily_runs(growth_from=80)
    seen = []
    detect_drift(df, progress=seen.append)
    assert seen and seen[-1] == 1.0
    with pytest.raises(Cancelled):
        detect_drift(df, cancel=lambda: True)


def test_generator_drift_is_detected_within_three_weeks():
    s = RealisticSettings(runs=150_000, days=200, seed=404, drift_pipelines=2, anomaly_rate=0.01)
    df = generate_realistic(s)
    truth = df.attrs["ground_truth"]["drifts"]
    assert len(truth) == 2
    for g in truth:
        cut = pd.Timestamp(g["start"]) + pd.Timedelta(days=21)
        found = {f.pipeline for f in detect_drift(df[df["start_time"] < cut]).findings}
        assert g["pipeline"] in found
    plain = generate_realistic(RealisticSettings(runs=150_000, days=200, seed=404, anomaly_rate=0.01))
    assert detect_drift(plain).findings == []


def test_forecast_intervals_cover_what_they_claim():
    s = RealisticSettings(runs=60_000, days=240, seed=77, team_tags=True)
    res = forecast_costs(generate_realistic(s), ForecastSettings(horizon_days=60))
    bts = [res.total.backtest] + [f.backtest for f in res.pipelines.values()]
    days = sum(b.days for b in bts)
    cov80 = sum(b.coverage80 * b.days for b in bts) / days
    cov95 = sum(b.coverage95 * b.days for b in bts) / days
    assert 0.70 <= cov80 <= 0.90 and cov95 >= 0.85
    f = res.total.frame
    assert len(f) == 60 and (f["lo95"] <= f["lo80"]).all() and (f["lo80"] <= f["hi80"]).all()
    assert (f["hi80"] <= f["hi95"]).all() and (f["lo80"] <= f["mean"] * 1.0001).all()
    p = res.total.period_total(30)
    assert p["lo80"] <= p["mean"] <= p["hi80"] and p["mean"] == pytest.approx(f["mean"].head(30).sum())


def test_forecast_needs_history_and_skips_unknown_cost():
    short = daily_runs(days=30)
    assert forecast_costs(short).total is None
    df = daily_runs(days=100)
    df.loc[df.index[::2], "cost_usd"] = np.nan
    res = forecast_costs(df, by_pipeline=False)
    assert any("no known cost" in n for n in res.notes)
    # half the runs known: about $10 a day, not $20
    assert res.total.frame["mean"].head(7).mean() == pytest.approx(10.0, rel=0.15)


def test_budget_burn_month_end_and_crossing_by_hand():
    # 20 runs of $1 a day = $20 a day, flat; data 1 Jan - 14 Apr: April has 14 days spent
    df = daily_runs(days=105, seed=3)
    df["cost_usd"] = 1.0
    st = budget_status(df, parse_budget("490/month"))
    assert st.month == "2024-04" and st.days_elapsed == 14 and st.burn_to_date == pytest.approx(280.0)
    assert st.month_end == pytest.approx(600.0, rel=0.02)  # 30 days x $20
    assert st.status == "likely over" and st.crossing == "2024-04-25"  # $280 + 11 x $20 = $500 >= $490 on the 25th
    assert st.month_end_lo95 <= st.month_end <= st.month_end_hi95
    on = budget_status(df, Budget(700.0))
    assert on.status == "on track" and on.crossing is None
    over = budget_status(df, Budget(200.0))
    assert over.status == "over budget" and over.crossing == "2024-04-10"  # $20 x 10 days
    d = st.daily
    assert list(d.columns[:3]) == ["day", "actual", "forecast"] and len(d) == 30
    assert d["actual"].iloc[13] == pytest.approx(280.0) and np.isnan(d["forecast"].iloc[13])


def test_budget_parsing_and_tag_scope():
    assert parse_budget("25000/month") == Budget(25000.0)
    assert parse_budget("$25,000") == Budget(25000.0)
    assert parse_budget("25k/month:team=finance") == Budget(25000.0, tag_key="team", tag_value="finance")
    for bad in ("", "abc", "-5/month", "0"):
        with pytest.raises(ValueError):
            parse_budget(bad)
    df = daily_runs(days=100)
    df["tags"] = np.where(np.arange(len(df)) % 4 == 0, '{"team":"a"}', None)
    df["tags"] = df["tags"].astype("string")
    st = budget_status(df, parse_budget("100/month:team=a"))
    assert st.burn_to_date == pytest.approx(df.loc[(df["tags"] == '{"team":"a"}') & (df["start_time"] >= "2024-04-01"),
                                                   "cost_usd"].sum(), rel=1e-9)


def test_a_short_history_has_no_backtest_and_no_made_up_band():
    """59 days (the case study): too short to calibrate and then backtest the bands. The coverage is
    unknown (it read "0 % of days", from zero-width bands) and a 30-day total has no band (it read
    "80 %: $473-$532" with the point at the top, from 4 past sums)."""
    from etl_desk.core.data.generate import generate

    res = forecast_costs(generate("case-study"), ForecastSettings(horizon_days=30), by_pipeline=False)
    bt = res.total.backtest
    assert bt.days == 0 and bt.coverage80 is None and bt.coverage95 is None
    p = res.total.period_total(30)
    assert p["mean"] == pytest.approx(res.total.frame["mean"].head(30).sum())
    assert p["lo80"] is None and p["hi95"] is None
    f = res.total.frame  # the daily bands still hold their point
    assert (f["lo80"] < f["mean"]).all() and (f["mean"] < f["hi80"]).all()


def test_budget_texts_name_one_day_once():
    """A flat bill crosses the budget on one day whatever the band: the reason said "between
    2024-04-25 and 2024-04-25" and "80 %: $600–$600"."""
    from etl_desk.core import fmt

    df = daily_runs(days=105, seed=3)
    df["cost_usd"] = 1.0
    st = budget_status(df, parse_budget("490/month"))
    assert st.crossing == "2024-04-25"
    assert "Expected to cross the budget on 2024-04-25." in st.reason
    assert "between" not in st.reason and "$600–$600" not in st.reason
    assert fmt.between("2024-07-21", "2024-07-21") == "on 2024-07-21"
    assert fmt.between("2024-07-21", "2024-07-23") == "between 2024-07-21 and 2024-07-23"
    assert fmt.from_to("$5", "$5", "–") == "$5" and fmt.from_to("$5", "$7", "–") == "$5–$7"


def test_short_and_flat_histories_fit_without_warnings_and_say_which_model():
    """A flat bill made the lag equal the constant and a 28-day window without a month-end left its
    dummies at 0: statsmodels warned (SingularMatrixWarning) on the forecast's worker thread, where
    the filter that hid it was not thread-safe. The design is now checked before fitting."""
    import warnings

    flat = daily_runs(days=105, seed=3)
    flat["cost_usd"] = 1.0  # $20 a day, every day
    with warnings.catch_warnings(record=True) as seen:  # the test's own thread: recording is safe here
        warnings.simplefilter("always")
        f = forecast_costs(flat, ForecastSettings(horizon_days=14), by_pipeline=False).total
        g = forecast_costs(daily_runs(days=120), ForecastSettings(horizon_days=14), by_pipeline=False).total
    assert [str(w.message) for w in seen] == []
    assert "flat history: the forecast is its last level" in f.method
    assert f.frame["mean"].to_numpy() == pytest.approx(np.full(14, 20.0))  # the level, $20 a day
    assert "this history" not in g.method  # 120 varied days: the full model
