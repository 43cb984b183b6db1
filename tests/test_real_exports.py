"""Every real-world export case in tests/fixtures/real_exports/ through `etl-desk analyze --json`.

Each case folder holds the input files and `expected.json` (`{shape, runs: [{args, kpis,
kpis_at_most?, expect_refusal?, refusal_ok?, stderr_contains?}], why}`); the figures were
computed by hand from the files (see each `why`). The `shared-*` folders are the issue's
cases (/work/shared/cases), copied. Runs in-process through `etl_desk.cli.main` with the case
folder as the working directory: money to half a cent, other numbers to 1e-6 relative,
null means unknown (never 0).
"""
from __future__ import annotations

import json
import math

import pytest

from etl_desk.cli import main
from tests.conftest import FIXTURES

CASES = FIXTURES / "real_exports"


def _runs():
    out = []
    for case in sorted(p for p in CASES.iterdir() if (p / "expected.json").is_file()):
        spec = json.loads((case / "expected.json").read_text())
        for i, run in enumerate(spec["runs"]):
            out.append(pytest.param(case, run, id=f"{case.name}-{i}"))
    return out


def _close(got, want) -> bool:
    if want is None:
        return got is None
    if got is None or isinstance(got, (str, bool)):
        return got == want
    if isinstance(got, float) and math.isnan(got):
        return False
    return abs(float(got) - float(want)) <= max(0.005, 1e-6 * abs(float(want)))


def test_every_kind_has_cases():
    names = [p.name for p in CASES.iterdir() if (p / "expected.json").is_file()]
    assert len(names) >= 39  # 30 of the independent corpus + the 9 shared case folders
    for prefix in ("outcomes-", "timeline-", "locale-", "excel-", "jobs-api-", "prices-", "unknown-", "shared-"):
        assert sum(n.startswith(prefix) for n in names) >= 3, prefix


@pytest.mark.parametrize("case, run", _runs())
def test_case(case, run, monkeypatch, capsys):
    monkeypatch.chdir(case)
    code = main(["analyze", *run["args"], "--json"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    for word in run.get("stderr_contains", []):
        assert word in err, (word, err)
    if run.get("expect_refusal"):
        assert code == 2 and err.strip(), (code, err)
        return
    if code == 2 and run.get("refusal_ok"):
        assert err.strip()
        return
    assert code == 0, err
    report = json.loads(out)
    kpis = report["kpis"]
    bad = {k: (kpis.get(k), want) for k, want in run.get("kpis", {}).items() if not _close(kpis.get(k), want)}
    assert not bad, bad
    for key, most in run.get("kpis_at_most", {}).items():
        assert kpis[key] is not None and kpis[key] <= most, (key, kpis[key], most)
    # every report says where its figures came from
    prov = report["provenance"]
    assert prov["runs"] == kpis["runs"]
    assert sum(f["rows_read"] for f in prov["files"]) >= kpis["runs"] or prov["files"][0]["kind"].startswith(
        "system_table")
    assert prov["cost_basis"]["sentence"]
    if kpis["total_cost_usd"] is None:
        assert prov["cost_basis"]["unknown_why"], prov["cost_basis"]
