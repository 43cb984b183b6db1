"""One description of an editable field: label, unit, range, step, decimals, help, choices.

The realistic generator's settings (:class:`~etl_desk.core.data.realistic.RealisticSettings`),
the anomaly thresholds (:class:`~etl_desk.core.insights.anomalies.AnomalyThresholds`) and the
business-case assumptions (:class:`~etl_desk.core.business_case.catalogue.Assumption`) all
describe their fields with a :class:`FieldSpec`; the window builds its forms from them
(``etl_desk.ui.widgets.spec_form``), the command line its option help, the workbook its
data validation. A dataclass field carries its spec as ``metadata["spec"]``
(:func:`spec_field`, :func:`field_specs`).

Units are plain words with a few conventions the form builder understands:

``"fraction"`` (or ``"fraction of target"``, ``"fraction per year"``)
    a share stored as 0..1 and shown as a percentage (60 %);
``"USD"`` prefix (``"USD per year"``, ``"USD/DBU"``)
    money: shown with a ``$`` prefix and the rest as a suffix;
``"x"``
    a multiplier (shown as ×); ``"percentage points"`` is shown as pp;
``"ISO date"``
    a ``YYYY-MM-DD`` string; anything else is shown after the number.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["FieldSpec", "spec_field", "field_specs", "value_kind"]


@dataclass(frozen=True)
class FieldSpec:
    """How one editable value is labelled, bounded and shown.

    ``min``/``max``/``step`` are in stored units (a fraction 0.05, not 5 %);
    ``decimals`` is the number of decimals shown (``None``: derived from the step,
    see :meth:`display_decimals`); ``choices`` lists the allowed values of a text field.
    """

    label: str
    unit: str = ""
    min: float | None = None
    max: float | None = None
    step: float | None = None
    help: str = ""
    decimals: int | None = None
    choices: tuple[str, ...] = ()

    # --- display conventions ------------------------------------------------------------------
    @property
    def is_fraction(self) -> bool:
        """Stored as 0..1, shown as a percentage."""
        return self.unit.startswith("fraction")

    @property
    def is_money(self) -> bool:
        """The unit starts with ``"USD"`` (``"USD"``, ``"USD per year"``, ``"USD/DBU"``): shown with a ``$`` prefix.
        """
        return self.unit.startswith("USD")

    @property
    def is_date(self) -> bool:
        """The value is a ``YYYY-MM-DD`` text (unit ``"ISO date"``), not a number."""
        return self.unit == "ISO date"

    @property
    def scale(self) -> float:
        """Factor from stored to shown value (100 for fractions, else 1)."""
        return 100.0 if self.is_fraction else 1.0

    def affixes(self) -> tuple[str, str]:
        """(prefix, suffix) an editor shows around the number: ('$', ' per year'), ('', ' %')."""
        u = self.unit
        if self.is_fraction:
            rest = u[len("fraction"):].strip()
            return "", f" % {rest}" if rest else " %"
        if self.is_money:
            rest = u[3:].strip()
            if rest.startswith("/"):
                return "$", rest
            return "$", f" {rest}" if rest else ""
        if u == "x":
            return "", " ×"
        if u == "percentage points":
            return "", " pp"
        if not u or self.is_date:
            return "", ""
        return "", f" {u}"

    def display_decimals(self) -> int:
        """Decimals shown: ``decimals`` when set, else those of one step in shown units (0.25 -> 2; at most 4)."""
        if self.decimals is not None:
            return self.decimals
        if self.step is None:
            return 2
        text = f"{float(self.step) * self.scale:.6f}".rstrip("0")
        return min(4, len(text.split(".")[1]))

    def range_text(self) -> str:
        """'Range 1 – 5,000,000 runs', 'Range 0 – 100 %' or '' when unbounded."""
        if self.min is None or self.max is None:
            return ""
        lo, hi = _plain(self.min * self.scale), _plain(self.max * self.scale)
        if self.is_fraction:
            return f"Range {lo} – {hi} %"
        prefix, suffix = self.affixes()
        return f"Range {prefix}{lo} – {prefix}{hi}{suffix}".rstrip()

    # --- validation ---------------------------------------------------------------------------
    def problem(self, value: Any, kind: str) -> str | None:
        """A human message when *value* is not a valid *kind* value in range, else ``None``.

        *kind*: ``"bool"``, ``"int"``, ``"float"``, ``"choice"``, ``"date"`` or ``"text"``
        (see :func:`value_kind`). Messages name the field by its label.
        """
        label = self.label
        if kind == "bool":
            return None if isinstance(value, (bool, np.bool_)) else f"{label}: expected true/false, got {value!r}"
        if kind == "choice":
            return None if value in self.choices else \
                f"{label}: must be one of {', '.join(self.choices)}, got {value!r}"
        if kind in ("date", "text"):
            return None if isinstance(value, str) else f"{label}: expected text, got {value!r}"
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            return f"{label}: expected a {'whole ' if kind == 'int' else ''}number, got {value!r}"
        if not math.isfinite(float(value)):
            return f"{label}: expected a finite number, got {value!r}"
        if kind == "int" and not isinstance(value, (int, np.integer)):
            return f"{label}: expected a whole number, got {value!r}"
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            unit = f" {self.unit}" if self.unit and not self.is_fraction and self.unit != "x" else ""
            return f"{label}: {value:,} is outside {self.min:,}–{self.max:,}{unit}"
        return None


def _plain(x: float) -> str:
    """5000000 -> '5,000,000'; 0.05 -> '0.05' (no exponent, no trailing zeros)."""
    x = round(float(x), 10)
    return f"{x:,.0f}" if x == int(x) else f"{x:,}"


def value_kind(default: Any, spec: FieldSpec | None = None) -> str:
    """The kind of value a field holds, from its default: bool, choice, date, int, float or text."""
    if isinstance(default, (bool, np.bool_)):
        return "bool"
    if spec is not None and spec.choices:
        return "choice"
    if spec is not None and spec.is_date:
        return "date"
    if isinstance(default, (int, np.integer)):
        return "int"
    if isinstance(default, (float, np.floating)):
        return "float"
    return "text"


def spec_field(default: Any, label: str, unit: str = "", min: float | None = None, max: float | None = None,
               step: float | None = None, help: str = "", *, decimals: int | None = None,
               choices: tuple[str, ...] = ()) -> Any:
    """A dataclass field with *default* whose ``metadata["spec"]`` is the :class:`FieldSpec`."""
    spec = FieldSpec(label=label, unit=unit, min=min, max=max, step=step, help=help, decimals=decimals,
                     choices=tuple(choices))
    return dataclasses.field(default=default, metadata={"spec": spec})


def field_specs(cls_or_obj) -> dict[str, FieldSpec]:
    """name -> FieldSpec for every field of the dataclass *cls_or_obj* declared with :func:`spec_field`."""
    return {f.name: f.metadata["spec"] for f in dataclasses.fields(cls_or_obj) if "spec" in f.metadata}
