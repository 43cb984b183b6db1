"""A one-line label that elides what does not fit (the J-curve legend's names, the big page's status note)."""
from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QLabel, QSizePolicy


class ElidedLabel(QLabel):
    """A one-line label that shows as much of its text as fits, ending in '…' (``full_text`` keeps it all;
    the tooltip shows it when some is cut). One line, so a longer text never makes the layout around it jump."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.full_text = ""
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt API
        self.full_text = text
        self.updateGeometry()
        self._elide()

    def sizeHint(self):  # noqa: N802 - Qt API
        h = super().sizeHint()
        h.setWidth(self.fontMetrics().horizontalAdvance(self.full_text) + 2)
        return h

    def minimumSizeHint(self):  # noqa: N802 - Qt API
        h = super().minimumSizeHint()
        h.setWidth(min(self.fontMetrics().horizontalAdvance("5. Perf…"), self.sizeHint().width()))
        return h

    def _elide(self) -> None:
        shown = self.fontMetrics().elidedText(self.full_text, Qt.TextElideMode.ElideRight, self.contentsRect().width())
        if shown != super().text():
            super().setText(shown)
            self.setToolTip(self.full_text if shown != self.full_text else "")

    def resizeEvent(self, ev):  # noqa: N802 - Qt API
        super().resizeEvent(ev)
        self._elide()

    def changeEvent(self, ev):  # noqa: N802 - Qt API
        super().changeEvent(ev)
        if ev.type() == QEvent.Type.FontChange:
            self.updateGeometry()
            self._elide()
