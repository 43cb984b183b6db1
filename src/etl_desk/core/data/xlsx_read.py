"""Reopen a workbook ETL Desk wrote: the runs and the assumptions, exactly.

The hidden sheet ``_etl_desk`` (see :mod:`etl_desk.core.workbook`) names the
Data sheets, the canonical column behind every Data column and holds the
assumptions as JSON, plus whole seconds and nanoseconds of any time finer than
a millisecond (the Data sheet holds Excel serials, exact to the millisecond).

Read with openpyxl in read-only mode; openpyxl parses XML safely only when
``defusedxml`` is installed (a test asserts that it is).
"""
from __future__ import annotations

import json
import os
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from etl_desk.core.data.schema import BY_NAME, COLUMN_NAMES, SOURCE_SYSTEMS, STATUSES, dictionary_columns
from etl_desk.core.data.xlsx_book import FORMAT_ID, FORMAT_VERSION, META_SHEET
from etl_desk.core.errors import DataError

_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def is_etl_desk_workbook(path: str | os.PathLike) -> bool:
    """Cheap check: an .xlsx whose workbook part lists the hidden ``_etl_desk`` sheet."""
    try:
        with zipfile.ZipFile(path) as z:
            with z.open("xl/workbook.xml") as fh:
                head = fh.read(1 << 20)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError):
        return False
    return f'name="{META_SHEET}"'.encode() in head


def _unescape(text: str) -> str:
    # Excel's _xHHHH_ escapes of control characters (openpyxl leaves them as they are)
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


def read_workbook(path: str | os.PathLike) -> tuple[pd.DataFrame, dict | None]:
    """The canonical runs and the assumptions (``None`` when the workbook has none) of an ETL Desk workbook.

    Raises:
        DataError: naming the file (and sheet, row and column where there is one): no such file, not
            an ETL Desk workbook, damaged, made by a newer format version, or its metadata, data or
            assumptions cannot be read back (sheets missing, headers or row counts changed in Excel).
    """
    import openpyxl

    path = Path(path)
    if not path.exists():
        raise DataError("no such file", file=str(path))
    if not is_etl_desk_workbook(path):
        raise DataError("not a workbook written by ETL Desk (no _etl_desk sheet); open it as a table instead",
                        file=str(path))
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
    except Exception as exc:  # openpyxl raises many kinds on damaged files
        raise DataError(f"cannot read this workbook ({exc})", file=str(path)) from None
    try:
        meta = _read_meta(wb, path)
        frame = _read_data(wb, meta, path)
    finally:
        wb.close()
    assumptions = _assumptions(meta, path)
    frame.attrs["source"] = str(path)
    return frame, assumptions


def _read_meta(wb, path: Path) -> dict:
    if META_SHEET not in wb.sheetnames:
        raise DataError("not a workbook written by ETL Desk (no _etl_desk sheet)", file=str(path))
    ws = wb[META_SHEET]
    meta: dict = {}
    for row in ws.iter_rows(min_row=1, max_row=99, values_only=True):
        if not row or row[0] is None:
            continue
        key = str(row[0])
        vals = [v for v in row[1:] if v is not None]
        if key == "assumptions":
            meta[key] = "".join(str(v) for v in vals)
        else:
            meta[key] = vals[0] if vals else None
    if meta.get("format") != FORMAT_ID:
        raise DataError("the _etl_desk sheet is not ETL Desk's (wrong format marker)", file=str(path))
    try:
        version = int(meta.get("format_version"))
    except (TypeError, ValueError):
        raise DataError("the _etl_desk sheet has no format version", file=str(path)) from None
    if version > FORMAT_VERSION:
        raise DataError(f"made by a newer ETL Desk (workbook format {version}; this version reads up to "
                        f"{FORMAT_VERSION}); update ETL Desk", file=str(path))
    try:
        meta["columns"] = json.loads(meta["columns"])
        meta["data_sheets"] = json.loads(meta["data_sheets"])
        meta["exact_strings"] = json.loads(meta.get("exact_strings") or "{}")
        meta["exact_times"] = json.loads(meta["exact_times"]) if meta.get("exact_times") else None
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"the _etl_desk sheet is damaged ({exc})", file=str(path)) from None
    meta["_ws"] = ws
    return meta


