"""etl-desk analyze: the business case in --json, --assumptions FILE, and a clear error for a bad file."""
from __future__ import annotations

import json

import pytest

from .conftest import run_cli

pytest.importorskip("etl_desk.commands.analyze", reason="etl-desk analyze is not there yet")


@pytest.fixture(scope="module")
def csv_path(tmp_path_factory, case_study):
    from etl_desk.core.tables import write_table

    p = tmp_path_factory.mktemp("cli") / "case.csv"
    write_table(case_study, p)
    return p


def test_json_has_business_case(csv_path):
    out = run_cli("analyze", csv_path, "--json")
    assert out.returncode == 0, out.stderr
    bc = json.loads(out.stdout)["business_case"]
    assert [s["id"] for s in bc["solutions"]] == ["error-monitoring", "cost-optimisation", "parallel-processing",
                                                  "data-lifecycle", "performance-monitoring"]
    for item in bc["solutions"] + [bc["do_nothing"], bc["portfolio"]]:
        for k in ("id", "name", "investment_usd", "personnel_fte", "duration_weeks", "payback_months", "roi",
                  "npv_usd"):
            assert k in item
        for k in ("maintenance_usd", "savings_usd"):
            assert set(item[k]) == {"day", "week", "month", "quarter", "year"}
    assert bc["solutions"][0]["investment_usd"] == 18_000


def test_assumptions_file_overrides_defaults(csv_path, tmp_path):
    p = tmp_path / "a.toml"
    p.write_text('[global]\nhorizon_years = 5\n\n[solutions.error-monitoring]\npeople = 3\nweeks = 2\n')
    out = run_cli("analyze", csv_path, "--json", "--assumptions", p)
    assert out.returncode == 0, out.stderr
    bc = json.loads(out.stdout)["business_case"]
    assert bc["horizon_months"] == 60
    assert bc["solutions"][0]["investment_usd"] == 3 * 2 * 3000
    assert bc["solutions"][0]["personnel_fte"] == 3


@pytest.mark.parametrize("text, key", [
    ('{"solutions": {"error-monitoring": {"effect": 1.5}}}', "solutions.error-monitoring.effect"),
    ('{"global": {"horizon": 3}}', "global.horizon"),
])
def test_bad_assumptions_file_is_a_clear_error(csv_path, tmp_path, text, key):
    p = tmp_path / "bad.json"
    p.write_text(text)
    out = run_cli("analyze", csv_path, "--json", "--assumptions", p)
    assert out.returncode == 2
    assert key in out.stderr and "bad.json" in out.stderr
    assert "Traceback" not in out.stderr


def test_text_report_has_business_case_section(csv_path):
    out = run_cli("analyze", csv_path)
    assert out.returncode == 0, out.stderr
    assert "Business case" in out.stdout and "Portfolio of selected solutions" in out.stdout
