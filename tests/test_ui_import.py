"""Importing from the window: the mapping step, and every bad file refused without losing data."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from etl_desk.ui.settings import Settings


BAD = Path(__file__).parent / "fixtures" / "bad"


def _foreign_csv(tmp_path) -> Path:
    p = tmp_path / "export.csv"
    p.write_text("execution;when;secs;outcome;spend;volume_mb\n"
                 "r1;2024-05-01 10:00:00;600;SUCCEEDED;1,50;2048\n"
                 "r2;2024-05-01 11:00:00;1200;TIMEDOUT;3,25;512\n", encoding="utf-8")
    return p


def test_mapping_dialog_guesses_lets_the_user_fix_and_remembers(qtbot, tmp_path):
    from etl_desk.ui.data.import_dialog import NONE, ImportDialog, needs_mapping

    settings = Settings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    p = _foreign_csv(tmp_path)
    dlg = ImportDialog(str(p), settings)
    qtbot.addWidget(dlg)
    assert dlg.headers == ["execution", "when", "secs", "outcome", "spend", "volume_mb"]
    assert dlg.findChild(type(dlg.column_boxes["run_id"]), "map_run_id") is not None
    # the user points each field at its column and picks the units
    for field, col in {"run_id": "execution", "start_time": "when", "duration_min": "secs",
                       "status": "outcome", "cost_usd": "spend", "data_processed_gb": "volume_mb"}.items():
        dlg.column_boxes[field].setCurrentText(col)
    dlg.unit_boxes["duration_min"].setCurrentText("s")
    dlg.unit_boxes["data_processed_gb"].setCurrentText("MB")
    assert dlg.buttons.buttons()[0].isEnabled()
    dlg.column_boxes["run_id"].setCurrentText(NONE)
    assert "Still needed" in dlg.message.text()
    dlg.column_boxes["run_id"].setCurrentText("execution")
    opts = dlg.options()
    assert opts.cancelled == "failed" and opts.skipped == "exclude"
    dlg.accept()
    # next time the same header set loads without asking
    ask, remembered = needs_mapping(str(p), settings)
    assert not ask and remembered.mapping.columns["duration_min"] == "secs"

    from etl_desk.core.data.loaders import load_path

    df = load_path(p, options=opts)
    assert list(df["duration_min"]) == [10.0, 20.0]
    assert list(df["data_processed_gb"]) == pytest.approx([2.048, 0.512])
    assert list(df["cost_usd"]) == [1.5, 3.25]
    assert list(df["status"]) == ["Success", "Failed"]
    assert list(df["result_state"]) == ["SUCCEEDED", "TIMEDOUT"]


def test_remembered_mapping_is_used_by_the_window(window, qtbot, tmp_path):
    from etl_desk.core.data.importers.mapping import Mapping
    from etl_desk.ui.data.import_dialog import remember_mapping

    win = window()
    p = _foreign_csv(tmp_path)
    remember_mapping(win.settings, ["execution", "when", "secs", "outcome", "spend", "volume_mb"],
                     Mapping({"run_id": "execution", "start_time": "when", "duration_min": "secs",
                              "status": "outcome", "cost_usd": "spend"}, {"duration_min": "s"}))
    with qtbot.waitSignal(win.dataLoaded, timeout=20_000):
        win.import_file(str(p))
    assert win.state.view.n_bars == 2
    assert list(win.state.df["duration_min"]) == [10.0, 20.0]


@pytest.mark.parametrize("name", sorted(p.name for p in BAD.iterdir()))
def test_bad_corpus_through_the_window(window, qtbot, tmp_path, name):
    win = window()
    before = win.state.df
    loaded, failed = [], []
    win.dataLoaded.connect(loaded.append)
    win.loadFailed.connect(failed.append)
    win.import_file(str(BAD / name))
    qtbot.waitUntil(lambda: bool(loaded or failed), timeout=30_000)  # a hang fails here
    if failed:
        assert name in failed[0] or "needs a mapping" in failed[0], failed[0]
        assert win.state.df is before and win.state.view.n_bars == 1000
        assert "Traceback" not in failed[0] and "Unexpected error" not in failed[0]
    else:
        assert win.state.df is not before
        assert win.state.view.n_bars >= 1
