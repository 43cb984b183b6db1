"""A re-entrancy guard: one object instead of per-class ``_updating`` / ``_syncing`` flags.

    self._echo = Guard()
    def _on_table_selection(self):
        if self._echo:            # our own change coming back: ignore it
            return
        with self._echo:
            self.state.select_bars(rows)

Nested use is counted, so an inner ``with`` does not clear the outer one.
"""
from __future__ import annotations


class Guard:
    __slots__ = ("_depth",)

    def __init__(self) -> None:
        self._depth = 0

    def __bool__(self) -> bool:
        return self._depth > 0

    def __enter__(self) -> "Guard":
        self._depth += 1
        return self

    def __exit__(self, *exc) -> None:
        self._depth -= 1
