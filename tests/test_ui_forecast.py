"""The time view's forecast (80/95 % bands) and month-vs-budget tab draw exactly what core computes;
days ahead and the budget persist; the work runs off the UI thread with progress and cancel."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from etl_desk.core.data.schema import to_canonical
from etl_desk.core.insights.budget import budget_status, parse_budget
from etl_desk.core.insights.forecast import ForecastSettings, forecast_costs
from etl_desk.ui import settings as keys

LAST_DAY = pd.Timestamp("2024-04-10")
DAYS = 120


def _runs() -> pd.DataFrame:
    """Two runs a day for 120 days up to 10 April 2024: $40 + $10 x weekday and $60 (a failed one on Mondays)."""
    days = pd.date_range(end=LAST_DAY, periods=DAYS, freq="D")
    start = np.repeat(days.to_numpy(), 2) + np.tile(np.array([2, 14], dtype="timedelta64[h]"), DAYS)
    dow = np.repeat(days.day_of_week.to_numpy(), 2)
    cost = np.where(np.arange(2 * DAYS) % 2 == 0, 40.0 + 10.0 * dow, 60.0)
    status = np.where((np.arange(2 * DAYS) % 2 == 1) & (dow == 0), "Failed", "Success")
    return to_canonical(pd.DataFrame({"run_id": [f"r{i}" for i in range(2 * DAYS)], "job_name": "p",
                                      "start_time": start, "duration_min": 10.0, "status": status,
                                      "cost_usd": cost}))


def _wait_forecast(qtbot, tc):
    with qtbot.waitSignal(tc.forecast_job.resultReady, timeout=60_000) as blocker:
        tc.forecast_job.run_now()
    return blocker.args[0]


def test_forecast_bands_and_budget_crossing_equal_core(window, qtbot, tmp_path):
    ini = tmp_path / "s.ini"
    win = window(settings_file=ini)
    df = _runs()
    win.set_data(df, "daily")
    tc = win.time_chart
    tc.forecast_controls.days.setValue(21)
    assert tc.set_budget("2,000")
    out = _wait_forecast(qtbot, tc)
    core = forecast_costs(df, ForecastSettings(horizon_days=21), by_pipeline=False).total
    fl = tc.forecast_layer
    # the curve and both bands are core's arrays, on days 120..140 after the first column (2023-12-13)
    assert list(fl.x) == list(np.arange(DAYS, DAYS + 21, dtype=float))
    x, y = fl.mean.getData()
    assert np.array_equal(y, core.frame["mean"].to_numpy(float)) and list(x) == list(fl.x)
    for name in ("lo80", "hi80", "lo95", "hi95"):
        assert np.array_equal(fl.edges[name].getData()[1], core.frame[name].to_numpy(float)), name
    bt = core.backtest
    assert f"the 80 % band held the actual cost on {round(bt.coverage80 * 100)} % of days" in tc.coverage.text()
    # the budget: April 2024, $2,000 a month; burn to 10 April = 10 days: by hand
    st = budget_status(df, parse_budget("2000"), core, ForecastSettings(horizon_days=21))
    day = df["start_time"].dt.floor("D")
    april = df[(day >= "2024-04-01")]
    assert out.budget.burn_to_date == pytest.approx(april["cost_usd"].sum()) == pytest.approx(st.burn_to_date)
    assert out.budget.crossing == st.crossing is not None
    bc = tc.budget_chart
    assert bc.crossing_day() == pd.Timestamp(st.crossing).day
    assert st.crossing in bc.summary.text() and bc.budget_line.value() == 2000.0
    assert np.array_equal(bc.forecast.getData()[1][1:], st.daily["forecast"].dropna().to_numpy(float))
    # persisted
    assert win.settings.get(keys.FORECAST_DAYS) == 21 and win.settings.get(keys.BUDGET) == "2,000"
    win.close_without_saving()
    again = window(settings_file=ini)
    assert again.time_chart.forecast_controls.days.value() == 21
    assert again.time_chart.forecast_controls.budget.text() == "2,000"


def test_bad_budget_is_refused_and_none_clears(window, qtbot):
    win = window()
    tc = win.time_chart
    assert not tc.set_budget("lots") and "cannot read the budget" in tc.forecast_controls.budget.toolTip()
    assert tc.forecast_job.budget is None
    assert tc.set_budget("") and tc.budget_chart.crossing_day() is None


def test_forecast_runs_off_the_ui_thread_with_progress_and_cancel(window, qtbot):
    win = window()
    win.set_data(_runs(), "daily")
    tc = win.time_chart
    first = _wait_forecast(qtbot, tc)
    fc = tc.forecast_controls
    tc.forecast_job.run_now()
    assert tc.forecast_job.busy and fc.progress.isVisible() and fc.cancel.isVisible()
    fc.cancel.click()
    assert not tc.forecast_job.busy and not fc.cancel.isVisible()
    assert tc.forecast_job.result is first  # what was shown stays
    assert list(tc.forecast_layer.mean.getData()[1]) == list(first.forecast.total.frame["mean"])


def test_forecast_waits_while_the_time_view_is_off_screen(window, qtbot):
    win = window()
    tc = win.time_chart
    win.show_page("insights")
    assert not tc.isVisible()
    win.set_data(_runs(), "daily")
    tc.forecast_job.job._run_if_changed()  # what the debounce timer calls: nothing starts while hidden
    assert not tc.forecast_job.busy and tc.forecast_job.result is None
    with qtbot.waitSignal(tc.forecast_job.resultReady, timeout=60_000):
        win.show_page("dashboard")
    assert len(tc.forecast_job.result.forecast.total.frame) == tc.forecast_job.days


def test_a_budget_set_from_code_shows_in_its_field(window, qtbot):
    """TimeChart.set_budget() from code (a script, the settings, another page) left the field reading
    'none' while the budget was in use."""
    win = window()
    tc = win.time_chart
    field = tc.forecast_controls.budget
    assert field.text() == ""
    assert tc.set_budget("25k/month")
    assert field.text() == "25k/month" and tc.forecast_job.budget.amount_usd == 25000.0
    assert not tc.set_budget("lots")  # refused: the field shows what was refused, marked
    assert field.text() == "lots" and "cannot read the budget" in field.toolTip()
    assert tc.set_budget("") and field.text() == "" and tc.forecast_job.budget is None
