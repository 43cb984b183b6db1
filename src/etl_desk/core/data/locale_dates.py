"""Dates written day-first or month-first, read per column from the evidence in the column.

Handles ``d/m/yyyy``, ``m/d/yyyy``, ``dd.mm.yyyy``, ``dd-mm-yyyy`` (two-digit years
too), each with an optional time ``h:mm[:ss[.fff]]`` and ``AM``/``PM``. ISO dates
(``2024-05-01``) never come here.

* a first field above 12 in any value settles day-first for the whole column, a
  second field above 12 settles month-first (both: refused, the column mixes them);
* ``dd.mm.yyyy`` with dots is day-first (no locale writes month-first with dots);
* otherwise, when some value reads two ways (03/04 = 3 April or 4 March), the column
  takes the order stated for it (mapping ``dayfirst``), else the one stated for the
  file (``--day-first`` / ``--month-first``), else the one another date column of the
  same file proves; with none of those the load is refused (:class:`AmbiguousDates`)
  naming the column and the choice to make.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from etl_desk.core.errors import DataError

_RX = re.compile(r"^(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
                 r"\s*([AaPp][Mm])?)?$")
HOW_TO_STATE = ("state it in the column mapping (--map FILE: {\"dayfirst\": {\"<field>\": true}} or the mapping "
                "dialog), or for the whole file with --day-first / --month-first")


class AmbiguousDates(DataError):
    """A date column whose values read two ways and nothing settles which."""


def _parts(txt: pd.Series) -> pd.DataFrame | None:
    """The fields of every non-blank value (surrounding blanks ignored), or None when some value has
    another shape."""
    t = txt.dropna()
    if t.empty:
        return None
    head = t.iloc[:200].str.strip()
    head = head[head != ""]
    if len(head) and not head.str.match(_RX).fillna(False).all():
        return None  # ISO or another shape (the common case): decided on a sample, without the column
    t = t.str.strip()
    t = t[t != ""]
    if t.empty:
        return None
    u = pd.Series(pd.unique(t), dtype="string")
    m = u.str.extract(_RX)
    if m[0].isna().any():
        return None
    m.index = u.to_numpy()
    return m


def column_evidence(txt: pd.Series) -> tuple[bool | None, str] | None:
    """``(dayfirst, how)`` this column proves (dayfirst None: ambiguous), or None when the column
    is not made of d/m/y-style dates (decided on the first 200 values without stripping the column).
    *txt*: text, stripped or not. Raises ValueError when values contradict each other."""
    m = _parts(txt)
    if m is None:
        return None
    a, b = m[0].astype(int), m[2].astype(int)
    day, month = a > 12, b > 12
    if day.any() and month.any():
        raise ValueError(f"{m.index[int(np.flatnonzero(day)[0])]!r} is day-first but "
                         f"{m.index[int(np.flatnonzero(month)[0])]!r} is month-first")
    if day.any():
        return True, f"{m.index[int(np.flatnonzero(day)[0])]!r} has a day above 12"
    if month.any():
        return False, f"{m.index[int(np.flatnonzero(month)[0])]!r} has a day above 12 in the second field"
    if (m[1] == ".").all():
        return True, "dates written with dots (dd.mm.yyyy) are day-first"
    if (a == b).all():
        return True, "every value reads the same either way"
    return None, "no day above 12"


def parse_dates(s: pd.Series, *, dayfirst: bool | None, label: str, file: str | None, rows) -> pd.Series | None:
    """Naive datetimes from d/m/y-style text *s*, or None when *s* is not such a column.
    *dayfirst* None: the column's own evidence, refusing when it is ambiguous.

    *label* (the column) and *file* name the column in errors; *rows* gives each value's data-row
    number for them.

    Raises:
        DataError: naming file, column (and row): the column mixes day-first and month-first
            values, or a value cannot be read in the chosen order.
        AmbiguousDates: (a DataError) when *dayfirst* is None and nothing in the column settles it.
    """
    if pd.api.types.is_datetime64_any_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype):
        return None
    txt = s.astype("string").str.strip()
    try:
        ev = column_evidence(txt)
    except ValueError as exc:
        raise DataError(f"the dates mix day-first and month-first: {exc}", file=file, column=label) from None
    if ev is None:
        return None
    if dayfirst is None:
        dayfirst = ev[0]
        if dayfirst is None:
            raise ambiguous_error(txt, label, file)
    m = _parts(txt)
    a, b = m[0].astype(int), m[2].astype(int)
    year = m[3].astype(int)
    year = year.where(year >= 100, 2000 + year)
    hour = m[4].fillna("0").astype(int)
    pm = m[8].fillna("").str.upper()
    hour = hour.where(pm != "PM", hour % 12 + 12).where(pm != "AM", hour % 12)
    frac = m[7].fillna("0").str.slice(0, 6).str.ljust(6, "0").astype(int)
    parts = pd.DataFrame({"year": year, "month": b if dayfirst else a, "day": a if dayfirst else b,
                          "hour": hour, "minute": m[5].fillna("0").astype(int),
                          "second": m[6].fillna("0").astype(int), "microsecond": frac})
    stamps = pd.to_datetime(parts, errors="coerce")
    look = dict(zip(m.index, stamps.to_numpy()))
    out = pd.Series(txt.map(look).to_numpy(dtype="datetime64[ns]"), index=s.index)
    bad = out.isna().to_numpy() & txt.notna().to_numpy() & (txt != "").fillna(False).to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        order = "day-first" if dayfirst else "month-first"
        raise DataError(f"cannot read {str(txt.iloc[i])[:40]!r} as a {order} date", file=file, row=int(rows[i]),
                        column=label)
    return out


def ambiguous_error(txt: pd.Series, label: str, file: str | None) -> AmbiguousDates:
    """The :class:`AmbiguousDates` error (not raised here) for date column *label* of *file*: quotes up
    to three values of *txt* and says how to state day-first or month-first (:data:`HOW_TO_STATE`).
    *txt* must hold at least one non-empty value.
    """
    ex = txt.dropna()
    ex = ex[ex != ""].head(3).tolist()
    return AmbiguousDates(
        f"cannot tell whether the dates ({', '.join(ex)}) are day-first or month-first: no day is above 12 and "
        f"nothing else in the file settles it ({ex[0]} is a different day either way); choose which: "
        f"{HOW_TO_STATE}", file=file, column=label)
