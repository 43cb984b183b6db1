"""Start-up: launch to the first painted main window with the case-study data.

ETL Desk (``etl-desk`` with ``ETL_DESK_EXIT_AFTER_FIRST_PAINT=1``, which prints the wall-clock
time of the window's first paint and quits) against a bare PySide6 + pyqtgraph + pandas window
(``benchmarks/bare_window.py``), both measured in this run, on the offscreen platform, as fresh
processes, best of 5 each. Goal: ETL Desk ≤ 1.3 × the bare window.

    .venv/bin/python benchmarks/bench_startup.py             # this checkout's Python
    .venv/bin/python benchmarks/bench_startup.py --bundle dist/etl-desk/etl-desk   # also the bundle

``run()`` returns the rows for the ``benchmarks`` harness.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
GOAL_RATIO = 1.3
REPEAT = 5


def launch_to_first_paint(cmd: list[str], env: dict[str, str], timeout: float = 60.0) -> float:
    """Seconds from just before the process is launched to its reported first paint."""
    t0 = time.time()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    for line in out.stdout.splitlines():
        if line.startswith("first-paint-epoch="):
            return float(line.split("=", 1)[1]) - t0
    raise RuntimeError(f"{' '.join(cmd)}: no first paint reported (exit {out.returncode}): "
                       f"{(out.stderr or out.stdout)[-800:]}")


def _env(settings_dir: str) -> dict[str, str]:
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["ETL_DESK_EXIT_AFTER_FIRST_PAINT"] = "1"
    env["ETL_DESK_SETTINGS"] = str(Path(settings_dir) / "settings.ini")  # no restored layout or file
    return env


def best_of(cmd: list[str], env: dict[str, str], repeat: int = REPEAT) -> float:
    return min(launch_to_first_paint(cmd, env) for _ in range(repeat))


def run(repeat: int | None = None, bundle: str | None = None) -> list[dict]:
    from benchmarks._util import reps

    repeat = repeat or reps(REPEAT)
    with tempfile.TemporaryDirectory(prefix="etl-desk-bench-") as tmp:
        env = _env(tmp)
        # one warm-up each so the file cache is hot for both
        launch_to_first_paint([sys.executable, str(HERE / "bare_window.py")], env)
        launch_to_first_paint([sys.executable, "-m", "etl_desk"], env)
        bare = best_of([sys.executable, str(HERE / "bare_window.py")], env, repeat)
        app = best_of([sys.executable, "-m", "etl_desk"], env, repeat)
        rows = [_row("start-up to first paint (python)", app, bare)]
        if bundle is None and (HERE.parent / "dist" / "etl-desk" / "etl-desk").is_file():
            bundle = str(HERE.parent / "dist" / "etl-desk" / "etl-desk")
        if bundle:
            launch_to_first_paint([bundle], env)
            rows.append(_row("start-up to first paint (bundle)", best_of([bundle], env, repeat), bare))
    return rows


def _quick() -> bool:
    from benchmarks import _util

    return _util.QUICK


def _row(measure: str, value: float, baseline: float) -> dict:
    ratio = value / baseline
    return {"benchmark": "startup", "measure": measure, "value": round(value, 3), "unit": "s",
            "baseline": round(baseline, 3), "ratio": round(ratio, 2), "goal": f"<= {GOAL_RATIO}x bare window",
            "ok": None if _quick() else ratio <= GOAL_RATIO,
            "note": f"launch to first paint, offscreen, best of {REPEAT}; baseline: benchmarks/bare_window.py"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=REPEAT)
    ap.add_argument("--bundle", help="also time this bundled executable (e.g. dist/etl-desk/etl-desk)")
    args = ap.parse_args()
    rows = run(args.repeat, args.bundle)
    for r in rows:
        print(f"{r['measure']}: {r['value']:.3f} s vs bare window {r['baseline']:.3f} s = {r['ratio']:.2f}x "
              f"(goal {r['goal']}) {'ok' if r['ok'] else 'MISSED'}")
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
