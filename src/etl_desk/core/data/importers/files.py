"""Reading raw tables (CSV, XLSX, Parquet, JSON) safely.

Every reader here raises only :class:`DataError` naming the file. Hostile files
are refused before they are parsed: zip archives (XLSX) by the sizes in their
central directory, XML with a DTD (entity-expansion bombs) by a bounded scan,
encrypted workbooks by their OLE container magic, Parquet by its footer sizes,
JSON by its file size. ``defusedxml`` (installed) is openpyxl's second line.
"""
from __future__ import annotations

import json
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from etl_desk.core.data.importers.sniff import (
    SNIFF_BYTES,
    TextDialect,
    detect_dialect,
    detect_encoding,
    file_kind,
    head_rows,
    read_head,
)
from etl_desk.core.data.importers.table_shape import find_header, frame_from_grid
from etl_desk.core.errors import DataError

#: Refuse zip archives whose members would inflate beyond these (bounded memory).
MAX_UNCOMPRESSED_TOTAL = 2 * 1024 ** 3
MAX_RATIO = 200            # a member bigger than RATIO_FLOOR may inflate at most this much
RATIO_FLOOR = 20 * 1024 ** 2
MAX_MEMBERS = 10_000
MAX_JSON_BYTES = 512 * 1024 ** 2
MAX_PARQUET_UNCOMPRESSED = 8 * 1024 ** 3
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.I)


@dataclass
class RawTable:
    """A table as read from one file, before any mapping."""

    frame: pd.DataFrame
    file: str
    kind: str                 # csv | xlsx | parquet | json
    sheet: str | None = None
    dialect: TextDialect | None = None
    notes: list[str] = field(default_factory=list)
    #: 0-based line (CSV) or sheet row (XLSX) of the header: data row r is line header_row + 1 + r
    header_row: int = 0
    #: pandas.read_csv arguments that read this table again (CSV only; to re-read a column as text)
    read_kwargs: dict = field(default_factory=dict)


def _name(path) -> str:
    return str(path)


def what_is(path: str | os.PathLike) -> str:
    """Classify a file by its content: csv | xlsx | parquet | json (refusing the rest).

    ``"folder"`` for a directory.

    Raises:
        DataError: naming the file: it does not exist, cannot be opened, is empty or only blank
            lines, is binary, an encrypted workbook or an old .xls / OLE file.
    """
    p = Path(path)
    if not p.exists():
        raise DataError("no such file or folder", file=_name(path))
    if p.is_dir():
        return "folder"
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise DataError(f"cannot open the file ({exc.strerror or exc})", file=_name(path)) from None
    if size == 0:
        raise DataError("the file is empty", file=_name(path))
    head = read_head(path, SNIFF_BYTES)
    kind = file_kind(head)
    if kind == "zip":
        return "xlsx"
    if kind == "ole":
        _refuse_ole(path)
    if kind == "parquet":
        return "parquet"
    if kind == "json":
        return "json"
    if kind == "empty":
        raise DataError("the file is empty (only blank lines)", file=_name(path))
    if kind == "binary":
        raise DataError("this is not a table: the file holds binary data (not CSV, XLSX, Parquet or JSON)",
                        file=_name(path))
    return "csv"


def _refuse_ole(path) -> None:
    with open(path, "rb") as fh:
        blob = fh.read(4 * 1024 * 1024)
    if "EncryptedPackage".encode("utf-16-le") in blob or "EncryptionInfo".encode("utf-16-le") in blob:
        raise DataError("the workbook is password-protected (encrypted); open it in Excel, remove the "
                        "password (File > Info > Protect Workbook) and save it again", file=_name(path))
    raise DataError("this is an old Excel 97-2003 (.xls) or other OLE file; save it as .xlsx or CSV",
                    file=_name(path))


# --------------------------------------------------------------------------------------
# zip / xlsx guards

