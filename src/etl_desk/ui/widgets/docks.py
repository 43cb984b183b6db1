"""The dashboard layout both Dashboard pages share (runs in memory: ui/dashboard; a big history: ui/big).

A page is a QMainWindow of its own: header toolbars (key figures, legend) on top, the three
charts side by side in docks whose job axes scroll together, and below them cost over time
and the run table side by side. :func:`add_dock` makes one dock, :func:`add_header` the
header toolbars, :func:`add_chart_docks` the linked chart row, :func:`initial_sizes` sizes
it all (charts ~58 % of the height; cost over time 42 % and the runs 58 % of the width).
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QToolBar, QWidget

MOVABLE = QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetFloatable


def add_dock(page: QMainWindow, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea,
             closable: bool = True) -> QDockWidget:
    """A dock titled *title* (object name *name*) holding *widget*, added to *page* in *area*."""
    d = QDockWidget(title, page)
    d.setObjectName(name)
    d.setWidget(widget)
    d.setFeatures((MOVABLE | QDockWidget.DockWidgetFeature.DockWidgetClosable) if closable else MOVABLE)
    page.addDockWidget(area, d)
    return d


def add_header(page: QMainWindow, parts: list[tuple[str, str, QWidget]]) -> None:
    """One fixed toolbar row per (object name, title, widget), top to bottom."""
    for name, title, w in parts:
        tb = QToolBar(title, page)
        tb.setObjectName(name)
        tb.setMovable(False)
        tb.addWidget(w)
        page.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)
        page.addToolBarBreak()


def add_chart_docks(page: QMainWindow, charts: dict, titles: dict, prefix: str,
                    closable: bool = True) -> dict[str, QDockWidget]:
    """Dock *charts* (metric -> BarChart, in order) side by side on top; every chart's job axis follows the
    first one's. Dock names are ``prefix + metric``. Returns metric -> dock."""
    docks: dict[str, QDockWidget] = {}
    first = prev = None
    for m, chart in charts.items():
        dock = add_dock(page, titles[m], f"{prefix}{m}", chart, Qt.DockWidgetArea.TopDockWidgetArea, closable)
        if prev is None:
            first = chart
        else:
            page.splitDockWidget(prev, dock, Qt.Orientation.Horizontal)
            chart.vb.setYLink(first.vb)
        docks[m] = dock
        prev = dock
    return docks


def initial_sizes(page: QMainWindow, chart_docks: list[QDockWidget], time_dock: QDockWidget,
                  table_dock: QDockWidget) -> None:
    """Charts on the top ~58 % in equal widths; cost over time (42 %) and the runs (58 %) side by side below."""
    w, h = max(page.width(), 600), max(page.height() - 90, 300)
    page.resizeDocks(chart_docks, [w // len(chart_docks)] * len(chart_docks), Qt.Orientation.Horizontal)
    page.resizeDocks([chart_docks[0], time_dock], [int(h * 0.58), int(h * 0.42)], Qt.Orientation.Vertical)
    page.resizeDocks([time_dock, table_dock], [int(w * 0.42), int(w * 0.58)], Qt.Orientation.Horizontal)
