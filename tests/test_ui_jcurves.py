"""The Cash flows tab's J-curves: every option's cumulative net cash flow by month, payback marked.

Expected values come from core computed apart from the page (``evaluate`` on a baseline measured
here: ``Result.schedule.cumulative_net``, ``Result.payback_months``) or by hand for a solution
whose cash flows are simple enough to add up on paper.
"""
from __future__ import annotations

import copy

import numpy as np
import pytest
from PySide6.QtCore import Qt

from etl_desk.core import fmt
from etl_desk.core.business_case.assumptions import default_assumptions
from etl_desk.core.business_case.baseline import compute_baseline
from etl_desk.core.business_case.model import evaluate
from etl_desk.core.business_case.periods import weeks_to_months
from etl_desk.ui.business_case.chart import PORTFOLIO_COLOR
from etl_desk.ui.business_case.jcurves import HIGHLIGHT_WIDTH, PLAIN_WIDTH
from tests.ui_helpers import business_case_window

IDS = ["portfolio", "error-monitoring", "cost-optimisation", "parallel-processing", "data-lifecycle",
       "performance-monitoring"]


@pytest.fixture
def win(window, qtbot):
    w = business_case_window(window, qtbot)
    tabs = w.business_case_page.audience_tabs
    tabs.setCurrentIndex(next(i for i in range(tabs.count()) if tabs.tabText(i) == "Cash flows"))
    return w


@pytest.fixture(scope="module")
def baseline(case_study):
    return compute_baseline(case_study)


def _replace(page, qtbot, a):
    with qtbot.waitSignal(page.resultsChanged, timeout=5000):
        page.set_assumptions(a)


def _simple(a: dict) -> dict:
    """Solution 4 made simple: $12,000 spent over 4 weeks from the start, $1,000 a month saved from
    go-live (50 % of a confirmed $2,000 a month storage bill, no ramp, no upkeep, no growth)."""
    a = copy.deepcopy(a)
    a["global"].update(storage_confirmed=True, storage_usd_per_month=2000.0, portfolio="enabled")
    a["solutions"]["data-lifecycle"].update(people=1.0, weeks=4.0, weekly_rate_usd=3000.0, tooling_usd=0.0,
                                            maintenance_usd_per_year=0.0, maintenance_fte=0.0, effect=0.5,
                                            ramp_weeks=0.0, start_week=0.0)
    return a


def _curve(jc, rid):
    x, y = jc.curves[rid].getData()
    return (np.asarray([]), np.asarray([])) if x is None else (np.asarray(x), np.asarray(y))


def _assert_curves_are_cores(jc, case):
    h = case.horizon_months
    assert jc.options() == IDS
    for rid in IDS:
        r = case.result(rid)
        x, y = _curve(jc, rid)
        assert list(x) == list(range(h + 1))
        assert y[0] == 0.0
        np.testing.assert_allclose(y[1:], r.schedule.cumulative_net, rtol=0, atol=1e-9)
        e = jc.legend[rid]
        assert e.value.text() == fmt.usd(r.schedule.cumulative_net[-1], 0)
        mx, my = jc.payback_items[rid].getData()
        if r.payback_status == "within the horizon":
            assert list(mx) == pytest.approx([r.payback_months]) and list(my) == [0.0]
            assert e.payback.text() == f"month {r.payback_months:,.1f}"
        else:
            assert len(mx) == 0
            assert e.payback.text() in (f"not within {h} months", "nothing to pay back")


def test_each_curve_is_cores_cumulative_net_cash_flow_and_payback_is_marked(win, qtbot, baseline):
    page = win.business_case_page
    jc = page.annual.jcurves
    # the case study as it comes: no option pays back; each one is said so in the legend, none is marked
    case = evaluate(baseline, default_assumptions())
    _assert_curves_are_cores(jc, case)
    assert all(jc.legend[r].payback.text() == "not within 36 months" for r in IDS[1:])
    assert jc.legend["portfolio"].payback.text() == "nothing to pay back"  # nothing pays: the portfolio is empty
    # a set where some pay back: the curves and the markers follow the edit
    a = _simple(page.assumptions)
    _replace(page, qtbot, a)
    case = evaluate(baseline, a)
    _assert_curves_are_cores(jc, case)
    assert len(jc.payback_items["data-lifecycle"].getData()[0]) == 1


def test_a_simple_solution_by_hand(win, qtbot):
    page = win.business_case_page
    jc = page.annual.jcurves
    _replace(page, qtbot, _simple(page.assumptions))
    # by hand: go-live after 4 weeks = 4 x 7 x 12 / 365 months; the $12,000 is all spent by then, and
    # from go-live $1,000 a month comes in, so cumulative net at month m >= 1 is -12,000 + 1,000 x (m - go)
    go = 4 * 7 * 12 / 365
    assert weeks_to_months(4.0) == pytest.approx(go)
    x, y = _curve(jc, "data-lifecycle")
    for m in (1, 12, 13, 36):
        assert y[m] == pytest.approx(-12_000 + 1_000 * (m - go), abs=1e-6)
    assert y[36] == pytest.approx(23_079.45, abs=0.01)
    # pays back when 12,000 has come in: 12 months after go-live
    mx, my = jc.payback_items["data-lifecycle"].getData()
    assert mx[0] == pytest.approx(12 + go) and my[0] == 0.0
    e = jc.legend["data-lifecycle"]
    assert e.value.text() == "$23,079" and e.payback.text() == "month 12.9"


