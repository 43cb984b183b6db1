"""Big histories on the engine: issue 15's goals table, measured the way a user meets them.

Every figure comes from a whole process (interpreter start, imports, opening the
data) whose peak memory is the largest *sum* of resident sets over its process
tree, sampled every 0.1 s (``/usr/bin/time -v`` sees one process only; for Spark
the JVM is a child). Data: the project's own realistic generator written as a
hive-partitioned Parquet dataset (:mod:`etl_desk.core.engine.dataset`), kept in
``ETL_DESK_BENCH_DATA`` (default: the system temp folder) and reused between runs.

Rows (sizes: big = 20M by default, ``--runs 100000000`` for the issue's 100M;
mid = 10M; ``--quick``: 100k / 50k / 20k):

1. 1M runs opened and drawn, whole process (``etl-desk --screenshot shot.png big.parquet``): <= 600 MB
2. big: grouped (per-day) view on screen after opening (rollup cube ready): <= 20 s
3. big: index complete (run order, rollups, pyramid): <= 5 min, <= 2 GB; cancel latency; reuse on reopen
4. big, after the index, fresh process: first view / filter change / zoom step / table page:
   <= 1 s / <= 0.5 s / <= 150 ms / <= 200 ms (the largest of each kind); the engine's queries alone,
   then (4b) the same in the window, from the user's action until the window has painted the answer
   (:mod:`benchmarks.big_window`)
5. big: full analysis (KPIs, rollups, baselines, anomaly score of every run written out): <= 120 s, <= 2 GB
6. mid: every dashboard interaction vs the pandas path on the same data, one run each: >= 5x faster, <= 1/4 memory
7. Spark local vs DuckDB on the same data (1M): sums equal to the cent, counts equal, approximate
   quantiles within their stated error (skipped without pyspark/Java)

Run: ``python -m benchmarks engine [--quick] [--runs N]``; row 1 alone:
``python benchmarks/bench_engine.py --window-only [--quick]``.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __name__ == "__main__":  # standalone: make `benchmarks` and `etl_desk` importable from a checkout
    root = Path(__file__).resolve().parents[1]
    for p in (str(root), str(root / "src")):
        if p not in sys.path:
            sys.path.insert(0, p)

from benchmarks._util import ROOT, row  # noqa: E402

BENCH = "engine"
MEMORY_LIMIT = "1.2GB"
FILTER = dict(sources={"SAP"}, start="2025-10-01", spot=False)  # ~6 % of runs (ENGINE-MEASUREMENTS.md)


def data_root() -> Path:
    return Path(os.environ.get("ETL_DESK_BENCH_DATA", Path(tempfile.gettempdir()) / "etl-desk-bench"))


# --------------------------------------------------------------------------- process measurement

def _tree_rss(pid: int) -> int:
    """Sum of VmRSS (bytes) of *pid* and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(d))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo += children.get(p, [])
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            pass
    return total


