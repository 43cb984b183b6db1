"""``system.lakeflow.job_run_timeline`` -> one row per run *attempt*.

The timeline has one row per run per clock hour (a run crossing an hour boundary
is split into slices), and ``result_state`` is set only on the row that ends the
run (https://docs.databricks.com/aws/en/admin/system-tables/jobs). A run that was
*repaired* therefore has two or more rows with a ``result_state`` under one
``run_id``: the failed attempt and each repair (Databricks' own "most repaired
runs" query counts repairs as result rows per run minus 1,
https://docs.databricks.com/aws/en/admin/system-tables/jobs-cost).

Rules (per ``(workspace_id, run_id)``, slices in start order):

* a row with a ``result_state`` closes an attempt; the slices without one before it
  (and after the previous closing row) belong to it: attempt 1, 2, ... in start order;
* an attempt's start/end are its first slice's start and last slice's end, its
  duration end - start (``run_duration_seconds`` only for a run with one attempt);
* slices after the last closing row are an attempt still running: left out;
* attempt 1 keeps the run ID; attempt k > 1 is ``"<run_id> repair <k-1>"`` with
  ``attempt = k`` (repair spend is retry spend, like a Jobs API retry).

Output columns: ws, run, attempt, run_key, start, end, slices, job_id, run_name,
result_state, termination_code, run_seconds, file, row (the closing row's file/row).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from etl_desk.core.data.importers.files import RawTable
from etl_desk.core.data.importers.options import ImportOptions
from etl_desk.core.data.importers.system_common import _concat, _ids, _numbers, _require, _times_located
from etl_desk.core.errors import DataError, LoadReport


def _text(tl: pd.DataFrame, col: str) -> pd.Series:
    if col not in tl.columns:
        return pd.Series(pd.NA, index=tl.index, dtype="string")
    return tl[col].astype("string").str.strip().replace("", pd.NA)


def timeline_attempts(tl_tables: list[RawTable], options: ImportOptions, report: LoadReport) -> pd.DataFrame:
    """The attempts of the runs in the timeline files (see the module docstring).

    Raises DataError naming the file, row and column of a bad value.
    """
    tl, fidx, rows = _concat(tl_tables)
    _require(tl, ("run_id", "period_start_time", "period_end_time"), "job_run_timeline", tl_tables)
    files = np.array([t.file for t in tl_tables], dtype=object)[fidx]
    start = _times_located(tl["period_start_time"], "period_start_time", tl_tables, fidx, rows)
    end = _times_located(tl["period_end_time"], "period_end_time", tl_tables, fidx, rows)
    rid = _ids(tl["run_id"])
    if rid.isna().any():
        i = int(np.flatnonzero(rid.isna().to_numpy())[0])
        raise DataError("empty run_id", file=files[i], row=int(rows[i]), column="run_id")
    ws = _ids(tl["workspace_id"]).fillna("") if "workspace_id" in tl.columns else \
        pd.Series("", index=tl.index, dtype="string")
    work = pd.DataFrame({
        "ws": ws, "run": rid, "start": start, "end": end, "job_id": _ids(tl["job_id"]) if "job_id" in tl.columns
        else pd.Series(pd.NA, index=tl.index, dtype="string"),
        "run_name": _text(tl, "run_name"), "result_state": _text(tl, "result_state"),
        "termination_code": _text(tl, "termination_code"),
        "run_seconds": _numbers(tl["run_duration_seconds"], files[0], "run_duration_seconds", rows)
        if "run_duration_seconds" in tl.columns else np.nan,
        "file": files, "row": rows,
    })
    bad = (end < start).to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        if options.strict:
            raise DataError("period_end_time is before period_start_time", file=files[i], row=int(rows[i]),
                            column="period_end_time")
        report.add(f"{int(bad.sum()):,} timeline row(s) dropped: period_end_time before period_start_time "
                   f"(first: {files[i]}, row {int(rows[i])})")
        _leave_out(report, work, bad, "period_end_time before period_start_time")
        work = work.loc[~bad]
    dup = work.duplicated(subset=["ws", "run", "start", "end"], keep="first").to_numpy()
    if dup.any():
        report.add(f"{int(dup.sum()):,} repeated timeline slice(s) (same run and period) counted once")
        _leave_out(report, work, dup, "repeated timeline slice (same run and period, counted once)")
        work = work.loc[~dup]
    work = work.sort_values(["ws", "run", "start", "end"], kind="stable").reset_index(drop=True)
    closing = work["result_state"].notna()
    g = closing.groupby([work["ws"], work["run"]], sort=False)
    # attempt of each slice: closing rows before it in its run, + 1
    work["attempt"] = (g.cumsum() - closing.astype(int) + 1).astype("int64")
    n_closing = g.transform("sum")
    open_ = (work["attempt"] > n_closing).to_numpy()  # slices after the last closing row
    if open_.any():
        n_open = work.loc[open_, ["ws", "run"]].drop_duplicates().shape[0]
        report.add(f"{n_open:,} run(s) with no result_state yet (still running) left out")
        _leave_out(report, work, open_, "still running (no result_state yet)")
        work = work.loc[~open_]
    ga = work.groupby(["ws", "run", "attempt"], sort=False)
    att = pd.DataFrame({
        "start": ga["start"].min(), "end": ga["end"].max(), "slices": ga.size(),
        "job_id": ga["job_id"].first(), "run_name": ga["run_name"].last(),
        "result_state": ga["result_state"].last(), "termination_code": ga["termination_code"].last(),
        "run_seconds": ga["run_seconds"].last(), "file": ga["file"].last(), "row": ga["row"].last(),
    }).reset_index()
    n_att = att.groupby(["ws", "run"], sort=False)["attempt"].transform("max")
    merged = int(((att["slices"] > 1) & (n_att == 1)).sum())
    if merged:
        report.add(f"{merged:,} run(s) spanning several hourly timeline rows merged into one run each")
    repaired = att.loc[n_att > 1, ["ws", "run"]].drop_duplicates()
    if len(repaired):
        n_rep = int((att["attempt"] > 1).sum())
        report.add(f"{len(repaired):,} repaired run(s): {n_rep:,} repair attempt(s) read as their own rows "
                   f"(attempt 2, 3, ...; their spend is retry spend)")
        report.note(f"repairs: {len(repaired):,} run(s) with two or more result rows in job_run_timeline read "
                    f"as {n_rep:,} repair attempt(s)")
    single = (n_att == 1).to_numpy()
    secs = att["run_seconds"].where(single & att["run_seconds"].notna().to_numpy() & (att["run_seconds"] >= 0))
    att["duration_min"] = (secs / 60.0).where(secs.notna(), (att["end"] - att["start"]).dt.total_seconds() / 60.0)
    key = att["run"].astype("string")
    key = key.where(att["attempt"] == 1, key + " repair " + (att["attempt"] - 1).astype("string"))
    if att["ws"].nunique() > 1 and key.duplicated().any():
        key = att["ws"].astype("string") + "/" + key
    att["run_key"] = key
    return att.sort_values(["start", "ws", "run", "attempt"], kind="stable").reset_index(drop=True)


def _leave_out(report: LoadReport, work: pd.DataFrame, mask: np.ndarray, reason: str) -> None:
    sub = work.loc[mask, ["file", "row"]]
    for f, grp in sub.groupby("file", sort=False):
        report.leave_out(reason, len(grp), sorted(grp["row"].tolist()), file=str(f))
