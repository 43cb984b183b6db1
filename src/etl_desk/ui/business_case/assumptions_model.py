"""The business-case assumptions the window works with: one model, many readers.

The Business case page edits it, the workbook export and the Copy action read
it, and it persists itself in the window's settings (``business_case/assumptions``,
see :mod:`etl_desk.ui.settings`). Every change is validated by core
(:func:`~etl_desk.core.business_case.assumptions.validate_assumptions`), so the
model never holds a value the business case would refuse; a bad value or file
raises/reports :class:`~etl_desk.core.errors.DataError` naming the key and leaves
the assumptions as they were.
"""
from __future__ import annotations

import copy
from typing import Any

from PySide6.QtCore import QObject, Signal

from etl_desk.core.business_case.assumptions import (Assumptions, default_assumptions, load_assumptions,
                                                     save_assumptions, validate_assumptions)
from etl_desk.core.business_case.catalogue import global_assumptions
from etl_desk.core.errors import DataError
from etl_desk.ui import settings as keys
from etl_desk.ui.settings import Settings


class AssumptionsModel(QObject):
    """Signals: ``changed(dict)`` after every accepted change (a copy of the new assumptions)."""

    changed = Signal(object)

    def __init__(self, settings: Settings | None = None, parent=None):
        super().__init__(parent)
        self.settings = settings
        self._a = self._restore()
        self._global_keys = set(global_assumptions())

    # --- reading --------------------------------------------------------------------------------
    @property
    def assumptions(self) -> Assumptions:
        """The current assumptions (a copy: change them through :meth:`set` or :meth:`replace`)."""
        return copy.deepcopy(self._a)

    def value(self, path: tuple) -> Any:
        node = self._a
        for p in path:
            node = node[p]
        return node

    # --- changing -------------------------------------------------------------------------------
    def normalise_path(self, path) -> tuple:
        """``("global", k)``, ``"global.k"``, ``"k"`` (a global key) or ``("solutions", id, k)`` -> tuple.

        Raises KeyError for an unknown assumption."""
        if isinstance(path, str):
            parts = tuple(path.split("."))
            if len(parts) == 1:
                if path in self._global_keys:
                    return ("global", path)
                raise KeyError(f"{path}: not a global assumption; use ('solutions', id, key)")
            path = parts
        path = tuple(path)
        if len(path) == 2 and path[0] == "global" and path[1] in self._global_keys:
            return path
        if len(path) == 3 and path[0] == "solutions" and path[1] in self._a["solutions"] \
                and path[2] in self._a["solutions"][path[1]]:
            return path
        raise KeyError(f"{'.'.join(map(str, path))}: unknown assumption")

    def set(self, path, value) -> bool:
        """Set one assumption (see :meth:`normalise_path`). Raises DataError naming the key for a bad
        value (nothing changes); False when the value is what it was."""
        path = self.normalise_path(path)
        new = copy.deepcopy(self._a)
        node = new
        for p in path[:-1]:
            node = node[p]
        node[path[-1]] = value
        return self._accept(validate_assumptions(new))

    def replace(self, a) -> bool:
        """Replace all assumptions (validated; missing keys take the defaults). Raises DataError."""
        return self._accept(validate_assumptions(a))

    def reset(self) -> bool:
        return self._accept(default_assumptions())

    def _accept(self, new: Assumptions) -> bool:
        if new == self._a:
            return False
        self._a = new
        self._persist()
        self.changed.emit(self.assumptions)
        return True

    # --- files and persistence --------------------------------------------------------------------
    def save(self, path) -> None:
        """Write TOML or JSON (by extension). Raises DataError / OSError."""
        save_assumptions(self._a, path)

    def load(self, path) -> None:
        """Read a TOML or JSON file and use it. Raises DataError naming the file and key; the
        assumptions stay as they were."""
        self.replace(load_assumptions(path))

    def _restore(self) -> Assumptions:
        if self.settings is not None:
            raw = self.settings.get(keys.ASSUMPTIONS)
            if raw is not None:
                try:
                    return validate_assumptions(raw)
                except DataError:
                    pass  # damaged or from an older catalogue: the defaults
        return default_assumptions()

    def _persist(self) -> None:
        if self.settings is not None:
            self.settings.set(keys.ASSUMPTIONS, self._a)
            self.settings.sync()
