"""Reading and writing the canonical table as CSV, XLSX or Parquet.

Files use the display labels as headers (the case study's CSV reads with no
mapping). Columns that carry no information (an optional column that is empty
everywhere, or attempts the source did not record) are not written, so the case study
writes exactly its eight published columns.
"""
from __future__ import annotations

import csv
import os
from pathlib import Path

import pandas as pd

from etl_desk.core.data.schema import labelled_frame, to_canonical
from etl_desk.core.data.xlsx_book import export_data_workbook
from etl_desk.core.data.xlsx_read import is_etl_desk_workbook, read_workbook
from etl_desk.core.data.xlsx_sheet import EXCEL_MAX_ROWS
from etl_desk.core.errors import DataError, LoadReport
from etl_desk.core.files import atomic_write

FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".parquet": "parquet", ".pq": "parquet"}


def file_format(path: str | os.PathLike) -> str:
    """``"csv"``, ``"xlsx"`` or ``"parquet"`` from *path*'s extension (case-insensitive; ``.pq`` is Parquet).

    Raises:
        DataError: naming the file, for any other extension.
    """
    ext = Path(path).suffix.lower()
    try:
        return FORMATS[ext]
    except KeyError:
        raise DataError(f"unsupported file type {ext or '(none)'!r}; use .csv, .xlsx or .parquet",
                        file=str(path)) from None








#: First characters that make a spreadsheet read a CSV cell as a formula (OWASP "CSV Injection";
#: CWE-1236): equals, plus, minus, at, tab and carriage return.
CSV_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_csv_text(values: pd.Series) -> pd.Series:
    """Text cells that start with a formula trigger, prefixed with ``'`` so a spreadsheet shows them as text.

    OWASP's CSV Injection guidance: prepend a single quote to any cell beginning with
    ``= + - @``, tab or carriage return (and quote the field, which the CSV writer does
    for fields with separators, quotes or line breaks). ``=HYPERLINK("http://x","y")``
    is written as ``'=HYPERLINK("http://x","y")``. Missing values stay missing; other
    cells are unchanged.
    """
    txt = values.astype("string")
    hit = txt.str.startswith(CSV_FORMULA_TRIGGERS, na=False)
    if not bool(hit.any()):
        return values
    return txt.where(~hit, "'" + txt)


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """*frame* with every text column passed through :func:`neutralise_csv_text` (numbers untouched)."""
    out = frame
    for c in frame.columns:
        s = frame[c]
        if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype) \
                or pd.api.types.is_datetime64_any_dtype(s.dtype):
            continue
        safe = neutralise_csv_text(s)
        if safe is not s:
            if out is frame:
                out = frame.copy()
            out[c] = safe
    return out


def _has_cr(frame: pd.DataFrame) -> bool:
    for c in frame.columns:
        s = frame[c]
        if not (pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype)
                or pd.api.types.is_datetime64_any_dtype(s.dtype)):
            if s.astype("string").str.contains("\r", regex=False, na=False).any():
                return True
    return False


def write_csv(frame: pd.DataFrame, path: str | os.PathLike, **to_csv) -> None:
    """*frame* as CSV, atomically, safe to open in a spreadsheet (:func:`csv_safe`).

    A bare carriage return inside a field is a row break to spreadsheets and pandas quotes
    fields with a line feed but not with a carriage return: when a text field has one,
    every text field is quoted.
    """
    out = csv_safe(frame)
    quoting = csv.QUOTE_NONNUMERIC if _has_cr(out) else csv.QUOTE_MINIMAL
    atomic_write(path, lambda tmp: out.to_csv(tmp, index=False, quoting=quoting, **to_csv))


def write_table(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write the canonical table to *path*; the extension picks CSV, XLSX or Parquet. Atomic.

    CSV text cells that a spreadsheet would run as a formula are neutralised
    (:func:`neutralise_csv_text`); XLSX writes all text as text cells; Parquet is typed.

    Raises:
        DataError: naming the file: an unsupported extension, more runs than one Excel sheet holds
            (XLSX), or the file cannot be written.
    """
    fmt = file_format(path)
    out = labelled_frame(df)
    if fmt == "csv":
        write_csv(out, path, date_format="%Y-%m-%d %H:%M:%S")
    elif fmt == "parquet":
        atomic_write(path, lambda tmp: out.to_parquet(tmp, index=False))
    else:
        if len(out) + 1 > EXCEL_MAX_ROWS:
            raise DataError(f"{len(out):,} runs do not fit in one Excel sheet (at most "
                            f"{EXCEL_MAX_ROWS - 1:,}); filter the data or write CSV or Parquet",
                            file=str(path))
        # the Data sheet plus ETL Desk's hidden metadata sheet, so the file reopens exactly

        export_data_workbook(path, df)


def read_table(path: str | os.PathLike, *, strict: bool = True, report: LoadReport | None = None,
               **canonical_kwargs) -> pd.DataFrame:
    """Read a CSV, XLSX or Parquet file whose headers are canonical labels or names.

    Raises:
        DataError: naming the file (and row and column where the validator finds a bad value): an
            unsupported extension, a missing or empty file, unreadable content, no table, or
            (with *strict*) a value the canonical table refuses.
    """
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

            if is_etl_desk_workbook(path):
                return read_workbook(path)[0]
            raw = pd.read_excel(path, sheet_name=0, engine="openpyxl")
    except DataError:
        raise
    except (ValueError, OSError, pd.errors.ParserError, KeyError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read this {fmt.upper()} file ({exc})", file=str(path)) from None
    if raw.empty and not len(raw.columns):
        raise DataError("the file holds no table", file=str(path))
    return to_canonical(raw, file=str(path), strict=strict, report=report, **canonical_kwargs)
