"""The window's menus: File, Edit, View, Go, Help. Every item calls a helper or a window method."""
from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence

from etl_desk import APP_NAME
from etl_desk.core.dashboard.view import METRIC_TITLES, METRICS


def action(win, text, slot, shortcut=None, tip=None, menu=None, checkable=False) -> QAction:
    a = QAction(text, win)
    if shortcut:
        a.setShortcut(QKeySequence(shortcut))
    if tip:
        a.setStatusTip(tip)
        a.setToolTip(tip)
    a.setCheckable(checkable)
    a.triggered.connect(slot)
    if menu is not None:
        menu.addAction(a)
    return a


def build_menus(win) -> None:
    """Fill *win*'s menu bar (``win.files``, ``win.exports``, ``win.dashboard`` must exist)."""
    mb, f, x, dash = win.menuBar(), win.files, win.exports, win.dashboard
    m = mb.addMenu("&File")
    win.act_open = action(win, "&Open…", f.open_dialog, QKeySequence.StandardKey.Open,
                          "Open a run history (CSV, Excel, Parquet, Databricks exports, Jobs API JSON)", m)
    win.act_import = action(win, "&Import with column mapping…", f.import_dialog, "Ctrl+I",
                            "Open a CSV / Excel / Parquet file and choose which column holds what", m)
    win.recent_menu = m.addMenu("Open &Recent")
    m.addSeparator()
    action(win, "Load &case-study data", lambda: win.generate("case-study"), None,
           "The published 1,000 runs (seed 42)", m)
    action(win, "&Generate", win.generate_from_panel, "Ctrl+G", "Generate with the generator panel's settings", m)
    m.addSeparator()
    action(win, "Export &workbook for finance…", x.workbook_dialog, "Ctrl+E",
           "One .xlsx: cover, assumptions, KPIs, insights, anomalies, data, business case with live formulas, "
           "charts", m)
    action(win, "Export report &PDF…", x.pdf_dialog, None,
           "The report pages (decision, assumptions, business case, annual cash flows, scenarios, charts) as a "
           "PDF, printed by LibreOffice", m)
    export_menu = m.addMenu("&Export")
    action(win, "Filtered data as &CSV…", lambda: x.data_dialog("csv"), None,
           "The runs in the current filter as CSV", export_menu)
    action(win, "Filtered data as &Parquet…", lambda: x.data_dialog("parquet"), None,
           "The runs in the current filter as Parquet", export_menu)
    export_menu.addSeparator()
    for k in METRICS:
        action(win, f"{METRIC_TITLES[k]} chart as image…", lambda _=False, k=k: x.chart_dialog(k), None,
               "PNG or SVG", export_menu)
    m.addSeparator()
    action(win, "&Quit", win.close, QKeySequence.StandardKey.Quit, "Quit ETL Desk", m)

    e = mb.addMenu("&Edit")
    action(win, "Select &all runs in view", win.select_all_in_view, QKeySequence.StandardKey.SelectAll, None, e)
    action(win, "&Clear selection", win.state.clear_selection, "Esc", None, e)
    action(win, "Copy &key figures", x.copy_kpis, "Ctrl+Shift+C",
           "Copy the KPI table (tab-separated) to the clipboard, ready to paste into Excel", e)
    action(win, "Copy &business case", x.copy_business_case, None,
           "Copy the business case at the current assumptions to the clipboard as text", e)
    action(win, "&Find…", win.filter_bar.focus_text, QKeySequence.StandardKey.Find,
           "Filter by pipeline name or run ID", e)

    g = mb.addMenu("&Go")
    for a in win.page_actions.values():
        g.addAction(a)
    g.addSeparator()
    g.addAction(win.act_generator)

    v = mb.addMenu("&View")
    docks = v.addMenu("Dashboard &panels")
    for d in dash.docks:
        docks.addAction(d.toggleViewAction())
    for t in win.toolbars:
        v.addAction(t.toggleViewAction())
    v.addSeparator()
    action(win, "Reset &zoom", dash.reset_zoom, "Ctrl+0", "Show the first bars again", v)
    action(win, "&Reset layout", win.reset_layout, None, "Put every panel of every page back where it started", v)

    h = mb.addMenu("&Help")
    action(win, f"&About {APP_NAME}", win.show_about, None, None, h)
    f.fill_recent_menu(win.recent_menu)
