"""The realistic SAP/GIS generator: canonical, deterministic, physically coherent."""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings as hyp_settings, strategies as st

from etl_desk.core.data.pipelines import BY_NAME, PIPELINES, pipelines
from etl_desk.core.tasks import Cancelled
from etl_desk.core.data.generate import generate
from etl_desk.core.data.realistic import (ANOMALY_FACTOR_RANGE, REALISTIC_SCENARIOS, TERMINATION_CODES, RealisticSettings, SettingsError, generate_realistic)
from etl_desk.core.data.schema import assert_canonical, status_from_state, to_canonical


@pytest.fixture(scope="module")
def default_runs():
    """20,000 runs at default settings (big enough for failure-rate comparisons)."""
    return generate_realistic(RealisticSettings(runs=20_000))


def _hash(df: pd.DataFrame) -> np.ndarray:
    return pd.util.hash_pandas_object(df, index=True).to_numpy()


def _scheduled_run(df: pd.DataFrame) -> pd.Series:
    """The scheduled run a row belongs to: its run ID without the "-a<attempt>" suffix."""
    return df["run_id"].str.replace(r"-a\d+$", "", regex=True)


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    return df[~df["injected_anomaly"].astype(bool)]


# --- form ------------------------------------------------------------------------------------------------
def test_canonical_form_equals_what_the_validator_makes(default_runs):
    df = default_runs
    assert_canonical(df)
    # the generator builds the frame directly; the validator must not change a thing
    sample = df.iloc[::97].reset_index(drop=True)
    pd.testing.assert_frame_equal(to_canonical(sample), sample)
    assert df["status"].notna().all() and df["source_system"].notna().all()
    assert df["spot"].notna().all() and df["injected_anomaly"].notna().all()
    # status agrees with the raw result state the way every importer reads it
    assert (status_from_state(df["result_state"]).to_numpy() == df["status"].astype(str).to_numpy()).all()
    assert set(df["termination_code"].unique()) <= set(TERMINATION_CODES)
    assert (df.loc[df["status"] == "Success", "termination_code"] == "SUCCESS").all()


def test_pipelines_sources_and_ids(default_runs):
    df = default_runs
    names = set(df["job_name"].unique())
    assert names == {p.name for p in PIPELINES}  # every catalogue pipeline shows up at 20k runs
    src = df["job_name"].map({p.name: p.source for p in PIPELINES})
    assert (src.to_numpy() == df["source_system"].astype(str).to_numpy()).all()
    assert df["run_id"].str.fullmatch(r"[a-z0-9-]+-\d{6}-a\d").all()
    assert (df["run_id"].str.replace(r"-\d+-a\d$", "", regex=True) == df["job_name"]).all()
    assert (df["data_processed_gb"] == df["data_processed_gb"].round(2)).all()
    assert (df["data_processed_gb"] > 0).all()
    sap = (df["source_system"] == "SAP").mean()
    first = df[df["attempt"] == 1]
    assert (first["source_system"] == "SAP").mean() == pytest.approx(0.6, abs=0.02)
    assert sap == pytest.approx(0.6, abs=0.03)


def test_dates_cover_the_requested_period():
    df = generate_realistic(RealisticSettings(runs=5_000, start="2023-11-15", days=30))
    assert df["start_time"].min() >= pd.Timestamp("2023-11-15")
    assert df["start_time"].min() < pd.Timestamp("2023-11-16")
    assert df["start_time"].max() >= pd.Timestamp("2023-12-14")
    assert df["start_time"].max() < pd.Timestamp("2023-12-16")  # last day (+ a few late retries)
    per_day = df["start_time"].dt.floor("D").value_counts()
    assert per_day.min() > 0.6 * per_day.median()  # evenly spread, no empty days


@pytest.mark.parametrize("runs, kw", [
    (1, {}), (7, {}), (1_234, {}), (3_001, {"failure_rate_scale": 8.0, "max_retries": 5}),
    (500, {"max_retries": 0, "failure_rate_scale": 4.0}),
])
def test_runs_count_is_exact_retries_included(runs, kw):
    df = generate_realistic(RealisticSettings(runs=runs, **kw))
    assert len(df) == runs
    assert df["run_id"].is_unique
    if kw.get("max_retries") == 0:
        assert (df["attempt"] == 1).all()
    if kw.get("failure_rate_scale", 1) > 5:
        assert df["attempt"].max() >= 3  # a flaky workload really retries


# --- determinism -----------------------------------------------------------------------------------------
def test_same_seed_and_settings_give_byte_identical_output():
    s = RealisticSettings(runs=3_000, seed=11, anomaly_rate=0.02)
    a, b = generate_realistic(s), generate_realistic(s)
    assert (_hash(a) == _hash(b)).all()
    pd.testing.assert_frame_equal(a, b)
    c = generate_realistic(dataclasses.replace(s, seed=12))
    assert not c["cost_usd"].equals(a["cost_usd"])


