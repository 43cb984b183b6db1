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
    import json

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "ETL_DESK_SETTINGS": str(tmp_path / "s.ini")}
    names = {p.stem.removeprefix("bench_") for p in (ROOT / "benchmarks").glob("bench_*.py")}
    # two processes, one per core: the engine bench (Spark, DuckDB subprocesses) beside all the others
    groups = [["engine"], sorted(names - {"engine"})]
    logs = [open(tmp_path / f"log{i}.txt", "w+") for i in range(len(groups))]  # files: no pipe to fill up
    procs = [subprocess.Popen([sys.executable, "-m", "benchmarks", "--quick", "--json", str(tmp_path / f"rows{i}.json"),
                               *g], stdout=logs[i], stderr=subprocess.STDOUT, text=True, cwd=ROOT, env=env)
             for i, g in enumerate(groups)]
    rows = []
    for i, p in enumerate(procs):
        p.wait(timeout=900)
        logs[i].seek(0)
        assert p.returncode == 0, logs[i].read()[-6000:]
        logs[i].close()
        rows += json.loads((tmp_path / f"rows{i}.json").read_text())
    assert {r["bench"] for r in rows} == names, "a benchmark printed no row"
    assert not [r for r in rows if r["measure"] == "(crashed)"]
    assert all(r["ok"] is None for r in rows), "quick figures must not pass or fail a goal"
