"""Anomaly rules users can trust: direction, floors, seasonality, reasons, unknown cost."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from etl_desk.core.data.schema import to_canonical
from etl_desk.core.insights.anomalies import AnomalyThresholds, describe_rules, detect_anomalies
from etl_desk.core.insights.seasonal import month_end_close, season_class


def runs(n=240, *, seed=0, cost_per_min=0.1, freq="6h", start="2024-01-01"):
    """One pipeline without a volume column: ~10-minute runs, cost per minute fixed."""
    rng = np.random.default_rng(seed)
    dur = 10.0 * np.exp(0.05 * rng.standard_normal(n))
    return pd.DataFrame({"run_id": [f"P-{i:04d}" for i in range(n)], "job_name": "P",
                         "start_time": pd.date_range(start, periods=n, freq=freq), "duration_min": dur,
                         "status": "Success", "cost_usd": dur * cost_per_min})


def test_season_classes_by_calendar_position():
    t = pd.to_datetime(["2024-01-31", "2024-01-29", "2024-02-01", "2024-02-03", "2024-02-05", "2024-02-10"])
    # last day, 3rd-last day, 1st, 3rd, a Monday, a Saturday
    assert season_class(t.to_numpy()).tolist() == [7, 9, 12, 14, 0, 5]
    assert month_end_close(t.to_numpy()).tolist() == [True, True, True, True, False, False]


def test_month_end_peak_seen_every_month_is_seasonal_not_an_anomaly():
    df = runs(n=4 * 90, start="2024-01-01")  # 90 days, four runs a day, no volume column
    me = month_end_close(df["start_time"].to_numpy()) & (df["start_time"].dt.day >= 28)
    df.loc[me, ["duration_min", "cost_usd"]] *= 2.5  # every month-end close runs 2.5x as long
    df.loc[100, ["duration_min", "cost_usd"]] *= 4.0  # an ordinary day's stuck run (10 Jan)
    c = to_canonical(df)
    plain = detect_anomalies(c, AnomalyThresholds(seasonal=False))
    assert me.sum() > 20 and set(df.loc[me, "run_id"]) <= set(plain["run_id"])  # all flagged without seasons
    an = detect_anomalies(c)
    assert not set(df.loc[me, "run_id"]) & set(an["run_id"])
    assert "P-0100" in set(an["run_id"])
    r = an[(an["run_id"] == "P-0100") & (an["rule"] == "duration_z")].iloc[0]
    # 4x the usual ~10 minutes; the run cost 4x its $1: about $3 more
    assert r["observed"] / r["baseline"] == pytest.approx(4.0, rel=0.1)
    assert r["excess_usd"] == pytest.approx(r["run_cost_usd"] * (1 - r["baseline"] / r["observed"]))
    assert r["excess_usd"] == pytest.approx(3.0, rel=0.1) and r["excess_pct"] == pytest.approx(300, rel=0.1)
    assert r["reason"].startswith("Ran ") and "than usual" in r["reason"] and "$" in r["reason"]


def test_direction_rises_by_default_falls_when_asked():
    df = runs()
    df.loc[50, ["duration_min", "cost_usd"]] *= 3.0
    df.loc[80, ["duration_min", "cost_usd"]] /= 3.0  # did a third of the work
    c = to_canonical(df)
    up = detect_anomalies(c)
    assert "P-0050" in set(up["run_id"]) and "P-0080" not in set(up["run_id"])
    both = detect_anomalies(c, AnomalyThresholds(falls=True))
    low = both[both["run_id"] == "P-0080"]
    assert len(low) and (low["excess_usd"] < 0).all() and "less than usual" in low.iloc[0]["reason"]
    down = detect_anomalies(c, AnomalyThresholds(rises=False, falls=True))
    assert "P-0050" not in set(down["run_id"]) and "P-0080" in set(down["run_id"])
    assert AnomalyThresholds(rises=False, falls=False).validate()


def test_dollar_and_percent_floors():
    df = runs(cost_per_min=0.01)  # runs of ~$0.10
    df.loc[50, ["duration_min", "cost_usd"]] *= 3.0  # +$0.20, +200 %
    c = to_canonical(df)
    assert "P-0050" in set(detect_anomalies(c)["run_id"])  # default floors: $0.05 and 20 %
    assert "P-0050" not in set(detect_anomalies(c, AnomalyThresholds(min_excess_usd=0.25))["run_id"])
    assert "P-0050" not in set(detect_anomalies(c, AnomalyThresholds(min_excess_pct=250))["run_id"])
    text = describe_rules(AnomalyThresholds(min_excess_usd=0.25, min_excess_pct=30))["duration_z"]
    assert "30 %" in text and "$0.25" in text


def test_unknown_cost_is_skipped_by_cost_rules_but_slow_runs_still_found():
    df = runs()
    df.loc[60, "duration_min"] *= 4.0
    c = to_canonical(df)
    c["cost_usd"] = np.nan  # a source without prices
    an = detect_anomalies(c)
    assert set(an["rule"]) == {"duration_z"} and list(an["run_id"]) == ["P-0060"]
    assert np.isnan(an.iloc[0]["excess_usd"]) and "unknown amount" in an.iloc[0]["reason"]
    assert any("no known cost" in n for n in an.attrs["notes"])
    half = to_canonical(runs())
    half.loc[::2, "cost_usd"] = np.nan
    half.loc[61, "cost_usd"] *= 5.0
    spikes = detect_anomalies(half)
    assert list(spikes.loc[spikes["rule"] == "cost_spike", "run_id"]) == ["P-0061"]
    sp = spikes[spikes["rule"] == "cost_spike"].iloc[0]
    assert sp["baseline"] == pytest.approx(1.0, rel=0.05)  # the known runs' mean, not dragged down by $0s


def test_a_slow_drift_does_not_flag_every_later_run():
    df = runs(n=4 * 140)  # 20 weeks, four runs a day: flat for 12, then +6 % a week
    weeks = np.maximum(np.arange(len(df)) / (4 * 7) - 12, 0)
    df[["duration_min", "cost_usd"]] = df[["duration_min", "cost_usd"]].mul(1.06 ** weeks, axis=0)
    c = to_canonical(df)
    assert len(detect_anomalies(c, AnomalyThresholds(weekly_level=False))) > 40  # the later runs
    assert len(detect_anomalies(c)) == 0  # the drift test's job, not dozens of run alerts


def test_month_end_failure_peaks_are_seasonal_a_wave_is_not():
    rng = np.random.default_rng(5)
    df = runs(n=6 * 182, freq="4h")  # 26 weeks, six runs a day
    t = df["start_time"]
    close = month_end_close(t.to_numpy()) & ((t.dt.day >= 29) | (t.dt.day <= 1))
    p = np.where(close, 0.45, 0.03)
    wave = (t >= "2024-04-15") & (t < "2024-04-22")  # a bad deployment, mid-month
    p = np.where(wave, 0.5, p)
    df["status"] = np.where(rng.random(len(df)) < p, "Failed", "Success")
    c = to_canonical(df)
    plain = detect_anomalies(c, AnomalyThresholds(seasonal=False))
    jumps = plain[plain["rule"] == "failure_rate_jump"]
    assert len(jumps) >= 4  # month-end weeks jump against the week before
    got = detect_anomalies(c)
    weeks = set(got.loc[got["rule"] == "failure_rate_jump", "start_time"].dt.strftime("%Y-%m-%d"))
    assert weeks == {"2024-04-15"}
    r = got[got["rule"] == "failure_rate_jump"].iloc[0]
    assert "expected from the week before" in r["reason"] and r["excess_usd"] > 0
