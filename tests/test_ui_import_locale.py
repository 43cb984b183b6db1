"""The mapping dialog states the decimal mark and the date order; a file refused as ambiguous loads after
choosing them in the dialog, with the right values, and the data on screen stays until it does."""
from __future__ import annotations

import pandas as pd
import pytest
from PySide6.QtCore import QSettings

from etl_desk.ui.data.import_dialog import ImportDialog
from etl_desk.ui.settings import Settings

# no day above 12 and costs like 1,250: each reads two ways
CSV = ("Run ID,Job Name,Start Time,Duration (min),Status,Cost (USD)\n"
       "a1,sap-load,03/04/2024 08:00,10,Success,\"1,250\"\n"
       "a2,sap-load,05/06/2024 09:30,12,Failed,\"2,500\"\n"
       "a3,gis-sync,11/12/2024 23:15,7,Success,\"3,125\"\n")


@pytest.fixture
def ambiguous(tmp_path):
    p = tmp_path / "eu-runs.csv"
    p.write_text(CSV, encoding="utf-8")
    return p


def test_dialog_states_decimal_mark_and_date_order(qtbot, tmp_path, ambiguous):
    dlg = ImportDialog(str(ambiguous), Settings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)))
    qtbot.addWidget(dlg)
    o = dlg.options()
    assert o.decimal is None and o.dayfirst is None  # auto
    dlg.decimal.setCurrentIndex(dlg.decimal.findData(","))
    dlg.dayfirst.setCurrentIndex(2)
    o = dlg.options()
    assert o.decimal == "," and o.dayfirst is True
    dlg.dayfirst.setCurrentIndex(1)
    assert dlg.options().dayfirst is False


def test_refused_as_ambiguous_then_chosen_in_the_dialog_loads_right(window, qtbot, ambiguous, monkeypatch):
    win = window()
    before = win.state.df
    shown = []

    def choose(dlg):  # the user reads the message, picks "," and day-first, clicks Import
        shown.append(dlg.refused.text())
        dlg.decimal.setCurrentIndex(dlg.decimal.findData(","))
        dlg.dayfirst.setCurrentIndex(2)
        return ImportDialog.DialogCode.Accepted

    monkeypatch.setattr(ImportDialog, "exec", choose)
    failures = []
    win.files.failed.connect(failures.append)
    monkeypatch.delenv("ETL_DESK_NO_DIALOGS")
    with qtbot.waitSignal(win.dataLoaded, timeout=20_000):
        win.open_file(str(ambiguous))
    # refused first: the dialog came back naming the column and the choice (no error box on top of it)
    assert len(shown) == 1 and "column 'Cost (USD)'" in shown[0] and "choose" in shown[0]
    assert failures == [] and before is not None
    df = win.state.df.sort_values("run_id")
    assert list(df["cost_usd"]) == [1.25, 2.5, 3.125]
    assert list(df["start_time"]) == [pd.Timestamp("2024-04-03 08:00"), pd.Timestamp("2024-06-05 09:30"),
                                      pd.Timestamp("2024-12-11 23:15")]


def test_refused_load_keeps_the_data_without_dialogs(window, qtbot, ambiguous):
    win = window()
    before = win.state.df
    with qtbot.waitSignal(win.files.failed, timeout=20_000) as blocker:
        win.open_file(str(ambiguous))
    assert "Cost (USD)" in blocker.args[0] and win.state.df is before


def test_closing_the_dialog_reports_the_refusal_and_keeps_the_data(window, qtbot, ambiguous, monkeypatch):
    win = window()
    before = win.state.df
    monkeypatch.setattr(ImportDialog, "exec", lambda dlg: ImportDialog.DialogCode.Rejected)
    monkeypatch.setattr("etl_desk.ui.window.main_window.QMessageBox.warning", lambda *a, **k: None)
    monkeypatch.delenv("ETL_DESK_NO_DIALOGS")
    with qtbot.waitSignal(win.files.failed, timeout=20_000) as blocker:
        win.open_file(str(ambiguous))
    assert "Cost (USD)" in blocker.args[0] and win.state.df is before
