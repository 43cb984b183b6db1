"""Reading and writing the canonical table as CSV, XLSX or Parquet.

Files use the display labels as headers (the case study's CSV reads with no
mapping). Columns that carry no information (an optional column that is empty
everywhere, or attempts that are all 1) are not written, so the case study
writes exactly its eight published columns.
"""
from __future__ import annotations

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
    ext = Path(path).suffix.lower()
    try:
        return FORMATS[ext]
    except KeyError:
        raise DataError(f"unsupported file type {ext or '(none)'!r}; use .csv, .xlsx or .parquet",
                        file=str(path)) from None








def write_table(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write the canonical table to *path*; the extension picks CSV, XLSX or Parquet. Atomic."""
    fmt = file_format(path)
    out = labelled_frame(df)
    if fmt == "csv":
        atomic_write(path, lambda tmp: out.to_csv(tmp, index=False, date_format="%Y-%m-%d %H:%M:%S"))
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