def _hwm_kb(pid: int) -> int:
    """VmHWM (peak resident set, kB) of *pid* (Linux /proc), 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(argv: list[str], env: dict | None = None, timeout: float = 3600) -> dict:
    """Run *argv*; return wall seconds, the peak RSS (MB), the exit code and the last stdout JSON line.

    The peak is the larger of (a) the largest sum of resident sets over the process tree,
    sampled every 0.1 s, and (b) the process's own high-water mark as the kernel counts it
    (``VmHWM`` in ``/proc/PID/status``, read at each sample; it only grows): (a) sees child
    processes (Spark's JVM), (b) a peak shorter than a sample. ``peak_self_mb`` is (b) alone.
    Not ``ru_maxrss`` from ``wait4`` (what ``/usr/bin/time -v`` prints): a child forked from
    a big process (this benchmark after others, or pytest) inherits the parent's mark across
    ``exec``, so it would report the parent's size.
    """
    e = dict(os.environ)
    e["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"), str(ROOT), e.get("PYTHONPATH")) if p)
    e.update(env or {})
    t0 = time.perf_counter()
    # output to files, not pipes: a chatty child never blocks on a full pipe while we sample
    with tempfile.TemporaryFile("w+") as fo, tempfile.TemporaryFile("w+") as fe:
        proc = subprocess.Popen(argv, stdout=fo, stderr=fe, text=True, env=e)
        peak, self_kb = 0, 0
        while proc.poll() is None:
            peak = max(peak, _tree_rss(proc.pid))
            self_kb = max(self_kb, _hwm_kb(proc.pid))
            if time.perf_counter() - t0 > timeout:
                proc.kill()
            time.sleep(0.1)
        wall = time.perf_counter() - t0
        fo.seek(0)
        fe.seek(0)
        out, err = fo.read(), fe.read()
    peak = max(peak, self_kb * 1024)
    result = None
    for line in reversed(out.strip().splitlines()):
        if line.startswith("{"):
            result = json.loads(line)
            break
    if proc.returncode != 0 and result is None:
        raise RuntimeError(f"{' '.join(map(str, argv[:4]))}... failed ({proc.returncode}): {err.strip()[-800:]}")
    return {"wall": wall, "peak_mb": peak / 1e6, "peak_self_mb": self_kb * 1024 / 1e6, "rc": proc.returncode,
            "result": result or {}, "stderr": err}


def _worker(*args: str) -> list[str]:
    return [sys.executable, "-m", "benchmarks.bench_engine", "--worker", *map(str, args)]


# --------------------------------------------------------------------------- workers (run in their own process)

def _rule():
    import pandas as pd

    from etl_desk.core.engine import Rule

    return Rule(sources=FILTER["sources"], start=pd.Timestamp(FILTER["start"]), spot=FILTER["spot"])


def w_generate(out: str, runs: str) -> dict:
    from etl_desk.core.engine.dataset import generate_dataset
    from etl_desk.core.data.realistic import RealisticSettings

    s = RealisticSettings(runs=int(runs), days=365, start="2025-01-01", seed=7, anomaly_rate=0.005)
    return generate_dataset(out, s)


def w_open(path: str, cache: str) -> dict:
    """Open, build the index, and time the grouped view as soon as the rollup cube exists."""
    t0 = time.perf_counter()
    from etl_desk.core.engine import Engine, EngineSettings
    from etl_desk.core.engine.index import build_index

    eng = Engine.open(path, settings=EngineSettings(memory_limit=MEMORY_LIMIT))
    out: dict = {}

    def on_stage(name, idx):
        out[f"stage_{name}_s"] = time.perf_counter() - t0
        if name in ("day", "cube"):  # per-day charts + KPI sums; then every grouping and filter
            eng.attach_index(idx)
            eng.rollup("day")
            eng.kpis()
            out["grouped_view_s" if name == "day" else "all_groupings_s"] = time.perf_counter() - t0

    idx = build_index(eng.source, base=cache, memory_limit=MEMORY_LIMIT, on_stage=on_stage)
    out["index_s"] = time.perf_counter() - t0
    out["timings"] = idx.meta["timings_s"]
    out["runs"] = idx.runs
    return out


def w_cancel(path: str, cache: str) -> dict:
    """Start a build, ask to cancel once the run-order sort (the longest stage) is under way (0.5 s after
    the rollups are done); report how long the cancel took and what was left behind."""
    from etl_desk.core.engine.backends import open_source
    from etl_desk.core.engine.index import build_index, find_index
    from etl_desk.core.tasks import Cancelled

    asked: list[float] = []
    ready: list[float] = []

    def on_stage(name, idx):
        if name == "rollups":
            ready.append(time.perf_counter() + 0.5)

    def cancel():
        if ready and time.perf_counter() >= ready[0]:
            if not asked:
                asked.append(time.perf_counter())
            return True
        return False

    try:
        build_index(path, base=cache, memory_limit=MEMORY_LIMIT, cancel=cancel, on_stage=on_stage)
        return {"cancelled": False, "files_left": -1, "index_found": True}
    except Cancelled:
        latency = time.perf_counter() - asked[0]
    left = [str(p) for p in Path(cache).rglob("*") if p.is_file()]
    return {"cancelled": True, "latency_s": latency, "files_left": len(left),
            "index_found": find_index(open_source(path), base=cache) is not None}


def w_view(path: str, cache: str) -> dict:
    """A fresh process after the index: reopen, first view, filter change, zoom steps, table pages."""
    t0 = time.perf_counter()
    from etl_desk.core.engine import Engine, EngineSettings
    from etl_desk.core.engine.backends import open_source
    from etl_desk.core.engine.index import find_index

    src = open_source(path)
    idx = find_index(src, base=cache)
    eng = Engine.open(src, settings=EngineSettings(memory_limit=MEMORY_LIMIT), index=idx)
    t_open = time.perf_counter()
    n = eng.n_runs
    metrics = ("cost_usd", "data_processed_gb", "duration_min")

    def first_view():
        eng.kpis()
        eng.rollup("day")
        for m in metrics:
            eng.envelope(0, n, 1000, m)

    t = time.perf_counter()
    first_view()
    out = {"reused": idx is not None, "import_open_s": t_open - t0, "first_view_s": time.perf_counter() - t}
    rule = _rule()
    t = time.perf_counter()
    eng.kpis(rule)
    eng.rollup("day", rule)
    out["filter_change_s"] = time.perf_counter() - t
    zooms = []
    lo, hi = 0, n
    for _ in range(12):  # zoom in around the middle, halving the range each step (three charts a step)
        mid = (lo + hi) // 2
        lo, hi = mid - (hi - lo) // 4, mid + (hi - lo) // 4
        t = time.perf_counter()
        for m in metrics:
            eng.envelope(lo, hi, 1000, m)
        zooms.append(time.perf_counter() - t)
    out["zoom_step_max_s"], out["zoom_steps"] = max(zooms), len(zooms)
    out["zoom_steps_ms"] = [round(z * 1e3, 1) for z in zooms]
    pages = []
    for pos in (n // 2, n - 200, 1_000):
        t = time.perf_counter()
        p = eng.page("run_id", at=pos, n=100)
        pages.append(time.perf_counter() - t)
        t = time.perf_counter()
        eng.page("run_id", after=p.next_key, n=100)
        pages.append(time.perf_counter() - t)
    out["page_max_s"] = max(pages)
    out["view_total_s"] = time.perf_counter() - t0
    return out


def w_analysis(path: str, out_dir: str) -> dict:
    """Full analysis from the raw files: the rollup cube (one scan; KPIs and every rollup come from it),
    per-pipeline baselines, the anomaly score of every run written out as Parquet."""
    t0 = time.perf_counter()
    from etl_desk.core.engine import Engine, EngineSettings
    from etl_desk.core.engine.index import build_index

    eng = Engine.open(path, settings=EngineSettings(memory_limit=MEMORY_LIMIT))
    eng.attach_index(build_index(eng.source, base=out_dir, memory_limit=MEMORY_LIMIT, stages=("rollups",)))
    k = eng.kpis()
    for g in ("day", "week", "month", "pipeline", "status", "source"):
        eng.rollup(g)
    t_roll = time.perf_counter() - t0
    eng.baselines()
    s = eng.anomaly_scores()
    target = os.path.join(out_dir, "scores.parquet")
    eng.write(s.runs.select("run_id", "z", "flagged"), target)
    return {"analysis_s": time.perf_counter() - t0, "rollups_s": t_roll, "runs": k["runs"],
            "flagged": s.flagged_runs, "method": s.method, "scores_mb": os.path.getsize(target) / 1e6}


def w_pandas_dash(path: str) -> dict:
    """The pandas path on the same data: read into memory, then the same four interactions."""
    t0 = time.perf_counter()
    import numpy as np
    import pandas as pd

    from etl_desk.core.engine import pandas_path as P
    from etl_desk.core.insights.kpis import compute_kpis

    df = pd.read_parquet(path)
    df = df.drop(columns=[c for c in df.columns if c == "month"])
    out = {"load_s": time.perf_counter() - t0}
    metrics = ("cost_usd", "data_processed_gb", "duration_min")
    failed = (df["status"] == "Failed").to_numpy()

    def env(order, lo, hi, m):
        v = df[m].to_numpy()[order[lo:hi]]
        starts = np.arange(0, hi - lo, max(1, (hi - lo) // 1000))
        return np.maximum.reduceat(np.nan_to_num(v), starts), np.add.reduceat(failed[order[lo:hi]], starts)

    t = time.perf_counter()
    compute_kpis(df)
    P.rollup(df, "day")
    order = np.argsort(df["run_id"].to_numpy(dtype=object), kind="stable")
    n = len(df)
    for m in metrics:
        env(order, 0, n, m)
    out["first_view_s"] = time.perf_counter() - t + out["load_s"]
    rule = _rule()
    t = time.perf_counter()
    P.kpis(df, rule)
    P.rollup(df, "day", rule)
    out["filter_change_s"] = time.perf_counter() - t
    zooms = []
    lo, hi = 0, n
    for _ in range(12):  # the engine worker's zoom steps, same ranges (w_view)
        mid = (lo + hi) // 2
        lo, hi = mid - (hi - lo) // 4, mid + (hi - lo) // 4
        t = time.perf_counter()
        for m in metrics:
            env(order, lo, hi, m)
        zooms.append(time.perf_counter() - t)
    out["zoom_step_max_s"], out["zoom_steps"] = max(zooms), len(zooms)
    out["zoom_steps_ms"] = [round(z * 1e3, 1) for z in zooms]
    pages = []
    for pos in (n // 2, n - 200, 1_000):  # the engine worker's pages: at a position, then the next one
        for at in (pos, pos + 100):
            t = time.perf_counter()
            df.iloc[order[at:at + 100]]
            pages.append(time.perf_counter() - t)
    out["page_max_s"] = max(pages)
    return out


def w_engine_dash(path: str, cache: str) -> dict:
    """The same four interactions on the engine with its index (built beforehand, reused here)."""
    r = w_view(path, cache)
    return r


def w_spark_equal(path: str) -> dict:
    import numpy as np

    from etl_desk.core.engine import Engine, EngineSettings

    out = {}
    engines = {}
    for b in ("duckdb", "spark"):
        s = EngineSettings(memory_limit="1GB", quantiles="approx", spark_driver_memory="2g")
        engines[b] = Engine.open(path, backend=b, settings=s)
    ks = {b: e.kpis() for b, e in engines.items()}
    money = ("total_cost_usd", "failed_cost_usd", "retry_cost_usd")
    out["money_equal_to_cent"] = all(abs(ks["spark"][k] - ks["duckdb"][k]) < 0.005 for k in money)
    out["counts_equal"] = all(ks["spark"][k] == ks["duckdb"][k] for k in ("runs", "failed_runs", "retry_runs"))
    ex = Engine.open(path, settings=EngineSettings(memory_limit="1GB", quantiles="exact")).kpis()
    worst = 0.0
    for k in ("duration_p50_min", "duration_p90_min", "duration_p95_min"):
        for b in ("spark", "duckdb"):
            worst = max(worst, abs(ks[b][k] - ex[k]) / ex[k])
    out["quantile_rel_error_max"] = worst
    out["quantiles_identical"] = all(ks["spark"][k] == ks["duckdb"][k]
                                     for k in ("duration_p50_min", "duration_p95_min"))
    rd = engines["duckdb"].rollup("day")
    rs = engines["spark"].rollup("day")
    out["rollup_counts_equal"] = bool((rd["runs"].to_numpy() == rs["runs"].to_numpy()).all())
    out["rollup_cost_max_diff"] = float(np.nanmax(np.abs(rd["cost_usd"].to_numpy() - rs["cost_usd"].to_numpy())))
    return out


def w_window(path: str, cache: str, threshold: str) -> dict:
    from benchmarks.big_window import w_window as window

    return window(path, cache, threshold)


WORKERS = {"generate": w_generate, "open": w_open, "cancel": w_cancel, "view": w_view, "analysis": w_analysis,
           "pandas_dash": w_pandas_dash, "engine_dash": w_engine_dash, "spark_equal": w_spark_equal,
           "window": w_window}


# --------------------------------------------------------------------------- the benchmark

def dataset(runs: int) -> Path:
    d = data_root() / f"realistic-{runs}"
    if not d.exists():
        print(f"  generating {runs:,} runs into {d} ...", file=sys.stderr, flush=True)
        measure(_worker("generate", d, runs))
    return d


def parquet_1m(runs: int) -> Path:
    p = data_root() / f"realistic-{runs}.parquet"
    if not p.exists():
        p.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "etl_desk", "generate", "--preset", "realistic", "--runs", str(runs),
                        "--days", "365", "-o", str(p)], check=True, capture_output=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    return p


def window_memory_row(runs: int) -> dict:
    """Row 1: the whole ``etl-desk --screenshot shot.png FILE.parquet`` process on *runs* realistic runs.

    The real command line (``python -m etl_desk`` is the ``etl-desk`` script's ``cli.main``):
    imports, the window, the load, the dashboard drawn, and the analysis the window runs in
    the background (``--screenshot`` waits for it, as the window shows its results), then
    the PNG. Peak: see :func:`measure`. The goal (600 MB) is for 1M runs; a smaller size
    (``--quick``) is reported but not judged.
    """
    p1 = parquet_1m(runs)
    shot_dir = Path(tempfile.mkdtemp(prefix="etl-desk-bench-shot-"))
    try:
        # a settings file of its own: the user's (e.g. a lowered big-history threshold, which would open
        # this file through the engine instead of the in-memory path this row measures) never applies
        m = measure([sys.executable, "-m", "etl_desk", "--screenshot", str(shot_dir / "shot.png"), str(p1)],
                    env={"QT_QPA_PLATFORM": "offscreen", "ETL_DESK_SETTINGS": str(shot_dir / "settings.ini")})
        drawn = (shot_dir / "shot.png").is_file()
    finally:
        shutil.rmtree(shot_dir, ignore_errors=True)
    full = runs >= 1_000_000
    return row(BENCH, f"{_fmt_n(runs)} runs opened and drawn (etl-desk --screenshot), peak RSS", m["peak_mb"], "MB",
               goal="<= 600 MB" + ("" if full else " (at 1M runs)"),
               ok=(m["peak_mb"] <= 600 and m["rc"] == 0 and drawn) if full else None,
               note=f"whole process {m['wall']:.1f} s, exit {m['rc']}, PNG {'written' if drawn else 'MISSING'}; "
                    f"own high-water mark {m['peak_self_mb']:.0f} MB; load + dashboard + the background "
                    f"analysis (issue 15 item 8)" + ("" if full else f"; {_fmt_n(runs)} runs, not 1M: "
                                                                      "the goal is not judged at this size"))


def window_rows(d: Path, cache: Path, big: int, quick: bool) -> list[dict]:
    """Row 4b: the same interactions in the window (:mod:`benchmarks.big_window`), fresh process, index reused,
    each timed from the action until the window has painted the answer."""
    B = _fmt_n(big)
    m = measure(_worker("window", d, cache, min(5_000_000, max(1_000, big // 2))))
    r = m["result"]
    note = ("the real window at 1366x768 (offscreen): filter bar, chart zoom, table scroll, timed until no query "
            "is under way and the event loop painted what changed; with a grab of the whole window after: "
            "filter {filter_change_grab_max_ms:.0f} / zoom {zoom_step_grab_max_ms:.0f} / page "
            "{table_page_grab_max_ms:.0f} ms (one grab with nothing changed {idle_paint_grab_max_ms:.0f} ms); "
            "UI thread busy at most filter {filter_change_ui_busy_max_ms:.0f} / zoom {zoom_step_ui_busy_max_ms:.0f} / "
            "page {table_page_ui_busy_max_ms:.0f} ms at a stretch; "
            "from open_file (engine imports, connection, index found) to the first view "
            "{open_to_view_ms:.0f} ms; whole process peak {peak:.0f} MB").format(peak=m["peak_mb"], **r)
    out = []
    for key, label, goal in (("first_view_ms", "first view painted, from the index found", 1000),
                             ("filter_change_max_ms", "filter change, per day (slowest of 8)", 500),
                             ("zoom_step_max_ms", "zoom step, 3 charts (slowest of 12)", 150),
                             ("table_page_max_ms", "table page, jump or next (slowest of 8)", 200)):
        out.append(row(BENCH, f"{B} in the window, painted: {label}", r[key], "ms", goal=f"<= {goal} ms",
                       ok=None if quick else r[key] <= goal, note=note if key == "filter_change_max_ms" else ""))
    out.append(row(BENCH, f"{B} in the window, painted: filter change per run (slowest of 2)",
                   r["filter_change_per_run_max_ms"], "ms", goal="none (a filter the pyramid does not hold: a scan)",
                   ok=None, note="the charts' rows of a filtered run order are streamed from the index's run-ordered "
                                 "file in file order (one pass, no sort); pages read from the key's position"))
    return out


def _fmt_n(n: int) -> str:
    return f"{n / 1e6:g}M" if n >= 1_000_000 else f"{n / 1e3:g}k"


def run(quick: bool | None = None, runs: int | None = None) -> list[dict]:
    from benchmarks import _util

    quick = _util.QUICK if quick is None else quick
    runs = runs or getattr(_util, "RUNS", None)
    big = runs or (100_000 if quick else 20_000_000)
    mid = 50_000 if quick else 10_000_000
    one = 20_000 if quick else 1_000_000
    rows: list[dict] = []
    B = _fmt_n(big)

    # 1. the window on a 1M-run Parquet file, whole process
    rows.append(window_memory_row(one))

    # 2-3. open the big dataset: grouped view, index build, cancel, reuse
    d = dataset(big)
    cache = Path(tempfile.mkdtemp(prefix="etl-desk-bench-index-"))
    try:
        m = measure(_worker("open", d, cache))
        r = m["result"]
        rows.append(row(BENCH, f"{B}: grouped (per-day) view after opening", r["grouped_view_s"], "s",
                        goal="<= 20 s", ok=r["grouped_view_s"] <= 20,
                        note=f"from process start: imports, open, day x status cube, per-day totals and KPI sums "
                             f"(percentiles follow); every grouping and filter at {r['all_groupings_s']:.1f} s"))
        rows.append(row(BENCH, f"{B}: index complete (rollups, run order, pyramid)", m["wall"], "s",
                        goal="<= 300 s", ok=m["wall"] <= 300, note=f"stages {r['timings']}"))
        rows.append(row(BENCH, f"{B}: index build peak RSS (process tree)", m["peak_mb"], "MB", goal="<= 2000 MB",
                        ok=m["peak_mb"] <= 2000, note=f"DuckDB memory_limit {MEMORY_LIMIT} (cubes); run order sorted in "
                                                     f"~1M-run partitions spilled as LZ4 Arrow files"))
        v = measure(_worker("view", d, cache))
        rv = v["result"]
        rows.append(row(BENCH, f"{B}: reopen reuses the index", rv["import_open_s"], "s", goal="reused",
                        ok=rv["reused"], note=f"imports + open + index found; whole process {v['wall']:.1f} s, "
                                              f"peak {v['peak_mb']:.0f} MB"))
        for key, label, goal in (("first_view_s", "first view (KPIs, per day, 3 envelopes)", 1.0),
                                 ("filter_change_s", "filter change (KPIs + per day)", 0.5),
                                 ("zoom_step_max_s", "zoom step, 3 charts (slowest of 12)", 0.15),
                                 ("page_max_s", "table page, jump or next (slowest of 6)", 0.2)):
            rows.append(row(BENCH, f"{B} after the index: {label}", rv[key] * 1000, "ms",
                            goal=f"<= {goal * 1000:.0f} ms", ok=rv[key] <= goal))
        rows += window_rows(d, cache, big, quick)
        cc = Path(tempfile.mkdtemp(prefix="etl-desk-bench-cancel-"))
        try:
            c = measure(_worker("cancel", d, cc))["result"]
            rows.append(row(BENCH, f"{B}: cancel during the index build", c.get("latency_s", float("nan")), "s",
                            goal="cancelled, nothing left", ok=c["cancelled"] and not c["index_found"]
                            and c["files_left"] == 0, note=f"{c['files_left']} files left"))
        finally:
            shutil.rmtree(cc, ignore_errors=True)
    finally:
        shutil.rmtree(cache, ignore_errors=True)

    # 5. full analysis from the raw files
    out = Path(tempfile.mkdtemp(prefix="etl-desk-bench-analysis-"))
    try:
        m = measure(_worker("analysis", d, out))
        r = m["result"]
        rows.append(row(BENCH, f"{B}: full analysis (KPIs, rollups, baselines, z of every run)", m["wall"], "s",
                        goal="<= 120 s", ok=m["wall"] <= 120,
                        note=f"{r['flagged']:,} runs flagged; cube + rollups {r['rollups_s']:.0f} s; "
                             f"medians: {r['method']}"))
        rows.append(row(BENCH, f"{B}: full analysis peak RSS", m["peak_mb"], "MB", goal="<= 2000 MB",
                        ok=m["peak_mb"] <= 2000))
    finally:
        shutil.rmtree(out, ignore_errors=True)

    # 6. mid size: engine (with its index) vs pandas, each interaction once, fresh processes
    dm = dataset(mid)
    cache = Path(tempfile.mkdtemp(prefix="etl-desk-bench-index-"))
    try:
        measure(_worker("open", dm, cache))
        e = measure(_worker("engine_dash", dm, cache))
        p = measure(_worker("pandas_dash", dm))
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    er, pr = e["result"], p["result"]
    M = _fmt_n(mid)
    for ek, pk, label in (("first_view_s", "first_view_s", "first view (incl. open/load)"),
                          ("filter_change_s", "filter_change_s", "filter change"),
                          ("zoom_step_max_s", "zoom_step_max_s", "zoom step (slowest of 12)"),
                          ("page_max_s", "page_max_s", "table page (slowest of 6)")):
        ev = er[ek] + (er["import_open_s"] if ek == "first_view_s" else 0.0)
        note = (f"each step, ms: engine {er['zoom_steps_ms']}, pandas {pr['zoom_steps_ms']}"
                if ek == "zoom_step_max_s" else "")
        rows.append(row(BENCH, f"{M}: {label}, engine vs pandas", ev, "s", baseline=pr[pk], goal=">= 5x faster",
                        ok=pr[pk] / ev >= 5 if ev else True, note=note))
    rows.append(row(BENCH, f"{M}: dashboard process peak RSS, engine vs pandas", e["peak_mb"], "MB",
                    baseline=p["peak_mb"], goal="<= 1/4 of pandas", ok=e["peak_mb"] <= p["peak_mb"] / 4))

    # 7. Spark local vs DuckDB
    try:
        import pyspark  # noqa: F401
        have_spark = shutil.which("java") is not None or bool(os.environ.get("JAVA_HOME"))
    except ImportError:
        have_spark = False
    if have_spark:
        d1 = dataset(one)
        m = measure(_worker("spark_equal", d1))
        r = m["result"]
        from etl_desk.core.engine import sketch

        ok = r["money_equal_to_cent"] and r["counts_equal"] and r["rollup_counts_equal"] \
            and r["quantile_rel_error_max"] <= sketch.ALPHA and r["rollup_cost_max_diff"] < 0.005
        rows.append(row(BENCH, f"{_fmt_n(one)}: Spark local vs DuckDB (sums, counts, approx. quantiles)",
                        r["quantile_rel_error_max"], "rel. err", goal=f"equal; quantiles <= {sketch.ALPHA:.2%}",
                        ok=ok, note=f"money to the cent {r['money_equal_to_cent']}, counts {r['counts_equal']}, "
                                    f"same histogram quantiles {r['quantiles_identical']}; "
                                    f"whole process {m['wall']:.0f} s, peak {m['peak_mb']:.0f} MB"))
    else:
        rows.append(row(BENCH, "Spark local vs DuckDB", float("nan"), goal="equal", ok=None,
                        note="skipped: pyspark or Java missing (pip install 'etl-desk[spark]')"))
    return rows


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--worker":
        if argv[1] != "pandas_dash":  # the baseline keeps pyarrow's own pool: faster for pandas (a 100-row
            # page of 10M arrow-backed strings: ~0.15 s with mimalloc, ~1 s with the system allocator)
            from etl_desk.core.data.memory import prefer_system_allocator

            prefer_system_allocator()  # as the app and the CLI do at start: the allocator a user's process has
        result = WORKERS[argv[1]](*argv[2:])
        print(json.dumps(result, default=str))
        return 0
    import argparse

    from benchmarks.__main__ import print_table

    ap = argparse.ArgumentParser(prog="bench_engine")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--runs", type=int)
    ap.add_argument("--window-only", action="store_true",
                    help="only row 1: the 1M-run window's peak memory (50k runs with --quick)")
    a = ap.parse_args(argv)
    from benchmarks import _util

    _util.QUICK = a.quick
    if a.window_only:
        print_table([window_memory_row(50_000 if a.quick else 1_000_000)])
        return 0
    print_table(run(quick=a.quick, runs=a.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
