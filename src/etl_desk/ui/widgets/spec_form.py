"""The one form builder: editors for a list of :class:`~etl_desk.core.fields.FieldSpec` fields.

The generator panel, the anomaly thresholds and the business-case assumptions
are all built here, so a field looks and behaves the same everywhere: a spin box
with the unit as prefix/suffix (``$`` for money, ``%`` for fractions, which are
shown ×100 and stored as 0..1), the decimals of one step, the help and range as
the tooltip; a check box for a bool; a combo box for choices, each shown by its
human label (:meth:`~etl_desk.core.fields.FieldSpec.choice_label`, never the stored
value); a combo of month names for a calendar month; a date editor with a calendar
for an ISO date, and a month editor (with an "Automatic" box when the value may be
``"auto"``) for the first day of a month. The form shows values silently (:meth:`SpecForm.set_values`) and
emits :attr:`SpecForm.edited` ``(key, value)`` only for the user's edits, with
the value in stored units.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, Hashable, Mapping

from PySide6.QtCore import QDate, QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDateEdit, QDoubleSpinBox, QFormLayout, QGridLayout,
                               QHBoxLayout, QLabel, QSpinBox, QWidget)

from etl_desk.core.fields import AUTO, MONTH_NAMES, FieldSpec

INT_MAX = 2**31 - 1  # QSpinBox holds a C int


@dataclass
class FormField:
    """One row of a form: its *key* (any hashable), spec and kind (bool, choice, date, int, float).

    *choice_labels* / *choice_tips*: text and tooltip shown for each choice value (labels
    not given here come from the spec's :meth:`~etl_desk.core.fields.FieldSpec.choice_label`).
    """

    key: Hashable
    spec: FieldSpec
    kind: str
    choice_labels: dict[str, str] = field(default_factory=dict)
    choice_tips: dict[str, str] = field(default_factory=dict)

    def label(self, value: str) -> str:
        return self.choice_labels.get(value) or self.spec.choice_label(value)

    @property
    def name(self) -> str:
        k = self.key
        return "_".join(str(p) for p in k) if isinstance(k, tuple) else str(k)


def tooltip(spec: FieldSpec, rich: bool = False) -> str:
    """The help text and the range of *spec*, as plain text or as HTML with the label in bold."""
    rng = spec.range_text()
    if not rich:
        return spec.help + (f"\n{rng}" if rng else "")
    return (f"<b>{html.escape(spec.label)}</b><br>{html.escape(spec.help)}"
            + (f"<br><i>{html.escape(rng)}</i>" if rng else ""))


class MonthEdit(QWidget):
    """A month (stored ``YYYY-MM-01``) with a calendar popup, and an "Automatic" box for ``"auto"``.

    ``edited(str)`` carries the stored value; ``value()`` / ``set_value(v)`` read and show it.
    """

    edited = Signal(str)
    AUTO_SHOWN = QDate(1900, 1, 1)  # the minimum date: shown as the "auto" text

    def __init__(self, auto_text: str = "", parent=None):
        super().__init__(parent)
        h = QHBoxLayout(self)
        h.setContentsMargins(0, 0, 0, 0)
        h.setSpacing(4)
        self.date = QDateEdit()
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat("MMM yyyy")
        self.date.setMinimumDate(self.AUTO_SHOWN)
        self.date.setDate(QDate.currentDate().addDays(1 - QDate.currentDate().day()))
        h.addWidget(self.date, 1)
        self.auto = None
        if auto_text:
            # "auto" shows as the special text of the minimum date, never as a date it is not
            self.date.setSpecialValueText(auto_text)
            self.auto = QCheckBox("Auto")
            self.auto.setToolTip(auto_text)
            self.auto.toggled.connect(self._auto_toggled)
            h.addWidget(self.auto)
        self.date.dateChanged.connect(lambda _d: self.edited.emit(self.value()))

    def _auto_toggled(self, on: bool) -> None:
        with QSignalBlocker(self.date):
            self.date.setEnabled(not on)
            if on:
                self._last = self.date.date()
                self.date.setDate(self.AUTO_SHOWN)
            elif self.date.date() == self.AUTO_SHOWN:
                self.date.setDate(getattr(self, "_last", None) or QDate.currentDate().addDays(1 - QDate.currentDate().day()))
        self.edited.emit(self.value())

    def value(self) -> str:
        if self.auto is not None and self.auto.isChecked():
            return AUTO
        d = self.date.date()
        return QDate(d.year(), d.month(), 1).toString("yyyy-MM-dd")

    def set_value(self, v) -> None:
        with QSignalBlocker(self.date):
            if self.auto is not None:
                with QSignalBlocker(self.auto):
                    self.auto.setChecked(v == AUTO)
                self.date.setEnabled(v != AUTO)
                if v == AUTO:
                    self.date.setDate(self.AUTO_SHOWN)
            if v != AUTO:
                self.date.setDate(QDate.fromString(str(v)[:10], "yyyy-MM-dd"))


class SpecForm(QWidget):
    """Labels and editors for *fields*, in *columns* label/editor pairs per row.

    ``editors``: key -> editor widget (object name ``<object_prefix><name>``);
    ``labels``: key -> QLabel. *keyboard_tracking* False reports a typed number only
    when the editor loses focus or Enter is pressed (for edits that start work).
    """

    edited = Signal(object, object)  # key, value in stored units

    def __init__(self, fields: list[FormField], *, columns: int = 1, object_prefix: str = "",
                 keyboard_tracking: bool = True, rich_tooltips: bool = False, min_editor_width: int = 120,
                 parent=None):
        super().__init__(parent)
        self.fields = {f.key: f for f in fields}
        self.editors: dict[Hashable, QWidget] = {}
        self.labels: dict[Hashable, QLabel] = {}
        if columns == 1:
            lay = QFormLayout(self)
            lay.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            lay.setContentsMargins(4, 4, 4, 4)
            lay.setVerticalSpacing(3)
        else:
            lay = QGridLayout(self)
            lay.setContentsMargins(6, 4, 6, 4)
            lay.setVerticalSpacing(2)
            lay.setHorizontalSpacing(8)
            for c in range(columns):
                lay.setColumnStretch(c * 2 + 1, 1)
        self.grid = lay
        for i, f in enumerate(fields):
            ed = self._editor(f, keyboard_tracking)
            ed.setObjectName(f"{object_prefix}{f.name}")
            tip = tooltip(f.spec, rich_tooltips)
            ed.setToolTip(tip)
            if min_editor_width:
                ed.setMinimumWidth(min_editor_width)
            lab = QLabel(f.spec.label)
            lab.setToolTip(tip)
            lab.setWordWrap(True)
            lab.setBuddy(ed)
            if columns == 1:
                lay.addRow(lab, ed)
            else:
                lay.addWidget(lab, i // columns, (i % columns) * 2)
                lay.addWidget(ed, i // columns, (i % columns) * 2 + 1)
            self.editors[f.key] = ed
            self.labels[f.key] = lab

    # --- building -----------------------------------------------------------------------------
    def _editor(self, f: FormField, tracking: bool) -> QWidget:
        spec, key = f.spec, f.key
        if f.kind == "bool":
            w = QCheckBox()
            w.toggled.connect(lambda on, k=key: self.edited.emit(k, bool(on)))
            return w
        if f.kind == "choice" or (f.kind == "int" and spec.is_month):
            w = QComboBox()
            values = spec.choices if f.kind == "choice" else range(1, 13)
            for c in values:
                w.addItem(f.label(c) if f.kind == "choice" else MONTH_NAMES[c], c)
                if c in f.choice_tips:
                    w.setItemData(w.count() - 1, f.choice_tips[c], Qt.ItemDataRole.ToolTipRole)
            w.currentIndexChanged.connect(lambda _i, k=key, w=w: self.edited.emit(k, w.currentData()))
            return w
        if f.kind == "date" and spec.is_month_start:
            w = MonthEdit(spec.choice_label(AUTO))
            w.edited.connect(lambda v, k=key: self.edited.emit(k, v))
            return w
        if f.kind == "date":
            w = QDateEdit()
            w.setCalendarPopup(True)
            w.setDisplayFormat("yyyy-MM-dd")
            w.dateChanged.connect(lambda d, k=key: self.edited.emit(k, d.toString("yyyy-MM-dd")))
            return w
        prefix, suffix = spec.affixes()
        if f.kind == "int" and not spec.is_fraction:
            w = QSpinBox()
            w.setRange(int(spec.min if spec.min is not None else 0), int(min(spec.max or INT_MAX, INT_MAX)))
            w.setSingleStep(max(1, int(spec.step or 1)))
            w.valueChanged.connect(lambda v, k=key: self.edited.emit(k, int(v)))
        else:
            w = QDoubleSpinBox()
            scale = spec.scale
            w.setDecimals(spec.display_decimals())
            w.setRange((spec.min if spec.min is not None else 0.0) * scale,
                       (spec.max if spec.max is not None else 1e12) * scale)
            w.setSingleStep(float(spec.step or 0.01) * scale)
            w.valueChanged.connect(lambda v, k=key: self.edited.emit(k, self._stored(k, v)))
        w.setPrefix(prefix)
        w.setSuffix(suffix)
        w.setGroupSeparatorShown(True)
        w.setKeyboardTracking(tracking)
        return w

    def _stored(self, key, shown: float):
        f = self.fields[key]
        v = round(float(shown) / f.spec.scale, 10)
        return int(round(v)) if f.kind == "int" else v

    # --- values -------------------------------------------------------------------------------
    def value(self, key) -> Any:
        """The value the editor of *key* holds, in stored units."""
        w, f = self.editors[key], self.fields[key]
        if isinstance(w, QCheckBox):
            return w.isChecked()
        if isinstance(w, QComboBox):
            return w.currentData()
        if isinstance(w, MonthEdit):
            return w.value()
        if isinstance(w, QDateEdit):
            return w.date().toString("yyyy-MM-dd")
        if isinstance(w, QSpinBox):
            return int(w.value())
        return self._stored(key, w.value())

    def values(self) -> dict:
        return {k: self.value(k) for k in self.editors}

    def set_value(self, key, v) -> None:
        """Show *v* (stored units) in the editor of *key* without emitting :attr:`edited`."""
        w, f = self.editors[key], self.fields[key]
        with QSignalBlocker(w):
            if isinstance(w, QCheckBox):
                w.setChecked(bool(v))
            elif isinstance(w, QComboBox):
                w.setCurrentIndex(max(0, w.findData(v)))
            elif isinstance(w, MonthEdit):
                w.set_value(v)
            elif isinstance(w, QDateEdit):
                w.setDate(QDate.fromString(str(v)[:10], "yyyy-MM-dd"))
            elif isinstance(w, QSpinBox):
                w.setValue(int(v))
            else:
                w.setValue(float(v) * f.spec.scale)

    def set_values(self, values: Mapping) -> None:
        for k, v in values.items():
            if k in self.editors:
                self.set_value(k, v)

    def set_editable(self, on: bool) -> None:
        for w in self.editors.values():
            w.setEnabled(on)
