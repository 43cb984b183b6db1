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


def run(runs: int | None = None) -> list[dict]:
    from benchmarks._util import row, size

    runs = runs or size(RUNS, 2_000)
    with tempfile.TemporaryDirectory() as tmp:
        wb = _measure("workbook", runs, Path(tmp))
        base = _measure("to_excel", runs, Path(tmp))
    ratio = base["seconds"] / wb["seconds"]
    mem_ratio = wb["peak_mb"] / base["peak_mb"]
    return [
        row("export_workbook", f"{runs:,} runs, all sheets (analysis, business case, charts, data)", wb["seconds"],
            "s", baseline=base["seconds"], ratio=ratio,
            goal=f">= {GOAL_RATIO}x faster than DataFrame.to_excel (openpyxl)", ok=ratio >= GOAL_RATIO,
            note="ratio = to_excel of the data alone / the whole workbook"),
        row("export_workbook", "peak memory (process, incl. data)", wb["peak_mb"], "MB", baseline=base["peak_mb"],
            ratio=mem_ratio, goal="no more than to_excel", ok=mem_ratio <= 1.0),
    ]


if __name__ == "__main__":
    for row in run(int(sys.argv[1]) if len(sys.argv) > 1 else RUNS):
        print(json.dumps(row))
