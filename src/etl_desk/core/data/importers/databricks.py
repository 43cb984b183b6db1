"""Databricks system-table exports -> the canonical table.

Tables (CSV or Parquet, one or more files each, chosen together or as a folder):

* ``system.lakeflow.job_run_timeline`` — one row per run *per hour*, ``result_state``
  on the row that ends a run: slices merge into one run, and a run with two or more
  result rows is a run and its repairs, one row per attempt
  (:mod:`.system_timeline`). Runs with no ``result_state`` yet are left out and counted.
* ``system.lakeflow.jobs`` — slowly changing: the latest row per
  ``(workspace_id, job_id)`` (by ``change_time``) names the pipeline.
* ``system.billing.usage`` — rows with ``billing_origin_product = 'JOBS'``, joined on
  ``usage_metadata.job_run_id`` (flattened column, ``usage_metadata_job_run_id``,
  a Parquet struct or a JSON text column). ``usage_quantity`` is summed *including*
  negative RETRACTION rows.
* ``system.billing.list_prices`` — ``pricing.effective_list.default`` where present,
  else ``pricing.default``, by SKU and validity window (:mod:`.system_billing`).

A $/DBU the user enters replaces list prices; a contract discount is taken off
either. Without billing usage (or without a price) cost is unknown: NaN, never 0,
unless a $/hour of run time is given. A run with usage rows but none of them
priced has an unknown cost; a run with no usage rows at all cost $0 as billed.
Data volume is not in these tables: ``data_processed_gb`` stays empty. Workspace,
SKU and tags (``custom_tags`` of usage over the job's ``tags``) fill the attribution
columns (:mod:`.databricks_attribution`).
``df.attrs["reconciliation"]`` compares billed job spend with what was attributed
to the runs kept (:func:`.system_billing.reconcile`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from etl_desk.core.data.importers.databricks_attribution import attempt_attribution, job_tags, merge_tag_texts
from etl_desk.core.data.importers.files import RawTable
from etl_desk.core.data.importers.options import ImportOptions
from etl_desk.core.data.importers.system_billing import BASIS_DBU, attribute, read_usage, reconcile
from etl_desk.core.data.importers.system_common import (  # noqa: F401 - re-exported for callers
    TABLE_TITLES,
    TABLES,
    _concat,
    _ids,
    _require,
    _times_located,
    classify,
    flatten_structs,
    norm_col,
)
from etl_desk.core.data.importers.system_timeline import timeline_attempts
from etl_desk.core.data.schema import to_canonical
from etl_desk.core.errors import DataError, LoadReport

__all__ = ["TABLES", "TABLE_TITLES", "classify", "flatten_structs", "load_system_tables", "norm_col"]

NO_USAGE_WHY = ("no system.billing.usage export was given with the run timeline: add billing usage (and list "
                "prices), or give a $/hour of run time (--usd-per-hour)")
NO_PRICE_WHY = ("billing usage has DBUs but no list prices and no $/DBU were given: add "
                "system.billing.list_prices or give --usd-per-dbu")


def load_system_tables(tables: dict[str, list[RawTable]], *, options: ImportOptions | None = None,
                       report: LoadReport | None = None) -> pd.DataFrame:
    """Merge exported system tables into the canonical table (see the module docstring).

    *tables*: table kind (``job_run_timeline``, ``jobs``, ``usage``, ``list_prices``,
    ``job_task_run_timeline``) -> the exports read as :class:`RawTable`; warnings and rows left out
    go to *report*. Cost in USD from billing usage x list price (or ``usd_per_dbu``, or run time
    x ``usd_per_hour``); NaN (unknown, never $0) where no price applies.

    Raises:
        DataError: naming file, row and column where there is one: no ``job_run_timeline`` export;
            a missing required column, an empty run_id, an unreadable time or number, an end before
            its start; with ``strict``, no billing usage / no price for a usage row; and bad
            *options* (:meth:`ImportOptions.validate`).
    """
    options = (options or ImportOptions()).validate()
    report = report if report is not None else LoadReport()
    if "job_task_run_timeline" in tables:
        names = ", ".join(t.file for t in tables.pop("job_task_run_timeline"))
        report.add(f"task-level timeline ignored ({names}): runs come from job_run_timeline")
    if "job_run_timeline" not in tables:
        have = ", ".join(TABLE_TITLES[k] for k in tables) or "nothing"
        first = next(iter(tables.values()))[0].file if tables else None
        raise DataError(f"found {have} but no system.lakeflow.job_run_timeline export: the runs, their "
                        "times and states come from that table", file=first)
    tl_tables = tables["job_run_timeline"]
    label = ", ".join(t.file for t in tl_tables)
    file0 = tl_tables[0].file if len(tl_tables) == 1 else label
    att = timeline_attempts(tl_tables, options, report)
    n_rows_in = sum(len(t.frame) for t in tl_tables)
    names, tags_of_job = _job_names(att, tables, report)

    # --- cost ---------------------------------------------------------------------
    dur = att["duration_min"]
    unknown_why = None
    usage = None
    clipped = 0.0
    if "usage" in tables:
        usage = read_usage(tables, options, report)
        basis_text = usage.attrs["basis"]
        per = attribute(usage, att)
        cost = pd.Series(0.0, index=att.index)  # no usage rows: $0 as billed
        dbus = pd.Series(0.0, index=att.index)
        if len(per):
            cost.iloc[per["aidx"].to_numpy(dtype=int)] = per["cost"].to_numpy()
            dbus.iloc[per["aidx"].to_numpy(dtype=int)] = per["dbus"].to_numpy()
        orphans = usage["jobs"] & usage["run"].notna() & (usage["attempt_idx"] < 0)
        if orphans.any():
            lost = usage.loc[orphans, "cost"]
            money = "unknown $" if lost.isna().any() else f"${float(lost.sum()):,.2f}"
            report.add(f"billing usage of {usage.loc[orphans, 'run'].nunique():,} job run(s) not in the timeline "
                       f"export not attributed ({money}; see the reconciliation)")
        if basis_text == "none":
            cost[:] = np.nan
            unknown_why = NO_PRICE_WHY
        neg = cost < 0
        if neg.any():
            clipped = float(-cost[neg].sum())
            report.add(f"{int(neg.sum()):,} run(s) with a negative net cost after retractions clipped to 0")
            cost = cost.where(~neg, 0.0)
        if cost.isna().any() and unknown_why is None:
            unknown_why = "some billing usage rows have no list price for their SKU and time"
        att["dbus"] = dbus
        basis = "usd_per_dbu" if basis_text == BASIS_DBU else "list_prices" if basis_text != "none" else "none"
    elif options.usd_per_hour is not None:
        cost = dur / 60.0 * float(options.usd_per_hour)
        basis, basis_text = "usd_per_hour", f"run time x ${options.usd_per_hour:g}/hour"
        report.add(f"COST ESTIMATED: no system.billing.usage export was given with the run timeline; "
                   f"cost = run time x ${options.usd_per_hour:g}/hour")
    elif options.strict:
        raise DataError("no cost: no system.billing.usage export was given with the run timeline; add "
                        "billing usage or give --usd-per-hour", file=file0)
    else:
        cost = pd.Series(np.nan, index=att.index)
        basis, basis_text, unknown_why = "none", "none", NO_USAGE_WHY
        report.add(f"COST UNKNOWN: {NO_USAGE_WHY}.")

    # who pays: workspace, the largest SKU, tags (usage custom_tags over the job's tags)
    sku, usage_tag = attempt_attribution(usage, len(att))
    out = pd.DataFrame({
        "run_id": att["run_key"], "job_name": names, "start_time": att["start"], "end_time": att["end"],
        "duration_min": dur, "result_state": att["result_state"],
        "termination_code": att["termination_code"], "cost_usd": cost, "attempt": att["attempt"],
        "workspace_id": att["ws"].replace("", pd.NA), "sku_name": sku.to_numpy(),
        "tags": [merge_tag_texts([j, u]) for j, u in zip(tags_of_job, usage_tag)],
    })
    canon = to_canonical(out, file=file0, report=report, row_numbers=att["row"].to_numpy(),
                         row_files=att["file"].to_numpy(), unknown_cost=True, **options.canonical_kwargs())
    report.rows_in = n_rows_in
    canon.attrs["cost_basis"] = basis
    canon.attrs["cost_basis_text"] = basis_text
    if unknown_why:
        canon.attrs["cost_unknown_why"] = unknown_why
    canon.attrs["source_kind"] = "databricks_system_tables"
    if usage is not None:
        kept = att["run_key"].isin(set(canon["run_id"])).to_numpy()
        canon.attrs["reconciliation"] = reconcile(usage, att, kept, clipped)
        canon.attrs["price_table"] = usage.attrs["price_table"]
        canon.attrs["usage_rows_by_file"] = usage.groupby("file", sort=False).size().to_dict()
        canon.attrs["usage_rows_attributed_by_file"] = usage.loc[usage["attempt_idx"] >= 0].groupby(
            "file", sort=False).size().to_dict()
    return canon


def _job_names(att: pd.DataFrame, tables: dict[str, list[RawTable]], report: LoadReport
               ) -> tuple[pd.Series, pd.Series]:
    """Pipeline names: the latest system.lakeflow.jobs row per job, else run_name, else 'job <id>';
    and the job's tags from that row (canonical tag text, NA without)."""
    names = att["run_name"].astype("string").str.strip().replace("", pd.NA)
    tags = pd.Series(pd.NA, index=att.index, dtype="object")
    if "jobs" in tables:
        jobs, jfidx, jrows = _concat(tables["jobs"])
        _require(jobs, ("job_id", "name"), "jobs", tables["jobs"])
        jws = _ids(jobs["workspace_id"]).fillna("") if "workspace_id" in jobs.columns else \
            pd.Series("", index=jobs.index, dtype="string")
        jd = pd.DataFrame({"ws": jws, "job_id": _ids(jobs["job_id"]),
                           "name": jobs["name"].astype("string").str.strip().replace("", pd.NA),
                           "tags": job_tags(jobs).to_numpy()})
        if "change_time" in jobs.columns:
            jd["t"] = _times_located(jobs["change_time"], "change_time", tables["jobs"], jfidx, jrows)
            jd = jd.sort_values("t", kind="stable")
        latest = jd.dropna(subset=["name"]).drop_duplicates(["ws", "job_id"], keep="last")
        if (att["ws"] == "").all() or "workspace_id" not in jobs.columns:
            latest = latest.drop_duplicates(["job_id"], keep="last")
            jn = att["job_id"].map(dict(zip(latest["job_id"], latest["name"])))
            tags = att["job_id"].map(dict(zip(latest["job_id"], latest["tags"]))).astype("object")
        else:
            look = dict(zip(zip(latest["ws"], latest["job_id"]), latest["name"]))
            jn = pd.Series([look.get((w, j)) for w, j in zip(att["ws"], att["job_id"])], index=att.index)
            tag_of = dict(zip(zip(latest["ws"], latest["job_id"]), latest["tags"]))
            tags = pd.Series([tag_of.get((w, j)) for w, j in zip(att["ws"], att["job_id"])], index=att.index,
                             dtype="object")
        jn = jn.astype("string")
        nohit = jn.isna() & att["job_id"].notna()
        if nohit.any():
            report.add(f"{int(nohit.sum()):,} run(s) of job(s) missing from the jobs export: named by run name "
                       f"or job ID")
        names = jn.where(jn.notna(), names)
    return names.where(names.notna(), "job " + att["job_id"].astype("string")), tags
