"""The solutions catalogue: five remedies of the case study as data.

The catalogue lives in ``resources/solutions.toml`` (shipped as ``etl_desk.resources`` with the
package) and is read with :mod:`tomllib` through :mod:`importlib.resources`, so it
works from a wheel or a frozen bundle. :func:`load_catalogue` validates it and
returns :class:`Solution` objects; :func:`global_assumptions` and
:func:`targets` return the rest of the file. The finance model
(:mod:`etl_desk.core.business_case.model`) takes its defaults from here, and so do
the scenario drivers (``[scenario_drivers]``) and the sensitivity ranges
(``[sensitivity]``).
"""
from __future__ import annotations

import functools
import pathlib
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from etl_desk.core.fields import FieldSpec, value_kind

RESOURCE_PACKAGE = "etl_desk.resources"
CATALOGUE_FILE = "solutions.toml"
DIAGRAM_DIR = "diagrams"

#: The assumption keys every solution has, in display order.
SOLUTION_KEYS = ("enabled", "target", "people", "weeks", "weekly_rate_usd", "tooling_usd",
                 "maintenance_usd_per_year", "maintenance_fte", "effect", "start_week", "ramp_weeks")
#: The global assumption keys, in display order.
GLOBAL_KEYS = ("horizon_years", "discount_rate", "growth_rate", "scenario", "portfolio", "start_date",
               "fiscal_year_start_month", "storage_usd_per_month", "storage_confirmed", "incident_hours_per_failure",
               "incident_usd_per_hour", "incident_confirmed", "data_coverage", "annualisation")
#: Scenario drivers (multipliers; base = 1) and the scenarios that set them.
SCENARIO_DRIVERS = ("effect", "investment", "maintenance", "baseline")
SCENARIOS = ("low", "base", "high")
#: Inputs of the one-at-a-time sensitivity, in display order.
SENSITIVITY_KEYS = ("effect", "weekly_rate", "maintenance", "discount_rate", "growth_rate", "storage_usd_per_month",
                    "data_coverage", "horizon_years")


@dataclass(frozen=True)
class Assumption:
    """One editable assumption: its key, default value and :class:`~etl_desk.core.fields.FieldSpec`.

    The spec holds the label, unit, range and step (numeric assumptions), the
    ``choices`` (``target``, ``annualisation``) and, as its help text, the rationale.
    ``enabled`` is a bool.
    """

    key: str
    value: Any
    spec: FieldSpec
    #: ``"date"`` for a month (``"auto"`` or ``YYYY-MM-01``); None: the kind follows the value
    declared_kind: str | None = None

    label = property(lambda self: self.spec.label)
    unit = property(lambda self: self.spec.unit)
    min = property(lambda self: self.spec.min)
    max = property(lambda self: self.spec.max)
    step = property(lambda self: self.spec.step)
    choices = property(lambda self: self.spec.choices)
    rationale = property(lambda self: self.spec.help, doc="Why this default (the spec's help text).")

    @property
    def kind(self) -> str:
        """``bool``, ``choice``, ``date`` (``"auto"`` or ``YYYY-MM-01``), ``int`` or ``float``."""
        return self.declared_kind or value_kind(self.value, self.spec)


@dataclass(frozen=True)
class Solution:
    """One remedy of the case study as the catalogue (``resources/solutions.toml``) describes it.

    ``id`` (``error-monitoring`` ...), ``name``, ``summary``; ``target``: the baseline component it
    acts on by default (a :data:`~etl_desk.core.business_case.baseline.TARGET_KEYS` key);
    ``assumptions``: its :data:`SOLUTION_KEYS` with defaults, units and rationale; for IT
    leadership ``personnel`` (roles) and ``timeline`` (text); for operations ``feasibility``,
    ``technology`` (requirements) and ``diagram`` (an SVG file name under ``resources/diagrams``);
    ``number``: its 1-based position, the case study's numbering.
    """
    id: str
    name: str
    summary: str
    target: str
    assumptions: dict[str, Assumption]
    personnel: tuple[str, ...]
    timeline: str
    feasibility: str
    technology: tuple[str, ...]
    diagram: str
    number: int = 0