def _read_data(wb, meta: dict, path: Path) -> pd.DataFrame:
    cols = meta["columns"]
    labels = [c[0] for c in cols]
    names = [c[1] for c in cols]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise DataError(f"unknown column {unknown[0]!r} in the _etl_desk sheet", file=str(path))
    rows: list = []
    for sheet, count in meta["data_sheets"]:
        if sheet not in wb.sheetnames:
            raise DataError(f"the sheet {sheet!r} is missing", file=str(path))
        it = wb[sheet].iter_rows(values_only=True)
        header = next(it, None)
        header = [h for h in (header or ()) if h is not None]
        if list(header) != labels:
            raise DataError(f"the headers of sheet {sheet!r} were changed (expected {', '.join(labels)})",
                            file=str(path))
        width = len(labels)
        got = 0
        for row in it:
            if got >= count:
                break
            row = tuple(row[:width])
            rows.append(row + (None,) * (width - len(row)))
            got += 1
        if got != count:
            raise DataError(f"sheet {sheet!r} has {got:,} runs, expected {count:,} (rows were deleted?)",
                            file=str(path))
    n = len(rows)
    data = {}
    columns = list(zip(*rows)) if rows else [()] * len(labels)
    for label, name, values in zip(labels, names, columns):
        try:
            data[name] = _column(name, list(values), n, meta, path)
        except DataError:
            raise
        except (TypeError, ValueError, OverflowError) as exc:
            raise DataError(f"cannot read the column ({exc})", file=str(path), column=label) from None
    out = {}
    for name in COLUMN_NAMES:
        out[name] = data[name] if name in data else _absent(name, n)
    df = dictionary_columns(pd.DataFrame(out))
    if not df["run_id"].is_unique:
        dup = df["run_id"][df["run_id"].duplicated()].iloc[0]
        raise DataError(f"duplicate run ID {dup!r}", file=str(path), column="Job ID")
    if df["run_id"].isna().any() or df["status"].isna().any() or df["start_time"].isna().any():
        raise DataError("a run lost its ID, status or start time (edited in Excel?)", file=str(path))
    return df


def _absent(name: str, n: int) -> pd.Series:
    kind = BY_NAME[name].kind
    if name == "attempt":  # the workbook did not record attempts: unknown, not 1
        return pd.Series(pd.array([pd.NA] * n, dtype="Int64"))
    if kind == "float":
        return pd.Series(np.full(n, np.nan))
    if kind == "bool":
        return pd.Series(pd.array([pd.NA] * n, dtype="boolean"))
    if kind == "category":
        cats = list(SOURCE_SYSTEMS if name == "source_system" else STATUSES)
        return pd.Series(pd.Categorical([None] * n, categories=cats))
    if kind == "datetime":
        return pd.Series(np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]"))
    return pd.Series(pd.array([pd.NA] * n, dtype="string"))


def _column(name: str, values: list, n: int, meta: dict, path: Path):
    kind = BY_NAME[name].kind
    if kind == "datetime":
        s = pd.Series(pd.to_datetime(pd.Series(values, dtype="object"), errors="raise")).astype("datetime64[ns]")
        exact = _exact_times(name, n, meta)
        if exact is not None:
            s = pd.Series(np.where(np.isnan(exact[0]), s.to_numpy().astype(np.int64),
                                   np.nan_to_num(exact[0]).astype(np.int64) * 10**9
                                   + np.nan_to_num(exact[1]).astype(np.int64)).view("datetime64[ns]"))
            s[pd.isna(pd.Series(values, dtype="object"))] = pd.NaT
        return s.astype("datetime64[ns]")
    if kind == "float":
        return pd.Series([np.nan if v is None else float(v) for v in values], dtype="float64")
    if kind == "int":  # attempt: a blank cell is a run whose attempt the source did not record
        return pd.Series(pd.array([None if v is None else int(v) for v in values], dtype="Int64"))
    if kind == "bool":
        return pd.Series(pd.array([None if v is None else bool(v) for v in values], dtype="boolean"))
    texts = [None if v is None else _unescape(str(v)) for v in values]
    for i, v in meta["exact_strings"].get(name, {}).items():
        texts[int(i)] = v
    if kind == "category":
        cats = list(SOURCE_SYSTEMS if name == "source_system" else STATUSES)
        bad = {t for t in texts if t is not None and t not in cats}
        if bad:
            raise DataError(f"unexpected value {sorted(bad)[0]!r} (expected {', '.join(cats)})",
                            file=str(path), column=BY_NAME[name].label)
        return pd.Series(pd.Categorical(texts, categories=cats))
    return pd.Series(pd.array(texts, dtype="string"))


def _exact_times(name: str, n: int, meta: dict):
    info = meta.get("exact_times")
    if not info:
        return None
    layout = [c for c in info["columns"] if c[0].split(".")[0] == name]
    if not layout:
        return None
    ws = meta["_ws"]
    first_row = int(info["first_row"])
    first_col = int(info["first_col"])
    all_cols = info["columns"]
    if "_grid" not in meta:
        width = len(all_cols)
        height = max(c[2] - c[1] for c in all_cols)
        grid = np.full((height, width), np.nan)
        for i, row in enumerate(ws.iter_rows(min_row=first_row + 1, max_row=first_row + height,
                                             min_col=first_col + 1, max_col=first_col + width, values_only=True)):
            grid[i] = [np.nan if v is None else float(v) for v in row]
        meta["_grid"] = grid
    grid = meta["_grid"]
    secs = np.full(n, np.nan)
    nanos = np.full(n, np.nan)
    for j, (key, p0, p1) in enumerate(all_cols):
        base, part = key.split(".")
        if base != name:
            continue
        target = secs if part == "s" else nanos
        target[p0:p1] = grid[: p1 - p0, j]
    return secs, nanos


def _assumptions(meta: dict, path: Path):
    text = meta.get("assumptions")
    if not text or text == "null":
        return None
    try:
        payload = json.loads(text)
    except ValueError as exc:
        raise DataError(f"the stored assumptions are damaged ({exc})", file=str(path)) from None
    if not isinstance(payload, dict) or "value" not in payload:
        raise DataError("the stored assumptions are damaged", file=str(path))
    return payload["value"]
