"""One analysis for the window: the Insights and Solutions tabs (and the export) share it.

Anomaly detection runs once per data/filter/threshold change, and the business
case's anomaly excess cost counts the runs the Insights tab lists, at the
thresholds the user set there.
"""
from __future__ import annotations

import threading

import pytest

from etl_desk.core.insights import analysis as analysis_mod
from etl_desk.core.insights import anomalies as anomalies_mod
from etl_desk.core.insights.analysis import analyze
from etl_desk.core.insights.anomalies import GROUP_RULES
from etl_desk.core.dashboard.view import ViewFilter
from etl_desk.core.business_case.baseline import compute_baseline


@pytest.fixture
def detect_calls(monkeypatch):
    """Count every anomaly detection, wherever it is called from (analyze or compute_baseline)."""
    calls = []
    lock = threading.Lock()
    original = anomalies_mod.detect_anomalies

    def counting(df, thresholds=None):
        with lock:
            calls.append((len(df), thresholds))
        return original(df, thresholds)

    # analyze() calls the name it imported; compute_baseline() imports it from the module when it needs it
    monkeypatch.setattr(analysis_mod, "detect_anomalies", counting)
    monkeypatch.setattr(anomalies_mod, "detect_anomalies", counting)
    return calls


def _settle(win, qtbot):
    job = win.analysis_job
    ins, sol = win.insights_page, win.business_case_page  # builds the tabs if the first paint has not yet
    if job.result is None or job.busy or sol.case is None:
        with qtbot.waitSignal(sol.resultsChanged, timeout=20_000):
            pass
    assert ins.analysis is job.result.analysis
    assert sol.baseline is job.result.baseline
    return ins, sol


@pytest.fixture
def win(window, qtbot):
    w = window()
    _settle(w, qtbot)
    return w


def _flagged_runs(a) -> set[str]:
    an = a.anomalies
    return set(an.loc[~an["rule"].isin(list(GROUP_RULES)), "run_id"].astype(str))


def _cell(table, row_label: str, col: int) -> str:
    for r in range(table.rowCount()):
        if table.verticalHeaderItem(r).text().strip() == row_label:
            return table.item(r, col).text()
    raise KeyError(row_label)


def test_a_threshold_edited_in_insights_changes_the_business_case(win, qtbot):
    ins, sol = win.insights_page, win.business_case_page
    runs = win.state.df
    # at the default thresholds the case study has no anomalies: nothing to save on them
    assert len(ins.analysis.anomalies) == 0
    assert sol.baseline.observed["anomaly_excess_cost"] == 0
    perf = next(i for i, r in enumerate(sol.case.solutions) if r.id == "performance-monitoring")
    assert sol.case.solutions[perf].target == "anomaly_excess_cost"
    assert _cell(sol.finance_table, "Target, per year", perf + 1).endswith(": $0")

    with qtbot.waitSignals([ins.analysisReady, sol.baselineReady, sol.resultsChanged], timeout=20_000):
        ins.threshold_editors["z_threshold"].setValue(1.5)

    th = ins.thresholds
    assert th.z_threshold == 1.5 and win.analysis_job.thresholds == th
    expected = compute_baseline(runs, analyze(runs, th).anomalies)
    got = sol.baseline.observed["anomaly_excess_cost"]
    assert got > 0
    assert got == pytest.approx(expected.observed["anomaly_excess_cost"], rel=1e-12)
    # the business case counts exactly the runs the Insights tab lists
    assert sol.baseline.counts["anomalous_runs"] == len(_flagged_runs(ins.analysis)) > 0
    assert "z > 1.5" in sol.baseline.anomaly_source
    # ... and the user sees it: the anomaly-excess target of the performance-monitoring solution
    annual = sol.case.annual["anomaly_excess_cost"]
    assert annual == pytest.approx(got * sol.baseline.factor(sol.assumptions["global"]["annualisation"])
                                   / sol.assumptions["global"]["data_coverage"])
    assert sol.case.solutions[perf].target_usd_per_year == pytest.approx(annual)
    assert _cell(sol.finance_table, "Target, per year", perf + 1).endswith(finance_usd0(annual))

    # back to the defaults: both tabs follow again
    with qtbot.waitSignals([ins.analysisReady, sol.baselineReady], timeout=20_000):
        ins.defaults_button.click()
    assert len(ins.analysis.anomalies) == 0
    assert sol.baseline.observed["anomaly_excess_cost"] == 0


def finance_usd0(v: float) -> str:
    from etl_desk.core import fmt

    return fmt.usd(v, 0)


def test_one_filter_change_runs_anomaly_detection_once(win, qtbot, detect_calls):
    ins, sol = win.insights_page, win.business_case_page
    job = win.analysis_job
    labels = []
    with qtbot.waitSignal(job.busyChanged, timeout=5_000, check_params_cb=bool):
        win.state.set_filter(ViewFilter(statuses=frozenset({"Failed"})))
    # the busy indicators of both tabs show while the shared job runs
    labels.append((not ins.busy_label.isHidden(), not sol.busy_label.isHidden()))
    with qtbot.waitSignals([ins.analysisReady, sol.baselineReady], timeout=20_000):
        pass
    qtbot.wait(700)  # longer than the debounce: nothing else is coming
    assert labels == [(True, True)]
    assert ins.busy_label.isHidden() and sol.busy_label.isHidden()
    assert detect_calls == [(52, ins.thresholds)]
    assert ins.analysis.kpis["runs"] == 52 and sol.baseline.runs == 52

    # a threshold change: once too, and both tabs update
    detect_calls.clear()
    with qtbot.waitSignals([ins.analysisReady, sol.baselineReady], timeout=20_000):
        ins.threshold_editors["z_threshold"].setValue(2.0)
    qtbot.wait(700)
    assert len(detect_calls) == 1 and detect_calls[0][1].z_threshold == 2.0


