"""Benchmark: the finance workbook for 100,000 runs against ``DataFrame.to_excel`` (openpyxl).

Both run in the same process run, on the same runs; each is measured in its own
subprocess so peak memory (``ru_maxrss``) belongs to that export alone.
Goal: the full workbook (all sheets, charts, business case) at least 3x faster
than ``to_excel`` writing the data alone.

Run standalone: ``python -m benchmarks.bench_export`` (or ``python benchmarks/bench_export.py``).
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

RUNS = 100_000
GOAL_RATIO = 3.0

_CHILD = r"""
import json, resource, sys, time
from etl_desk.core.data.generate import generate
from etl_desk.core.data.schema import to_labels
from etl_desk.core.data.schema import informative_columns
mode, runs, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
df = generate("realistic", runs=runs, seed=7)
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
if mode == "workbook":
    from etl_desk.core.business_case.results import compute_results
    from etl_desk.core.workbook.export import export_workbook
    export_workbook(out, df, compute_results(df))
else:
    to_labels(df, informative_columns(df)).to_excel(out, index=False, engine="openpyxl")
sec = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
print(json.dumps({"seconds": sec, "peak_mb": rss * scale / 2**20, "before_mb": rss0 * scale / 2**20}))
"""


def _measure(mode: str, runs: int, folder: Path) -> dict:
    out = folder / f"{mode}.xlsx"
    proc = subprocess.run([sys.executable, "-c", _CHILD, mode, str(runs), str(out)], capture_output=True,
                          text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run(runs: int = RUNS) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        wb = _measure("workbook", runs, Path(tmp))
        base = _measure("to_excel", runs, Path(tmp))
    ratio = base["seconds"] / wb["seconds"]
    return [
        {"benchmark": "export_workbook", "measure": f"seconds, {runs:,} runs, all sheets",
         "value": round(wb["seconds"], 2), "baseline": round(base["seconds"], 2), "ratio": round(ratio, 2),
         "goal": f">= {GOAL_RATIO}x faster than DataFrame.to_excel (openpyxl)", "ok": ratio >= GOAL_RATIO},
        {"benchmark": "export_workbook", "measure": "peak memory MB (process, incl. data)",
         "value": round(wb["peak_mb"], 1), "baseline": round(base["peak_mb"], 1),
         "ratio": round(wb["peak_mb"] / base["peak_mb"], 2), "goal": "no more than to_excel",
         "ok": wb["peak_mb"] <= base["peak_mb"]},
    ]


if __name__ == "__main__":
    for row in run(int(sys.argv[1]) if len(sys.argv) > 1 else RUNS):
        print(json.dumps(row))
