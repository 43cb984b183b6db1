"""The Charts sheet's cost-per-period buckets: weeks start on Monday, with no pandas deprecation on the way."""
from __future__ import annotations

import warnings

import pandas as pd

from etl_desk.core.workbook.charts import _period


def test_weekly_buckets_start_on_monday_without_a_deprecation_warning():
    # 200 days of runs: more than 120 days, less than two years -> weekly buckets
    start = pd.Series(pd.to_datetime(["2024-01-03 10:00", "2024-01-07 23:59", "2024-07-20 08:00"]))
    df = pd.DataFrame({"start_time": start})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Series.dt.weekday warns under pandas 3 (Pandas4Warning)
        unit, bucket = _period(df)
    assert unit == "week"
    # by hand: Wed 3 Jan and Sun 7 Jan 2024 are in the week of Mon 1 Jan; Sat 20 Jul in the week of Mon 15 Jul
    assert list(bucket) == list(pd.to_datetime(["2024-01-01", "2024-01-01", "2024-07-15"]))
