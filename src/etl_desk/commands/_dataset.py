"""``etl-desk generate --preset realistic --runs 100000000 -o DIR/``: a big dataset in chunks.

The output is a hive-partitioned Parquet folder (``month=YYYY-MM/part-YYYY-MM-DD.parquet``)
written day by day by :func:`etl_desk.core.engine.dataset.generate_dataset`:
bounded memory, the same rows for the same seed and settings whatever the chunk size.
"""
from __future__ import annotations

import os
import sys


def add_dataset_options(p) -> None:
    """Add --days, --start and --chunk-runs (realistic preset)."""
    g = p.add_argument_group("realistic history length, and datasets (-o DIR/)")
    g.add_argument("--days", type=int, help="length of the history in days (default 90; 365 for a folder)")
    g.add_argument("--start", help="first day, YYYY-MM-DD (default 2024-01-01)")
    g.add_argument("--chunk-runs", type=int, default=1_000_000, metavar="N",
                   help="a folder's files hold at most N runs (default 1,000,000; bounds memory)")


def wants_dataset(args) -> bool:
    out = str(args.output)
    return out.endswith(("/", os.sep)) or os.path.isdir(out)


def run_dataset(args) -> int:
    from dataclasses import replace

    from etl_desk.core.engine._project import DataError, RealisticSettings
    from etl_desk.core.engine.dataset import generate_dataset

    if args.preset != "realistic":
        raise DataError("a dataset folder is written by the realistic preset only (--preset realistic)")
    s = RealisticSettings(days=365)
    over = {k: v for k, v in (("runs", args.runs), ("seed", args.seed), ("anomaly_rate", args.anomaly_rate),
                              ("days", args.days), ("start", args.start)) if v is not None}
    s = replace(s, **over)
    tty = sys.stderr.isatty()

    def progress(f, text):
        if tty:
            print(f"\r{text} ({f:.0%})", end="", file=sys.stderr, flush=True)

    r = generate_dataset(args.output, s, chunk_runs=max(1, args.chunk_runs), progress=progress)
    if tty:
        print(file=sys.stderr)
    print(f"wrote {r['runs']:,} runs to {args.output} ({r['files']:,} files, {r['bytes'] / 1e6:,.0f} MB)",
          file=sys.stderr)
    return 0
