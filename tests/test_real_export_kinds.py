"""Issue 12 per kind, on files written here with figures computed by hand in each test.

Kinds: run outcomes, repairs in job_run_timeline, Excel-mangled IDs, shapes people save.
(Locale, prices, unknown cost and provenance: test_real_export_money.py.)
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from etl_desk.core.data import outcomes
from etl_desk.core.data.importers.jobs_api import run_outcome
from etl_desk.core.data.loaders import load_path, load_paths
from etl_desk.core.errors import DataError, LoadReport
from tests.real_export_helpers import api_run, timeline, usage

HEAD = "Job ID,Job Name,Start Time,End Time,Job Status,Cost (USD)\n"


def _csv(path, rows):
    path.write_text(HEAD + "".join(f"{r[0]},p,2024-05-0{i % 9 + 1} 0{i % 9}:00,2024-05-0{i % 9 + 1} 0{i % 9}:30,"
                                   f"{r[1]},{r[2]}\n" for i, r in enumerate(rows)))
    return path


# ------------------------------------------------------------------ 1. run outcomes

def test_outcome_table_covers_every_documented_value_with_its_source():
    rows = outcomes.table()
    assert all(r["doc"].startswith(("https://", "ETL Desk")) for r in rows)
    rs = outcomes.by_source("result_state")
    assert set(rs) == {"SUCCESS", "SUCCESS_WITH_FAILURES", "FAILED", "TIMEDOUT", "CANCELED",
                       "MAXIMUM_CONCURRENT_RUNS_REACHED", "EXCLUDED", "UPSTREAM_FAILED", "UPSTREAM_CANCELED",
                       "DISABLED"}
    assert rs["UPSTREAM_FAILED"] == rs["UPSTREAM_CANCELED"] == "never_ran"
    assert rs["SUCCESS_WITH_FAILURES"] == "success" and rs["TIMEDOUT"] == "failed"
    lc = outcomes.by_source("life_cycle_state")
    assert {k for k, v in lc.items() if v == "still_running"} == {"PENDING", "QUEUED", "RUNNING", "TERMINATING",
                                                                  "BLOCKED", "WAITING_FOR_RETRY"}
    tc = outcomes.by_source("termination_code")
    assert tc["CANCELED"] == "failed" and tc["USER_CANCELED"] == "cancelled"
    for code in ("MAX_CONCURRENT_RUNS_EXCEEDED", "MAX_JOB_QUEUE_SIZE_EXCEEDED", "SKIPPED", "DISABLED",
                 "BUDGET_POLICY_LIMIT_EXCEEDED", "WORKSPACE_RUN_LIMIT_EXCEEDED"):
        assert tc[code] == "never_ran", code
    assert tc["CLUSTER_TERMINATED_BY_USER"] == "failed"
    st = outcomes.by_source("timeline_result_state")
    assert st == {"SUCCEEDED": "success", "FAILED": "failed", "ERROR": "failed", "TIMED_OUT": "failed",
                  "CANCELLED": "cancelled", "SKIPPED": "never_ran", "BLOCKED": "never_ran"}
    # both spellings, any case, spaces for underscores
    for v, want in (("Succeeded", "success"), ("timed out", "failed"), ("TimedOut", "failed"), ("Exploded", None), ("Canceled", "cancelled"),
                    ("cancelled", "cancelled"), ("maximum concurrent runs reached", "never_ran")):
        assert outcomes.outcome_of(v) == want, v


@pytest.mark.parametrize("run, want", [
    (api_run(1, 0, 10, state="CANCELED", code="CANCELED"), "failed"),       # platform cancel (max duration)
    (api_run(2, 0, 10, state="CANCELED", code="USER_CANCELED"), "cancelled"),
    (api_run(3, 0, 10, code="USER_CANCELED"), "cancelled"),                  # API 2.2: status only
    (api_run(4, 0, 10, code="MAX_JOB_QUEUE_SIZE_EXCEEDED"), "never_ran"),
    (api_run(5, 0, None, status_state="QUEUED"), "still_running"),
    (api_run(6, 0, None, life="WAITING_FOR_RETRY"), "still_running"),
    (api_run(7, 0, 10, life="INTERNAL_ERROR"), "failed"),
    (api_run(8, 0, 10, state="EXPLODED"), "EXPLODED"),                       # unknown: the raw value, named
    (api_run(9, 0, 10, code="NEW_CODE_2030"), "NEW_CODE_2030"),
])
def test_jobs_api_run_outcome(run, want):
    assert run_outcome(run) == want


def test_jobs_api_outcomes_hand_counted(tmp_path):
    # $6/h = $0.10/min. Counted: 1 SUCCESS 10 min, 2 TIMEDOUT 20, 3 USER_CANCELED 30 (cancelled -> failed),
    # 4 platform CANCELED 40 (failed). Left out: 5 SKIPPED, 6 RUNNING, 7 EXPLODED (warned by name).
    runs = [api_run(1, 0, 10, state="SUCCESS"), api_run(2, 60, 20, state="TIMEDOUT"),
            api_run(3, 120, 30, code="USER_CANCELED"), api_run(4, 180, 40, state="CANCELED", code="CANCELED"),
            api_run(5, 240, 0, life="SKIPPED"), api_run(6, 300, None, life="RUNNING"),
            api_run(7, 360, 5, state="EXPLODED")]
    p = tmp_path / "runs.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in runs) + "\n")
    rep = LoadReport()
    df = load_path(p, usd_per_hour=6.0, report=rep)
    assert df["run_id"].tolist() == ["1", "2", "3", "4"]
    assert df["status"].tolist() == ["Success", "Failed", "Failed", "Failed"]
    assert df["cost_usd"].sum() == pytest.approx(10.0)
    assert any("EXPLODED" in w and "row 7" in w for w in rep.warnings)
    reasons = {e["reason"].split(" (")[0].split(":")[0]: (e["count"], e["examples"]) for e in rep.left_out}
    assert reasons["still running"] == (1, [6]) and reasons["never ran"] == (1, [5])
    assert reasons["unknown job status 'EXPLODED'"] == (1, [7])
    # cancelled policy 'success': 3 becomes a success, 4 (a platform stop) stays failed
    df = load_path(p, usd_per_hour=6.0, cancelled="success")
    assert df.set_index("run_id")["status"].to_dict() == {"1": "Success", "2": "Failed", "3": "Success",
                                                          "4": "Failed"}
    with pytest.raises(DataError, match="EXPLODED"):
        load_path(p, usd_per_hour=6.0, strict=True)


def test_free_typed_statuses_in_a_csv(tmp_path):
    # Success $1, TIMED OUT $2, upstream_failed $4 (never ran: left out), Queued $8 (still running: left out),
    # canceled $16 -> counted: 1 + 2 + 16 = $19, failed 2 + 16 = $18
    p = _csv(tmp_path / "s.csv", [("a", "Success", 1), ("b", "TIMED OUT", 2), ("c", "upstream_failed", 4),
                                  ("d", "Queued", 8), ("e", "canceled", 16)])
    rep = LoadReport()
    df = load_path(p, report=rep)
    assert df["run_id"].tolist() == ["a", "b", "e"] and df["cost_usd"].sum() == 19.0
    assert df.loc[df["status"] == "Failed", "cost_usd"].sum() == 18.0
    assert {e["examples"][0] for e in rep.left_out} == {3, 4}
    assert load_path(p, skipped="failed")["cost_usd"].sum() == 23.0   # + upstream_failed $4 as failed


# ------------------------------------------------------------------ 2. repairs in job_run_timeline

def test_run_repaired_twice(tmp_path):
    # run 10: 00:00-00:10 FAILED (usage 1.0 DBU), 02:00-02:30 FAILED (2.0), 05:00-05:20 SUCCEEDED (3.0);
    # run 11: 01:00-01:45 SUCCEEDED (4.0). At $0.50/DBU: attempts $0.50, $1.00, $1.50; run 11 $2.00
    tl = timeline(tmp_path / "job_run_timeline.csv", [
        (1, 10, "2024-06-01 05:00", "2024-06-01 05:20", "SUCCEEDED", "SUCCESS"),
        (1, 10, "2024-06-01 00:00", "2024-06-01 00:10", "FAILED", "RUN_EXECUTION_ERROR"),
        (2, 11, "2024-06-01 01:00", "2024-06-01 01:45", "SUCCEEDED", "SUCCESS"),
        (1, 10, "2024-06-01 02:00", "2024-06-01 02:30", "FAILED", "DRIVER_ERROR")])
    us = usage(tmp_path / "usage.csv", [(10, "2024-06-01 00:00", "2024-06-01 01:00", 1.0),
                                         (10, "2024-06-01 02:00", "2024-06-01 03:00", 2.0),
                                         (10, "2024-06-01 05:00", "2024-06-01 06:00", 3.0),
                                         (11, "2024-06-01 01:00", "2024-06-01 02:00", 4.0)])
    df = load_paths([tl, us], usd_per_dbu=0.5)
    by = df.set_index("run_id")
    assert list(by.index) == ["10", "11", "10 repair 1", "10 repair 2"]
    assert by["attempt"].tolist() == [1, 1, 2, 3]
    assert by["duration_min"].tolist() == [10.0, 45.0, 30.0, 20.0]
    assert by["cost_usd"].tolist() == pytest.approx([0.5, 2.0, 1.0, 1.5])
    assert by["status"].tolist() == ["Failed", "Success", "Failed", "Success"]
    from etl_desk.core.insights.kpis import compute_kpis
    k = compute_kpis(df)
    assert (k["retry_runs"], k["retry_cost_usd"], k["failed_cost_usd"]) == (2, pytest.approx(2.5), pytest.approx(1.5))


def test_repair_made_of_hourly_slices_and_a_repair_still_running(tmp_path):
    # run 20 attempt 1: slices 22:40-23:00 (no state) + 23:00-23:05 FAILED = 25 min; repair 1: 03:00-03:50
    # SUCCEEDED; run 21: a finished attempt 10:00-10:10 ERROR and a repair still running (12:00-12:30, no state)
    tl = timeline(tmp_path / "job_run_timeline.csv", [
        (1, 20, "2024-06-01 22:40", "2024-06-01 23:00", "", ""),
        (1, 20, "2024-06-01 23:00", "2024-06-01 23:05", "FAILED", "CLUSTER_ERROR"),
        (1, 20, "2024-06-02 03:00", "2024-06-02 03:50", "SUCCEEDED", "SUCCESS"),
        (2, 21, "2024-06-02 10:00", "2024-06-02 10:10", "ERROR", "INTERNAL_ERROR"),
        (2, 21, "2024-06-02 12:00", "2024-06-02 12:30", "", "")])
    rep = LoadReport()
    df = load_path(tl, usd_per_hour=6.0, report=rep)
    by = df.set_index("run_id")
    assert by["duration_min"].to_dict() == {"20": 25.0, "20 repair 1": 50.0, "21": 10.0}
    assert by["cost_usd"].sum() == pytest.approx(8.5)   # 85 min at $0.10/min
    assert [(e["reason"], e["count"], e["examples"]) for e in rep.left_out] == \
        [("still running (no result_state yet)", 1, [5])]


def test_usage_hour_shared_by_two_attempts_is_split_by_overlap(tmp_path):
    # attempt 1 01:00-01:15 FAILED, repair 01:30-02:00 SUCCEEDED: the 01:00-02:00 usage row (6 DBU) overlaps
    # them 15 and 30 min -> 2 DBU and 4 DBU; at $1/DBU $2 and $4
    tl = timeline(tmp_path / "job_run_timeline.csv", [
        (1, 30, "2024-06-01 01:00", "2024-06-01 01:15", "FAILED", "RUN_EXECUTION_ERROR"),
        (1, 30, "2024-06-01 01:30", "2024-06-01 02:00", "SUCCEEDED", "SUCCESS")])
    us = usage(tmp_path / "usage.csv", [(30, "2024-06-01 01:00", "2024-06-01 02:00", 6.0)])
    df = load_paths([tl, us], usd_per_dbu=1.0)
    assert df.set_index("run_id")["cost_usd"].to_dict() == pytest.approx({"30": 2.0, "30 repair 1": 4.0})


# ------------------------------------------------------------------ 4. identifiers mangled by Excel

def test_scientific_ids_kept_apart_and_named(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text(HEAD + '"1.11223E+15",a,2024-05-01 01:00,2024-05-01 01:30,Success,1\n'
                        '"1.11223E+15",b,2024-05-02 01:00,2024-05-02 01:30,Failed,2\n'
                        '"1.11223E+15",a,2024-05-03 01:00,2024-05-03 01:30,Success,4\n')
    rep = LoadReport()
    df = load_path(p, report=rep)
    assert len(df) == 3 and df["cost_usd"].sum() == 7.0 and df["run_id"].is_unique
    assert any("x.csv" in w and "'Job ID'" in w and "3 run ID(s)" in w for w in rep.warnings), rep.warnings


def test_lost_leading_zeros_kept_apart(tmp_path):
    p = tmp_path / "z.csv"
    p.write_text(HEAD + "123,sap_orders,2024-05-01 01:00,2024-05-01 01:30,Success,1\n"
                        "123,sap_billing,2024-05-01 01:00,2024-05-01 01:40,Failed,2\n"
                        "456,gis,2024-05-01 02:00,2024-05-01 02:10,Success,3\n")
    rep = LoadReport()
    df = load_path(p, report=rep)
    assert df["run_id"].tolist() == ["123", "123#2", "456"] and df["cost_usd"].sum() == 6.0
    assert any("2 rows share a run ID" in w and "leading zeros" in w for w in rep.warnings)


def test_ids_rounded_to_15_digits_in_a_workbook(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Run ID", "Start Time", "End Time", "Result State", "Cost (USD)"])
    for i, st in enumerate(["SUCCEEDED", "FAILED", "SUCCEEDED"]):
        ws.append([1112233445566770, pd.Timestamp(f"2024-06-0{i + 1} 01:00").to_pydatetime(),
                   pd.Timestamp(f"2024-06-0{i + 1} 01:20").to_pydatetime(), st, 2.5 * (i + 1)])
    wb.save(tmp_path / "ids.xlsx")
    rep = LoadReport()
    df = load_path(tmp_path / "ids.xlsx", report=rep)
    assert len(df) == 3 and df["cost_usd"].sum() == 15.0 and df["duration_min"].tolist() == [20.0] * 3
    assert any("'Run ID'" in w and "15" in w and "1.11223E+15" in w for w in rep.warnings), rep.warnings


# ------------------------------------------------------------------ 5. shapes people save

def test_json_lines_concatenated_and_utf16(tmp_path):
    runs = [api_run(1, 0, 12, state="SUCCESS"), api_run(2, 30, 18, state="FAILED"), api_run(3, 60, 30,
                                                                                            state="SUCCESS")]
    page1 = {"runs": runs[:2], "has_more": True, "next_page_token": "x"}
    page2 = {"runs": runs[2:], "has_more": False}
    (tmp_path / "a.jsonl").write_text("\r\n".join(json.dumps(r) for r in runs) + "\r\n\r\n")
    (tmp_path / "b.json").write_text(json.dumps(page1) + json.dumps(page2) + json.dumps({"has_more": False}))
    (tmp_path / "c.jsonl").write_bytes("\n".join(json.dumps(r) for r in runs).encode("utf-16"))
    for name in ("a.jsonl", "b.json", "c.jsonl"):   # 60 min at $6/h = $6.00, failed 18 min = $1.80
        df = load_path(tmp_path / name, usd_per_hour=6.0)
        assert df["cost_usd"].sum() == pytest.approx(6.0), name
        assert df.loc[df["status"] == "Failed", "cost_usd"].sum() == pytest.approx(1.8), name


def test_title_block_totals_and_notes_found_by_shape(tmp_path):
    p = tmp_path / "report.csv"
    p.write_text("Kostenbericht Juni,,,,\nStand: 30.06.2024,,,,\n,,,,\n"
                 "Lauf,Strecke,Beginn,Ende,Ergebnis,Kosten\n"
                 "L1,a,2024-06-01 01:00,2024-06-01 01:30,SUCCEEDED,5\n"
                 "L2,b,2024-06-02 01:00,2024-06-02 01:10,FAILED,3\n"
                 ",,,,,\nSumme,,,,,8\n* Listenpreise\n")
    m = {"columns": {"run_id": "Lauf", "job_name": "Strecke", "start_time": "Beginn", "end_time": "Ende",
                     "status": "Ergebnis", "cost_usd": "Kosten"}}
    (tmp_path / "m.json").write_text(json.dumps(m))
    from etl_desk.core.data.importers.mapping import load_mapping_file
    rep = LoadReport()
    df = load_path(p, mapping=load_mapping_file(tmp_path / "m.json"), report=rep)
    assert df["run_id"].tolist() == ["L1", "L2"] and df["cost_usd"].sum() == 8.0
    assert df.attrs["provenance"]["files"][0]["header_row"] == 4
    assert any(e["reason"].startswith("total or note row") and e["count"] == 2 for e in rep.left_out)


def test_flattened_and_aliased_usage_columns(tmp_path):
    tl = timeline(tmp_path / "job_run_timeline.csv", [
        (1, 40, "2024-06-01 01:00", "2024-06-01 01:30", "SUCCEEDED", "SUCCESS")])
    for name, head in (("u1.csv", "usage_metadata_job_run_id"), ("u2.csv", "usage_metadata.job_run_id"),
                       ("u3.csv", "job_run_id")):
        us = tmp_path / name
        us.write_text(f"workspace_id,sku_name,usage_start_time,usage_end_time,usage_quantity,{head}\n"
                      "1,PREMIUM_JOBS_COMPUTE,2024-06-01 01:00:00,2024-06-01 02:00:00,2.5,40\n"
                      "1,PREMIUM_ALL_PURPOSE_COMPUTE,2024-06-01 01:00:00,2024-06-01 02:00:00,9,\n")
        df = load_paths([tl, us], usd_per_dbu=0.4)
        assert df["cost_usd"].tolist() == pytest.approx([1.0]), name
        rec = df.attrs["reconciliation"]
        assert rec["unattributed_job_spend"]["dbus"] == pytest.approx(9.0), name
        assert np.isclose(rec["unattributed_job_spend"]["usd"], 3.6)