@dataclass(frozen=True)
class Target:
    """A baseline component a solution can act on: ``key`` (``failed_cost`` ...), display ``label`` and
    ``description`` (the ``[targets]`` table of ``resources/solutions.toml``).
    """
    key: str
    label: str
    description: str


@dataclass(frozen=True)
class Driver:
    """A scenario driver or a sensitivity input: its label, default low and high values and why.

    ``kind``: ``"multiplier"`` (scales the input; scenario drivers always) or ``"absolute"``
    (the input takes the value; its range is the global assumption's).
    """

    key: str
    label: str
    low: float
    high: float
    rationale: str
    kind: str = "multiplier"
    unit: str = "x"


@dataclass(frozen=True)
class Catalogue:
    """The whole of ``resources/solutions.toml``, validated: the solutions in order, the global
    assumptions (:data:`GLOBAL_KEYS`), targets by key, the scenario drivers
    (:data:`SCENARIO_DRIVERS`, multipliers per low / high scenario) and the sensitivity inputs
    (:data:`SENSITIVITY_KEYS`, low and high values), each :class:`Driver` with its rationale.
    """
    solutions: tuple[Solution, ...]
    globals: dict[str, Assumption]
    targets: dict[str, Target] = field(default_factory=dict)
    scenario_drivers: dict[str, Driver] = field(default_factory=dict)
    sensitivity: dict[str, Driver] = field(default_factory=dict)


class CatalogueError(ValueError):
    """The shipped catalogue is malformed (a packaging bug, not user input)."""


def _assumption(key: str, raw: dict, where: str) -> Assumption:
    for req in ("label", "value", "rationale"):
        if req not in raw:
            raise CatalogueError(f"{where}.{key}: missing {req!r}")
    value = raw["value"]
    choices = tuple(raw.get("choices", ()))
    spec = FieldSpec(label=str(raw["label"]), unit=str(raw.get("unit", "")), min=raw.get("min"),
                     max=raw.get("max"), step=raw.get("step"), help=str(raw["rationale"]), choices=choices)
    a = Assumption(key=key, value=value, spec=spec, declared_kind=raw.get("kind"))
    if a.declared_kind not in (None, "date"):
        raise CatalogueError(f"{where}.{key}: unknown kind {a.declared_kind!r}")
    if a.kind in ("int", "float"):
        if a.min is None or a.max is None or a.step is None:
            raise CatalogueError(f"{where}.{key}: numeric assumption needs min, max and step")
        if not a.min <= value <= a.max:
            raise CatalogueError(f"{where}.{key}: default {value} outside [{a.min}, {a.max}]")
        if a.step <= 0:
            raise CatalogueError(f"{where}.{key}: step must be positive")
    if a.kind == "choice" and value not in choices:
        raise CatalogueError(f"{where}.{key}: default {value!r} not among {choices}")
    if a.kind == "date" and value != "auto":
        raise CatalogueError(f"{where}.{key}: a date assumption defaults to 'auto'")
    if not a.rationale.strip():
        raise CatalogueError(f"{where}.{key}: empty rationale")
    return a


