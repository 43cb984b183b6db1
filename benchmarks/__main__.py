"""Run the performance suite: ``python -m benchmarks [name ...]``.

Discovers ``benchmarks/bench_*.py``; a name selects files (``generate`` or
``bench_generate``). Prints one table of rows (see :func:`benchmarks._util.row`);
exits 1 when any row misses its goal or a bench fails, 2 on an unknown name.
``--json FILE`` also writes the rows as JSON; ``--quick`` runs every bench at a small
size, once (the suite's smoke test: figures are printed, goals are not judged).
"""
from __future__ import annotations

import argparse
import importlib
import json
import math
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE.parent / "src") not in sys.path:  # also works from a checkout without an install
    sys.path.insert(0, str(HERE.parent / "src"))


def discover() -> list[str]:
    return sorted(p.stem[len("bench_"):] for p in HERE.glob("bench_*.py"))


def _fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "NO"
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        a = abs(v)
        return f"{v:,.0f}" if a >= 1000 else f"{v:.3g}" if a >= 0.01 or a == 0 else f"{v:.2e}"
    return str(v)


def print_table(rows: list[dict], out=sys.stdout) -> None:
    cols = [("benchmark", "benchmark"), ("measure", "measure"), ("value", "value"), ("unit", "unit"),
            ("baseline", "baseline"), ("ratio", "ratio"), ("goal", "goal"), ("ok", "ok")]
    cells = [[_fmt(r.get(k)) for k, _ in cols] for r in rows]
    widths = [max([len(h)] + [len(c[i]) for c in cells]) for i, (_, h) in enumerate(cols)]
    line = "  ".join(h.ljust(w) for (_, h), w in zip(cols, widths))
    print(line, file=out)
    print("-" * len(line), file=out)
    for r, c in zip(rows, cells):
        print("  ".join(x.rjust(w) if i in (2, 4, 5) else x.ljust(w) for i, (x, w) in enumerate(zip(c, widths))),
              file=out)
        if r.get("note"):
            print(" " * (widths[0] + 2) + "note: " + r["note"], file=out)


#: Bench files may print their own rows when run as scripts: ``print_rows(run())``.
print_rows = print_table


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    p.add_argument("names", nargs="*", help=f"benchmarks to run (default: all of {', '.join(discover())})")
    p.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    p.add_argument("--quick", action="store_true",
                   help="every bench at a small size, once: checks that the benches run, not the goals")
    p.add_argument("--runs", type=int, metavar="N",
                   help="size of the big data set, for benches that have one (engine: 20M by default)")
    args = p.parse_args(argv)
    available = discover()
    names = [n.removeprefix("bench_").removesuffix(".py") for n in args.names] or available
    unknown = [n for n in names if n not in available]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available)}", file=sys.stderr)
        return 2
    from benchmarks import _util

    _util.QUICK = args.quick
    _util.RUNS = args.runs
    rows: list[dict] = []
    failed = False
    for name in names:
        t0 = time.perf_counter()
        print(f"running bench_{name} ...", file=sys.stderr, flush=True)
        try:
            mod = importlib.import_module(f"benchmarks.bench_{name}")
            rows.extend({**r, "bench": name} for r in mod.run())
        except Exception:  # a broken bench is reported, the others still run
            traceback.print_exc()
            rows.append({"benchmark": name, "bench": name, "measure": "(crashed)", "ok": False})
            failed = True
        print(f"  done in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    sys.stderr.flush()
    print()
    print_table(rows)
    sys.stdout.flush()
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2, default=str))
    missed = [r for r in rows if r.get("ok") is False]
    if missed:
        print(f"\n{len(missed)} row(s) missed the goal", file=sys.stderr)
    return 1 if missed or failed else 0


if __name__ == "__main__":
    sys.exit(main())
