"""KPIs: hand-checked numbers on a small table and the published case-study figures."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from etl_desk.core.insights.kpis import KPI_KEYS, compute_kpis, format_value
from etl_desk.core.data.schema import empty_frame, to_canonical


def small(**extra) -> pd.DataFrame:
    data = {
        "run_id": ["a", "b", "c", "d"],
        "start_time": pd.to_datetime(["2024-01-01 00:00", "2024-01-02 00:00", "2024-01-03 00:00",
                                      "2024-01-05 00:00"]),
        "duration_min": [10.0, 20.0, 30.0, 40.0],
        "status": ["Success", "Failed", "Success", "Failed"],
        "cost_usd": [1.0, 2.0, 3.0, 4.0],
        "data_processed_gb": [100.0, 200.0, 300.0, 400.0],
        "attempt": [1, 1, 2, 1],
    }
    data.update(extra)
    return to_canonical(pd.DataFrame(data))


def test_hand_checked_small_table():
    k = compute_kpis(small())
    assert k["runs"] == 4
    assert k["failed_runs"] == 2
    assert k["success_rate"] == pytest.approx(0.5)
    assert k["total_cost_usd"] == pytest.approx(10.0)
    assert k["failed_cost_usd"] == pytest.approx(6.0)  # runs b and d
    assert k["failed_cost_share"] == pytest.approx(0.6)
    # $10 over 1,000 GB = 1 TB
    assert k["total_tb"] == pytest.approx(1.0)
    assert k["cost_per_tb_usd"] == pytest.approx(10.0)
    # linear interpolation between order statistics: p50 of 10,20,30,40 = 25; p95 at rank 2.85 -> 38.5
    assert k["duration_p50_min"] == pytest.approx(25.0)
    assert k["duration_p95_min"] == pytest.approx(38.5)
    assert k["avg_cost_failed_usd"] == pytest.approx(3.0)
    assert k["avg_cost_success_usd"] == pytest.approx(2.0)
    assert k["retry_runs"] == 1 and k["retry_cost_usd"] == pytest.approx(3.0)
    # first start 1 Jan 00:00, last end 5 Jan 00:40
    assert k["span_days"] == pytest.approx(4 + 40 / 1440)


def test_contract_keys_and_json_safe():
    k = compute_kpis(small())
    for key in ("runs", "failed_runs", "success_rate", "total_cost_usd", "failed_cost_usd", "failed_cost_share",
                "cost_per_tb_usd", "duration_p50_min", "duration_p95_min"):
        assert key in k
    assert set(KPI_KEYS) <= set(k)
    json.dumps(k, allow_nan=False)


def test_no_volume_gives_none_not_nan():
    df = small()
    df["data_processed_gb"] = np.nan
    k = compute_kpis(df)
    assert k["cost_per_tb_usd"] is None and k["total_tb"] is None
    json.dumps(k, allow_nan=False)


def test_volume_missing_for_some_runs_uses_runs_with_volume():
    df = small()
    df.loc[3, "data_processed_gb"] = np.nan  # run d ($4) has no volume
    k = compute_kpis(df)
    # ($1 + $2 + $3) over 0.6 TB
    assert k["cost_per_tb_usd"] == pytest.approx(6.0 / 0.6)


def test_empty_table():
    k = compute_kpis(empty_frame())
    assert k["runs"] == 0 and k["failed_runs"] == 0
    assert k["success_rate"] is None and k["failed_cost_share"] is None
    assert k["duration_p50_min"] is None
    json.dumps(k, allow_nan=False)


def test_case_study_published_figures(case_study):
    k = compute_kpis(case_study)
    assert k["runs"] == 1000
    assert k["failed_runs"] == 52
    assert f"{k['failed_cost_usd']:.2f}" == "62.59"
    assert format_value(k["total_cost_usd"], "usd") == "$1,315.10"
    assert format_value(k["failed_cost_share"], "pct") == "4.76 %"
    assert k["success_rate"] == pytest.approx(0.948)


def test_matches_pandas_on_random_table():
    rng = np.random.default_rng(3)
    n = 5000
    df = to_canonical(pd.DataFrame({
        "run_id": np.arange(n).astype(str),
        "start_time": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 86400 * 30, n), unit="s"),
        "duration_min": rng.uniform(1, 100, n),
        "status": rng.choice(["Success", "Failed"], n, p=[0.9, 0.1]),
        "cost_usd": rng.uniform(0, 5, n),
        "data_processed_gb": rng.uniform(1, 50, n),
    }))
    k = compute_kpis(df)
    f = df["status"] == "Failed"
    assert k["failed_cost_usd"] == pytest.approx(df.loc[f, "cost_usd"].sum())
    assert k["duration_p95_min"] == pytest.approx(df["duration_min"].quantile(0.95))
    assert k["cost_per_tb_usd"] == pytest.approx(df["cost_usd"].sum() / (df["data_processed_gb"].sum() / 1000))
    assert math.isclose(k["success_rate"], 1 - f.mean())
