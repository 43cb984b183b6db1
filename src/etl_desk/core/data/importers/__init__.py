"""Importers: sniffing, column mapping, Databricks system tables, Jobs API JSON.

The single entry point for callers is :func:`etl_desk.core.data.loaders.load_path`;
this package holds the pieces (and :func:`preview` for the window's mapping step).
"""
from __future__ import annotations

from etl_desk.core.data.importers.apply import apply_mapping
from etl_desk.core.data.importers.files import read_raw, what_is
from etl_desk.core.data.importers.mapping import Mapping, guess_mapping, header_key, load_mapping_file
from etl_desk.core.data.importers.options import ImportOptions
from etl_desk.core.errors import DataError

__all__ = ["ImportOptions", "Mapping", "apply_mapping", "guess_mapping", "header_key",
           "load_mapping_file", "preview"]


def preview(path, n: int = 20):
    """``(headers, rows, guessed Mapping)`` for the mapping step: the first *n* rows as text.

    Raises:
        DataError: naming the file: it is a JSON or folder (which need no mapping), or cannot be
            read as a table (see :func:`~etl_desk.core.data.importers.files.read_raw`).
    """
    kind = what_is(path)
    if kind not in ("csv", "xlsx", "parquet"):
        raise DataError(f"a {kind} needs no column mapping", file=str(path))
    raw = read_raw(path, kind, nrows=n).frame.head(n)
    headers = [str(c) for c in raw.columns]
    rows = [["" if _isna(v) else str(v) for v in rec] for rec in raw.itertuples(index=False, name=None)]
    return headers, rows, guess_mapping(headers)


def _isna(v) -> bool:
    try:
        import pandas as pd

        r = pd.isna(v)
        return bool(r) if isinstance(r, bool) or getattr(r, "ndim", 1) == 0 else False
    except (TypeError, ValueError):
        return False
