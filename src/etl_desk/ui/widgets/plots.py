"""Small helpers for pyqtgraph plots shared by the charts."""
from __future__ import annotations


def without_menus(plot_item) -> None:
    """Switch off pyqtgraph's context menus on *plot_item* and free them.

    pyqtgraph builds a "Plot Options" menu (and a ViewBox menu) as parentless top-level
    QMenus that live as long as the Python item does; ETL Desk never shows them, so they
    are dropped at once rather than outliving the window that showed the plot.
    """
    plot_item.setMenuEnabled(False)  # drops the ViewBox menu as well
    menu, plot_item.ctrlMenu = plot_item.ctrlMenu, None  # PlotItem.close() treats None as "already closed"
    if menu is not None:
        menu.deleteLater()
