"""Numbers written in any locale, read per column from the evidence in the column.

A value settles the decimal mark of its column when only one reading is possible:

* ``1.234,56`` / ``1,050.00`` (both marks: the last one is the decimal mark);
* ``1 234,56`` with a space, NO-BREAK SPACE U+00A0, NARROW NO-BREAK SPACE U+202F or
  THIN SPACE U+2009 between groups of exactly three digits (a thousands separator
  only in that pattern; never deleted elsewhere);
* ``12,5`` / ``0,250`` / ``1234,567`` / ``1,2345`` (a comma that cannot separate
  thousands: not exactly three digits after it, or a lead group that is 0 or longer
  than three digits) -> decimal comma; the same with ``.`` -> decimal point;
* ``1,234,567`` / ``1.234.567`` (several marks of one kind) -> thousands.

Values like ``1,250`` or ``1.250`` alone are *ambiguous* (1.25 or 1250). A column
whose only evidence is ambiguous takes the decimal mark stated for it (mapping
``decimal``), else the one stated for the file (``--decimal-comma`` /
``--decimal-point``), else the one other columns of the same file prove; with none
of those the load is refused (:class:`AmbiguousNumbers`) naming the column and the
choice to make. A currency sign (``$ € £``, ``USD``, ``EUR``) around the number is
dropped. Plain ``1234`` / ``-5`` need no decision.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from etl_desk.core.errors import DataError

SPACES = "\u0020\u00a0\u202f\u2009"
_CUR = re.compile(r"^\s*(?:US\$|[$€£]|USD|EUR|GBP)\s*|\s*(?:[$€£]|USD|EUR|GBP)\s*$", re.I)
_SP = f"[{SPACES}]"
# evidence classes
PLAIN, DOT, COMMA, AMB_DOT, AMB_COMMA, BAD = "plain", ".", ",", "amb.", "amb,", "bad"
_PATTERNS = (  # (regex, class) in order; the value is stripped of sign and currency first
    (re.compile(r"^\d+$"), PLAIN),
    (re.compile(rf"^\d{{1,3}}(?:{_SP}\d{{3}})+$"), PLAIN),
    (re.compile(rf"^\d{{1,3}}(?:{_SP}\d{{3}})+,\d+$"), COMMA),
    (re.compile(rf"^\d{{1,3}}(?:{_SP}\d{{3}})+\.\d+$"), DOT),
    (re.compile(r"^\d{1,3}(?:,\d{3})+\.\d+$"), DOT),
    (re.compile(r"^\d{1,3}(?:\.\d{3})+,\d+$"), COMMA),
    (re.compile(r"^\d{1,3}(?:,\d{3}){2,}$"), DOT),
    (re.compile(r"^\d{1,3}(?:\.\d{3}){2,}$"), COMMA),
    (re.compile(r"^[1-9]\d{0,2},\d{3}$"), AMB_COMMA),
    (re.compile(r"^[1-9]\d{0,2}\.\d{3}$"), AMB_DOT),
    (re.compile(r"^\d*,\d+$"), COMMA),
    (re.compile(r"^\d*\.\d+$|^\d+\.$"), DOT),
)
HOW_TO_STATE = ("state it in the column mapping (--map FILE: {\"decimal\": {\"<field>\": \",\"}} or the mapping "
                "dialog), or for the whole file with --decimal-comma / --decimal-point")


class AmbiguousNumbers(DataError):
    """A column whose numbers read two ways (1,250 = 1.25 or 1250) and nothing settles which."""


def _strip(txt: pd.Series) -> pd.Series:
    t = txt.str.strip().str.replace(_CUR, "", regex=True).str.strip()
    t = t.str.replace(r"^\((.*)\)$", r"-\1", regex=True)  # (1.00) accounting negative
    return t


def classify(values: pd.Series) -> pd.Series:
    """Evidence class of each (unique) text value: PLAIN, DOT, COMMA, AMB_DOT, AMB_COMMA, BAD."""
    t = _strip(values.astype("string")).str.lstrip("+-")
    out = pd.Series(BAD, index=values.index, dtype=object)
    todo = t.notna()
    for rx, cls in _PATTERNS:
        hit = todo & t.str.match(rx).fillna(False).astype(bool)
        out[hit] = cls
        todo &= ~hit
    return out


def column_evidence(values: pd.Series) -> str | None:
    """The decimal mark the text values prove (``"."`` / ``","``), ``"ambiguous"`` when only
    ambiguous values decide, None when nothing needs deciding (plain numbers). Raises
    ValueError naming two values that contradict each other."""
    u = pd.Series(pd.unique(values.dropna().astype("string").str.strip()), dtype="string")
    u = u[u != ""]
    if u.empty:
        return None
    cls = classify(u)
    dots, commas = u[cls == DOT], u[cls == COMMA]
    if len(dots) and len(commas):
        raise ValueError(f"{dots.iloc[0]!r} has '.' as the decimal mark but {commas.iloc[0]!r} has ','")
    if len(dots):
        return "."
    if len(commas):
        return ","
    if ((cls == AMB_DOT) | (cls == AMB_COMMA)).any():
        return "ambiguous"
    return None


def parse_numbers(s: pd.Series, *, decimal: str | None, label: str, file: str | None, rows) -> pd.Series:
    """Floats from text *s* with *decimal* as the decimal mark (None: the column's own evidence,
    refusing when it is ambiguous). Raises DataError naming the first value that is not a number."""
    if pd.api.types.is_bool_dtype(s.dtype):
        raise DataError("expected a number, found true/false", file=file, row=int(rows[0]), column=label)
    if pd.api.types.is_numeric_dtype(s.dtype):
        return s.astype("float64")
    txt = s.astype("string").str.strip()
    if decimal is None:
        try:
            ev = column_evidence(txt)
        except ValueError as exc:
            raise DataError(f"the numbers mix two locales: {exc}", file=file, column=label) from None
        if ev == "ambiguous":
            raise ambiguous_error(txt, label, file)
        decimal = ev or "."
    codes, uniques = pd.factorize(txt, use_na_sentinel=True)
    u = pd.Series(uniques, dtype="string")
    cls = classify(u)
    t = _strip(u)
    other = "," if decimal == "." else "."
    t = t.str.replace(_SP, "", regex=True).str.replace(other, "", regex=False)
    if decimal == ",":
        t = t.str.replace(",", ".", regex=False)
    num = pd.to_numeric(t.where(cls != BAD), errors="coerce").to_numpy(dtype="float64")
    vals = np.append(num, np.nan)[codes]
    bad = np.isnan(vals) & txt.notna().to_numpy() & (txt != "").fillna(False).to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(f"expected a number, found {str(txt.iloc[i])[:40]!r}", file=file, row=int(rows[i]),
                        column=label)
    return pd.Series(vals, index=s.index, dtype="float64")


def ambiguous_error(txt: pd.Series, label: str, file: str | None) -> AmbiguousNumbers:
    """The :class:`AmbiguousNumbers` error (not raised here) for number column *label* of *file*: quotes
    up to three values of *txt*, shows the first read both ways (decimal and thousands) and says how
    to state the decimal mark (:data:`HOW_TO_STATE`). *txt* must hold at least one non-empty value.
    """
    ex = txt.dropna()
    ex = ex[ex != ""].head(3).tolist()
    shown = ", ".join(ex)
    mark = "," if any("," in str(x) for x in ex) else "."
    return AmbiguousNumbers(
        f"cannot tell how to read the numbers ({shown}): each reads as a decimal ('{mark}' = decimal mark, "
        f"{ex[0]} = {_as_decimal(ex[0], mark)}) or as thousands ({ex[0]} = {_as_thousands(ex[0], mark)}) and "
        f"nothing in the file settles it; choose which: {HOW_TO_STATE}", file=file, column=label)


def _as_decimal(x: str, mark: str) -> str:
    return str(_strip(pd.Series([x], dtype="string")).iloc[0]).replace(mark, ".")


def _as_thousands(x: str, mark: str) -> str:
    return str(_strip(pd.Series([x], dtype="string")).iloc[0]).replace(mark, "")


def maybe_thousands(values: pd.Series) -> bool:
    """True when floats parsed by a CSV reader could all have been ``1.250``-style text (1 <= |v| < 1000,
    at most three decimals, some with exactly three): then the column's text must be checked."""
    head = values.iloc[:_SAMPLE].dropna().to_numpy(dtype="float64")
    if len(head) and not _could_be_thousands(head):
        return False  # most columns show it in their first values (a cost of 11.7898): no pass over the rest
    v = values.dropna().to_numpy(dtype="float64")
    if v.size == 0 or not _could_be_thousands(v):
        return False
    a = np.abs(v)
    k = np.round(a * 1000)
    return bool((np.round(a * 100) != a * 100).any() or (k % 10 == 0).all() and (k % 1000 != 0).any())


#: Values looked at first by :func:`maybe_thousands`.
_SAMPLE = 4096


def _could_be_thousands(v: np.ndarray) -> bool:
    """Every value finite, 1 <= |v| < 1000 and with at most three decimals: what ``1.250`` text parses to."""
    if not np.isfinite(v).all():
        return False
    a = np.abs(v)
    if (a < 1).any() or (a >= 1000).any():
        return False
    k = np.round(a * 1000)
    return bool(np.allclose(k, a * 1000, rtol=0, atol=1e-6))
