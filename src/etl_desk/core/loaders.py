"""Open any supported run history as the canonical table.

``load_path`` is the one entry point the window and the command line use. It
dispatches on what the file is (ETL Desk workbook, canonical CSV/XLSX/Parquet,
foreign formats with a column mapping, Databricks exports, Jobs API JSON).
"""
from __future__ import annotations

import os

import pandas as pd

from .schema import LoadReport
from .tables import read_table


def load_path(path: str | os.PathLike, *, report: LoadReport | None = None, **options) -> pd.DataFrame:
    """Load *path* into the canonical table or raise DataError naming file, row and column."""
    return read_table(path, report=report, **options)
