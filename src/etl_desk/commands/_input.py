"""Reading INPUT for subcommands: one or more files or a folder, with import options.

Use in a subcommand::

    from etl_desk.commands._input import add_input_options, load_input

    def add_parser(sub):
        p = sub.add_parser("analyze", ...)
        add_input_options(p)            # INPUT... --map --usd-per-dbu --discount --usd-per-hour
                                        # --cancelled --skipped --strict
    def run(args):
        df = load_input(args)           # DataError on bad input (the CLI prints one line, exit 2)

``load_input`` prints the load warnings to stderr (one line each, prefixed
``etl-desk: warning:``) unless ``quiet=True``; pass a LoadReport to collect them.
"""
from __future__ import annotations

import argparse
import math
import sys

import pandas as pd

from etl_desk.core.data.importers.mapping import load_mapping_file
from etl_desk.core.data.importers.options import ImportOptions
from etl_desk.core.data.loaders import load_paths
from etl_desk.core.data.schema import CANCELLED_POLICIES, DEFAULT_CANCELLED_POLICY, DEFAULT_SKIPPED_POLICY
from etl_desk.core.errors import LoadReport


def _money(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(v) or v < 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text!r}")
    return v


def _discount(text: str) -> float:
    t = text.strip()
    pct = t.endswith("%")
    try:
        v = float(t.rstrip("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a fraction like 0.2 or a percentage like 20%, got {text!r}") from None
    if pct or v >= 1:
        v = v / 100.0
    if not math.isfinite(v) or not 0 <= v < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (or 0% and 100%), got {text!r}")
    return v


def add_input_options(parser: argparse.ArgumentParser, *, nargs: str = "+") -> None:
    """Add INPUT (files or a folder) and the import options to *parser*."""
    parser.add_argument("input", nargs=nargs, metavar="INPUT",
                        help="run history: CSV, XLSX, Parquet, Databricks system-table exports (several "
                             "files or a folder), Jobs API runs/list JSON (one or more pages), or an ETL "
                             "Desk workbook")
    g = parser.add_argument_group("import options")
    g.add_argument("--map", metavar="FILE", dest="map_file",
                   help="column mapping JSON: {\"columns\": {\"run_id\": \"RunID\", \"duration_min\": "
                        "\"secs\", ...}, \"units\": {\"duration_min\": \"s\"}} (default: guessed from headers)")
    g.add_argument("--usd-per-dbu", type=_money, metavar="USD",
                   help="price of one DBU: prices DBU columns and Databricks billing usage (instead of "
                        "list prices)")
    g.add_argument("--discount", type=_discount, default=0.0, metavar="FRACTION",
                   help="contract discount off list prices / the $/DBU, e.g. 0.2 or 20%% (default 0)")
    g.add_argument("--usd-per-hour", type=_money, metavar="USD",
                   help="for sources with no cost (Jobs API JSON, a timeline without billing usage): "
                        "estimate cost as run time x this rate (otherwise cost is 0, with a warning)")
    g.add_argument("--cancelled", choices=CANCELLED_POLICIES, default=DEFAULT_CANCELLED_POLICY,
                   help=f"count cancelled runs as failed, as success, or exclude them "
                        f"(default: {DEFAULT_CANCELLED_POLICY}: they consumed compute and produced nothing)")
    g.add_argument("--skipped", choices=CANCELLED_POLICIES, default=DEFAULT_SKIPPED_POLICY,
                   help=f"the same for skipped runs (default: {DEFAULT_SKIPPED_POLICY}: they never ran)")
    loc = g.add_mutually_exclusive_group()
    loc.add_argument("--decimal-comma", dest="decimal", action="store_const", const=",",
                     help="numbers whose own values do not settle it (1,250) use ',' as the decimal mark "
                          "(1,250 = 1.25); a column's own evidence and the --map file's \"decimal\" still win")
    loc.add_argument("--decimal-point", dest="decimal", action="store_const", const=".",
                     help="numbers whose own values do not settle it use '.' as the decimal mark "
                          "(1,250 = one thousand two hundred fifty)")
    day = g.add_mutually_exclusive_group()
    day.add_argument("--day-first", dest="dayfirst", action="store_const", const=True,
                     help="dates whose own values do not settle it (03/04/2024) are day-first (3 April)")
    day.add_argument("--month-first", dest="dayfirst", action="store_const", const=False,
                     help="dates whose own values do not settle it are month-first (4 March)")
    g.add_argument("--strict", action="store_true",
                   help="refuse the input at the first bad value instead of dropping/renaming/clipping "
                        "with warnings")


def import_options(args) -> ImportOptions:
    """ImportOptions from parsed arguments (reads --map FILE)."""
    mapping = load_mapping_file(args.map_file) if getattr(args, "map_file", None) else None
    return ImportOptions(
        mapping=mapping,
        usd_per_dbu=getattr(args, "usd_per_dbu", None),
        contract_discount=getattr(args, "discount", 0.0) or 0.0,
        usd_per_hour=getattr(args, "usd_per_hour", None),
        cancelled=getattr(args, "cancelled", DEFAULT_CANCELLED_POLICY),
        skipped=getattr(args, "skipped", DEFAULT_SKIPPED_POLICY),
        strict=bool(getattr(args, "strict", False)),
        decimal=getattr(args, "decimal", None),
        dayfirst=getattr(args, "dayfirst", None),
    ).validate()


def load_input(args, *, report: LoadReport | None = None, quiet: bool = False) -> pd.DataFrame:
    """Load ``args.input`` (one path or a list) with the import options; DataError on bad input."""
    paths = args.input if isinstance(args.input, (list, tuple)) else [args.input]
    report = report if report is not None else LoadReport()
    df = load_paths(paths, report=report, options=import_options(args))
    if not quiet:
        for w in report.warnings:
            print(f"etl-desk: warning: {w}", file=sys.stderr)
    return df
