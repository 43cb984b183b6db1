"""The Business case page renders core's appraisal: decision, scenario switch, tornado, annual roll-up,
payback after the horizon, human labels in the form, and the report PDF from the File menu.

Expected values come from core computed independently of the page (``evaluate`` on a baseline
measured here, ``sensitivity``, ``annual_rollup``) or by hand (month counts of fiscal years).
"""
from __future__ import annotations

import copy

import numpy as np
import pytest
from PySide6.QtCore import QDate
from PySide6.QtWidgets import QComboBox, QLabel

from etl_desk.core import fmt
from etl_desk.core.business_case.assumptions import default_assumptions
from etl_desk.core.business_case.baseline import compute_baseline
from etl_desk.core.business_case.cashflows import annual_rollup
from etl_desk.core.business_case.decision import ranking
from etl_desk.core.business_case.model import evaluate
from etl_desk.core.business_case.scenarios import sensitivity, tornado
from etl_desk.core.errors import DataError
from tests.ui_helpers import business_case_window


@pytest.fixture
def win(window, qtbot):
    return business_case_window(window, qtbot)


@pytest.fixture(scope="module")
def baseline(case_study):
    return compute_baseline(case_study)


def _set(page, qtbot, path, value):
    with qtbot.waitSignal(page.resultsChanged, timeout=5000):
        page.set_assumption(path, value)


def _column(table, header: str) -> int:
    return next(c for c in range(table.columnCount())
                if table.horizontalHeaderItem(c).text().replace("\n", " ") == header)


def _row_of(table, text: str) -> int:
    return next(r for r in range(table.rowCount()) if table.item(r, 1).text().startswith(text))


def test_decision_tab_comes_first_and_ranks_the_options_by_npv(win, baseline):
    page = win.business_case_page
    assert page.audience_tabs.currentIndex() == 0 and page.audience_tabs.tabText(0) == "Decision"
    case = evaluate(baseline, default_assumptions())
    t = page.decision.table
    npv = _column(t, "NPV")
    # the five solutions by NPV (highest first), then the portfolio
    order = ranking(case)
    assert [t.item(r, 1).text() for r in range(5)] == [f"{r.number}. {r.name}" for r in order]
    assert [t.item(r, npv).text() for r in range(5)] == [fmt.usd(r.npv_usd, 0) for r in order]
    assert t.item(5, 1).text() == "Portfolio"
    # nothing pays back on the case study: said plainly, with the spend at which each option would
    text = page.decision.statement.text()
    assert "No option pays back within the 36-month horizon" in text
    sol1 = next(r for r in case.solutions if r.number == 1)
    spend = page.appraisal.decision.options[[o.number for o in page.appraisal.decision.options].index(1)]
    assert fmt.usd(spend.target_needed_usd_per_year, 0) in text
    # switching value of solution 1 by hand: PV of costs / (target x PV of $1 a year of target at effect 1)
    pv_unit = float(np.sum(sol1.units["rf"][:36] * sol1.discount_full[:36]) / 12)
    needed = sol1.pv_costs / (sol1.target_usd_per_year * pv_unit)
    row = _row_of(t, "1. ")
    assert t.item(row, _column(t, "Pays back if the effect is ≥")).text().startswith(fmt.pct(needed, 0))
    assert "impossible" in t.item(row, _column(t, "Pays back if the effect is ≥")).text()  # needs > 100 %
    assert t.item(row, _column(t, "IRR (a year)")).text() == "not defined"
    # risks and provenance are core's
    assert "storage bill ($12,000 a year) is an assumption" in page.decision.risks.text()
    assert "1,000 runs" in page.decision.provenance.text() and "Case study" in page.decision.provenance.text()
    assert "NPV-maximising" in page.decision.warnings.text()


def test_scenario_switch_changes_the_npv_to_cores_value_for_that_scenario(win, qtbot, baseline):
    page = win.business_case_page
    sens = page.sensitivity
    assert sens.scenario_buttons["base"].isChecked()
    t = page.decision.table
    npv = _column(t, "NPV")
    for scenario in ("high", "low"):
        with qtbot.waitSignal(page.resultsChanged, timeout=5000):
            sens.scenario_buttons[scenario].click()  # a real click on the switch
        assert page.assumptions["global"]["scenario"] == scenario
        a = default_assumptions()
        a["global"]["scenario"] = scenario
        expected = evaluate(baseline, a)
        row = _row_of(t, "2. ")
        assert t.item(row, npv).text() == fmt.usd(expected.result("cost-optimisation").npv_usd, 0)
        # the form's combo follows, with the human label
        combo = page.editors[("global", "scenario")]
        assert combo.currentData() == scenario and combo.currentText() == scenario.capitalize()
        assert sens.scenario_buttons[scenario].isChecked()
    # the scenario table shows all three, whatever the switch: base NPV of solution 2 by core
    base = evaluate(baseline, default_assumptions()).solutions[1]
    st = sens.scenario_table
    col = next(c for c in range(st.columnCount()) if st.horizontalHeaderItem(c).text() == "NPV base")
    assert st.item(1, col).text() == fmt.usd(base.npv_usd, 0)


