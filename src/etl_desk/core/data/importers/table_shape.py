"""Where a table starts and ends in a sheet or CSV that people made: found by shape, not words.

Reports saved from Excel carry a title block above the header (a report name, a
date, a blank line) and totals or notes under the data, and the table may start in
column B. :func:`find_header` picks the header row by its shape: the first row
whose filled cells are at least half as many as the widest row, all of them labels
(text that is neither a number nor a date), followed by a row about as wide. Words
do not matter, so ``Lauf-Nr.`` or ``Execution ID`` work as well as ``Job ID``.

:func:`footer_mask` marks the rows under the data that are not runs: trailing rows
with neither a start nor an end time (a ``Total`` / ``Grand Total`` / ``Summe`` row
repeating the sums, a note such as ``* costs at list price``), separated or not by
blank rows. A row inside the data with no time is left to the validator.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

#: Rows looked at for the header.
HEADER_SCAN = 60
_NUMBERISH = re.compile(r"^[\s$€£(+-]*[\d\s.,\u00a0\u202f]+[)%\s$€£]*$")
_DATEISH = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}(?:[ T].*)?$")


def _blank(v) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and v != v:
        return True
    return isinstance(v, str) and not v.strip()


def _label(v) -> bool:
    if not isinstance(v, str):
        return False  # numbers, datetimes, booleans are data
    t = v.strip()
    return bool(t) and not _NUMBERISH.match(t) and not _DATEISH.match(t)


def find_header(rows: list[list]) -> int:
    """Index of the header row among *rows* (cell values of the first rows), 0 when the
    shape shows no title block."""
    rows = rows[:HEADER_SCAN]
    filled = [sum(not _blank(v) for v in r) for r in rows]
    if not filled:
        return 0
    width = max(filled)
    need = max(2, (width + 1) // 2)
    for i, r in enumerate(rows):
        if filled[i] < need or not all(_label(v) for v in r if not _blank(v)):
            continue
        nxt = next((j for j in range(i + 1, len(rows)) if filled[j]), None)
        if nxt is None or filled[nxt] < need:
            continue
        return i
    return 0


def header_names(values: list) -> list[str]:
    """Column names from header cells: blanks become ``Unnamed: j``; repeats get ``.1``, ``.2``."""
    seen: dict[str, int] = {}
    out = []
    for j, v in enumerate(values):
        name = f"Unnamed: {j}" if _blank(v) else (v.strip() if isinstance(v, str) else str(v))
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        out.append(name)
    return out


def frame_from_grid(grid: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """A sheet read without a header (cells as values) -> (table, header row index).

    Columns with no header and no values (a table starting in column B) are dropped.
    """
    probe = [list(r) for r in grid.head(HEADER_SCAN).itertuples(index=False, name=None)]
    h = find_header(probe)
    body = grid.iloc[h + 1:].reset_index(drop=True)
    body.columns = header_names(list(grid.iloc[h])) if len(grid) else []
    keep = [not (c.startswith("Unnamed: ") and body[c].isna().all()) for c in body.columns]
    body = body.loc[:, keep]
    return body.infer_objects(), h


def footer_mask(frame: pd.DataFrame, time_columns: list[str]) -> np.ndarray:
    """Bool per row: a total/note row under the data (see the module docstring).

    Scans back from the last row (a few rows in practice), so a million-row table costs nothing.
    """
    n = len(frame)
    out = np.zeros(n, dtype=bool)
    cols = [c for c in time_columns if c in frame.columns]
    if not cols or n == 0:
        return out
    end, k = n, 16
    while end > 0:
        lo = max(0, end - k)
        tail = frame.iloc[lo:end]
        has_time = np.zeros(len(tail), dtype=bool)
        for c in cols:
            has_time |= ~tail[c].map(_blank).to_numpy(dtype=bool)
        hits = np.flatnonzero(has_time)
        if len(hits):
            out[lo + int(hits[-1]) + 1:] = True
            return out
        end, k = lo, k * 4
    return np.zeros(n, dtype=bool)  # no row has a time: the validator says what is missing