def test_generate_entry_point_overrides_runs_seed_and_anomaly_rate():
    df = generate("realistic", runs=2_000, seed=3, anomaly_rate=0.05)
    ref = generate_realistic(RealisticSettings(runs=2_000, seed=3, anomaly_rate=0.05))
    assert (_hash(df) == _hash(ref)).all()
    base = RealisticSettings(spot_share=0.0)
    no_spot = generate("realistic", runs=500, settings=base)
    assert not no_spot["spot"].any()


# --- settings --------------------------------------------------------------------------------------------
def test_settings_fields_carry_form_metadata_and_defaults_validate():
    s = RealisticSettings()
    assert s.validate() == []
    for f in dataclasses.fields(RealisticSettings):
        assert f.default is not dataclasses.MISSING
        spec = f.metadata["spec"]  # a FieldSpec: label, unit, min, max, step, help
        assert spec.label and spec.help and "\n" not in spec.help, f.name
        unbounded = spec.is_date or f.type in ("bool", bool)  # a date or an on/off stage has no range
        assert (spec.min is None) == (spec.max is None) == (spec.step is None) == unbounded, f.name
    assert (s.runs, s.seed, s.start, s.days, s.sap_share, s.max_retries) == (10_000, 7, "2024-01-01", 90, 0.6, 2)
    assert (s.spot_share, s.spot_discount, s.usd_per_dbu, s.instance_usd_per_hour, s.anomaly_rate) == \
        (0.5, 0.6, 0.15, 0.5, 0.0)


@pytest.mark.parametrize("change, words", [
    ({"runs": 0}, "Runs"), ({"sap_share": 1.5}, "SAP share"), ({"days": 0}, "Days"),
    ({"anomaly_rate": 0.9}, "Anomaly rate"), ({"max_retries": 9}, "Max retries"),
    ({"start": "next tuesday"}, "Start date"), ({"start": "2024-02-30"}, "Start date"),
    ({"spot_discount": -0.1}, "Spot discount"), ({"usd_per_dbu": float("nan")}, "$ per DBU"),
    ({"runs": 2.5}, "whole number"),
])
def test_validate_names_the_bad_field(change, words):
    s = dataclasses.replace(RealisticSettings(), **change)
    msgs = s.validate()
    assert len(msgs) == 1 and words in msgs[0]
    with pytest.raises(SettingsError, match=words.replace("$", r"\$")) as err:
        generate_realistic(s)
    assert err.value.problems == msgs and isinstance(err.value, ValueError)


def test_two_bad_fields_give_two_messages():
    assert len(RealisticSettings(runs=-1, spot_share=2.0).validate()) == 2


def test_scenarios_are_valid_and_different():
    assert 3 <= len(REALISTIC_SCENARIOS) <= 4
    assert all(name.startswith("Realistic: ") for name in REALISTIC_SCENARIOS)
    assert any(s.runs >= 1_000_000 for s in REALISTIC_SCENARIOS.values())
    for name, s in REALISTIC_SCENARIOS.items():
        assert s.validate() == [], name
    assert len(set(REALISTIC_SCENARIOS.values())) == len(REALISTIC_SCENARIOS)
    flaky = generate_realistic(dataclasses.replace(REALISTIC_SCENARIOS["Realistic: spot-heavy, flaky"], runs=5_000))
    steady = generate_realistic(dataclasses.replace(REALISTIC_SCENARIOS["Realistic: steady utility workload"],
                                                    runs=5_000))
    assert (flaky["status"] == "Failed").mean() > 2 * (steady["status"] == "Failed").mean()


# --- progress and cancel ---------------------------------------------------------------------------------
def test_progress_runs_from_zero_to_one():
    seen = []
    generate_realistic(RealisticSettings(runs=1_000), progress=seen.append)
    assert seen[0] == 0.0 and seen[-1] == 1.0 and len(seen) >= 4
    assert seen == sorted(seen)


@pytest.mark.parametrize("after", [0, 1, 3])
def test_cancel_raises_cancelled(after):
    polls = []

    def cancel():
        polls.append(1)
        return len(polls) > after

    with pytest.raises(Cancelled):
        generate_realistic(RealisticSettings(runs=5_000), cancel=cancel)


# --- physics ---------------------------------------------------------------------------------------------
def test_failures_more_frequent_in_top_volume_decile(default_runs):
    df = default_runs
    gb = df["data_processed_gb"]
    failed = df["status"] == "Failed"
    top = failed[gb >= gb.quantile(0.9)].mean()
    bottom = failed[gb <= gb.quantile(0.1)].mean()
    assert top > 2 * bottom