def test_switching_the_scenario_changes_the_curves(win, qtbot, baseline):
    page = win.business_case_page
    jc = page.annual.jcurves
    a = _simple(page.assumptions)
    _replace(page, qtbot, a)
    before = {rid: _curve(jc, rid)[1].copy() for rid in IDS}
    with qtbot.waitSignal(page.resultsChanged, timeout=5000):
        page.sensitivity.scenario_buttons["low"].click()  # a real click on the switch
    a["global"]["scenario"] = "low"
    case = evaluate(baseline, a)
    _assert_curves_are_cores(jc, case)
    # low: less effect, more cost -> every solution ends lower than in the base case
    for rid in IDS[1:]:
        assert _curve(jc, rid)[1][-1] < before[rid][-1]


def test_choosing_an_option_highlights_its_curve_one_selection(win, qtbot):
    page = win.business_case_page
    view = page.annual
    jc = view.jcurves
    view.option.setCurrentIndex(view.option.findData("parallel-processing"))
    assert jc.highlighted == "parallel-processing"
    widths = {rid: jc.curves[rid].opts["pen"].widthF() for rid in IDS}
    assert widths.pop("parallel-processing") == HIGHLIGHT_WIDTH
    assert set(widths.values()) == {PLAIN_WIDTH}
    assert jc.curves["parallel-processing"].zValue() > max(jc.curves[r].zValue() for r in widths)
    assert jc.legend["parallel-processing"].name.font().bold()
    # hovering a legend row emphasises that line for as long as the mouse is there; the choice stays
    jc.legend["error-monitoring"].hovered.emit("error-monitoring")
    assert jc.emphasised == "error-monitoring" and jc.curves["error-monitoring"].opts["pen"].widthF() == HIGHLIGHT_WIDTH
    assert jc.curves["parallel-processing"].opts["pen"].widthF() == PLAIN_WIDTH
    jc.legend["error-monitoring"].hovered.emit("")
    assert jc.emphasised == "parallel-processing"
    # clicking a legend row chooses the option: the combo and the table follow (one selection)
    qtbot.mouseClick(jc.legend["data-lifecycle"], Qt.MouseButton.LeftButton)
    assert view.option.currentData() == "data-lifecycle" and jc.highlighted == "data-lifecycle"
    first = view.rows()[0]
    assert view.table.item(0, 3).text() == fmt.usd(first.investment) == "$12,000.00"
    # the choice survives a re-evaluation
    with qtbot.waitSignal(page.resultsChanged, timeout=5000):
        page.set_assumption(("global", "discount_rate"), 0.1)
    assert view.option.currentData() == "data-lifecycle" and jc.highlighted == "data-lifecycle"


def test_each_option_has_its_own_colour_and_the_portfolio_its_usual_one(win):
    page = win.business_case_page
    jc = page.annual.jcurves
    colours = {rid: jc.curves[rid].opts["pen"].color().name()[:7] for rid in IDS}
    assert len(set(colours.values())) == len(IDS)
    assert colours["portfolio"] == PORTFOLIO_COLOR.lower() == page.curves["portfolio"].opts["pen"].color().name()
    # the legend swatch is the line's colour
    for rid in IDS:
        assert colours[rid] in jc.legend[rid].swatch.styleSheet().lower()


def test_longer_horizon_is_followed(win, qtbot, baseline):
    page = win.business_case_page
    jc = page.annual.jcurves
    a = _simple(page.assumptions)
    a["global"]["horizon_years"] = 5
    _replace(page, qtbot, a)
    x, _ = _curve(jc, "portfolio")
    assert x[-1] == 60 and jc._heads[1].text() == "Month 60"
    _assert_curves_are_cores(jc, evaluate(baseline, a))


def test_unknown_cost_shows_no_curve_and_says_why(win, qtbot):
    page = win.business_case_page
    df = win.state.df.head(40).copy()
    df["cost_usd"] = np.nan
    win.set_data(df, "no prices")
    qtbot.waitUntil(lambda: "Cannot measure the baseline" in page.banner.text(), timeout=30_000)
    jc = page.annual.jcurves
    assert all(len(_curve(jc, rid)[0]) == 0 for rid in IDS)
    assert all(len(p.getData()[0]) == 0 for p in jc.payback_items.values())
    assert jc.status.isVisibleTo(jc) and "No chart: the cost of doing nothing could not be measured" in jc.status.text()
    assert not jc.legend["portfolio"].isVisibleTo(jc)  # no legend of values nobody knows
    assert jc.legend["portfolio"].value.text() == "unknown"
    assert page.annual.table.rowCount() == 0 and page.annual.note.text().startswith("No cash flows:")
    # priced runs again: the chart comes back
    win.set_data(win.state.df.assign(cost_usd=1.0), "priced")
    qtbot.waitUntil(lambda: len(_curve(jc, "portfolio")[0]) == 37, timeout=30_000)
    assert jc.legend["portfolio"].isVisibleTo(jc) and not jc.status.isVisibleTo(jc)
