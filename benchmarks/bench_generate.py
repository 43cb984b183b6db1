"""Realistic generation of 1,000,000 runs: speed against a per-row loop and raw NumPy draws; peak memory.

(a) ``loop``: a straightforward per-row Python implementation of the same model
    (``random`` module, one scheduled run and its retries at a time, the 15
    canonical columns appended to lists, then the project's validator). It is
    timed on 20,000 rows and scaled linearly to 1,000,000 - running it on a
    million rows would take minutes. Goal: the vectorised generator is >= 50x faster.
(b) ``raw draws``: one NumPy draw of 1,000,000 values per canonical column
    (15 arrays: log-normal, integer and uniform draws), the least any generator
    of this table must do. Goal: the generator costs <= 10x that.
(c) peak memory of generating 1,000,000 runs in a fresh process, against the size of the
    table it returns. Goal: <= 3x the table.
All ratios are measured in the same run.
"""
from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from benchmarks._util import best_of, peak_memory, row, size
from etl_desk.core.data.pipelines import PIPELINES
from etl_desk.core.data.realistic import RealisticSettings, generate_realistic
from etl_desk.core.data.schema import ATTRIBUTION_COLUMNS, COLUMN_NAMES, to_canonical

#: The columns the loop draws (the attribution columns stay missing, as at default settings).
LOOP_COLUMNS = tuple(c for c in COLUMN_NAMES if c not in ATTRIBUTION_COLUMNS)

N = 1_000_000
LOOP_N = 20_000
NAME = "generate realistic"


