"""The main window: case-study dashboard, linked charts, table, selection, filter/sort/grouping."""
from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from PySide6.QtCore import QPoint, Qt

import pyqtgraph as pg

from etl_desk.core.dashboard.view import GROUPINGS, METRICS, SORT_KEYS, ViewFilter
from tests.ui_helpers import drawn


def brush_hex(chart, layer):
    return pg.mkBrush(chart.items[layer].opts["brush"]).color().name().upper()


@pytest.fixture
def win(window):
    return window()


def test_opens_on_case_study_like_the_reference(win):
    st = win.state
    assert st.view.n_bars == 1000
    assert win.kpis.text("runs") == "1,000"
    assert win.kpis.text("total_cost_usd") == "$1,315.10"
    assert win.kpis.text("failed_cost_usd").startswith("$62.59")
    assert "4.76 %" in win.kpis.text("failed_cost_usd")
    # first screen: run 1 at the top, ~44 bars, orange success / blue failed
    cost = win.charts["cost_usd"]
    y, w = drawn(cost, "total")
    assert y[0] == 0 and w[0] == pytest.approx(0.67)
    fy, fw = drawn(cost, "failed")
    assert 9 in fy  # run 10 (row 9) failed: drawn in the failed layer
    assert brush_hex(cost, "total") == "#F28E2B"
    assert brush_hex(cost, "failed") == "#4E79A7"
    i0, i1 = cost.visible_range()
    assert i0 == 0 and 40 <= i1 <= 50
    assert win.charts["cost_usd"].job_axis.tickStrings([0, 29], 1, 1) == ["1", "30"]
    assert win.table_model.rowCount() == 1000
    assert win.table_model.headerData(0, Qt.Orientation.Horizontal) == "Job ID"


def _check_consistent(win):
    v = win.state.view
    model = win.table_model
    assert model.rowCount() == v.n_bars
    labels = [v.label(i) for i in range(v.n_bars)]
    assert [model.data(model.index(i, 0)) for i in range(min(v.n_bars, 60))] == labels[:60]
    for m, chart in win.charts.items():
        assert chart.view is v
        chart._redraw()
        i0, i1 = chart.visible_range()
        y, w = drawn(chart, "total")
        if chart.level_of_detail() == 1 and v.n_bars:
            sel = (y >= i0) & (y < i1)
            np.testing.assert_allclose(w[sel], np.nan_to_num(v.totals[m][y[sel].astype(int)]))
    return labels


@pytest.mark.parametrize("grouping", list(GROUPINGS))
def test_charts_and_table_agree_for_every_filter_sort_grouping(win, grouping):
    st = win.state
    filters = [ViewFilter(), ViewFilter(statuses=frozenset({"Failed"})),
               ViewFilter(start=pd.Timestamp("2024-03-01"), end=pd.Timestamp("2024-03-15")),
               ViewFilter(text="81")]
    for f, key, desc in itertools.product(filters, SORT_KEYS, (False, True)):
        st.set_filter(f)
        st.set_sort(key, desc)
        st.set_grouping(grouping)
        _check_consistent(win)
        v = st.view
        if grouping == "run" and key in METRICS and v.n_bars > 1:
            vals = v.totals[key]
            assert np.all(np.diff(vals) <= 0) if desc else np.all(np.diff(vals) >= 0)
        if f.statuses == frozenset({"Failed"}):
            assert v.failed_runs.sum() == v.runs.sum()
        if grouping != "run":
            # aggregated bars keep the failed share
            assert np.all(v.failed_parts["cost_usd"] <= v.totals["cost_usd"] + 1e-9)
    st.set_filter(ViewFilter(statuses=frozenset({"Failed"})))
    st.set_grouping("run")
    assert st.view.n_bars == 52


def test_selecting_run_818_in_cost_chart_highlights_everywhere(win, qtbot):
    st = win.state
    st.set_sort("cost_usd", descending=True)
    cost = win.charts["cost_usd"]
    assert st.view.label(0) == "818"
    # a real click on the top bar of the Cost chart
    vb = cost.vb
    scene_pt = vb.mapViewToScene(vb.mapToView(vb.boundingRect().topLeft()) * 0 +
                                 type(vb.mapToView(vb.boundingRect().topLeft()))(0.5, 0.0))
    widget_pt = cost.mapFromScene(scene_pt)
    with qtbot.waitSignal(st.selectionChanged, timeout=2000):
        qtbot.mouseClick(cost.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(int(widget_pt.x()) + 3,
                                                                                  int(widget_pt.y())))
    assert st.selected_run_ids() == ["818"]
    for m, chart in win.charts.items():
        y, w = drawn(chart, "sel_total")
        assert list(y) == [0.0]
        fy, _ = drawn(chart, "sel_failed")
        assert list(fy) == [0.0]  # 818 failed: highlighted in the failed colour
        assert pg.mkBrush(chart.items["total"].opts["brush"]).color().alpha() < 255  # the rest dimmed
    rows = [i.row() for i in win.table.selectionModel().selectedRows()]
    assert rows == [0]
    assert win.table_model.data(win.table_model.index(0, 0)) == "818"


