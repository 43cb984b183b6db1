"""The ETL Desk workbook format: Data sheets, the hidden metadata sheet, and the data-only workbook.

Every workbook ETL Desk writes (the finance workbook of :mod:`etl_desk.core.workbook.export`
and the data-only one of ``etl-desk generate -o runs.xlsx``) holds the runs as Excel
tables on ``Data`` sheets and a hidden ``_etl_desk`` sheet with the format version,
the canonical column names, the assumptions as JSON and exact sub-millisecond times:
what :mod:`etl_desk.core.data.xlsx_read` needs to restore the runs exactly.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import re
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pandas as pd

from etl_desk._version import __version__
from etl_desk.core.data import schema, xlsx_sheet
from etl_desk.core.data.schema import LABELS
from etl_desk.core.errors import DataError
from etl_desk.core.files import atomic_write
from etl_desk.core.tasks import CancelFn, ProgressFn

#: Version of the workbook layout that :mod:`workbook_read` understands.
FORMAT_VERSION = 1
FORMAT_ID = "etl-desk-workbook"
META_SHEET = "_etl_desk"
DATA_SHEET = "Data"
TABLE_NAME = "Runs"


class RowsPolicy(StrEnum):
    """More runs than one Excel sheet holds: refuse, keep the first 1,048,575, or split across Data sheets."""

    REFUSE = "refuse"
    TRUNCATE = "truncate"
    SPLIT = "split"


ROW_POLICIES = tuple(RowsPolicy)
#: First row (0-based) of the exact-time block on the hidden sheet; key/value pairs live above it.
META_BLOCK_ROW = 100
META_BLOCK_COL = 4
META_BLOCK_ROWS = 1_000_000
#: Longest text in one cell; longer JSON is continued in the next cells of the row.
_CELL_CHUNK = 30_000


class TooManyRowsError(DataError):
    """More runs than one Excel sheet holds; ``max_rows_policy`` 'truncate' or 'split' resolves it."""

    def __init__(self, rows: int, limit: int, file: str | None = None):
        self.rows = rows
        self.limit = limit
        super().__init__(f"{rows:,} runs do not fit in one Excel sheet (at most {limit:,}); "
                         "choose to split them over several Data sheets, keep the first "
                         f"{limit:,}, or filter the data", file=file)


def row_plan(n: int, policy: str, path: str) -> tuple[list[tuple[int, int]], bool, list[str]]:
    """Split the rows over data sheets: list of (start, stop), truncated?, notes.

    *n* runs, *policy* a :class:`RowsPolicy` value; each sheet holds at most 1,048,575 runs.

    Raises:
        ValueError: for a policy not in :data:`ROW_POLICIES`.
        TooManyRowsError: (a DataError naming *path*) when *n* does not fit and *policy* is ``refuse``.
    """
    if policy not in ROW_POLICIES:
        raise ValueError(f"max_rows_policy must be one of {ROW_POLICIES}, not {policy!r}")
    cap = xlsx_sheet.EXCEL_MAX_ROWS - 1
    if n <= cap:
        return [(0, n)], False, []
    if policy == "refuse":
        raise TooManyRowsError(n, cap, file=path)
    if policy == "truncate":
        return [(0, cap)], True, [f"Only the first {cap:,} of {n:,} runs are in this workbook "
                                 f"(Excel holds at most {cap:,} rows per sheet); "
                                 "KPIs, insights and the business case use all runs."]
    parts = [(i, min(n, i + cap)) for i in range(0, n, cap)]
    return parts, False, [f"{n:,} runs are more than one Excel sheet holds; they continue over "
                          f"{len(parts)} Data sheets ({cap:,} runs each)."]


def data_sheet_names(parts: int) -> list[str]:
    """Names of *parts* Data sheets: ``["Data", "Data (2)", "Data (3)", ...]``."""
    return [DATA_SHEET] + [f"{DATA_SHEET} ({i})" for i in range(2, parts + 1)]


def export_data_workbook(path: str | os.PathLike, df: pd.DataFrame, *, progress: ProgressFn | None = None,
                         cancel: CancelFn | None = None, source: str = "") -> None:
    """The data alone: the Data sheet (an Excel table) plus the hidden metadata sheet, written atomically.

    What ``etl-desk generate -o runs.xlsx`` writes; :func:`etl_desk.core.data.xlsx_read.read_workbook`
    reopens it exactly. *df* is a canonical table. Raises :class:`TooManyRowsError` when the
    runs do not fit in one sheet, :class:`DataError` when the file cannot be written, and
    :class:`etl_desk.core.tasks.Cancelled` when ``cancel()`` returns True.
    """
    path = Path(path)
    parts, _, _ = row_plan(len(df), "refuse", str(path))
    cols = schema.informative_columns(df)

    def write(tmp: str) -> None:
        with open_book(tmp, title="ETL Desk data") as wb:
            names = data_sheet_names(len(parts))
            sheets = [wb.add_worksheet(s) for s in names]
            write_data_sheets(wb, sheets, df, parts, cols, progress=progress, cancel=cancel)
            write_meta_sheet(wb, df, parts, cols, None, source=source, filters_text="", truncated=False,
                             data_names=names)

    write_atomically(path, write)


def write_atomically(path: Path, write: Callable[[str], None]) -> None:
    """:func:`etl_desk.core.files.atomic_write` with the workbook's own messages for permission problems.

    Raises:
        DataError: naming the file, when it cannot be written (permission denied: open in another
            program or a read-only folder; other OS errors with their reason).
    """
    try:
        atomic_write(path, write)
    except PermissionError:
        raise DataError("cannot write the workbook: permission denied (the file may be open in another "
                        "program, or the folder is read-only)", file=str(path)) from None
    except OSError as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(f"cannot write the workbook ({exc.strerror or exc})", file=str(path)) from None


@contextlib.contextmanager
def open_book(tmp: str, *, title: str) -> Iterator:
    """An XlsxWriter workbook writing to the file *tmp*; closed (written) when the block ends without error.

    XlsxWriter gets a file object closed here: after a failure or a cancel its half-written zip
    holds no handle on the temporary file (which must be deleted, also on Windows).
    """
    import xlsxwriter  # a 0.1 s import that only exports need

    with tempfile.TemporaryDirectory(prefix="etl-desk-xlsx-", ignore_cleanup_errors=True) as tmpdir, \
            open(tmp, "wb") as raw:
        wb = xlsxwriter.Workbook(_Sink(raw), {**xlsx_sheet.XLSX_OPTIONS, "tmpdir": tmpdir})
        wb.set_properties({"title": title, "author": "ETL Desk", "comments": f"Made by ETL Desk {app_version()}"})
        wb.set_calc_mode("auto")
        yield wb
        wb.close()


def write_data_sheets(wb, sheets: list, df: pd.DataFrame, parts: list[tuple[int, int]], cols: list[str], *,
                      progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> None:
    """Write rows ``parts[k] = (start, stop)`` of *df* (columns *cols*) as Excel tables on ``sheets[k]``.

    ``progress(fraction)`` runs from 0 to 0.98 over all parts.
    """
    total = max(1, sum(b - a for a, b in parts))
    done = 0
    for k, ((a, b), ws) in enumerate(zip(parts, sheets)):
        labelled = schema.labelled_frame(df.iloc[a:b], cols)
        offset, size = done, b - a

        def prog(f, offset=offset, size=size):
            if progress is not None:
                progress(0.98 * (offset + f * size) / total)

        xlsx_sheet.write_data_sheet(wb, ws, labelled, table_name=TABLE_NAME if k == 0 else f"{TABLE_NAME}_{k + 1}",
                                    progress=prog, cancel=cancel)
        print_setup(ws, header_rows=0, title=ws.name)
        done += size


def print_setup(ws, *, header_rows: int | None = None, landscape: bool = True, title: str = "") -> None:
    """A4 (Letter-scaled), one page wide, ETL Desk header and page-numbered footer, optional repeated header rows."""
    if landscape:
        ws.set_landscape()
    ws.set_paper(9)  # A4; Excel scales to Letter when the printer has no A4
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.5, right=0.5, top=0.7, bottom=0.7)
    ws.set_header(f"&L&8ETL Desk&R&8{title.replace('&', '&&')}")
    ws.set_footer("&L&8&A&R&8Page &P of &N")
    if header_rows is not None:
        ws.repeat_rows(0, header_rows)


class _Sink:
    """A binary file proxy that turns into a no-op once the real file is closed."""

    def __init__(self, fh):
        self._fh = fh

    def write(self, b):
        return 0 if self._fh.closed else self._fh.write(b)

    def tell(self):
        return 0 if self._fh.closed else self._fh.tell()

    def seek(self, *args):
        return 0 if self._fh.closed else self._fh.seek(*args)

    def flush(self):
        if not self._fh.closed:
            self._fh.flush()

    def seekable(self):
        return True


def app_version() -> str:
    """ETL Desk's version (read here, not at import, to keep start-up free of it)."""
    return __version__


