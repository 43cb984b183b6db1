"""Nothing clipped at 1366×768 and 1920×1080 on any page; the check itself catches a broken layout."""
from __future__ import annotations

import pyqtgraph as pg
import pytest
from PySide6.QtWidgets import (QCheckBox, QComboBox, QGroupBox, QLabel, QPushButton, QTabWidget, QVBoxLayout,
                               QWidget)

from etl_desk.ui.window.main_window import PAGES
from tests.layout_check import chart_overlaps, clipped


def _settle(win, qtbot):
    win.ensure_pages()
    qtbot.waitUntil(lambda: win.analysis_job.result is not None and not win.analysis_job.busy, timeout=30_000)
    bc = win.business_case_page
    qtbot.waitUntil(lambda: bc.case is not None, timeout=10_000)


def _walk_pages(win, qtbot) -> list[str]:
    problems = []
    for name in PAGES:
        win.show_page(name)
        qtbot.wait(30)
        problems += [f"{name}: {p}" for p in clipped(win)]
        if name == "business_case":  # every audience view, Operations included
            tabs = win.business_case_page.audience_tabs
            for i in range(tabs.count()):
                tabs.setCurrentIndex(i)
                qtbot.wait(20)
                problems += [f"{name}/{tabs.tabText(i)}: {p}" for p in clipped(win)]
            # break-even late, early, and never: the annotations stay clear of each other and the lines
            page = win.business_case_page
            for storage in (50_000, 400_000, 1_000):
                with qtbot.waitSignal(page.resultsChanged, timeout=5000):
                    page.set_assumption(("global", "storage_usd_per_month"), storage)
                qtbot.wait(20)
                problems += [f"{name} (storage {storage}): {p}" for p in clipped(win)]
    return problems


#: Window sizes on a 1366×768 and a 1920×1080 screen: as the app opens there (the screen less the
#: taskbar and frame margins it keeps, or its default size), and maximised.
SIZES = {"1366x768 opened": (1326, 708), "1366x768 maximised": (1366, 768),
         "1920x1080 opened": (1500, 920), "1920x1080 maximised": (1920, 1080)}


@pytest.mark.parametrize("size", list(SIZES.values()), ids=list(SIZES))
def test_nothing_is_clipped_on_any_page(window, qtbot, size):
    win = window(size=size)
    _settle(win, qtbot)
    win.set_generator_visible(True)  # the generator beside the page must fit too
    assert _walk_pages(win, qtbot) == []
    win.set_generator_visible(False)
    assert _walk_pages(win, qtbot) == []