def test_tornado_bars_equal_core_sensitivity_rows(win, qtbot, baseline):
    page = win.business_case_page
    view = page.sensitivity
    a = default_assumptions()
    case = evaluate(baseline, a)
    rows = sensitivity(case)
    for oid in ("error-monitoring", "portfolio"):
        view.option.setCurrentIndex(view.option.findData(oid))
        want = tornado(rows, oid)
        shown = view.tornado_rows()
        assert [r.input for r in shown] == [r.input for r in want]
        # largest swing on top: y of the low bars falls as the swing falls
        lo, hi = view.bars["low"].opts, view.bars["high"].opts
        np.testing.assert_allclose(lo["x1"], [r.npv_low for r in want])
        np.testing.assert_allclose(hi["x1"], [r.npv_high for r in want])
        np.testing.assert_allclose(lo["x0"], [r.npv_base for r in want])
        assert list(np.argsort(-np.asarray(lo["y"]))) == list(range(len(want)))
        swings = [abs(r.npv_high - r.npv_low) for r in want]
        assert swings == sorted(swings, reverse=True) or oid == "portfolio"
        t = view.sens_table
        assert [t.item(i, 0).text() for i in range(t.rowCount())] == [r.label for r in want]
        assert [t.item(i, 3).text() for i in range(t.rowCount())] == [fmt.usd(r.npv_low, 0) for r in want]
        assert [t.item(i, 5).text() for i in range(t.rowCount())] == [fmt.usd(r.swing, 0) for r in want]
    # the units of the inputs: a multiplier, a rate, a horizon
    labels = {view.sens_table.item(i, 0).text(): view.sens_table.item(i, 1).text()
              for i in range(view.sens_table.rowCount())}
    assert labels["Effect on target"] == "×0.75" and labels["Discount rate"] == "4 % per year"
    assert labels["Horizon"] == "2 years"
    pi = view.tornado.getPlotItem()
    assert "USD" in pi.getAxis("bottom").labelText


def test_annual_rollup_rows_equal_cores_and_the_dates_are_editors(win, qtbot, baseline):
    page = win.business_case_page
    # the start and the fiscal year through their editors: a month, and a month name
    start = page.editors[("global", "start_date")]
    fy = page.editors[("global", "fiscal_year_start_month")]
    assert isinstance(fy, QComboBox) and fy.currentText() == "January" and fy.count() == 12
    assert start.auto.isChecked() and start.date.calendarPopup()
    with qtbot.waitSignal(page.resultsChanged, timeout=5000):
        start.auto.setChecked(False)
    with qtbot.waitSignal(page.resultsChanged, timeout=5000):
        start.date.setDate(QDate(2025, 1, 17))  # any day of the month: the month is what counts
    with qtbot.waitSignal(page.resultsChanged, timeout=5000):
        fy.setCurrentIndex(fy.findText("July"))
    g = page.assumptions["global"]
    assert g["start_date"] == "2025-01-01" and g["fiscal_year_start_month"] == 7
    view = page.annual
    view.option.setCurrentIndex(view.option.findData("parallel-processing"))
    t = view.table
    # by hand: Jan 2025 .. Dec 2027 in fiscal years starting in July, named by the year they end in
    assert [t.item(r, 1).text() for r in range(t.rowCount())] == ["FY2025", "FY2026", "FY2027", "FY2028"]
    assert [t.item(r, 2).text() for r in range(t.rowCount())] == [
        "Jan 2025 – Jun 2025 (6)", "Jul 2025 – Jun 2026 (12)", "Jul 2026 – Jun 2027 (12)", "Jul 2027 – Dec 2027 (6)"]
    a = default_assumptions()
    a["global"].update(start_date="2025-01-01", fiscal_year_start_month=7)
    case = evaluate(baseline, a)
    want = annual_rollup(case, case.result("parallel-processing"))
    for r, row in enumerate(want):
        assert [t.item(r, c).text() for c in range(3, 10)] == [fmt.usd(getattr(row, k)) for k in (
            "investment", "maintenance", "savings", "net", "cumulative", "discounted", "discounted_cumulative")]
    # the discounted cumulative ends on the NPV, which the note names
    assert t.item(3, 9).text() == fmt.usd(case.result("parallel-processing").npv_usd)
    assert fmt.usd(case.result("parallel-processing").npv_usd) in view.note.text()
    # back to auto: stored as "auto", the month after the data (May 2024) again
    with qtbot.waitSignal(page.resultsChanged, timeout=5000):
        start.auto.setChecked(True)
    assert page.assumptions["global"]["start_date"] == "auto" and "May 2024" in view.dates.text()