def test_spot_runs_fail_more_often_than_on_demand():
    df = generate_realistic(RealisticSettings(runs=60_000))
    first = df[(df["attempt"] == 1) & df["job_name"].map(lambda j: BY_NAME[j].spot_eligible).astype(bool)]
    rate = (first["status"] == "Failed").groupby(first["spot"].astype(bool)).mean()
    assert rate[True] > 1.2 * rate[False]
    lost = df["termination_code"] == "SPOT_INSTANCE_TERMINATION"
    assert lost.sum() > 100 and df.loc[lost, "spot"].all()
    # the retry after a spot loss falls back to on-demand instances
    after = np.flatnonzero(lost.to_numpy()) + 1
    after = after[after < len(df)]
    after = after[df["attempt"].to_numpy()[after] > 1]
    assert len(after) > 50 and not df["spot"].to_numpy(dtype=bool)[after].any()
    # spot only on spot-eligible pipelines; about spot_share of their runs
    eligible = df["job_name"].map(lambda j: BY_NAME[j].spot_eligible).astype(bool)
    assert not df.loc[~eligible, "spot"].any()
    assert df.loc[eligible & (df["attempt"] == 1), "spot"].mean() == pytest.approx(0.5, abs=0.02)


def test_sap_month_end_volumes_are_higher(default_runs):
    df = default_runs
    d = df["start_time"].dt
    month_end = (d.day == 1) | (d.days_in_month - d.day < 3)
    med = df.groupby([df["job_name"], month_end])["data_processed_gb"].median().unstack()
    for p in pipelines("SAP"):
        if p.month_end_peak >= 1.5:
            assert med.loc[p.name, True] > 1.3 * med.loc[p.name, False], p.name
    gis = df["source_system"] == "GIS"
    rel = df["data_processed_gb"] / df.groupby("job_name")["data_processed_gb"].transform("median")
    assert rel[gis & month_end].median() == pytest.approx(rel[gis & ~month_end].median(), rel=0.1)
    flat = generate_realistic(RealisticSettings(runs=20_000, month_end_peak_scale=0.0))
    fd = flat["start_time"].dt
    fme = (fd.day == 1) | (fd.days_in_month - fd.day < 3)
    gl = flat["job_name"] == "sap-fi-gl-extract"
    assert flat.loc[gl & fme, "data_processed_gb"].median() == pytest.approx(
        flat.loc[gl & ~fme, "data_processed_gb"].median(), rel=0.2)


def test_duration_varies_20_to_30_percent_at_equal_volume(default_runs):
    ok = _plain(default_runs)
    ok = ok[(ok["status"] == "Success") & (ok["attempt"] == 1)]
    # pipelines whose duration is mostly data processing rather than cluster start-up
    for name in ("gis-imagery-tiles", "sap-fi-gl-extract", "gis-network-topology", "gis-vegetation-risk"):
        p = BY_NAME[name]
        r = ok[ok["job_name"] == name]
        expected = p.startup_min * 1.05 + r["data_processed_gb"] / (p.gb_per_min_per_node * p.nodes)
        ratio = r["duration_min"] / expected
        assert ratio.median() == pytest.approx(1.0, abs=0.08), name
        assert 0.18 <= ratio.std() / ratio.mean() <= 0.30, name


def test_no_failure_scale_means_no_failures_but_timeouts():
    df = generate_realistic(RealisticSettings(runs=5_000, failure_rate_scale=0.0))
    failed = df[df["status"] == "Failed"]
    assert (failed["result_state"] == "TIMED_OUT").all()
    for name, g in failed.groupby("job_name"):
        assert (g["duration_min"] == BY_NAME[name].timeout_min).all()


def test_spot_discount_lowers_cost_of_the_same_runs():
    a = generate_realistic(RealisticSettings(runs=5_000, spot_discount=0.0))
    b = generate_realistic(RealisticSettings(runs=5_000, spot_discount=0.8))
    assert (a["duration_min"].to_numpy() == b["duration_min"].to_numpy()).all()
    spot = a["spot"].to_numpy(dtype=bool)
    assert (b["cost_usd"].to_numpy()[spot] < a["cost_usd"].to_numpy()[spot]).all()
    assert (b["cost_usd"].to_numpy()[~spot] == a["cost_usd"].to_numpy()[~spot]).all()


