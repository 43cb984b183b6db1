"""Desktop behaviour: background generation with cancel, files, persistence, soak."""
from __future__ import annotations

import os

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from etl_desk.core.data.realistic import RealisticSettings
from tests.ui_helpers import make_window


@pytest.fixture(autouse=True)
def _no_dialogs(monkeypatch):
    monkeypatch.setenv("ETL_DESK_NO_DIALOGS", "1")


def test_generate_realistic_in_background(qtbot, tmp_path):
    win = make_window(qtbot, tmp_path / "s.ini")
    with qtbot.waitSignal(win.dataLoaded, timeout=30_000):
        win.generate("realistic", RealisticSettings(runs=5_000, seed=11))
    assert win.state.view.n_bars == 5_000
    assert win.state.dataset.has_names
    assert "Realistic" in win.windowTitle()


def test_cancel_keeps_previous_data(qtbot, tmp_path):
    win = make_window(qtbot, tmp_path / "s.ini")
    before = win.state.df
    with qtbot.waitSignal(win.workCancelled, timeout=10_000):
        win.generate("realistic", RealisticSettings(runs=2_000_000, seed=1))
        assert win.generator.cancel_button.isEnabled()
        qtbot.mouseClick(win.generator.cancel_button, Qt.MouseButton.LeftButton)
    assert win.state.df is before
    assert win.state.view.n_bars == 1000
    assert not win.generator.cancel_button.isEnabled()
    assert win.generator.generate_button.isEnabled()
    # a late result of the cancelled task never replaces the data
    from etl_desk.ui.workers import TaskRunner

    TaskRunner.wait_all(60_000)
    qtbot.wait(50)
    assert win.state.df is before


def test_generator_panel_validates_as_you_type(qtbot, tmp_path):
    win = make_window(qtbot, tmp_path / "s.ini")
    gp = win.generator
    gp.preset.setCurrentIndex(1)  # a realistic scenario
    assert gp.generate_button.isEnabled()
    assert gp.editors["runs"].isEnabled()
    gp.editors["start"].setDate(gp.editors["start"].date())  # stays valid
    assert gp.validation_messages() == []
    gp.preset.setCurrentIndex(0)
    assert not gp.editors["runs"].isEnabled()


def test_bad_file_keeps_data_and_names_the_problem(qtbot, tmp_path):
    win = make_window(qtbot, tmp_path / "s.ini")
    bad = tmp_path / "bad.csv"
    bad.write_text("Job ID,Start Time,Duration (min),Job Status,Cost (USD)\n1,2024-01-01,10,Success,1\n"
                   "2,2024-01-01,ten,Success,1\n")
    before = win.state.df
    with qtbot.waitSignal(win.loadFailed, timeout=10_000) as blocker:
        win.open_file(str(bad))
    msg = blocker.args[0]
    assert "bad.csv" in msg and "row 2" in msg and "Duration (min)" in msg
    assert win.state.df is before


def test_drop_a_file_opens_it(qtbot, tmp_path):
    from etl_desk.core.data.case_study import generate_case_study
    from etl_desk.core.data.tables import write_table

    win = make_window(qtbot, tmp_path / "s.ini")
    p = tmp_path / "small.csv"
    write_table(generate_case_study(runs=20), p)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p))])
    ev = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                    Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(win.dataLoaded, timeout=10_000):
        win.dropEvent(ev)
    assert win.state.view.n_bars == 20
    assert win.windowTitle().startswith("small.csv")
    assert win.recent_files()[0].endswith("small.csv")


def test_settings_persist_across_close_and_reopen(qtbot, tmp_path):
    ini = tmp_path / "s.ini"
    win = make_window(qtbot, ini)
    win.generator.preset.setCurrentIndex(1)
    win.generator.editors["runs"].setValue(12_345)
    win.insights_dock.hide()
    win.chart_docks["duration_min"].hide()
    win.add_recent(str(tmp_path / "a.csv"))
    win.resize(1234, 876)
    win.close()
    win2 = make_window(qtbot, ini)
    assert win2.generator.editors["runs"].value() == 12_345
    assert win2.generator.preset.currentIndex() == 1
    assert not win2.chart_docks["duration_min"].isVisible()
    assert win2.chart_docks["cost_usd"].isVisible()
    assert win2.recent_files()[0].endswith("a.csv")
    assert win2.recent_menu.actions()[0].text().endswith("a.csv")
    win2.reset_layout()
    assert win2.chart_docks["duration_min"].isVisible()


def test_every_dock_and_toolbar_has_an_object_name(qtbot, tmp_path):
    from PySide6.QtWidgets import QDockWidget, QToolBar

    win = make_window(qtbot, tmp_path / "s.ini")
    for w in win.findChildren(QDockWidget) + win.findChildren(QToolBar):
        assert w.objectName(), w.windowTitle()


def test_none_dealloc_soak_with_real_window(qtbot, tmp_path):
    """Thousands of repaints with the real window (void Qt calls by the hundred thousand)."""
    win = make_window(qtbot, tmp_path / "s.ini")
    chart = win.charts["cost_usd"]
    for i in range(3000):
        chart.vb.scroll_by(1 if (i // 500) % 2 == 0 else -1)
        if i % 10 == 0:
            win.state.select_bars([i % 900])
        chart.viewport().repaint()
    assert win.state.view.n_bars == 1000
    assert np.isfinite(chart.vb.viewRange()[1]).all()


def test_screenshot_command(tmp_path):
    from tests.conftest import run_cli

    out = tmp_path / "shot.png"
    r = run_cli("--screenshot", out, timeout=120)
    assert r.returncode == 0, r.stderr
    from PySide6.QtGui import QImage

    img = QImage(str(out))
    assert img.width() >= 1200 and img.height() >= 800
    # the orange of successful runs is on screen
    colors = {img.pixelColor(x, y).name().upper() for x in range(0, img.width(), 7)
              for y in range(0, img.height(), 7)}
    assert "#F28E2B" in colors and "#4E79A7" in colors
    bad = run_cli("--screenshot", out, tmp_path / "missing.csv")
    assert bad.returncode == 2 and "missing.csv" in bad.stderr
    os.remove(out)
