"""Checks that look at a column's first values before the whole column (a load of 1M rows must not
pay for a full pass when the first values settle it) still decide by the whole column.

Guards, written with the change that samples them: each passes before and after it; they pin that a
sample may only ever rule a column *out*, never in.
"""
from __future__ import annotations

import pytest

from etl_desk.core.data.loaders import load_path
from etl_desk.core.errors import DataError

HEADER = "Job ID,Job Name,Source System,Start Time,End Time,Duration (min),Data Processed (GB),Job Status,Cost (USD)\n"


def _write(path, costs, starts=None):
    lines = [HEADER]
    for i, c in enumerate(costs):
        start = starts[i] if starts else f"2024-05-{1 + i % 28:02d} 10:00:00"
        lines.append(f"r{i},pipe,SAP,{start},,30,1.5,Success,{c}\n")
    path.write_text("".join(lines))
    return path


def test_thousands_lookalikes_past_the_sample_are_still_asked_about(tmp_path):
    # 6,000 costs that all read two ways (1.250 = 1.25 or 1,250): the first 4,096 do not settle it
    costs = ["1.250", "2.500", "3.125", "7.375"] * 1500
    with pytest.raises(DataError, match="cannot tell how to read the numbers"):
        load_path(_write(tmp_path / "all.csv", costs))


def test_one_plain_decimal_after_the_sample_settles_the_column(tmp_path):
    costs = ["1.250", "2.500", "3.125", "7.375"] * 1500
    costs[5_000] = "1234.5"  # a decimal no thousands reading allows: the whole column reads as decimals
    df = load_path(_write(tmp_path / "late.csv", costs))
    assert df["cost_usd"].iloc[0] == 1.25 and df["cost_usd"].iloc[5_000] == 1234.5


def test_day_first_dates_with_blanks_around_them_are_read_day_first(tmp_path):
    starts = [" 19/05/2024 10:00 ", "02/05/2024 09:30", " 07/05/2024 08:00"]
    df = load_path(_write(tmp_path / "dmy.csv", ["10.5", "11.25", "12.75"], starts))
    assert [str(d.date()) for d in df["start_time"]] == ["2024-05-19", "2024-05-02", "2024-05-07"]