def test_the_check_catches_a_broken_layout(qtbot):
    host = QWidget()
    qtbot.addWidget(host)
    lay = QVBoxLayout(host)
    label = QLabel("Failed-run cost over the whole period")
    label.setFixedWidth(60)
    button = QPushButton("Export workbook for finance")
    button.setFixedWidth(70)
    check = QCheckBox("Account for data volume")
    check.setFixedWidth(50)
    combo = QComboBox()
    combo.addItem("Span of the data (first start to last end)")
    combo.setFixedWidth(90)
    box = QGroupBox("Anomaly rules — thresholds")
    box.setFixedWidth(60)
    tabs = QTabWidget()
    tabs.setUsesScrollButtons(False)
    tabs.setElideMode(pg.QtCore.Qt.TextElideMode.ElideRight)
    for t in ("IT leadership", "Finance", "Operations"):
        tabs.addTab(QWidget(), t)
    tabs.setFixedWidth(120)
    from PySide6.QtWidgets import QHBoxLayout, QScrollArea

    scroll = QScrollArea()  # a card wider than its scroll area: its button is cut off at the side
    scroll.setWidgetResizable(True)
    card = QWidget()
    row = QHBoxLayout(card)
    wide = QLabel("x" * 80)
    row.addWidget(wide)
    select = QPushButton("Select 52 runs")
    row.addWidget(select)
    scroll.setWidget(card)
    scroll.setFixedSize(300, 80)
    wrapped = QLabel("A long explanation that wraps onto several lines is fine")
    wrapped.setWordWrap(True)
    wrapped.setFixedWidth(80)
    plot = pg.PlotWidget()
    plot.setFixedSize(300, 200)
    plot.setXRange(0, 10, padding=0)
    plot.setYRange(0, 10, padding=0)
    a, b = pg.TextItem("Doing nothing $60.8k"), pg.TextItem("Portfolio $320.3k")
    for t in (a, b):
        plot.addItem(t)
        t.setPos(5, 5)
    line = plot.plot([0, 10], [2.5, 4.5])  # runs under the first annotation's text
    c = pg.TextItem("Break-even: month 14.5")
    plot.addItem(c)
    c.setPos(2, 4.2)
    for w in (label, button, check, combo, box, tabs, wrapped, plot, scroll):
        lay.addWidget(w)
    host.resize(800, 1100)
    host.show()
    qtbot.waitExposed(host)
    expected = ("QLabel", "'Failed-run cost", "QPushButton", "QCheckBox", "QComboBox", "QGroupBox",
                "tab 'Operations'", "overlap", "'Break-even: month 14.5' covers a line", "cut off at the side")
    # layouts and the plot's text items settle over a few event-loop turns (a fixed 50 ms wait flaked under load)
    qtbot.waitUntil(lambda: all(w in "\n".join(clipped(host)) for w in expected), timeout=5000)
    found = "\n".join(clipped(host))
    assert "A long explanation" not in found  # word-wrapped labels wrap rather than clip
    # the same widgets with room: nothing to report
    for w in (label, button, check, combo, box, tabs):
        w.setMinimumWidth(0)
        w.setMaximumWidth(16_777_215)
    wide.setText("x")
    b.setPos(1, 8)
    c.setPos(1, 9.5)
    line.setData([0, 10], [0.2, 1.2])
    qtbot.waitUntil(lambda: clipped(host) == [] and chart_overlaps(plot) == [], timeout=5000)


#: The import dialog on each screen: the screen's free area (Xvfb and offscreen report the whole
#: screen; a real laptop takes its taskbar off, the dialog its title bar: about 80 px in all).
SCREENS = {"1366x768": (1366, 768), "1920x1080": (1920, 1080)}


@pytest.mark.parametrize("refused", [False, True], ids=["first look", "refused and shown again"])
@pytest.mark.parametrize("screen", list(SCREENS.values()), ids=list(SCREENS))
def test_the_import_dialog_fits_the_screen_with_nothing_clipped(qtbot, tmp_path, screen, refused):
    """It was 760 px tall (842 with a refusal): on a 1366x768 laptop its Import button was below the
    screen. Now it takes what the screen leaves and the mapping form scrolls; on 1920x1080 nothing scrolls."""
    from PySide6.QtCore import QRect, QSettings

    from etl_desk.ui.data.import_dialog import WINDOW_FRAME_PX, ImportDialog
    from etl_desk.ui.settings import Settings

    p = tmp_path / "odd.csv"
    p.write_text("Ident,Began,Secs,Outcome,Dollars,Notes\na-1,2024-05-01T08:00:00Z,120,ok,1.5,first\n"
                 "a-2,2024-05-01T09:00:00Z,240,error,2.5,second\n")
    error = "cannot tell the decimal mark of column 'Dollars' (1,250 reads as 1.25 or 1250)" if refused else None
    dlg = ImportDialog(str(p), Settings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)), error=error)
    qtbot.addWidget(dlg)
    w, h = screen
    dlg.fit_to(QRect(0, 0, w, h))
    dlg.show()
    qtbot.waitExposed(dlg)
    qtbot.wait(30)
    assert dlg.height() <= h - WINDOW_FRAME_PX and dlg.width() <= w
    ok = dlg.buttons.button(dlg.buttons.StandardButton.Ok)
    bottom = ok.mapTo(dlg, ok.rect().bottomLeft()).y()
    assert 0 < bottom <= dlg.height(), (bottom, dlg.height())  # the Import button is on the dialog, in view
    assert clipped(dlg) == []
    if w >= 1920:  # room for everything: the form does not scroll
        assert not dlg.scroll.verticalScrollBar().isVisible()
