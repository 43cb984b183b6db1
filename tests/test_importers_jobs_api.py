"""Databricks Jobs API runs/list JSON, one file or several pages.

Hand computation (fixtures/jobs_api/runs_page1.json + runs_page2.json):
  9001 sap_ingest  08:00-09:00 UTC 2024-05-01, run_duration 3,540,000 ms = 59 min, attempt_number 0 -> 1, SUCCESS
  9002 sap_ingest  10:00-10:30, run_duration 1,800,000 ms = 30 min, attempt_number 1 -> 2, FAILED, DRIVER_ERROR
  9003 gis_sync    11:00-11:22, setup 60,000 + execution 1,200,000 + cleanup 60,000 ms = 22 min, TIMEDOUT
  9004 gis_sync    12:00-12:05, 300,000 ms = 5 min, no state.result_state; termination code USER_CANCELED
                   -> CANCELED -> Failed under the default cancelled policy
  9001 again on page 2 -> counted once; 9005 still running (end_time 0) -> left out.
  Cost at $6/hour of run time: 59/60*6 = 5.90, 30/60*6 = 3.00, 22/60*6 = 2.20, 5/60*6 = 0.50 -> 11.60.
"""
from __future__ import annotations

import json

import pytest

from etl_desk.core.data.loaders import detect, load_path, load_paths
from etl_desk.core.errors import DataError, LoadReport
from etl_desk.core.data.schema import assert_canonical
from tests.conftest import FIXTURES, run_cli

PAGES = [FIXTURES / "jobs_api" / "runs_page1.json", FIXTURES / "jobs_api" / "runs_page2.json"]


def test_two_pages_hand_computed():
    rep = LoadReport()
    df = load_paths(PAGES, usd_per_hour=6.0, report=rep)
    assert_canonical(df)
    assert df["run_id"].tolist() == ["9001", "9002", "9003", "9004"]
    assert df["duration_min"].tolist() == [59.0, 30.0, 22.0, 5.0]
    assert df["attempt"].tolist() == [1, 2, 1, 1]
    assert df["status"].tolist() == ["Success", "Failed", "Failed", "Failed"]
    # 9004 is an API 2.2 object (status only): its raw termination code is kept as its state
    assert df["result_state"].tolist() == ["SUCCESS", "FAILED", "TIMEDOUT", "USER_CANCELED"]
    assert df["termination_code"].tolist() == ["SUCCESS", "DRIVER_ERROR", "TIMEOUT", "USER_CANCELED"]
    assert df["job_name"].tolist() == ["sap_ingest", "sap_ingest", "gis_sync", "gis_sync"]
    assert str(df["start_time"].iloc[0]) == "2024-05-01 08:00:00"
    assert str(df["end_time"].iloc[3]) == "2024-05-01 12:05:00"
    assert df["cost_usd"].tolist() == pytest.approx([5.90, 3.00, 2.20, 0.50])
    assert df["cost_usd"].sum() == pytest.approx(11.60)
    assert df.attrs["cost_basis"] == "usd_per_hour"
    assert any("repeated across pages" in w for w in rep.warnings)
    assert any("still running" in w for w in rep.warnings)


def test_folder_of_pages_equals_the_pages():
    assert load_path(FIXTURES / "jobs_api")["run_id"].tolist() == ["9001", "9002", "9003", "9004"]


def test_no_cost_is_unknown_with_a_loud_warning_or_refused_when_strict():
    rep = LoadReport()
    df = load_paths(PAGES, report=rep)
    # unknown is not zero: NaN cost, and the frame says why
    assert df["cost_usd"].isna().all() and df.attrs["cost_basis"] == "none"
    assert "--usd-per-hour" in df.attrs["cost_unknown_why"]
    assert any(w.startswith("COST UNKNOWN") and "--usd-per-hour" in w for w in rep.warnings)
    with pytest.raises(DataError, match="usd-per-hour"):
        load_paths(PAGES, strict=True)


def test_cancelled_excluded():
    df = load_paths(PAGES, cancelled="exclude")
    assert df["run_id"].tolist() == ["9001", "9002", "9003"]


def test_array_of_pages_and_bare_run_list(tmp_path):
    pages = [json.loads(p.read_text()) for p in PAGES]
    a = tmp_path / "pages.json"
    a.write_text(json.dumps(pages))
    assert len(load_path(a)) == 4
    b = tmp_path / "runs.json"
    b.write_text(json.dumps(pages[0]["runs"]))
    assert load_path(b)["run_id"].tolist() == ["9001", "9002"]
    assert detect(b) == "jobs_api_json"


def test_cli_pages():
    out = run_cli("check", *PAGES, "--usd-per-hour", "6", timeout=60)
    assert out.returncode == 0, out.stderr
    assert "loaded 4 runs" in out.stdout and "ESTIMATED" in out.stdout
