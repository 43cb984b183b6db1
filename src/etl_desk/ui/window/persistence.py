"""What the window remembers between sessions: geometry, the page, each page's layout, the generator.

Every key is declared in :mod:`etl_desk.ui.settings`; this module only maps the
window's parts to them. A page built after the first paint gets its layout when
it is built (:func:`restore_pages`).
"""
from __future__ import annotations

import base64

from PySide6.QtCore import QByteArray, QTimer

from etl_desk.ui import settings as keys


def restore_window(win) -> bool:
    """Geometry, the dashboard's panels, the generator and (after the first paint) the page.
    True when a dashboard layout was restored."""
    s = win.settings
    geo = s.get(keys.GEOMETRY)
    if geo is not None:
        win.restoreGeometry(geo)
    restored = win.dashboard.restore_layout(s.get(keys.DASHBOARD_LAYOUT))
    win.set_generator_visible(bool(s.get(keys.GENERATOR_VISIBLE)))
    page = s.get(keys.PAGE)
    if page != "dashboard" and page in win.page_actions:
        QTimer.singleShot(0, lambda: win.show_page(page))
    return restored


def restore_pages(win) -> None:
    """The layouts of the pages built after the first paint."""
    s = win.settings
    for key, name in ((keys.INSIGHTS_LAYOUT, "insights"), (keys.SOURCES_LAYOUT, "sources")):
        state = s.get(key)
        if state is not None:
            win._pages[name].splitter.restoreState(state)
    bc = s.get(keys.BUSINESS_CASE_LAYOUT)
    if isinstance(bc, dict):
        try:
            win._pages["business_case"].restore_layout(
                {k: QByteArray(base64.b64decode(v)) if isinstance(v, str) else v for k, v in bc.items()})
        except (ValueError, TypeError):
            pass  # damaged: the page keeps its default layout


def save_window(win) -> None:
    s = win.settings
    s.set(keys.GEOMETRY, win.saveGeometry())
    s.set(keys.DASHBOARD_LAYOUT, win.dashboard.save_layout())
    if win._generator is not None:  # never opened: its stored settings stay as they were
        s.set(keys.GENERATOR, win._generator.state_dict())
    s.set(keys.GENERATOR_VISIBLE, int(win.generator_host.isVisible()))
    s.set(keys.PAGE, win.current_page())
    pages = win._pages
    if pages["insights"] is not None:
        s.set(keys.INSIGHTS_LAYOUT, pages["insights"].splitter.saveState())
        s.set(keys.SOURCES_LAYOUT, pages["sources"].splitter.saveState())
        s.set(keys.BUSINESS_CASE_LAYOUT, {k: base64.b64encode(bytes(v)).decode("ascii") if isinstance(v, QByteArray)
                                          else v for k, v in pages["business_case"].save_layout().items()})
    s.sync()
