"""The window over the engine (big-history mode) on a 200,000-run partitioned dataset, threshold set low.

Every expected value is computed here with pandas on the same runs (the in-memory path the
window uses for small files), never copied from the engine.
"""
from __future__ import annotations

import pandas as pd
import pytest
from PySide6.QtCore import Qt

from etl_desk.core.dashboard.view import ViewFilter
from etl_desk.core.data.schema import FAILED
from etl_desk.core.insights.kpis import compute_kpis

from .engine_helpers import realistic, settled, write_dataset

pytestmark = pytest.mark.slow
RUNS = 200_000


@pytest.fixture(scope="module")
def runs():
    return realistic(RUNS, seed=11, days=40)


@pytest.fixture(scope="module")
def folder(runs, tmp_path_factory):
    return write_dataset(runs, tmp_path_factory.mktemp("big") / "runs")


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("index"))


def open_big(window, qtbot, folder, index_dir, monkeypatch, until="complete"):
    from etl_desk.ui import settings as keys

    monkeypatch.setenv("ETL_DESK_INDEX_DIR", index_dir)
    win = window()
    win.settings.set(keys.BIG_HISTORY_RUNS, 1000)
    win.open_file(folder)
    qtbot.waitUntil(lambda: win.big_active and win.big.state.stage == until, timeout=120_000)
    settled(qtbot, win.big.state)
    return win, win.big.state, win.big.dashboard


def test_kpi_strip_equals_the_pandas_path(window, qtbot, folder, index_dir, monkeypatch, runs):
    win, st, page = open_big(window, qtbot, folder, index_dir, monkeypatch)
    small = window()  # the same runs through today's in-memory path
    small.set_data(runs, "same runs")
    for key in ("runs", "success_rate", "total_cost_usd", "failed_cost_usd", "cost_per_tb_usd"):
        assert page.kpis.text(key) == small.kpis.text(key), key
    # percentiles from the index's histograms (on a worker): within their stated 0.5 % of the order statistic
    qtbot.waitUntil(lambda: st.kpis.get("duration_p50_min") is not None, timeout=30_000)
    exact = compute_kpis(runs)
    assert st.kpis["duration_p50_min"] == pytest.approx(exact["duration_p50_min"], rel=0.006)
    assert st.kpis["duration_p95_min"] == pytest.approx(exact["duration_p95_min"], rel=0.006)
    assert page.kpis.text("duration").startswith("≈ ")
    assert "histogram" in page.kpis.values["duration"].toolTip()
    # the old window's pages are hidden, not showing stale data; the status bar says what is open
    assert win.big.stack.isVisible() and not win.stack.isVisible()
    assert "200,000 runs" in win.status_label.text()


def test_status_filter_changes_kpis_to_hand_computed_values(window, qtbot, folder, index_dir, monkeypatch, runs):
    win, st, page = open_big(window, qtbot, folder, index_dir, monkeypatch)
    st.set_filter(ViewFilter(statuses=frozenset({FAILED})))
    settled(qtbot, st)
    failed = runs[runs["status"] == FAILED]
    k = st.kpis
    assert k["runs"] == len(failed) and k["failed_runs"] == len(failed)
    assert round(k["total_cost_usd"], 2) == round(float(failed["cost_usd"].sum()), 2)
    assert k["success_rate"] == 0.0
    # the grouped per-day bars follow: their runs add up to the failed runs
    assert st.view.grouped and int(st.view.runs.sum()) == len(failed)
    assert page.kpis.text("runs") == f"{len(failed):,}"
    # a source filter too (answered from the cube)
    st.set_filter(ViewFilter(sources=frozenset({"SAP"})))
    settled(qtbot, st)
    assert st.kpis["runs"] == int((runs["source_system"] == "SAP").sum())


def test_failed_runs_selection_is_a_rule_with_the_failed_count(window, qtbot, folder, index_dir, monkeypatch, runs):
    from etl_desk.core.engine.rules import Rule

    win, st, page = open_big(window, qtbot, folder, index_dir, monkeypatch)
    st.select_rule(Rule.failed())
    assert isinstance(st.selection, Rule) and st.selection.statuses == frozenset({FAILED})
    settled(qtbot, st)
    assert st.selected_count() == int((runs["status"] == FAILED).sum())
    # every day with a failed run is marked in the grouped view, from the cube
    days_with_failures = runs.loc[runs["status"] == FAILED, "start_time"].dt.normalize().nunique()
    assert int(st.selected_bars().sum()) == days_with_failures
    assert "Selected: status: Failed" in page.note.full_text


def _pandas_order(runs, key, descending):
    """The in-memory dashboard's sort rule: unknown values last in both directions, ties in run-ID
    order (these run IDs are text), ascending also when descending."""
    df = runs.copy()
    if key == "run_id":
        return df.sort_values("run_id", ascending=not descending, kind="stable").reset_index(drop=True)
    df["_unknown"] = df[key].isna()
    return df.sort_values(["_unknown", key, "run_id"], ascending=[True, not descending, True],
                          kind="stable").reset_index(drop=True)


