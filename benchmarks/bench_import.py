"""Import of a 1,000,000-row CSV through the full validation path vs pandas.read_csv alone.

(a) ``load_path`` (sniff encoding/delimiter, read, guess the mapping, apply it,
    validate with ``schema.to_canonical``) of a realistic 1,000,000-run CSV with all
    15 canonical columns, against ``pandas.read_csv`` of the same file, timed in turns
    in the same run (best of 5 each). Goal: <= 1.5x.
(b) ``schema.to_canonical`` alone on the frame read_csv returns, for the profile.

pandas 3.1 reads a large CSV on several threads (GH#66259): on 2 cores ``read_csv`` got ~2.4x
faster, and ``load_path``, which reads the same way and then validates, gained less. The first row's
note gives the serial read for comparison with figures measured before.

Standalone: ``python benchmarks/bench_import.py`` prints the rows as JSON.
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pandas as pd

from benchmarks._util import best_of, best_of_each, row, size

N = 1_000_000
NAME = "import csv"
GOAL = 1.5


def _best(fn, repeat: int = 3) -> float:
    return best_of(fn, repeat=repeat, warmup=1)


def _row(measure, value, baseline=None, ratio=None, goal="", ok=None, unit="s", note=""):
    return row(NAME, measure, value, unit, baseline=baseline, ratio=ratio, goal=goal, ok=ok, note=note)


def make_csv(folder: Path, n: int = N) -> Path:
    from etl_desk.core.data.generate import generate
    from etl_desk.core.data.tables import write_table

    path = folder / f"runs-{n}.csv"
    write_table(generate("realistic", runs=n, seed=7), path)
    return path


def run() -> list[dict]:
    from etl_desk.core.data.loaders import load_path
    from etl_desk.core.data.schema import to_canonical

    with tempfile.TemporaryDirectory(prefix="etl-desk-bench-") as tmp:
        path = make_csv(Path(tmp), size(N, 20_000))
        raw = pd.read_csv(path)
        rows = len(raw)
        best = best_of_each({"read": lambda: pd.read_csv(path), "load": lambda: load_path(path)}, repeat=5)
        t_read, t_load = best["read"], best["load"]
        t_canon = _best(lambda: to_canonical(raw))
        # context: pandas 3.1 splits a large CSV across threads (GH#66259); low_memory=False reads it serially,
        # as the pandas this goal was set against did (load_path reads in parallel too)
        t_serial = _best(lambda: pd.read_csv(path, low_memory=False))
        size_mb = path.stat().st_size / 1e6
    ratio = t_load / t_read
    return [
        _row("pandas.read_csv alone", t_read, note=f"{rows:,} rows, {size_mb:,.0f} MB, 15 columns; pandas "
             f"{pd.__version__}; read serially (low_memory=False) {t_serial:.3f} s, load_path "
             f"{t_load / t_serial:.2f}x that"),
        _row("load_path (full validation)", t_load, baseline=t_read, ratio=ratio, goal=f"<= {GOAL}x read_csv",
             ok=ratio <= GOAL),
        _row("schema.to_canonical alone", t_canon, baseline=t_read, ratio=t_canon / t_read,
             note="share of the import spent validating"),
    ]


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
