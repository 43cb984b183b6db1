"""The command line over the engine: generate -o DIR/, analyze --engine duckdb, --engine databricks --print-sql."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.conftest import run_cli
from tests.engine_helpers import assert_kpis_equal


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "runs"
    p = run_cli("generate", "--preset", "realistic", "--runs", "30000", "--days", "40", "--start", "2025-03-01",
                "--seed", "4", "--anomaly-rate", "0.01", "--chunk-runs", "5000", "-o", f"{out}/")
    assert p.returncode == 0, p.stderr
    assert "wrote 30,000 runs" in p.stderr
    return out


def test_generate_writes_a_partitioned_dataset(dataset):
    files = sorted(p.relative_to(dataset).as_posix() for p in dataset.rglob("*.parquet"))
    assert files[0] == "month=2025-03/part-2025-03-01.parquet" and files[-1].startswith("month=2025-04/")
    assert len(files) > 2  # 5,000-run chunks


def test_analyze_engine_duckdb_json_matches_pandas(dataset):
    from etl_desk.core.engine.pandas_path import kpis

    p = run_cli("analyze", dataset, "--engine", "duckdb", "--json", "--memory-limit", "1GB")
    assert p.returncode == 0, p.stderr
    report = json.loads(p.stdout)
    df = pd.read_parquet(dataset).drop(columns="month")
    df["status"] = df["status"].astype("category")
    assert_kpis_equal(kpis(df), report["kpis"])
    assert report["anomalies"]["flagged_runs"] > 0 and report["anomalies"]["method"] == "exact"
    assert {r["key"] for r in report["per_pipeline"]} == set(df["job_name"])
    assert sum(r["runs"] for r in report["per_month"]) == 30_000


def test_analyze_engine_text_report_with_index(dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("ETL_DESK_INDEX_DIR", str(tmp_path / "idx"))

    p = run_cli("analyze", dataset, "--engine", "duckdb", "--index", "--top", "3")
    assert p.returncode == 0, p.stderr
    assert "KEY FIGURES" in p.stdout and "PER PIPELINE" in p.stdout and "runs flagged" in p.stdout
    assert any((tmp_path / "idx").rglob("meta.json"))


def test_databricks_print_sql():
    p = run_cli("analyze", "unused", "--engine", "databricks", "--print-sql", "--days", "30")
    assert p.returncode == 0, p.stderr
    sql = p.stdout
    assert "system.lakeflow.job_run_timeline" in sql and "system.billing.list_prices" in sql
    assert "pricing.effective_list.default" in sql
    assert "DATEADD(DAY, -30" in sql
    assert sql.count("FROM `etl_desk_runs`") >= 8  # the engine's queries, compiled for Databricks
    assert "QUANTILE_CONT" not in sql and "PERCENTILE(" in sql


def test_engine_refusals_are_one_line(tmp_path):
    p = run_cli("analyze", tmp_path, "--engine", "duckdb")
    assert p.returncode == 2 and "no Parquet or CSV files" in p.stderr and "Traceback" not in p.stderr
    p = run_cli("analyze", "x", "--engine", "databricks")
    assert p.returncode == 2 and "--print-sql" in p.stderr
    p = run_cli("generate", "--preset", "case-study", "-o", f"{tmp_path}/ds/")
    assert p.returncode == 2 and "realistic" in p.stderr
