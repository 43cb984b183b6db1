"""The case-study generator: reproduces the published data set value for value.

The published notebook seeded NumPy's legacy global generator with 42 and drew,
in this order: one ``randint(1, 60)`` per job (days before "now"),
``randint(5, 120, n)`` durations in minutes, ``uniform(1, 500, n)`` GB rounded
to 2 places, ``choice(['Success', 'Failed'], n, p=[0.95, 0.05])`` and
``uniform(0.5, 10, n)`` compute hours rounded to 2 places; cost = hours x $0.25.
"Now" is :data:`REFERENCE_TIME` (the published file carries per-row microseconds
of the notebook's clock; ETL Desk uses whole seconds).

We use a private ``RandomState(42)``: it is the same legacy stream as
``numpy.random.seed(42)`` without touching global state.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from etl_desk.core.data.schema import to_canonical

REFERENCE_TIME = pd.Timestamp("2024-04-14 04:38:37")
RUNS = 1000
SEED = 42
RATE_USD_PER_COMPUTE_HOUR = 0.25


def generate_case_study(runs: int = RUNS, seed: int = SEED,
                        reference_time: pd.Timestamp | str = REFERENCE_TIME) -> pd.DataFrame:
    """The case study's synthetic job runs as a canonical table.

    *runs* rows (the published set: 1,000 with seed 42) drawn as the module docstring says:
    durations in minutes, data in GB, compute hours, cost in USD = hours x $0.25; start times
    UTC (naive) before *reference_time*. Same seed and runs -> the same table.

    Raises:
        ValueError: when *runs* < 1.
    """
    if runs < 1:
        raise ValueError("runs must be at least 1")
    rs = np.random.RandomState(seed)
    ref = pd.Timestamp(reference_time)
    days = np.array([rs.randint(1, 60) for _ in range(runs)], dtype=np.int64)
    duration = rs.randint(5, 120, runs)
    gb = rs.uniform(1, 500, runs).round(2)
    status = rs.choice(["Success", "Failed"], runs, p=[0.95, 0.05])
    hours = rs.uniform(0.5, 10, runs).round(2)
    cost = hours * RATE_USD_PER_COMPUTE_HOUR
    start = ref - pd.to_timedelta(days, unit="D")
    df = pd.DataFrame({
        "run_id": np.arange(1, runs + 1).astype(str),
        "start_time": start,
        "duration_min": duration.astype(float),
        "data_processed_gb": gb,
        "status": status,
        "compute_hours": hours,
        "cost_usd": cost,
    })
    return to_canonical(df, file="Case study (seed 42)" if seed == SEED else f"Case study (seed {seed})")
