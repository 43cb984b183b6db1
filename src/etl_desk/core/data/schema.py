"""The canonical job-run table: columns, display labels, dtypes and the validator.

Every data source (generators, importers, ETL Desk's own workbook) ends in
:func:`to_canonical`, which returns a DataFrame with exactly the columns of
:data:`COLUMNS`, in that order, with canonical dtypes, or raises
:class:`DataError` naming the file, row and column of the first problem.

Rows are numbered as a user sees them in the file: ``row 1`` is the first data
row under the header.

Size: one job, the canonical table and its one validator (every column's rule and every problem
message in one place, ~570 lines); the fast Arrow checks already live in ``arrow_text``.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np
import pandas as pd

from etl_desk.core.data import outcomes
from etl_desk.core.data.locale_numbers import parse_numbers
from etl_desk.core.data.times import _to_datetime
from etl_desk.core.data.status_codes import (  # noqa: F401 - status_codes/status_from_state re-exported
    _OUTCOME_INDEX,
    CODE_EMPTY,
    CODE_EXCLUDED,
    CODE_RUNNING,
    CODE_UNKNOWN,
    _outcome_job,
    _policy_table,
    _unknown_states,
    outcome_codes,
    status_codes,
    status_from_state,
)
from etl_desk.core.data.status_codes import (  # noqa: F401 - re-exported
    CANCELLED_POLICIES,
    DEFAULT_CANCELLED_POLICY,
    DEFAULT_SKIPPED_POLICY,
)
from etl_desk.core.data.arrow_text import TextFacts, factorize, max_bytes, strings_unique, text_facts
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
    """One column of the canonical job-run table (:data:`COLUMNS`; the table in DESIGN.md).

    ``name`` (``cost_usd``), display ``label`` (the case study's header, ``Cost (USD)``), ``kind``
    (``string`` | ``category`` | ``datetime`` | ``float`` | ``int`` | ``bool``), ``required``, ``unit``
    (``USD``, ``GB``, ``min``, ``h`` or ``""``), ``description`` and, for a category, its ``categories``.
    """
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
    Column("attempt", "Attempt", "int", False,
           description="1 for the first try of a scheduled run; <NA> where the source does not record it"),
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

#: Text columns kept dictionary-encoded: a pandas categorical whose categories are the distinct
#: values (text, in code-point order, as a sort of the text puts them). A pipeline name, a state, a
#: code, a workspace, a SKU or a tag set repeats across runs: at 1,000,000 runs the six columns
#: took ~80 MB as text and take ~6 MB as codes (issue 15 item 8). Missing values stay missing.
DICTIONARY_TEXT = ("job_name", "result_state", "termination_code") + ATTRIBUTION_COLUMNS

COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
LABELS: dict[str, str] = {c.name: c.label for c in COLUMNS}
NAMES_BY_LABEL: dict[str, str] = {c.label: c.name for c in COLUMNS}

#: The eight columns of the published case-study CSV, in its order.
CASE_STUDY_LABELS = (
    "Job ID", "Start Time", "End Time", "Duration (min)", "Data Processed (GB)",
    "Job Status", "Compute Hours Used", "Cost (USD)",
)

#: Which raw states are cancelled / never ran is the data table of
#: :mod:`etl_desk.core.data.outcomes`; the policies are in :mod:`.status_codes`.


def empty_frame() -> pd.DataFrame:
    """A canonical table with no rows."""
    return to_canonical(pd.DataFrame({"run_id": [], "start_time": [], "duration_min": [],
                                      "status": [], "cost_usd": []}))


def has_values(df: pd.DataFrame, name: str) -> bool:
    """True when column *name* holds at least one value (optional columns may be all-NA)."""
    return name in df.columns and bool(df[name].notna().any())


def _source_codes(s: pd.Series) -> np.ndarray:
    """Source systems as int8 codes into :data:`SOURCE_SYSTEMS` (-1 when blank): SAP and GIS
    in any case, anything else non-blank is Other."""
    codes, uniques = factorize(s)
    key = pd.Series(uniques, dtype="object").astype("string").str.strip().str.upper().fillna("")
    table = np.array([SOURCE_SYSTEMS.index(k) if k in ("SAP", "GIS") else 2 if k else -1
                      for k in key.tolist()] + [-1], dtype=np.int8)
    return table[codes]  # code -1 (missing) takes the table's last entry


def _locate(mask: np.ndarray, row_numbers: np.ndarray) -> int:
    return int(row_numbers[np.flatnonzero(mask)[0]])


def _to_float(s: pd.Series, label: str, file: str | None, rows: np.ndarray) -> pd.Series:
    """Floats of a column; text is read by its own locale evidence (never by stripping
    separators blindly) and an ambiguous column (``1,250``) is refused."""
    return parse_numbers(s, decimal=None, label=label, file=file, rows=rows)


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
    if isinstance(s.dtype, pd.CategoricalDtype):
        return _clean_category(s, label)
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


def _clean_category(s: pd.Series, label: str) -> tuple[pd.Series, str | None]:
    """:func:`_clean_text` of a categorical column (a dictionary-encoded Parquet column): the same
    cleaning done on its distinct values, the runs keeping their codes (no text per run is built).
    The result is a :func:`dictionary_text` column (sorted text categories)."""
    cats = pd.Series(s.cat.categories.astype("string")).str.strip()
    cats = cats.mask(cats == "", pd.NA)
    codes = s.cat.codes.to_numpy()
    warning = None
    too_long = (cats.str.len() > TEXT_LIMIT).to_numpy(dtype=bool, na_value=False)
    if too_long.any():
        n = int(np.isin(codes, np.flatnonzero(too_long)).sum())
        cats = cats.str.slice(0, TEXT_LIMIT)
        warning = f"{n:,} value(s) in column '{label}' longer than {TEXT_LIMIT:,} characters were clipped"
    new_of_old, distinct = pd.factorize(cats, sort=True)  # missing -> -1
    table = np.append(new_of_old, -1).astype(np.int32)  # code -1 (missing) takes the last entry
    dtype = pd.CategoricalDtype(pd.Index(pd.array(distinct, dtype="string")))
    return pd.Series(pd.Categorical.from_codes(table[codes], dtype=dtype), index=s.index, name=s.name), warning


def _clean_dictionary_text(s: pd.Series, label: str) -> tuple[pd.Series, str | None]:
    """:func:`_clean_text`, dictionary-encoded (:func:`dictionary_text`) on the same worker thread."""
    out, warning = _clean_text(s, label)
    return dictionary_text(out), warning


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
                 row_numbers: Iterable[int] | None = None, unknown_cost: bool = False,
                 row_files: np.ndarray | None = None, ids_unique: bool | Callable[[pd.Series], bool] = False
                 ) -> pd.DataFrame:
    """Turn *df* (columns named by canonical name or display label) into the canonical table.

    Derives end time from start + duration and start from end - duration,
    duration from start/end, cost from compute hours x *rate_usd_per_hour*, and
    status from the run's outcome: an ``outcome`` column (values of
    ``outcomes.OUTCOMES``, set by importers that read several state fields) or else
    the raw ``status`` / ``result_state`` looked up in the outcome table
    (:mod:`etl_desk.core.data.outcomes`). Cancelled and never-ran runs follow the
    policies; still-running runs and unknown states are left out (each listed in
    ``report.left_out`` with example rows); ``strict=True`` refuses an unknown state.

    *row_files*: the file each row came from (several files in one call), so rows left
    out are listed per file. *unknown_cost*: the source has no cost; ``cost_usd`` stays NaN (unknown, not 0).
    *ids_unique*: the caller has already found the run IDs (stripped) all distinct, so the duplicate check
    (the longest of the validation at 1M rows) is not run again; or a function of the cleaned run IDs
    that finds out (and may warn), called here on this thread while the workers convert the other
    columns; its False (repeats, or it could not tell) leaves the exact check at the end.
    With ``strict=True`` the first bad value raises :class:`DataError`; with
    ``strict=False`` bad rows are dropped, duplicate IDs renamed, and each fix is
    listed in *report*.

    Raises:
        ValueError: when *row_numbers* does not have one entry per row (a caller's bug).
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
        leave_out(mask, msg)

    def leave_out(mask: np.ndarray, reason: str) -> None:
        nonlocal drop
        idx = np.flatnonzero(mask)
        if row_files is None:
            report.leave_out(reason, len(idx), [int(rows[i]) for i in idx[:5]], file=file)
        else:
            for f in dict.fromkeys(row_files[idx]):
                sub = idx[row_files[idx] == f]
                report.leave_out(reason, len(sub), [int(rows[i]) for i in sub[:5]], file=str(f))
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
    state_col = next((c for c in ("outcome", "status", "result_state") if c in src.columns), None)
    status_job = (_later(parallel, _outcome_job, src[state_col], state_col == "outcome")
                  if state_col is not None else None)
    source_job = _later(parallel, _source_codes, src["source_system"]) if "source_system" in src.columns else None
    text_jobs = {name: _later(parallel, _clean_dictionary_text, src[name], LABELS[name])
                 for name in ("job_name", "result_state", "termination_code", "workspace_id", "sku_name")
                 if name in src.columns}
    rid = src["run_id"]
    if pd.api.types.is_float_dtype(rid.dtype) and rid.dropna().mod(1).eq(0).all():
        rid = rid.astype("Int64")
    rid = _clean_string(rid)
    if rid.hasnans:
        problem(rid.isna().to_numpy(), "empty run ID", "Job ID")
    # the longest check, on this thread while the workers take the columns above
    ids_unique = ids_unique(rid) if callable(ids_unique) else bool(ids_unique) or strings_unique(rid) is True

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
    end_missing = None
    for job, name in ((start_job, "start"), (end_job, "end")):
        if job is not None:
            times, mixed = job.result()
            if name == "end" and times.hasnans:
                end_missing = times.isna().to_numpy()
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
    label = "Job Status" if state_col != "result_state" else "Result State"
    oc = status_job.result()
    unknown = (oc == CODE_UNKNOWN) & ~drop
    if unknown.any():
        _unknown_states(unknown, state_source, rows, file, label, strict, report, leave_out)
    running = (oc == _OUTCOME_INDEX[outcomes.STILL_RUNNING]) & ~drop
    if end_missing is not None:  # no state and no end time: the run has not ended yet
        running |= (oc == CODE_EMPTY) & end_missing & ~drop
    if running.any():
        report.add(f"{int(running.sum()):,} run(s) still running (no end or no result yet) left out")
        leave_out(running, "still running (no result yet)")
    pol = _policy_table(cancelled, skipped)
    status = np.where(oc >= 0, pol[np.clip(oc, 0, None)], oc).astype(np.int8)
    for o, policy, what in ((outcomes.CANCELLED, cancelled, "cancelled"),
                            (outcomes.NEVER_RAN, skipped, "never ran (skipped, excluded, disabled or over a "
                                                          "concurrency/queue limit)")):
        ex = (oc == _OUTCOME_INDEX[o]) & ~drop
        if policy == "exclude" and ex.any():
            report.add(f"{int(ex.sum()):,} run(s) that {'were ' if o == outcomes.CANCELLED else ''}{what} "
                       f"left out (--{'cancelled' if o == outcomes.CANCELLED else 'skipped'} exclude)")
            leave_out(ex, f"{what}: left out by the {'cancelled' if o == outcomes.CANCELLED else 'skipped'} policy")
    problem(status == CODE_EMPTY, "empty job status", "Job Status")

    # --- cost ---------------------------------------------------------------------
    cost = floats["cost_usd"]
    hours = floats["compute_hours"]
    if unknown_cost:
        pass  # the source has no cost: NaN means unknown, never 0
    elif cost.isna().any():
        if rate_usd_per_hour is not None:
            cost = cost.where(cost.notna(), hours * float(rate_usd_per_hour))
        if "cost_usd" not in src.columns and rate_usd_per_hour is None:
            raise DataError("required column 'Cost (USD)' is missing (or give compute hours and a $/hour rate)",
                            file=file, column="Cost (USD)")
    if cost.hasnans and not unknown_cost:
        problem(cost.isna().to_numpy(), "no cost", "Cost (USD)")

    # --- optional -----------------------------------------------------------------
    # attempt: <NA> where the source does not record it (no column, or a blank cell): unknown
    # retries are not "no retries" (the KPIs then say unknown, never 0)
    if "attempt" not in src.columns:
        attempt = pd.Series(pd.arrays.IntegerArray(np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool)), index=src.index)
    else:
        a = src["attempt"]
        if pd.api.types.is_integer_dtype(a.dtype) and not a.isna().any():
            v = a.to_numpy(dtype=np.int64)
            if v.min(initial=1) < 1:
                problem(v < 1, "attempt must be a whole number >= 1", "Attempt")
            attempt = pd.Series(pd.array(np.maximum(v, 1), dtype="Int64"), index=src.index)
        else:
            a = _to_float(a, "Attempt", file, rows)
            problem((a < 1).to_numpy() | (a.notna() & (a % 1 != 0)).to_numpy(),
                    "attempt must be a whole number >= 1", "Attempt")
            attempt = a.clip(lower=1).round().astype("Int64")
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
            texts[name] = missing_text(src.index)
    if "tags" in src.columns:
        tags, bad_tag = normalize_tags(src["tags"])
        if bad_tag is not None:
            msg = f"cannot read tags {str(src['tags'].iloc[bad_tag])[:40]!r} (write JSON or key=value; key=value)"
            if strict:
                raise DataError(msg, file=file, row=int(rows[bad_tag]), column="Tags")
            # a run is not dropped for its tags: it keeps its data and counts as untagged
            report.add(f"{msg} at row {int(rows[bad_tag])}: such runs count as untagged")
    else:
        tags = missing_text(src.index)

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
    if result["run_id"].dtype != "string":
        result = result.astype({"run_id": "string"})
    result = dictionary_columns(result)
    report.rows_out = len(result)
    result.attrs["source"] = file or ""
    return result