def test_table_rows_at_a_deep_offset_equal_the_pandas_sorted_frame(window, qtbot, folder, index_dir, monkeypatch,
                                                                   runs):
    from etl_desk.ui.big.state import PAGE_ROWS

    win, st, page = open_big(window, qtbot, folder, index_dir, monkeypatch)
    st.set_grouping("run")
    settled(qtbot, st)
    model = page.table_model
    assert model.rowCount() == RUNS
    # the "#" column fits the largest position ("200,000"), not Qt's default 120 px; the run IDs fit theirs
    fm = page.table.fontMetrics()
    fits = fm.horizontalAdvance(f"{RUNS:,}")
    assert fits < page.table.columnWidth(0) <= fits + 30 < 120
    id_col = [c for c, _ in model._cols].index("run_id")
    qtbot.waitUntil(lambda: page.table.columnWidth(id_col) >= fm.horizontalAdvance(model.data(model.index(0, id_col))),
                    timeout=10_000)
    deep = 150_123
    col = [c for c, _ in model._cols].index("run_id")
    expect = _pandas_order(runs, "run_id", False)
    model.data(model.index(deep, col))  # run-ID order without a filter: read from the index at once
    assert model.data(model.index(deep, col)) == expect["run_id"].iat[deep]
    hh = page.table.horizontalHeader()
    assert hh.sortIndicatorSection() == col and hh.sortIndicatorOrder() == Qt.SortOrder.AscendingOrder
    # sorted by cost, largest first: a worker asks the engine; the row arrives by itself
    st.set_sort("cost_usd", descending=True)
    settled(qtbot, st)
    # the header's arrow follows the sort (it stayed on "#" in big mode)
    assert hh.sortIndicatorSection() == [c for c, _ in model._cols].index("cost_usd")
    assert hh.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    expect = _pandas_order(runs, "cost_usd", True)
    assert model.data(model.index(deep, col)) == "…"
    qtbot.waitUntil(lambda: deep // PAGE_ROWS in model.pages, timeout=60_000)
    got = [model.data(model.index(r, col)) for r in range(deep, deep + 5)]
    assert got == expect["run_id"].iloc[deep:deep + 5].tolist()
    cost_col = [c for c, _ in model._cols].index("cost_usd")
    assert model.data(model.index(deep, cost_col), 0x0100) == pytest.approx(expect["cost_usd"].iat[deep])


def test_cancel_during_the_index_leaves_no_broken_index_and_a_usable_window(window, qtbot, folder, monkeypatch,
                                                                          tmp_path, runs):
    from etl_desk.core.engine.backends import open_source
    from etl_desk.core.engine.index import find_index, index_dir as where
    from etl_desk.ui import settings as keys
    from etl_desk.ui.window.workers import TaskRunner

    base = tmp_path / "idx"
    monkeypatch.setenv("ETL_DESK_INDEX_DIR", str(base))
    win = window()
    before = win.kpis.text("runs")
    win.settings.set(keys.BIG_HISTORY_RUNS, 1000)
    win.open_file(folder)
    qtbot.waitUntil(lambda: win.big is not None and win.big.state.building, timeout=30_000)
    win.cancel_work()  # the status bar's Cancel, before the per-day totals exist
    assert TaskRunner.wait_all(60_000)
    qtbot.wait(50)
    src = open_source(folder)
    assert find_index(src, base) is None
    parent = where(src, base).parent
    assert not parent.exists() or not any(".partial-" in p.name for p in parent.iterdir())
    assert not win.big_active and win.kpis.text("runs") == before  # the data on screen stays
    # the window is usable: open again, the index is built in full, then cancel nothing
    win.open_file(folder)
    qtbot.waitUntil(lambda: win.big_active and win.big.state.stage == "complete", timeout=120_000)
    settled(qtbot, win.big.state)
    assert find_index(src, base) is not None
    assert win.big.state.kpis["runs"] == RUNS
    # a cancel after the per-day totals keeps the grouped view (and leaves no index behind either)
    import shutil

    shutil.rmtree(base)
    stages = []

    def cancel_at_day(stage):  # the user presses Cancel right when the per-day view appears
        stages.append(stage)
        if stage == "day":
            win.cancel_work()

    win.big.state.stageChanged.connect(cancel_at_day)
    win.open_file(folder)
    qtbot.waitUntil(lambda: "stopped" in stages, timeout=120_000)
    assert stages[:2] == ["day", "stopped"]
    assert TaskRunner.wait_all(60_000)
    qtbot.waitUntil(lambda: win.big.state.stage == "stopped", timeout=10_000)
    settled(qtbot, win.big.state)
    assert find_index(src, base) is None
    assert win.big_active and win.big.state.view.n_bars > 0
    assert win.big.dashboard.kpis.text("runs") == f"{RUNS:,}"


def test_leaving_big_mode_when_small_data_is_opened(window, qtbot, folder, index_dir, monkeypatch, case_study):
    win, st, page = open_big(window, qtbot, folder, index_dir, monkeypatch)
    win.set_data(case_study, "Case study")
    assert not win.big_active and win.stack.isVisible() and st.engine is None
    assert win.kpis.text("runs") == "1,000"


def test_other_pages_say_what_runs_on_a_big_history(window, qtbot, folder, index_dir, monkeypatch, runs, tmp_path):
    from etl_desk.core import fmt

    win, st, page = open_big(window, qtbot, folder, index_dir, monkeypatch)
    # the time view's forecast says it does not run here (its job needs the runs in memory)
    tc = page.time_chart
    assert not tc.forecast_controls.isEnabled() and "not available on a big history" in tc.coverage.text()
    # Insights: the engine's analysis, on request; per-pipeline counts as pandas counts them
    win.show_page("insights")
    ins = win.big.pages["insights"]
    assert win.big.stack.currentWidget() is ins
    ins.run_button.click()
    qtbot.waitUntil(lambda: ins.result is not None, timeout=120_000)
    got = dict(zip(ins.result["pipelines"]["key"], ins.result["pipelines"]["runs"]))
    assert got == runs["job_name"].value_counts().to_dict()
    assert "Anomalies:" in ins.report.toPlainText() and "Per pipeline" in ins.report.toPlainText()
    # Business case: says plainly it does not run here, with the measured failed-run cost
    win.show_page("business_case")
    text = win.big.pages["business_case"].text.text()
    failed_cost = float(runs.loc[runs["status"] == FAILED, "cost_usd"].sum())
    assert "not available on a big history yet" in text and fmt.usd(failed_cost) in text
    # exports refuse (no stale small data written), Copy takes the engine's key figures
    out = tmp_path / "report.xlsx"
    win.export_workbook(str(out))
    assert not out.exists()
    assert "200,000" in win.copy_kpis() or "200000" in win.copy_kpis()



def test_name_filter_and_dates_go_to_the_engine(window, qtbot, folder, index_dir, monkeypatch, runs):
    win, st, page = open_big(window, qtbot, folder, index_dir, monkeypatch)
    # a name filter the cube cannot answer: a worker scans the runs, the strip says "…" meanwhile
    st.set_filter(ViewFilter(text="inventory"))
    assert page.kpis.text("runs") == "…"
    qtbot.waitUntil(lambda: not st.kpis.get("pending"), timeout=60_000)
    hit = runs["job_name"].str.lower().str.contains("inventory") | runs["run_id"].str.lower().str.contains("inventory")
    assert st.kpis["runs"] == int(hit.sum()) > 0
    qtbot.waitUntil(lambda: st.view is not None and st.view.grouped and int(st.view.runs.sum()) == int(hit.sum()),
                    timeout=60_000)
    # a date range (whole days: from the cube at once), per run: the count is the runs in it
    start, end = pd.Timestamp(runs["start_time"].min()).normalize() + pd.Timedelta(days=3), None
    end = start + pd.Timedelta(days=7)
    st.set_grouping("run")
    st.set_filter(ViewFilter(start=start, end=end))
    settled(qtbot, st)
    inside = (runs["start_time"] >= start) & (runs["start_time"] < end)
    assert st.view.n_bars == int(inside.sum()) and st.kpis["runs"] == int(inside.sum())


def test_a_reused_index_says_it_was_found_not_built_just_now(window, qtbot, folder, index_dir, monkeypatch):
    """Reopening took 1.4 s and the status bar said "built in 20 s": the index's own build time, as if just built."""
    open_big(window, qtbot, folder, index_dir, monkeypatch)  # builds it, or finds it from an earlier test
    qtbot.wait(1_100)
    win, st, page = open_big(window, qtbot, folder, index_dir, monkeypatch)
    text = win.status_label.text()
    assert "index complete (found on disk; built 20" in text and "(built in" not in text


def test_other_columns_start_at_the_left_edge(window, qtbot, folder, index_dir, monkeypatch):
    """Scrolled sideways in the per-run table, then per pipeline: the Group column was off screen."""
    win, st, page = open_big(window, qtbot, folder, index_dir, monkeypatch)
    st.set_grouping("run")
    settled(qtbot, st)
    page.table.resize(300, 200)  # narrower than the columns: a sideways scroll bar
    bar = page.table.horizontalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0, timeout=10_000)
    bar.setValue(bar.maximum())
    st.set_grouping("pipeline")
    settled(qtbot, st)
    assert bar.value() == 0


def test_a_long_note_stays_on_one_line(window, qtbot, folder, index_dir, monkeypatch):
    """The "scanning the runs" note wrapped onto a second line while it showed and pushed the charts down."""
    win, st, page = open_big(window, qtbot, folder, index_dir, monkeypatch)
    chart_top = page.charts["cost_usd"].mapTo(page, page.charts["cost_usd"].rect().topLeft()).y()
    page._on_note("Drawing the runs in view (scanning the runs: a sort or filter the index does not hold)… " * 4)
    qtbot.wait(50)
    assert page.note.full_text.count("scanning") == 4 and page.note.text().endswith("…")
    assert page.note.toolTip() == page.note.full_text
    assert page.charts["cost_usd"].mapTo(page, page.charts["cost_usd"].rect().topLeft()).y() == chart_top
