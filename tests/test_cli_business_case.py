"""etl-desk analyze: the business case in --json, --assumptions FILE, and a clear error for a bad file."""
from __future__ import annotations

import json

import pytest

from .conftest import run_cli

pytest.importorskip("etl_desk.commands.analyze", reason="etl-desk analyze is not there yet")


@pytest.fixture(scope="module")
def csv_path(tmp_path_factory, case_study):
    from etl_desk.core.data.tables import write_table

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
    assert "Business case" in out.stdout and "Portfolio (npv_max)" in out.stdout
    # the case study is too small for any remedy to pay back, and the report says so, then what it would take
    assert "No option pays back within the 36-month horizon" in out.stdout
    assert "Top risks:" in out.stdout and "Source:" in out.stdout


def test_anomaly_excess_follows_the_threshold_options_and_detection_runs_once(csv_path, case_study, capsys,
                                                                             monkeypatch):
    """--z-threshold reaches the business case: its anomaly excess counts exactly the runs the analysis lists."""
    from etl_desk.cli import main
    from etl_desk.core.insights import analysis as analysis_mod
    from etl_desk.core.insights import anomalies as anomalies_mod

    calls = []
    original = anomalies_mod.detect_anomalies

    def counting(df, thresholds=None):
        calls.append(thresholds)
        return original(df, thresholds)

    monkeypatch.setattr(analysis_mod, "detect_anomalies", counting)
    monkeypatch.setattr(anomalies_mod, "detect_anomalies", counting)

    def report(*opts):
        calls.clear()
        assert main(["analyze", str(csv_path), "--json", *opts]) == 0
        out = json.loads(capsys.readouterr().out)
        assert len(calls) == 1  # one detection for the analysis and the business case
        return out

    default = report()
    tuned = report("--z-threshold", "1.5")
    assert calls[0].z_threshold == 1.5 and tuned["thresholds"]["z_threshold"] == 1.5
    for rep in (default, tuned):
        flagged = {a["run_id"] for a in rep["anomalies"] if a["rule"] != "failure_rate_jump"}
        base = rep["business_case"]["baseline"]
        assert base["counts"]["anomalous_runs"] == len(flagged)
        # the excess by hand: each flagged run's cost above its pipeline's median (the case study names
        # no pipelines: one group)
        df = case_study.assign(run_id=case_study["run_id"].astype(str),
                               pipe=case_study["job_name"].astype(object).fillna("(unnamed)"))
        med = df.groupby("pipe")["cost_usd"].transform("median")
        excess = (df["cost_usd"] - med).clip(lower=0)[df["run_id"].isin(flagged)].sum()
        assert base["observed_usd"]["anomaly_excess_cost"] == pytest.approx(excess, abs=1e-9)
    assert default["business_case"]["baseline"]["observed_usd"]["anomaly_excess_cost"] == 0
    assert tuned["business_case"]["baseline"]["observed_usd"]["anomaly_excess_cost"] > 0
    assert "z > 1.5" in tuned["business_case"]["baseline"]["anomaly_source"]
