"""Export from the window (Ctrl+E path), clipboard copy of the KPIs, the global exception hook."""
from __future__ import annotations

import sys

import pytest

from tests.ui_helpers import make_window


@pytest.fixture(autouse=True)
def _no_dialogs(monkeypatch):
    monkeypatch.setenv("ETL_DESK_NO_DIALOGS", "1")


def test_export_workbook_of_the_filtered_runs(qtbot, tmp_path):
    import openpyxl

    from etl_desk.core.dashboard.view import ViewFilter

    win = make_window(qtbot, tmp_path / "s.ini")
    win.state.set_filter(ViewFilter(statuses=frozenset({"Failed"})))
    out = tmp_path / "report.xlsx"
    with qtbot.waitSignal(win.exportFinished, timeout=120_000):
        win.export_workbook(str(out))
    wb = openpyxl.load_workbook(out, read_only=True)
    assert {"Cover", "KPIs", "Data", "Business Case", "Assumptions"} <= set(wb.sheetnames)
    ws = wb["Data"]
    assert ws.max_row == 53  # header + the 52 failed runs in the filter
    wb.close()
    assert "Wrote" in win.status_label.text()


def test_export_into_missing_folder_reports_and_keeps_running(qtbot, tmp_path):
    win = make_window(qtbot, tmp_path / "s.ini")
    with qtbot.waitSignal(win.exportFailed, timeout=60_000) as blocker:
        win.export_workbook(str(tmp_path / "nope" / "r.xlsx"))
    assert "r.xlsx" in blocker.args[0]
    assert win.state.view.n_bars == 1000


def test_export_cancel_leaves_previous_file(qtbot, tmp_path):
    win = make_window(qtbot, tmp_path / "s.ini")
    out = tmp_path / "report.xlsx"
    out.write_bytes(b"previous workbook")
    with qtbot.waitSignal(win.exportFailed, timeout=60_000) as blocker:
        win.export_workbook(str(out))
        win.export_runner.cancel()
    assert blocker.args[0] == "cancelled"
    from etl_desk.ui.workers import TaskRunner

    TaskRunner.wait_all(60_000)
    assert out.read_bytes() == b"previous workbook"
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".xlsx"] == ["report.xlsx"]


def test_copy_kpis_to_clipboard(qtbot, tmp_path):
    from PySide6.QtWidgets import QApplication

    win = make_window(qtbot, tmp_path / "s.ini")
    text = win.copy_kpis()
    assert QApplication.clipboard().text() == text
    lines = text.splitlines()
    assert lines[0].split("\t")[0] == "KPI"
    assert any("$1,315.10" in ln or "1,315.10" in ln for ln in lines)


def test_exception_hook_logs_reports_and_keeps_running(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("ETL_DESK_LOG", str(tmp_path / "logs" / "etl-desk.log"))
    from etl_desk.ui.errors import ExceptionReporter

    win = make_window(qtbot, tmp_path / "s.ini")
    rep = ExceptionReporter(win)
    rep.errorReported.connect(win.on_unexpected_error)
    rep.install()
    try:
        assert sys.excepthook == rep.handle
        try:
            raise RuntimeError("boom in a slot")
        except RuntimeError:
            with qtbot.waitSignal(rep.errorReported, timeout=2000) as blocker:
                sys.excepthook(*sys.exc_info())
    finally:
        rep.uninstall()
    assert "boom in a slot" in blocker.args[0]
    assert "Traceback" in blocker.args[1]
    for h in __import__("logging").getLogger("etl_desk").handlers:
        h.flush()
    assert "boom in a slot" in (tmp_path / "logs" / "etl-desk.log").read_text()
    assert "Unexpected error" in win.status_label.text()
    assert win.state.view.n_bars == 1000
