"""etl-desk analyze --by / --budget: attribution, drift, forecast and budgets in the report, JSON and workbook."""
from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from etl_desk.core.data.realistic import RealisticSettings, generate_realistic
from etl_desk.core.data.tables import write_table
from tests.conftest import run_cli

FIX = Path(__file__).parent / "fixtures" / "system_tables_tags"


def _json(text: str) -> dict:
    def bad(c):
        raise AssertionError(f"JSON contains {c}")
    return json.loads(text, parse_constant=bad)


def test_by_team_on_system_tables_json():
    out = run_cli("analyze", FIX, "--by", "team", "--by", "compute", "--json")
    assert out.returncode == 0, out.stderr
    d = _json(out.stdout)
    team = {r["key"]: r for r in d["attribution"][0]["rows"]}
    assert d["attribution"][0]["by"] == "tag:team"
    assert team["finance"]["cost_usd"] == pytest.approx(1.15) and team["(untagged)"]["cost_usd"] == pytest.approx(0.6)
    assert team["(untagged)"]["untagged"] is True
    assert d["attribution"][1]["by"] == "compute"
    # two days of history: no drift test, no forecast, said plainly
    assert d["drift"]["findings"] == [] and "at least" in d["drift"]["notes"][0]
    assert d["forecast"]["total"] is None
    assert set(d["rules"]) >= {"duration_z", "cost_spike"}


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    p = tmp_path_factory.mktemp("trends") / "runs.parquet"
    df = generate_realistic(RealisticSettings(runs=30_000, days=150, seed=9, team_tags=True, drift_pipelines=1,
                                              anomaly_rate=0.01))
    write_table(df, p)
    return p


def test_budget_forecast_and_drift_in_text_json_and_workbook(history, tmp_path):
    xlsx = tmp_path / "r.xlsx"
    out = run_cli("analyze", history, "--by", "team", "--budget", "4000/month", "--forecast-days", "45",
                  "-o", xlsx, "--rows", "truncate")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    for head in ("WHO PAYS: BY TAG 'TEAM'", "(untagged)", "DRIFT", "FORECAST (daily cost)", "Backtest on the last",
                 "BUDGET $4,000 A MONTH"):
        assert head in text
    wb = openpyxl.load_workbook(xlsx, read_only=True)
    assert {"Chargeback", "Forecast", "Drift"} <= set(wb.sheetnames)
    ws = wb["Chargeback"]
    keys = [r[0] for r in ws.iter_rows(min_row=6, max_col=1, values_only=True) if r[0]]
    assert "(untagged)" in keys and "Total" in keys
    js = run_cli("analyze", history, "--budget", "4000/month:team=finance", "--json", "--no-drift")
    d = _json(js.stdout)
    assert d["drift"] is None and d["budgets"][0]["scope"] == {"team": "finance"}
    b = d["budgets"][0]
    assert b["burn_to_date"] >= 0 and b["month_end_lo80"] <= b["month_end"] <= b["month_end_hi80"]
    f = d["forecast"]["total"]
    assert len(f["forecast"]) == 90 and 0 <= f["backtest"]["coverage80"] <= 1
    assert {"excess_usd", "reason"} <= set(d["anomalies"][0])


def test_bad_budget_and_thresholds_are_one_line_errors(history):
    out = run_cli("analyze", history, "--budget", "lots")
    assert out.returncode == 2 and "cannot read the budget" in out.stderr and "Traceback" not in out.stderr
    out = run_cli("analyze", history, "--no-rises", "--json", "--no-drift", "--forecast-days", "0")
    assert out.returncode == 2 and "direction" in out.stderr
    ok = run_cli("analyze", history, "--falls", "--min-excess-usd", "1", "--json", "--no-drift", "--forecast-days", "0")
    d = _json(ok.stdout)
    assert d["thresholds"]["falls"] is True and d["forecast"] is None
    assert all(a["excess_usd"] is None or abs(a["excess_usd"]) >= 1 for a in d["anomalies"]
               if a["rule"] != "failure_rate_jump")
