"""The Operations view: each solution's feasibility, technology requirements, team, timeline and its
architecture diagram (SVG, scaled to fit its pane, zoomable with the wheel or the +/− buttons).

No text column is narrower than its longest word: the solution list and the text
pane get minimum widths measured from their own words.
"""
from __future__ import annotations

import html

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (QFrame, QGraphicsScene, QGraphicsView, QHBoxLayout, QLabel, QListWidget, QSplitter,
                               QTextBrowser, QToolButton, QVBoxLayout, QWidget)

from etl_desk.core.business_case.catalogue import diagram_path

ZOOM_STEP = 1.25


def longest_word_px(widget: QWidget, texts) -> int:
    fm = widget.fontMetrics()
    words = [w for t in texts for w in str(t).split()]
    return max((fm.horizontalAdvance(w) for w in words), default=0)


class DiagramView(QGraphicsView):
    """An SVG fitted to the view (keeping its aspect ratio) until the user zooms; double-click refits."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("architectureDiagram")
        self.setScene(QGraphicsScene(self))
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.SmoothPixmapTransform)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.item = None
        self.fitted = True
        self.setMinimumSize(220, 160)

    def load(self, path: str) -> bool:
        from PySide6.QtSvg import QSvgRenderer
        from PySide6.QtSvgWidgets import QGraphicsSvgItem

        self.scene().clear()
        self.item = None
        renderer = QSvgRenderer(path, self)
        if not renderer.isValid():
            return False
        item = QGraphicsSvgItem()
        item.setSharedRenderer(renderer)
        self._renderer = renderer
        self.scene().addItem(item)
        self.item = item
        self.scene().setSceneRect(item.boundingRect())
        self.fit()
        return True

    def fit(self) -> None:
        self.fitted = True
        if self.item is not None:
            self.fitInView(self.item.boundingRect().adjusted(-8, -8, 8, 8), Qt.AspectRatioMode.KeepAspectRatio)

    def scale_factor(self) -> float:
        return self.transform().m11()

    def zoom(self, factor: float) -> None:
        self.fitted = False
        self.scale(factor, factor)

    def resizeEvent(self, ev):  # noqa: N802 - Qt API
        super().resizeEvent(ev)
        if self.fitted:
            self.fit()

    def wheelEvent(self, ev):  # noqa: N802 - Qt API
        self.zoom(ZOOM_STEP if ev.angleDelta().y() > 0 else 1 / ZOOM_STEP)

    def mouseDoubleClickEvent(self, ev):  # noqa: N802 - Qt API
        self.fit()

    def content_rect(self) -> QRectF:
        """Where the diagram is drawn, in viewport pixels."""
        if self.item is None:
            return QRectF()
        return self.mapFromScene(self.item.boundingRect()).boundingRect().toRectF()


class OperationsView(QWidget):
    """Public: ``list`` (one row per solution), ``text`` (the QTextBrowser), ``diagram`` (DiagramView),
    ``diagram_title``, ``diagram_missing``, ``show(row)``."""

    def __init__(self, solutions, target_specs, parent=None):
        super().__init__(parent)
        self.solutions, self.target_specs = solutions, target_specs
        self.assumptions = None
        h = QHBoxLayout(self)
        h.setContentsMargins(0, 2, 0, 0)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.setObjectName("operationsSplitter")
        split.setChildrenCollapsible(False)
        self.splitter = split
        self.list = QListWidget()
        self.list.setObjectName("operationsList")
        for s in solutions:
            self.list.addItem(f"{s.number}. {s.name}")
        self.list.setWordWrap(True)
        self.list.setMinimumWidth(longest_word_px(self.list, [f"{s.number}. {s.name}" for s in solutions]) + 40)
        self.list.currentRowChanged.connect(self.show_solution)
        split.addWidget(self.list)
        self.text = QTextBrowser()
        self.text.setObjectName("operationsText")
        self.text.setOpenLinks(False)
        words = [w for s in solutions for w in (s.feasibility, *s.technology, *s.personnel, s.timeline, s.summary)]
        self.text.setMinimumWidth(max(240, longest_word_px(self.text, words) + 40))
        split.addWidget(self.text)

        host = QWidget()
        dl = QVBoxLayout(host)
        dl.setContentsMargins(0, 0, 0, 0)
        dl.setSpacing(2)
        bar = QHBoxLayout()
        self.diagram_title = QLabel("<b>Architecture</b>")
        self.diagram_title.setWordWrap(True)
        bar.addWidget(self.diagram_title, 1)
        self.zoom_buttons = {}
        for key, text, tip in (("out", "−", "Zoom out"), ("fit", "Fit", "Fit the diagram to the pane"),
                               ("in", "+", "Zoom in (or use the mouse wheel)")):
            b = QToolButton()
            b.setText(text)
            b.setToolTip(tip)
            b.setObjectName(f"diagramZoom_{key}")
            bar.addWidget(b)
            self.zoom_buttons[key] = b
        dl.addLayout(bar)
        self.diagram = DiagramView()
        dl.addWidget(self.diagram, 1)
        self.zoom_buttons["in"].clicked.connect(lambda: self.diagram.zoom(ZOOM_STEP))
        self.zoom_buttons["out"].clicked.connect(lambda: self.diagram.zoom(1 / ZOOM_STEP))
        self.zoom_buttons["fit"].clicked.connect(self.diagram.fit)
        self.diagram_missing = QLabel()
        self.diagram_missing.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.diagram_missing.setWordWrap(True)
        self.diagram_missing.setVisible(False)
        dl.addWidget(self.diagram_missing)
        split.addWidget(host)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 2)
        split.setStretchFactor(2, 3)
        h.addWidget(split)

    def set_assumptions(self, a: dict) -> None:
        self.assumptions = a
        row = self.list.currentRow()
        if row < 0:
            self.list.setCurrentRow(0)
        else:
            self.show_solution(row)

    def show_solution(self, row: int) -> None:
        if not (0 <= row < len(self.solutions)) or self.assumptions is None:
            return
        s = self.solutions[row]
        target = self.assumptions["solutions"][s.id]["target"]
        tgt = self.target_specs.get(target)
        tech = "".join(f"<li>{html.escape(x)}</li>" for x in s.technology)
        team = "".join(f"<li>{html.escape(x)}</li>" for x in s.personnel)
        self.text.setHtml(
            f"<h3 style='margin:0'>{s.number}. {html.escape(s.name)}</h3>"
            f"<p>{html.escape(s.summary)}</p>"
            f"<p><b>Feasibility.</b> {html.escape(s.feasibility)}</p>"
            f"<p><b>Acts on:</b> {html.escape(tgt.label if tgt else target)} — "
            f"{html.escape(tgt.description if tgt else '')}</p>"
            f"<p><b>Technology requirements</b></p><ul style='margin-top:0'>{tech}</ul>"
            f"<p><b>Team</b></p><ul style='margin-top:0'>{team}</ul>"
            f"<p><b>Timeline.</b> {html.escape(s.timeline)}</p>")
        self.diagram_title.setText(f"<b>Architecture — {html.escape(s.name)}</b>")
        path = diagram_path(s)
        ok = path.is_file() and self.diagram.load(str(path))
        self.diagram.setVisible(ok)
        self.diagram_missing.setVisible(not ok)
        if not ok:
            self.diagram_missing.setText(f"The architecture diagram {path.name} could not be read")
