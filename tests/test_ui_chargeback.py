"""The Chargeback tab on the Insights page: core's attribution of the runs in the filter, untagged spend
always a row and a bar, and a click on a row or a bar selects exactly its runs."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from etl_desk.core.dashboard.view import ViewFilter
from etl_desk.core.data.schema import to_canonical

# run: team tag, cost, status (hand-made: finance 3 runs $16, gis 2 runs $22, sales 1 run $4, untagged 2 runs $10)
RUNS = [("finance", 10.0, "Success"), ("finance", 5.0, "Failed"), ("gis", 20.0, "Success"), ("gis", 2.0, "Failed"),
        (None, 7.0, "Success"), (None, 3.0, "Failed"), ("finance", 1.0, "Success"), ("sales", 4.0, "Success")]


def _runs() -> pd.DataFrame:
    n = len(RUNS)
    df = to_canonical(pd.DataFrame({
        "run_id": [f"r{i}" for i in range(n)], "job_name": ["a", "b"] * (n // 2),
        "start_time": pd.date_range("2024-03-01", periods=n, freq="h"), "duration_min": [10.0] * n,
        "status": [s for _, _, s in RUNS], "cost_usd": [c for _, c, _ in RUNS],
        "tags": [f'{{"team": "{t}"}}' if t else None for t, _, _ in RUNS]}))
    return df


def _rows(view):
    return [(r.key, r.runs, r.failed_runs, r.cost_usd, r.failed_cost_usd) for r in view.model.rows]


@pytest.fixture
def cb(window, qtbot):
    win = window()
    win.set_data(_runs(), "tagged")
    win.show_page("insights")
    page = win.insights_page
    page.left_tabs.setCurrentWidget(page.chargeback)
    view = page.chargeback
    assert view.dimension.findData("tag:team") >= 0 and view.dimension.findText("Tag 'team'") >= 0
    with qtbot.waitSignal(view.attributionReady, timeout=10_000):
        view.set_dimension("tag:team")
    return win, view


def test_table_and_bars_equal_core_attribution_with_untagged_and_follow_the_filter(cb, qtbot):
    win, view = cb
    # by hand: gis 22 (2 runs, 1 failed $2), finance 16 (3, 1, $5), untagged 10 (2, 1, $3), sales 4; total 52
    assert _rows(view) == [("gis", 2, 1, 22.0, 2.0), ("finance", 3, 1, 16.0, 5.0), ("(untagged)", 2, 1, 10.0, 3.0),
                           ("sales", 1, 0, 4.0, 0.0), ("Total", 8, 3, 52.0, 10.0)]
    m = view.model
    assert m.data(m.index(2, 0)) == "untagged spend" and m.data(m.index(2, 3)) == "$10.00"
    assert m.data(m.index(2, 5)) == "19.2 %"  # 10 / 52
    assert "untagged spend <b>$10.00</b>" in view.title.text()
    # bars: one per group, the untagged one its own (hatched) bar, stacked failed part first
    assert view.bar_keys == ["gis", "finance", "sales", "(untagged)"]
    assert view.axis.names == ["gis", "finance", "sales", "untagged spend"]
    assert list(view.bars["untagged"].opts["width"]) == [10.0] and list(view.bars["untagged"].opts["y"]) == [3.0]
    assert list(view.bars["failed"].opts["width"]) == [2.0, 5.0, 0.0]
    assert list(view.bars["success"].opts["width"]) == [20.0, 11.0, 4.0]
    # the filter: failed runs only -> finance $5, untagged $3, gis $2 (sales has none)
    with qtbot.waitSignal(view.attributionReady, timeout=10_000):
        win.state.set_filter(ViewFilter(statuses=frozenset({"Failed"})))
    assert _rows(view) == [("finance", 1, 1, 5.0, 5.0), ("(untagged)", 1, 1, 3.0, 3.0), ("gis", 1, 1, 2.0, 2.0),
                           ("Total", 3, 3, 10.0, 10.0)]
    # untagged spend is shown even when there is none
    with qtbot.waitSignal(view.attributionReady, timeout=10_000):
        win.state.set_filter(ViewFilter(text="r0"))
    keys = [r[0] for r in _rows(view)]
    assert "(untagged)" in keys and "(untagged)" in view.bar_keys


def test_clicking_a_row_or_a_bar_selects_exactly_its_runs(cb, qtbot):
    win, view = cb
    tv = view.table
    qtbot.waitUntil(tv.isVisible, timeout=2000)
    idx = view.proxy.index(1, 0)  # finance
    assert view.proxy.data(idx) == "finance"
    with qtbot.waitSignal(win.state.selectionChanged, timeout=2000):
        qtbot.mouseClick(tv.viewport(), Qt.MouseButton.LeftButton, pos=tv.visualRect(idx).center())
    assert sorted(win.state.selected_run_ids()) == ["r0", "r1", "r6"]
    # a real click on the untagged bar (4th from the top)
    vb = view.plot.getPlotItem().vb
    scene = vb.mapViewToScene(QPointF(5.0, 3.0))
    pos = view.plot.mapFromScene(scene)
    with qtbot.waitSignal(win.state.selectionChanged, timeout=2000):
        qtbot.mouseClick(view.plot.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(pos.x(), pos.y()))
    assert sorted(win.state.selected_run_ids()) == ["r4", "r5"]
    # in a filter, a group selects only its runs in the filter
    with qtbot.waitSignal(view.attributionReady, timeout=10_000):
        win.state.set_filter(ViewFilter(statuses=frozenset({"Failed"})))
    assert view.select_group("finance") == 1 and win.state.selected_run_ids() == ["r1"]
    assert np.array_equal(win.state.selection, np.isin(win.state.dataset.run_id, ["r1"]))


def test_chargeback_by_the_realistic_generators_team_tags(window, qtbot):
    from etl_desk.core.data.realistic import RealisticSettings
    from etl_desk.core.insights.attribution import attribute

    win = window()
    with qtbot.waitSignal(win.dataLoaded, timeout=30_000):
        win.generate("realistic", RealisticSettings(runs=3_000, seed=3, team_tags=True))
    win.show_page("insights")
    view = win.insights_page.chargeback
    if view.attribution is None or view.attribution.total.runs != 3_000:
        qtbot.waitSignal(view.attributionReady, timeout=10_000).wait()
    assert view.dimension.currentText() == "Tag 'team'"  # a team tag is what chargeback is asked by first
    core = attribute(win.state.df, "tag:team")
    assert [(r.key, r.runs, r.cost_usd) for r in view.model.rows[:-1]] == [(r.key, r.runs, r.cost_usd)
                                                                          for r in core.rows]
    assert core.untagged.runs > 0 and view.model.rows[-1].cost_usd == pytest.approx(win.state.df["cost_usd"].sum())
