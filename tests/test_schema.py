"""The canonical table validator: derivations, dtypes, and errors that name file, row, column."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from etl_desk.core.data.schema import COLUMN_NAMES, assert_canonical, status_from_state, to_canonical
from etl_desk.core.errors import DataError, LoadReport


def base(**over):
    d = {"Job ID": ["a", "b", "c"], "Start Time": ["2024-01-01 00:00:00"] * 3,
         "Duration (min)": [10, 20, 30], "Job Status": ["Success", "Failed", "Success"],
         "Cost (USD)": [1.0, 2.0, 3.0]}
    d.update(over)
    return pd.DataFrame(d)


def test_end_time_derived_from_start_and_duration():
    df = to_canonical(base())
    assert_canonical(df)
    assert tuple(df.columns) == COLUMN_NAMES
    assert df["end_time"].iloc[2] == pd.Timestamp("2024-01-01 00:30:00")


def test_duration_derived_from_start_and_end():
    df = to_canonical(pd.DataFrame({"run_id": [1, 2], "start_time": ["2024-01-01 00:00", "2024-01-01 01:00"],
                                    "end_time": ["2024-01-01 00:45", "2024-01-01 03:00"],
                                    "status": ["SUCCEEDED", "TIMED_OUT"], "cost_usd": [1, 2]}))
    assert list(df["duration_min"]) == [45.0, 120.0]
    assert list(df["status"]) == ["Success", "Failed"]
    assert list(df["run_id"]) == ["1", "2"]


def test_start_derived_from_end_and_duration():
    df = to_canonical(pd.DataFrame({"run_id": ["x"], "end_time": ["2024-01-01 01:00"], "duration_min": [15],
                                    "status": ["Success"], "cost_usd": [1]}))
    assert df["start_time"].iloc[0] == pd.Timestamp("2024-01-01 00:45")


def test_cost_derived_from_compute_hours_and_rate():
    d = base()
    d = d.drop(columns=["Cost (USD)"]).assign(**{"Compute Hours Used": [2.0, 4.0, 1.0]})
    df = to_canonical(d, rate_usd_per_hour=0.25)
    assert list(df["cost_usd"]) == [0.5, 1.0, 0.25]
    with pytest.raises(DataError, match="Cost"):
        to_canonical(d)


def test_timezones_become_naive_utc():
    df = to_canonical(base(**{"Start Time": ["2024-01-01T02:00:00+02:00", "2024-01-01T00:00:00Z",
                                             "2024-01-01T00:00:00Z"]}))
    assert (df["start_time"] == pd.Timestamp("2024-01-01 00:00")).all()


@pytest.mark.parametrize("column, value, row, needle", [
    ("Duration (min)", [10, "ten", 30], 2, "expected a number, found 'ten'"),
    ("Cost (USD)", [1.0, 2.0, -3.0], 3, "negative value"),
    ("Start Time", ["2024-01-01", "2024-01-01", "yesterday"], 3, "cannot read 'yesterday'"),
    ("Job Status", ["Success", "Exploded", "Success"], 2, "unknown job status 'Exploded'"),
    ("Job ID", ["a", "a", "c"], 2, "duplicate run ID 'a'"),
])
def test_error_names_file_row_and_column(column, value, row, needle):
    with pytest.raises(DataError) as ei:
        to_canonical(base(**{column: value}), file="runs.csv")
    err = ei.value
    assert err.file == "runs.csv" and err.row == row and err.column == column
    assert needle in err.message
    assert err.message.startswith(f"runs.csv, row {row}, column '{column}': ")


def test_missing_required_column_is_named():
    with pytest.raises(DataError, match="Job Status"):
        to_canonical(base().drop(columns=["Job Status"]), file="f.csv")


def test_lenient_mode_drops_and_renames_with_warnings():
    rep = LoadReport()
    df = to_canonical(base(**{"Job ID": ["a", "a", "c"], "Cost (USD)": [1.0, -2.0, 3.0]}), strict=False,
                      report=rep)
    assert list(df["run_id"]) == ["a", "c"]
    assert any("negative value" in w and "row 2" in w for w in rep.warnings)
    rep2 = LoadReport()
    df2 = to_canonical(base(**{"Job ID": ["a", "a", "c"]}), strict=False, report=rep2)
    assert list(df2["run_id"]) == ["a", "a#2", "c"]
    assert any("duplicate" in w for w in rep2.warnings)


def test_status_spellings_and_cancelled_policy():
    s = pd.Series(["SUCCEEDED", "success", "TIMEDOUT", "timed_out", "CANCELED", "CANCELLED", "SKIPPED",
                   "UPSTREAM_FAILED", "error"])
    out = status_from_state(s)
    assert list(out.iloc[:6]) == ["Success", "Success", "Failed", "Failed", "Failed", "Failed"]
    assert out.iloc[8] == "Failed"
    # SKIPPED and UPSTREAM_FAILED never ran ("The run was skipped because of an upstream failure",
    # Databricks RunResultState): the skipped policy leaves them out by default
    assert pd.isna(out.iloc[6]) and pd.isna(out.iloc[7])
    assert status_from_state(pd.Series(["CANCELED"]), cancelled="success").iloc[0] == "Success"
    # the raw value is kept beside the mapped status
    df = to_canonical(pd.DataFrame({"run_id": [1, 2, 3], "start_time": ["2024-01-01"] * 3,
                                    "duration_min": [1, 2, 3], "result_state": ["SUCCESS", "TIMEDOUT", "SKIPPED"],
                                    "cost_usd": [1, 1, 0]}))
    assert list(df["result_state"]) == ["SUCCESS", "TIMEDOUT"]
    assert list(df["status"]) == ["Success", "Failed"]


def test_optional_columns_present_but_empty():
    df = to_canonical(base())
    assert df["data_processed_gb"].isna().all()
    assert (df["attempt"] == 1).all()
    assert df["spot"].isna().all()
    assert np.isnan(df["compute_hours"]).all()