def assumptions_to_json(assumptions: dict | None) -> str | None:
    """Business-case assumptions (a plain ``{"global": …, "solutions": …}`` dict) as JSON text; ``None`` for none."""
    if assumptions is None:
        return None
    payload = {"kind": "finance", "value": assumptions}
    return json.dumps(payload, ensure_ascii=True, allow_nan=True, sort_keys=False, default=_json_default)


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, (np.bool_,)):
        return bool(o)
    if isinstance(o, (tuple, set, frozenset)):
        return list(o)
    if isinstance(o, (pd.Timestamp, _dt.datetime, _dt.date)):
        return o.isoformat()
    raise TypeError(f"cannot store {type(o).__name__} in the workbook")


def _write_long_text(ws, row: int, key: str, text: str) -> None:
    ws.write_string(row, 0, key)
    chunks = [text[i:i + _CELL_CHUNK] for i in range(0, len(text), _CELL_CHUNK)] or [""]
    for j, c in enumerate(chunks):
        ws.write_string(row, 1 + j, c)
_SPECIAL_TEXT = re.compile(r"_x[0-9A-Fa-f]{4}_")


def write_meta_sheet(wb, df, parts, cols, assumptions, *, source, filters_text, truncated, data_names) -> None:
    """Add the hidden metadata sheet (what :mod:`etl_desk.core.data.xlsx_read` needs to restore the runs)."""
    ws = wb.add_worksheet(META_SHEET)
    n_written = sum(b - a for a, b in parts)
    exact_strings: dict[str, dict[str, str]] = {}
    written = df.iloc[:n_written] if truncated else df
    block = {}
    for name in cols:
        s = written[name]
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            ns = s.to_numpy(dtype="datetime64[ns]").astype(np.int64)
            valid = ~s.isna().to_numpy()
            if (ns[valid] % 1_000_000 != 0).any():
                # time to the nanosecond: whole seconds and nanoseconds as two exact numbers
                block[f"{name}.s"] = np.where(valid, ns // 10**9, np.nan)
                block[f"{name}.ns"] = np.where(valid, ns % 10**9, np.nan)
        elif not pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
            txt = s.astype("string")
            hit = txt.str.contains(_SPECIAL_TEXT, na=False).to_numpy()
            if hit.any():  # text that looks like an Excel _xHHHH_ escape: keep the exact value
                exact_strings[name] = {str(i): str(v) for i, v in zip(np.flatnonzero(hit), txt[hit])}
    meta = {
        "format": FORMAT_ID,
        "format_version": FORMAT_VERSION,
        "app_version": app_version(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "source": source or str(df.attrs.get("source", "") or ""),
        "filters": filters_text,
        "rows_total": len(df),
        "rows_written": n_written,
        "truncated": truncated,
        "data_sheets": json.dumps([[s, b - a] for s, (a, b) in zip(data_names, parts)]),
        "columns": json.dumps([[LABELS[c], c] for c in cols]),
        "exact_strings": json.dumps(exact_strings, ensure_ascii=True),
    }
    r = 0
    for k, v in meta.items():
        ws.write_string(r, 0, k)
        if isinstance(v, bool):
            ws.write_boolean(r, 1, v)
        elif isinstance(v, (int, float)):
            ws.write_number(r, 1, v)
        else:
            ws.write_string(r, 1, str(v))
        r += 1
    text = assumptions_to_json(assumptions)
    _write_long_text(ws, r, "assumptions", text if text is not None else "null")
    r += 1
    if block:
        # exact times in blocks of META_BLOCK_ROWS rows, side by side, below the key/value pairs
        names = list(block)
        layout = []
        frames = {}
        for p0 in range(0, n_written, META_BLOCK_ROWS):
            p1 = min(n_written, p0 + META_BLOCK_ROWS)
            for name in names:
                frames[f"{name}@{p0}"] = block[name][p0:p1]
                layout.append([name, p0, p1])
        ws.write_string(r, 0, "exact_times")
        ws.write_string(r, 1, json.dumps({"first_row": META_BLOCK_ROW + 1, "first_col": META_BLOCK_COL,
                                          "columns": layout}))
        width = max(len(v) for v in frames.values())
        frame = pd.DataFrame({k: np.pad(v.astype(float), (0, width - len(v)), constant_values=np.nan)
                              for k, v in frames.items()})
        xlsx_sheet.write_plain_block(wb, ws, frame, META_BLOCK_ROW, META_BLOCK_COL)
    ws.set_column(0, 0, 16)
    ws.hide()
