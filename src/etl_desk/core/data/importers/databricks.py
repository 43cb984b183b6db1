"""Databricks system-table exports -> the canonical table.

Tables (CSV or Parquet, one or more files each, chosen together or as a folder):

* ``system.lakeflow.job_run_timeline`` — one row per run *per hour*: slices are
  merged into one run (start = first slice start, end = last slice end);
  ``result_state`` / ``termination_code`` come from the last slice; the run
  duration is ``run_duration_seconds`` when the export has it, else end - start.
  Runs with no ``result_state`` yet (still running) are left out with a warning.
* ``system.lakeflow.jobs`` — slowly changing: the latest row per
  ``(workspace_id, job_id)`` (by ``change_time``) names the pipeline.
* ``system.billing.usage`` — rows with ``billing_origin_product = 'JOBS'``, joined on
  ``usage_metadata.job_run_id`` (flattened column, ``usage_metadata_job_run_id``,
  a Parquet struct or a JSON text column). ``usage_quantity`` is summed *including*
  negative RETRACTION rows.
* ``system.billing.list_prices`` — the price of each usage row is ``pricing.default``
  of the row with the same ``sku_name`` (and ``cloud``, ``usage_unit`` when both
  tables have them; ``currency_code = 'USD'``) whose validity window
  ``[price_start_time, price_end_time)`` (open end when NULL) holds the usage
  row's ``usage_start_time``. This is the join of Databricks' documented cost SQL
  (``usage_quantity * pricing.default`` summed per ``job_run_id``).

A $/DBU the user enters replaces list prices; a contract discount is taken off
either. Workspace, SKU and tags (``custom_tags`` of usage over the job's ``tags``) fill
the attribution columns (:mod:`.databricks_attribution`). Data volume is not in these tables: ``data_processed_gb`` stays empty.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from etl_desk.core.data.importers.databricks_attribution import merge_tag_texts, usage_attribution
from etl_desk.core.data.importers.files import RawTable
from etl_desk.core.data.importers.options import ImportOptions
from etl_desk.core.data.schema import to_canonical
from etl_desk.core.data.tags import normalize_tags
from etl_desk.core.errors import DataError, LoadReport

TABLES = ("job_run_timeline", "jobs", "usage", "list_prices")
TABLE_TITLES = {
    "job_run_timeline": "system.lakeflow.job_run_timeline",
    "jobs": "system.lakeflow.jobs",
    "usage": "system.billing.usage",
    "list_prices": "system.billing.list_prices",
    "job_task_run_timeline": "system.lakeflow.job_task_run_timeline",
}
_STRUCTS = ("usage_metadata", "pricing", "identity_metadata")


def norm_col(c: object) -> str:
    s = str(c).strip().lower()
    for st in _STRUCTS:
        if s.startswith(st + "_") and not s.startswith(st + "__"):
            return st + "." + s[len(st) + 1:]
    return s


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
                frame[name] = dicts.map(lambda d, k=k: d.get(k))
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


def load_system_tables(tables: dict[str, list[RawTable]], *, options: ImportOptions | None = None,
                       report: LoadReport | None = None) -> pd.DataFrame:
    """Merge exported system tables into the canonical table (see the module docstring)."""
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
    tl, tl_fidx, tl_rows = _concat(tl_tables)
    _require(tl, ("run_id", "period_start_time", "period_end_time"), "job_run_timeline", tl_tables)

    def where(i: int) -> tuple[str, int]:
        return tl_tables[int(tl_fidx[i])].file, int(tl_rows[i])

    n = len(tl)
    start = _times_located(tl["period_start_time"], "period_start_time", tl_tables, tl_fidx, tl_rows)
    end = _times_located(tl["period_end_time"], "period_end_time", tl_tables, tl_fidx, tl_rows)
    rid = _ids(tl["run_id"])
    if rid.isna().any():
        f, r = where(int(np.flatnonzero(rid.isna().to_numpy())[0]))
        raise DataError("empty run_id", file=f, row=r, column="run_id")
    ws = _ids(tl["workspace_id"]) if "workspace_id" in tl.columns else pd.Series("", index=tl.index, dtype="string")
    ws = ws.fillna("")
    bad_slice = (end < start).to_numpy()
    if bad_slice.any():
        f, r = where(int(np.flatnonzero(bad_slice)[0]))
        if options.strict:
            raise DataError("period_end_time is before period_start_time", file=f, row=r,
                            column="period_end_time")
        report.add(f"{int(bad_slice.sum()):,} timeline row(s) dropped: period_end_time before "
                   f"period_start_time (first: {f}, row {r})")
    work = pd.DataFrame({
        "ws": ws, "run": rid, "start": start, "end": end,
        "job_id": _ids(tl["job_id"]) if "job_id" in tl.columns else pd.Series(pd.NA, index=tl.index, dtype="string"),
        "run_name": tl["run_name"].astype("string") if "run_name" in tl.columns else pd.NA,
        "result_state": tl["result_state"].astype("string").str.strip().replace("", pd.NA)
        if "result_state" in tl.columns else pd.NA,
        "termination_code": tl["termination_code"].astype("string").str.strip().replace("", pd.NA)
        if "termination_code" in tl.columns else pd.NA,
        "run_seconds": _numbers(tl["run_duration_seconds"], file0, "run_duration_seconds", tl_rows)
        if "run_duration_seconds" in tl.columns else np.nan,
    })
    work = work.loc[~bad_slice]
    dup = work.duplicated(subset=["ws", "run", "start", "end"], keep="first")
    if dup.any():
        report.add(f"{int(dup.sum()):,} repeated timeline slice(s) (same run and period) counted once")
        work = work.loc[~dup.to_numpy()]
    work = work.sort_values(["ws", "run", "start", "end"], kind="stable")
    g = work.groupby(["ws", "run"], sort=False, dropna=False)
    runs = pd.DataFrame({
        "start": g["start"].min(), "end": g["end"].max(), "slices": g.size(),
        "job_id": g["job_id"].first(), "run_name": g["run_name"].last(),
        "result_state": g["result_state"].last(), "termination_code": g["termination_code"].last(),
        "run_seconds": g["run_seconds"].last(),
    }).reset_index()
    n_runs = len(runs)
    merged = int((runs["slices"] > 1).sum())
    if merged:
        report.add(f"{merged:,} run(s) spanning several hourly timeline rows merged into one run each")
    running = runs["result_state"].isna()
    if running.any():
        report.add(f"{int(running.sum()):,} run(s) with no result_state yet (still running) left out")
        runs = runs.loc[~running.to_numpy()].reset_index(drop=True)
    dur = runs["run_seconds"] / 60.0
    dur = dur.where(dur.notna() & (dur >= 0), (runs["end"] - runs["start"]).dt.total_seconds() / 60.0)

    # --- names (and job tags) from system.lakeflow.jobs ------------------------------
    job_tags = pd.Series(pd.NA, index=runs.index, dtype="object")
    names = runs["run_name"].astype("string").str.strip().replace("", pd.NA)
    if "jobs" in tables:
        jobs, jfidx, jrows = _concat(tables["jobs"])
        _require(jobs, ("job_id", "name"), "jobs", tables["jobs"])
        jws = _ids(jobs["workspace_id"]).fillna("") if "workspace_id" in jobs.columns else pd.Series("", index=jobs.index, dtype="string")
        jd = pd.DataFrame({"ws": jws, "job_id": _ids(jobs["job_id"]),
                           "name": jobs["name"].astype("string").str.strip().replace("", pd.NA),
                           "tags": normalize_tags(jobs["tags"])[0] if "tags" in jobs.columns else pd.NA})
        if "change_time" in jobs.columns:
            jd["t"] = _times_located(jobs["change_time"], "change_time", tables["jobs"], jfidx, jrows)
            jd = jd.sort_values("t", kind="stable")
        latest = jd.dropna(subset=["name"]).drop_duplicates(["ws", "job_id"], keep="last")
        if "workspace_id" not in tl.columns or "workspace_id" not in jobs.columns:
            latest = latest.drop_duplicates(["job_id"], keep="last")
            look = dict(zip(latest["job_id"], latest["name"]))
            jn = runs["job_id"].map(look)
            job_tags = runs["job_id"].map(dict(zip(latest["job_id"], latest["tags"])))
        else:
            look = dict(zip(zip(latest["ws"], latest["job_id"]), latest["name"]))
            jn = pd.Series([look.get((w, j)) for w, j in zip(runs["ws"], runs["job_id"])], index=runs.index)
            tag_of = dict(zip(zip(latest["ws"], latest["job_id"]), latest["tags"]))
            job_tags = pd.Series([tag_of.get((w, j)) for w, j in zip(runs["ws"], runs["job_id"])], index=runs.index)
        jn = jn.astype("string")
        nohit = jn.isna() & runs["job_id"].notna()
        if nohit.any():
            report.add(f"{int(nohit.sum()):,} run(s) of job(s) missing from the jobs export: named by run name or job ID")
        names = jn.where(jn.notna(), names)
    job_label = ("job " + runs["job_id"].astype("string"))
    names = names.where(names.notna(), job_label)

    # --- cost from billing usage -------------------------------------------------------
    cost = pd.Series(np.nan, index=runs.index, dtype="float64")
    basis = "none"
    no_usage: set = set()
    usage_sku = usage_tags = pd.Series(pd.NA, index=runs.index, dtype="object")
    if "usage" in tables:
        per_run, basis, attribution = _usage_cost(tables, options, report)
        if "ws" in per_run.columns and (runs["ws"] != "").any() and (per_run["ws"] != "").any():
            key_runs = list(zip(runs["ws"], runs["run"]))
            look = dict(zip(zip(per_run["ws"], per_run["run"]), per_run["cost"]))
            akey = list(zip(attribution["ws"], attribution["run"]))
        else:
            key_runs = list(runs["run"])
            look = per_run.groupby("run")["cost"].sum().to_dict()
            akey = list(attribution["run"])
        sku_of, tags_of = dict(zip(akey, attribution["sku_name"])), dict(zip(akey, attribution["tags"]))
        usage_sku = pd.Series([sku_of.get(k) for k in key_runs], index=runs.index, dtype="object")
        usage_tags = pd.Series([tags_of.get(k) for k in key_runs], index=runs.index, dtype="object")
        cost = pd.Series([look.get(k, np.nan) for k in key_runs], index=runs.index, dtype="float64")
        orphans = set(look) - set(key_runs)
        if orphans:
            lost = float(sum(look[k] for k in orphans))
            report.add(f"billing usage of {len(orphans):,} job run(s) not in the timeline export ignored "
                       f"(${lost:,.2f})")
        no_usage = set(runs["run"][cost.isna().to_numpy()])
        cost = cost.fillna(0.0)
        neg = cost < 0
        if neg.any():
            report.add(f"{int(neg.sum()):,} run(s) with a negative net cost after retractions clipped to 0")
            cost = cost.clip(lower=0.0)
    else:
        why = "no system.billing.usage export was given with the run timeline"
        if options.usd_per_hour is not None:
            cost = dur / 60.0 * float(options.usd_per_hour)
            basis = "usd_per_hour"
            report.add(f"COST ESTIMATED: {why}; cost = run time x ${options.usd_per_hour:g}/hour")
        elif options.strict:
            raise DataError(f"no cost: {why}; add billing usage or give --usd-per-hour", file=file0)
        else:
            cost = pd.Series(0.0, index=runs.index)
            report.add(f"NO COST DATA: {why}. Every run's cost is set to $0 — add the billing usage "
                       f"(and list prices) export, or give a $/hour of run time (--usd-per-hour).")

    # --- run IDs: unique per workspace; prefix the workspace only when needed --------
    run_key = runs["run"].astype("string")
    if runs["ws"].nunique() > 1 and run_key.duplicated().any():
        run_key = runs["ws"].astype("string") + "/" + run_key
    out = pd.DataFrame({
        "run_id": run_key, "job_name": names, "start_time": runs["start"], "end_time": runs["end"],
        "duration_min": dur, "result_state": runs["result_state"],
        "termination_code": runs["termination_code"], "cost_usd": cost,
        # who pays: workspace, SKU, tags (usage custom_tags over the job's tags)
        "workspace_id": runs["ws"].replace("", pd.NA), "sku_name": usage_sku,
        "tags": [merge_tag_texts([j, u]) for j, u in zip(job_tags, usage_tags)],
    })
    canon = to_canonical(out, file=file0, report=report, **options.canonical_kwargs())
    report.rows_in = n_runs
    if no_usage:
        n = int(canon["run_id"].isin(no_usage).sum())
        if n:
            report.add(f"{n:,} run(s) have no billing usage rows: cost 0")
    canon.attrs["cost_basis"] = basis
    canon.attrs["source_kind"] = "databricks_system_tables"
    return canon


def _times_located(s, column, tables, fidx, rows):
    try:
        return _times(s, None, column)
    except DataError as exc:
        # _times numbers rows by position; name the file and row the value came from
        i = (exc.row or 1) - 1
        raise DataError(exc.problem, file=tables[int(fidx[i])].file, row=int(rows[i]), column=column) from None


def _usage_cost(tables: dict[str, list[RawTable]], options: ImportOptions,
                report: LoadReport) -> tuple[pd.DataFrame, str, pd.DataFrame]:
    """Per (workspace, job_run_id): summed priced usage. Returns (frame[ws, run, dbus, cost], basis,
    frame[ws, run, sku_name, tags]: see :mod:`.databricks_attribution`)."""
    ut = tables["usage"]
    u, ufidx, urows = _concat(ut)
    _require(u, ("usage_quantity", "sku_name"), "usage", ut)
    if "usage_metadata.job_run_id" not in u.columns:
        raise DataError("the billing usage export has no usage_metadata.job_run_id (flattened column, "
                        "usage_metadata_job_run_id, or a usage_metadata struct/JSON column)",
                        file=ut[0].file, column="usage_metadata")
    if "billing_origin_product" in u.columns:
        keep = u["billing_origin_product"].astype("string").str.strip().str.upper() == "JOBS"
        keep = keep.fillna(False).to_numpy(dtype=bool)
        skipped = int((~keep).sum())
        if skipped:
            report.add(f"{skipped:,} billing usage row(s) not from JOBS ignored")
    else:
        keep = np.ones(len(u), dtype=bool)
        report.add("billing usage has no billing_origin_product column: every row with a job_run_id counted")
    u = u.loc[keep].reset_index(drop=True)
    urows = urows[keep]
    ufidx = ufidx[keep]
    file0 = ut[0].file
    qty = _numbers(u["usage_quantity"], file0, "usage_quantity", urows)
    bad = ~np.isfinite(qty.to_numpy())
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError("usage_quantity is empty or not finite", file=ut[int(ufidx[i])].file, row=int(urows[i]),
                        column="usage_quantity")
    run = _ids(u["usage_metadata.job_run_id"])
    ws = _ids(u["workspace_id"]).fillna("") if "workspace_id" in u.columns else pd.Series("", index=u.index, dtype="string")
    price = pd.Series(np.nan, index=u.index, dtype="float64")
    disc = 1.0 - float(options.contract_discount)
    if options.usd_per_dbu is not None:
        price[:] = float(options.usd_per_dbu) * disc
        basis = "usd_per_dbu"
        report.add(f"DBUs priced at ${options.usd_per_dbu:g}/DBU"
                   + (f" less {options.contract_discount:.0%} contract discount" if options.contract_discount else ""))
    elif "list_prices" in tables:
        price = _list_price(u, tables["list_prices"], ut, ufidx, urows) * disc
        basis = "list_prices"
        if options.contract_discount:
            report.add(f"list prices less {options.contract_discount:.0%} contract discount")
        unpriced = price.isna() & run.notna()
        if unpriced.any():
            i = int(np.flatnonzero(unpriced.to_numpy())[0])
            msg = (f"{int(unpriced.sum()):,} billing usage row(s) ({float(qty[unpriced].sum()):,.3f} DBUs) have no "
                   f"list price for their SKU and time")
            if options.strict:
                raise DataError(msg, file=ut[int(ufidx[i])].file, row=int(urows[i]), column="sku_name")
            report.add(msg + f": priced at 0 (first: {ut[int(ufidx[i])].file}, row {int(urows[i])}, "
                             f"SKU {u['sku_name'].iloc[i]!r})")
            price = price.fillna(0.0)
    else:
        basis = "none"
        if options.strict:
            raise DataError("billing usage has DBUs but there are no list prices and no $/DBU: give "
                            "system.billing.list_prices or --usd-per-dbu", file=file0)
        report.add("NO COST DATA: billing usage has DBUs but no list prices export and no $/DBU were given. "
                   "Every run's cost is set to $0 — add system.billing.list_prices or give --usd-per-dbu.")
        price[:] = 0.0
    df = pd.DataFrame({"ws": ws, "run": run, "dbus": qty, "cost": qty * price})
    attribution = usage_attribution(u, ws, run, qty)
    df = df.dropna(subset=["run"])
    per = df.groupby(["ws", "run"], sort=False)[["dbus", "cost"]].sum().reset_index()
    retractions = int((qty < 0).sum())
    if retractions:
        report.add(f"{retractions:,} negative (retraction) billing usage row(s) netted into their runs")
    return per, basis, attribution


def _list_price(u: pd.DataFrame, lt: list[RawTable], ut, ufidx, urows) -> pd.Series:
    """pricing.default per usage row, by SKU (+cloud, +unit) within [price_start_time, price_end_time)."""
    lp, lfidx, lrows = _concat(lt)
    _require(lp, ("sku_name", "price_start_time"), "list_prices", lt)
    if "pricing.default" not in lp.columns:
        raise DataError("the list prices export has no pricing.default (flattened column, pricing_default, "
                        "or a pricing struct/JSON column)", file=lt[0].file, column="pricing")
    if "usage_start_time" not in u.columns:
        raise DataError("the billing usage export has no usage_start_time to pick the price window",
                        file=ut[0].file, column="usage_start_time")
    if "currency_code" in lp.columns:
        usd = lp["currency_code"].astype("string").str.strip().str.upper().eq("USD").fillna(False).to_numpy(dtype=bool)
        lp, lrows, lfidx = lp.loc[usd].reset_index(drop=True), lrows[usd], lfidx[usd]
    keys = ["sku_name"] + [k for k in ("cloud", "usage_unit") if k in lp.columns and k in u.columns]
    p = pd.DataFrame({k: lp[k].astype("string").str.strip().str.upper() for k in keys})
    p["ps"] = _times_located(lp["price_start_time"], "price_start_time", lt, lfidx, lrows)
    p["pe"] = (_times_located(lp["price_end_time"], "price_end_time", lt, lfidx, lrows)
               if "price_end_time" in lp.columns else pd.NaT)
    p["price"] = _numbers(lp["pricing.default"], lt[0].file, "pricing.default", lrows)
    q = pd.DataFrame({k: u[k].astype("string").str.strip().str.upper() for k in keys})
    q["t"] = _times_located(u["usage_start_time"], "usage_start_time", ut, ufidx, urows)
    q["i"] = np.arange(len(q))
    m = q.merge(p, on=keys, how="inner")
    inside = (m["t"] >= m["ps"]) & (m["pe"].isna() | (m["t"] < m["pe"]))
    m = m.loc[inside.to_numpy()].sort_values(["i", "ps"]).drop_duplicates("i", keep="last")
    out = pd.Series(np.nan, index=u.index, dtype="float64")
    out.iloc[m["i"].to_numpy()] = m["price"].to_numpy()
    return out