def test_injected_anomalies_multiply_duration_or_cost_by_2_5_to_5():
    s = RealisticSettings(runs=20_000, seed=5)
    base = generate_realistic(s)
    anom = generate_realistic(dataclasses.replace(s, anomaly_rate=0.05))
    flag = anom["injected_anomaly"].to_numpy(dtype=bool)
    assert flag.mean() == pytest.approx(0.05, abs=0.006)
    assert not base["injected_anomaly"].any()
    # every other row is untouched
    pd.testing.assert_frame_equal(anom[~flag].drop(columns="injected_anomaly"),
                                  base[~flag].drop(columns="injected_anomaly"))
    lo, hi = ANOMALY_FACTOR_RANGE
    cost_ratio = anom["cost_usd"].to_numpy()[flag] / base["cost_usd"].to_numpy()[flag]
    assert (cost_ratio > lo * 0.98).all() and (cost_ratio < hi * 1.02).all()
    dur_ratio = anom["duration_min"].to_numpy()[flag] / base["duration_min"].to_numpy()[flag]
    stretched = dur_ratio > 1.0
    assert 0.2 < stretched.mean() < 0.6  # both kinds occur
    assert (dur_ratio[stretched] > lo * 0.98).all()
    # a stretched run's cost follows its duration; a cost spike keeps its wall-clock time
    np.testing.assert_allclose(cost_ratio[stretched], dur_ratio[stretched], rtol=0.02)
    assert (dur_ratio[~stretched] == 1.0).all()
    end = anom["start_time"] + pd.to_timedelta(anom["duration_min"], unit="min")
    assert ((anom["end_time"] - end).abs() < pd.Timedelta(milliseconds=1)).all()


# --- property tests over settings ------------------------------------------------------------------------
settings_strategy = st.builds(
    RealisticSettings,
    runs=st.integers(50, 3_000),
    seed=st.integers(0, 2**32 - 1),
    start=st.sampled_from(["2024-01-01", "2023-02-20", "2025-12-30"]),
    days=st.integers(1, 400),
    sap_share=st.floats(0.0, 1.0),
    failure_rate_scale=st.floats(0.0, 10.0),
    max_retries=st.integers(0, 5),
    spot_share=st.floats(0.0, 1.0),
    spot_discount=st.floats(0.0, 0.95),
    usd_per_dbu=st.floats(0.01, 5.0),
    instance_usd_per_hour=st.floats(0.0, 50.0),
    anomaly_rate=st.sampled_from([0.0, 0.01, 0.2]),
    month_end_peak_scale=st.floats(0.0, 5.0),
)


@hyp_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(settings_strategy)
def test_properties_hold_for_any_valid_settings(s):
    df = generate_realistic(s)
    assert len(df) == s.runs
    assert df["run_id"].is_unique
    assert (df["cost_usd"] >= 0).all()
    assert (df["end_time"] >= df["start_time"]).all()
    assert (df["duration_min"] > 0).all()
    failed = df["status"] == "Failed"
    assert (df.loc[failed, "cost_usd"] > 0).all()  # failed runs stop part-way but still cost money
    assert df["attempt"].between(1, s.max_retries + 1).all()
    assert df["start_time"].min() >= pd.Timestamp(s.start)
    # the last scheduled runs start on the last day (late retries may run into the next day or two)
    assert df["start_time"].max() < pd.Timestamp(s.start) + pd.Timedelta(days=s.days + 2)
    if s.sap_share == 0:
        assert (df["source_system"] == "GIS").all()
    if s.spot_share == 0:
        assert not df["spot"].any()

    plain = _plain(df)
    nodes = plain["job_name"].map({p.name: p.nodes for p in PIPELINES}).to_numpy()
    np.testing.assert_allclose(plain["compute_hours"], plain["duration_min"] / 60 * nodes, atol=6e-5)
    # cost grows with duration for the same pipeline on the same cluster (nodes and spot)
    srt = plain.sort_values(["job_name", "spot", "duration_min"], kind="stable")
    same = (srt["job_name"].to_numpy()[1:] == srt["job_name"].to_numpy()[:-1]) & \
        (srt["spot"].to_numpy()[1:] == srt["spot"].to_numpy()[:-1])
    assert (np.diff(srt["cost_usd"].to_numpy())[same] >= 0).all()

    # retries: attempt k+1 follows a failed attempt k of the same scheduled run, after it ended
    key = _scheduled_run(df)
    prev = df.assign(key=key, attempt=df["attempt"] + 1)[["key", "attempt", "status", "end_time", "spot",
                                                          "termination_code"]]
    retries = df.assign(key=key)[df["attempt"] > 1]
    joined = retries.merge(prev, on=["key", "attempt"], how="left", suffixes=("", "_prev"),
                           validate="one_to_one")
    assert joined["status_prev"].notna().all()
    assert (joined["status_prev"] == "Failed").all()
    assert (joined["start_time"] > joined["end_time_prev"]).all()
    lost = joined["termination_code_prev"] == "SPOT_INSTANCE_TERMINATION"
    assert not joined.loc[lost, "spot"].any()  # a retry after a spot loss runs on demand
    # rows come grouped by scheduled run, attempts in order
    assert (df.groupby(key, sort=False)["attempt"].diff().dropna() == 1).all()

    n_anom = int(df["injected_anomaly"].sum())
    expected = s.anomaly_rate * s.runs
    assert abs(n_anom - expected) <= 5 * np.sqrt(expected + 1)