def dictionary_text(s: pd.Series) -> pd.Series:
    """Text column *s* as a categorical of its distinct values (:data:`DICTIONARY_TEXT`): categories
    are text in code-point order (pandas sorts the distinct values), missing values stay missing."""
    if isinstance(s.dtype, pd.CategoricalDtype) and s.cat.categories.dtype == "string" \
            and s.cat.categories.is_monotonic_increasing:
        return s
    return (s if s.dtype == "string" else s.astype("string")).astype("category")


def missing_text(index: pd.Index) -> pd.Series:
    """A :data:`DICTIONARY_TEXT` column with no values (one int8 code per row; no text at all)."""
    dtype = pd.CategoricalDtype(pd.Index(pd.array([], dtype="string")))
    return pd.Series(pd.Categorical.from_codes(np.full(len(index), -1, dtype=np.int8), dtype=dtype), index=index)


def dictionary_columns(df: pd.DataFrame) -> pd.DataFrame:
    """*df* with its :data:`DICTIONARY_TEXT` columns dictionary-encoded (:func:`dictionary_text`)."""
    todo = {c: dictionary_text(df[c]) for c in DICTIONARY_TEXT if c in df.columns}
    return df.assign(**todo) if todo else df


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
    assert str(df["attempt"].dtype) == "Int64"  # nullable: <NA> = not recorded
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
