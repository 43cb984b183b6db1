"""Find what a person would see cut off: walk a window's widget tree and measure.

:func:`clipped` lists, for the widgets on screen, every single-line label, button,
check box, combo box, tab, group box title and dock title whose text is wider than
the room its widget gives it, every widget that sticks out of its parent, and every
pair of overlapping text annotations in a pyqtgraph chart (or one that leaves its
plot). Word-wrapped labels are exempt (they wrap); so are widgets scrolled out of
view. Each problem is one readable line.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import (QAbstractButton, QAbstractScrollArea, QCheckBox, QComboBox, QDockWidget, QGroupBox,
                               QLabel, QPushButton, QRadioButton, QStyle, QStyleOptionButton, QStyleOptionComboBox,
                               QTabBar, QToolButton, QWidget)

SLACK = 1  # px of rounding allowed


def _name(w: QWidget) -> str:
    return f"{type(w).__name__}#{w.objectName() or '?'}"


def _shown(w: QWidget) -> bool:
    """Visible, within its window (whether or not a scroll area shows it right now)."""
    return w.isVisible() and w.width() > 0 and w.height() > 0


def _on_screen(w: QWidget) -> bool:
    """Visible and not scrolled (or clipped) out of view by any ancestor."""
    if not w.isVisible() or w.width() <= 0 or w.height() <= 0:
        return False
    r = w.rect()
    child = w
    while not child.isWindow():
        parent = child.parentWidget()
        r = r.translated(child.pos()).intersected(parent.rect())
        if r.isEmpty():
            return False
        child = parent
    return True


def _text_width(w: QWidget, text: str) -> int:
    fm = w.fontMetrics()
    return max((fm.horizontalAdvance(line) for line in text.split("\n")), default=0)


def _rich_width(w: QLabel) -> float:
    doc = QTextDocument()
    doc.setDefaultFont(w.font())
    doc.setDocumentMargin(0)
    doc.setHtml(w.text())
    return doc.idealWidth()


def _label_problem(w: QLabel) -> str | None:
    text = w.text()
    if not text or w.wordWrap() or w.pixmap() is not None and not w.pixmap().isNull():
        return None
    room = w.contentsRect().width() - 2 * max(w.margin(), 0) - max(w.indent(), 0)
    rich = w.textFormat().name == "RichText" or (w.textFormat().name == "AutoText" and "<" in text and ">" in text)
    need = _rich_width(w) if rich else _text_width(w, text)
    if need > room + SLACK:
        return f"{_name(w)} {text[:60]!r} needs {need:.0f}px, has {room}px"
    return None


def _button_problem(w: QAbstractButton) -> str | None:
    text = w.text().replace("&&", "\0").replace("&", "").replace("\0", "&")
    if not text:
        return None
    need = _text_width(w, text)
    if isinstance(w, (QCheckBox, QRadioButton)):
        opt = QStyleOptionButton()
        opt.initFrom(w)
        sub = QStyle.SubElement.SE_CheckBoxContents if isinstance(w, QCheckBox) else \
            QStyle.SubElement.SE_RadioButtonContents
        room = w.style().subElementRect(sub, opt, w).width()
    elif isinstance(w, QPushButton):
        opt = QStyleOptionButton()
        opt.initFrom(w)
        room = w.style().subElementRect(QStyle.SubElement.SE_PushButtonContents, opt, w).width()
        if not w.icon().isNull():
            room -= w.iconSize().width() + 4
    elif isinstance(w, QToolButton):
        if w.toolButtonStyle().name == "ToolButtonIconOnly" and not w.icon().isNull():
            return None
        room = w.width() - 6
        if w.popupMode().name == "MenuButtonPopup":
            room -= 14
    else:
        room = w.width()
    if need > room + SLACK:
        return f"{_name(w)} {text[:60]!r} needs {need}px, has {room}px"
    return None


def _combo_problem(w: QComboBox) -> str | None:
    text = w.currentText()
    if not text:
        return None
    if w.isEditable() and w.lineEdit() is not None:
        room = w.lineEdit().width() - 4
    else:
        opt = QStyleOptionComboBox()
        w.initStyleOption(opt)
        room = w.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, opt,
                                        QStyle.SubControl.SC_ComboBoxEditField, w).width()
    need = _text_width(w, text)
    if need > room + SLACK:
        return f"{_name(w)} {text[:60]!r} needs {need}px, has {room}px"
    return None


def _tab_problems(w: QTabBar) -> list[str]:
    out = []
    for i in range(w.count()):
        if not w.isTabVisible(i):
            continue
        r, hint = w.tabRect(i), w.tabSizeHint(i)
        if r.isEmpty() or not w.rect().intersects(r):
            out.append(f"{_name(w)} tab {w.tabText(i)!r} is out of view")
        elif r.width() + SLACK < hint.width() and w.shape().name.startswith(("Rounded", "Triangular")) and \
                w.shape().name.endswith(("North", "South")):
            out.append(f"{_name(w)} tab {w.tabText(i)!r} needs {hint.width()}px, has {r.width()}px")
    return out


def _titled_problem(w: QWidget) -> str | None:
    if isinstance(w, QGroupBox):
        title, room = w.title(), w.width() - 16
    else:
        title = w.windowTitle()
        room = w.width() - 44 if w.titleBarWidget() is None else w.titleBarWidget().width()
    need = _text_width(w, title.replace("&", ""))
    if title and need > room + SLACK:
        return f"{_name(w)} title {title[:60]!r} needs {need}px, has {room}px"
    return None


def _cut_by_scroll_area(w: QWidget) -> str | None:
    """A control inside a scroll area whose right part is cut off by the viewport's edge: scrolling
    sideways to reach a button is a layout problem (scrolling down is not)."""
    from PySide6.QtWidgets import QScrollArea

    area = w.parentWidget()
    while area is not None and not isinstance(area, QScrollArea):
        area = area.parentWidget()
    if area is None:
        return None
    vp = area.viewport()
    r = w.rect().translated(w.mapTo(vp, w.rect().topLeft()))
    in_rows = r.bottom() >= 0 and r.top() <= vp.rect().bottom()  # on screen if it were not cut sideways
    if in_rows and (r.right() > vp.rect().right() + SLACK or r.left() < -SLACK):
        return f"{_name(w)} {getattr(w, 'text', lambda: '')()[:40]!r} is cut off at the side of {_name(area)}"
    return None


def _outside_parent(w: QWidget) -> str | None:
    parent = w.parentWidget()
    if parent is None or w.isWindow() or isinstance(parent, QAbstractScrollArea) or \
            isinstance(parent.parentWidget(), QAbstractScrollArea):
        return None  # scrolled content may reach past the viewport: that is what the scroll bars are for
    inner = parent.rect()
    g = w.geometry()
    if not inner.adjusted(-SLACK, -SLACK, SLACK, SLACK).contains(g):
        return f"{_name(w)} at {g.x()},{g.y()} {g.width()}x{g.height()} sticks out of {_name(parent)} " \
               f"({inner.width()}x{inner.height()})"
    return None


def chart_overlaps(plot_widget) -> list[str]:
    """Visible text annotations of a pyqtgraph PlotWidget that overlap each other or leave the plot."""
    import pyqtgraph as pg

    vb = plot_widget.getPlotItem().vb
    area = vb.sceneBoundingRect()
    items = [it for it in plot_widget.getPlotItem().items if isinstance(it, pg.TextItem)
             and it.isVisible() and it.textItem.toPlainText().strip()]
    rects = [(it, it.sceneBoundingRect()) for it in items]
    out = []
    curves = [c for c in plot_widget.getPlotItem().listDataItems() if isinstance(c, pg.PlotDataItem) and c.isVisible()]
    for c in curves:
        x, y = c.getData()
        if x is None or len(x) < 2:
            continue
        xs = np.linspace(float(x[0]), float(x[-1]), 400)
        ys = np.interp(xs, x, y)
        pts = [vb.mapViewToScene(pg.Point(float(a), float(b))) for a, b in zip(xs, ys)]
        for it, r in rects:
            if any(r.contains(p) for p in pts):
                out.append(f"{_name(plot_widget)} annotation {it.textItem.toPlainText()[:40]!r} covers a line")
    for i, (a, ra) in enumerate(rects):
        if not area.adjusted(-SLACK, -SLACK, SLACK, SLACK).contains(ra):
            out.append(f"{_name(plot_widget)} annotation {a.textItem.toPlainText()[:40]!r} leaves the plot")
        for b, rb in rects[i + 1:]:
            if ra.intersects(rb) and ra.intersected(rb).width() > SLACK and ra.intersected(rb).height() > SLACK:
                out.append(f"{_name(plot_widget)} annotations {a.textItem.toPlainText()[:30]!r} and "
                           f"{b.textItem.toPlainText()[:30]!r} overlap")
    return out


def clipped(root: QWidget) -> list[str]:
    """Every problem found under *root* (a window), one line each."""
    import pyqtgraph as pg

    problems: list[str] = []
    for w in [root, *root.findChildren(QWidget)]:
        if isinstance(w, QAbstractButton) and _shown(w) and not _on_screen(w):
            q = _cut_by_scroll_area(w)  # scrolled sideways out of view entirely
            if q:
                problems.append(q)
        if not _on_screen(w):
            continue
        p = None
        if isinstance(w, QLabel):
            p = _label_problem(w)
        elif isinstance(w, QAbstractButton):
            p = _button_problem(w) or _cut_by_scroll_area(w)
        elif isinstance(w, QComboBox):
            p = _combo_problem(w)
        elif isinstance(w, (QGroupBox, QDockWidget)):
            p = _titled_problem(w)
        elif isinstance(w, QTabBar):
            problems += _tab_problems(w)
        elif isinstance(w, pg.PlotWidget):
            problems += chart_overlaps(w)
        if p:
            problems.append(p)
        if not isinstance(w, QTabBar):
            q = _outside_parent(w)
            if q:
                problems.append(q)
    return problems



