"""etl-desk analyze: the published figures in the report and the JSON, one-line errors with exit 2."""
from __future__ import annotations

import json

import pytest

from etl_desk.core.data.tables import write_table
from tests.conftest import run_cli


def _no_nan(text: str):
    def bad(c):
        raise AssertionError(f"JSON contains {c}")
    return json.loads(text, parse_constant=bad)


@pytest.fixture(scope="module")
def case_csv(tmp_path_factory):
    from etl_desk.core.data.case_study import generate_case_study

    p = tmp_path_factory.mktemp("cli") / "case.csv"
    write_table(generate_case_study(), p)
    return p


def test_json_on_case_study(case_csv):
    out = run_cli("analyze", case_csv, "--json")
    assert out.returncode == 0, out.stderr
    d = _no_nan(out.stdout)
    k = d["kpis"]
    assert k["runs"] == 1000 and k["failed_runs"] == 52
    assert round(k["failed_cost_usd"], 2) == 62.59
    assert round(k["total_cost_usd"], 2) == pytest.approx(1315.09, abs=0.006)
    assert round(k["failed_cost_share"] * 100, 2) == 4.76
    for key in ("success_rate", "cost_per_tb_usd", "duration_p50_min", "duration_p95_min"):
        assert isinstance(k[key], float)
    ins = {i["id"]: i for i in d["insights"]}
    for i in d["insights"]:
        assert {"id", "area", "severity", "headline", "run_ids"} <= set(i)
    assert [ins[x]["verdict"] for x in ("case.failed_cost", "case.volume_extremes", "case.duration_spread")] \
        == ["confirmed"] * 3
    assert len(ins["case.failed_cost"]["run_ids"]) == 52
    assert isinstance(d["anomalies"], list)
    for a in d["anomalies"]:
        assert {"run_id", "rule", "metric", "observed", "baseline", "threshold"} <= set(a)
    assert any("no pipeline names" in n for n in d["notes"])


def test_plain_report_on_case_study(case_csv):
    out = run_cli("analyze", case_csv)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    for s in ("52", "$62.59", "4.76 %", "$1,315.10", "THE CASE STUDY'S THREE INSIGHTS", "ANOMALIES"):
        assert s in text
    assert text.count("[CONFIRMED]") == 3
    assert "{" not in text.splitlines()[0]


def test_json_on_realistic_lists_anomalies(tmp_path):
    from etl_desk.core.data.generate import generate

    p = tmp_path / "r.parquet"
    write_table(generate("realistic", runs=20_000, seed=12, anomaly_rate=0.01), p)
    out = run_cli("analyze", p, "--json", "--z-threshold", "5")
    assert out.returncode == 0, out.stderr
    d = _no_nan(out.stdout)
    assert d["thresholds"]["z_threshold"] == 5.0
    rules = {a["rule"] for a in d["anomalies"]}
    assert {"duration_z", "cost_rate_z"} <= rules
    assert all(a["threshold"] == 5.0 for a in d["anomalies"] if a["rule"].endswith("_z"))


@pytest.mark.parametrize("content, args, needle", [
    ("Job ID,Start Time,Duration (min),Job Status,Cost (USD)\n1,2024-01-01,abc,Success,1\n", [],
     "row 1, column 'Duration (min)'"),
    ("Job ID,Start Time,Duration (min),Job Status,Cost (USD)\n1,2024-01-01,5,Success,-3\n", [], "negative"),
    ("Job ID,Start Time,Duration (min),Job Status,Cost (USD)\n1,2024-01-01,5,Success,1\n",
     ["--z-threshold", "0"], "Robust z threshold"),
    (None, [], "no such file"),
])
def test_bad_input_one_line_exit_2(tmp_path, content, args, needle):
    p = tmp_path / "in.csv"
    if content is not None:
        p.write_text(content)
    out = run_cli("analyze", p if content is not None else tmp_path / "missing.csv", *args)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert needle in lines[0] and "Traceback" not in out.stderr
    assert out.stdout == ""
