"""The Solutions tab: assumptions drive the results and the chart; portfolio; files; persistence."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtCore import QSettings

from etl_desk.ui.settings import ASSUMPTIONS, Settings
from etl_desk.core.business_case.periods import PERIODS, per_period
from etl_desk.core.business_case.model import business_case
from etl_desk.core.business_case.assumptions import default_assumptions


def _settle(win, qtbot):
    tab = win.business_case_page
    if tab.case is None:
        with qtbot.waitSignal(tab.resultsChanged, timeout=15_000):
            pass
    return tab


@pytest.fixture
def win(window, qtbot):
    w = window()
    _settle(w, qtbot)
    return w


def _every_ticked_solution(tab, qtbot, **global_over) -> None:
    """Portfolio rule 'enabled' (every ticked solution, whether it pays or not) and any other global inputs.

    The default rule keeps only the NPV-maximising set, which for the small case study is none."""
    for key, value in {"portfolio": "enabled", **global_over}.items():
        with qtbot.waitSignal(tab.resultsChanged, timeout=5000):
            tab.set_assumption(key, value)


def _cell(table, row_label: str, col: int) -> str:
    for r in range(table.rowCount()):
        if table.verticalHeaderItem(r).text().strip() == row_label:
            return table.item(r, col).text()
    raise KeyError(row_label)


def test_shows_the_business_case_of_the_data(win, qtbot):
    tab = win.business_case_page
    assert tab.case.members == ()  # by default only what pays: nothing, for the case study
    _every_ticked_solution(tab, qtbot)
    case = tab.case
    assert case.baseline.runs == 1000
    a = default_assumptions()
    a["global"]["portfolio"] = "enabled"
    expected = business_case(win.state.df, a)
    assert case.portfolio.investment_usd == pytest.approx(expected.portfolio.investment_usd)
    assert case.portfolio.npv_usd == pytest.approx(expected.portfolio.npv_usd)
    assert [tab.audience_tabs.tabText(i) for i in range(tab.audience_tabs.count())] == \
        ["Decision", "IT leadership", "Finance", "Operations", "Scenarios", "Cash flows", "Realised"]
    port_col = 0  # the portfolio comes first
    assert _cell(tab.finance_table, "Investment (one-off)", port_col) == "$137,200"
    # maintenance per period with the exact identities
    per = per_period(case.portfolio.maintenance_year)
    maint_rows = [r for r in range(tab.finance_table.rowCount())
                  if tab.finance_table.verticalHeaderItem(r).text().strip().startswith("per ")]
    assert len(maint_rows) == 10  # maintenance and savings, five periods each
    shown = [tab.finance_table.item(r, port_col).text() for r in maint_rows[:5]]
    assert shown == [f"${per[p]:,.2f}" for p in PERIODS]
    assert tab.it_table.rowCount() == 6
    # the chart: doing nothing vs the portfolio over the horizon
    x, y = tab.curves["do_nothing"].getData()
    assert len(x) == case.horizon_months + 1
    np.testing.assert_allclose(y, case.do_nothing_cumulative)
    # the case-study estate is small: the default portfolio does not pay back, and says so
    assert case.portfolio.payback_months is None
    assert "No break-even" in tab.chart_status.text()
    # upkeep exceeds savings: the cumulative net falls for good, core's status "never"
    assert case.portfolio.payback_status == "never" and _cell(tab.finance_table, "Payback", port_col) == "never"
    assert tab.finance_table.horizontalHeaderItem(0).text().startswith("Portfolio")


def test_editing_an_assumption_updates_results_and_chart(win, qtbot):
    tab = win.business_case_page
    _every_ticked_solution(tab, qtbot, storage_confirmed=True)  # the storage bill counts once confirmed
    before = tab.case
    dn_before = before.do_nothing_cumulative[-1]
    # a real edit in the storage spin box (USD per month): doing nothing gets dearer
    spin = tab.editors[("global", "storage_usd_per_month")]
    with qtbot.waitSignal(tab.resultsChanged, timeout=5000):
        spin.setValue(50_000)
    assert tab.assumptions["global"]["storage_usd_per_month"] == 50_000
    case = tab.case
    assert case.do_nothing_cumulative[-1] > dn_before
    _, y = tab.curves["do_nothing"].getData()
    np.testing.assert_allclose(y, case.do_nothing_cumulative)
    # data lifecycle (acts on storage) now pays back: the break-even point is marked on the chart
    assert case.portfolio.payback_months is not None
    bx, by = tab.break_even_item.getData()
    assert bx[0] == pytest.approx(case.portfolio.payback_months)
    assert by[0] == pytest.approx(np.interp(bx[0], np.arange(len(y)), y))
    assert "Break-even" in tab.break_even_label.textItem.toPlainText()
    assert "Break-even after" in tab.chart_status.text()
    # a fraction shown as a percentage in the editor, stored as a fraction
    with qtbot.waitSignal(tab.resultsChanged, timeout=5000):
        tab.set_assumption(("solutions", "data-lifecycle", "effect"), 0.6)
    assert tab.editors[("solutions", "data-lifecycle", "effect")].value() == pytest.approx(60)
    lifecycle = next(r for r in tab.case.solutions if r.id == "data-lifecycle")
    assert lifecycle.savings_year == pytest.approx(0.6 * 50_000 * 12)
    with qtbot.waitSignal(tab.resultsChanged, timeout=5000):
        tab.set_assumption("discount_rate", 0.2)
    assert tab.case.assumptions["global"]["discount_rate"] == 0.2
    with pytest.raises(ValueError, match="discount_rate"):
        tab.set_assumption("discount_rate", 5.0)
    assert tab.assumptions["global"]["discount_rate"] == 0.2


def test_unchecking_a_solution_changes_the_portfolio(win, qtbot):
    tab = win.business_case_page
    _every_ticked_solution(tab, qtbot)
    inv = tab.case.portfolio.investment_usd
    cb = tab.solution_checks["parallel-processing"]
    with qtbot.waitSignal(tab.resultsChanged, timeout=5000):
        cb.click()
    assert not tab.assumptions["solutions"]["parallel-processing"]["enabled"]
    par = next(r for r in tab.case.solutions if r.id == "parallel-processing")
    assert tab.case.portfolio.investment_usd == pytest.approx(inv - par.investment_usd)
    assert "not selected" in tab.finance_table.horizontalHeaderItem(3).text()
    assert "Portfolio of 4 solutions" in tab.banner.text()
    for sid, c in tab.solution_checks.items():
        if c.isChecked():
            with qtbot.waitSignal(tab.resultsChanged, timeout=5000):
                c.click()
    assert not tab.case.portfolio.enabled
    assert "No solution selected" in tab.banner.text()
    _, y = tab.curves["portfolio"].getData()
    np.testing.assert_allclose(y, tab.case.do_nothing_cumulative)


def test_banner_names_the_portfolio_members_not_the_ticked_count(win, qtbot):
    """With the default rule (NPV-maximising) the case study's portfolio is empty although all five are ticked."""
    tab = win.business_case_page
    assert all(c.isChecked() for c in tab.solution_checks.values())
    if tab.case.members:
        pytest.skip("the case study's NPV-maximising portfolio is not empty with these defaults")
    text = tab.banner.text()
    assert "Portfolio of" not in text and "No ticked solution pays back" in text
    assert "No solution in the portfolio" in tab.chart_view.status.text()
    _every_ticked_solution(tab, qtbot)
    n = len(tab.case.members)
    assert n == 5 and f"Portfolio of {n} solutions</b> (1, 2, 3, 4, 5)" in tab.banner.text()


