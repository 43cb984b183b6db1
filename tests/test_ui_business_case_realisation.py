"""Benefits realisation in the window: a go-live date on the loaded runs, or an "after" history.

Two generated histories with the same settings (independent seeds), the second starting on the
go-live day with a known improvement injected: every failed run costs half as much (failing
fast). The true effect on failed spend per TB is therefore exactly 50 %; the window must show a
measured change whose 95 % interval contains it, and the figures core's
:func:`realised_vs_projected` gives for the same split.
"""
from __future__ import annotations

import pandas as pd
import pytest
from PySide6.QtCore import QDate, Qt

from etl_desk.core import fmt
from etl_desk.core.business_case.assumptions import default_assumptions
from etl_desk.core.business_case.baseline import compute_baseline
from etl_desk.core.business_case.model import evaluate
from etl_desk.core.business_case.realisation import realised_vs_projected, split_at
from etl_desk.core.data.realistic import RealisticSettings, generate_realistic
from etl_desk.core.data.schema import FAILED

GO_LIVE = "2024-04-01"
INJECTED_EFFECT = 0.5  # failed runs cost half as much after the go-live


@pytest.fixture(scope="module")
def histories():
    before = generate_realistic(RealisticSettings(runs=20_000, seed=1, start="2024-01-01", days=90))
    after = generate_realistic(RealisticSettings(runs=20_000, seed=2, start=GO_LIVE, days=90)).copy()
    failed = after["status"].astype(object) == FAILED
    after.loc[failed, "cost_usd"] = after.loc[failed, "cost_usd"] * (1 - INJECTED_EFFECT)
    after["run_id"] = "after-" + after["run_id"].astype(str)  # one history: run IDs stay unique
    return before, after


@pytest.fixture
def win(window, qtbot, histories):
    w = window()
    w.ensure_pages()
    both = pd.concat(histories, ignore_index=True)
    w.set_data(both, "two generated histories")
    page = w.business_case_page
    w.show_page("business_case")
    page.audience_tabs.setCurrentWidget(page.realisation)
    return w


def _cell(table, target_label: str, header: str) -> str:
    col = next(c for c in range(table.columnCount()) if table.horizontalHeaderItem(c).text() == header)
    row = next(r for r in range(table.rowCount()) if table.item(r, 0).text() == target_label)
    return table.item(row, col).text()


def test_a_go_live_date_shows_the_injected_improvement_within_its_interval(win, qtbot, histories):
    view = win.business_case_page.realisation
    view.go_live.setDate(QDate.fromString(GO_LIVE, "yyyy-MM-dd"))
    with qtbot.waitSignal(view.measured, timeout=120_000) as got:
        qtbot.mouseClick(view.measure_button, Qt.MouseButton.LeftButton)  # a real click
    real = got.args[0]
    failed = real.change("failed_cost")
    lo, hi = failed.measured_effect_ci
    assert lo <= INJECTED_EFFECT <= hi and failed.significant and failed.change < 0
    # the same figures as core on the same split, at the window's assumptions and thresholds
    before, after = split_at(win.state.df, GO_LIVE)
    b = compute_baseline(before, thresholds=win.analysis_job.thresholds)
    a = compute_baseline(after, thresholds=win.analysis_job.thresholds)
    want = realised_vs_projected(before, after, evaluate(b, default_assumptions()),
                                 before_anomaly_runs=b.anomaly_runs, after_anomaly_runs=a.anomaly_runs,
                                 go_live=GO_LIVE).change("failed_cost")
    assert failed.change == pytest.approx(want.change) and failed.change_ci == pytest.approx(want.change_ci)
    t = view.table
    assert _cell(t, "Failed-run cost", "Change (95 % interval)") == \
        f"{fmt.usd(want.change)} ({fmt.usd(want.change_ci[0])} to {fmt.usd(want.change_ci[1])})"
    assert _cell(t, "Failed-run cost", "Measured effect (95 % interval)").startswith(fmt.pct(want.measured_effect, 1))
    # beside it, the projection: error monitoring's 40 % on failed spend, inside the measured interval
    assert _cell(t, "Failed-run cost", "Projected effect") == "40.0 %"
    assert _cell(t, "Failed-run cost", "Projection") == "within the interval"
    # the four remedy targets are all there, and the on-demand share before and after
    for label in ("Failed-run cost", "Retry cost", "On-demand compute cost", "Cost per TB (all runs)"):
        assert _cell(t, label, "Target") == label
    assert f"{fmt.count(len(before))} runs before" in view.summary.text()
    assert "On-demand share of cost" in view.summary.text()


