"""The benchmarks cannot rot: every one runs at its quick size (figures printed, goals not judged)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_every_benchmark_runs_at_its_quick_size(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "ETL_DESK_SETTINGS": str(tmp_path / "s.ini")}
    out = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--json", str(tmp_path / "rows.json")],
                         capture_output=True, text=True, cwd=ROOT, env=env, timeout=900)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-5000:]
    import json

    rows = json.loads((tmp_path / "rows.json").read_text())
    names = {p.stem.removeprefix("bench_") for p in (ROOT / "benchmarks").glob("bench_*.py")}
    assert {r["bench"] for r in rows} == names, "a benchmark printed no row"
    assert not [r for r in rows if r["measure"] == "(crashed)"]
    assert all(r["ok"] is None for r in rows), "quick figures must not pass or fail a goal"
