"""Shared pieces of the Databricks system-table importers: which table a file is, struct
columns flattened, times, numbers and IDs read with the file and row named in errors.

Column names are normalised (:func:`norm_col`): ``usage_metadata_job_run_id``,
``usage_metadata.job_run_id`` and a JSON/struct ``usage_metadata`` column all become
``usage_metadata.job_run_id``; ``pricing.effective_list.default`` likewise (also nested
structs and ``json_normalize`` names such as ``pricing_effective_list_default``); a usage
export from a SQL query that selected ``usage_metadata.job_run_id`` (Databricks SQL names
it plainly ``job_run_id``) is read the same. Docs:
https://docs.databricks.com/aws/en/admin/system-tables/billing ,
https://docs.databricks.com/aws/en/admin/system-tables/pricing ,
https://docs.databricks.com/aws/en/admin/system-tables/jobs
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from etl_desk.core.data.importers.files import RawTable
from etl_desk.core.errors import DataError

TABLES = ("job_run_timeline", "jobs", "usage", "list_prices")
TABLE_TITLES = {
    "job_run_timeline": "system.lakeflow.job_run_timeline",
    "jobs": "system.lakeflow.jobs",
    "usage": "system.billing.usage",
    "list_prices": "system.billing.list_prices",
    "job_task_run_timeline": "system.lakeflow.job_task_run_timeline",
}
_STRUCTS = ("usage_metadata", "pricing", "identity_metadata", "product_features", "custom_tags")
#: json_normalize(sep="_") names of nested struct fields -> dotted names.
_NESTED = {"pricing.effective_list_default": "pricing.effective_list.default",
           "pricing.promotional_default": "pricing.promotional.default"}


def norm_col(c: object) -> str:
    """Lower-case name with flattened struct fields dotted (see the module docstring)."""
    s = str(c).strip().lower()
    for st in _STRUCTS:
        if s.startswith(st + "_") and not s.startswith(st + "__"):
            s = st + "." + s[len(st) + 1:]
            break
    return _NESTED.get(s, s)


def classify(columns) -> str | None:
    """Which system table a set of columns is (None: not a system table)."""
    cols = {norm_col(c) for c in columns}
    has = cols.__contains__
    if has("period_start_time") and has("run_id") and has("period_end_time"):
        return "job_task_run_timeline" if has("task_key") else "job_run_timeline"
    if has("usage_quantity") and has("sku_name"):
        return "usage"
    if has("price_start_time") and has("sku_name"):
        return "list_prices"
    if has("job_id") and has("name") and (has("change_time") or has("workspace_id")) and not has("run_id"):
        return "jobs"
    return None


def flatten_structs(frame: pd.DataFrame) -> pd.DataFrame:
    """Normalise names and expand struct columns (dicts from Parquet, JSON text from CSV)."""
    frame = frame.rename(columns={c: norm_col(c) for c in frame.columns})
    frame = frame.loc[:, ~frame.columns.duplicated()]
    for st in _STRUCTS:
        if st not in frame.columns:
            continue
        col = frame[st]
        sample = col.dropna()
        if sample.empty:
            continue
        first = sample.iloc[0]
        if isinstance(first, str):
            def parse(v):
                if not isinstance(v, str) or not v.strip():
                    return {}
                try:
                    d = json.loads(v)
                except (ValueError, RecursionError):
                    return {}
                return d if isinstance(d, dict) else {}
            cache = {u: parse(u) for u in pd.unique(sample)}
            dicts = col.map(lambda v: cache.get(v, {}) if isinstance(v, str) else {})
        elif isinstance(first, dict):
            dicts = col.map(lambda v: v if isinstance(v, dict) else {})
        else:
            continue
        keys: set[str] = set()
        for d in dicts.iloc[: min(len(dicts), 10_000)]:
            keys.update(k for k in d if isinstance(k, str))
        for k in keys:
            name = f"{st}.{k.lower()}"
            if name not in frame.columns:
                vals = dicts.map(lambda d, k=k: d.get(k))
                frame[name] = vals
                inner = vals.dropna()
                if not inner.empty and isinstance(inner.iloc[0], dict):  # pricing.effective_list.default
                    sub: set[str] = set()
                    for d in inner.iloc[:1000]:
                        if isinstance(d, dict):
                            sub.update(x for x in d if isinstance(x, str))
                    for k2 in sub:
                        n2 = f"{name}.{k2.lower()}"
                        if n2 not in frame.columns:
                            frame[n2] = vals.map(lambda d, k2=k2: d.get(k2) if isinstance(d, dict) else None)
    return frame


def _times(s: pd.Series, table: RawTable | None, column: str, rows: np.ndarray | None = None) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        return s.astype("datetime64[ns]")
    if pd.api.types.is_numeric_dtype(s.dtype):
        v = pd.to_numeric(s, errors="coerce")
        unit = "ms" if v.abs().max() > 1e11 else "s"
        return pd.to_datetime(v, unit=unit, errors="coerce").astype("datetime64[ns]")
    txt = s.astype("string").str.strip()
    try:
        out = pd.to_datetime(txt, errors="coerce", utc=True, format="ISO8601")
    except (ValueError, TypeError):
        out = None
    if out is None or (out.isna() & txt.notna() & (txt != "")).any():
        out = pd.to_datetime(txt, errors="coerce", utc=True, format="mixed")
    bad = out.isna() & txt.notna() & (txt != "")
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        row = int(rows[i]) if rows is not None else i + 1
        raise DataError(f"cannot read {str(txt.iloc[i])[:40]!r} as a date and time",
                        file=table.file if table else None, row=row, column=column)
    return out.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]")


def _numbers(s: pd.Series, file: str | None, column: str, rows: np.ndarray) -> pd.Series:
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("float64")
    txt = s.astype("string").str.strip()
    num = pd.to_numeric(txt, errors="coerce")
    bad = num.isna() & txt.notna() & (txt != "")
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"expected a number, found {str(txt.iloc[i])[:40]!r}", file=file,
                        row=int(rows[i]), column=column)
    return num.astype("float64")


def _ids(s: pd.Series) -> pd.Series:
    if pd.api.types.is_float_dtype(s.dtype) and s.dropna().mod(1).eq(0).all():
        s = s.astype("Int64")
    out = s.astype("string").str.strip()
    return out.mask(out == "", pd.NA)


def _concat(tables: list[RawTable]) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Concatenate the files of one system table; returns (frame, file index, row number)."""
    frames, fidx, rows = [], [], []
    for i, t in enumerate(tables):
        f = flatten_structs(t.frame)
        frames.append(f.reset_index(drop=True))
        fidx.append(np.full(len(f), i))
        rows.append(np.arange(1, len(f) + 1))
    frame = pd.concat(frames, ignore_index=True, sort=False) if len(frames) > 1 else frames[0]
    return frame, np.concatenate(fidx), np.concatenate(rows)


def _require(frame: pd.DataFrame, cols, table: str, tables: list[RawTable]) -> None:
    for c in cols:
        if c not in frame.columns:
            raise DataError(f"this {TABLE_TITLES[table]} export has no column {c!r}", file=tables[0].file,
                            column=c)


def _times_located(s, column, tables, fidx, rows):
    try:
        return _times(s, None, column)
    except DataError as exc:
        # _times numbers rows by position; name the file and row the value came from
        i = (exc.row or 1) - 1
        raise DataError(exc.problem, file=tables[int(fidx[i])].file, row=int(rows[i]), column=column) from None
