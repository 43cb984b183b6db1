"""The canonical job-run table: columns, display labels, dtypes and the validator.

Every data source (generators, importers, ETL Desk's own workbook) ends in
:func:`to_canonical`, which returns a DataFrame with exactly the columns of
:data:`COLUMNS`, in that order, with canonical dtypes, or raises
:class:`DataError` naming the file, row and column of the first problem.

Rows are numbered as a user sees them in the file: ``row 1`` is the first data
row under the header.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Iterable

import numpy as np
import pandas as pd

from etl_desk.core.data.arrow_text import TextFacts, arrow_chunks, factorize_text, max_bytes, strings_unique, text_facts
from etl_desk.core.data.tags import normalize_tags
from etl_desk.core.errors import DataError, LoadReport

SUCCESS = "Success"
FAILED = "Failed"
STATUSES = (SUCCESS, FAILED)
SOURCE_SYSTEMS = ("SAP", "GIS", "Other")

#: Status colours of the case-study dashboard (Tableau 10 orange / blue).
STATUS_COLORS = {SUCCESS: "#F28E2B", FAILED: "#4E79A7"}


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    kind: str  # string | category | datetime | float | int | bool
    required: bool
    unit: str = ""
    description: str = ""
    categories: tuple[str, ...] = ()


COLUMNS: tuple[Column, ...] = (
    Column("run_id", "Job ID", "string", True, description="Unique per row"),
    Column("job_name", "Job Name", "string", False, description="Pipeline name; may be empty"),
    Column("source_system", "Source System", "category", False, categories=SOURCE_SYSTEMS),
    Column("start_time", "Start Time", "datetime", True, description="UTC, naive"),
    Column("end_time", "End Time", "datetime", True, description="Derived from start + duration when absent"),
    Column("duration_min", "Duration (min)", "float", True, unit="min"),
    Column("data_processed_gb", "Data Processed (GB)", "float", False, unit="GB",
           description="NaN when the source has none"),
    Column("status", "Job Status", "category", True, categories=STATUSES),
    Column("result_state", "Result State", "string", False, description="Raw state as the source spelled it"),
    Column("termination_code", "Termination Code", "string", False),
    Column("compute_hours", "Compute Hours Used", "float", False, unit="h"),
    Column("cost_usd", "Cost (USD)", "float", True, unit="USD"),
    Column("attempt", "Attempt", "int", False, description="1 for the first try of a scheduled run"),
    Column("spot", "Spot", "bool", False),
    Column("injected_anomaly", "Injected Anomaly", "bool", False,
           description="Generator ground truth only"),
    # who pays (attribution): filled where the source has them, missing otherwise
    Column("workspace_id", "Workspace", "string", False,
           description="Databricks workspace ID (system tables), or a mapped column"),
    Column("sku_name", "SKU", "string", False,
           description="Billing SKU with the run's largest cost (system.billing.usage); "
                       "serverless when it contains SERVERLESS"),
    Column("tags", "Tags", "string", False,
           description='Run tags as compact JSON, sorted keys: {"cost_center":"CC-410","team":"finance"} '
                       "(billing custom_tags, job tags, or a mapped column; see core/data/tags.py)"),
)

#: The optional attribution columns (every source may leave them missing).
ATTRIBUTION_COLUMNS = ("workspace_id", "sku_name", "tags")

COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
LABELS: dict[str, str] = {c.name: c.label for c in COLUMNS}
NAMES_BY_LABEL: dict[str, str] = {c.label: c.name for c in COLUMNS}

#: The eight columns of the published case-study CSV, in its order.
CASE_STUDY_LABELS = (
    "Job ID", "Start Time", "End Time", "Duration (min)", "Data Processed (GB)",
    "Job Status", "Compute Hours Used", "Cost (USD)",
)

#: Raw result states (both Databricks spellings and common synonyms) -> status.
#: ``None`` means "follows the cancelled/skipped policy".
RESULT_STATE_STATUS: dict[str, str | None] = {
    "SUCCESS": SUCCESS, "SUCCEEDED": SUCCESS, "SUCCESSFUL": SUCCESS, "SUCCEEDED_WITH_FAILURES": SUCCESS,
    "OK": SUCCESS, "COMPLETED": SUCCESS, "COMPLETE": SUCCESS, "PASSED": SUCCESS, "DONE": SUCCESS,
    "FAILED": FAILED, "FAILURE": FAILED, "FAIL": FAILED, "ERROR": FAILED, "ERRORED": FAILED,
    "TIMED_OUT": FAILED, "TIMEDOUT": FAILED, "TIMEOUT": FAILED, "UPSTREAM_FAILED": FAILED,
    "INTERNAL_ERROR": FAILED, "DRIVER_ERROR": FAILED, "MAXIMUM_CONCURRENT_RUNS_REACHED": FAILED,
    "CANCELED": None, "CANCELLED": None, "UPSTREAM_CANCELED": None, "UPSTREAM_CANCELLED": None,
    "SKIPPED": None, "EXCLUDED": None, "DISABLED": None,
}
CANCELLED_STATES = frozenset({"CANCELED", "CANCELLED", "UPSTREAM_CANCELED", "UPSTREAM_CANCELLED"})
SKIPPED_STATES = frozenset({"SKIPPED", "EXCLUDED", "DISABLED"})

#: What to do with cancelled and skipped runs: count them as failed, as
#: successful, or leave them out. The default follows FinOps practice: a
#: cancelled run consumed compute and produced nothing, so it counts as failed
#: spend; a skipped run never started and costs nothing, so it is left out.
CANCELLED_POLICIES = ("failed", "success", "exclude")
DEFAULT_CANCELLED_POLICY = "failed"
DEFAULT_SKIPPED_POLICY = "exclude"


def empty_frame() -> pd.DataFrame:
    """A canonical table with no rows."""
    return to_canonical(pd.DataFrame({"run_id": [], "start_time": [], "duration_min": [],
                                      "status": [], "cost_usd": []}))


def has_values(df: pd.DataFrame, name: str) -> bool:
    """True when column *name* holds at least one value (optional columns may be all-NA)."""
    return name in df.columns and bool(df[name].notna().any())


def _factorize(s: pd.Series) -> tuple[np.ndarray, list]:
    """(codes with -1 for missing, distinct values); from the Arrow buffers when possible."""
    got = factorize_text(s)
    if got is not None:
        return got
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    return codes, list(uniques)


#: Codes of :func:`status_codes`: the index into STATUSES, or one of these.
CODE_EMPTY, CODE_EXCLUDED, CODE_UNKNOWN = -1, -2, -3


def _policy_mapping(cancelled: str, skipped: str) -> dict[str, str | None]:
    for policy in (cancelled, skipped):
        if policy not in CANCELLED_POLICIES:
            raise ValueError(f"unknown policy {policy!r}; use one of {', '.join(CANCELLED_POLICIES)}")
    policy_status = {"failed": FAILED, "success": SUCCESS, "exclude": None}
    mapping: dict[str, str | None] = {}
    for raw, st in RESULT_STATE_STATUS.items():
        if st is None:
            st = policy_status[cancelled if raw in CANCELLED_STATES else skipped]
        mapping[raw] = st
    return mapping


def status_codes(states: pd.Series, *, cancelled: str = DEFAULT_CANCELLED_POLICY,
                 skipped: str = DEFAULT_SKIPPED_POLICY) -> np.ndarray:
    """Raw result states (any spelling, any padding) as int8 codes into :data:`STATUSES`.

    ``CODE_EMPTY`` for missing or blank values, ``CODE_EXCLUDED`` for states the
    cancelled/skipped policy leaves out, ``CODE_UNKNOWN`` for anything unrecognised.
    Works on the distinct values only (a handful) and broadcasts by code: O(n) in C.
    """
    mapping = _policy_mapping(cancelled, skipped)
    codes, uniques = _factorize(states)
    key = pd.Series(uniques, dtype="object").astype("string").str.strip().str.upper()
    key = key.str.replace(r"[\s\-]+", "_", regex=True)
    code_of = {SUCCESS: 0, FAILED: 1, None: CODE_EXCLUDED}
    table = np.array([code_of[mapping[k]] if k in mapping else CODE_UNKNOWN if k else CODE_EMPTY
                      for k in key.fillna("").tolist()] + [CODE_EMPTY], dtype=np.int8)
    return table[codes]  # code -1 (missing) takes the table's last entry


def status_from_state(states: pd.Series, *, cancelled: str = DEFAULT_CANCELLED_POLICY,
                      skipped: str = DEFAULT_SKIPPED_POLICY) -> pd.Series:
    """Map raw result states (any spelling) to Success / Failed / NA (= exclude).

    Unknown non-empty states return the sentinel ``"?"`` so the caller can name the row.
    """
    codes = status_codes(states, cancelled=cancelled, skipped=skipped)
    labels = np.array([SUCCESS, FAILED, "?", pd.NA, pd.NA], dtype=object)
    # code -> label: 0, 1 -> status; CODE_UNKNOWN (-3) -> "?"; CODE_EXCLUDED / CODE_EMPTY -> NA
    return pd.Series(labels[np.select([codes >= 0, codes == CODE_UNKNOWN], [codes, 2], 3)],
                     index=states.index, dtype="object")


def _status_job(states: pd.Series, cancelled: str, skipped: str) -> np.ndarray:
    return status_codes(states, cancelled=cancelled, skipped=skipped)


def _source_codes(s: pd.Series) -> np.ndarray:
    """Source systems as int8 codes into :data:`SOURCE_SYSTEMS` (-1 when blank): SAP and GIS
    in any case, anything else non-blank is Other."""
    codes, uniques = _factorize(s)
    key = pd.Series(uniques, dtype="object").astype("string").str.strip().str.upper().fillna("")
    table = np.array([SOURCE_SYSTEMS.index(k) if k in ("SAP", "GIS") else 2 if k else -1
                      for k in key.tolist()] + [-1], dtype=np.int8)
    return table[codes]  # code -1 (missing) takes the table's last entry


def _locate(mask: np.ndarray, row_numbers: np.ndarray) -> int:
    return int(row_numbers[np.flatnonzero(mask)[0]])


def _to_float(s: pd.Series, label: str, file: str | None, rows: np.ndarray) -> pd.Series:
    if pd.api.types.is_bool_dtype(s.dtype):
        raise DataError("expected a number, found true/false", file=file, row=int(rows[0]), column=label)
    if pd.api.types.is_numeric_dtype(s.dtype):
        return s.astype("float64")
    txt = s.astype("string").str.strip()
    num = pd.to_numeric(txt.str.replace(",", "", regex=False), errors="coerce")
    bad = num.isna() & txt.notna() & (txt != "")
    if bad.any():
        i = np.flatnonzero(bad.to_numpy())[0]
        raise DataError(f"expected a number, found {str(txt.iloc[i])[:40]!r}", file=file,
                        row=int(rows[i]), column=label)
    return num.astype("float64")


def _arrow_datetimes(txt: pd.Series, *, blanks: bool = True) -> pd.Series | None:
    """ISO 8601 text parsed by Arrow's C++ cast (~15x faster than pandas), or None.

    All values naive -> naive; all values with an offset (any offsets) -> converted to
    UTC and made naive. Anything else (mixed, other formats, bad values, out of range)
    returns None and the general path decides, with its row-numbered errors.
    """
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = pa.array(txt.array)
        if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
            return None
        if blanks:
            arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, arr.type), arr)
    except Exception:  # noqa: BLE001 - any trouble: use the general path
        return None
    for typ in (pa.timestamp("ns"), pa.timestamp("ns", tz="UTC")):
        try:
            out = pc.cast(arr, typ)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            continue
        if typ.tz is not None:
            out = out.cast(pa.timestamp("ns"))  # Arrow keeps UTC instants; drop the zone
        values = out.to_numpy(zero_copy_only=False)  # a fresh array: no need for pandas to copy it
        return pd.Series(values, index=txt.index, copy=False).astype("datetime64[ns]")
    return None


def _to_datetime(s: pd.Series, label: str, file: str | None, rows) -> tuple[pd.Series, str | None]:
    """Naive UTC datetimes from *s*, and a warning when times with and without a UTC offset
    are mixed (those without are read as UTC). Raises DataError naming the first bad value."""
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        out = s
        if getattr(out.dt, "tz", None) is not None:
            out = out.dt.tz_convert("UTC").dt.tz_localize(None)
        return out.astype("datetime64[ns]"), None
    # Arrow's ISO cast is strict (one format, all naive or all with an offset): when it
    # succeeds there is nothing to strip and nothing mixed
    if arrow_chunks(s) is not None:
        fast = _arrow_datetimes(s, blanks=False)
        if fast is not None:
            return fast, None
    txt = s.astype("string").str.strip()
    fast = _arrow_datetimes(txt)
    if fast is not None:
        return fast, None
    # fast path: ISO 8601 throughout (what exports and ETL Desk write) parses in C; mixed
    # offsets, other formats and bad values fall through to the general path below
    try:
        fast = pd.to_datetime(txt, format="ISO8601")
    except (ValueError, TypeError, OverflowError):
        fast = None
    if fast is not None:
        if getattr(fast.dt, "tz", None) is not None:
            fast = fast.dt.tz_convert("UTC").dt.tz_localize(None)
        return fast.astype("datetime64[ns]"), None
    has_tz = txt.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True, na=False)
    n_tz, n_all = int(has_tz.sum()), int((txt.notna() & (txt != "")).sum())
    mixed = (f"column '{label}' mixes times with a UTC offset ({n_tz:,}) and without ({n_all - n_tz:,}); "
             "those without were read as UTC") if 0 < n_tz < n_all else None
    try:
        if has_tz.any():
            out = pd.to_datetime(txt, errors="coerce", utc=True, format="mixed")
            out = out.dt.tz_convert("UTC").dt.tz_localize(None)
        else:
            out = pd.to_datetime(txt, errors="coerce", format="mixed")
    except (ValueError, TypeError, OverflowError) as exc:  # pragma: no cover - pandas edge cases
        raise DataError(f"dates cannot be read ({exc})", file=file, column=label) from None
    bad = out.isna() & txt.notna() & (txt != "")
    if bad.any():
        i = np.flatnonzero(bad.to_numpy())[0]
        raise DataError(f"cannot read {str(txt.iloc[i])[:40]!r} as a date and time", file=file,
                        row=int(rows[i]), column=label)
    return out.astype("datetime64[ns]"), mixed


def _to_bool(s: pd.Series, label: str, file: str | None, rows: np.ndarray) -> pd.Series:
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("boolean")
    if pd.api.types.is_numeric_dtype(s.dtype):
        return s.map(lambda v: pd.NA if pd.isna(v) else bool(v)).astype("boolean")
    txt = s.astype("string").str.strip().str.lower()
    table = {"true": True, "1": True, "yes": True, "y": True, "false": False, "0": False,
             "no": False, "n": False, "1.0": True, "0.0": False}
    out = txt.map(lambda v: table.get(v, "?") if isinstance(v, str) and v else pd.NA)
    bad = out.astype("object") == "?"
    if bad.any():
        i = np.flatnonzero(bad.to_numpy())[0]
        raise DataError(f"expected true/false, found {str(txt.iloc[i])[:40]!r}", file=file,
                        row=int(rows[i]), column=label)
    return out.astype("boolean")


def _clean_string(s: pd.Series, facts: TextFacts | None = None) -> pd.Series:
    """Text with surrounding whitespace stripped and blank values missing."""
    facts = facts if facts is not None else text_facts(s)
    if facts is not None and facts.clean:  # nothing to strip, nothing blank: no copy
        return s.astype("string")
    out = s.astype("string").str.strip()
    return out.mask(out == "", pd.NA)


#: Longer text values are clipped on load (a 1 MB cell must not reach a table view).
TEXT_LIMIT = 10_000


def _clean_text(s: pd.Series, label: str) -> tuple[pd.Series, str | None]:
    """:func:`_clean_string`, clipping values longer than :data:`TEXT_LIMIT` characters.

    Returns the text and the warning to report (None when nothing was clipped).
    """
    facts = text_facts(s)
    out = _clean_string(s, facts)
    # UTF-8 bytes >= characters: under the limit means nothing to clip (stripping only shortens)
    longest = facts.max_bytes if facts is not None else max_bytes(out)
    if longest is not None and longest <= TEXT_LIMIT:
        return out, None
    lengths = out.str.len()
    if not (lengths > TEXT_LIMIT).any():
        return out, None
    n = int((lengths > TEXT_LIMIT).sum())
    return (out.str.slice(0, TEXT_LIMIT),
            f"{n:,} value(s) in column '{label}' longer than {TEXT_LIMIT:,} characters were clipped")


#: Tables at least this long validate their independent columns on worker threads (Arrow
#: and NumPy release the GIL); shorter ones are not worth the hand-off.
PARALLEL_ROWS = 50_000
_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


class _Job:
    """``fn(*args)`` started on a worker thread, or run by whoever asks for it first.

    ``result()`` takes the job back from the queue and runs it on the calling thread
    when no worker has started it yet (so the caller never idles waiting for a job
    still queued); errors surface there, so a strict load reports the first problem
    in column order.
    """

    def __init__(self, fn, args, future=None):
        self._fn, self._args, self._future = fn, args, future

    def result(self):
        if self._future is None or self._future.cancel():
            return self._fn(*self._args)
        return self._future.result()


def _later(parallel: bool, fn, *args) -> _Job:
    """A :class:`_Job` for ``fn(*args)``, queued on the worker threads when *parallel*."""
    global _POOL
    if not parallel:
        return _Job(fn, args)
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="etl-desk-validate")
    return _Job(fn, args, _POOL.submit(fn, *args))


def to_canonical(df: pd.DataFrame, *, file: str | None = None, rate_usd_per_hour: float | None = None,
                 cancelled: str = DEFAULT_CANCELLED_POLICY, skipped: str = DEFAULT_SKIPPED_POLICY,
                 strict: bool = True, report: LoadReport | None = None,
                 row_numbers: Iterable[int] | None = None) -> pd.DataFrame:
    """Turn *df* (columns named by canonical name or display label) into the canonical table.

    Derives end time from start + duration and start from end - duration,
    duration from start/end, cost from compute hours x *rate_usd_per_hour*, and
    status from the raw result state. With ``strict=True`` the first bad value
    raises :class:`DataError`; with ``strict=False`` bad rows are dropped,
    duplicate IDs renamed, and each fix is listed in *report*.
    """
    report = report if report is not None else LoadReport()
    src = df.rename(columns={k: v for k, v in NAMES_BY_LABEL.items() if k in df.columns})
    src = src.loc[:, ~src.columns.duplicated()]
    n = len(src)
    report.rows_in = n
    if row_numbers is None:
        rows = pd.RangeIndex(1, n + 1)  # row numbers are only looked up for messages: keep them lazy
    elif isinstance(row_numbers, pd.RangeIndex):
        rows = row_numbers
    elif isinstance(row_numbers, (np.ndarray, pd.Index, pd.Series)):
        rows = np.asarray(row_numbers, dtype=np.int64)
    else:
        rows = np.fromiter(row_numbers, dtype=np.int64)
    if len(rows) != n:
        raise ValueError("row_numbers must have one entry per row")
    src = src.reset_index(drop=True)
    out: dict[str, pd.Series] = {}
    drop = np.zeros(n, dtype=bool)

    def problem(mask: np.ndarray, msg: str, column: str) -> None:
        nonlocal drop
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():  # the common case: one cheap pass, no combining with the drops
            return
        mask = mask & ~drop
        if not mask.any():
            return
        if strict:
            raise DataError(msg, file=file, row=_locate(mask, rows), column=column)
        first = _locate(mask, rows)
        report.add(f"{int(mask.sum()):,} row(s) dropped: {msg} (column '{column}', first at row {first})")
        drop |= mask

    # --- identifiers -------------------------------------------------------------
    if "run_id" not in src.columns:
        raise DataError("required column 'Job ID' (run_id) is missing", file=file, column="Job ID")
    # independent column work starts now on worker threads; results are taken in column order
    parallel = n >= PARALLEL_ROWS
    start_job = (_later(parallel, _to_datetime, src["start_time"], "Start Time", file, rows)
                 if "start_time" in src.columns else None)
    end_job = (_later(parallel, _to_datetime, src["end_time"], "End Time", file, rows)
               if "end_time" in src.columns else None)
    state_col = "status" if "status" in src.columns else "result_state" if "result_state" in src.columns else None
    status_job = (_later(parallel, _status_job, src[state_col], cancelled, skipped)
                  if state_col is not None else None)
    source_job = _later(parallel, _source_codes, src["source_system"]) if "source_system" in src.columns else None
    text_jobs = {name: _later(parallel, _clean_text, src[name], LABELS[name])
                 for name in ("job_name", "result_state", "termination_code", "workspace_id", "sku_name")
                 if name in src.columns}
    rid = src["run_id"]
    if pd.api.types.is_float_dtype(rid.dtype) and rid.dropna().mod(1).eq(0).all():
        rid = rid.astype("Int64")
    rid = _clean_string(rid)
    if rid.hasnans:
        problem(rid.isna().to_numpy(), "empty run ID", "Job ID")
    # the longest check, on this thread while the workers take the columns above
    ids_unique = strings_unique(rid)

    # --- numbers ------------------------------------------------------------------
    floats = {}
    for name in ("duration_min", "data_processed_gb", "compute_hours", "cost_usd"):
        label = LABELS[name]
        if name in src.columns:
            floats[name] = _to_float(src[name], label, file, rows)
            v = floats[name].to_numpy()
            # fmin/fmax skip NaN: two reductions settle "nothing negative, nothing infinite"
            if n and np.fmin.reduce(v) >= 0 and np.fmax.reduce(v) < np.inf:
                continue
            problem(v < 0, "negative value", label)
            problem(np.isinf(v), "infinite value", label)
        else:
            floats[name] = pd.Series(np.nan, index=src.index, dtype="float64")

    # --- times --------------------------------------------------------------------
    start = end = None
    for job, name in ((start_job, "start"), (end_job, "end")):
        if job is not None:
            times, mixed = job.result()
            if mixed:
                report.add(mixed)
            start, end = (times, end) if name == "start" else (start, times)
    dur = floats["duration_min"]
    have_dur = "duration_min" in src.columns
    if start is None and end is None:
        raise DataError("required column 'Start Time' is missing", file=file, column="Start Time")
    if start is None:
        if not have_dur:
            raise DataError("need 'Start Time' or 'Duration (min)' beside 'End Time'", file=file,
                            column="Start Time")
        start = end - pd.to_timedelta(dur, unit="min")
    if end is None:
        if not have_dur:
            raise DataError("need 'End Time' or 'Duration (min)' beside 'Start Time'", file=file,
                            column="Duration (min)")
        end = start + pd.to_timedelta(dur, unit="min")
    else:
        # fill the gaps each way (only when there are gaps: 1M timedeltas cost time)
        if end.hasnans:
            derived_end = start + pd.to_timedelta(dur, unit="min")
            end = end.where(end.notna(), derived_end)
        if start.hasnans:
            start = start.where(start.notna(), end - pd.to_timedelta(dur, unit="min"))
    start_gaps = start.hasnans
    dur_gaps = not have_dur or dur.hasnans
    if dur_gaps:
        from_times = (end - start).dt.total_seconds() / 60.0
        dur = dur.where(dur.notna(), from_times)
        dur_gaps = dur.hasnans
    if start_gaps:
        problem(start.isna().to_numpy(), "no start time", "Start Time")
    if dur_gaps:
        problem(dur.isna().to_numpy(), "no duration (and no start/end to derive it)", "Duration (min)")
    problem((dur < 0).to_numpy(), "end time before start time", "End Time")

    # --- status -------------------------------------------------------------------
    if status_job is None:
        raise DataError("required column 'Job Status' is missing", file=file, column="Job Status")
    state_source = src[state_col]
    status = status_job.result()
    unknown = status == CODE_UNKNOWN
    if (unknown & ~drop).any():
        i = np.flatnonzero(unknown & ~drop)[0]
        problem(unknown, f"unknown job status {str(state_source.iloc[i]).strip()[:40]!r}", "Job Status")
    excluded = (status == CODE_EXCLUDED) & ~drop
    if excluded.any():
        report.add(f"{int(excluded.sum()):,} cancelled or skipped run(s) left out by the current policy")
        drop |= excluded
    problem(status == CODE_EMPTY, "empty job status", "Job Status")

    # --- cost ---------------------------------------------------------------------
    cost = floats["cost_usd"]
    hours = floats["compute_hours"]
    if cost.isna().any():
        if rate_usd_per_hour is not None:
            cost = cost.where(cost.notna(), hours * float(rate_usd_per_hour))
        if "cost_usd" not in src.columns and rate_usd_per_hour is None:
            raise DataError("required column 'Cost (USD)' is missing (or give compute hours and a $/hour rate)",
                            file=file, column="Cost (USD)")
    if cost.hasnans:
        problem(cost.isna().to_numpy(), "no cost", "Cost (USD)")

    # --- optional -----------------------------------------------------------------
    if "attempt" not in src.columns:
        attempt = pd.Series(1, index=src.index, dtype="int64")
    else:
        a = src["attempt"]
        if pd.api.types.is_integer_dtype(a.dtype) and not a.isna().any():
            v = a.to_numpy(dtype=np.int64)
            if v.min() >= 1:
                attempt = a.astype("int64")
            else:
                problem(v < 1, "attempt must be a whole number >= 1", "Attempt")
                attempt = pd.Series(np.maximum(v, 1), index=src.index, dtype="int64")
        else:
            a = _to_float(a, "Attempt", file, rows)
            problem((a < 1).to_numpy() | (a.notna() & (a % 1 != 0)).to_numpy(),
                    "attempt must be a whole number >= 1", "Attempt")
            attempt = a.fillna(1).clip(lower=1).astype("int64")
    bools = {}
    for name in ("spot", "injected_anomaly"):
        if name in src.columns:
            bools[name] = _to_bool(src[name], LABELS[name], file, rows)
        else:
            bools[name] = pd.Series(pd.NA, index=src.index, dtype="boolean")
    source = source_job.result() if source_job is not None else np.full(n, -1, dtype=np.int8)
    texts = {}
    for name in ("job_name", "result_state", "termination_code", "workspace_id", "sku_name"):
        if name in text_jobs:
            texts[name], clipped = text_jobs[name].result()
            if clipped:
                report.add(clipped)
        else:
            texts[name] = pd.Series(pd.NA, index=src.index, dtype="string")
    if "tags" in src.columns:
        tags, bad_tag = normalize_tags(src["tags"])
        if bad_tag is not None:
            msg = f"cannot read tags {str(src['tags'].iloc[bad_tag])[:40]!r} (write JSON or key=value; key=value)"
            if strict:
                raise DataError(msg, file=file, row=int(rows[bad_tag]), column="Tags")
            # a run is not dropped for its tags: it keeps its data and counts as untagged
            report.add(f"{msg} at row {int(rows[bad_tag])}: such runs count as untagged")
    else:
        tags = pd.Series(pd.NA, index=src.index, dtype="string")

    out = {
        "run_id": rid,
        "job_name": texts["job_name"],
        "source_system": pd.Categorical.from_codes(source, categories=list(SOURCE_SYSTEMS)),
        "start_time": start,
        "end_time": end,
        "duration_min": dur.astype("float64"),
        "data_processed_gb": floats["data_processed_gb"],
        "status": pd.Categorical.from_codes(np.where(status >= 0, status, -1), categories=list(STATUSES)),
        "result_state": texts["result_state"],
        "termination_code": texts["termination_code"],
        "compute_hours": hours,
        "cost_usd": cost.astype("float64"),
        "attempt": attempt,
        "spot": bools["spot"],
        "injected_anomaly": bools["injected_anomaly"],
        "workspace_id": texts["workspace_id"],
        "sku_name": texts["sku_name"],
        "tags": tags,
    }
    # Series (not their arrays) with copy=False: no copy of 1M-row columns, and copy-on-write
    # still keeps the caller's frame and this one apart
    result = pd.DataFrame({k: (v.set_axis(src.index) if isinstance(v, pd.Series) else v)
                           for k, v in out.items()}, copy=False)
    if drop.any():
        result = result.loc[~drop].reset_index(drop=True)

    # --- duplicates last, after drops ---------------------------------------------
    # unique before the drops -> unique after them; the hash check is ~4x faster than pandas'
    dup = (np.zeros(len(result), dtype=bool) if ids_unique
           else result["run_id"].duplicated(keep="first").to_numpy())
    if dup.any():
        kept_rows = rows[~drop] if drop.any() else rows
        if strict:
            raise DataError(f"duplicate run ID {result['run_id'].iloc[np.flatnonzero(dup)[0]]!r}",
                            file=file, row=_locate(dup, kept_rows), column="Job ID")
        counter = result.groupby("run_id", sort=False).cumcount() + 1
        renamed = result["run_id"] + "#" + counter.astype("string")
        result["run_id"] = result["run_id"].where(~dup, renamed)
        report.add(f"{int(dup.sum()):,} duplicate run ID(s) renamed with a '#n' suffix "
                   f"(first at row {_locate(dup, kept_rows)})")
    text = {name: "string" for name in ("run_id", "job_name", "result_state", "termination_code") + ATTRIBUTION_COLUMNS
            if result[name].dtype != "string"}
    if text:
        result = result.astype(text)
    report.rows_out = len(result)
    result.attrs["source"] = file or ""
    return result


def to_labels(df: pd.DataFrame, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """The table with display labels as headers (what files and the workbook show)."""
    cols = list(columns) if columns is not None else list(df.columns)
    return df[cols].rename(columns=LABELS)


def assert_canonical(df: pd.DataFrame) -> None:
    """Raise AssertionError if *df* is not in canonical form (for tests and debugging)."""
    assert tuple(df.columns) == COLUMN_NAMES, f"columns {list(df.columns)}"
    assert str(df["start_time"].dtype) == "datetime64[ns]"
    assert str(df["end_time"].dtype) == "datetime64[ns]"
    for name in ("duration_min", "data_processed_gb", "compute_hours", "cost_usd"):
        assert df[name].dtype == np.float64, name
    assert df["attempt"].dtype == np.int64
    assert isinstance(df["status"].dtype, pd.CategoricalDtype)
    assert list(df["status"].cat.categories) == list(STATUSES)
    assert df["run_id"].is_unique


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


def labelled_frame(df: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    """*df* with display labels as headers, limited to *columns* (default: the informative ones)."""
    cols = informative_columns(df) if columns is None else list(columns)
    out = df[cols].copy()
    # whole numbers are written as integers (27, not 27.0), as the published CSV does
    for name in ("duration_min",):
        if name in out.columns:
            v = out[name].to_numpy()
            if np.isfinite(v).all() and np.all(v == np.round(v)):
                out[name] = v.astype(np.int64)
    return out.rename(columns=LABELS)
