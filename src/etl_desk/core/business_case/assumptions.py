"""Business-case assumptions: defaults from the catalogue, validation, TOML/JSON files, flat items."""
from __future__ import annotations

import datetime as _dt
import json
import math
import os
import pathlib
import tomllib
from typing import Any, Mapping

import tomli_w

from etl_desk.core.business_case.catalogue import (
    GLOBAL_KEYS,
    SCENARIO_DRIVERS,
    SENSITIVITY_KEYS,
    SOLUTION_KEYS,
    Assumption,
    catalogue,
    global_assumptions,
)
from etl_desk.core.errors import DataError
from etl_desk.core.files import atomic_write

#: ``{"global": {...}, "solutions": {id: {...}}, "scenarios": {"low"|"high": {driver: multiplier}},
#: "sensitivity": {input: {"low": v, "high": v}}}`` -- plain, JSON/TOML-serialisable.
Assumptions = dict
SECTIONS = ("global", "solutions", "scenarios", "sensitivity")
#: Scenario multipliers must be positive (the workbook divides by the baseline multiplier).
MULTIPLIER_RANGE = (0.01, 10.0)


def default_assumptions() -> Assumptions:
    """The catalogue's defaults as a plain dict (a fresh copy)."""
    cat = catalogue()
    return {"global": {k: a.value for k, a in cat.globals.items()},
            "solutions": {s.id: {k: a.value for k, a in s.assumptions.items()} for s in cat.solutions},
            "scenarios": {sc: {k: (d.low if sc == "low" else d.high) for k, d in cat.scenario_drivers.items()}
                          for sc in ("low", "high")},
            "sensitivity": {k: {"low": d.low, "high": d.high} for k, d in cat.sensitivity.items()}}


def scenario_multipliers(a: Mapping, scenario: str | None = None) -> dict[str, float]:
    """The driver multipliers of *scenario* (default: the one in force); base is 1 for every driver."""
    sc = scenario or a["global"]["scenario"]
    if sc == "base":
        return {k: 1.0 for k in SCENARIO_DRIVERS}
    return {k: float(a["scenarios"][sc][k]) for k in SCENARIO_DRIVERS}


def start_date(value: str) -> _dt.date | None:
    """The project start as a date (``None`` for ``"auto"``)."""
    return None if value == "auto" else _dt.date.fromisoformat(value)


