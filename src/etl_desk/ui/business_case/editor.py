"""The portfolio and its assumptions: a check box per solution, then one form per section
(general, then each solution), built by the one form builder from the catalogue's field specs.

Edits go to the shared :class:`~etl_desk.ui.business_case.assumptions_model.AssumptionsModel`;
a value core refuses is reported (naming the key) and the editor shows the
model's value again. Load / Save read and write TOML or JSON files.
"""
from __future__ import annotations

import html
import os

from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtWidgets import (QCheckBox, QFileDialog, QFrame, QGroupBox, QHBoxLayout, QLabel, QPushButton,
                               QScrollArea, QToolBox, QVBoxLayout, QWidget)

from etl_desk.core.errors import DataError
from etl_desk.ui import settings as keys
from etl_desk.ui.widgets.spec_form import FormField, SpecForm

FILE_FILTER = "Assumptions (*.toml *.json);;TOML (*.toml);;JSON (*.json);;All files (*)"
ANNUALISATION_TIPS = {"span": "A year of cost = the cost in the data × 365 / the days from the first start to the last end",
                      "active_days": "A year of cost = the cost in the data × 365 / the days with at least one run"}


class AssumptionsEditor(QWidget):
    """Public: ``solution_checks`` (id -> QCheckBox), ``editors`` (path -> editor), ``forms``,
    ``error_label``, ``last_error``; ``errorReported(str)``."""

    errorReported = Signal(str)

    def __init__(self, model, solutions, global_specs, target_specs, settings=None, parent=None):
        super().__init__(parent)
        self.setObjectName("assumptionsEditor")
        self.model, self.solutions, self.settings = model, solutions, settings
        self.last_error = ""
        v = QVBoxLayout(self)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(4)
        box = QGroupBox("Portfolio — solutions to fund")
        bl = QVBoxLayout(box)
        bl.setContentsMargins(6, 4, 6, 4)
        bl.setSpacing(1)
        self.solution_checks: dict[str, QCheckBox] = {}
        for s in solutions:
            cb = QCheckBox(f"{s.number}. {s.name}")
            cb.setObjectName(f"solutionCheck_{s.id}")
            cb.setToolTip(f"<b>{html.escape(s.name)}</b><br>{html.escape(s.summary)}")
            cb.toggled.connect(lambda on, sid=s.id: self._edited(("solutions", sid, "enabled"), bool(on)))
            bl.addWidget(cb)
            self.solution_checks[s.id] = cb
        v.addWidget(box)

        target_labels = {k: t.label for k, t in target_specs.items()}
        target_tips = {k: t.description for k, t in target_specs.items()}

        def field(path, a):
            return FormField(path, a.spec, a.kind, choice_labels=target_labels,
                             choice_tips={**target_tips, **ANNUALISATION_TIPS})

        self.editors: dict[tuple, QWidget] = {}
        self.forms: list[SpecForm] = []
        self.editor_box = QToolBox()
        self.editor_box.setObjectName("assumptionSections")
        sections = [([field(("global", k), a) for k, a in global_specs.items()],
                     "General: horizon, scenario, dates, storage")]
        for s in solutions:
            sections.append(([field(("solutions", s.id, k), a) for k, a in s.assumptions.items()
                              if k != "enabled"],
                             f"{s.number}. {s.name}"))
        for items, title in sections:
            form = SpecForm(items, object_prefix="editor_", rich_tooltips=True, min_editor_width=130)
            form.edited.connect(self._edited)
            self.forms.append(form)
            self.editors.update(form.editors)
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QFrame.Shape.NoFrame)
            scroll.setWidget(form)
            self.editor_box.addItem(scroll, title)
        v.addWidget(self.editor_box, 1)

        row = QHBoxLayout()
        self.load_button = QPushButton("Load…")
        self.load_button.setToolTip("Load assumptions from a TOML or JSON file")
        self.load_button.clicked.connect(self.load_dialog)
        self.save_button = QPushButton("Save…")
        self.save_button.setToolTip("Save these assumptions to a TOML or JSON file")
        self.save_button.clicked.connect(self.save_dialog)
        self.defaults_button = QPushButton("Defaults")
        self.defaults_button.setToolTip("Put every assumption back to the catalogue's default")
        self.defaults_button.clicked.connect(lambda: self.model.reset())
        for b in (self.load_button, self.save_button, self.defaults_button):
            row.addWidget(b)
        v.addLayout(row)
        self.error_label = QLabel()
        self.error_label.setObjectName("assumptionsError")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #B03A2E;")
        self.error_label.setVisible(False)
        v.addWidget(self.error_label)
        model.changed.connect(self.show_assumptions)
        self.show_assumptions()

    # --- showing and editing ----------------------------------------------------------------------
    def show_assumptions(self, *args) -> None:
        """Put the model's assumptions into every editor (silently)."""
        m = self.model
        for sid, cb in self.solution_checks.items():
            with QSignalBlocker(cb):
                cb.setChecked(bool(m.value(("solutions", sid, "enabled"))))
        for form in self.forms:
            form.set_values({path: m.value(path) for path in form.editors})
        for i, s in enumerate(self.solutions, 1):
            on = m.value(("solutions", s.id, "enabled"))
            self.editor_box.setItemText(i, f"{s.number}. {s.name}" + ("" if on else "  (not in portfolio)"))

    def _edited(self, path, value) -> None:
        try:
            self.model.set(path, value)
        except DataError as exc:
            self.report(exc.message)
            self.show_assumptions()
        else:
            self.error_label.setVisible(False)

    # --- files ------------------------------------------------------------------------------------
    def report(self, message: str) -> None:
        from PySide6.QtWidgets import QMessageBox

        self.last_error = message
        self.error_label.setText(message)
        self.error_label.setVisible(True)
        self.errorReported.emit(message)
        if not os.environ.get("ETL_DESK_NO_DIALOGS"):
            QMessageBox.warning(self, "Assumptions", message)

    def save(self, path) -> bool:
        try:
            self.model.save(path)
        except (DataError, OSError) as exc:
            self.report(getattr(exc, "message", None) or f"Cannot write {path}: {exc}")
            return False
        self.error_label.setVisible(False)
        return True

    def load(self, path) -> bool:
        """Load a TOML/JSON file; on a bad file report the error (naming the key) and keep the current ones."""
        try:
            self.model.load(path)
        except DataError as exc:
            self.report(f"{exc.message}\nThe current assumptions are unchanged.")
            return False
        self.error_label.setVisible(False)
        return True

    def _start_dir(self) -> str:
        d = self.settings.get(keys.ASSUMPTIONS_DIR) if self.settings is not None else ""
        return d or os.path.expanduser("~")

    def save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save assumptions",
                                              os.path.join(self._start_dir(), "assumptions.toml"), FILE_FILTER)
        if path and self.save(path) and self.settings is not None:
            self.settings.set(keys.ASSUMPTIONS_DIR, os.path.dirname(path))

    def load_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load assumptions", self._start_dir(), FILE_FILTER)
        if path and self.load(path) and self.settings is not None:
            self.settings.set(keys.ASSUMPTIONS_DIR, os.path.dirname(path))
