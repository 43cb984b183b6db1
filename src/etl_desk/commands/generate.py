"""etl-desk generate: write a synthetic workload to CSV, XLSX or Parquet."""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from etl_desk.core.data.generate import PRESETS, generate
from etl_desk.core.data.realistic import RealisticSettings
from etl_desk.core.errors import DataError
from etl_desk.core.data.tables import file_format, write_table


def _positive_int(text: str) -> int:
    try:
        v = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {v}")
    return v


def _seed(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {v}")
    return v


def _rate(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}") from None
    if not 0 <= v <= 0.5:
        raise argparse.ArgumentTypeError(f"must be between 0 and 0.5, got {v}")
    return v


def add_parser(sub) -> None:
    p = sub.add_parser("generate", help="generate a synthetic workload",
                       description="Generate synthetic job runs. The output's extension picks the "
                                   "format: .csv, .xlsx or .parquet.")
    p.add_argument("--preset", choices=PRESETS, default="case-study",
                   help="case-study: the published data set (seed 42); realistic: SAP/GIS pipelines")
    p.add_argument("--runs", type=_positive_int, help="number of runs (default: 1,000 / 10,000)")
    p.add_argument("--seed", type=_seed, help="random seed (default: 42 / 7)")
    p.add_argument("--anomaly-rate", type=_rate, help="share of runs with an injected anomaly (realistic)")
    r = p.add_argument_group("realistic preset: tags and injected ground truth (off by default)")
    r.add_argument("--team-tags", action="store_true",
                   help="tag runs with team and cost centre, workspace and SKU (some spend left untagged)")
    r.add_argument("--drift-pipelines", type=int, metavar="N",
                   help="pipelines whose cost per TB rises week after week from a random day (0-16)")
    r.add_argument("--drift-pct-per-week", type=float, metavar="PCT", help="weekly drift, percent (default 5)")
    r.add_argument("--failure-waves", type=int, metavar="N", help="pipeline-weeks with a failure-rate jump")
    r.add_argument("--month-end-peak-scale", type=float, metavar="X", help="scales SAP month-end peaks (default 1)")
    p.add_argument("-o", "--output", required=True,
                   help="output file (.csv, .xlsx, .parquet), or a folder (ending in / or existing) for a "
                        "hive-partitioned Parquet dataset of any size, written in chunks (realistic preset)")
    from etl_desk.commands._dataset import add_dataset_options

    add_dataset_options(p)
    p.set_defaults(run=run)


_EXTRAS = ("days", "start", "team_tags", "drift_pipelines", "drift_pct_per_week", "failure_waves",
           "month_end_peak_scale")


def run(args) -> int:
    from etl_desk.commands._dataset import run_dataset, wants_dataset

    if wants_dataset(args):
        return run_dataset(args)
    file_format(args.output)  # refuse an unknown extension before doing any work
    if args.preset == "case-study" and args.anomaly_rate is not None:
        raise DataError("--anomaly-rate applies to the realistic preset only")
    extra = {k: getattr(args, k) for k in _EXTRAS if getattr(args, k, None) not in (None, False)}
    if extra and args.preset != "realistic":
        raise DataError("--" + next(iter(extra)).replace("_", "-") + " applies to the realistic preset only")
    settings = replace(RealisticSettings(), **extra) if extra else None
    df = generate(args.preset, runs=args.runs, seed=args.seed, anomaly_rate=args.anomaly_rate, settings=settings)
    write_table(df, args.output)
    print(f"wrote {len(df):,} runs to {args.output}", file=sys.stderr)
    return 0