def test_an_after_history_and_cancel(win, qtbot, histories):
    before, after = histories
    win.set_data(before, "before only")
    view = win.business_case_page.realisation
    with qtbot.waitSignal(view.measured, timeout=120_000) as got:
        view.compare_with(after, "after.parquet")
    assert got.args[0].before.runs == len(before) and got.args[0].after.runs == len(after)
    shown = view.table.rowCount()
    # Cancel: the table stays as it was, the controls come back
    with qtbot.waitSignal(view.runner.cancelled, timeout=5000):
        view.compare_with(after.head(5000), "smaller")
        assert view.cancel_button.isVisible() and not view.measure_button.isEnabled()
        view.cancel_button.click()
    assert view.realisation is got.args[0] and view.table.rowCount() == shown
    assert not view.cancel_button.isVisible() and view.measure_button.isEnabled()
    # a go-live outside the runs: a clear message, nothing computed
    with qtbot.waitSignal(view.failed, timeout=5000) as bad:
        view.measure_at("2030-01-01")
    assert "leaves no runs" in bad.args[0] and "leaves no runs" in view.summary.text()


def test_an_after_history_opened_from_a_file(win, qtbot, histories, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    before, after = histories
    win.set_data(before, "before only")
    path = tmp_path / "after.parquet"
    after.to_parquet(path)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(path), "")))
    view = win.business_case_page.realisation
    with qtbot.waitSignal(view.measured, timeout=120_000) as got:
        view.open_button.click()  # the file is read on the worker thread, then measured
    real = got.args[0]
    assert real.after.runs == len(after) and real.go_live is None
    lo, hi = real.change("failed_cost").measured_effect_ci
    assert lo <= INJECTED_EFFECT <= hi


def test_the_window_stops_a_measurement_when_it_stops_all_work(win, qtbot, histories):
    """Closing the window (cancel_all_work) reaches the realisation, the chargeback and the forecast too."""
    before, after = histories
    win.set_data(before, "before only")
    view = win.business_case_page.realisation
    with qtbot.waitSignal(view.runner.cancelled, timeout=5000):
        view.compare_with(after, "after.parquet")
        assert view.runner.busy
        win.cancel_all_work()
    assert view.realisation is None and not view.cancel_button.isVisible()


def test_the_report_pdf_carries_the_measurement_and_new_data_drops_it(win, qtbot, histories, tmp_path):
    """File › Export report PDF… left the Realised tab's measurement out. It now prints it (what was
    measured, the periods, per target the change with its 95 % interval beside the projection); new data
    drops the measurement, and the report then says "not measured"."""
    import shutil
    import subprocess

    view = win.business_case_page.realisation
    with qtbot.waitSignal(view.measured, timeout=120_000) as got:
        view.measure_at(GO_LIVE)
    real = got.args[0]
    assert win.exports.realisation() is real
    assert real.measured == "the runs in the filter of two generated histories split at the go-live 2024-04-01"
    if shutil.which("soffice") is None or shutil.which("pdftotext") is None:
        pytest.skip("LibreOffice or pdftotext is not installed here")
    out = tmp_path / "report.pdf"
    with qtbot.waitSignal(win.exportFinished, timeout=300_000):
        win.exports.export_pdf(str(out))
    text = " ".join(subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True,
                                   check=True).stdout.split())
    assert "Benefits realisation: measured after go-live, beside the projection" in text
    assert "Measured: the runs in the filter of two generated histories split at the go-live 2024-04-01." in text
    failed = real.change("failed_cost")
    lo, hi = failed.change_ci
    # the failed-run row: rate before, after, the change and its 95 % interval (USD per TB), then the projection
    row = (f"Failed-run cost {fmt.usd(failed.before_rate)} /TB {fmt.usd(failed.after_rate)} /TB "
           f"{fmt.usd(failed.change)} /TB {fmt.usd(lo)} /TB {fmt.usd(hi)} /TB")
    assert row in text, row
    page = text.split("Benefits realisation: measured after go-live", 1)[1]
    assert "40.0%" in page.split("Failed-run cost", 1)[1].split("Retry cost")[0]  # projected effect beside it
    win.set_data(histories[0], "before only")  # other data: the measurement no longer applies
    assert view.realisation is None and win.exports.realisation() is None and view.table.rowCount() == 0