def test_payback_after_the_horizon_is_a_number_and_flagged(win, qtbot):
    page = win.business_case_page
    # solution 4 alone, acting on a confirmed $1,200 a month storage bill: pays back, but after 3 years
    _set(page, qtbot, ("global", "portfolio"), "enabled")
    for sid in ("error-monitoring", "cost-optimisation", "parallel-processing", "performance-monitoring"):
        _set(page, qtbot, ("solutions", sid, "enabled"), False)
    _set(page, qtbot, ("global", "storage_confirmed"), True)
    _set(page, qtbot, ("global", "storage_usd_per_month"), 1200.0)
    r = page.case.result("data-lifecycle")
    # net a year at full effect: 35 % x $14,400 - $3,600 = $1,440 > 0, against a $12,000 investment
    assert r.savings_year - r.maintenance_year == pytest.approx(0.35 * 14_400 - 3_600)
    assert r.payback_months is not None and r.payback_months > 36 and r.payback_status == "beyond the horizon"
    t = page.decision.table
    row = _row_of(t, "4. ")
    text = t.item(row, _column(t, "Payback")).text()
    assert text == f"{r.payback_months:,.1f} months (after the 36-month horizon)"
    assert t.item(row, _column(t, "Payback")).foreground().color().name() == "#b03a2e"
    assert r.npv_usd < 0 and "Paying back after the horizon" in page.decision.statement.text()
    # the chart marks no break-even inside the horizon, and says when it comes
    assert not page.break_even_line.isVisible()
    assert f"month {r.payback_months:,.1f}, after the horizon" in page.chart_status.text()
    # a longer horizon brings it inside: marked on the chart, which follows the horizon
    _set(page, qtbot, ("global", "horizon_years"), 10)
    p = page.case.portfolio
    x, _ = page.curves["do_nothing"].getData()
    assert x[-1] == 120 and p.payback_status == "within the horizon"
    assert page.break_even_line.isVisible() and page.break_even_line.value() == pytest.approx(p.payback_months)


def test_every_choice_in_the_form_reads_as_words(win):
    page = win.business_case_page
    combos = {k: w for k, w in page.editors.items() if isinstance(w, QComboBox)}
    shown = {k[-1]: {w.itemData(i): w.itemText(i) for i in range(w.count())} for k, w in combos.items()}
    assert shown["portfolio"] == {"npv_max": "NPV-maximising", "enabled": "Every ticked solution"}
    assert shown["scenario"] == {"low": "Low", "base": "Base", "high": "High"}
    assert shown["annualisation"] == {"span": "Span of the data", "active_days": "Days with runs"}
    assert shown["fiscal_year_start_month"][7] == "July"
    assert shown["target"]["failed_cost"] == "Failed-run cost"
    for key, items in shown.items():
        for value, text in items.items():
            assert "_" not in text and text != str(value), (key, value, text)


def test_report_pdf_from_the_file_menu(win, qtbot, tmp_path, monkeypatch):
    import shutil

    from etl_desk.core.workbook import pdf

    act = next(a for a in win.findChildren(type(win.act_open)) if a.text() == "Export report &PDF…")
    assert act.isEnabled()
    # without LibreOffice: a clear error, and no file
    monkeypatch.setattr(pdf, "find_soffice", lambda: None)
    out = tmp_path / "report.pdf"
    with qtbot.waitSignal(win.exportFailed, timeout=60_000) as failed:
        win.exports.export_pdf(str(out))
    assert "needs LibreOffice" in failed.args[0] and not out.exists()
    monkeypatch.undo()
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice is not installed here")
    out.write_bytes(b"old report")
    with qtbot.waitSignal(win.exportFinished, timeout=300_000):
        win.exports.export_pdf(str(out))
    data = out.read_bytes()
    assert data.startswith(b"%PDF") and b"/Type /Page" in data.replace(b"/Type/Page", b"/Type /Page")


def test_form_refuses_what_core_refuses(win):
    page = win.business_case_page
    with pytest.raises(DataError, match="first day of a month"):
        page.set_assumption(("global", "start_date"), "2025-01-17")
    a = copy.deepcopy(page.assumptions)
    assert a["global"]["start_date"] == "auto"


def test_unknown_cost_clears_the_chart_and_says_why(win, qtbot):
    """Runs with no price (a timeline + usage export without list prices): no business case, said plainly;
    the chart shows no line, no break-even and no $ scale, instead of an empty chart with a made-up axis."""
    page = win.business_case_page
    df = win.state.df.head(40).copy()
    df["cost_usd"] = np.nan
    win.set_data(df, "no prices")
    assert page.case is not None  # the case study's, before
    qtbot.waitUntil(lambda: "Cannot measure the baseline" in page.banner.text(), timeout=30_000)
    assert "cost of doing nothing is unknown" in page.banner.text()
    assert page.case is None and page.appraisal is None  # nothing of the runs before is left as current
    view = page.chart_view
    assert all(len(c.getData()[0] or []) == 0 for c in view.curves.values())
    assert not view.break_even_line.isVisible() and not view.break_even_label.isVisible()
    assert view.status.text().startswith("No chart:")
    assert view.legend["do_nothing"].findChildren(QLabel)[-1].text() == "Doing nothing: unknown"
