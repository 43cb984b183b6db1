"""The memory-saving paths (issue 15 item 8) give the same figures as the plain ones.

The Parquet reader frees Arrow columns as it converts them, Arrow may allocate with the
system malloc, the business-case baseline groups costs by integer pipeline codes, the
default per-run view reuses the data set's arrays: none of it may change a value.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from etl_desk.core.business_case.baseline import compute_baseline
from etl_desk.core.dashboard.view import Dataset, ViewSpec, build_view
from etl_desk.core.data.loaders import load_path
from etl_desk.core.data.memory import release_memory
from etl_desk.core.data.schema import to_canonical
from etl_desk.core.insights.anomalies import detect_anomalies
from etl_desk.core.insights.kpis import compute_kpis


def _runs() -> pd.DataFrame:
    """Six runs: pipeline A ($1, $2, $9), pipeline B ($4, $6), one run without a pipeline name ($5)."""
    return to_canonical(pd.DataFrame({
        "run_id": ["r1", "r2", "r3", "r4", "r5", "r6"],
        "job_name": ["A", "A", "A", "B", "B", None],
        "start_time": pd.to_datetime(["2024-03-01 01:00", "2024-03-01 02:00", "2024-03-01 03:00",
                                      "2024-03-01 04:00", "2024-03-01 05:00", "2024-03-01 06:00"]),
        "duration_min": [10.0, 20.0, 90.0, 40.0, 60.0, 50.0],
        "status": ["Success", "Success", "Failed", "Success", "Success", "Success"],
        "cost_usd": [1.0, 2.0, 9.0, 4.0, 6.0, 5.0],
        "data_processed_gb": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
    }))


def test_baseline_excess_over_each_pipelines_median_by_hand():
    runs = _runs()
    flagged = pd.DataFrame({"run_id": ["r3", "r5", "r6"], "rule": ["cost_z"] * 3})
    b = compute_baseline(runs, flagged)
    # medians: A = median(1, 2, 9) = $2; B = median(4, 6) = $5; the unnamed run alone = $5
    # excess above the median: r3 9 - 2 = $7, r5 6 - 5 = $1, r6 5 - 5 = $0 -> $8
    assert b.observed["anomaly_excess_cost"] == pytest.approx(8.0)
    ar = b.anomaly_runs.set_index("run_id")
    assert list(ar.index) == ["r3", "r5", "r6"]
    assert list(ar["pipeline"]) == ["A", "B", "(unnamed)"]
    assert list(ar["pipeline_median_usd"]) == [2.0, 5.0, 5.0]
    assert list(ar["excess_usd"]) == [7.0, 1.0, 0.0]


def test_categorical_pipeline_names_give_the_same_figures():
    runs = _runs()
    cat = runs.copy()
    cat["job_name"] = cat["job_name"].astype("category")
    flagged = pd.DataFrame({"run_id": ["r3", "r5", "r6"], "rule": ["cost_z"] * 3})
    # KPIs by hand: 6 runs, 1 failed, $27 in total, $9 of it failed
    k = compute_kpis(cat)
    assert (k["runs"], k["failed_runs"]) == (6, 1)
    assert k["total_cost_usd"] == pytest.approx(27.0) and k["failed_cost_usd"] == pytest.approx(9.0)
    assert k == compute_kpis(runs)
    pd.testing.assert_frame_equal(compute_baseline(cat, flagged).anomaly_runs,
                                  compute_baseline(runs, flagged).anomaly_runs)
    assert compute_baseline(cat, flagged).observed == compute_baseline(runs, flagged).observed
    pd.testing.assert_frame_equal(detect_anomalies(cat), detect_anomalies(runs))


def test_baseline_by_source_system_when_no_pipeline_names():
    runs = _runs()
    runs["job_name"] = pd.Series(pd.NA, index=runs.index, dtype="string")
    runs["source_system"] = pd.Categorical(["SAP", "SAP", "GIS", "GIS", None, "SAP"],
                                           categories=runs["source_system"].cat.categories)
    b = compute_baseline(runs, pd.DataFrame({"run_id": ["r3", "r5"], "rule": ["cost_z"] * 2}))
    # SAP: 1, 2, 5 -> median 2; GIS: 9, 4 -> 6.5; unknown: 6 alone -> 6
    # r3 (GIS) 9 - 6.5 = 2.5; r5 (unknown) 6 - 6 = 0
    assert b.observed["anomaly_excess_cost"] == pytest.approx(2.5)
    assert list(b.anomaly_runs["pipeline"]) == ["GIS", "(unknown)"]


def test_parquet_load_gives_the_table_written(tmp_path):
    runs = _runs()
    path = tmp_path / "runs.parquet"
    runs.to_parquet(path)
    back = load_path(path)
    assert release_memory() in (True, False)  # callable again at any time, values untouched
    pd.testing.assert_frame_equal(back[runs.columns].reset_index(drop=True), runs.reset_index(drop=True),
                                  check_dtype=False)
    assert list(back["cost_usd"]) == [1.0, 2.0, 9.0, 4.0, 6.0, 5.0]


def test_default_run_view_in_data_order_reuses_the_arrays_read_only():
    runs = _runs()  # r1..r6: already in run-ID order
    ds = Dataset(runs)
    v = build_view(ds, ViewSpec())
    assert list(v.positions) == [0, 1, 2, 3, 4, 5]
    assert list(v.totals["cost_usd"]) == [1.0, 2.0, 9.0, 4.0, 6.0, 5.0]
    assert list(v.failed_parts["cost_usd"]) == [0.0, 0.0, 9.0, 0.0, 0.0, 0.0]
    assert list(v.runs) == [1] * 6 and list(v.failed_runs) == [0, 0, 1, 0, 0, 0]
    with pytest.raises(ValueError):
        v.totals["cost_usd"][0] = 0.0  # shared with the data set: never written through a view
    # descending cost: a real permutation, its own arrays
    d = build_view(ds, ViewSpec(sort_key="cost_usd", descending=True))
    assert list(d.totals["cost_usd"]) == [9.0, 6.0, 5.0, 4.0, 2.0, 1.0]
    assert np.shares_memory(v.totals["cost_usd"], ds.values["cost_usd"])
