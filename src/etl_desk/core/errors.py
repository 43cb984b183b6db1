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
        where = []
        if self.file:
            where.append(str(self.file))
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column '{self.column}'")
        return (", ".join(where) + ": " if where else "") + self.problem

    def with_file(self, file: str) -> "DataError":
        if self.file:
            return self
        return DataError(self.problem, file=file, row=self.row, column=self.column)


@dataclass
class LoadReport:
    """What the validator changed or dropped while loading (shown as warnings)."""

    warnings: list[str] = field(default_factory=list)
    rows_in: int = 0
    rows_out: int = 0

    def add(self, msg: str) -> None:
        self.warnings.append(msg)