def test_save_load_round_trip_and_bad_file(win, qtbot, tmp_path):
    tab = win.business_case_page
    with qtbot.waitSignal(tab.resultsChanged, timeout=5000):
        tab.set_assumption(("solutions", "error-monitoring", "people"), 3.0)
    for suffix in ("toml", "json"):
        p = tmp_path / f"a.{suffix}"
        assert tab.save_assumptions(p)
        saved = tab.assumptions
        with qtbot.waitSignal(tab.resultsChanged, timeout=5000):
            tab.set_assumptions(default_assumptions())
        assert tab.assumptions["solutions"]["error-monitoring"]["people"] == 1.5
        with qtbot.waitSignal(tab.resultsChanged, timeout=5000):
            assert tab.load_assumptions(p)
        assert tab.assumptions == saved
        assert tab.editors[("solutions", "error-monitoring", "people")].value() == 3.0
    # a bad file: error names the key, the current assumptions stay
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"solutions": {"error-monitoring": {"effect": 1.5}}}))
    current = tab.assumptions
    with qtbot.waitSignal(tab.errorReported, timeout=2000) as blocker:
        assert not tab.load_assumptions(bad)
    msg = blocker.args[0]
    assert "solutions.error-monitoring.effect" in msg and "bad.json" in msg
    assert tab.assumptions == current
    assert "solutions.error-monitoring.effect" in tab.error_label.text()
    assert not tab.error_label.isHidden()
    bad = tmp_path / "bad.toml"
    bad.write_text("[global]\nnot_a_key = 3\n")
    assert not tab.load_assumptions(bad)
    assert "global.not_a_key" in tab.last_error
    assert tab.assumptions == current


