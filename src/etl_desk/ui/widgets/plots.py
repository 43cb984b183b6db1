"""Small helpers for pyqtgraph plots shared by the charts."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QPalette


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


class _PaletteFollower(QObject):
    def __init__(self, plot_widget, extra=None):
        super().__init__(plot_widget)
        self.plot, self.extra = plot_widget, extra
        plot_widget.installEventFilter(self)
        self.apply()

    def eventFilter(self, obj, event):  # noqa: N802 - Qt API
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange,
                            QEvent.Type.StyleChange):
            self.apply()
        return False

    def apply(self) -> None:
        pal = self.plot.palette()
        self.plot.setBackground(pal.color(QPalette.ColorRole.Base))
        text, line = pal.color(QPalette.ColorRole.Text), pal.color(QPalette.ColorRole.Mid)
        pi = self.plot.getPlotItem()
        for name in ("left", "bottom", "right", "top"):
            ax = pi.getAxis(name)
            ax.setPen(pg.mkPen(line))
            ax.setTextPen(pg.mkPen(text))
            if ax.labelText:
                ax.setLabel(ax.labelText, ax.labelUnits or None, ax.labelUnitPrefix or None, color=text.name())
        if self.extra is not None:
            self.extra(pal)


def follow_palette(plot_widget, extra=None) -> None:
    """Draw *plot_widget* in the window's palette (light or dark): background, axes and axis text.

    Status colours are the data's own and stay as they are. *extra(palette)* is called as well,
    for a chart's own palette-dependent parts. Re-applied whenever the palette changes.
    """
    plot_widget._palette_follower = _PaletteFollower(plot_widget, extra)


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Base).lightness() < 128


def set_axis_label(plot_item, side: str, text: str) -> None:
    """Label an axis in the palette's text colour."""
    color = plot_item.getViewWidget().palette().color(QPalette.ColorRole.Text) if plot_item.getViewWidget() \
        else None
    style = {"color": color.name()} if color is not None else {}
    axis = plot_item.getAxis(side)
    if axis.labelText == text and axis.labelStyle == style and axis.label.isVisible():
        return  # unchanged: relabelling re-lays the axis out and redraws it (every view change of a chart)
    plot_item.setLabel(side, text, **style)