def check_zip(path: str | os.PathLike) -> None:
    """Refuse truncated zips and zip bombs by reading only the central directory.

    Raises:
        DataError: naming the file: a damaged or truncated archive, more than :data:`MAX_MEMBERS`
            members, a member inflating more than :data:`MAX_RATIO`-fold, or more than
            :data:`MAX_UNCOMPRESSED_TOTAL` bytes (2 GiB) in all.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except zipfile.BadZipFile as exc:
        raise DataError(f"the file is a damaged or truncated zip/XLSX archive ({exc})", file=_name(path)) from None
    except (OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise DataError(f"the zip/XLSX archive cannot be read ({exc})", file=_name(path)) from None
    if len(infos) > MAX_MEMBERS:
        raise DataError(f"the archive holds {len(infos):,} files; refused (not a workbook)", file=_name(path))
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise DataError(f"refused: archive member {info.filename!r} would expand "
                            f"{info.file_size / max(info.compress_size, 1):,.0f}-fold to "
                            f"{info.file_size / 1024 ** 2:,.0f} MB (a zip bomb)", file=_name(path))
    if total > MAX_UNCOMPRESSED_TOTAL:
        raise DataError(f"refused: the archive would expand to {total / 1024 ** 3:,.1f} GB "
                        f"(limit {MAX_UNCOMPRESSED_TOTAL / 1024 ** 3:.0f} GB; a zip bomb?)", file=_name(path))


def check_xlsx(path: str | os.PathLike) -> None:
    """Zip guards, then: is it a workbook, and does any XML part carry a DTD (entity bomb)?

    Raises:
        DataError: naming the file: the zip guards of :func:`check_zip`, no ``xl/workbook.xml``,
            a part that declares a DTD or entities, or a damaged archive.
    """
    check_zip(path)
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            if "xl/workbook.xml" not in names and not any(n.lower().endswith("workbook.xml") for n in names):
                raise DataError("this zip archive is not an Excel workbook (no xl/workbook.xml)", file=_name(path))
            for info in zf.infolist():
                if not info.filename.lower().endswith((".xml", ".rels", ".vml")):
                    continue
                with zf.open(info) as fh:
                    head = fh.read(64 * 1024)
                if _DTD.search(head):
                    raise DataError(f"refused: workbook part {info.filename!r} declares an XML DTD/entities "
                                    "(an entity-expansion attack; real workbooks never do)", file=_name(path))
    except DataError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
        # zlib.error subclasses Exception only; caught by the caller's net
        raise DataError(f"the workbook archive is damaged ({exc})", file=_name(path)) from None


def workbook_info(path: str | os.PathLike) -> dict:
    """Sheet names, hidden sheets and defined names of an XLSX (runs :func:`check_xlsx` first).

    Returns ``{"sheets": [str], "hidden": [str], "defined_names": [str]}``.

    Raises:
        DataError: naming the file, when the guards refuse it or openpyxl cannot open it.
    """
    import openpyxl

    check_xlsx(path)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types on bad input
        raise DataError(f"cannot read this workbook ({type(exc).__name__}: {_short(exc)})",
                        file=_name(path)) from None
    try:
        sheets = list(wb.sheetnames)
        hidden = [ws.title for ws in wb.worksheets if getattr(ws, "sheet_state", "visible") != "visible"]
        try:
            names = list(wb.defined_names.keys())
        except AttributeError:  # pragma: no cover - older openpyxl
            names = [d.name for d in wb.defined_names.definedName]
    finally:
        wb.close()
    return {"sheets": sheets, "hidden": hidden, "defined_names": names}


def _short(exc: BaseException, n: int = 160) -> str:
    s = str(exc).replace("\n", " ")
    return s if len(s) <= n else s[:n] + "..."


# --------------------------------------------------------------------------------------
# readers

def read_csv_raw(path: str | os.PathLike, *, nrows: int | None = None) -> RawTable:
    """Read a delimited text file as a :class:`RawTable` (columns as pandas infers them; no mapping yet).

    Encoding, delimiter and decimal mark come from the first :data:`SNIFF_BYTES` bytes
    (:func:`detect_dialect`); a title block above the header row is skipped
    (:func:`~etl_desk.core.data.importers.table_shape.find_header`) and all-blank lines under it
    dropped. *nrows*: read at most that many data rows (the mapping preview), None: all.

    Raises:
        DataError: naming the file: it cannot be opened, holds no table or no header row, its
            lines do not split into columns with the sniffed delimiter (with the row pandas
            reports), or its text is not valid in the sniffed encoding.
    """
    head = read_head(path, SNIFF_BYTES)
    try:
        dialect = detect_dialect(head)
    except DataError as exc:
        raise exc.with_file(_name(path)) from None
    header = find_header(head_rows(head, dialect))
    kwargs = {**dialect.read_csv_kwargs(), "skiprows": header} if header else dialect.read_csv_kwargs()
    try:
        frame = pd.read_csv(path, nrows=nrows, skipinitialspace=False, **kwargs)
    except pd.errors.EmptyDataError:
        raise DataError("the file holds no table (no header row)", file=_name(path)) from None
    except pd.errors.ParserError as exc:
        m = re.search(r"line (\d+)", str(exc))
        row = int(m.group(1)) - 1 if m else None
        if m is None:
            m = re.search(r"row (\d+)", str(exc))
            row = int(m.group(1)) if m else None
        raise DataError(f"cannot split the lines into columns with delimiter {dialect.delimiter!r} "
                        f"({_short(exc)})", file=_name(path), row=row) from None
    except UnicodeDecodeError as exc:
        raise DataError(f"the text is not valid {dialect.encoding} ({_short(exc)})", file=_name(path)) from None
    except (ValueError, OSError) as exc:
        raise DataError(f"cannot read this CSV file ({_short(exc)})", file=_name(path)) from None
    if header:
        frame = frame.dropna(how="all")  # blank (all-delimiter) lines under the title block and the data
    return RawTable(frame, _name(path), "csv", dialect=dialect, header_row=header, read_kwargs=kwargs)


def read_xlsx_raw(path: str | os.PathLike, *, sheet: str | None = None, nrows: int | None = None,
                  info: dict | None = None) -> RawTable:
    """Read one sheet of an XLSX workbook as a :class:`RawTable`, the header row found by its shape.

    *sheet* None: the first visible sheet named Data / Runs / Job runs, else the first visible
    sheet. *nrows*: at most that many data rows (None: all). *info*: :func:`workbook_info`'s dict
    when the caller has it already (else it is read, running the zip and XML guards). An empty
    sheet gives an empty frame.

    Raises:
        DataError: naming the file: the archive is damaged, a zip bomb or an XML entity bomb
            (:func:`check_xlsx`), the workbook has no sheets, or the sheet cannot be read.
    """
    info = info or workbook_info(path)
    if not info["sheets"]:
        raise DataError("the workbook has no sheets", file=_name(path))
    if sheet is None:
        visible = [s for s in info["sheets"] if s not in info["hidden"]] or info["sheets"]
        sheet = next((s for s in visible if s.strip().lower() in ("data", "runs", "job runs")), visible[0])
    try:
        grid = pd.read_excel(path, sheet_name=sheet, engine="openpyxl", header=None,
                             nrows=None if nrows is None else nrows + 60)
    except Exception as exc:  # noqa: BLE001 - openpyxl/pandas raise many types on bad input
        raise DataError(f"cannot read sheet {sheet!r} ({type(exc).__name__}: {_short(exc)})",
                        file=_name(path)) from None
    if grid.empty:
        return RawTable(pd.DataFrame(), _name(path), "xlsx", sheet=sheet)
    # the header row is found by its shape (a title block above it, the table maybe in column B)
    frame, header = frame_from_grid(grid)
    if nrows is not None:
        frame = frame.head(nrows)
    return RawTable(frame, _name(path), "xlsx", sheet=sheet, header_row=header)


def check_parquet(path: str | os.PathLike, read_dictionary=None):
    """Open *path* as a :class:`pyarrow.parquet.ParquetFile` after checking its footer (columns named
    in *read_dictionary* are read dictionary-encoded, as pandas categoricals).

    Raises:
        DataError: naming the file, when it is not readable Parquet, or when its row groups
            would expand beyond :data:`MAX_PARQUET_UNCOMPRESSED` bytes (8 GiB) in memory.
    """
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path, read_dictionary=list(read_dictionary) if read_dictionary else None)
        md = pf.metadata
    except Exception as exc:  # noqa: BLE001 - pyarrow raises ArrowInvalid/OSError/...
        raise DataError(f"cannot read this Parquet file ({type(exc).__name__}: {_short(exc)})",
                        file=_name(path)) from None
    total = sum(md.row_group(i).total_byte_size for i in range(md.num_row_groups))
    if total > MAX_PARQUET_UNCOMPRESSED:
        raise DataError(f"refused: the Parquet data would expand to {total / 1024 ** 3:,.1f} GB in memory",
                        file=_name(path))
    return pf


def read_parquet_raw(path: str | os.PathLike, *, nrows: int | None = None, dictionary=()) -> RawTable:
    """Read a Parquet file as a :class:`RawTable` (typed columns as stored); *nrows*: at most that
    many rows, read batch by batch (None: all); text columns named in *dictionary* are read
    dictionary-encoded (pandas categoricals: one code per row, each distinct value once).

    Raises:
        DataError: naming the file, when it is not readable Parquet or too large
            (:func:`check_parquet`). MemoryError passes through (the loader turns it into a DataError).
    """
    pf = check_parquet(path, read_dictionary=dictionary)
    try:
        if nrows is not None:
            import pyarrow as pa

            batches = []
            got = 0
            for b in pf.iter_batches(batch_size=max(nrows, 1)):
                batches.append(b)
                got += b.num_rows
                if got >= nrows:
                    break
            table = pa.Table.from_batches(batches, schema=pf.schema_arrow) if batches else pf.schema_arrow.empty_table()
            frame = table.to_pandas().head(nrows)
        else:
            # self_destruct: each Arrow column is freed as soon as it is converted, so the table and
            # the frame are never both whole in memory (the table is not used afterwards)
            table = pf.read()
            frame = table.to_pandas(self_destruct=True, split_blocks=True)
            del table
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise DataError(f"cannot read this Parquet file ({type(exc).__name__}: {_short(exc)})",
                        file=_name(path)) from None
    return RawTable(frame, _name(path), "parquet")


def read_json(path: str | os.PathLike):
    """The JSON in *path*: one document as parsed, or several as a list.

    Accepts what people save: one document (object or array), JSON Lines (one object per
    line, CRLF, blank lines), and documents back to back with no separator (``curl >>``
    paging loops, ``}{``). UTF-8 with or without BOM and UTF-16 (PowerShell) are read.
    Several documents come back as one list: arrays are spliced in, objects appended.
    Raises DataError naming the file (and the line and column of a syntax error).
    """
    size = Path(path).stat().st_size
    if size > MAX_JSON_BYTES:
        raise DataError(f"the JSON file is {size / 1024 ** 2:,.0f} MB; the limit is "
                        f"{MAX_JSON_BYTES / 1024 ** 2:,.0f} MB (split it into pages)", file=_name(path))
    try:
        enc = detect_encoding(read_head(path, SNIFF_BYTES))
    except DataError as exc:
        raise exc.with_file(_name(path)) from None
    try:
        with open(path, encoding=enc) as fh:
            text = fh.read()
    except UnicodeDecodeError as exc:
        raise DataError(f"the JSON text is not valid {enc} ({_short(exc)})", file=_name(path)) from None
    try:
        docs = _json_documents(text.lstrip("\ufeff"))
    except RecursionError:
        raise DataError("the JSON is nested too deeply to be a Jobs API response", file=_name(path)) from None
    except json.JSONDecodeError as exc:
        raise DataError(f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
                        file=_name(path), row=None) from None
    if len(docs) == 1:
        return docs[0]
    out: list = []
    for d in docs:
        if isinstance(d, list):
            out.extend(d)
        else:
            out.append(d)
    return out


_WS = re.compile(r"[\s\ufeff]*")


def _json_documents(text: str) -> list:
    """Every JSON document in *text*, in order (JSON Lines and concatenated documents)."""
    dec = json.JSONDecoder()
    docs = []
    pos = _WS.match(text, 0).end()
    while pos < len(text):
        doc, end = dec.raw_decode(text, pos)
        docs.append(doc)
        pos = _WS.match(text, end).end()
    if not docs:
        raise json.JSONDecodeError("Expecting value", text, 0)
    return docs


def parquet_columns(path: str | os.PathLike) -> dict[str, bool]:
    """Column name -> is it text, from a Parquet file's schema (its footer only); {} when unreadable."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except Exception:  # noqa: BLE001 - the full read reports what is wrong
        return {}
    return {f.name: pa.types.is_string(f.type) or pa.types.is_large_string(f.type) for f in schema}


def read_raw(path: str | os.PathLike, kind: str | None = None, *, nrows: int | None = None,
             dictionary=()) -> RawTable:
    """Read *path* (csv | xlsx | parquet) as a raw table; kind sniffed when None; Parquet text columns
    named in *dictionary* are read dictionary-encoded (:func:`read_parquet_raw`).

    Raises:
        DataError: naming the file: a JSON or folder *kind* (not a table), or whatever the reader
            for its kind refuses (:func:`read_csv_raw`, :func:`read_xlsx_raw`, :func:`read_parquet_raw`).
    """
    kind = kind or what_is(path)
    if kind == "csv":
        return read_csv_raw(path, nrows=nrows)
    if kind == "xlsx":
        return read_xlsx_raw(path, nrows=nrows)
    if kind == "parquet":
        return read_parquet_raw(path, nrows=nrows, dictionary=dictionary)
    raise DataError(f"expected a table, found {kind}", file=_name(path))
