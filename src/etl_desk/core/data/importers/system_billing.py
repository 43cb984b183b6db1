"""``system.billing.usage`` priced with ``system.billing.list_prices`` (or a user $/DBU),
attributed to run attempts, and reconciled.

Price of a usage row (https://docs.databricks.com/aws/en/admin/system-tables/pricing):
``pricing.effective_list.default`` when the row has one ("the effective list price
used for calculating the cost"), else ``pricing.default``; of the list-price row with
the same ``sku_name`` (and ``cloud``, ``usage_unit`` when both tables have them;
``currency_code = 'USD'``) whose window ``[price_start_time, price_end_time)`` (open
end when NULL) holds the usage row's ``usage_start_time``, the join of Databricks'
cost queries (https://docs.databricks.com/aws/en/admin/system-tables/jobs-cost).
A user $/DBU (``--usd-per-dbu``) replaces both for every SKU; a contract discount is
taken off either. A usage row with no price has an unknown cost (NaN), never 0.

Attribution: usage rows of ``billing_origin_product = 'JOBS'`` are joined to runs on
``(workspace_id, usage_metadata.job_run_id)``
(https://docs.databricks.com/aws/en/admin/system-tables/billing); within a repaired
run each row goes to the attempt its ``[usage_start_time, usage_end_time)`` overlaps
(split by overlap when it overlaps several; the nearest attempt when none).
``usage_quantity`` is summed *including* negative RETRACTION rows.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from etl_desk.core.data.importers.databricks_attribution import usage_tags
from etl_desk.core.data.importers.files import RawTable
from etl_desk.core.data.importers.options import ImportOptions
from etl_desk.core.data.importers.system_common import _concat, _ids, _numbers, _require, _times_located
from etl_desk.core.errors import DataError, LoadReport

#: provenance names of the cost bases of billed usage
BASIS_EFFECTIVE = "billed usage x effective list price"
BASIS_LIST = "billed usage x list price"
BASIS_DBU = "billed usage x user $/DBU"


def read_usage(tables: dict[str, list[RawTable]], options: ImportOptions, report: LoadReport) -> pd.DataFrame:
    """Every usage row: ws, run (job_run_id or NA), jobs (bool), start, end, dbus, price, cost, sku,
    record_type, file, row, tags, which (price column used). ``df.attrs``: basis, price_table.

    Raises:
        DataError: naming file, row and column: a required column missing (``usage_quantity``,
            ``sku_name``, a job-run id), a quantity empty or not finite, an unreadable time or
            number, a list prices export without ``pricing.default``; with ``strict``, a usage row
            without a list price or no list prices and no $/DBU at all.
    """
    ut = tables["usage"]
    u, fidx, rows = _concat(ut)
    _require(u, ("usage_quantity", "sku_name"), "usage", ut)
    if "usage_metadata.job_run_id" not in u.columns and "job_run_id" in u.columns:
        u["usage_metadata.job_run_id"] = u["job_run_id"]  # SQL alias of usage_metadata.job_run_id
    if "usage_metadata.job_run_id" not in u.columns:
        raise DataError("the billing usage export has no usage_metadata.job_run_id (flattened column, "
                        "usage_metadata_job_run_id, a job_run_id alias, or a usage_metadata struct/JSON column)",
                        file=ut[0].file, column="usage_metadata")
    files = np.array([t.file for t in ut], dtype=object)[fidx]
    qty = _numbers(u["usage_quantity"], ut[0].file, "usage_quantity", rows)
    bad = ~np.isfinite(qty.to_numpy())
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError("usage_quantity is empty or not finite", file=files[i], row=int(rows[i]),
                        column="usage_quantity")
    if "billing_origin_product" in u.columns:
        jobs = (u["billing_origin_product"].astype("string").str.strip().str.upper() == "JOBS").fillna(False)
    else:
        jobs = pd.Series(True, index=u.index)
        report.add("billing usage has no billing_origin_product column: every row with a job_run_id counted")
    out = pd.DataFrame({
        "ws": _ids(u["workspace_id"]).fillna("") if "workspace_id" in u.columns else "",
        "run": _ids(u["usage_metadata.job_run_id"]), "jobs": jobs.to_numpy(dtype=bool),
        "origin": u["billing_origin_product"].astype("string") if "billing_origin_product" in u.columns
        else pd.Series("JOBS", index=u.index, dtype="string"),
        "start": _times_located(u["usage_start_time"], "usage_start_time", ut, fidx, rows)
        if "usage_start_time" in u.columns else pd.NaT,
        "end": _times_located(u["usage_end_time"], "usage_end_time", ut, fidx, rows)
        if "usage_end_time" in u.columns else pd.NaT,
        "dbus": qty.to_numpy(), "sku": u["sku_name"].astype("string"),
        "record_type": u["record_type"].astype("string") if "record_type" in u.columns else pd.NA,
        "file": files, "row": rows,
        "tags": usage_tags(u),  # custom_tags as canonical tag text (databricks_attribution)
    })
    disc = 1.0 - float(options.contract_discount)
    out["which"] = pd.Series(pd.NA, index=out.index, dtype="string")
    price_table: list[dict] = []
    if options.usd_per_dbu is not None:
        out["price"] = float(options.usd_per_dbu) * disc
        out["which"] = "user $/DBU"
        basis = BASIS_DBU
        report.add(f"DBUs priced at ${options.usd_per_dbu:g}/DBU"
                   + (f" less {options.contract_discount:.0%} contract discount" if options.contract_discount else "")
                   + " (overrides list prices)")
    elif "list_prices" in tables:
        price, which, price_table = _list_price(u, out, tables["list_prices"], ut, fidx, rows)
        out["price"] = price * disc
        out["which"] = which
        used = set(which.dropna())
        basis = BASIS_EFFECTIVE if used == {"pricing.effective_list.default"} else \
            BASIS_LIST if used == {"pricing.default"} else \
            "billed usage x list prices (effective list price where present, else default)"
        if options.contract_discount:
            report.add(f"list prices less {options.contract_discount:.0%} contract discount")
        unpriced = out["price"].isna() & out["run"].notna() & out["jobs"]
        if unpriced.any():
            i = int(np.flatnonzero(unpriced.to_numpy())[0])
            msg = (f"{int(unpriced.sum()):,} billing usage row(s) ({float(out['dbus'][unpriced].sum()):,.3f} DBUs) "
                   f"have no list price for their SKU and time")
            if options.strict:
                raise DataError(msg, file=files[i], row=int(rows[i]), column="sku_name")
            report.add(msg + f": the cost of their runs is unknown (first: {files[i]}, row {int(rows[i])}, "
                             f"SKU {out['sku'].iloc[i]!r}); give --usd-per-dbu to price them")
    else:
        out["price"] = np.nan
        basis = "none"
        if options.strict:
            raise DataError("billing usage has DBUs but there are no list prices and no $/DBU: give "
                            "system.billing.list_prices or --usd-per-dbu", file=ut[0].file)
        report.add("COST UNKNOWN: billing usage has DBUs but no list prices export and no $/DBU were given; "
                   "add system.billing.list_prices or give --usd-per-dbu.")
    out["cost"] = out["dbus"] * out["price"]
    retractions = int(((out["dbus"] < 0) & out["jobs"]).sum())
    if retractions:
        report.add(f"{retractions:,} negative (retraction) billing usage row(s) netted into their runs")
    out.attrs["basis"] = basis
    out.attrs["price_table"] = price_table
    return out


def _list_price(u: pd.DataFrame, usage: pd.DataFrame, lt: list[RawTable], ut, ufidx, urows):
    """(price, which column, price table used) per usage row (see the module docstring)."""
    lp, lfidx, lrows = _concat(lt)
    _require(lp, ("sku_name", "price_start_time"), "list_prices", lt)
    if "pricing.default" not in lp.columns and "pricing.effective_list.default" not in lp.columns:
        raise DataError("the list prices export has no pricing.default (flattened column, pricing_default, "
                        "or a pricing struct/JSON column)", file=lt[0].file, column="pricing")
    if "usage_start_time" not in u.columns:
        raise DataError("the billing usage export has no usage_start_time to pick the price window",
                        file=ut[0].file, column="usage_start_time")
    if "currency_code" in lp.columns:
        usd = lp["currency_code"].astype("string").str.strip().str.upper().eq("USD").fillna(False).to_numpy(bool)
        lp, lrows, lfidx = lp.loc[usd].reset_index(drop=True), lrows[usd], lfidx[usd]
    keys = ["sku_name"] + [k for k in ("cloud", "usage_unit") if k in lp.columns and k in u.columns]
    p = pd.DataFrame({k: lp[k].astype("string").str.strip().str.upper() for k in keys})
    p["ps"] = _times_located(lp["price_start_time"], "price_start_time", lt, lfidx, lrows)
    p["pe"] = (_times_located(lp["price_end_time"], "price_end_time", lt, lfidx, lrows)
               if "price_end_time" in lp.columns else pd.NaT)
    nan = pd.Series(np.nan, index=lp.index)
    default = _numbers(lp["pricing.default"], lt[0].file, "pricing.default", lrows) \
        if "pricing.default" in lp.columns else nan
    eff = _numbers(lp["pricing.effective_list.default"], lt[0].file, "pricing.effective_list.default", lrows) \
        if "pricing.effective_list.default" in lp.columns else nan
    p["price"] = eff.where(eff.notna(), default).to_numpy()
    p["which"] = np.where(eff.notna(), "pricing.effective_list.default", "pricing.default")
    p["default"] = default.to_numpy()
    q = pd.DataFrame({k: u[k].astype("string").str.strip().str.upper() for k in keys})
    q["t"] = usage["start"].to_numpy()
    q["i"] = np.arange(len(q))
    m = q.merge(p, on=keys, how="inner")
    inside = (m["t"] >= m["ps"]) & (m["pe"].isna() | (m["t"] < m["pe"]))
    m = m.loc[inside.to_numpy()].sort_values(["i", "ps"]).drop_duplicates("i", keep="last")
    price = pd.Series(np.nan, index=u.index, dtype="float64")
    which = pd.Series(pd.NA, index=u.index, dtype="string")
    price.iloc[m["i"].to_numpy()] = m["price"].to_numpy()
    which.iloc[m["i"].to_numpy()] = m["which"].to_numpy()
    used = m.drop_duplicates(keys + ["ps"])
    table = [{"sku_name": r.sku_name, "price_start_time": _iso(r.ps), "price_end_time": _iso(r.pe),
              "usd_per_dbu": float(r.price), "price_column": r.which,
              "pricing_default": None if pd.isna(r.default) else float(r.default)}
             for r in used.sort_values(["sku_name", "ps"]).itertuples(index=False)]
    return price, which, table


def _iso(t) -> str | None:
    return None if pd.isna(t) else pd.Timestamp(t).isoformat(sep=" ")


def attribute(usage: pd.DataFrame, att: pd.DataFrame) -> pd.DataFrame:
    """Usage of JOBS rows per attempt: frame[idx (attempt row), dbus, cost, n_rows] plus a column
    per usage row of where it went (``usage["attempt_idx"]``: attempt index or -1)."""
    u = usage.loc[usage["jobs"] & usage["run"].notna()].copy()
    u["uidx"] = u.index
    a = pd.DataFrame({"ws": att["ws"], "run": att["run"], "s": att["start"], "e": att["end"],
                      "aidx": np.arange(len(att))})
    use_ws = bool((a["ws"] != "").any() and (u["ws"] != "").any())
    on = ["ws", "run"] if use_ws else ["run"]
    m = u.merge(a.drop(columns=[] if use_ws else ["ws"]), on=on, how="inner")
    if m.empty:
        usage["attempt_idx"] = -1
        return pd.DataFrame({"aidx": [], "dbus": [], "cost": [], "n_rows": []})
    us, ue = m["start"], m["end"].where(m["end"].notna(), m["start"])
    ov = ((np.minimum(ue, m["e"]) - np.maximum(us, m["s"])).dt.total_seconds()).clip(lower=0).fillna(0)
    gap = np.maximum((m["s"] - ue).dt.total_seconds(), (us - m["e"]).dt.total_seconds()).fillna(0).clip(lower=0)
    m["ov"], m["gap"] = ov.to_numpy(), gap.to_numpy()
    tot = m.groupby("uidx")["ov"].transform("sum")
    n_att = m.groupby("uidx")["aidx"].transform("size")
    nearest = m["gap"] == m.groupby("uidx")["gap"].transform("min")
    first_near = nearest & ~m.loc[nearest].duplicated("uidx").reindex(m.index, fill_value=True)
    share = np.where(n_att == 1, 1.0, np.where(tot > 0, m["ov"] / tot.where(tot > 0, 1), first_near.astype(float)))
    m["share"] = share
    m = m.loc[m["share"] > 0]
    m["dbus_a"] = m["dbus"] * m["share"]
    m["cost_a"] = m["cost"] * m["share"]
    usage["attempt_idx"] = -1
    usage.loc[m["uidx"].to_numpy(), "attempt_idx"] = m["aidx"].to_numpy()
    g = m.groupby("aidx")
    out = pd.DataFrame({"dbus": g["dbus_a"].sum(), "cost": g["cost_a"].sum(),
                        "unpriced": g["cost_a"].apply(lambda s: bool(s.isna().any())), "n_rows": g.size()})
    out.loc[out["unpriced"], "cost"] = np.nan  # one unpriced row makes the attempt's cost unknown
    return out.reset_index()


def _sums(u: pd.DataFrame, weight=None) -> dict:
    w = 1.0 if weight is None else weight
    cost = u["cost"] * w
    return {"rows": int(len(u)), "dbus": round(float((u["dbus"] * w).sum()), 9),
            "usd": None if cost.isna().any() else round(float(cost.sum()), 9)}


def _examples(u: pd.DataFrame) -> list[dict]:
    return [{"file": str(f), "row": int(r)} for f, r in zip(u["file"].head(5), u["row"].head(5))]


def reconcile(usage: pd.DataFrame, att: pd.DataFrame, kept: np.ndarray, clipped_usd: float) -> dict:
    """Billed job spend versus what was attributed to the runs kept (provenance schema:
    :mod:`etl_desk.core.data.provenance`). *kept*: bool per attempt row of *att*."""
    jobs = usage.loc[usage["jobs"]]
    other = usage.loc[~usage["jobs"]]
    aidx = jobs["attempt_idx"].to_numpy()
    to_kept = (aidx >= 0) & np.where(aidx >= 0, kept[np.clip(aidx, 0, None)] if len(kept) else False, False)
    reasons = []

    def reason(text: str, mask: np.ndarray) -> None:
        sub = jobs.loc[mask]
        if len(sub):
            reasons.append({"reason": text, **_sums(sub), "examples": _examples(sub),
                            "rows_by_file": {str(k): int(v) for k, v in sub.groupby("file").size().items()}})

    reason("job usage with no job_run_id (not attributable to a run)", jobs["run"].isna().to_numpy())
    reason("usage for runs not in the timeline", (jobs["run"].notna() & (aidx < 0)).to_numpy())
    reason("usage of runs left out (still running, skipped/cancelled policy or unknown state)",
           (aidx >= 0) & ~to_kept)
    attributed = _sums(jobs.loc[to_kept])
    if clipped_usd:
        reasons.append({"reason": "negative net cost of runs after retractions, clipped to $0", "rows": 0,
                        "dbus": None, "usd": round(-float(clipped_usd), 9), "examples": []})
        if attributed["usd"] is not None:
            attributed["usd"] = round(attributed["usd"] + float(clipped_usd), 9)
    ret = jobs.loc[(jobs["dbus"] < 0).to_numpy()]
    total = _sums(jobs)
    diff_usd = None if total["usd"] is None or attributed["usd"] is None else round(total["usd"] - attributed["usd"], 9)
    ran = set(jobs["attempt_idx"][jobs["attempt_idx"] >= 0])
    no_usage = [str(k) for i, k in enumerate(att["run_key"]) if kept[i] and i not in ran]
    t0, t1 = usage["start"].min(), usage["end"].max()
    return {
        "period": {"start": _iso(t0), "end": _iso(t1)},
        "job_usage": total,
        "other_products": {**_sums(other), "products": sorted(set(other["origin"].dropna().astype(str))),
                           "rows_by_file": {str(k): int(v) for k, v in other.groupby("file").size().items()},
                           "examples": _examples(other)},
        "attributed_to_runs": attributed,
        "unattributed_job_spend": {"dbus": round(total["dbus"] - attributed["dbus"], 9), "usd": diff_usd,
                                   "reasons": reasons},
        "retractions": {**_sums(ret), "note": "negative usage rows (RETRACTION) netted into their runs"},
        "runs_without_usage": {"count": len(no_usage), "examples": no_usage[:5],
                               "note": "no billing usage rows: cost $0 as billed"},
    }
