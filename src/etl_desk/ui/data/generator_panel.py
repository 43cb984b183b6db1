"""The generator settings panel: presets, every realistic setting with units, ranges and tooltips.

The form is built by the one form builder (:mod:`etl_desk.ui.widgets.spec_form`) from
:class:`etl_desk.core.data.realistic.RealisticSettings`' field specs, so a new setting
appears here without UI code. Validation runs as you type; Generate is enabled only for
valid settings. The work itself runs on the window's file actions (off the UI thread)
with progress and Cancel.
"""
from __future__ import annotations

import html
import os
from dataclasses import asdict, fields, replace

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (QComboBox, QFormLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton, QScrollArea,
                               QVBoxLayout, QWidget)

from etl_desk.core.data.realistic import REALISTIC_SCENARIOS, RealisticSettings
from etl_desk.core.fields import field_specs, value_kind
from etl_desk.ui.widgets.spec_form import FormField, SpecForm

CASE_STUDY = "Case study (seed 42)"


class GeneratorPanel(QWidget):
    """Emits ``generateRequested(preset, settings)``; shows progress while the window works."""

    generateRequested = Signal(str, object)
    cancelRequested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("generatorPanel")
        self.preset = QComboBox()
        self.preset.setObjectName("presetCombo")
        self.preset.addItem(CASE_STUDY)
        for name in REALISTIC_SCENARIOS:
            self.preset.addItem(name)
        self.preset.setToolTip("Case study: the published 1,000 runs, value for value.\n"
                               "Realistic: SAP and GIS pipelines with schedules, month-end peaks, retries, spot.")
        self.preset.currentTextChanged.connect(self._on_preset)
        self.loaded = QLabel()
        self.loaded.setObjectName("loadedData")
        self.loaded.setWordWrap(True)
        self.loaded.setTextFormat(Qt.TextFormat.RichText)
        self.loaded.setStyleSheet("QLabel#loadedData { border: 1px solid palette(mid); border-radius: 4px; "
                                  "padding: 4px 6px; }")
        self._file_item = False  # the preset list starts with "Loaded file: …" while a file is shown
        head = QFormLayout()
        head.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        head.setContentsMargins(4, 4, 4, 0)
        head.addRow(self.loaded)
        head.addRow("Preset", self.preset)

        specs = field_specs(RealisticSettings)
        kinds = {f.name: value_kind(f.default, specs[f.name]) for f in fields(RealisticSettings)}
        self.form = SpecForm([FormField(name, spec, kinds[name]) for name, spec in specs.items()],
                             object_prefix="field_", min_editor_width=0)
        self.form.edited.connect(self._validate)
        self.editors = self.form.editors

        self.message = QLabel()
        self.message.setObjectName("validationMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b03a2e;")
        self.generate_button = QPushButton("Generate")
        self.generate_button.setObjectName("generateButton")
        self.generate_button.setDefault(True)
        self.generate_button.setToolTip("Generate a new data set with these settings (Ctrl+G)")
        self.generate_button.clicked.connect(self._on_generate)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.setEnabled(False)
        self.cancel_button.setToolTip("Stop generating; the data on screen stays (Esc)")
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.progress = QProgressBar()
        self.progress.setObjectName("generateProgress")
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.progress.hide()

        buttons = QHBoxLayout()
        buttons.addWidget(self.generate_button, 1)
        buttons.addWidget(self.cancel_button)
        inner = QWidget()
        lay = QVBoxLayout(inner)
        lay.addLayout(head)
        lay.addWidget(self.form)
        lay.addWidget(self.message)
        lay.addLayout(buttons)
        lay.addWidget(self.progress)
        lay.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        inner.setMinimumWidth(300)
        self.setMinimumWidth(320)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self._last_preset = CASE_STUDY
        self.set_settings(RealisticSettings())
        self._on_preset(self.preset.currentText())

    # --- values -----------------------------------------------------------------------------
    def settings(self) -> RealisticSettings:
        return RealisticSettings(**self.form.values())

    def set_settings(self, s: RealisticSettings) -> None:
        self.form.set_values(asdict(s))
        self._validate()

    def current_preset(self) -> str:
        return self.preset.currentText()

    def is_case_study(self) -> bool:
        return self.current_preset() == CASE_STUDY

    def is_file(self) -> bool:
        """The preset list shows the loaded file (nothing to generate until a preset is chosen)."""
        return self._file_item and self.preset.currentIndex() == 0

    def state_dict(self) -> dict:
        preset = self.current_preset() if not self.is_file() else self._last_preset
        return {"preset": preset, "settings": asdict(self.settings())}

    # --- what is loaded ---------------------------------------------------------------------
    def show_loaded(self, source: str, path: str | None, runs: int) -> None:
        """Say what the window shows. From a file, the preset list names the file (choosing a
        preset then generates new data); generated data leaves the chosen preset as it is."""
        name = os.path.basename(path) if path else source
        origin = "from a file" if path else "generated"
        self.loaded.setText(f"Showing <b>{html.escape(name)}</b>: {runs:,} runs, {origin}")
        self.loaded.setToolTip(path or source)
        with QSignalBlocker(self.preset):
            if self._file_item:
                self.preset.removeItem(0)
                self._file_item = False
            if path:
                self._last_preset = self.preset.currentText()
                self.preset.insertItem(0, f"Loaded file: {name}")
                self.preset.setItemData(0, path, Qt.ItemDataRole.ToolTipRole)
                self.preset.setCurrentIndex(0)
                self._file_item = True
        self._enable_fields()

    def restore_state(self, d: dict) -> None:
        try:
            s = replace(RealisticSettings(), **{k: v for k, v in d.get("settings", {}).items()
                                                 if k in {f.name for f in fields(RealisticSettings)}})
        except (TypeError, ValueError):
            return
        preset = d.get("preset", CASE_STUDY)
        idx = self.preset.findText(preset)
        if idx >= 0:
            with QSignalBlocker(self.preset):
                self.preset.setCurrentIndex(idx)
        self.set_settings(s)
        self._enable_fields()

    # --- behaviour --------------------------------------------------------------------------
    def _on_preset(self, name: str) -> None:
        if not self.is_file():
            self._last_preset = name
        if name in REALISTIC_SCENARIOS:
            self.set_settings(REALISTIC_SCENARIOS[name])
        self._enable_fields()

    def _enable_fields(self) -> None:
        self.form.set_editable(not self.is_case_study() and not self.is_file())
        self._validate()

    def validation_messages(self) -> list[str]:
        if self.is_file():
            return ["Choose a preset to generate new data (the loaded file stays until then)"]
        if self.is_case_study():
            return []
        try:
            return self.settings().validate()
        except (TypeError, ValueError) as exc:
            return [str(exc)]

    def _validate(self, *args) -> None:
        msgs = self.validation_messages()
        self.message.setText("\n".join(msgs))
        self.message.setVisible(bool(msgs))
        busy = self.cancel_button.isEnabled()
        self.generate_button.setEnabled(not msgs and not busy)

    def _on_generate(self) -> None:
        if self.validation_messages():
            return
        preset = "case-study" if self.is_case_study() else "realistic"
        self.generateRequested.emit(preset, None if self.is_case_study() else self.settings())

    def set_busy(self, busy: bool) -> None:
        self.cancel_button.setEnabled(busy)
        self.progress.setVisible(busy)
        if busy:
            self.progress.setValue(0)
        self._validate()

    def set_progress(self, fraction: float) -> None:
        self.progress.setValue(int(round(max(0.0, min(1.0, fraction)) * 100)))
