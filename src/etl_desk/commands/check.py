"""etl-desk check INPUT...: load a run history and report what was read.

Prints the rows loaded (and dropped), where cost came from, and every warning;
exit 0. A refused input prints one line naming the file (and row and column)
and exits 2.
"""
from __future__ import annotations

import sys

from etl_desk.commands._input import add_input_options, load_input
from etl_desk.core.errors import LoadReport

_BASIS = {
    "file": "cost column of the file",
    "list_prices": "billing usage x system.billing.list_prices",
    "usd_per_dbu": "DBUs x the $/DBU given",
    "usd_per_hour": "ESTIMATED: run time x the $/hour given",
    "none": "UNKNOWN: no cost data (cost is unknown, not $0)",
    "mixed": "several sources",
}


def add_parser(sub) -> None:
    p = sub.add_parser("check", help="load a run history and report rows, warnings and problems",
                       description="Load INPUT the way the window and `analyze` do and report what was "
                                   "read. Exit 0 when it loads (warnings listed), 2 when it is refused.")
    add_input_options(p)
    p.set_defaults(run=run)


def run(args) -> int:
    report = LoadReport()
    df = load_input(args, report=report, quiet=True)
    dropped = max(report.rows_in - report.rows_out, 0)
    out = sys.stdout
    print(f"loaded {len(df):,} runs" + (f" ({report.rows_in:,} rows read, {dropped:,} not loaded)"
                                        if report.rows_in and report.rows_in != len(df) else ""), file=out)
    basis = df.attrs.get("cost_basis", "file")
    prov = df.attrs.get("provenance") or {}
    sentence = (prov.get("cost_basis") or {}).get("sentence")
    print(f"cost: {_BASIS.get(basis, basis)}" + (f" ({sentence})" if sentence else ""), file=out)
    failed = int((df["status"] == "Failed").sum())
    print(f"status: {len(df) - failed:,} success, {failed:,} failed", file=out)
    print(f"warnings: {len(report.warnings)}", file=out)
    for w in report.warnings:
        print(f"  - {w}", file=out)
    return 0
