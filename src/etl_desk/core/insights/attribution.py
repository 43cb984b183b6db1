"""Who pays: cost, failed cost and runs by tag, workspace, SKU, compute type, source or pipeline.

:func:`attribute` answers a chargeback question for one *dimension* (``by``):

===================  ===========================================================
``by``               groups runs by
===================  ===========================================================
``pipeline``         ``job_name``
``source_system``    SAP / GIS / Other
``workspace``        ``workspace_id``
``sku``              ``sku_name`` (the run's largest billing SKU)
``compute``          serverless (the SKU name contains ``SERVERLESS``, Databricks'
                     naming) or classic
``tag:KEY`` or KEY   the value of tag KEY (``custom_tags`` of billing usage, job tags,
                     or a mapped column; :mod:`etl_desk.core.data.tags`)
===================  ===========================================================

Runs without a value are one row, :data:`UNTAGGED` ("untagged spend"; :data:`NOT_RECORDED`
for a built-in dimension), flagged ``untagged=True``, which is always
in the result, even at $0 (a chargeback that hides untagged spend overstates its own
coverage: FinOps Foundation, "Allocation" capability). Cost that is unknown (NaN: a
source without a price) is never counted as $0: such runs count in ``runs`` and in
``unknown_cost_runs``; a group whose every run is unknown has ``cost_usd = None``.
Shares are of the known cost. Everything is one factorize and a few ``np.bincount``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from etl_desk.core.data.schema import has_values
from etl_desk.core.data.tags import tag_keys, tag_values
from etl_desk.core.insights.kpis import failed_mask

__all__ = ["UNTAGGED", "NOT_RECORDED", "BUILTIN_DIMENSIONS", "AttributionRow", "Attribution", "attribute", "dimensions",
           "resolve_dimension", "attribution_mask"]

#: The row of runs without a value for a tag dimension ...
UNTAGGED = "(untagged)"
#: ... and for a built-in one (workspace, SKU, ...).
NOT_RECORDED = "(not recorded)"

#: by -> (canonical column or None when derived, label)
BUILTIN_DIMENSIONS: dict[str, tuple[str | None, str]] = {
    "pipeline": ("job_name", "Pipeline"),
    "source_system": ("source_system", "Source system"),
    "workspace": ("workspace_id", "Workspace"),
    "sku": ("sku_name", "SKU"),
    "compute": (None, "Serverless vs classic"),
}
_ALIASES = {"job_name": "pipeline", "job": "pipeline", "source": "source_system", "workspace_id": "workspace",
            "sku_name": "sku", "serverless": "compute"}


@dataclass(frozen=True)
class AttributionRow:
    """One group: runs, failed runs, known cost and failed cost (USD), share of the known total."""

    key: str
    runs: int
    failed_runs: int
    cost_usd: float | None
    failed_cost_usd: float | None
    share: float | None
    unknown_cost_runs: int = 0
    untagged: bool = False


@dataclass(frozen=True)
class Attribution:
    """A chargeback table: ``rows`` by known cost (largest first; :data:`UNTAGGED` always among them)."""

    by: str
    label: str
    rows: tuple[AttributionRow, ...]
    total: AttributionRow
    notes: tuple[str, ...] = field(default=())

    @property
    def untagged(self) -> AttributionRow:
        """The row of runs without a value for this dimension (:data:`UNTAGGED` / :data:`NOT_RECORDED`).

        Raises:
            KeyError: if the table has no such row (:func:`attribute` always adds one).
        """
        for r in self.rows:
            if r.untagged:
                return r
        raise KeyError("no untagged row (every attribution has one; this table was built by hand)")

    def to_frame(self) -> pd.DataFrame:
        """The rows as a DataFrame (columns of :class:`AttributionRow`), total not included."""
        return pd.DataFrame([asdict(r) for r in self.rows],
                            columns=[f for f in AttributionRow.__dataclass_fields__])

    def to_dict(self) -> dict:
        """JSON-ready: by, label, rows, total, notes (None for unknown money)."""
        return {"by": self.by, "label": self.label, "rows": [asdict(r) for r in self.rows],
                "total": asdict(self.total), "notes": list(self.notes)}


def resolve_dimension(by: str) -> tuple[str, str]:
    """``(canonical by, label)`` for what a user typed: a built-in name (or alias) or a tag key.

    Built-ins: :data:`BUILTIN_DIMENSIONS` (aliases ``job``, ``source``, ``serverless`` ...); anything
    else is a tag key (``team`` or ``tag:team``) -> ``("tag:team", "Tag 'team'")``.

    Raises:
        ValueError: for an empty name, or ``tag:`` without a key.
    """
    b = by.strip()
    if not b:
        raise ValueError("name a dimension: pipeline, source_system, workspace, sku, compute or a tag key")
    low = _ALIASES.get(b.lower(), b.lower())
    if low in BUILTIN_DIMENSIONS:
        return low, BUILTIN_DIMENSIONS[low][1]
    key = b[4:] if b.lower().startswith("tag:") else b
    if not key:
        raise ValueError("name the tag key after 'tag:'")
    return f"tag:{key}", f"Tag '{key}'"


def dimensions(df: pd.DataFrame) -> list[tuple[str, str]]:
    """The dimensions *df* can be attributed by, as ``(by, label)``: built-ins with data, then tag keys."""
    out = [("pipeline", "Pipeline")] if has_values(df, "job_name") else []
    if has_values(df, "source_system"):
        out.append(("source_system", "Source system"))
    if has_values(df, "workspace_id"):
        out.append(("workspace", "Workspace"))
    if has_values(df, "sku_name"):
        out += [("sku", "SKU"), ("compute", "Serverless vs classic")]
    if "tags" in df.columns:
        out += [(f"tag:{k}", f"Tag '{k}'") for k in tag_keys(df["tags"])]
    return out


def _keys(df: pd.DataFrame, by: str) -> pd.Series:
    if by.startswith("tag:"):
        if "tags" not in df.columns:
            return pd.Series(pd.NA, index=df.index, dtype="string")
        return tag_values(df["tags"], by[4:])
    if by == "compute":
        if "sku_name" not in df.columns:
            return pd.Series(pd.NA, index=df.index, dtype="string")
        sku = df["sku_name"].astype("string")
        return sku.str.upper().str.contains("SERVERLESS").map({True: "serverless", False: "classic"}).astype("string")
    col = BUILTIN_DIMENSIONS[by][0]
    if col not in df.columns:
        return pd.Series(pd.NA, index=df.index, dtype="string")
    if isinstance(df[col].dtype, pd.CategoricalDtype):
        return df[col]  # grouped by its codes: no text per run (issue 15 item 8)
    return df[col].astype("string")


def attribution_mask(df: pd.DataFrame, by: str, key: str) -> np.ndarray:
    """Runs of *df* in the group *key* of dimension *by* (bool array): a clicked bar as a selection rule.

    The untagged / not-recorded row selects the runs without a value.
    """
    by, _ = resolve_dimension(by)
    keys = _keys(df, by)
    if key in (UNTAGGED, NOT_RECORDED):
        return keys.isna().to_numpy()
    return (keys == key).fillna(False).to_numpy(dtype=bool)


def attribute(df: pd.DataFrame, by: str) -> Attribution:
    """Cost, failed cost and runs of the canonical table *df* per value of *by* (see the module docstring).

    Raises ValueError for an empty *by*. A tag key no run carries gives one row, all untagged.
    """
    by, label = resolve_dimension(by)
    n = len(df)
    keys = _keys(df, by)
    codes, uniques = pd.factorize(keys, use_na_sentinel=True)
    k = len(uniques)
    codes = np.where(codes < 0, k, codes)  # the untagged row last in code order
    cost = df["cost_usd"].to_numpy(dtype=float, na_value=np.nan) if n else np.zeros(0)
    known = np.isfinite(cost)
    failed = failed_mask(df) if n else np.zeros(0, dtype=bool)
    runs = np.bincount(codes, minlength=k + 1)
    fails = np.bincount(codes, weights=failed, minlength=k + 1).astype(np.int64)
    c = np.where(known, cost, 0.0)
    csum = np.bincount(codes, weights=c, minlength=k + 1)
    fsum = np.bincount(codes, weights=c * failed, minlength=k + 1)
    nknown = np.bincount(codes, weights=known, minlength=k + 1).astype(np.int64)
    fknown = np.bincount(codes, weights=known & failed, minlength=k + 1).astype(np.int64)
    total_known = float(c.sum())
    names = [str(u) for u in uniques] + [UNTAGGED if by.startswith("tag:") else NOT_RECORDED]
    rows = []
    for i in range(k + 1):
        if i < k and runs[i] == 0:
            continue
        if runs[i] == 0:  # nothing untagged: a known $0, shown all the same
            rows.append(AttributionRow(key=names[i], runs=0, failed_runs=0, cost_usd=0.0, failed_cost_usd=0.0,
                                       share=0.0 if total_known > 0 else None, untagged=True))
            continue
        money = nknown[i] > 0
        rows.append(AttributionRow(
            key=names[i], runs=int(runs[i]), failed_runs=int(fails[i]),
            cost_usd=float(csum[i]) if money else None,
            failed_cost_usd=float(fsum[i]) if fknown[i] > 0 or (money and fails[i] == 0) else None,
            share=float(csum[i] / total_known) if money and total_known > 0 else None,
            unknown_cost_runs=int(runs[i] - nknown[i]), untagged=i == k))
    rows.sort(key=lambda r: (-(r.cost_usd if r.cost_usd is not None else -1.0), r.untagged, r.key))
    any_known = bool(known.any())
    total = AttributionRow(key="Total", runs=n, failed_runs=int(failed.sum()),
                           cost_usd=total_known if any_known else None,
                           failed_cost_usd=float((c * failed).sum()) if any_known else None,
                           share=1.0 if any_known and total_known > 0 else None,
                           unknown_cost_runs=int(n - known.sum()))
    notes = []
    if total.unknown_cost_runs:
        notes.append(f"{total.unknown_cost_runs:,} run(s) have no known cost (no price in the source): they count "
                     "as runs, not as $0 of cost; shares are of the known cost.")
    un = next(r for r in rows if r.untagged)
    what = "tag" if by.startswith("tag:") else label.lower()
    if un.runs == n and n:
        notes.append(f"No run has a {what} value: everything is {UNTAGGED}.")
    return Attribution(by=by, label=label, rows=tuple(rows), total=total, notes=tuple(notes))
