"""Databricks Jobs API ``runs/list`` JSON -> the canonical table.

Accepted shapes: one response ``{"runs": [...], "has_more": ..., "next_page_token": ...}``
(a page with no runs may omit ``runs``), a JSON array of such pages, a JSON
array of run objects, JSON Lines of run objects, and pages or runs back to back
(:func:`etl_desk.core.data.importers.files.read_json`); several files are several
pages. Runs repeated across pages (overlapping exports) are counted once.
Docs: https://docs.databricks.com/api/workspace/jobs/listruns

Fields: ``run_id``; ``job_id``; ``run_name`` (the pipeline name); ``start_time`` /
``end_time`` in epoch milliseconds (``end_time`` 0 = still running, left out);
duration = ``run_duration`` (ms, multitask runs) or ``setup_duration +
execution_duration + cleanup_duration`` (ms) or end - start; ``attempt_number``
counts from 0 in the API, so attempt = attempt_number + 1;
The outcome (:func:`run_outcome`) comes from the outcome table
(:mod:`etl_desk.core.data.outcomes`): a run still going (``status.state`` or
``state.life_cycle_state`` PENDING, QUEUED, RUNNING, TERMINATING, BLOCKED,
WAITING[_FOR_RETRY]) is left out and counted; otherwise ``state.result_state``
decides, refined by ``status.termination_details.code`` (a platform ``CANCELED``
is a failure), and the code alone decides API 2.2 objects that have no ``state``;
``type`` only when there is no code. ``result_state`` keeps the raw state as spelled,
``termination_code`` the code.

**Cost.** ``runs/list`` carries no DBUs and no prices. With a $/hour assumption
(``ImportOptions.usd_per_hour``, CLI ``--usd-per-hour``) cost = run time in hours x
rate (``cost_basis`` ``usd_per_hour``); without one cost is unknown: ``cost_usd`` is
NaN (never 0), ``df.attrs["cost_basis"] == "none"`` and ``df.attrs["cost_unknown_why"]``
says why. With ``strict=True`` a missing cost assumption refuses the file instead.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from etl_desk.core.data import outcomes as oc
from etl_desk.core.data.importers.options import ImportOptions
from etl_desk.core.data.schema import to_canonical
from etl_desk.core.errors import DataError, LoadReport

NO_COST_WHY = ("the Jobs API runs/list has no DBUs or prices: give a $/hour of run time (--usd-per-hour) "
               "to estimate cost, or import the system.billing.usage export instead")


def is_runs_list(data: object) -> bool:
    """True when *data* looks like a runs/list response, a list of them, a list of runs
    (JSON Lines), or one run object."""
    if isinstance(data, dict):
        if "run_id" in data and "runs" not in data and ("start_time" in data or "state" in data
                                                       or "status" in data):
            return True
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
    if isinstance(data, dict) and "run_id" in data and "runs" not in data:
        data = [data]
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
        if isinstance(page, dict) and "run_id" in page and "runs" not in page:
            items = [page]  # a run object among pages (JSON Lines mixing both)
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
    """Parsed JSON documents ``[(data, file), ...]`` (pages) -> the canonical table.

    Runs repeated across pages count once; runs still going are left out (noted in *report*).
    Cost: run time x ``usd_per_hour`` when given, else NaN (unknown, never $0) with a warning.

    Raises:
        DataError: naming file, and run (as row) and field where there is one: not a runs/list
            response, no runs, every run still running, a run without run_id or start_time, a
            non-numeric time or attempt; with ``strict``, no cost basis; bad *options*.
    """
    options = (options or ImportOptions()).validate()
    report = report if report is not None else LoadReport()
    rows = []
    for data, file in docs:
        for n, r in enumerate(runs_of(data, file), start=1):
            row = _run_row(r, file, n)
            row["file"] = file
            rows.append(row)
    file0 = docs[0][1] if len(docs) == 1 else ", ".join(f for _, f in docs)
    report.rows_in = len(rows)
    if not rows:
        raise DataError("the runs/list response holds no runs", file=file0)
    df = pd.DataFrame(rows)
    # the same run in two pages: count it once
    dup = df.duplicated(subset=["run_id", "start_ms"], keep="first").to_numpy()
    if dup.any():
        report.add(f"{int(dup.sum()):,} run(s) repeated across pages counted once")
        _leave_out(report, df, dup, "repeated in another page (counted once)")
        df = df.loc[~dup].reset_index(drop=True)
    running = ((df["outcome"] == oc.STILL_RUNNING)
               | ((df["end_ms"].isna() | (df["end_ms"] <= 0)) & df["result_state"].isna())).to_numpy()
    if running.any():
        report.add(f"{int(running.sum()):,} run(s) still running (no end time, no result) left out")
        _leave_out(report, df, running, "still running (no result yet)")
        df = df.loc[~running].reset_index(drop=True)
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
        "duration_min": dur, "outcome": df["outcome"], "result_state": df["result_state"],
        "termination_code": df["termination_code"], "attempt": df["attempt"],
    })
    unknown_cost = False
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
        out["cost_usd"] = np.nan
        basis, unknown_cost = "none", True
        report.add(f"COST UNKNOWN: {NO_COST_WHY}.")
    rows_in = report.rows_in
    canon = to_canonical(out, file=file0, report=report, row_numbers=df["n"].to_numpy(),
                         row_files=df["file"].to_numpy(), unknown_cost=unknown_cost,
                         **options.canonical_kwargs())
    report.rows_in = rows_in
    canon.attrs["cost_basis"] = basis
    if unknown_cost:
        canon.attrs["cost_unknown_why"] = NO_COST_WHY
    canon.attrs["source_kind"] = "databricks_jobs_api"
    return canon


def _leave_out(report: LoadReport, df: pd.DataFrame, mask: np.ndarray, reason: str) -> None:
    sub = df.loc[mask, ["file", "n"]]
    for f, grp in sub.groupby("file", sort=False):
        report.leave_out(reason, len(grp), grp["n"].tolist(), file=f)


def _known(value, source: str):
    """(outcome or None, raw text or None) of one state field."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    return oc.outcome_of(value, source), str(value).strip()


