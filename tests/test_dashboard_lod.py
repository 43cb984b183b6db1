"""Level of detail and cost over time (Qt-free): values computed by hand."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from etl_desk.core.dashboard.lod import rows_to_draw
from etl_desk.core.dashboard.timeline import cost_timeline


def test_exact_bars_are_drawn_as_they_are():
    r = rows_to_draw(np.array([1.0, np.nan, 3.0]), np.array([0.0, 0.0, 3.0]), first=10, lod=1, bar_height=0.78)
    assert list(r.y) == [10, 11, 12] and list(r.total) == [1, 0, 3] and list(r.failed) == [0, 0, 3]
    assert r.height == 0.78 and list(r.envelope) == [1, 0, 3]


def test_binned_rows_are_means_with_the_largest_bar_as_envelope():
    total = np.array([1.0, 9.0, 2.0, 4.0, 5.0])
    failed = np.array([0.0, 9.0, 0.0, 0.0, 5.0])  # runs 2 and 5 failed
    r = rows_to_draw(total, failed, first=0, lod=2, bar_height=0.78)
    assert list(r.total) == [5.0, 3.0, 5.0]  # (1+9)/2, (2+4)/2, 5/1
    assert list(r.failed) == [4.5, 0.0, 5.0]
    assert list(r.envelope) == [9.0, 4.0, 5.0]
    assert list(r.y) == [0.5, 2.5, 4.0] and r.height == pytest.approx(1.96)


def test_drawn_failed_share_equals_the_failed_share_of_the_bars():
    """Full bins: the failed colour's share of drawn length is the failed share of the metric."""
    rng = np.random.default_rng(3)
    n = 100_000
    total = rng.lognormal(0, 1.2, n)
    failed = np.where(rng.random(n) < 0.038, total * rng.random(n), 0.0)
    share = failed.sum() / total.sum()
    for lod in (10, 100, 1000):  # n divisible by lod: every bin full
        r = rows_to_draw(total, failed, 0, lod, 0.78)
        assert r.failed.sum() / r.total.sum() == pytest.approx(share, rel=1e-12)
    old_max_share = np.maximum.reduceat(failed, np.arange(0, n, 1000)).sum() / \
        np.maximum.reduceat(total, np.arange(0, n, 1000)).sum()
    assert old_max_share > 5 * share  # what the old envelope (largest failed part over largest bar) showed


def test_selection_rows_show_the_mean_of_the_selected_bars():
    total = np.array([2.0, 4.0, 6.0, 8.0])
    failed = np.array([0.0, 4.0, 0.0, 0.0])
    r = rows_to_draw(total, failed, 0, 2, 0.78, selected=np.array([False, True, False, False]))
    assert list(r.selected) == [True, False]
    assert list(r.sel_total) == [4.0, 0.0] and list(r.sel_failed) == [4.0, 0.0]


def _ns(*stamps):
    return pd.to_datetime(list(stamps)).to_numpy(dtype="datetime64[ns]").view(np.int64)


def test_cost_per_day_with_failed_part_gaps_and_trend():
    start = _ns("2024-03-01 08:00", "2024-03-01 23:59", "2024-03-03 00:00", "2024-03-04 12:00")
    cost = np.array([1.0, 2.0, 4.0, np.nan])
    failed = np.array([False, True, False, True])
    t = cost_timeline(start, cost, failed, freq="day")
    assert [f"{pd.Timestamp(s):%Y-%m-%d}" for s in t.starts] == ["2024-03-01", "2024-03-02", "2024-03-03",
                                                                 "2024-03-04"]
    assert list(t.total) == [3.0, 0.0, 4.0, 0.0] and list(t.failed) == [2.0, 0.0, 0.0, 0.0]
    assert list(t.runs) == [2, 0, 1, 1]
    # least squares through (0,3), (1,0), (2,4), (3,0): x̄ = 1.5, ȳ = 1.75, Σ(x-x̄)(y-ȳ) = -2.5, Σ(x-x̄)² = 5
    assert t.slope == pytest.approx(-0.5)
    assert t.trend[0] == pytest.approx(2.5) and t.trend[3] == pytest.approx(1.0)
    assert list(t.period_of(_ns("2024-03-03 10:00", "2024-02-01 00:00"))) == [2, -1]
    assert t.label(0) == "2024-03-01"


def test_cost_per_week_starts_on_monday_and_respects_the_mask():
    start = _ns("2024-03-03 12:00", "2024-03-04 00:00", "2024-03-10 23:00", "2024-03-11 01:00")  # Sun, Mon, Sun, Mon
    t = cost_timeline(start, np.array([1.0, 2.0, 3.0, 5.0]), np.zeros(4, bool),
                      mask=np.array([True, True, True, False]), freq="week")
    assert [f"{pd.Timestamp(s):%Y-%m-%d %a}" for s in t.starts] == ["2024-02-26 Mon", "2024-03-04 Mon"]
    assert list(t.total) == [1.0, 5.0] and t.label(1) == "week of 2024-03-04"
    one = cost_timeline(start[:1], np.array([1.0]), np.zeros(1, bool))
    assert one.trend is None and one.slope is None
    with pytest.raises(ValueError, match="freq"):
        cost_timeline(start, np.ones(4), np.zeros(4, bool), freq="month")
