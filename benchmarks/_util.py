"""Helpers for bench files: timing, peak memory in a subprocess, and result rows."""
from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]

#: ``python -m benchmarks --quick``: every bench runs at a small size, once, so the suite cannot rot
#: (tests/test_benchmarks.py runs it). Quick figures say nothing about the goals, so no row passes or fails.
QUICK = False


def size(full: int, quick: int) -> int:
    """A bench's problem size: *full* normally, *quick* under ``--quick``."""
    return quick if QUICK else full


def reps(n: int) -> int:
    """Repetitions of a timing: *n* normally, 1 under ``--quick``."""
    return 1 if QUICK else n


def best_of(fn: Callable[[], Any], repeat: int = 5, warmup: int = 1) -> float:
    """Fastest of *repeat* calls of *fn*, in seconds (after *warmup* untimed calls).

    The minimum is the least noisy estimate of what the code costs on this
    machine: anything slower was disturbed by something else.
    """
    repeat, warmup = reps(repeat), (0 if QUICK else warmup)
    for _ in range(warmup):
        fn()
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def best_of_each(fns: dict[str, Callable[[], Any]], repeat: int = 5, warmup: int = 1) -> dict[str, float]:
    """Fastest call of each of *fns*, timed in turns (a, b, a, b, ...).

    For a ratio of two timings: taking turns exposes both to the same machine state
    (page cache, other load, clock), where timing all of one and then all of the other
    lets a change in that state land on one side only.
    """
    repeat, warmup = reps(repeat), (0 if QUICK else warmup)
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    best = {name: float("inf") for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            gc.collect()
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


_PEAK_SCRIPT = r"""
import gc, importlib, json, resource, sys
mod_name, fn_name, args, kwargs = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
fn = getattr(importlib.import_module(mod_name), fn_name)
gc.collect()


def status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024


try:  # Linux: reset the high-water mark, which a child inherits from its parent at fork
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = status("VmRSS")
    peak_of = lambda: status("VmHWM")
except OSError:  # macOS and friends: ru_maxrss (bytes on macOS, KiB elsewhere)
    scale = 1 if sys.platform == "darwin" else 1024
    peak_of = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
    before = peak_of()
result = fn(*args, **kwargs)
peak = peak_of()
size = None
if hasattr(result, "memory_usage"):
    size = int(result.memory_usage(deep=True).sum())
print(json.dumps({"before": before, "peak": peak, "result_bytes": size}))
"""


def peak_memory(target: str, *args: Any, **kwargs: Any) -> dict[str, float]:
    """Peak memory of calling ``module:function(*args, **kwargs)`` in a fresh Python process.

    Returns MB: ``peak`` (the process's high-water resident set), ``added``
    (peak minus the resident set after the imports, i.e. what the call itself
    needed) and ``result`` (the returned DataFrame's own size, if it is one).
    Arguments must be JSON-serialisable. Unix only (uses ``resource``).
    """
    mod_name, fn_name = target.split(":")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"), str(ROOT), env.get("PYTHONPATH")) if p)
    out = subprocess.run([sys.executable, "-c", _PEAK_SCRIPT, mod_name, fn_name, json.dumps(args),
                          json.dumps(kwargs)], capture_output=True, text=True, env=env, check=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    mb = 1024 * 1024
    return {"peak": r["peak"] / mb, "added": (r["peak"] - r["before"]) / mb,
            "result": (r["result_bytes"] or 0) / mb}


def row(benchmark: str, measure: str, value: float, unit: str = "", *, baseline: float | None = None,
        goal: str = "", ok: bool | None = None, note: str = "", ratio: float | None = None) -> dict:
    """One result row. ``ratio`` defaults to baseline / value when both are given."""
    if ratio is None and baseline is not None and value:
        ratio = baseline / value
    if QUICK:
        ok, note = None, ("quick size; " + note) if note else "quick size"
    return {"benchmark": benchmark, "measure": measure, "value": value, "unit": unit, "baseline": baseline,
            "ratio": ratio, "goal": goal, "ok": ok, "note": note}
