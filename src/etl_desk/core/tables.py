"""Reading and writing the canonical table as CSV, XLSX or Parquet.

Files use the display labels as headers (the case study's CSV reads with no
mapping). Columns that carry no information (an optional column that is empty
everywhere, or attempts that are all 1) are not written, so the case study
writes exactly its eight published columns.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from .schema import BY_NAME, COLUMN_NAMES, LABELS, DataError, LoadReport, to_canonical

FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".parquet": "parquet", ".pq": "parquet"}
#: Excel's row limit, header included.
EXCEL_MAX_ROWS = 1_048_576


def file_format(path: str | os.PathLike) -> str:
    ext = Path(path).suffix.lower()
    try:
        return FORMATS[ext]
    except KeyError:
        raise DataError(f"unsupported file type {ext or '(none)'!r}; use .csv, .xlsx or .parquet",
                        file=str(path)) from None


def informative_columns(df: pd.DataFrame) -> list[str]:
    """Canonical columns worth writing: required ones plus optional ones with information."""
    cols = []
    for name in COLUMN_NAMES:
        if name not in df.columns:
            continue
        col = BY_NAME[name]
        if not col.required:
            s = df[name]
            if not s.notna().any():
                continue
            if name == "attempt" and bool((s == 1).all()):
                continue
        cols.append(name)
    return cols


def _labelled(df: pd.DataFrame) -> pd.DataFrame:
    cols = informative_columns(df)
    out = df[cols].copy()
    # whole numbers are written as integers (27, not 27.0), as the published CSV does
    for name in ("duration_min",):
        if name in out.columns:
            v = out[name].to_numpy()
            if np.isfinite(v).all() and np.all(v == np.round(v)):
                out[name] = v.astype(np.int64)
    return out.rename(columns=LABELS)


def atomic_write(path: str | os.PathLike, write: Callable[[str], None]) -> None:
    """Call ``write(tmp_path)`` on a temporary file beside *path*, then rename it into place.

    A failure (or cancellation raised as an exception) leaves any previous file untouched.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.exists():
        raise DataError("the folder does not exist", file=str(target))
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=target.suffix, dir=folder)
    except PermissionError:
        raise DataError("cannot write here: the folder is read-only or you lack permission",
                        file=str(target)) from None
    os.close(fd)
    try:
        write(tmp)
        try:
            os.replace(tmp, target)
        except PermissionError:
            raise DataError("cannot replace the file: it is read-only or open in another program "
                            "(close it and try again)", file=str(target)) from None
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_table(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write the canonical table to *path*; the extension picks CSV, XLSX or Parquet. Atomic."""
    fmt = file_format(path)
    out = _labelled(df)
    if fmt == "csv":
        atomic_write(path, lambda tmp: out.to_csv(tmp, index=False, date_format="%Y-%m-%d %H:%M:%S"))
    elif fmt == "parquet":
        atomic_write(path, lambda tmp: out.to_parquet(tmp, index=False))
    else:
        if len(out) + 1 > EXCEL_MAX_ROWS:
            raise DataError(f"{len(out):,} runs do not fit in one Excel sheet (at most "
                            f"{EXCEL_MAX_ROWS - 1:,}); filter the data or write CSV or Parquet",
                            file=str(path))
        atomic_write(path, lambda tmp: write_data_xlsx(out, tmp))


def write_data_xlsx(labelled: pd.DataFrame, path: str, sheet: str = "Data") -> None:
    """A plain workbook with one sheet holding *labelled* as an Excel table."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(path, {"strings_to_formulas": False, "strings_to_urls": False,
                                    "nan_inf_to_errors": True})
    try:
        ws = wb.add_worksheet(sheet)
        write_data_sheet(wb, ws, labelled)
    finally:
        wb.close()


def write_data_sheet(wb, ws, labelled: pd.DataFrame, first_row: int = 0) -> None:
    """Write a labelled canonical frame into worksheet *ws* as a formatted Excel table.

    Strings are always written as text (a value like ``=HYPERLINK(...)`` never
    becomes a formula).
    """
    fmt_map = {
        "Cost (USD)": wb.add_format({"num_format": "$#,##0.00"}),
        "Data Processed (GB)": wb.add_format({"num_format": "#,##0.00"}),
        "Duration (min)": wb.add_format({"num_format": "#,##0.0"}),
        "Compute Hours Used": wb.add_format({"num_format": "#,##0.00"}),
        "Start Time": wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
        "End Time": wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
    }
    n = len(labelled)
    widths = []
    for j, label in enumerate(labelled.columns):
        s = labelled[label]
        fmt = fmt_map.get(label)
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            # Excel serial days since 1899-12-30
            vals = ((s - pd.Timestamp("1899-12-30")) / pd.Timedelta(days=1)).to_numpy(dtype=float)
            _write_numbers(ws, first_row + 1, j, vals, fmt)
            width = 20
        elif pd.api.types.is_bool_dtype(s.dtype) or str(s.dtype) == "boolean":
            for i, v in enumerate(s.to_numpy(dtype=object)):
                if v is not pd.NA and v is not None:
                    ws.write_boolean(first_row + 1 + i, j, bool(v))
            width = max(len(label), 6)
        elif pd.api.types.is_numeric_dtype(s.dtype):
            vals = s.to_numpy(dtype=float)
            _write_numbers(ws, first_row + 1, j, vals, fmt)
            finite = vals[np.isfinite(vals)]
            width = max(len(label), len(f"{finite.max():,.2f}") + 2 if len(finite) else 6)
        else:
            texts = s.astype("string")
            for i, v in enumerate(texts.to_numpy(dtype=object)):
                if v is not pd.NA and v is not None:
                    ws.write_string(first_row + 1 + i, j, str(v))
            lens = texts.dropna().str.len()
            width = max(len(label), int(lens.quantile(0.99)) if len(lens) else 6)
        widths.append(min(max(width, 8), 60) + 2)
    for j, w in enumerate(widths):
        ws.set_column(j, j, w, fmt_map.get(labelled.columns[j]))
    ncols = len(labelled.columns)
    ws.add_table(first_row, 0, first_row + max(n, 1), ncols - 1, {
        "name": "Runs",
        "columns": [{"header": str(c)} for c in labelled.columns],
        "style": "Table Style Medium 2",
        "autofilter": True,
    })
    ws.freeze_panes(first_row + 1, 0)


def _write_numbers(ws, row0: int, col: int, vals: np.ndarray, fmt) -> None:
    for i, v in enumerate(vals.tolist()):
        if v == v and v not in (float("inf"), float("-inf")):
            ws.write_number(row0 + i, col, v, fmt)


def read_table(path: str | os.PathLike, *, strict: bool = True, report: LoadReport | None = None,
               **canonical_kwargs) -> pd.DataFrame:
    """Read a CSV, XLSX or Parquet file whose headers are canonical labels or names."""
    path = Path(path)
    fmt = file_format(path)
    if not path.exists():
        raise DataError("no such file", file=str(path))
    if path.stat().st_size == 0:
        raise DataError("the file is empty", file=str(path))
    try:
        if fmt == "csv":
            raw = pd.read_csv(path)
        elif fmt == "parquet":
            raw = pd.read_parquet(path)
        else:
            raw = pd.read_excel(path, sheet_name=0, engine="openpyxl")
    except DataError:
        raise
    except (ValueError, OSError, pd.errors.ParserError, KeyError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read this {fmt.upper()} file ({exc})", file=str(path)) from None
    if raw.empty and not len(raw.columns):
        raise DataError("the file holds no table", file=str(path))
    return to_canonical(raw, file=str(path), strict=strict, report=report, **canonical_kwargs)
