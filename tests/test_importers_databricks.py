"""Databricks system-table exports: hourly slices, SCD jobs, usage with retractions, price windows.

Hand computation (workspace 1001; list prices in USD for PREMIUM_JOBS_COMPUTE on AWS:
0.15 $/DBU in [2024-01-01, 2024-05-02), 0.20 from 2024-05-02 (open end); serverless 0.35;
an EUR row 0.99 and an AZURE row 0.50 that must not match). Databricks' documented SQL is

    SELECT u.usage_metadata.job_run_id, SUM(u.usage_quantity * p.pricing.default)
    FROM system.billing.usage u JOIN system.billing.list_prices p
      ON u.cloud = p.cloud AND u.sku_name = p.sku_name
     AND u.usage_start_time >= p.price_start_time
     AND (u.usage_end_time <= p.price_end_time OR p.price_end_time IS NULL)
    WHERE u.billing_origin_product = 'JOBS' (and p.currency_code = 'USD')
    GROUP BY u.workspace_id, u.usage_metadata.job_run_id

run 501 (3 hourly slices 08:30-10:15, run_duration_seconds 6300 on the last slice = 105 min, SUCCEEDED):
    r01 2.0 x 0.15 = 0.300; r02 4.0 x 0.15 = 0.600; r03 1.0 x 0.15 = 0.150;
    r04 RETRACTION -4.0 x 0.15 = -0.600; r05 RESTATEMENT 3.5 x 0.15 = 0.525      -> 0.975 (6.5 DBU)
run 502 (12:00-12:40, 2400 s = 40 min, FAILED, DRIVER_ERROR):
    r06 5.0 x 0.15 = 0.750; r07 serverless 2.0 x 0.35 = 0.700                  -> 1.450 (7.0 DBU)
run 503 (2 slices 23:30-00:20, no duration column value -> 50 min, TIMED_OUT):
    r08 3.0 x 0.15 (May 1, first window) = 0.450; r09 1.0 x 0.20 (May 2, second window) = 0.200
                                                                               -> 0.650 (4.0 DBU)
run 504 (06:00-06:05, CANCELLED -> Failed by default):  r10 0.5 x 0.20 = 0.100   (0.5 DBU)
run 505 (SKIPPED): no usage; left out by default.
run 506 (01:00-01:30, 'SUCCESS' spelling): r11 10.0 x 0.20 = 2.000                (10 DBU)
ignored: r12 ALL_PURPOSE (100 DBU); r13 workspace 2002 run 506 (1 DBU, $0.20 - a different run).
total = 0.975 + 1.450 + 0.650 + 0.100 + 2.000 = 5.175
Names: job 11 latest row 'sap_orders_daily' (2024-04-01 beats 2024-01-01), job 12 'gis_tiles',
job 13 'finance_close_v2' (latest row, 2024-06-01); workspace 2002's job 11 is another job.
"""
from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from etl_desk.core.data.importers import databricks
from etl_desk.core.data.loaders import detect, load_path, load_paths
from etl_desk.core.errors import DataError, LoadReport
from etl_desk.core.data.schema import assert_canonical
from tests.conftest import FIXTURES, run_cli

SETS = ["databricks_csv", "databricks_parquet", "databricks_json_cols"]
EXPECTED_COST = {"501": 0.975, "502": 1.450, "503": 0.650, "504": 0.100, "506": 2.000}
EXPECTED_DBUS = {"501": 6.5, "502": 7.0, "503": 4.0, "504": 0.5, "506": 10.0}


def files(name):
    return sorted((FIXTURES / name).iterdir())


@pytest.mark.parametrize("name", SETS)
def test_folder_gives_documented_sql_costs(name):
    rep = LoadReport()
    df = load_path(FIXTURES / name, report=rep)
    assert_canonical(df)
    got = dict(zip(df["run_id"], df["cost_usd"]))
    assert got.keys() == EXPECTED_COST.keys()
    for k, v in EXPECTED_COST.items():
        assert got[k] == pytest.approx(v, abs=1e-12), k
    assert df["cost_usd"].sum() == pytest.approx(5.175)
    assert df.attrs["cost_basis"] == "list_prices"
    assert df["data_processed_gb"].isna().all()          # volume is not in system tables
    by = df.set_index("run_id")
    assert by.loc["501", "duration_min"] == 105.0
    assert str(by.loc["501", "start_time"]) == "2024-05-01 08:30:00"
    assert str(by.loc["501", "end_time"]) == "2024-05-01 10:15:00"
    assert by.loc["503", "duration_min"] == 50.0
    assert by.loc["502", "termination_code"] == "DRIVER_ERROR"
    assert by.loc["503", "result_state"] == "TIMED_OUT" and by.loc["503", "status"] == "Failed"
    assert by.loc["501", "result_state"] == "SUCCEEDED" and by.loc["506", "result_state"] == "SUCCESS"
    assert by.loc["506", "status"] == "Success" and by.loc["504", "status"] == "Failed"
    assert by.loc["501", "job_name"] == "sap_orders_daily" and by.loc["506", "job_name"] == "finance_close_v2"
    assert any("merged" in w for w in rep.warnings)
    assert any("retraction" in w for w in rep.warnings)
    assert any("not in the timeline" in w and "$0.20" in w for w in rep.warnings)


def test_files_chosen_together_equal_the_folder():
    a = load_paths(files("databricks_parquet"))
    b = load_path(FIXTURES / "databricks_csv")
    pd.testing.assert_series_equal(a["cost_usd"], b["cost_usd"])
    pd.testing.assert_series_equal(a["duration_min"], b["duration_min"])