def loop_generate(settings: RealisticSettings) -> pd.DataFrame:
    """The same model, written the obvious way: a Python loop over scheduled runs and attempts."""
    s = settings
    rnd = random.Random(s.seed)
    start = datetime.fromisoformat(s.start)
    sap_total = sum(p.runs_per_day for p in PIPELINES if p.source == "SAP")
    gis_total = sum(p.runs_per_day for p in PIPELINES if p.source == "GIS")
    weights = [p.runs_per_day * (s.sap_share / sap_total if p.source == "SAP" else (1 - s.sap_share) / gis_total)
               for p in PIPELINES]
    cols: dict[str, list] = {c: [] for c in LOOP_COLUMNS}
    sched_no: dict[str, int] = {}
    scale = s.failure_rate_scale
    while len(cols["run_id"]) < s.runs:
        p = rnd.choices(PIPELINES, weights)[0]
        sched_no[p.name] = sched_no.get(p.name, 0) + 1
        per_hour = p.runs_per_day // len(p.hours)
        day = rnd.randrange(s.days)
        slot = rnd.randrange(p.runs_per_day)
        t = start + timedelta(days=day, hours=p.hours[slot // per_hour],
                              minutes=p.minute + (slot % per_hour) * 60 / per_hour + rnd.expovariate(1 / 0.75))
        t = t.replace(microsecond=0)
        d = t.date()
        next_month = (d.replace(day=28) + timedelta(days=4)).replace(day=1)
        month_end = d.day == 1 or (next_month - d).days <= 3
        peak = 1 + (p.month_end_peak - 1) * s.month_end_peak_scale if month_end else 1.0
        gb = max(round(rnd.lognormvariate(math.log(p.median_gb), p.sigma) * peak, 2), 0.01)
        spot = p.spot_eligible and rnd.random() < s.spot_share
        rel = gb / p.median_gb
        p_driver = min(p.base_failure * scale * rel ** 1.5, 0.5)
        p_storage = min(0.003 * scale * math.sqrt(gb / 10), 0.5)
        for attempt in range(1, s.max_retries + 2):
            startup = p.startup_min * rnd.uniform(0.8, 1.3)
            work = gb / (p.gb_per_min_per_node * p.nodes) * rnd.lognormvariate(0, 0.22)
            planned = startup + work
            p_spot = 1 - math.exp(-0.01 * scale * p.nodes * planned / 60) if spot else 0.0
            p_cluster = 0.004 * scale * (3 if spot else 1)
            hazards = [p_cluster, p_driver, p_storage, p_spot]
            p_any = min(1 - (1 - p_cluster) * (1 - p_driver) * (1 - p_storage) * (1 - p_spot), 0.95)
            code, state, dur = "SUCCESS", "SUCCEEDED", planned
            if rnd.random() < p_any:
                x = rnd.random() * sum(hazards)
                mode = 0
                while mode < 3 and x >= sum(hazards[:mode + 1]):
                    mode += 1
                code = ("CLUSTER_ERROR", "DRIVER_ERROR", "STORAGE_ACCESS_ERROR", "SPOT_INSTANCE_TERMINATION")[mode]
                state = "FAILED"
                u = rnd.random()
                dur = startup * (0.2 + 0.8 * u) if mode == 0 else startup + work * (0.05 + 0.95 * u)
            if dur > p.timeout_min:
                code, state, dur = "TIMED_OUT", "TIMED_OUT", p.timeout_min
            dur = max(round(dur, 2), 0.01)
            anomaly = rnd.random() < s.anomaly_rate
            factor = rnd.uniform(2.5, 5.0) if anomaly else 1.0
            if anomaly:
                dur = round(dur * factor, 2)
            hours = round(dur / 60 * p.nodes, 4)
            price = p.dbu_per_node_hour * s.usd_per_dbu + s.instance_usd_per_hour * p.instance_factor * (
                1 - s.spot_discount if spot else 1)
            end = t + timedelta(minutes=dur)
            values = (f"{p.name}-{sched_no[p.name]:06d}-a{attempt}", p.name, p.source, t, end, dur, gb,
                      "Success" if code == "SUCCESS" else "Failed", state, code, hours, round(hours * price, 4),
                      attempt, spot, anomaly)
            for c, v in zip(LOOP_COLUMNS, values):
                cols[c].append(v)
            if code == "SUCCESS" or len(cols["run_id"]) >= s.runs:
                break
            t = (end + timedelta(minutes=rnd.uniform(1, 10))).replace(microsecond=0)
            if code == "SPOT_INSTANCE_TERMINATION":
                spot = False
    return to_canonical(pd.DataFrame(cols))


def raw_draws(n: int = N, seed: int = 7) -> list[np.ndarray]:
    """One draw of n values per canonical column: the floor for any generator of this table."""
    rng = np.random.Generator(np.random.PCG64(seed))
    out = [rng.lognormal(0.0, 0.5, n) for _ in range(5)]  # duration, GB, hours, cost, end offset
    out += [rng.integers(0, 1_000_000, n) for _ in range(5)]  # run id, job, source, start, attempt
    out += [rng.random(n) for _ in range(5)]  # status, state, code, spot, anomaly
    return out


def generate_1m(n: int = N) -> pd.DataFrame:
    return generate_realistic(RealisticSettings(runs=n))


def run() -> list[dict]:
    n, loop_n = size(N, 20_000), size(LOOP_N, 2_000)
    s = RealisticSettings(runs=n)
    loop_df = loop_generate(RealisticSettings(runs=loop_n))
    assert list(loop_df.columns) == list(COLUMN_NAMES) and len(loop_df) == loop_n

    t_vec = best_of(lambda: generate_realistic(s), repeat=5)
    t_loop_small = best_of(lambda: loop_generate(RealisticSettings(runs=loop_n)), repeat=2, warmup=0)
    t_loop = t_loop_small * (n / loop_n)
    t_raw = best_of(lambda: raw_draws(n), repeat=5)
    mem = peak_memory("benchmarks.bench_generate:generate_1m", n)

    mem_ratio = mem["added"] / mem["result"] if mem["result"] else None
    speedup = t_loop / t_vec
    vs_raw = t_vec / t_raw
    return [
        row(NAME, f"{n:,} runs (best of 5)", t_vec, "s", goal="< 1 s", ok=t_vec < 1.0),
        row(NAME, "vs per-row Python loop", t_vec, "s", baseline=t_loop, ratio=speedup,
            goal=">= 50x faster", ok=speedup >= 50,
            note=f"loop timed on {loop_n:,} rows ({t_loop_small:.2f} s) and scaled linearly x{n // loop_n}"),
        row(NAME, "vs raw NumPy draws (15 columns)", t_vec, "s", baseline=t_raw, ratio=vs_raw,
            goal="<= 10x the draws", ok=vs_raw <= 10,
            note="ratio = generator time / draw time (lower is better)"),
        row(NAME, f"peak memory, {n:,} runs", mem["added"], "MB", baseline=mem["result"],
            ratio=mem_ratio, goal="<= 3x the table", ok=mem_ratio is not None and mem_ratio <= 3, note=f"added by the call in a fresh process (peak RSS {mem['peak']:.0f} MB); "
                                f"baseline = the returned table's own size; ratio = peak / table"),
    ]


if __name__ == "__main__":
    from benchmarks.__main__ import print_rows

    print_rows(run())
