"""etl-desk analyze -o report.xlsx and the import options on the command line."""
from __future__ import annotations

import json

import openpyxl

from etl_desk.core.data.tables import write_table
from tests.conftest import FIXTURES, run_cli


def test_analyze_writes_the_finance_workbook(tmp_path, case_study):
    src = tmp_path / "case.csv"
    write_table(case_study, src)
    out = tmp_path / "report.xlsx"
    r = run_cli("analyze", src, "-o", out, "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["kpis"]["failed_runs"] == 52
    wb = openpyxl.load_workbook(out, read_only=True)
    assert {"Cover", "Assumptions", "KPIs", "Insights", "Anomalies", "Data", "Business Case", "Charts"} <= \
        set(wb.sheetnames)
    wb.close()
    # the report reopens as data, exactly
    r2 = run_cli("analyze", out, "--json")
    assert r2.returncode == 0, r2.stderr
    assert json.loads(r2.stdout)["kpis"]["total_cost_usd"] == json.loads(r.stdout)["kpis"]["total_cost_usd"]


def test_analyze_refuses_a_report_that_is_neither_xlsx_nor_pdf(tmp_path, case_study):
    src = tmp_path / "case.csv"
    write_table(case_study, src)
    r = run_cli("analyze", src, "-o", tmp_path / "r.txt")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert ".xlsx" in r.stderr and ".pdf" in r.stderr and not (tmp_path / "r.txt").exists()


def test_analyze_with_a_mapping_file():
    src = FIXTURES / "foreign" / "odd_headers.csv"
    mp = FIXTURES / "foreign" / "odd_headers.map.json"
    r = run_cli("analyze", src, "--map", mp, "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["kpis"]["runs"] >= 1
