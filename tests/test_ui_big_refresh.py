"""A filter change in big-history mode: the views on screen show the engine's answer for the new filter, a view
not on screen is brought up to date when shown, the newest filter wins, and no engine query runs on the UI thread.

A 100,000-run partitioned dataset opened in big-history mode (threshold set low), driven through the
filter bar's widgets and the window's page switch. Every expected figure is computed here with pandas
on the same runs.
"""
from __future__ import annotations

import threading

import numpy as np
import pytest

from etl_desk.core import fmt
from etl_desk.core.data.schema import FAILED

from .engine_helpers import realistic, settled, write_dataset

pytestmark = pytest.mark.slow
RUNS = 100_000


@pytest.fixture(scope="module")
def runs():
    return realistic(RUNS, seed=21, days=30)


@pytest.fixture(scope="module")
def folder(runs, tmp_path_factory):
    return write_dataset(runs, tmp_path_factory.mktemp("bigr") / "runs")


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("index"))


def open_big(window, qtbot, folder, index_dir, monkeypatch):
    from etl_desk.ui import settings as keys

    monkeypatch.setenv("ETL_DESK_INDEX_DIR", index_dir)
    win = window()
    win.settings.set(keys.BIG_HISTORY_RUNS, 1000)
    win.open_file(folder)
    qtbot.waitUntil(lambda: win.big_active and win.big.state.stage == "complete", timeout=120_000)
    settled(qtbot, win.big.state)
    return win, win.big.state, win.big.dashboard, win.big.filter_bar


def per_day(runs, col="cost_usd"):
    """Per calendar day with runs (the grouped bars, oldest first): the sum of *col*."""
    return runs.groupby(runs["start_time"].dt.normalize())[col].sum().sort_index()


def drawn_widths(chart) -> np.ndarray:
    """The lengths of the bars the chart drew (exact bars: one per day in view, top to bottom)."""
    it = chart.items["total"]
    order = np.argsort(np.asarray(it.opts["y"], dtype=float))
    return np.asarray(it.opts["width"], dtype=float)[order]


def test_a_filter_change_redraws_every_view_on_screen_with_the_engines_figures(window, qtbot, folder, index_dir,
                                                                              monkeypatch, runs):
    win, st, page, fb = open_big(window, qtbot, folder, index_dir, monkeypatch)
    fb.source.setCurrentIndex(fb.source.findText("SAP"))  # as a user picks it
    settled(qtbot, st)
    sap = runs[runs["source_system"] == "SAP"]
    assert 0 < len(sap) < RUNS
    # key figures
    assert page.kpis.text("runs") == f"{len(sap):,}"
    assert page.kpis.text("total_cost_usd") == fmt.usd(float(sap["cost_usd"].sum()))
    # the three charts: one bar per day (30 days: all on the first screen, exact bars), lengths = the day's sums
    for m in ("cost_usd", "data_processed_gb", "duration_min"):
        ch = page.charts[m]
        assert ch.level_of_detail() == 1 and not ch.stale
        np.testing.assert_allclose(drawn_widths(ch), per_day(sap, m).to_numpy(), rtol=1e-9)
    # cost over time per day: the same totals, and its summary line says so
    t = page.time_chart.timeline
    np.testing.assert_allclose(t.total, per_day(sap).to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(t.failed, per_day(sap[sap["status"] == FAILED]).reindex(per_day(sap).index,
                                                                                       fill_value=0).to_numpy(),
                               rtol=1e-9, atol=1e-9)
    # the table: one row per day, its runs column counting the SAP runs of that day
    model = page.table_model
    assert model.rowCount() == len(per_day(sap))
    runs_col = [k for k, _ in model._cols].index("runs")
    counts = sap.groupby(sap["start_time"].dt.normalize()).size().sort_index().to_numpy()
    assert [model.raw_value(r, runs_col) for r in range(model.rowCount())] == counts.tolist()


def test_a_view_not_on_screen_is_refreshed_when_shown(window, qtbot, folder, index_dir, monkeypatch, runs):
    win, st, page, fb = open_big(window, qtbot, folder, index_dir, monkeypatch)
    cost = page.charts["cost_usd"]
    before = drawn_widths(cost)
    np.testing.assert_allclose(before, per_day(runs).to_numpy(), rtol=1e-9)
    win.show_page("insights")  # the dashboard is not on screen now
    assert not cost.isVisible()
    fb.success.setChecked(False)  # failed runs only
    settled(qtbot, st)
    failed = runs[runs["status"] == FAILED]
    assert st.kpis["runs"] == len(failed)  # the state (and the Insights page's key figures) follow at once
    # the hidden charts and cost over time drew nothing: they are marked stale and keep what they showed
    assert cost.stale == "view" and page.time_chart.stale
    np.testing.assert_allclose(drawn_widths(cost), before, rtol=1e-12)
    win.show_page("dashboard")
    settled(qtbot, st)
    want = per_day(failed).to_numpy()
    for m in ("cost_usd", "data_processed_gb", "duration_min"):
        assert not page.charts[m].stale
        np.testing.assert_allclose(drawn_widths(page.charts[m]), per_day(failed, m).to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(page.time_chart.timeline.total, want, rtol=1e-9)
    assert page.kpis.text("runs") == f"{len(failed):,}"


def test_the_newest_filter_wins_and_no_query_runs_on_the_ui_thread(window, qtbot, folder, index_dir, monkeypatch,
                                                                   runs):
    from PySide6.QtCore import QThread, QThreadPool

    from etl_desk.core.engine import Engine

    win, st, page, fb = open_big(window, qtbot, folder, index_dir, monkeypatch)
    on_ui = []
    real = Engine.execute

    def execute(self, *a, **kw):
        on_ui.append(threading.current_thread() is threading.main_thread())
        return real(self, *a, **kw)

    monkeypatch.setattr(Engine, "execute", execute)
    shown = []
    st.kpisChanged.connect(lambda: shown.append(st.kpis.get("runs")))
    # three filters in a row, faster than the engine answers: only the last one's figures may land
    for name in ("SAP", "Other", "GIS"):
        fb.source.setCurrentIndex(fb.source.findText(name))
    fb.failed.setChecked(False)  # successful GIS runs
    settled(qtbot, st)
    want = runs[(runs["source_system"] == "GIS") & (runs["status"] != FAILED)]
    assert st.kpis["runs"] == len(want) and shown and set(shown) == {len(want)}
    assert int(st.view.runs.sum()) == len(want)
    np.testing.assert_allclose(drawn_widths(page.charts["cost_usd"]), per_day(want).to_numpy(), rtol=1e-9)
    # a new grouping right after a new filter: the filter's key figures still arrive (not dropped with the bars)
    fb.source.setCurrentIndex(0)  # every source, successful runs
    fb.grouping.setCurrentIndex(fb.grouping.findData("week"))
    settled(qtbot, st)
    ok = runs[runs["status"] != FAILED]
    assert st.kpis["runs"] == len(ok) and page.kpis.text("runs") == f"{len(ok):,}"
    assert st.view.spec.grouping == "week" and int(st.view.runs.sum()) == len(ok)
    # every query (key figures, totals, percentiles) ran on a worker lane, none on the UI thread
    assert on_ui and not any(on_ui)
    # the lanes are pools of their own with one thread each; the global pool keeps Qt's default size
    assert all(lane.pool.maxThreadCount() == 1 for lane in st.lanes.values())
    assert QThreadPool.globalInstance().maxThreadCount() == QThread.idealThreadCount()
