"""The workspace: full-size pages, Ctrl+1..4, filter and selection kept, layouts remembered, the system
palette, the generator naming the loaded file, the time view linked to the filter and selection."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from etl_desk.core.dashboard.view import ViewFilter
from etl_desk.core.data.schema import FAILED, STATUS_COLORS, SUCCESS
from etl_desk.ui.window.main_window import PAGES


def test_ctrl_1_to_4_move_between_pages_keeping_filter_and_selection(window, qtbot):
    win = window()
    win.activateWindow()
    win.windowHandle().requestActivate()  # key presses reach window shortcuts of the active window only
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win, timeout=3000)
    win.state.set_filter(ViewFilter(statuses=frozenset({"Failed"})))
    win.state.select_run_ids(["10", "30"])
    for i, name in enumerate(PAGES, 1):
        qtbot.keyClick(win, Qt.Key(Qt.Key.Key_0 + i), Qt.KeyboardModifier.ControlModifier)
        assert win.current_page() == name
        assert win.stack.currentWidget() is (win.dashboard if name == "dashboard" else getattr(win, f"{name}_page"))
        assert win.page_actions[name].isChecked()
        assert win.state.spec.filter.statuses == frozenset({"Failed"})  # the filter bar is above every page
        assert sorted(win.state.selected_run_ids(), key=int) == ["10", "30"]
    assert win.filter_bar.isVisible()  # on the Sources page too
    # the page fills the window: the only things beside it are the toolbars and the status bar
    assert win.stack.width() >= win.width() - 4
    # from the status bar to the Sources page
    win.show_page("dashboard")
    win.sources_button.click()
    assert win.current_page() == "sources"


def test_generator_one_click_away_from_every_page(window, qtbot):
    win = window()
    for name in PAGES:
        win.show_page(name)
        assert not win.generator.isVisible()
        win.act_generator.trigger()
        assert win.generator.isVisible() and win.stack.isVisible()
        win.act_generator.trigger()
        assert not win.generator.isVisible()


def test_docks_only_on_the_dashboard(window):
    from PySide6.QtWidgets import QDockWidget

    win = window()
    win.ensure_pages()
    docks = win.findChildren(QDockWidget)
    assert docks and all(d.parent() is win.dashboard for d in docks)
    assert {d.objectName() for d in docks} == {"chartDock_cost_usd", "chartDock_data_processed_gb",
                                               "chartDock_duration_min", "timeDock", "tableDock"}


def test_pages_remember_their_layout(window, qtbot, tmp_path):
    ini = tmp_path / "layout.ini"
    w1 = window(ini)
    w1.ensure_pages()
    ins, bc, src = w1.insights_page, w1.business_case_page, w1.sources_page
    w1.show_page("insights")
    ins.splitter.setSizes([300, 900])
    w1.show_page("business_case")
    bc.splitter.setSizes([420, 900])
    bc.audience_tabs.setCurrentIndex(2)
    w1.show_page("sources")
    sizes = (ins.splitter.sizes(), bc.splitter.sizes())
    w1.time_chart.parentWidget().hide()  # a dashboard panel closed
    w1.close()
    w2 = window(ini)
    qtbot.waitUntil(lambda: w2.current_page() == "sources", timeout=3000)

    def share(s):
        return s[0] / sum(s)

    for name, page, before in (("insights", w2.insights_page, sizes[0]), ("business_case", w2.business_case_page,
                                                                          sizes[1])):
        w2.show_page(name)
        qtbot.wait(20)
        assert share(page.splitter.sizes()) == pytest.approx(share(before), abs=0.01), name
    assert w2.business_case_page.audience_tabs.currentIndex() == 2
    assert w2.dashboard.time_dock.isHidden()
    w2.reset_layout()
    assert not w2.dashboard.time_dock.isHidden() and w2.business_case_page.audience_tabs.currentIndex() == 0  # Decision


def _dark() -> QPalette:
    p = QPalette()
    for role, c in ((QPalette.ColorRole.Window, "#2b2b2b"), (QPalette.ColorRole.WindowText, "#e6e6e6"),
                    (QPalette.ColorRole.Base, "#1e1e1e"), (QPalette.ColorRole.AlternateBase, "#2a2a2a"),
                    (QPalette.ColorRole.Text, "#e6e6e6"), (QPalette.ColorRole.Button, "#333333"),
                    (QPalette.ColorRole.ButtonText, "#e6e6e6"), (QPalette.ColorRole.Mid, "#555555")):
        p.setColor(role, QColor(c))
    return p


def test_the_window_follows_a_dark_system_palette(window, qtbot):
    app = QApplication.instance()
    light = app.palette()
    win = window()
    win.ensure_pages()
    try:
        app.setPalette(_dark())
        qtbot.wait(30)
        for chart in (*win.charts.values(), win.time_chart.plot, win.business_case_page.chart):
            assert chart.backgroundBrush().color().lightness() < 60, chart.objectName()
            ax = chart.getPlotItem().getAxis("bottom")
            assert ax.textPen().color().lightness() > 180  # readable on the dark background
        img = win.kpis.grab().toImage()  # the key-figure tiles: dark, with light figures
        lights = [img.pixelColor(x, y).lightness() for x in range(0, img.width(), 3) for y in range(img.height())]
        assert np.median(lights) < 80 and max(lights) > 180
        # the status colours are the data's: unchanged
        cost = win.charts["cost_usd"]
        assert pg.mkBrush(cost.items["total"].opts["brush"]).color().name().upper() == STATUS_COLORS[SUCCESS]
        assert pg.mkBrush(cost.items["failed"].opts["brush"]).color().name().upper() == STATUS_COLORS[FAILED]
    finally:
        app.setPalette(light)
        qtbot.wait(10)
    assert win.charts["cost_usd"].backgroundBrush().color().lightness() > 200


def test_the_generator_names_the_loaded_file(window, qtbot, tmp_path):
    from etl_desk.core.data.case_study import generate_case_study
    from etl_desk.core.data.tables import write_table

    win = window()
    gen = win.generator
    assert "Case study (seed 42)" in gen.loaded.text() and "generated" in gen.loaded.text()
    p = tmp_path / "march-runs.csv"
    write_table(generate_case_study(runs=30), p)
    with qtbot.waitSignal(win.dataLoaded, timeout=10_000):
        win.open_file(str(p))
    assert gen.preset.currentText() == "Loaded file: march-runs.csv"
    assert "march-runs.csv" in gen.loaded.text() and "30 runs" in gen.loaded.text()
    assert not gen.generate_button.isEnabled() and not gen.editors["runs"].isEnabled()
    gen.preset.setCurrentIndex(gen.preset.findText("Realistic: month-end crunch"))
    assert gen.generate_button.isEnabled() and gen.editors["runs"].isEnabled()
    assert gen.state_dict()["preset"] == "Realistic: month-end crunch"
    with qtbot.waitSignal(win.dataLoaded, timeout=10_000):
        win.generate("case-study")
    assert gen.preset.findText("Loaded file: march-runs.csv") == -1  # the file is no longer shown


def test_time_view_follows_filter_and_selection(window, qtbot):
    win = window()
    tc = win.time_chart
    t = tc.timeline
    df = win.state.df
    day = df["start_time"].dt.floor("D")
    by_day = df.groupby(day)["cost_usd"].sum()
    assert t.n == (day.max() - day.min()).days + 1
    assert np.isclose(t.total.sum(), df["cost_usd"].sum()) and np.isclose(t.total.max(), by_day.max())
    failed_cost = df.loc[df["status"] == "Failed", "cost_usd"].sum()
    assert np.isclose(t.failed.sum(), failed_cost)  # $62.59, the case study's failed cost
    win.state.set_filter(ViewFilter(statuses=frozenset({"Failed"})))
    assert np.isclose(tc.timeline.total.sum(), failed_cost) and np.isclose(tc.timeline.failed.sum(), failed_cost)
    win.state.set_filter(ViewFilter())
    # clicking a day selects its runs everywhere; the selection is outlined on the time view
    i = int(np.argmax(tc.timeline.total))
    tc.select_period(i)
    first = tc.timeline.starts[i]
    sel = win.state.selection
    assert sel.sum() == int((day == first).sum()) and (day[sel] == first).all()
    x = tc.items["selected"].opts["x"]
    assert list(np.asarray(x)) == [float(i)]
    tc.freq.setCurrentIndex(tc.freq.findData("week"))
    assert tc.timeline.freq == "week" and np.isclose(tc.timeline.total.sum(), df["cost_usd"].sum())


def test_long_work_shows_progress_and_cancel_on_any_page(window, qtbot):
    from etl_desk.core.data.realistic import RealisticSettings

    win = window()
    win.show_page("insights")
    before = win.state.df
    with qtbot.waitSignal(win.workCancelled, timeout=10_000):
        win.generate("realistic", RealisticSettings(runs=2_000_000, seed=1))
        assert win.work_progress.isVisible() and win.work_cancel.isVisible()
        qtbot.mouseClick(win.work_cancel, Qt.MouseButton.LeftButton)
    assert win.state.df is before and not win.work_cancel.isVisible()
