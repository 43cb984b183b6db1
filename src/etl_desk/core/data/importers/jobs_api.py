"""Databricks Jobs API ``runs/list`` JSON -> the canonical table.

Accepted shapes: one response ``{"runs": [...], "has_more": ..., "next_page_token": ...}``
(a page with no runs may omit ``runs``), a JSON array of such pages, or a JSON
array of run objects; several files are several pages. Runs repeated across
pages (overlapping exports) are counted once.

Fields: ``run_id``; ``job_id``; ``run_name`` (the pipeline name); ``start_time`` /
``end_time`` in epoch milliseconds (``end_time`` 0 = still running, left out);
duration = ``run_duration`` (ms, multitask runs) or ``setup_duration +
execution_duration + cleanup_duration`` (ms) or end - start; ``attempt_number``
counts from 0 in the API, so attempt = attempt_number + 1;
``state.result_state`` (else ``status.termination_details.code``) is the raw state;
``status.termination_details.code`` is the termination code.

**Cost.** ``runs/list`` carries no DBUs and no prices. Decision: with a $/hour
assumption (``ImportOptions.usd_per_hour``, CLI ``--usd-per-hour``) cost = run
time in hours x rate; without one every cost is 0 and the load report carries a
loud ``NO COST DATA`` warning (``df.attrs["cost_basis"] == "none"``), so the
durations and failures are still usable and nobody mistakes $0 for a real figure.
With ``strict=True`` a missing cost assumption refuses the file instead.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from etl_desk.core.data.importers.options import ImportOptions
from etl_desk.core.data.schema import to_canonical
from etl_desk.core.errors import DataError, LoadReport

_TERMINATION_STATE = {"SUCCESS": "SUCCESS", "SKIPPED": "SKIPPED", "USER_CANCELED": "CANCELED",
                      "CANCELED": "CANCELED", "RUN_EXECUTION_ERROR": "FAILED", "TIMEOUT": "TIMEDOUT"}


def is_runs_list(data: object) -> bool:
    """True when *data* looks like a runs/list response, a list of them, or a list of runs."""
    if isinstance(data, dict):
        return "runs" in data or ("has_more" in data and not (set(data) - {"has_more", "next_page_token",
                                                                         "prev_page_token"}))
    if isinstance(data, list):
        if not data:
            return False
        first = data[0]
        return isinstance(first, dict) and ("runs" in first or "run_id" in first or "has_more" in first)
    return False


def runs_of(data: object, file: str) -> list[dict]:
    """The run objects in one parsed JSON document; DataError when it is not runs/list."""
    pages = data if isinstance(data, list) and data and isinstance(data[0], dict) and "run_id" not in data[0] else [data]
    runs: list[dict] = []
    for p, page in enumerate(pages, start=1):
        if isinstance(page, list):
            items = page
        elif isinstance(page, dict):
            if "runs" not in page and "has_more" not in page:
                keys = ", ".join(list(page)[:8])
                raise DataError(f"this JSON is not a Databricks Jobs API runs/list response: no 'runs' array "
                                f"(page {p} has keys: {keys or 'none'})", file=file)
            items = page.get("runs") or []
        else:
            raise DataError(f"this JSON is not a Databricks Jobs API runs/list response (page {p} is a "
                            f"{type(page).__name__})", file=file)
        if not isinstance(items, list):
            raise DataError(f"'runs' must be an array, found {type(items).__name__}", file=file)
        for i, r in enumerate(items, start=1):
            if not isinstance(r, dict):
                raise DataError(f"run {i} of page {p} is a {type(r).__name__}, not an object", file=file,
                                row=len(runs) + 1)
            runs.append(r)
    return runs


def _get(d: dict, *path):
    for k in path:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d


def _ms(v):
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return "bad"
    return "bad"


def load_runs_list(docs: list[tuple[object, str]], *, options: ImportOptions | None = None,
                   report: LoadReport | None = None) -> pd.DataFrame:
    """Parsed JSON documents ``[(data, file), ...]`` (pages) -> the canonical table."""
    options = (options or ImportOptions()).validate()
    report = report if report is not None else LoadReport()
    rows = []
    for data, file in docs:
        for n, r in enumerate(runs_of(data, file), start=1):
            rows.append(_run_row(r, file, n))
    file0 = docs[0][1] if len(docs) == 1 else ", ".join(f for _, f in docs)
    report.rows_in = len(rows)
    if not rows:
        raise DataError("the runs/list response holds no runs", file=file0)
    df = pd.DataFrame(rows)
    # the same run in two pages: count it once
    dup = df.duplicated(subset=["run_id", "start_ms"], keep="first")
    if dup.any():
        report.add(f"{int(dup.sum()):,} run(s) repeated across pages counted once")
        df = df.loc[~dup.to_numpy()].reset_index(drop=True)
    running = df["end_ms"].isna() | (df["end_ms"] <= 0)
    running &= df["result_state"].isna()
    if running.any():
        report.add(f"{int(running.sum()):,} run(s) still running (no end time, no result) left out")
        df = df.loc[~running.to_numpy()].reset_index(drop=True)
    if df.empty:
        raise DataError("every run in the runs/list response is still running", file=file0)
    start = pd.to_datetime(df["start_ms"].where(df["start_ms"] > 0), unit="ms", errors="coerce")
    end = pd.to_datetime(df["end_ms"].where(df["end_ms"] > 0), unit="ms", errors="coerce")
    dur = df["duration_ms"] / 60000.0
    dur = dur.where(dur.notna() & (dur > 0), (end - start).dt.total_seconds() / 60.0)
    job_id = df["job_id"].astype("string")
    name = df["run_name"].astype("string").str.strip().replace("", pd.NA)
    name = name.where(name.notna(), "job " + job_id)
    out = pd.DataFrame({
        "run_id": df["run_id"].astype("string"), "job_name": name, "start_time": start, "end_time": end,
        "duration_min": dur, "result_state": df["result_state"], "termination_code": df["termination_code"],
        "attempt": df["attempt"],
    })
    if options.usd_per_hour is not None:
        out["cost_usd"] = out["duration_min"].clip(lower=0).fillna(0) / 60.0 * float(options.usd_per_hour)
        out["compute_hours"] = np.nan
        basis = "usd_per_hour"
        report.add(f"COST ESTIMATED: runs/list has no DBUs or prices; cost = run time x "
                   f"${options.usd_per_hour:g}/hour")
    elif options.strict:
        raise DataError("no cost: runs/list has no DBUs or prices; give a $/hour of run time "
                        "(--usd-per-hour) to estimate cost", file=file0)
    else:
        out["cost_usd"] = 0.0
        basis = "none"
        report.add("NO COST DATA: the Jobs API runs/list has no DBUs or prices. Every run's cost is set "
                   "to $0 — give a $/hour of run time (--usd-per-hour) to estimate it, or import the "
                   "system.billing.usage export instead.")
    rows_in = report.rows_in
    canon = to_canonical(out, file=file0, report=report, row_numbers=df["n"].to_numpy(),
                         **options.canonical_kwargs())
    report.rows_in = rows_in
    canon.attrs["cost_basis"] = basis
    canon.attrs["source_kind"] = "databricks_jobs_api"
    return canon


def _run_row(r: dict, file: str, n: int) -> dict:
    rid = r.get("run_id")
    if rid is None or isinstance(rid, (dict, list, bool)) or str(rid).strip() == "":
        raise DataError("run has no run_id", file=file, row=n, column="run_id")
    vals = {}
    for key, path in (("start_ms", ("start_time",)), ("end_ms", ("end_time",)),
                      ("run_duration", ("run_duration",)), ("setup", ("setup_duration",)),
                      ("execution", ("execution_duration",)), ("cleanup", ("cleanup_duration",)),
                      ("attempt_number", ("attempt_number",))):
        v = _ms(_get(r, *path))
        if v == "bad" or (isinstance(v, float) and not np.isfinite(v)):
            raise DataError(f"expected a number, found {str(_get(r, *path))[:40]!r}", file=file, row=n,
                            column=path[0])
        vals[key] = v
    if vals["start_ms"] is None:
        raise DataError("run has no start_time", file=file, row=n, column="start_time")
    if vals["run_duration"] is not None and vals["run_duration"] > 0:
        dur = vals["run_duration"]
    elif any(vals[k] for k in ("setup", "execution", "cleanup")):
        dur = sum(vals[k] or 0.0 for k in ("setup", "execution", "cleanup"))
    else:
        dur = None
    state = _get(r, "state", "result_state")
    code = _get(r, "status", "termination_details", "code")
    if state is None and code is not None:
        state = _TERMINATION_STATE.get(str(code).upper(), "FAILED")
    if state is None and _get(r, "state", "life_cycle_state") in ("SKIPPED",):
        state = "SKIPPED"
    if state is None and _get(r, "state", "life_cycle_state") == "INTERNAL_ERROR":
        state = "INTERNAL_ERROR"
    if code is None and _get(r, "state", "life_cycle_state") not in (None, "TERMINATED"):
        code = None
    att = vals["attempt_number"]
    if att is not None and (att < 0 or att != int(att)):
        raise DataError(f"attempt_number must be a whole number >= 0, found {att:g}", file=file, row=n,
                        column="attempt_number")
    return {
        "n": n, "run_id": str(rid).strip(), "job_id": _get(r, "job_id"),
        "run_name": _get(r, "run_name") if isinstance(_get(r, "run_name"), str) else None,
        "start_ms": vals["start_ms"], "end_ms": vals["end_ms"], "duration_ms": dur,
        "result_state": str(state) if state is not None else None,
        "termination_code": str(code) if code is not None else None,
        "attempt": int(att) + 1 if att is not None else 1,
    }
