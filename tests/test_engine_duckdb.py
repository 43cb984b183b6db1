"""The DuckDB engine against the pandas path and against figures worked out by hand."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tests.engine_helpers import SMALL, assert_kpis_equal, assert_rollups_equal, realistic, write_dataset
from etl_desk.core.engine import Engine, EngineSettings, Rule
from etl_desk.core.engine import pandas_path as P
from etl_desk.core.engine import sketch
from etl_desk.core.insights.kpis import compute_kpis


@pytest.fixture(scope="module")
def runs():
    return realistic(30_000)


@pytest.fixture(scope="module")
def folder(runs, tmp_path_factory):
    return write_dataset(runs, tmp_path_factory.mktemp("ds") / "runs")


@pytest.fixture(scope="module")
def eng(folder):
    e = Engine.open(folder, settings=EngineSettings(**SMALL))
    yield e
    e.close()


RULES = [None, Rule(statuses={"Failed"}), Rule(sources={"SAP"}, spot=True),
         Rule(start=pd.Timestamp("2024-01-20"), end=pd.Timestamp("2024-02-10"), text="meter"),
         Rule(retries=True), Rule(pipelines={"gis-outage-map", "sap-hr-payroll"})]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: "all" if r is None else r.describe())
def test_kpis_equal_pandas(runs, eng, rule):
    assert_kpis_equal(P.kpis(runs, rule), eng.kpis(rule))


@pytest.mark.parametrize("grain", ["day", "week", "month", "pipeline", "status", "source"])
def test_rollups_equal_pandas(runs, eng, grain):
    assert_rollups_equal(P.rollup(runs, grain), eng.rollup(grain))
    rule = Rule(statuses={"Failed"}, sources={"GIS"})
    assert_rollups_equal(P.rollup(runs, grain, rule), eng.rollup(grain, rule))


def test_count_follows_rule_mask(runs, eng):
    for rule in RULES[1:]:
        assert eng.count(rule) == int(rule.mask(runs).sum())


@pytest.mark.parametrize("exact", [True, False])
def test_anomaly_flags_equal_pandas(runs, eng, exact):
    eng.settings.quantiles = "exact" if exact else "approx"
    try:
        s = eng.anomaly_scores(top=100_000)
    finally:
        eng.settings.quantiles = "auto"
    stats, z, flagged = P.anomaly_scores(runs, exact=exact)
    ref = set(runs["run_id"].to_numpy()[flagged])
    assert s.flagged_runs == len(ref) > 0
    assert set(s.top["run_id"]) == ref
    got = s.stats.set_index("key")
    exp = stats.set_index("key")
    np.testing.assert_allclose(got["med"], exp.loc[got.index, "med"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got["spread"], exp.loc[got.index, "spread"], rtol=1e-9, atol=1e-12)
    # the injected anomalies are what the rule finds: most flagged runs are ground truth
    truth = set(runs.loc[runs["injected_anomaly"].to_numpy(bool), "run_id"])
    assert len(ref & truth) / len(ref) > 0.8


def test_baselines_exact_match_numpy(runs, eng):
    b = eng.baselines().set_index("key")
    ok = runs[(runs["status"] == "Success") & (runs["duration_min"] > 0)]
    for key, g in ok.groupby(ok["job_name"].astype(str)):
        d = g["duration_min"].to_numpy()
        assert b.loc[key, "median"] == pytest.approx(np.median(d), rel=1e-12)
        assert b.loc[key, "mad"] == pytest.approx(np.median(np.abs(d - np.median(d))), rel=1e-12)
        assert b.loc[key, "p95"] == pytest.approx(np.percentile(d, 95), rel=1e-12)
        slope = np.polyfit(g["data_processed_gb"].to_numpy(), d, 1)[0]
        assert b.loc[key, "slope_min_per_gb"] == pytest.approx(slope, rel=1e-6)


def test_envelope_matches_numpy(runs, eng):
    order = np.argsort(runs["run_id"].to_numpy(dtype=object), kind="stable")
    cost = runs["cost_usd"].to_numpy()[order]
    failed = (runs["status"] == "Failed").to_numpy()[order]
    lo, hi, nb = 1_000, 21_000, 40
    env = eng.envelope(lo, hi, nb, "cost_usd")
    seg, fseg = cost[lo:hi].reshape(nb, -1), failed[lo:hi].reshape(nb, -1)
    np.testing.assert_array_equal(env.runs, 500)
    np.testing.assert_allclose(env.max, seg.max(axis=1))
    np.testing.assert_allclose(env.sum, seg.sum(axis=1))
    np.testing.assert_array_equal(env.failed_runs, fseg.sum(axis=1))
    fmax = np.where(fseg, seg, -np.inf).max(axis=1)
    np.testing.assert_allclose(np.nan_to_num(env.failed_max, nan=-np.inf), fmax)
    desc = eng.envelope(0, 100, 100, "cost_usd", sort="cost_usd", descending=True)
    np.testing.assert_allclose(desc.max, np.sort(runs["cost_usd"].to_numpy())[::-1][:100])


def test_keyset_pages_walk_the_sort_order(runs, eng):
    # one sort rule with the in-memory dashboard: value descending, ties in run-ID order (ascending)
    ref = runs.sort_values(["cost_usd", "run_id"], ascending=[False, True])["run_id"].tolist()[:250]
    got, after = [], None
    for _ in range(3):
        p = eng.page("cost_usd", after=after, n=100, descending=True)
        got += p.rows["run_id"].tolist()
        after = p.next_key
    assert got[:250] == ref
    rule = Rule.failed()
    p = eng.page("run_id", n=50, rule=rule)
    exp = sorted(runs.loc[rule.mask(runs), "run_id"])[:50]
    assert p.rows["run_id"].tolist() == exp
    jump = eng.page("run_id", at=10_000, n=5)
    assert jump.rows["run_id"].tolist() == sorted(runs["run_id"])[10_000:10_005]


def test_histogram_quantiles_within_stated_error():
    rng = np.random.default_rng(1)
    x = np.round(rng.lognormal(2.0, 1.0, 50_001), 2)
    xs = np.sort(x)
    b = sketch.log_bucket(x)
    qs = [0.01, 0.5, 0.9, 0.95, 0.999]
    vals, rank_err = sketch.quantiles_from_counts(b, np.ones(len(b), np.int64), qs)
    for q, v, r in zip(qs, vals, rank_err):
        k = int(np.floor((len(x) - 1) * q))
        assert abs(v - xs[k]) <= sketch.ALPHA * xs[k] * (1 + 1e-12)
        lo, hi = np.searchsorted(xs, v * (1 - sketch.ALPHA), "left"), np.searchsorted(xs, v * (1 + sketch.ALPHA))
        assert r <= (hi - lo) / len(x) + 1e-12
    y = rng.normal(0, 0.2, 10_001)
    v, _ = sketch.quantiles_from_counts(sketch.linear_bucket(y), np.ones(len(y), np.int64), [0.5], kind="linear")
    assert abs(v[0] - np.sort(y)[5_000]) <= sketch.DELTA / 2 + 1e-15


def test_kpis_by_hand_and_unknown_cost_is_not_zero():
    t0 = pd.Timestamp("2025-03-01 10:00")
    df = pd.DataFrame({
        "run_id": ["a", "b", "c", "d"], "job_name": ["p", "p", "q", None],
        "source_system": pd.Categorical(["SAP", "SAP", "GIS", "Other"]),
        "start_time": [t0, t0 + pd.Timedelta(hours=1), t0 + pd.Timedelta(days=1), t0 + pd.Timedelta(days=2)],
        "duration_min": [10.0, 20.0, 30.0, 40.0], "data_processed_gb": [100.0, np.nan, 300.0, 600.0],
        "status": pd.Categorical(["Success", "Failed", "Success", "Failed"]),
        "cost_usd": [1.10, 2.205, np.nan, 4.0], "attempt": [1, 2, 1, 1],
    })
    df["end_time"] = df["start_time"] + pd.to_timedelta(df["duration_min"], unit="min")
    e = Engine.open(df, settings=EngineSettings(**SMALL))
    k = e.kpis()
    assert (k["runs"], k["failed_runs"], k["retry_runs"]) == (4, 2, 1)
    # run c's cost is unknown: a total over the other three is not the total, so money is unknown
    assert k["total_cost_usd"] is None and k["failed_cost_usd"] is None and k["retry_cost_usd"] is None
    assert k["cost_unknown_runs"] == 1 and "1 of 4 runs have no cost" in " ".join(k["notes"])
    assert k["total_tb"] == pytest.approx(1.0) and k["cost_per_tb_usd"] is None
    known = e.kpis(Rule(run_ids={"a", "b", "d"}))
    assert known["total_cost_usd"] == pytest.approx(7.305)  # 1.10 + 2.205 + 4.0
    assert known["failed_cost_usd"] == pytest.approx(6.205)
    assert known["retry_cost_usd"] == pytest.approx(2.205)
    assert known["cost_per_tb_usd"] == pytest.approx(5.10 / 0.7)  # runs a and d: their cost over their 0.7 TB
    assert k["duration_p50_min"] == pytest.approx(25.0)
    assert k["first_start"] == "2025-03-01 10:00:00" and k["last_end"] == "2025-03-03 10:40:00"
    nocost = e.kpis(Rule(run_ids={"c"}))
    assert nocost["total_cost_usd"] is None and nocost["failed_cost_usd"] is None
    assert nocost["runs"] == 1
    r = e.rollup("pipeline").set_index("key")
    assert r.loc["q", "cost_known"] == 0 and math.isnan(r.loc["q", "cost_usd"])
    assert r.loc["(no pipeline name)", "runs"] == 1
    e.close()


def test_label_headers_and_a_single_file(tmp_path, runs):
    from etl_desk.core.data.tables import write_table

    small = runs.iloc[:2_000].reset_index(drop=True)
    path = tmp_path / "runs.parquet"
    write_table(small, path)  # the project's own Parquet: display labels as headers
    e = Engine.open(path, settings=EngineSettings(**SMALL))
    assert_kpis_equal(compute_kpis(small), e.kpis())
    e.close()


def test_rule_combination_and_description():
    r = Rule(statuses={"Failed", "Success"}, start="2025-01-01") & Rule(statuses={"Failed"}, start="2025-02-01")
    assert r.statuses == {"Failed"} and r.start == pd.Timestamp("2025-02-01")
    assert r.describe() == "status: Failed; from 2025-02-01"
    assert Rule().is_all and Rule().describe() == "all runs"
    assert not Rule(text="x").cube_compatible and Rule(sources={"SAP"}).cube_compatible
    assert not Rule(start=pd.Timestamp("2025-01-01 06:00")).cube_compatible
