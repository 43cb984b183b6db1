"""The generator settings dock: presets, every realistic setting with units, ranges and tooltips.

The form is built from :class:`etl_desk.core.data.realistic.RealisticSettings`'
field metadata, so a new setting appears here without UI code. Validation runs
as you type; Generate is enabled only for valid settings. The work itself runs
on the window's TaskRunner (off the UI thread) with progress and Cancel.
"""
from __future__ import annotations

from dataclasses import asdict, fields, replace

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDateEdit, QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel,
                               QProgressBar, QPushButton, QScrollArea, QSpinBox, QVBoxLayout, QWidget)

from etl_desk.core.data.realistic import REALISTIC_SCENARIOS, RealisticSettings

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

        self.editors: dict[str, QWidget] = {}
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Preset", self.preset)
        for f in fields(RealisticSettings):
            md = f.metadata
            ed = self._make_editor(f, md)
            ed.setObjectName(f"field_{f.name}")
            tip = md.get("help", "")
            if md.get("min") is not None:
                tip += f"\nRange: {md['min']:,} – {md['max']:,} {md.get('unit', '')}".rstrip()
            ed.setToolTip(tip)
            label = QLabel(md.get("label", f.name) + (f" ({md['unit']})" if md.get("unit") and
                                                       md["unit"] not in ("", "x", "ISO date") else ""))
            label.setToolTip(tip)
            label.setBuddy(ed)
            form.addRow(label, ed)
            self.editors[f.name] = ed

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
        lay.addLayout(form)
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
        self.set_settings(RealisticSettings())
        self._on_preset(self.preset.currentText())

    def _make_editor(self, f, md) -> QWidget:
        if f.name == "start":
            ed = QDateEdit()
            ed.setCalendarPopup(True)
            ed.setDisplayFormat("yyyy-MM-dd")
            ed.dateChanged.connect(self._validate)
            return ed
        if f.type in ("bool", bool):  # an on/off stage of the generator (team tags)
            ed = QCheckBox()
            ed.toggled.connect(self._validate)
            return ed
        is_int = f.type in ("int", int)
        if is_int:
            ed = QSpinBox()
            ed.setRange(int(md.get("min", 0)), int(min(md.get("max", 2**31 - 1), 2**31 - 1)))
            ed.setSingleStep(int(md.get("step") or 1))
            ed.setGroupSeparatorShown(True)
            ed.valueChanged.connect(self._validate)
        else:
            ed = QDoubleSpinBox()
            step = float(md.get("step") or 0.01)
            decimals = max(2, len(f"{step:.6f}".rstrip("0").split(".")[1]) if "." in f"{step}" else 2)
            ed.setDecimals(decimals)
            ed.setRange(float(md.get("min", 0.0)), float(md.get("max", 1e9)))
            ed.setSingleStep(step)
            ed.setGroupSeparatorShown(True)
            ed.valueChanged.connect(self._validate)
        ed.setKeyboardTracking(True)
        return ed

    # --- values -----------------------------------------------------------------------------
    def settings(self) -> RealisticSettings:
        vals = {}
        for f in fields(RealisticSettings):
            ed = self.editors[f.name]
            if f.name == "start":
                vals[f.name] = ed.date().toString("yyyy-MM-dd")
            elif isinstance(ed, QCheckBox):
                vals[f.name] = ed.isChecked()
            else:
                vals[f.name] = ed.value()
        return RealisticSettings(**vals)

    def set_settings(self, s: RealisticSettings) -> None:
        for f in fields(RealisticSettings):
            ed = self.editors[f.name]
            v = getattr(s, f.name)
            ed.blockSignals(True)
            if f.name == "start":
                ed.setDate(QDate.fromString(str(v)[:10], "yyyy-MM-dd"))
            elif isinstance(ed, QCheckBox):
                ed.setChecked(bool(v))
            else:
                ed.setValue(v)
            ed.blockSignals(False)
        self._validate()

    def current_preset(self) -> str:
        return self.preset.currentText()

    def is_case_study(self) -> bool:
        return self.current_preset() == CASE_STUDY

    def state_dict(self) -> dict:
        return {"preset": self.current_preset(), "settings": asdict(self.settings())}

    def restore_state(self, d: dict) -> None:
        try:
            s = replace(RealisticSettings(), **{k: v for k, v in d.get("settings", {}).items()
                                                 if k in {f.name for f in fields(RealisticSettings)}})
        except (TypeError, ValueError):
            return
        preset = d.get("preset", CASE_STUDY)
        idx = self.preset.findText(preset)
        if idx >= 0:
            self.preset.blockSignals(True)
            self.preset.setCurrentIndex(idx)
            self.preset.blockSignals(False)
        self.set_settings(s)
        self._enable_fields()

    # --- behaviour --------------------------------------------------------------------------
    def _on_preset(self, name: str) -> None:
        if name in REALISTIC_SCENARIOS:
            self.set_settings(REALISTIC_SCENARIOS[name])
        self._enable_fields()

    def _enable_fields(self) -> None:
        realistic = not self.is_case_study()
        for ed in self.editors.values():
            ed.setEnabled(realistic)
        self._validate()

    def validation_messages(self) -> list[str]:
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
