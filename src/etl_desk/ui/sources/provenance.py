"""A small adapter from the loaded table's provenance record to what the Sources page shows.

The data side writes a JSON-safe dict as ``df.attrs["provenance"]`` (documented in
``etl_desk.core.data.provenance``): per file what was read and kept, the rows left out
by reason with examples, the cost basis, the price table, the time span, and a
reconciliation block for Databricks system-table exports. Key names live in
:data:`ALIASES` only, so aligning with a renamed key is a one-line change; a
missing key reads as unknown, never as zero. Without a record, :func:`read_provenance`
says so and keeps what the table itself shows (its runs and time span).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

#: field -> the keys it may be stored under, first match wins.
ALIASES: dict[str, tuple[str, ...]] = {
    "path": ("file", "path"),
    "kind": ("kind",),
    "rows_read": ("rows_read",),
    "rows_kept": ("rows_kept",),
    "left_out": ("left_out",),
    "reason": ("reason",),
    "rows": ("count", "rows"),
    "examples": ("examples",),
    "cost_basis": ("cost_basis",),
    "basis_text": ("text", "basis"),
    "basis_sentence": ("sentence",),
    "price_table": ("price_table",),
    "time_span": ("time_span",),
    "first": ("first_start", "start", "first"),
    "last": ("last_end", "end", "last"),
    "read_as": ("read_as",),
    "reconciliation": ("reconciliation",),
    "runs": ("runs",),
    "warnings": ("warnings",),
    "notes": ("notes",),
}


def pick(d: dict | None, name: str, default: Any = None) -> Any:
    """The value of field *name* in *d* under any of its :data:`ALIASES` (else *default*)."""
    if not isinstance(d, dict):
        return default
    for k in ALIASES.get(name, (name,)):
        if k in d and d[k] is not None:
            return d[k]
    return default


@dataclass(frozen=True)
class LeftOut:
    reason: str
    rows: int | None
    examples: list


@dataclass(frozen=True)
class SourceFile:
    path: str
    kind: str
    rows_read: int | None
    rows_kept: int | None
    left_out: list[LeftOut]
    cost_basis: str | None = None  # per file, when the record has one (else the table's)
    time_span: tuple[str | None, str | None] | None = None
    read_as: dict = field(default_factory=dict)

    @property
    def rows_left_out(self) -> int | None:
        counts = [e.rows for e in self.left_out]
        return sum(counts) if counts and None not in counts else (0 if not counts else None)


@dataclass(frozen=True)
class Reconciliation:
    """Billed job spend against what was attributed to the runs (system-table exports)."""

    period: tuple[str | None, str | None]
    lines: list[tuple[str, int | None, float | None, float | None]]  # label, rows, DBUs, USD
    reasons: list[tuple[str, int | None, float | None, float | None]]  # why spend is unattributed
    notes: list[str]


@dataclass(frozen=True)
class Provenance:
    recorded: bool
    runs: int | None
    cost_basis: str | None
    cost_sentence: str | None
    price_table: list[dict]
    time_span: tuple[str | None, str | None] | None
    files: list[SourceFile]
    reconciliation: Reconciliation | None
    warnings: list[str]
    notes: list[str]
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, why): a folder's files not read


def _span(d) -> tuple[str | None, str | None] | None:
    if not isinstance(d, dict):
        return None
    first, last = pick(d, "first"), pick(d, "last")
    return None if first is None and last is None else (first, last)


def _basis(v) -> tuple[str | None, str | None]:
    """(short text, sentence) of a cost basis given as a dict or as plain text."""
    if isinstance(v, dict):
        return pick(v, "basis_text"), pick(v, "basis_sentence")
    return (str(v), None) if v else (None, None)


def _int(v) -> int | None:
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def _float(v) -> float | None:
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _reconciliation(r) -> Reconciliation | None:
    if not isinstance(r, dict):
        return None

    def line(label, d):
        return (label, _int(pick(d, "rows")), _float(d.get("dbus")), _float(d.get("usd"))) if isinstance(d, dict) \
            else None

    lines = [x for x in (line("Job usage in billing.usage", r.get("job_usage")),
                         line("Attributed to the runs", r.get("attributed_to_runs")),
                         line("Unattributed job spend", r.get("unattributed_job_spend")),
                         line("Retractions netted into runs", r.get("retractions")),
                         line("Other products (not job spend)", r.get("other_products"))) if x is not None]
    un = r.get("unattributed_job_spend") or {}
    reasons = [(str(pick(x, "reason", "")), _int(pick(x, "rows")), _float(x.get("dbus")), _float(x.get("usd")))
               for x in un.get("reasons", []) if isinstance(x, dict)]
    ret = r.get("retractions")  # its note only when there were retractions to net
    notes = [str(ret["note"])] if isinstance(ret, dict) and ret.get("note") and _int(ret.get("rows")) else []
    rwu = r.get("runs_without_usage")
    if isinstance(rwu, dict) and _int(rwu.get("count")):
        n = int(rwu["count"])
        notes.insert(0, f"{n:,} run{' has' if n == 1 else 's have'} no usage rows (cost $0 as billed)")
    return Reconciliation(_span(r.get("period")) or (None, None), lines, reasons, notes)


def read_provenance(df: pd.DataFrame | None) -> Provenance:
    """What the Sources page shows for *df* (``recorded`` False when it carries no provenance)."""
    raw = df.attrs.get("provenance") if df is not None else None
    if not isinstance(raw, dict):
        span = None
        if df is not None and len(df):
            span = (str(df["start_time"].min()), str(df["end_time"].max()))
        return Provenance(False, len(df) if df is not None else None, None, None, [], span, [], None, [], [])
    basis, sentence = _basis(pick(raw, "cost_basis"))
    files = []
    for f in pick(raw, "files", []) or []:
        if not isinstance(f, dict):
            continue
        left = [LeftOut(str(pick(e, "reason", "")), _int(pick(e, "rows")), list(pick(e, "examples", []) or []))
                for e in pick(f, "left_out", []) or [] if isinstance(e, dict)]
        fb, _ = _basis(pick(f, "cost_basis"))
        files.append(SourceFile(str(pick(f, "path", "")), str(pick(f, "kind", "")), _int(pick(f, "rows_read")),
                                _int(pick(f, "rows_kept")), left, fb, _span(pick(f, "time_span")),
                                dict(pick(f, "read_as", {}) or {})))
    prices = [p for p in pick(raw, "price_table", []) or [] if isinstance(p, dict)]
    return Provenance(True, _int(pick(raw, "runs")), basis, sentence, prices, _span(pick(raw, "time_span")), files,
                      _reconciliation(pick(raw, "reconciliation")), [str(w) for w in pick(raw, "warnings", []) or []],
                      [str(n) for n in pick(raw, "notes", []) or []],
                      [(str(pick(x, "file", "")), str(pick(x, "why", ""))) for x in pick(raw, "skipped", []) or []
                       if isinstance(x, dict)])


def status_text(p: Provenance) -> str:
    """One line for the status bar: how many files were read and on what cost basis."""
    if not p.recorded:
        return "Sources: not recorded" if p.runs else "Sources: no data"
    n = len(p.files)
    return f"Sources: {n} file{'s' if n != 1 else ''}" + (f" · {p.cost_basis}" if p.cost_basis else "")