def run_outcome(r: dict) -> str:
    """The outcome of one run object (see the module docstring): an ``outcomes.OUTCOMES``
    name, or the raw unknown value (to be warned about by name)."""
    life, life_raw = _known(_get(r, "state", "life_cycle_state"), "life_cycle_state")
    st22, st22_raw = _known(_get(r, "status", "state"), "status_state")
    if oc.STILL_RUNNING in (life, st22):
        return oc.STILL_RUNNING
    res, res_raw = _known(_get(r, "state", "result_state"), "result_state")
    code, code_raw = _known(_get(r, "status", "termination_details", "code"), "termination_code")
    typ, typ_raw = _known(_get(r, "status", "termination_details", "type"), "termination_type")
    if res_raw is not None and res is None:
        return res_raw  # an unknown result state: named in the warning
    if res is None and life in (oc.NEVER_RAN, oc.FAILED):  # SKIPPED, INTERNAL_ERROR are terminal states
        res = life
    if code_raw is not None and code is None and res is None:
        return code_raw
    found = oc.combine(res, code if code is not None else (typ if code_raw is None else None))
    if found is not None:
        return found
    return res_raw or code_raw or typ_raw or life_raw or st22_raw or "(no state)"


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
    state = _get(r, "state", "result_state") or _get(r, "status", "termination_details", "code")
    code = _get(r, "status", "termination_details", "code")
    att = vals["attempt_number"]
    if att is not None and (att < 0 or att != int(att)):
        raise DataError(f"attempt_number must be a whole number >= 0, found {att:g}", file=file, row=n,
                        column="attempt_number")
    return {
        "n": n, "run_id": str(rid).strip(), "job_id": _get(r, "job_id"),
        "run_name": _get(r, "run_name") if isinstance(_get(r, "run_name"), str) else None,
        "start_ms": vals["start_ms"], "end_ms": vals["end_ms"], "duration_ms": dur,
        "outcome": run_outcome(r),
        "result_state": str(state) if state is not None else None,
        "termination_code": str(code) if code is not None else None,
        "attempt": int(att) + 1 if att is not None else 1,
    }
