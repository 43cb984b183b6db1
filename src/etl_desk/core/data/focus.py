"""The runs' costs as a FOCUS 1.2 cost-and-usage dataset (CSV or Parquet).

FOCUS is the FinOps Foundation's open cost and usage specification. Every run becomes
one ``Usage`` charge of the Databricks job it belongs to, over the run's own charge
period (start to end, UTC), in the calendar month's billing period. The 21 columns the
FOCUS 1.2 requirements model says MUST be present in every dataset
(:data:`MANDATORY_COLUMNS`: the CostAndUsage dataset's presence rules of feature level
Mandatory, ``CostAndUsage-D-0xx-M``, in the FOCUS_Spec repository's
``specification/requirements_model``) are always written, followed by the conditional
and recommended columns the runs can fill (resource, tags, consumption, pricing
category, charge frequency) and ETL Desk's own run columns, ``x_``-prefixed as FOCUS
requires for custom columns.

Costs: a run has one cost, the one the source gave (``cost_usd``); the run history does
not carry a list price or a negotiated rate, so ``ListCost``, ``ContractedCost``,
``EffectiveCost`` and ``BilledCost`` are all that cost (stated in ``x_CostBasis``). Runs
without a price are left out (FOCUS costs must not be null) and counted in the notes.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from etl_desk.core.data.schema import has_values
from etl_desk.core.data.tables import write_csv
from etl_desk.core.errors import DataError
from etl_desk.core.files import atomic_write

FOCUS_VERSION = "1.2"
#: FOCUS 1.2: columns that MUST be present in a cost-and-usage dataset (presence rules with keyword MUST
#: and no applicability criteria), in the specification's alphabetical order.
MANDATORY_COLUMNS = (
    "BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodEnd",
    "BillingPeriodStart", "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargePeriodEnd",
    "ChargePeriodStart", "ContractedCost", "EffectiveCost", "InvoiceIssuerName", "ListCost", "PricingQuantity",
    "PricingUnit", "ProviderName", "PublisherName", "ServiceCategory", "ServiceName",
)
#: Conditional and recommended FOCUS columns the runs can fill.
OPTIONAL_COLUMNS = ("ChargeFrequency", "ConsumedQuantity", "ConsumedUnit", "PricingCategory", "ResourceId",
                    "ResourceName", "ResourceType", "Tags")
#: ETL Desk's run columns (custom columns carry the ``x_`` prefix).
CUSTOM_COLUMNS = ("x_JobRunId", "x_ResultState", "x_Status", "x_TerminationCode", "x_Attempt", "x_Spot",
                  "x_DurationSeconds", "x_DataProcessedGB", "x_SourceSystem", "x_CostBasis")
#: Allowed values (FOCUS 1.2) of the enumerated columns written here.
CHARGE_CATEGORIES = ("Usage", "Purchase", "Tax", "Credit", "Adjustment")
PRICING_CATEGORIES = ("Standard", "Dynamic", "Committed", "Other")
NOT_NULL = ("BilledCost", "BillingAccountId", "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart",
            "ChargeCategory", "ChargePeriodEnd", "ChargePeriodStart", "ContractedCost", "EffectiveCost",
            "InvoiceIssuerName", "ListCost", "ProviderName", "PublisherName", "ServiceCategory", "ServiceName")
_ISO = "%Y-%m-%dT%H:%M:%SZ"


def to_focus(df: pd.DataFrame, *, billing_account_id: str = "unassigned", billing_account_name: str | None = None,
             provider: str = "Databricks", service_name: str = "Databricks Jobs Compute",
             cost_basis: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """The FOCUS 1.2 rows of the canonical table *df* and notes on what was left out.

    Times are pandas UTC timestamps; money in USD (``BillingCurrency`` USD). Runs without
    a price are left out.
    """
    notes: list[str] = []
    cost = df["cost_usd"].to_numpy(float, na_value=np.nan)
    keep = ~np.isnan(cost)
    if str(df.attrs.get("cost_basis", "")) == "none":
        keep[:] = False
    if not keep.all():
        notes.append(f"{int((~keep).sum()):,} of {len(df):,} runs have no price and are left out "
                     f"(FOCUS costs must not be null)")
    d = df.loc[keep]
    n = len(d)
    start = pd.to_datetime(d["start_time"]).dt.tz_localize("UTC")
    end = pd.to_datetime(d["end_time"]).dt.tz_localize("UTC")
    month = start.dt.tz_localize(None).dt.to_period("M")
    c = d["cost_usd"].to_numpy(float)
    job = d["job_name"].astype("object") if has_values(d, "job_name") else pd.Series([None] * n, index=d.index)
    rid = d["run_id"].astype(str)
    resource = job.where(job.notna(), rid)
    hours = d["compute_hours"].to_numpy(float, na_value=np.nan) if has_values(d, "compute_hours") \
        else np.full(n, np.nan)
    if np.isnan(hours).any():
        notes.append("runs without compute hours have no PricingQuantity / ConsumedQuantity")
    spot = d["spot"].astype("boolean") if has_values(d, "spot") else pd.Series(pd.NA, index=d.index, dtype="boolean")
    src = d["source_system"].astype("object") if has_values(d, "source_system") else pd.Series([None] * n,
                                                                                               index=d.index)
    tags = [json.dumps({k: v for k, v in (("job_name", j), ("source_system", s)) if isinstance(v, str) and v},
                       ensure_ascii=False) for j, s in zip(job, src)]
    basis = cost_basis or str(df.attrs.get("cost_basis", "") or "as given by the source")
    out = pd.DataFrame({
        "BilledCost": c, "BillingAccountId": billing_account_id,
        "BillingAccountName": billing_account_name or billing_account_id, "BillingCurrency": "USD",
        "BillingPeriodEnd": (month + 1).dt.to_timestamp().dt.tz_localize("UTC").to_numpy(),
        "BillingPeriodStart": month.dt.to_timestamp().dt.tz_localize("UTC").to_numpy(),
        "ChargeCategory": "Usage", "ChargeClass": None,
        "ChargeDescription": [f"Databricks job run {r}" + (f" of {j}" if isinstance(j, str) and j else "")
                              for r, j in zip(rid, job)],
        "ChargePeriodEnd": end.to_numpy(), "ChargePeriodStart": start.to_numpy(),
        "ContractedCost": c, "EffectiveCost": c, "InvoiceIssuerName": provider, "ListCost": c,
        "PricingQuantity": hours, "PricingUnit": "Hours", "ProviderName": provider, "PublisherName": provider,
        "ServiceCategory": "Analytics", "ServiceName": service_name,
        "ChargeFrequency": "Usage-Based", "ConsumedQuantity": hours, "ConsumedUnit": "Hours",
        "PricingCategory": np.where(spot.fillna(False).to_numpy(bool), "Dynamic", "Standard"),
        "ResourceId": resource.to_numpy(dtype=object), "ResourceName": job.to_numpy(dtype=object),
        "ResourceType": "Job", "Tags": tags,
        "x_JobRunId": rid.to_numpy(dtype=object),
        "x_ResultState": d["result_state"].astype("object").to_numpy() if "result_state" in d.columns else None,
        "x_Status": d["status"].astype("object").to_numpy(),
        "x_TerminationCode": d["termination_code"].astype("object").to_numpy() if "termination_code" in d.columns
        else None,
        "x_Attempt": pd.array(d["attempt"], dtype="Int64") if "attempt" in d.columns else None,  # <NA>: not recorded
        "x_Spot": spot.to_numpy(dtype=object),
        "x_DurationSeconds": d["duration_min"].to_numpy(float) * 60.0,
        "x_DataProcessedGB": d["data_processed_gb"].to_numpy(float) if "data_processed_gb" in d.columns else np.nan,
        "x_SourceSystem": src.to_numpy(dtype=object), "x_CostBasis": basis,
    })
    out["ChargeClass"] = pd.Series([None] * n, dtype="object")
    return out.reset_index(drop=True), notes


def validate_focus(frame: pd.DataFrame) -> list[str]:
    """Problems of *frame* against FOCUS 1.2: missing mandatory columns, nulls, bad values, un-prefixed extras."""
    bad = [f"missing mandatory column {c}" for c in MANDATORY_COLUMNS if c not in frame.columns]
    for c in NOT_NULL:
        if c in frame.columns and frame[c].isna().any():
            bad.append(f"{c} has null values")
    if "ChargeCategory" in frame.columns and not frame["ChargeCategory"].isin(CHARGE_CATEGORIES).all():
        bad.append("ChargeCategory outside " + ", ".join(CHARGE_CATEGORIES))
    if "PricingCategory" in frame.columns and not frame["PricingCategory"].dropna().isin(PRICING_CATEGORIES).all():
        bad.append("PricingCategory outside " + ", ".join(PRICING_CATEGORIES))
    known = set(MANDATORY_COLUMNS) | set(OPTIONAL_COLUMNS)
    bad += [f"custom column {c} lacks the x_ prefix" for c in frame.columns if c not in known and not c.startswith("x_")]
    if {"ChargePeriodStart", "ChargePeriodEnd"} <= set(frame.columns):
        s, e = pd.to_datetime(frame["ChargePeriodStart"], utc=True), pd.to_datetime(frame["ChargePeriodEnd"], utc=True)
        if (e < s).any():
            bad.append("ChargePeriodEnd before ChargePeriodStart")
    return bad


def write_focus(df: pd.DataFrame, path: str | os.PathLike, **kwargs) -> list[str]:
    """Write *df* as FOCUS 1.2 to *path* (``.csv`` or ``.parquet``), atomically; return the notes.

    CSV dates are ISO 8601 UTC (``2024-01-01T00:00:00Z``), text neutralised against formula
    injection; Parquet keeps UTC timestamps. Raises :class:`DataError` for another extension.
    """
    p = Path(path)
    ext = p.suffix.lower()
    if ext not in (".csv", ".parquet"):
        raise DataError("a FOCUS export must be .csv or .parquet", file=str(p))
    frame, notes = to_focus(df, **kwargs)
    if ext == ".csv":
        text = frame.copy()
        for c in ("BillingPeriodEnd", "BillingPeriodStart", "ChargePeriodEnd", "ChargePeriodStart"):
            text[c] = pd.to_datetime(text[c], utc=True).dt.strftime(_ISO)
        write_csv(text, p)
    else:
        atomic_write(p, lambda tmp: frame.to_parquet(tmp, index=False))
    return notes
