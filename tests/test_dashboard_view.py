"""The dashboard's grouped view: unknown values are unknown, never a $0 bar."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from etl_desk.core.dashboard.view import Dataset, ViewSpec, build_view
from etl_desk.core.data.schema import to_canonical


def _runs():
    # pipeline A: two priced runs ($1.25 + $0.50, the second failed); B: no run has a cost;
    # C: one priced run ($2.00) and one unpriced failed run
    return to_canonical(pd.DataFrame({
        "run_id": ["1", "2", "3", "4", "5", "6"],
        "job_name": ["A", "A", "B", "B", "C", "C"],
        "start_time": pd.to_datetime(["2024-05-01 01:00", "2024-05-01 02:00", "2024-05-01 03:00",
                                      "2024-05-02 01:00", "2024-05-02 02:00", "2024-05-02 03:00"]),
        "duration_min": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0],
        "result_state": ["SUCCESS", "FAILED", "SUCCESS", "SUCCESS", "SUCCESS", "FAILED"],
        "cost_usd": [1.25, 0.50, np.nan, np.nan, 2.00, np.nan],
        "data_processed_gb": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
    }), unknown_cost=True)


def test_a_pipeline_without_any_cost_is_unknown_not_zero():
    v = build_view(Dataset(_runs()), ViewSpec(grouping="pipeline"))
    cost = dict(zip(v.labels(0, v.n_bars), v.totals["cost_usd"]))
    failed = dict(zip(v.labels(0, v.n_bars), v.failed_parts["cost_usd"]))
    assert cost["A"] == 1.75 and failed["A"] == 0.50
    assert math.isnan(cost["B"]) and math.isnan(failed["B"])  # no run of B has a price
    assert cost["C"] == 2.00 and failed["C"] == 0.0  # the known part; the unpriced failed run adds nothing
    gb = dict(zip(v.labels(0, v.n_bars), v.totals["data_processed_gb"]))
    assert gb == {"A": 3.0, "B": 7.0, "C": 11.0}


def test_unknown_groups_sort_last_both_ways():
    for descending in (False, True):
        v = build_view(Dataset(_runs()), ViewSpec(grouping="pipeline", sort_key="cost_usd", descending=descending))
        assert v.labels(0, v.n_bars)[-1] == "B"
        assert v.labels(0, 2) == (["C", "A"] if descending else ["A", "C"])
