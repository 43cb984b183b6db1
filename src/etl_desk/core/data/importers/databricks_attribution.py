"""Who pays, from Databricks system tables: workspace, SKU and tags of each job run.

* ``tags``: the run's ``custom_tags`` in ``system.billing.usage`` (a MAP: a dict from
  Parquet, JSON text from CSV, or flattened ``custom_tags_<key>`` columns; Databricks copies a
  job's tags and its cluster's custom tags there), merged over the tags of the job's
  latest row in ``system.lakeflow.jobs``; when the usage rows of one run disagree, the
  row with the larger usage wins per key. A run with neither has no tags (untagged).
* ``sku_name``: the SKU with the largest usage (|DBUs|) among the run's usage rows:
  a run that used classic and serverless compute is attributed to the larger one.
* ``workspace_id``: from the run timeline.

Attribution follows the billing join (:func:`.system_billing.attribute`): each usage row
goes to the attempt (a run or one of its repairs) its cost went to.

See :mod:`etl_desk.core.data.tags` for the canonical tag text.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from etl_desk.core.data.tags import normalize_tags, tags_text

__all__ = ["usage_tags", "attempt_attribution", "job_tags", "merge_tag_texts"]


def usage_tags(u: pd.DataFrame) -> pd.Series:
    """Each usage row's ``custom_tags`` as canonical tag text (NA without tags); *u* is the flattened table."""
    return normalize_tags(_custom_tags(u))[0].to_numpy()


def attempt_attribution(usage: pd.DataFrame, n_attempts: int) -> tuple[pd.Series, pd.Series]:
    """Per attempt 0..n-1 (``usage["attempt_idx"]``, set by system_billing.attribute): the SKU with the
    largest usage (|DBUs|) and the usage tags merged (the larger usage last, so it wins per key)."""
    sku = pd.Series(pd.NA, index=range(n_attempts), dtype="object")
    tags = pd.Series(pd.NA, index=range(n_attempts), dtype="object")
    if usage is None or "attempt_idx" not in usage.columns:
        return sku, tags
    d = pd.DataFrame({"a": usage["attempt_idx"].to_numpy(), "sku": usage["sku"].to_numpy(),
                      "tags": usage["tags"].to_numpy() if "tags" in usage.columns else pd.NA,
                      "w": np.abs(usage["dbus"].to_numpy(dtype=float))})
    d = d[d["a"] >= 0]
    if d.empty:
        return sku, tags
    by_sku = d.dropna(subset=["sku"]).groupby(["a", "sku"], sort=False)["w"].sum().reset_index()
    top = by_sku.sort_values(["a", "w"], ascending=[True, False], kind="stable").drop_duplicates("a")
    sku.iloc[top["a"].to_numpy(dtype=int)] = top["sku"].to_numpy()
    t = d.dropna(subset=["tags"]).groupby(["a", "tags"], sort=False)["w"].sum().reset_index()
    t = t.sort_values(["a", "w"], kind="stable")
    merged = t.groupby("a", sort=False)["tags"].agg(lambda s: merge_tag_texts(list(s)))
    tags.iloc[merged.index.to_numpy(dtype=int)] = merged.to_numpy()
    return sku, tags


def job_tags(jobs: pd.DataFrame) -> pd.Series:
    """The ``tags`` of system.lakeflow.jobs rows as canonical tag text (NA without)."""
    if "tags" not in jobs.columns:
        return pd.Series(pd.NA, index=jobs.index, dtype="object")
    return normalize_tags(jobs["tags"])[0].astype("object")


def _custom_tags(u: pd.DataFrame) -> pd.Series:
    """The ``custom_tags`` column, or one built from flattened ``custom_tags_<key>`` / ``custom_tags.<key>``
    columns (how a flattening export writes a MAP), or all missing."""
    if "custom_tags" in u.columns:
        return u["custom_tags"]
    flat = [c for c in u.columns if str(c).startswith(("custom_tags_", "custom_tags."))]
    if not flat:
        return pd.Series(pd.NA, index=u.index, dtype="object")
    keys = [str(c)[len("custom_tags_"):] for c in flat]
    vals = [u[c].astype("string").str.strip().replace("", pd.NA) for c in flat]
    rows = [{k: v for k, v in zip(keys, r) if isinstance(v, str)} for r in zip(*vals)]
    return pd.Series([tags_text(r) for r in rows], index=u.index, dtype="object")


def merge_tag_texts(texts: list) -> str | None:
    """Canonical tag texts merged left to right (later keys win); None when none has a tag."""
    out: dict[str, str] = {}
    for t in texts:
        if isinstance(t, str) and t:
            out.update(json.loads(t))
    return tags_text(out)