def test_table_selection_highlights_bars_and_back(win, qtbot):
    st = win.state
    sm = win.table.selectionModel()
    from PySide6.QtCore import QItemSelectionModel

    sm.select(win.table_model.index(4, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
              | QItemSelectionModel.SelectionFlag.Rows)
    assert st.selected_run_ids() == ["5"]
    y, _ = drawn(win.charts["duration_min"], "sel_total")
    assert list(y) == [4.0]
    # ctrl-click adds, shift-click extends a range, drag selects a range
    chart = win.charts["data_processed_gb"]
    chart.select_bar(9, Qt.KeyboardModifier.ControlModifier)
    assert sorted(st.selected_run_ids(), key=int) == ["5", "10"]
    chart.select_bar(12, Qt.KeyboardModifier.ShiftModifier)
    assert sorted(st.selected_run_ids(), key=int) == ["5", "10", "11", "12", "13"]
    chart._on_drag(18.8, 22.2, Qt.KeyboardModifier.NoModifier)  # bars 19..22 touched
    assert sorted(st.selected_run_ids(), key=int) == ["20", "21", "22", "23"]
    assert sorted(i.row() for i in win.table.selectionModel().selectedRows()) == [19, 20, 21, 22]


def test_selection_survives_sorting_and_grouping(win):
    st = win.state
    st.select_run_ids(["818", "30"])
    st.set_sort("duration_min", True)
    assert sorted(st.selected_run_ids()) == ["30", "818"]
    bars = np.flatnonzero(st.selected_bars())
    assert sorted(st.view.label(i) for i in bars) == ["30", "818"]
    st.set_grouping("month")
    labels = {st.view.label(i) for i in np.flatnonzero(st.selected_bars())}
    df = st.df
    months = set(df.loc[df["run_id"].isin(["30", "818"]), "start_time"].dt.strftime("%Y-%m"))
    assert labels == months and len(labels) >= 1


def test_scrolling_one_chart_scrolls_all(win):
    a, b, c = (win.charts[m] for m in METRICS)
    a.vb.scroll_by(100)
    for ch in (b, c):
        assert ch.vb.viewRange()[1] == pytest.approx(a.vb.viewRange()[1])
    b.vb.scaleBy((1, 4))
    assert a.vb.viewRange()[1] == pytest.approx(b.vb.viewRange()[1])


def test_hover_tooltip_describes_the_run(win):
    cost = win.charts["cost_usd"]
    assert cost.bar_at(0.3, 0.0) == 0
    assert cost.bar_at(0.3, 0.5) == -1  # between bars
    html = cost.tooltip_html(29)
    assert "30" in html and "Failed" in html and "$2.47" in html and "441.57 GB" in html


def test_level_of_detail_at_scale(win, qtbot):
    from etl_desk.core.data.generate import generate

    df = generate("realistic", runs=200_000, seed=3)
    win.set_data(df, "big")
    cost = win.charts["cost_usd"]
    cost.vb.setYRange(0, 200_000, padding=0)
    cost._redraw()
    y, w = drawn(cost, "total")
    assert cost.level_of_detail() > 1
    assert len(y) <= cost.vb.height() + 2  # never more rectangles than pixel rows
    # the envelope keeps the biggest bar of each bin
    _, env = drawn(cost, "envelope")
    assert env.max() == pytest.approx(np.nanmax(win.state.view.totals["cost_usd"]))
    cost.vb.setYRange(1000, 1030, padding=0)
    cost._redraw()
    assert cost.level_of_detail() == 1
    y, w = drawn(cost, "total")
    np.testing.assert_allclose(w, win.state.view.totals["cost_usd"][y.astype(int)])


def test_filter_bar_drives_the_state(win, qtbot):
    fb = win.filter_bar
    fb.success.setChecked(False)
    assert win.state.view.n_bars == 52
    assert win.kpis.text("runs") == "52"
    fb.success.setChecked(True)
    fb.grouping.setCurrentIndex(fb.grouping.findData("day"))
    assert win.state.view.grouped and win.table_model.headerData(0, Qt.Orientation.Horizontal) == "Group"
    fb.text.setText("818")
    qtbot.waitUntil(lambda: win.state.spec.filter.text == "818", timeout=2000)


def test_table_header_click_sets_shared_sort(win):
    col = [win.table_model.column_key(c) for c in range(win.table_model.columnCount())].index("cost_usd")
    win.table.sortByColumn(col, Qt.SortOrder.DescendingOrder)
    assert win.state.spec.sort_key == "cost_usd" and win.state.spec.descending
    assert win.filter_bar.sort.currentData() == "cost_usd"
    assert win.state.view.label(0) == "818"


def test_chart_export_png_and_svg(win, tmp_path):
    for ext in ("png", "svg"):
        p = tmp_path / f"cost.{ext}"
        win.charts["cost_usd"].export_image(str(p))
        assert p.exists() and p.stat().st_size > 1000


def test_header_and_axis_follow_the_shared_sort_and_grouping(win):
    st = win.state
    st.set_grouping("pipeline")
    st.set_sort("cost_usd", descending=True)
    hh = win.table.horizontalHeader()
    key = win.table_model.column_key(hh.sortIndicatorSection())
    assert key == "cost_usd" and hh.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    assert win.charts["cost_usd"].getPlotItem().getAxis("left").labelText == "Pipeline"
    st.set_grouping("run")
    assert win.charts["cost_usd"].getPlotItem().getAxis("left").labelText == "Job ID"


def test_value_axis_ticks_are_short_and_formatted(win):
    ax = win.charts["cost_usd"].value_axis
    ax.setRange(0, 2.6)
    assert ax.tickStrings([0.5, 1.0], 1, 0.5) == ["$0.50", "$1.00"]
    assert ax.tickStrings([1.0, 2.0], 1, 1.0) == ["$1.00", "$2.00"]  # every level alike
    ax.setRange(0, 120)
    assert ax.tickStrings([20, 40], 1, 20) == ["$20", "$40"]
    ax.setRange(0, 45_000)
    assert ax.tickStrings([20_000, 40_000], 1, 20_000) == ["$20.0k", "$40.0k"]
    assert win.charts["data_processed_gb"].value_axis.tickStrings([1000, 2000], 1, 1000) == ["1,000", "2,000"]


def test_level_of_detail_follows_the_chart_height(win, qtbot):
    """A chart squeezed below one pixel row per bar bins its bars; given room again it draws exact bars."""
    cost = win.charts["cost_usd"]
    cost.vb.setYRange(0, 200, padding=0)
    tall = cost.vb.height()
    assert tall > 200 and cost.level_of_detail() == 1
    win.dashboard.resizeDocks([win.chart_docks["cost_usd"], win.table_dock], [90, 2000], Qt.Orientation.Vertical)
    qtbot.waitUntil(lambda: cost.vb.height() < 150, timeout=3000)
    assert cost.level_of_detail() > 1  # redrawn on resize, not only on scroll
    y, _ = drawn(cost, "total")
    assert len(y) <= cost.vb.height() + 2
    win.dashboard.resizeDocks([win.chart_docks["cost_usd"], win.table_dock], [2000, 90], Qt.Orientation.Vertical)
    qtbot.waitUntil(lambda: cost.vb.height() > 230, timeout=3000)
    assert cost.level_of_detail() == 1


def test_job_labels_all_when_rows_are_tall_enough_else_evenly_thinned(win):
    cost = win.charts["cost_usd"]
    ax = cost.job_axis
    h = ax.label_height()
    # 20 runs in 400 px: every label
    ticks = ax.tickValues(-0.5, 19.5, 400)
    assert ticks[0][1] == list(range(20))
    # 300 runs in 400 px: evenly thinned, never closer than a label's height
    (step, values), = ax.tickValues(-0.5, 299.5, 400)
    assert step > 1 and set(np.diff(values)) == {step}
    assert step * 400 / 300 >= h
    assert ax.tickStrings(values[:3], 1, step) == [win.state.view.label(v) for v in values[:3]]


def test_the_legend_is_outside_the_plots(win):
    from etl_desk.core.data.schema import FAILED, SUCCESS

    for chart in win.charts.values():
        assert not [i for i in chart.getPlotItem().items if isinstance(i, pg.LegendItem)]
        assert not [i for i in chart.getPlotItem().vb.childItems() if isinstance(i, pg.LegendItem)]
    legend = win.dashboard.legend
    texts = [lab.text() for lab in legend.findChildren(type(legend.note))]
    assert "<b>Job Status</b>" in texts and SUCCESS in texts and FAILED in texts
    # the strip is above the charts, not over them
    top_of_charts = min(c.mapTo(win, c.rect().topLeft()).y() for c in win.charts.values())
    assert legend.mapTo(win, legend.rect().bottomLeft()).y() <= top_of_charts


def test_time_axis_labels_whole_days_only(win, qtbot):
    """Two runs on two days: the axis once showed "2024-09-01" twice (a tick between the columns)."""
    df = win.state.df.head(2).copy()
    df["start_time"] = pd.to_datetime(["2024-09-01 02:00", "2024-09-02 02:00"])
    df["end_time"] = df["start_time"] + pd.Timedelta(minutes=30)
    win.set_data(df, "two days")
    ax = win.time_chart.plot.getPlotItem().getAxis("bottom")
    for lo, hi, px in ((-0.5, 1.5, 600), (-0.5, 1.5, 120), (-3.0, 40.0, 900)):
        labels = [s for sp, vals in ax.tickValues(lo, hi, px) for s in ax.tickStrings(vals, 1.0, sp) if s]
        assert len(labels) == len(set(labels)), labels
        assert all(len(s) == 10 for s in labels)
    shown = [s for sp, vals in ax.tickValues(-0.5, 1.5, 600) for s in ax.tickStrings(vals, 1.0, sp)]
    assert sorted(set(shown)) == ["2024-09-01", "2024-09-02"]