def test_sort_and_grouping_changes_do_not_rerun(win, qtbot, detect_calls):
    ins, sol = win.insights_page, win.business_case_page
    results = []
    win.analysis_job.resultReady.connect(results.append)
    ins.analysisReady.connect(results.append)
    sol.baselineReady.connect(results.append)
    win.state.set_sort("cost_usd", True)
    win.state.set_grouping("day")
    win.state.set_grouping("pipeline")
    win.state.select_run_ids([str(win.state.df["run_id"].iloc[0])])
    qtbot.wait(800)
    assert detect_calls == [] and results == []
    assert not win.analysis_job.busy


def test_a_filter_undone_while_its_work_runs_ends_on_the_current_runs(win, qtbot, monkeypatch):
    import time

    ins, sol = win.insights_page, win.business_case_page
    job = win.analysis_job
    original = anomalies_mod.detect_anomalies

    def slow_on_failed_runs(df, thresholds=None):
        if len(df) == 52:
            time.sleep(1.5)
        return original(df, thresholds)

    monkeypatch.setattr(analysis_mod, "detect_anomalies", slow_on_failed_runs)
    results = []
    job.resultReady.connect(results.append)
    with qtbot.waitSignal(job.busyChanged, timeout=5_000, check_params_cb=bool):
        win.state.set_filter(ViewFilter(statuses=frozenset({"Failed"})))
    win.state.set_filter(ViewFilter())  # back to all runs (what the tabs show) while the failed-only work runs
    qtbot.waitUntil(lambda: not job.busy, timeout=5_000)
    qtbot.wait(2_000)  # the superseded work finishes meanwhile: its result must not arrive
    assert results == []
    assert ins.analysis.kpis["runs"] == 1000 and sol.baseline.runs == 1000
    assert job.is_current()


def test_a_tab_built_late_shows_the_latest_result(win, qtbot):
    from etl_desk.ui.business_case.page import BusinessCasePage
    from etl_desk.ui.insights.page import InsightsPage

    job = win.analysis_job
    late_ins = InsightsPage(win.state, job=job, parent=win)
    late_sol = BusinessCasePage(win.state, job=job, model=win.assumptions, parent=win)
    assert late_ins.analysis is job.result.analysis
    assert late_sol.baseline is job.result.baseline and late_sol.case is not None
    assert "1,000 runs analysed" in late_ins.summary.text()
    assert late_ins.busy_label.isHidden() and late_sol.busy_label.isHidden()


def test_thresholds_persist_and_are_used_from_the_start(window, qtbot, tmp_path):
    ini = tmp_path / "s.ini"
    w = window(ini)
    ins, _ = _settle(w, qtbot)
    with qtbot.waitSignal(ins.analysisReady, timeout=20_000):
        ins.threshold_editors["z_threshold"].setValue(3.0)
    w.close()
    w2 = window(ini)
    ins2, sol2 = _settle(w2, qtbot)
    assert w2.analysis_job.thresholds.z_threshold == 3.0
    assert ins2.threshold_editors["z_threshold"].value() == 3.0
    assert ins2.analysis.thresholds.z_threshold == 3.0
    assert sol2.baseline.counts["anomalous_runs"] == len(_flagged_runs(ins2.analysis)) > 0


def test_export_uses_the_shared_results_and_the_users_thresholds(win, qtbot, tmp_path, detect_calls):
    import openpyxl

    ins, sol = win.insights_page, win.business_case_page
    with qtbot.waitSignals([ins.analysisReady, sol.baselineReady], timeout=20_000):
        ins.threshold_editors["z_threshold"].setValue(1.5)
    detect_calls.clear()
    out = tmp_path / "r.xlsx"
    with qtbot.waitSignal(win.exportFinished, timeout=120_000):
        win.export_workbook(str(out))
    assert detect_calls == []  # the export reuses the analysis both tabs show
    an = ins.analysis.anomalies
    n_flagged = an.loc[an["rule"] != "failure_rate_jump", "run_id"].nunique()  # one row per flagged run
    excess = sol.baseline.observed["anomaly_excess_cost"]

    def excess_in(path):
        wb = openpyxl.load_workbook(path, data_only=True)  # the app's values cached beside the formulas
        sheet, coord = next(iter(wb.defined_names["bl_anomaly_excess_cost_observed"].destinations))
        v, rows = wb[sheet][coord].value, wb["Anomalies"].max_row
        wb.close()
        return v, rows

    v, rows = excess_in(out)
    assert v == pytest.approx(excess) and excess > 0
    assert rows >= n_flagged  # every flagged run listed (below a title and a header)

    # a filter changed just before exporting (the shared results are not of these runs yet): the
    # export computes them itself, at the user's thresholds, not the defaults
    win.state.set_filter(ViewFilter(statuses=frozenset({"Success"})))
    assert win.current_analysis() is None and win.current_baseline() is None
    out2 = tmp_path / "r2.xlsx"
    with qtbot.waitSignal(win.exportFinished, timeout=120_000):
        win.export_workbook(str(out2))
    df = win.state.df
    sub = df[df["status"] == "Success"]
    expected = compute_baseline(sub, analyze(sub, ins.thresholds).anomalies)
    v2, _ = excess_in(out2)
    assert v2 == pytest.approx(expected.observed["anomaly_excess_cost"]) and v2 > 0