def _check_value(path: str, spec: Assumption, value: Any, file: str | None) -> Any:
    def fail(msg: str):
        raise DataError(f"{path}: {msg}", file=file)

    kind = spec.kind
    if kind == "date":
        if isinstance(value, _dt.datetime):
            value = value.date()
        if isinstance(value, _dt.date):
            value = value.isoformat()
        if value == "auto":
            return value
        try:
            d = _dt.date.fromisoformat(str(value))
        except (TypeError, ValueError):
            fail(f"must be 'auto' or a date like 2025-01-01, found {value!r}")
        if d.day != 1:
            fail(f"must be the first day of a month (cash flows are monthly), found {value!r}")
        return d.isoformat()
    if kind == "bool":
        if not isinstance(value, bool):
            fail(f"must be true or false, found {value!r}")
        return value
    if kind == "choice":
        if not isinstance(value, str) or value not in spec.choices:
            fail(f"must be one of {', '.join(spec.choices)}, found {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        fail(f"must be a number, found {value!r}")
    if not math.isfinite(value):
        fail(f"must be a finite number, found {value!r}")
    if not spec.min <= value <= spec.max:
        fail(f"must be between {spec.min:g} and {spec.max:g}, found {value:g}")
    if kind == "int":
        if value != int(value):
            fail(f"must be a whole number, found {value!r}")
        return int(value)
    return float(value)


def validate_assumptions(a: Mapping, *, file: str | os.PathLike | None = None) -> Assumptions:
    """Check *a* and return a complete, normalised copy (missing keys take the defaults).

    Raises :class:`~etl_desk.core.errors.DataError` naming the offending key, e.g.
    ``solutions.error-monitoring.effect: must be between 0 and 1, found 1.5``.
    Unknown keys (sections, solutions, assumptions) are errors.
    """
    f = str(file) if file is not None else None
    if not isinstance(a, Mapping):
        raise DataError("assumptions must be a table with 'global' and 'solutions'", file=f)
    for k in a:
        if k not in SECTIONS:
            raise DataError(f"{k}: unknown key (expected one of {', '.join(SECTIONS)})", file=f)
    out = default_assumptions()
    specs_g = global_assumptions()
    g = a.get("global", {})
    if not isinstance(g, Mapping):
        raise DataError("global: must be a table", file=f)
    for k, v in g.items():
        if k not in specs_g:
            raise DataError(f"global.{k}: unknown assumption (known: {', '.join(GLOBAL_KEYS)})", file=f)
        out["global"][k] = _check_value(f"global.{k}", specs_g[k], v, f)
    sols = a.get("solutions", {})
    if not isinstance(sols, Mapping):
        raise DataError("solutions: must be a table", file=f)
    by_id = {s.id: s for s in catalogue().solutions}
    for sid, vals in sols.items():
        if sid not in by_id:
            raise DataError(f"solutions.{sid}: unknown solution (known: {', '.join(by_id)})", file=f)
        if not isinstance(vals, Mapping):
            raise DataError(f"solutions.{sid}: must be a table", file=f)
        specs = by_id[sid].assumptions
        for k, v in vals.items():
            if k not in specs:
                raise DataError(f"solutions.{sid}.{k}: unknown assumption (known: {', '.join(SOLUTION_KEYS)})",
                                file=f)
            out["solutions"][sid][k] = _check_value(f"solutions.{sid}.{k}", specs[k], v, f)
    _validate_ranges(a, out, specs_g, f)
    return out


def _number(path: str, v: Any, lo: float, hi: float, file: str | None) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise DataError(f"{path}: must be a number, found {v!r}", file=file)
    if not lo <= v <= hi:
        raise DataError(f"{path}: must be between {lo:g} and {hi:g}, found {v:g}", file=file)
    return float(v)


def _validate_ranges(a: Mapping, out: dict, specs_g: dict, f: str | None) -> None:
    """The ``scenarios`` and ``sensitivity`` sections of *a* into *out* (validated, defaults kept)."""
    sc = a.get("scenarios", {})
    if not isinstance(sc, Mapping):
        raise DataError("scenarios: must be a table", file=f)
    for name, vals in sc.items():
        if name not in ("low", "high"):
            raise DataError(f"scenarios.{name}: unknown scenario (known: low, high; base is the inputs as entered)",
                            file=f)
        if not isinstance(vals, Mapping):
            raise DataError(f"scenarios.{name}: must be a table", file=f)
        for k, v in vals.items():
            if k not in SCENARIO_DRIVERS:
                raise DataError(f"scenarios.{name}.{k}: unknown driver (known: {', '.join(SCENARIO_DRIVERS)})",
                                file=f)
            out["scenarios"][name][k] = _number(f"scenarios.{name}.{k}", v, *MULTIPLIER_RANGE, f)
    sens = a.get("sensitivity", {})
    if not isinstance(sens, Mapping):
        raise DataError("sensitivity: must be a table", file=f)
    drivers = catalogue().sensitivity
    for k, vals in sens.items():
        if k not in drivers:
            raise DataError(f"sensitivity.{k}: unknown input (known: {', '.join(SENSITIVITY_KEYS)})", file=f)
        if not isinstance(vals, Mapping):
            raise DataError(f"sensitivity.{k}: must be a table with low and high", file=f)
        for end, v in vals.items():
            path = f"sensitivity.{k}.{end}"
            if end not in ("low", "high"):
                raise DataError(f"{path}: unknown key (expected low or high)", file=f)
            if drivers[k].kind == "multiplier":
                out["sensitivity"][k][end] = _number(path, v, 0.0, MULTIPLIER_RANGE[1], f)
            else:
                out["sensitivity"][k][end] = _check_value(path, specs_g[k], v, f)


def load_assumptions(path: str | os.PathLike) -> Assumptions:
    """Read assumptions from a .json or .toml file (other suffixes: JSON, then TOML), validated.

    Keys not in the file take their defaults; unknown or invalid keys raise
    :class:`DataError` naming file and key.
    """
    p = pathlib.Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read assumptions ({exc.strerror or exc})", file=str(p)) from None
    text = raw.decode("utf-8-sig", errors="replace")
    suffix = p.suffix.lower()
    data = None
    errors = []
    order = ("toml",) if suffix == ".toml" else ("json",) if suffix == ".json" else ("json", "toml")
    for fmt in order:
        try:
            data = json.loads(text) if fmt == "json" else tomllib.loads(text)
            break
        except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
            errors.append(f"not valid {fmt.upper()} ({exc})")
    if data is None:
        raise DataError("; ".join(errors), file=str(p))
    return validate_assumptions(data, file=str(p))


def assumptions_to_toml(a: Assumptions) -> str:
    """*a* as TOML text (``[global]``, ``[solutions.<id>]``, ``[scenarios.<name>]``, ``[sensitivity.<input>]``), by tomli-w."""
    return "# ETL Desk business-case assumptions\n\n" + tomli_w.dumps(a)


def save_assumptions(a: Mapping, path: str | os.PathLike) -> pathlib.Path:
    """Validate and write *a* as TOML (``.toml``) or JSON (anything else), atomically."""
    p = pathlib.Path(path)
    full = validate_assumptions(a)
    text = assumptions_to_toml(full) if p.suffix.lower() == ".toml" else json.dumps(full, indent=2) + "\n"

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)

    atomic_write(p, write)
    return p


def assumption_items(a: Assumptions) -> list[tuple[str, Any]]:
    """Flat (dotted key, value) pairs: ``global.discount_rate``, ``solutions.<id>.effect``,
    ``scenarios.low.effect``, ``sensitivity.effect.low`` ..."""
    out = [(f"global.{k}", v) for k, v in a["global"].items()]
    for section in ("solutions", "scenarios", "sensitivity"):
        for name, vals in a.get(section, {}).items():
            out += [(f"{section}.{name}.{k}", v) for k, v in vals.items()]
    return out


def assumptions_from_items(items) -> Assumptions:
    """Inverse of :func:`assumption_items` (e.g. read back from the workbook), validated.

    *items*: ``(dotted key, value)`` pairs as the Assumptions sheet's key column holds them.

    Raises:
        DataError: naming the key, for a key that is not ``global.<name>`` or
            ``solutions|scenarios|sensitivity.<name>.<key>``, and (from
            :func:`validate_assumptions`) for an unknown name or a value of the wrong kind or
            outside its range. No file is named: the caller adds it (:meth:`DataError.with_file`).
    """
    a: dict = {"global": {}, "solutions": {}}
    for key, value in items:
        parts = str(key).split(".")
        if len(parts) == 2 and parts[0] == "global":
            a["global"][parts[1]] = value
        elif len(parts) == 3 and parts[0] in ("solutions", "scenarios", "sensitivity"):
            a.setdefault(parts[0], {}).setdefault(parts[1], {})[parts[2]] = value
        else:
            raise DataError(f"{key}: unknown assumption key")
    return validate_assumptions(a)