def parse_catalogue(data: dict) -> Catalogue:
    """Validate the parsed TOML *data* and build a :class:`Catalogue`.

    Raises:
        CatalogueError: naming the section and key, for a missing or unexpected key, a duplicate
            solution id, an unknown target, a numeric default outside its range or without
            min / max / step, a choice default not among its choices, an empty rationale, or a
            driver kind other than ``multiplier`` / ``absolute``.
        KeyError: for a ``[targets]`` entry without a ``label``.
    """
    targets = {k: Target(k, str(v["label"]), str(v.get("description", "")))
               for k, v in data.get("targets", {}).items()}
    g = data.get("global", {})
    if tuple(g) != GLOBAL_KEYS:
        raise CatalogueError(f"global: expected keys {GLOBAL_KEYS}, found {tuple(g)}")
    globals_ = {k: _assumption(k, v, "global") for k, v in g.items()}
    sols = []
    seen = set()
    for i, raw in enumerate(data.get("solution", ()), 1):
        where = f"solution[{i}]"
        for req in ("id", "name", "summary", "target", "personnel", "timeline", "feasibility", "technology",
                    "diagram", "assumptions"):
            if req not in raw:
                raise CatalogueError(f"{where}: missing {req!r}")
        sid = raw["id"]
        if sid in seen:
            raise CatalogueError(f"{where}: duplicate id {sid!r}")
        seen.add(sid)
        if tuple(raw["assumptions"]) != SOLUTION_KEYS:
            raise CatalogueError(f"{sid}: expected assumption keys {SOLUTION_KEYS}, "
                                 f"found {tuple(raw['assumptions'])}")
        assumptions = {k: _assumption(k, v, f"solutions.{sid}") for k, v in raw["assumptions"].items()}
        if raw["target"] not in targets:
            raise CatalogueError(f"{sid}: unknown target {raw['target']!r}")
        if assumptions["target"].value != raw["target"]:
            raise CatalogueError(f"{sid}: target assumption default differs from the solution's target")
        bad = set(assumptions["target"].choices) - set(targets)
        if bad:
            raise CatalogueError(f"{sid}: unknown target choices {sorted(bad)}")
        sols.append(Solution(id=sid, name=str(raw["name"]), summary=str(raw["summary"]), target=raw["target"],
                             assumptions=assumptions, personnel=tuple(raw["personnel"]),
                             timeline=str(raw["timeline"]), feasibility=str(raw["feasibility"]),
                             technology=tuple(raw["technology"]), diagram=str(raw["diagram"]),
                             number=int(raw.get("number", i))))
    if not sols:
        raise CatalogueError("no solutions")

    def drivers(section: str, keys: tuple[str, ...]) -> dict[str, Driver]:
        raw = data.get(section, {})
        if tuple(raw) != keys:
            raise CatalogueError(f"{section}: expected keys {keys}, found {tuple(raw)}")
        out = {}
        for k, v in raw.items():
            for req in ("label", "low", "high", "rationale"):
                if req not in v:
                    raise CatalogueError(f"{section}.{k}: missing {req!r}")
            kind = str(v.get("kind", "multiplier"))
            if kind not in ("multiplier", "absolute"):
                raise CatalogueError(f"{section}.{k}: kind must be multiplier or absolute")
            if kind == "absolute" and k not in globals_:
                raise CatalogueError(f"{section}.{k}: an absolute driver must name a global assumption")
            out[k] = Driver(key=k, label=str(v["label"]), low=float(v["low"]), high=float(v["high"]),
                            rationale=str(v["rationale"]), kind=kind, unit=str(v.get("unit", "x")))
        return out

    return Catalogue(solutions=tuple(sols), globals=globals_, targets=targets,
                     scenario_drivers=drivers("scenario_drivers", SCENARIO_DRIVERS),
                     sensitivity=drivers("sensitivity", SENSITIVITY_KEYS))


@functools.lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    """The shipped catalogue (parsed once)."""
    text = resources.files(RESOURCE_PACKAGE).joinpath(CATALOGUE_FILE).read_bytes()
    return parse_catalogue(tomllib.loads(text.decode("utf-8")))


def load_catalogue() -> list[Solution]:
    """The five solutions, in their fixed order (which is also the portfolio order)."""
    return list(catalogue().solutions)


def global_assumptions() -> dict[str, Assumption]:
    """Horizon, discount rate, growth, storage baseline, data coverage, annualisation method."""
    return dict(catalogue().globals)


def targets() -> dict[str, Target]:
    """Baseline components a solution can act on: key -> label and description."""
    return dict(catalogue().targets)


def solution_by_id(sid: str) -> Solution:
    """The catalogue's :class:`Solution` with id *sid* (``"error-monitoring"`` ...).

    Raises:
        KeyError: for an id the catalogue does not hold.
    """
    for s in catalogue().solutions:
        if s.id == sid:
            return s
    raise KeyError(sid)


def diagram_path(solution: Solution) -> pathlib.Path:
    """Path of the solution's architecture diagram (SVG) inside the installed package."""
    res = resources.files(RESOURCE_PACKAGE).joinpath(DIAGRAM_DIR).joinpath(solution.diagram)
    return pathlib.Path(str(res))
