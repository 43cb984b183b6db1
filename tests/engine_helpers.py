"""Shared data and comparisons for the engine tests (pandas vs DuckDB vs Spark)."""
from __future__ import annotations

import math
import os
import shutil

import numpy as np
import pandas as pd

#: Engines in tests stay small: 2 threads, 1 GB.
SMALL = dict(memory_limit="1GB", threads=2)


def realistic(runs: int, seed: int = 5, days: int = 60, anomaly_rate: float = 0.01) -> pd.DataFrame:
    from etl_desk.core.data.realistic import RealisticSettings, generate_realistic

    return generate_realistic(RealisticSettings(runs=runs, seed=seed, days=days, anomaly_rate=anomaly_rate))


def write_dataset(df: pd.DataFrame, folder) -> str:
    """*df* as a 2-file hive-partitioned Parquet folder (microsecond timestamps, as Spark reads them)."""
    from etl_desk.core.engine.dataset import _arrow
    import pyarrow.parquet as pq

    folder = str(folder)
    shutil.rmtree(folder, ignore_errors=True)
    half = len(df) // 2
    for i, part in enumerate((df.iloc[:half], df.iloc[half:])):
        d = os.path.join(folder, f"part={i}")
        os.makedirs(d)
        pq.write_table(_arrow(part.reset_index(drop=True)), os.path.join(d, "data.parquet"))
    return folder


def cents(x) -> int | None:
    return None if x is None else int(round(float(x) * 100))


MONEY_KEYS = ("total_cost_usd", "failed_cost_usd", "retry_cost_usd", "avg_cost_success_usd", "avg_cost_failed_usd",
              "cost_per_tb_usd")
COUNT_KEYS = ("runs", "failed_runs", "retry_runs")


def assert_kpis_equal(ref: dict, got: dict, quantiles: str = "exact") -> None:
    """Counts equal, money equal to the cent, the rest to 1e-9 relative; quantiles exact or within ALPHA."""
    from etl_desk.core.engine import sketch

    for k in COUNT_KEYS:
        assert got[k] == ref[k], k
    for k in MONEY_KEYS:  # to the cent: pandas sums floats, the engines sum exact decimals (2.435 vs 2.43499..96)
        assert (got[k] is None) == (ref[k] is None), k
        if ref[k] is not None:
            assert abs(got[k] - ref[k]) < 0.005, (k, ref[k], got[k])
    for k in ("success_rate", "failure_rate", "failed_cost_share", "total_tb", "span_days"):
        assert (ref[k] is None) == (got[k] is None), k
        if ref[k] is not None:
            assert math.isclose(got[k], ref[k], rel_tol=1e-9, abs_tol=1e-12), (k, ref[k], got[k])
    for k in ("first_start", "last_end"):
        assert got[k] == ref[k], k
    for k in ("duration_p50_min", "duration_p90_min", "duration_p95_min"):
        if quantiles == "exact":
            assert math.isclose(got[k], ref[k], rel_tol=1e-12), (k, ref[k], got[k])


def assert_rollups_equal(ref: pd.DataFrame, got: pd.DataFrame) -> None:
    assert list(pd.Series(got["key"]).astype(str)) == list(pd.Series(ref["key"]).astype(str))
    for c in ("runs", "failed_runs", "cost_known"):
        np.testing.assert_array_equal(got[c].to_numpy(np.int64), ref[c].to_numpy(np.int64), err_msg=c)
    for c in ("cost_usd", "failed_cost_usd"):  # to the cent
        np.testing.assert_allclose(got[c].to_numpy(float, na_value=np.nan), ref[c].to_numpy(float, na_value=np.nan),
                                   rtol=0, atol=0.0049, err_msg=c)
    for c in ("data_processed_gb", "failed_data_processed_gb", "duration_min", "failed_duration_min"):
        np.testing.assert_allclose(got[c].to_numpy(float, na_value=np.nan), ref[c].to_numpy(float, na_value=np.nan),
                                   rtol=1e-9, err_msg=c)


def settled(qtbot, state, timeout: int = 60_000) -> None:
    """Wait until the big-history window has the answers to what it asked (its engine queries run on
    worker lanes): no query under way, the views drawn from the answers."""
    qtbot.waitUntil(lambda: state.dataset is not None and not state.pending(), timeout=timeout)
    qtbot.wait(1)
