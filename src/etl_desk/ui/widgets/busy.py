"""The progress bar and Cancel button a view shows beside its title while its background job runs."""
from __future__ import annotations

from PySide6.QtWidgets import QProgressBar, QPushButton


def progress_and_cancel(name: str, text: str, cancel_tip: str, on_cancel=None, width: int = 120
                        ) -> tuple[QProgressBar, QPushButton]:
    """A hidden 0–100 % progress bar reading ``"<text> 45%"`` and a hidden Cancel button calling *on_cancel*
    (None: the caller connects it).

    Object names ``<name>Progress`` / ``<name>Cancel`` (tests and style sheets find them by name); the
    caller shows both while its job runs and places them in its own layout.
    """
    progress = QProgressBar()
    progress.setObjectName(f"{name}Progress")
    progress.setRange(0, 100)
    progress.setFormat(f"{text} %p%")
    progress.setMaximumWidth(width)
    progress.setVisible(False)
    cancel = QPushButton("Cancel")
    cancel.setObjectName(f"{name}Cancel")
    cancel.setToolTip(cancel_tip)
    cancel.setVisible(False)
    if on_cancel is not None:
        cancel.clicked.connect(on_cancel)
    return progress, cancel
