"""Errors and load reports every layer raises or fills: the bottom of the core."""
from __future__ import annotations

from dataclasses import dataclass, field


class DataError(ValueError):
    """Input that cannot become the canonical table. Names file, row and column."""

    def __init__(self, problem: str, *, file: str | None = None, row: int | None = None,
                 column: str | None = None):
        self.problem = problem
        self.file = file
        self.row = row
        self.column = column
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The text shown to people: "file, row N, column 'C': problem" (only the parts that are known)."""
        where = []
        if self.file:
            where.append(str(self.file))
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column '{self.column}'")
        return (", ".join(where) + ": " if where else "") + self.problem

    def with_file(self, file: str) -> "DataError":
        """This error naming *file* when it names no file yet (a new DataError; else itself, unchanged)."""
        if self.file:
            return self
        return DataError(self.problem, file=file, row=self.row, column=self.column)


#: Example rows kept per reason a row was left out (provenance shows them).
MAX_EXAMPLES = 5


@dataclass
class LoadReport:
    """What the validator changed or dropped while loading (shown as warnings).

    ``left_out``: one dict per reason rows were left out, ``{"file": str | None,
    "reason": str, "count": int, "examples": [row, ...] (at most MAX_EXAMPLES data-row
    numbers, 1 = the first row under the header; for JSON the run's position in the
    file)}``. ``notes``: facts that are not problems (how a column was read, ...).
    """

    warnings: list[str] = field(default_factory=list)
    rows_in: int = 0
    rows_out: int = 0
    left_out: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: source column -> how its numbers or dates were read (locale decisions)
    read_as: dict = field(default_factory=dict)
    #: files of a folder that were not read, ``{"file": str, "why": str}`` (not run data: a README,
    #: a stray JSON, notes)
    skipped: list = field(default_factory=list)

    def skip(self, file: str, why: str) -> None:
        """Record that *file* (found in a folder) was not read, and *why*."""
        self.skipped.append({"file": str(file), "why": why})

    def add(self, msg: str) -> None:
        """Append one warning line *msg* (shown to the user; duplicates are kept)."""
        self.warnings.append(msg)

    def leave_out(self, reason: str, count: int, examples=(), *, file: str | None = None) -> None:
        """Record *count* rows left out for *reason* (merged with an earlier entry of the same
        file and reason)."""
        if count <= 0:
            return
        ex = [int(x) for x in list(examples)[:MAX_EXAMPLES]]
        for e in self.left_out:
            if e["reason"] == reason and e["file"] == file:
                e["count"] += int(count)
                e["examples"] = (e["examples"] + ex)[:MAX_EXAMPLES]
                return
        self.left_out.append({"file": file, "reason": reason, "count": int(count), "examples": ex})

    def note(self, msg: str) -> None:
        """Append *msg* to :attr:`notes` (a fact, not a problem) unless the same text is already there."""
        if msg not in self.notes:
            self.notes.append(msg)
