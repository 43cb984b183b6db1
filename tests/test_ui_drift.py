"""The Insights page's Drift and Forecast & budget tabs: core's drift findings and forecast totals of the runs
in the filter, cell by cell; a filter change recomputes; a click selects the drifting pipeline's runs since
the start; the work runs off the UI thread only while a tab shows it, with progress and Cancel."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PySide6.QtCore import Qt

from etl_desk.core import fmt
from etl_desk.core.dashboard.view import ViewFilter
from etl_desk.core.data.realistic import RealisticSettings, generate_realistic
from etl_desk.core.data.schema import to_canonical
from etl_desk.core.insights.drift import detect_drift
from etl_desk.core.insights.forecast import ForecastSettings, forecast_costs
from tests.layout_check import clipped

COLS = ["pipeline", "metric_label", "pct_per_week", "extra_spend_usd", "annualised_usd", "start", "before", "now",
        "p_value"]


@pytest.fixture(scope="module")
def drifting() -> pd.DataFrame:
    # 16 pipelines over 200 days; sap-pm-maintenance-orders' cost per TB rises 5 % a week from 2 April 2024
    return generate_realistic(RealisticSettings(runs=20_000, days=200, seed=404, drift_pipelines=2,
                                                anomaly_rate=0.01))


def _open_tab(win, qtbot, df, name="drift"):
    win.set_data(df, "drifting")
    win.show_page("insights")
    page = win.insights_page
    tab = getattr(page, name)
    if name == "drift":
        with qtbot.waitSignal(tab.driftReady, timeout=30_000):
            page.left_tabs.setCurrentWidget(tab)
    else:
        page.left_tabs.setCurrentWidget(tab)
    return page, tab


def _expected(f) -> list[str]:
    """A finding's cells as a person reads them, from core's values through fmt."""
    unit = f"/{f.unit.split('/')[1]}" if "/" in f.unit else ""
    level = (lambda x: fmt.usd(x) + unit) if f.unit.startswith("$") else (lambda x: f"{fmt.number(x, 2)} {f.unit}")
    return [f.pipeline, f.metric_label,
            f"{'+' if f.pct_per_week >= 0 else '−'}{fmt.number(abs(f.pct_per_week), 1)} %",
            fmt.usd(f.extra_spend_usd, missing="unknown"), fmt.usd(f.annualised_usd, missing="unknown"),
            f"{pd.Timestamp(f.start):%d %b %Y} ({fmt.number(f.weeks, 1)} wk)",
            level(f.before) if f.before is not None else "unknown", level(f.now) if f.now is not None else "unknown",
            f"{f.p_value:.1g}" if f.p_value >= 1e-4 else "< 0.0001"]


def _cells(view) -> list[list[str]]:
    m = view.proxy
    return [[m.data(m.index(r, c)) for c in range(m.columnCount())] for r in range(m.rowCount())]


def test_drift_rows_equal_core_findings_and_a_filter_change_recomputes(window, qtbot, drifting):
    win = window()
    page, view = _open_tab(win, qtbot, drifting)
    core = detect_drift(drifting)
    assert core.findings and "sap-pm-maintenance-orders" in {f.pipeline for f in core.findings}  # the injected one
    assert _cells(view) == [_expected(f) for f in core.findings]
    assert [c for c, _ in view.model.COLUMNS] == COLS
    assert f"in {len({f.pipeline for f in core.findings})} of 16 pipelines" in view.title.text()
    assert "Mann–Kendall" in view.method.text() and "Theil–Sen" in view.method.text()
    # a filter to the GIS pipelines: core finds no drift among them at this size (the injected duration drift of
    # gis-parcel-sync is not found on 20,000 runs), so the tab says how many pipelines it tested
    with qtbot.waitSignal(view.driftReady, timeout=30_000):
        win.state.set_filter(ViewFilter(text="gis"))
    mask = np.asarray(win.state.view.row_mask, dtype=bool)
    runs = drifting.loc[mask]
    core = detect_drift(runs)
    assert core.findings == [] and _cells(view) == []
    # by hand: the 7 pipelines named gis-… (asset-inventory, imagery-tiles, network-topology, outage-map,
    # parcel-sync, vegetation-risk, work-order-geocode)
    assert runs["job_name"].nunique() == 7
    assert "No drift found in 7 pipelines" in view.title.text() and view.model.rowCount() == 0


def test_clicking_a_finding_selects_its_pipeline_runs_from_the_start(window, qtbot, drifting):
    win = window()
    page, view = _open_tab(win, qtbot, drifting)
    tv = view.table
    qtbot.waitUntil(tv.isVisible, timeout=2000)
    f = view.model.findings[0]
    idx = view.proxy.index(0, 0)
    with qtbot.waitSignal(win.state.selectionChanged, timeout=2000):
        qtbot.mouseClick(tv.viewport(), Qt.MouseButton.LeftButton, pos=tv.visualRect(idx).center())
    want = (drifting["job_name"] == f.pipeline) & (drifting["start_time"] >= pd.Timestamp(f.start))
    assert 0 < want.sum() < (drifting["job_name"] == f.pipeline).sum()
    assert np.array_equal(win.state.selection, want.to_numpy())


def _duration_drift_without_cost(days=150, per_day=12, growth_from=90, pct=6.0) -> pd.DataFrame:
    """One pipeline of 10 GB runs whose duration grows `pct` % a week from day `growth_from`; no cost column (cost unknown)."""
    rng = np.random.default_rng(3)
    n = days * per_day
    d = np.repeat(np.arange(days), per_day)
    t = pd.Timestamp("2024-01-01") + pd.to_timedelta(d, unit="D") + pd.to_timedelta(
        np.tile(np.arange(per_day) * (1440 // per_day), days), unit="min")
    dur = 10.0 * np.exp(0.05 * rng.standard_normal(n)) * np.where(d >= growth_from,
                                                                  (1 + pct / 100) ** ((d - growth_from) / 7.0), 1.0)
    return to_canonical(pd.DataFrame({"run_id": [f"R-{i}" for i in range(n)], "job_name": "P", "start_time": t,
                                      "duration_min": dur, "data_processed_gb": 10.0, "status": "Success"}),
                        unknown_cost=True)


def test_unknown_money_reads_unknown_never_zero(window, qtbot):
    df = _duration_drift_without_cost()
    core = detect_drift(df)
    assert [f.metric for f in core.findings] == ["duration_per_gb"] and core.findings[0].extra_spend_usd is None
    win = window()
    page, view = _open_tab(win, qtbot, df)
    row = _cells(view)[0]
    assert row == _expected(core.findings[0])
    assert row[3] == row[4] == "unknown" and "$0" not in " ".join(row)
    assert "No run has a known cost" in view.notes.text()


def test_drift_waits_off_screen_and_cancel_keeps_what_was_shown(window, qtbot, drifting):
    win = window()
    win.set_data(drifting, "drifting")
    win.show_page("insights")
    view = win.insights_page.drift
    assert not view.isVisible()
    view.job._run_if_changed()  # what the debounce timer calls: nothing starts while the tab is hidden
    assert not view.job.runner.busy and view.result is None
    with qtbot.waitSignal(view.driftReady, timeout=30_000):
        win.insights_page.left_tabs.setCurrentWidget(view)
    first = view.result
    view.job.run_now()
    assert view.job.runner.busy and view.progress.isVisible() and view.cancel.isVisible()
    view.cancel.click()
    assert not view.job.runner.busy and not view.cancel.isVisible()
    assert view.result is first and view.model.rowCount() == len(first.findings)


def test_closing_the_window_stops_a_running_drift_test(window, qtbot, drifting):
    win = window()
    page, view = _open_tab(win, qtbot, drifting)
    first = view.result
    view.job.run_now()
    assert view.job.runner.busy
    win.cancel_all_work()  # what closing the window does
    assert not view.job.runner.busy and not view.cancel.isVisible() and view.result is first


def _daily_runs() -> pd.DataFrame:
    """Two runs a day for 120 days up to 10 April 2024: $40 + $10 x weekday and $60."""
    days = pd.date_range(end="2024-04-10", periods=120, freq="D")
    start = np.repeat(days.to_numpy(), 2) + np.tile(np.array([2, 14], dtype="timedelta64[h]"), 120)
    dow = np.repeat(days.day_of_week.to_numpy(), 2)
    cost = np.where(np.arange(240) % 2 == 0, 40.0 + 10.0 * dow, 60.0)
    return to_canonical(pd.DataFrame({"run_id": [f"r{i}" for i in range(240)], "job_name": "p",
                                      "start_time": start, "duration_min": 10.0, "status": "Success",
                                      "cost_usd": cost}))


def test_forecast_tab_shows_the_time_views_forecast_30_day_total(window, qtbot):
    win = window()
    df = _daily_runs()
    tc = win.time_chart
    assert win.insights_page.forecast_job is tc.forecast_job  # one forecast for the window
    assert tc.forecast_job.days == 30
    win.set_data(df, "daily")
    win.show_page("insights")  # the time view is off screen: the Forecast tab alone makes the job run
    page = win.insights_page
    with qtbot.waitSignal(tc.forecast_job.resultReady, timeout=60_000):
        page.left_tabs.setCurrentWidget(page.forecast)
    tab = page.forecast
    core = forecast_costs(df, ForecastSettings(horizon_days=30), by_pipeline=False).total.period_total(30)
    t = tab.totals
    assert t.item(0, 0).text() == "30 days" and t.item(0, 1).text() == fmt.usd(core["mean"], 0)
    band = (f"{fmt.usd(core['lo80'], 0)}–{fmt.usd(core['hi80'], 0)}" if core["lo80"] is not None
            else "unknown (too few past periods this long)")
    assert t.item(0, 2).text() == band
    assert t.item(1, 1).text().startswith("beyond the 30-day forecast")  # 60 days: past the job's horizon
    # 90 days ahead, set here: one setting (the time view's box follows), and the 60/90-day totals are core's
    with qtbot.waitSignal(tc.forecast_job.resultReady, timeout=60_000):
        tab.days.setValue(90)
    assert tc.forecast_job.days == 90 and tc.forecast_controls.days.value() == 90
    core90 = forecast_costs(df, ForecastSettings(horizon_days=90), by_pipeline=False).total
    for row, days in enumerate((30, 60, 90)):
        assert t.item(row, 1).text() == fmt.usd(core90.period_total(days)["mean"], 0), days
    assert "Backtest" in tab.coverage.text()
    assert "No monthly budget set" in tab.budget_note.text() and not tab.budget_chart.isVisible()
    # a budget set on the time view: the same BudgetStatus on both, drawn here too
    with qtbot.waitSignal(tc.forecast_job.resultReady, timeout=60_000):
        assert tc.set_budget("2,000")
    st = tc.forecast_job.result.budget
    assert tab.budget_chart.isVisible() and tab.budget_chart.status is st is not None
    assert tab.budget_chart.summary.text() == tc.budget_chart.summary.text()


@pytest.mark.parametrize("size", [(1326, 708), (1366, 768), (1920, 1080)], ids=["1366x768 opened",
                                                                                "1366x768 maximised", "1920x1080"])
def test_drift_and_forecast_tabs_are_not_clipped(window, qtbot, drifting, size):
    # the page walk of tests/test_ui_layout.py sees the Insights page's first tab only: these two, filled, here
    win = window(size=size)
    page, view = _open_tab(win, qtbot, drifting)
    assert view.model.rowCount() > 0
    problems = []
    for generator in (True, False):
        win.set_generator_visible(generator)
        page.left_tabs.setCurrentWidget(view)
        qtbot.wait(30)
        problems += [f"drift: {p}" for p in clipped(win)]
        if page.forecast_job.result is None:
            with qtbot.waitSignal(page.forecast_job.resultReady, timeout=60_000):
                page.left_tabs.setCurrentWidget(page.forecast)
        page.left_tabs.setCurrentWidget(page.forecast)
        qtbot.wait(30)
        assert page.forecast.totals.item(0, 1).text().startswith("$")
        problems += [f"forecast: {p}" for p in clipped(win)]
    assert problems == []
