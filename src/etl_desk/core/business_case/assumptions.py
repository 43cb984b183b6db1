"""Business-case assumptions: defaults from the catalogue, validation, TOML/JSON files, flat items."""
from __future__ import annotations

import json
import math
import os
import pathlib
import tomllib
from typing import Any, Mapping

from etl_desk.core.business_case.catalogue import GLOBAL_KEYS, SOLUTION_KEYS, Assumption, catalogue, global_assumptions
from etl_desk.core.errors import DataError
from etl_desk.core.files import atomic_write

Assumptions = dict  # {"global": {...}, "solutions": {id: {...}}} -- plain, JSON/TOML-serialisable


def default_assumptions() -> Assumptions:
    """The catalogue's defaults as a plain dict (a fresh copy)."""
    cat = catalogue()
    return {"global": {k: a.value for k, a in cat.globals.items()},
            "solutions": {s.id: {k: a.value for k, a in s.assumptions.items()} for s in cat.solutions}}


def _check_value(path: str, spec: Assumption, value: Any, file: str | None) -> Any:
    def fail(msg: str):
        raise DataError(f"{path}: {msg}", file=file)

    kind = spec.kind
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

    Raises :class:`~etl_desk.core.schema.DataError` naming the offending key, e.g.
    ``solutions.error-monitoring.effect: must be between 0 and 1, found 1.5``.
    Unknown keys (sections, solutions, assumptions) are errors.
    """
    f = str(file) if file is not None else None
    if not isinstance(a, Mapping):
        raise DataError("assumptions must be a table with 'global' and 'solutions'", file=f)
    for k in a:
        if k not in ("global", "solutions"):
            raise DataError(f"{k}: unknown key (expected 'global' or 'solutions')", file=f)
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
    return out


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
    """*a* as TOML text (``[global]`` and ``[solutions.<id>]`` tables), written by tomli-w."""
    import tomli_w  # small, and only needed when assumptions are saved

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
    """Flat (dotted key, value) pairs: ``global.discount_rate``, ``solutions.<id>.effect`` ..."""
    out = [(f"global.{k}", v) for k, v in a["global"].items()]
    for sid, vals in a["solutions"].items():
        out += [(f"solutions.{sid}.{k}", v) for k, v in vals.items()]
    return out


def assumptions_from_items(items) -> Assumptions:
    """Inverse of :func:`assumption_items` (e.g. read back from the workbook), validated."""
    a: dict = {"global": {}, "solutions": {}}
    for key, value in items:
        parts = str(key).split(".")
        if len(parts) == 2 and parts[0] == "global":
            a["global"][parts[1]] = value
        elif len(parts) == 3 and parts[0] == "solutions":
            a["solutions"].setdefault(parts[1], {})[parts[2]] = value
        else:
            raise DataError(f"{key}: unknown assumption key")
    return validate_assumptions(a)
