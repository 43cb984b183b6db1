"""Open any supported run history as the canonical table.

``load_path`` / ``load_paths`` are the one entry point the window and the command
line use. They look at what each file *is* (by its bytes, not its extension) and
dispatch:

* a folder -> every supported file in it (and in its sub-folders one level down,
  as Spark writes ``table/part-*.parquet``); a file of the folder that is not run data
  (a README, notes, a JSON that is not a runs/list response, a table without run ID / start /
  status columns, hidden files such as ``.DS_Store``) is skipped and listed in
  ``report.skipped`` with the reason (the Sources page shows it). Only run data of kinds that
  cannot be combined (system tables with a run table, or with Jobs API JSON) is refused,
  naming the files of each kind;
* ETL Desk's own workbook (sheet "Data" + a hidden sheet or an ETL Desk defined
  name) -> :func:`etl_desk.core.data.xlsx_read.read_workbook`;
* Databricks system-table exports (``job_run_timeline``, ``jobs``, ``billing.usage``,
  ``billing.list_prices``; recognised by their columns) -> :mod:`.importers.databricks`;
* Databricks Jobs API ``runs/list`` JSON (one file or several pages) ->
  :mod:`.importers.jobs_api`;
* any other CSV / XLSX / Parquet -> a column mapping (``options.mapping`` or one
  guessed from the headers; canonical labels map to themselves) ->
  :func:`.importers.apply.apply_mapping`.

Bad input raises :class:`DataError` only, naming the file, and the row and column
where there is one; no other exception type escapes (parser errors, decoding
errors, damaged archives, memory exhaustion are all translated). Hostile files
(zip bombs, XML entity bombs, encrypted workbooks) are refused before parsing.

By default (``strict=False``) fixable problems are fixed and reported in *report*
(and in ``df.attrs["load_warnings"]``): bad rows dropped, duplicate IDs renamed,
negative net costs clipped; every row left out is listed by reason in
``report.left_out``. ``df.attrs["cost_basis"]`` says where costs came from (NaN cost
= unknown, with ``df.attrs["cost_unknown_why"]``), and ``df.attrs["provenance"]``
(:mod:`etl_desk.core.data.provenance`) where every figure came from.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable

import pandas as pd

from etl_desk.core.data import provenance
from etl_desk.core.data.importers import databricks, jobs_api
from etl_desk.core.data.importers.files import (RawTable, parquet_columns, read_json, read_raw, what_is,
                                                workbook_info)
from etl_desk.core.data.importers.apply import apply_mapping
from etl_desk.core.data.importers.mapping import Mapping, guess_mapping
from etl_desk.core.data.importers.options import ImportOptions
from etl_desk.core.data.locale_numbers import column_evidence, maybe_thousands
from etl_desk.core.data.memory import release_memory_later
from etl_desk.core.data.schema import DICTIONARY_TEXT, to_canonical
from etl_desk.core.data.xlsx_read import read_workbook
from etl_desk.core.errors import DataError, LoadReport

__all__ = ["ImportOptions", "Mapping", "load_path", "load_paths", "detect", "expand_paths",
           "SUPPORTED_SUFFIXES"]

SUPPORTED_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".parquet", ".pq", ".json")
MAX_FOLDER_FILES = 5_000
_ETL_DESK_NAME = re.compile(r"etl[\s_.-]*desk", re.I)


def load_path(path: str | os.PathLike, *, report: LoadReport | None = None,
              options: ImportOptions | None = None, **kwargs) -> pd.DataFrame:
    """Load *path* (a file or a folder) into the canonical table or raise DataError.

    Keyword arguments are :class:`ImportOptions` fields (``mapping``, ``usd_per_dbu``,
    ``contract_discount``, ``usd_per_hour``, ``cancelled``, ``skipped``, ``strict``);
    ``rate_usd_per_hour`` is accepted as an alias of ``usd_per_hour``.
    """
    return load_paths([path], report=report, options=options, **kwargs)


def load_paths(paths: Iterable[str | os.PathLike], *, report: LoadReport | None = None,
               options: ImportOptions | None = None, **kwargs) -> pd.DataFrame:
    """Load several files (e.g. system tables chosen together, Jobs API pages) as one table.

    Keyword arguments are :class:`ImportOptions` fields, as for :func:`load_path`.

    Raises:
        DataError: naming file, row and column where known: no input, or anything the readers
            refuse; any other failure while reading (memory, recursion, a library error) is
            turned into a DataError naming the input, so bad input never escapes as another type.
        TypeError: for a keyword argument that is not an import option.
    """
    opts = ImportOptions.from_kwargs(options, **kwargs).validate()
    report = report if report is not None else LoadReport()
    paths = [p for p in paths]
    if not paths:
        raise DataError("no input given")
    label = str(paths[0]) if len(paths) == 1 else f"{len(paths)} inputs"
    try:
        df = _load(paths, opts, report)
    except DataError:
        raise
    except MemoryError:
        raise DataError("not enough memory to load this input", file=label) from None
    except RecursionError:
        raise DataError("the input is nested too deeply to read", file=label) from None
    except Exception as exc:  # noqa: BLE001 - the promise: bad input never escapes as another type
        msg = str(exc).replace("\n", " ")[:200]
        raise DataError(f"cannot read this input ({type(exc).__name__}: {msg})", file=label) from None
    df.attrs["load_warnings"] = list(report.warnings)
    release_memory_later()  # the reader's and the conversion's temporaries, back to the OS (not waited for)
    return df


def detect(path: str | os.PathLike) -> str:
    """What *path* is: 'folder', 'etl_desk_workbook', 'system_table:<name>', 'jobs_api_json',
    'table' (CSV/XLSX/Parquet needing a mapping or already canonical). Raises DataError."""
    kind = what_is(path)
    if kind == "folder":
        return "folder"
    if kind == "json":
        data = read_json(path)
        if jobs_api.is_runs_list(data):
            return "jobs_api_json"
        raise DataError("this JSON is not a Databricks Jobs API runs/list response", file=str(path))
    if kind == "xlsx" and _is_etl_desk_workbook(path):
        return "etl_desk_workbook"
    raw = read_raw(path, kind, nrows=5)
    table = databricks.classify(raw.frame.columns)
    return f"system_table:{table}" if table else "table"


def expand_paths(paths: Iterable[str | os.PathLike]) -> list[str]:
    """Files behind *paths*: folders become their supported files (one sub-folder level deep).

    Raises:
        DataError: naming the path: it does not exist, a folder holds no supported file
            (:data:`SUPPORTED_SUFFIXES`), or more than :data:`MAX_FOLDER_FILES` files in all.
    """
    return [f for f, _ in _expand(paths, [])]


def _expand(paths: Iterable[str | os.PathLike], skipped: list) -> list[tuple[str, bool]]:
    """(file, found in a folder) behind *paths*; the folders' files that are not read go to *skipped*
    as (file, why)."""
    out: list[tuple[str, bool]] = []
    for p in paths:
        p = Path(p)
        if not p.exists():
            raise DataError("no such file or folder", file=str(p))
        if p.is_dir():
            found = _folder_files(p, depth=1, skipped=skipped)
            if not found:
                raise DataError(f"the folder holds no supported files ({', '.join(SUPPORTED_SUFFIXES)})",
                                file=str(p))
            out.extend((f, True) for f in found)
        else:
            out.append((str(p), False))
        if len(out) > MAX_FOLDER_FILES:
            raise DataError(f"more than {MAX_FOLDER_FILES:,} files; choose fewer", file=str(p))
    return out


def _folder_files(folder: Path, depth: int, skipped: list | None = None) -> list[str]:
    files: list[str] = []
    try:
        entries = sorted(folder.iterdir(), key=lambda e: e.name)
    except OSError as exc:
        raise DataError(f"cannot list the folder ({exc.strerror or exc})", file=str(folder)) from None
    for e in entries:
        if e.name.startswith((".", "_", "~$")):
            if skipped is not None and e.is_file():
                skipped.append((str(e), "hidden or system file (name starts with '.', '_' or '~$')"))
            continue
        if e.is_dir():
            if depth > 0:
                files.extend(_folder_files(e, depth - 1, skipped))
        elif e.suffix.lower() not in SUPPORTED_SUFFIXES:
            if skipped is not None:
                skipped.append((str(e), f"not a run-data file type ({e.suffix or 'no extension'}; reads "
                                        f"{', '.join(SUPPORTED_SUFFIXES)})"))
        elif e.stat().st_size > 0:
            files.append(str(e))
        elif skipped is not None:
            skipped.append((str(e), "empty file"))
        if len(files) > MAX_FOLDER_FILES:
            raise DataError(f"more than {MAX_FOLDER_FILES:,} files; choose fewer", file=str(folder))
    return files


def _is_etl_desk_workbook(path) -> bool:
    info = workbook_info(path)
    if "Data" not in info["sheets"]:
        return False
    return bool(info["hidden"]) or any(_ETL_DESK_NAME.search(n) for n in info["defined_names"])


def _read_etl_desk_workbook(path: str, report: LoadReport) -> pd.DataFrame:
    try:
        df, _ = read_workbook(path)
    except DataError as exc:
        raise exc.with_file(path) from None
    report.rows_in = report.rows_out = len(df)
    df.attrs.setdefault("cost_basis", "file")
    return df


def _not_run_data(raw: RawTable) -> str | None:
    """Why the table *raw* (found in a folder) is not run data, or None when it may be: no table,
    no rows, or no column the header guess takes for a run ID, a start time or a status."""
    frame = raw.frame
    if len(frame.columns) == 0 or frame.empty:
        return "holds no table of runs"
    missing = guess_mapping(frame.columns).missing()
    if missing:
        return f"not a table of runs (no {', '.join(m.replace('_', ' ') for m in missing)} column)"
    return None


def _from_generic(raw: RawTable, opts: ImportOptions, report: LoadReport) -> pd.DataFrame:
    frame = raw.frame
    if len(frame.columns) == 0:
        raise DataError("the file holds no table", file=raw.file)
    if frame.empty:
        raise DataError("the file has a header row but no data rows", file=raw.file)
    if raw.kind == "xlsx":  # trailing formatted-but-empty rows; CSV readers skip blank lines already
        frame = frame.dropna(how="all")
    if frame.empty:
        raise DataError("every data row is blank", file=raw.file)
    mapping = opts.mapping or guess_mapping(frame.columns)
    if raw.kind == "csv":
        frame = _text_of_thousands_lookalikes(raw, frame, mapping)
    rows = None
    if raw.kind in ("csv", "xlsx"):  # a RangeIndex stays lazy: row numbers are only needed for messages
        rows = frame.index + 1 if isinstance(frame.index, pd.RangeIndex) else frame.index.to_numpy() + 1
    return apply_mapping(frame, mapping, file=raw.file, options=opts, report=report, row_numbers=rows)


#: mapped fields whose numbers may be written with thousands separators
_NUMBER_FIELDS = ("duration_min", "data_processed_gb", "compute_hours", "cost_usd", "dbus")


def _text_of_thousands_lookalikes(raw: RawTable, frame: pd.DataFrame, mapping: Mapping) -> pd.DataFrame:
    """The CSV reader turned ``1.250`` into 1.25: for a number column whose every value could be
    such text, read the column again as text so the locale stage sees what the file says."""
    redo = [h for f, h in mapping.columns.items() if f in _NUMBER_FIELDS and h in frame.columns
            and pd.api.types.is_float_dtype(frame[h].dtype) and maybe_thousands(frame[h])]
    if not redo:
        return frame
    # a sample of the text settles most columns ('12.50', '3.5' prove '.' decimals) without a full re-read
    head = pd.read_csv(raw.file, usecols=redo, dtype=str, nrows=2000, **raw.read_kwargs)
    redo = [h for h in redo if column_evidence_or_none(head[h]) == "ambiguous"]
    if not redo:
        return frame
    text = pd.read_csv(raw.file, usecols=redo, dtype=str, **raw.read_kwargs)
    frame = frame.copy()
    for h in redo:
        frame[h] = text[h].reindex(frame.index)
    return frame


def column_evidence_or_none(s: pd.Series) -> str | None:
    """:func:`locale_numbers.column_evidence`, with contradictions left for the full read to report."""
    try:
        return column_evidence(s)
    except ValueError:
        return "ambiguous"


def _dictionary_columns(path: str, opts: ImportOptions) -> list[str]:
    """The text columns of Parquet file *path* that feed a dictionary-encoded field of the canonical
    table (:data:`~etl_desk.core.data.schema.DICTIONARY_TEXT`: pipeline names, states, codes, tags...),
    by the mapping the load will use: read as codes, they are never a million strings in memory
    (issue 15 item 8). None for a Databricks system table (its importer reads its own columns)."""
    text = parquet_columns(path)
    if not text or (opts.mapping is None and databricks.classify(pd.Index(list(text)))):
        return []
    mapping = opts.mapping or guess_mapping(list(text))
    return [h for f, h in mapping.columns.items() if f in DICTIONARY_TEXT and text.get(h)]


def _load(paths, opts: ImportOptions, report: LoadReport) -> pd.DataFrame:
    skipped: list[tuple[str, str]] = []
    files = _expand(paths, skipped)
    system: dict[str, list[RawTable]] = {}
    pages: list[tuple[object, str]] = []
    parts: list[tuple[str, pd.DataFrame, LoadReport]] = []
    info: list[dict] = []  # provenance: one entry per file
    for f, in_folder in files:
        kind = what_is(f)
        if kind == "json":
            data = read_json(f)
            if not jobs_api.is_runs_list(data):
                keys = ", ".join(list(data)[:8]) if isinstance(data, dict) else type(data).__name__
                why = (f"this JSON is not a Databricks Jobs API runs/list response (no 'runs' "
                       f"array; found {keys or 'an empty object'})")
                if in_folder:  # a stray JSON beside the run data: not run data
                    skipped.append((f, why[5:]))
                    continue
                raise DataError(why, file=f)
            pages.append((data, f))
            info.append({"file": f, "kind": "jobs api json", "rows_read": len(jobs_api.runs_of(data, f)),
                         "header_row": None})
            continue
        if kind == "xlsx" and _is_etl_desk_workbook(f):
            rep = LoadReport()
            parts.append((f, _read_etl_desk_workbook(f, rep), rep))
            info.append({"file": f, "kind": "etl desk workbook", "rows_read": rep.rows_in, "header_row": 1})
            continue
        raw = read_raw(f, kind, dictionary=_dictionary_columns(f, opts) if kind == "parquet" else ())
        table = databricks.classify(raw.frame.columns) if opts.mapping is None else None
        if table:
            system.setdefault(table, []).append(raw)
            info.append({"file": f, "kind": f"system_table:{table}", "rows_read": len(raw.frame),
                         "header_row": raw.header_row + 1})
            continue
        if in_folder and opts.mapping is None:
            why = _not_run_data(raw)
            if why:
                skipped.append((f, why))
                continue
        rep = LoadReport()
        parts.append((f, _from_generic(raw, opts, rep), rep))
        info.append({"file": f, "kind": f"{kind} table", "rows_read": rep.rows_in, "header_row": raw.header_row + 1,
                     "read_as": dict(rep.read_as)})
    for f, why in skipped:
        report.skip(f, why)
    groups = [(k, names) for k, names in (
        ("Databricks system tables", [r.file for raws in system.values() for r in raws]),
        ("Jobs API JSON", [f for _, f in pages]), ("run tables", [f for f, _, _ in parts])) if names]
    if len(groups) > 1:
        def listed(names):
            shown = ", ".join(os.path.basename(n) for n in names[:3])
            return shown + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        raise DataError("cannot combine " + " and ".join(f"{k} ({listed(n)})" for k, n in groups)
                        + " in one import; open the files of one kind (move the others out of the folder)",
                        file=groups[-1][1][0])
    if not groups:
        detail = "; ".join(f"{os.path.basename(f)}: {why}" for f, why in skipped[:5])
        raise DataError(f"no run data found (skipped {len(skipped)} file{'s' if len(skipped) != 1 else ''}: "
                        f"{detail})", file=str(paths[0]) if len(paths) == 1 else f"{len(paths)} inputs")
    if system:
        df = databricks.load_system_tables(system, options=opts, report=report)
    elif pages:
        df = jobs_api.load_runs_list(pages, options=opts, report=report)
    else:
        df = _combine(parts, opts, report)
    report.rows_out = len(df)
    if df.empty:
        detail = f" ({report.warnings[0]})" if report.warnings else ""
        raise DataError(f"no usable runs{detail}", file=files[0][0] if len(files) == 1 else f"{len(files)} files")
    if system:
        _system_rows_kept(info, df, report)
    df.attrs["provenance"] = provenance.build(df, info, report, opts)
    return df


def _system_rows_kept(info: list[dict], df: pd.DataFrame, report: LoadReport) -> None:
    """Rows kept per system-table file: usage rows attributed to runs (the rest left out by the
    reconciliation's reasons); reference tables (jobs, list prices) are read in full."""
    attributed = df.attrs.get("usage_rows_attributed_by_file", {})
    rec = df.attrs.get("reconciliation") or {}
    reasons = list(rec.get("unattributed_job_spend", {}).get("reasons", []))
    if rec.get("other_products", {}).get("rows"):
        reasons.append({"reason": "usage of other products (not job spend)", **rec["other_products"]})
    for f in info:
        if f["kind"] == "system_table:usage":
            f["rows_kept"] = int(attributed.get(f["file"], 0))
            for r in reasons:
                n = r.get("rows_by_file", {}).get(f["file"], 0)
                ex = [e["row"] for e in r.get("examples", []) if e["file"] == f["file"]]
                report.leave_out(f"billing usage: {r['reason']}", n, ex, file=f["file"])
        elif f["kind"] in ("system_table:jobs", "system_table:list_prices"):
            f["rows_kept"] = f["rows_read"]


def _combine(parts, opts: ImportOptions, report: LoadReport) -> pd.DataFrame:
    for f, _, rep in parts:
        for e in rep.left_out:
            report.leave_out(e["reason"], e["count"], e["examples"], file=e["file"] or f)
        for n in rep.notes:
            report.note(n)
        report.read_as.update({f"{f}: {k}": v for k, v in rep.read_as.items()} if len(parts) > 1 else rep.read_as)
    if len(parts) == 1:
        f, df, rep = parts[0]
        report.warnings.extend(rep.warnings)
        report.rows_in = rep.rows_in
        return df
    for f, _, rep in parts:
        report.warnings.extend(f"{f}: {w}" for w in rep.warnings)
    report.rows_in = sum(rep.rows_in for _, _, rep in parts)
    bases = {df.attrs.get("cost_basis", "file") for _, df, _ in parts}
    df = pd.concat([d for _, d, _ in parts], ignore_index=True)
    dup = df["run_id"].duplicated(keep="first")
    if dup.any():
        first = df["run_id"][dup].iloc[0]
        if opts.strict:
            raise DataError(f"run ID {first!r} appears in more than one file", file=parts[0][0], column="Job ID")
        counter = df.groupby("run_id", sort=False).cumcount() + 1
        df["run_id"] = df["run_id"].where(~dup, df["run_id"] + "#" + counter.astype("string"))
        report.add(f"{int(dup.sum()):,} run ID(s) repeated across files renamed with a '#n' suffix "
                   f"(first: {first!r})")
    whys = [d.attrs["cost_unknown_why"] for _, d, _ in parts if d.attrs.get("cost_unknown_why")]
    df = to_canonical(df, report=LoadReport(), cancelled=opts.cancelled, skipped=opts.skipped, strict=True,
                      unknown_cost=bool(df["cost_usd"].isna().any()))
    if whys:
        df.attrs["cost_unknown_why"] = "; ".join(dict.fromkeys(whys))
    df.attrs["cost_basis"] = bases.pop() if len(bases) == 1 else "mixed"
    df.attrs["source"] = ", ".join(f for f, _, _ in parts)
    return df