def test_spark_style_subfolders(tmp_path):
    for f in files("databricks_parquet"):
        sub = tmp_path / f.stem
        sub.mkdir()
        shutil.copy(f, sub / "part-00000.parquet")
        (sub / "_SUCCESS").write_text("")
    df = load_path(tmp_path)
    assert df["cost_usd"].sum() == pytest.approx(5.175)


@pytest.mark.parametrize("policy, runs, total", [
    ("failed", 5, 5.175), ("success", 5, 5.175), ("exclude", 4, 5.075)])
def test_cancelled_policy(policy, runs, total):
    df = load_path(FIXTURES / "databricks_csv", cancelled=policy)
    assert len(df) == runs and df["cost_usd"].sum() == pytest.approx(total)
    if policy == "success":
        assert df.set_index("run_id").loc["504", "status"] == "Success"


def test_skipped_policy_counts_skipped_runs_when_asked():
    df = load_path(FIXTURES / "databricks_csv", skipped="success")
    assert "505" in set(df["run_id"]) and df.set_index("run_id").loc["505", "cost_usd"] == 0.0


def test_usd_per_dbu_and_discount_replace_list_prices():
    # $0.50/DBU less 20% = $0.40/DBU x net DBUs per run
    df = load_path(FIXTURES / "databricks_csv", usd_per_dbu=0.5, contract_discount=0.2)
    got = dict(zip(df["run_id"], df["cost_usd"]))
    for k, d in EXPECTED_DBUS.items():
        assert got[k] == pytest.approx(d * 0.4)
    assert df.attrs["cost_basis"] == "usd_per_dbu"


def test_discount_applies_to_list_prices():
    df = load_path(FIXTURES / "databricks_csv", contract_discount=0.1)
    assert df["cost_usd"].sum() == pytest.approx(5.175 * 0.9)


def test_timeline_alone_has_no_cost_loudly():
    rep = LoadReport()
    df = load_path(FIXTURES / "databricks_csv" / "job_run_timeline.csv", report=rep)
    # unknown is not zero: no usage -> cost NaN, and the frame says why
    assert len(df) == 5 and df["cost_usd"].isna().all() and df.attrs["cost_basis"] == "none"
    assert "billing.usage" in df.attrs["cost_unknown_why"]
    assert any(w.startswith("COST UNKNOWN") for w in rep.warnings)
    # no jobs table: names come from run_name
    assert df.set_index("run_id").loc["506", "job_name"] == "finance_close"
    est = load_path(FIXTURES / "databricks_csv" / "job_run_timeline.csv", usd_per_hour=6.0)
    assert est.set_index("run_id").loc["501", "cost_usd"] == pytest.approx(105 / 60 * 6.0)
    with pytest.raises(DataError, match="no cost"):
        load_path(FIXTURES / "databricks_csv" / "job_run_timeline.csv", strict=True)


def test_usage_without_prices_is_loud():
    rep = LoadReport()
    d = FIXTURES / "databricks_csv"
    df = load_paths([d / "job_run_timeline.csv", d / "usage.csv"], report=rep)
    assert df["cost_usd"].isna().all()          # DBUs known, dollars not: unknown, not $0
    assert any("COST UNKNOWN" in w and "list_prices" in w for w in rep.warnings)


def test_unpriced_usage_is_reported(tmp_path):
    d = FIXTURES / "databricks_csv"
    for n in ("job_run_timeline.csv", "usage.csv"):
        shutil.copy(d / n, tmp_path / n)
    lp = pd.read_csv(d / "list_prices.csv")
    lp[~lp["sku_name"].str.contains("SERVERLESS")].to_csv(tmp_path / "list_prices.csv", index=False)
    rep = LoadReport()
    df = load_path(tmp_path, report=rep)
    # 502's serverless hour has no price: its cost is unknown (not the $0.75 of its priced hour)
    by = df.set_index("run_id")["cost_usd"]
    assert np.isnan(by["502"]) and by["501"] == pytest.approx(0.975)
    assert any("no list price" in w and "SERVERLESS" in w for w in rep.warnings)


def test_detect_and_classify():
    d = FIXTURES / "databricks_csv"
    assert detect(d / "job_run_timeline.csv") == "system_table:job_run_timeline"
    assert detect(d / "usage.csv") == "system_table:usage"
    assert detect(d / "list_prices.csv") == "system_table:list_prices"
    assert detect(d / "jobs.csv") == "system_table:jobs"
    assert detect(d) == "folder"
    assert databricks.classify(["run_id", "period_start_time", "period_end_time", "task_key"]) == \
        "job_task_run_timeline"
    assert databricks.classify(["Job ID", "Start Time"]) is None


def test_cli_check_folder():
    out = run_cli("check", FIXTURES / "databricks_csv", timeout=60)
    assert out.returncode == 0, out.stderr
    assert "loaded 5 runs" in out.stdout and "list_prices" in out.stdout
    out = run_cli("check", *files("databricks_csv"), "--cancelled", "exclude", timeout=60)
    assert out.returncode == 0 and "loaded 4 runs" in out.stdout


def test_mixing_kinds_is_refused():
    with pytest.raises(DataError, match="cannot combine"):
        load_paths([FIXTURES / "databricks_csv" / "job_run_timeline.csv",
                    FIXTURES / "foreign" / "latin1_labels.csv"])


def test_numeric_row_numbers_named_in_errors(tmp_path):
    d = FIXTURES / "databricks_csv"
    text = (d / "usage.csv").read_text().replace(",2.0,ORIGINAL", ",two,ORIGINAL", 1)
    shutil.copy(d / "job_run_timeline.csv", tmp_path)
    (tmp_path / "usage.csv").write_text(text)
    with pytest.raises(DataError) as ei:
        load_path(tmp_path)
    assert ei.value.row == 1 and ei.value.column == "usage_quantity"
    assert np.isfinite(1.0)
