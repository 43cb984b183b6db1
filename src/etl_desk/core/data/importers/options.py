"""Import options shared by every importer (the window's import dialog and the CLI flags)."""
from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from etl_desk.core.data.schema import CANCELLED_POLICIES, DEFAULT_CANCELLED_POLICY, DEFAULT_SKIPPED_POLICY
from etl_desk.core.errors import DataError

if TYPE_CHECKING:  # pragma: no cover
    from etl_desk.core.data.importers.mapping import Mapping

#: How a run's cost was obtained; stored in ``df.attrs["cost_basis"]``.
COST_BASES = ("file", "list_prices", "usd_per_dbu", "usd_per_hour", "none")


@dataclass
class ImportOptions:
    """What the user decides when importing.

    * ``mapping`` — column mapping for foreign headers (None: guess from the headers).
    * ``usd_per_dbu`` — price of one DBU; used for DBU columns and, when given, for
      Databricks billing usage instead of ``system.billing.list_prices``.
    * ``contract_discount`` — 0..1, taken off list prices and off ``usd_per_dbu``.
    * ``usd_per_hour`` — an assumption for sources that have no cost at all (Jobs API
      JSON, a run timeline without billing usage, a file without cost or DBUs):
      cost = run time in hours x this rate. Without it such sources load with
      cost unknown (NaN, never $0) and a warning; with ``strict`` they are refused.
    * ``cancelled`` / ``skipped`` — ``failed`` | ``success`` | ``exclude``. Defaults:
      cancelled runs count as failed spend (they consumed compute and produced
      nothing); skipped runs are left out (they never ran).
    * ``strict`` — True: the first bad value refuses the file. False (default):
      bad rows are dropped, duplicates renamed, values clipped, each listed as a warning.
    * ``decimal`` — ``","`` or ``"."``: the decimal mark of number columns whose own
      values do not settle it (``1,250``); None: refuse such a column (CLI
      ``--decimal-comma`` / ``--decimal-point``). A mapping's per-column setting wins.
    * ``dayfirst`` — True / False: day-first or month-first for date columns whose
      values do not settle it (``03/04/2024``); None: refuse such a column (CLI
      ``--day-first`` / ``--month-first``). A mapping's per-column setting wins.
    """

    mapping: "Mapping | None" = None
    usd_per_dbu: float | None = None
    contract_discount: float = 0.0
    usd_per_hour: float | None = None
    cancelled: str = DEFAULT_CANCELLED_POLICY
    skipped: str = DEFAULT_SKIPPED_POLICY
    strict: bool = False
    decimal: str | None = None
    dayfirst: bool | None = None

    def validate(self) -> "ImportOptions":
        """Check the options and return ``self`` (so calls chain).

        Raises:
            DataError: no file named (these are the user's settings, not a file's): for a ``usd_per_dbu``
                or ``usd_per_hour`` that is not a finite number >= 0, a ``contract_discount`` outside
                0 <= d < 1, a ``decimal`` other than ``","`` / ``"."`` / None, or a ``cancelled`` /
                ``skipped`` policy not in :data:`CANCELLED_POLICIES`.
        """
        for name in ("usd_per_dbu", "usd_per_hour"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0):
                raise DataError(f"{name.replace('_', ' ')} must be a number >= 0, got {v!r}")
        d = self.contract_discount
        if not isinstance(d, (int, float)) or not math.isfinite(d) or not 0 <= d < 1:
            raise DataError(f"contract discount must be between 0 and 1 (e.g. 0.2 for 20%), got {d!r}")
        if self.decimal not in (None, ",", "."):
            raise DataError(f"decimal mark must be ',' or '.', got {self.decimal!r}")
        for name in ("cancelled", "skipped"):
            if getattr(self, name) not in CANCELLED_POLICIES:
                raise DataError(f"{name} policy must be one of {', '.join(CANCELLED_POLICIES)}, "
                                f"got {getattr(self, name)!r}")
        return self

    @property
    def dbu_price(self) -> float | None:
        """$/DBU after the contract discount, or None."""
        if self.usd_per_dbu is None:
            return None
        return float(self.usd_per_dbu) * (1.0 - float(self.contract_discount))

    def canonical_kwargs(self) -> dict:
        """The keyword arguments :func:`~etl_desk.core.data.schema.to_canonical` takes from these options:
        ``{"cancelled", "skipped", "strict"}``.
        """
        return {"cancelled": self.cancelled, "skipped": self.skipped, "strict": self.strict}

    def to_dict(self) -> dict[str, Any]:
        """Every option as a plain dict (field name -> value; ``mapping`` as :meth:`Mapping.to_dict` or None),
        for provenance and persistence.
        """
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "mapping"}
        d["mapping"] = self.mapping.to_dict() if self.mapping is not None else None
        return d

    @classmethod
    def from_kwargs(cls, options: "ImportOptions | None" = None, **kwargs) -> "ImportOptions":
        """Options from an ImportOptions and/or keyword arguments (``rate_usd_per_hour`` is
        accepted as an alias of ``usd_per_hour``). Unknown keywords raise TypeError."""
        base = options if options is not None else cls()
        if "rate_usd_per_hour" in kwargs:
            kwargs["usd_per_hour"] = kwargs.pop("rate_usd_per_hour")
        names = {f.name for f in fields(cls)}
        unknown = set(kwargs) - names
        if unknown:
            raise TypeError(f"unknown import option(s): {', '.join(sorted(unknown))}")
        if not kwargs:
            return base
        vals = {f.name: getattr(base, f.name) for f in fields(cls)}
        vals.update(kwargs)
        return cls(**vals)