def test_assumptions_persist_across_window_close_and_reopen(window, qtbot, tmp_path):
    ini = tmp_path / "persist.ini"
    w1 = window(ini)
    tab = _settle(w1, qtbot)
    with qtbot.waitSignal(tab.resultsChanged, timeout=5000):
        tab.set_assumption("horizon_years", 5)
    with qtbot.waitSignal(tab.resultsChanged, timeout=5000):
        tab.solution_checks["data-lifecycle"].click()
    w1.close()
    stored = Settings(QSettings(str(ini), QSettings.Format.IniFormat)).get(ASSUMPTIONS)
    assert stored["global"]["horizon_years"] == 5
    w2 = window(ini)
    tab2 = _settle(w2, qtbot)
    assert tab2.assumptions["global"]["horizon_years"] == 5
    assert tab2.assumptions["solutions"]["data-lifecycle"]["enabled"] is False
    assert not tab2.solution_checks["data-lifecycle"].isChecked()
    assert tab2.editors[("global", "horizon_years")].value() == 5
    assert tab2.case.horizon_months == 60


def test_baseline_follows_the_filter(win, qtbot):
    from etl_desk.core.dashboard.view import ViewFilter

    tab = win.business_case_page
    with qtbot.waitSignal(tab.resultsChanged, timeout=10_000):
        win.state.set_filter(ViewFilter(statuses=frozenset({"Failed"})))
    assert tab.case.baseline.runs == 52
    assert "52 runs" in tab.baseline_label.text()


def test_one_assumptions_model_feeds_the_page_the_copy_and_the_export(win, qtbot, tmp_path):
    """An assumption edited on the page is what the Copy action and the workbook export use."""
    import openpyxl

    from etl_desk.core import fmt

    tab = win.business_case_page
    assert tab.model is win.assumptions
    with qtbot.waitSignal(tab.resultsChanged, timeout=5000):
        tab.editors[("solutions", "error-monitoring", "people")].setValue(3.0)
    assert win.assumptions.value(("solutions", "error-monitoring", "people")) == 3.0
    em = next(r for r in tab.case.solutions if r.id == "error-monitoring")
    text = win.exports.copy_business_case()
    line = next(x for x in text.splitlines() if "Proactive error monitoring" in x or "error monitoring" in x.lower())
    assert fmt.usd(em.investment_usd, 0) in line and em.investment_usd == 36_000  # 3 people, not the default 1.5
    out = tmp_path / "r.xlsx"
    with qtbot.waitSignal(win.exportFinished, timeout=120_000):
        win.export_workbook(str(out))
    wb = openpyxl.load_workbook(out, read_only=True)
    # column F holds each input's key in an assumptions file, column B its value
    rows = {r[5]: r[1] for r in wb["Assumptions"].iter_rows(values_only=True) if r and len(r) > 5 and r[5]}
    wb.close()
    assert rows["solutions.error-monitoring.people"] == 3.0


def test_operations_is_readable_and_its_diagram_fits_and_zooms(win, qtbot):
    tab = win.business_case_page
    win.show_page("business_case")
    tab.audience_tabs.setCurrentIndex(tab.audience_tabs.indexOf(tab.operations))
    ops = tab.operations
    qtbot.waitUntil(lambda: ops.diagram.isVisible(), timeout=3000)
    # no text column narrower than its longest word
    fm = ops.list.fontMetrics()
    longest = max(fm.horizontalAdvance(w) for s in ops.solutions for w in f"{s.number}. {s.name}".split())
    assert ops.list.width() >= longest + 20
    assert ops.text.viewport().width() >= max(fm.horizontalAdvance(w) for w in ops.text.toPlainText().split())
    # the diagram is scaled to fit its pane, whole, then zooms
    d = ops.diagram
    r, view = d.content_rect(), d.viewport().rect()
    assert view.adjusted(-2, -2, 2, 2).contains(r.toRect()) and (r.width() >= view.width() * 0.9
                                                               or r.height() >= view.height() * 0.9)
    before = d.scale_factor()
    ops.zoom_buttons["in"].click()
    assert d.scale_factor() == pytest.approx(before * 1.25)
    ops.zoom_buttons["fit"].click()
    assert d.scale_factor() == pytest.approx(before)
    ops.list.setCurrentRow(3)
    assert "Data lifecycle" in ops.diagram_title.text() and "Data lifecycle" in ops.text.toPlainText()
