"""Who pays, from Databricks system tables: workspace, SKU and tags of each job run.

* ``tags``: the run's ``custom_tags`` in ``system.billing.usage`` (a MAP: a dict from
  Parquet, JSON text from CSV, or flattened ``custom_tags_<key>`` columns; Databricks copies a
  job's tags and its cluster's custom tags there), merged over the tags of the job's
  latest row in ``system.lakeflow.jobs``; when the usage rows of one run disagree, the
  row with the larger usage wins per key. A run with neither has no tags (untagged).
* ``sku_name``: the SKU with the largest usage (|DBUs|) among the run's usage rows:
  a run that used classic and serverless compute is attributed to the larger one.
* ``workspace_id``: from the run timeline.

See :mod:`etl_desk.core.data.tags` for the canonical tag text.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from etl_desk.core.data.tags import normalize_tags, tags_text

__all__ = ["usage_attribution", "merge_tag_texts"]


def usage_attribution(u: pd.DataFrame, ws: pd.Series, run: pd.Series, qty: pd.Series) -> pd.DataFrame:
    """Per (ws, run) of the usage rows: ``sku_name`` and ``tags`` (canonical text or NA).

    *u* is the flattened usage table (rows already filtered), *ws*, *run*, *qty* its
    workspace, job_run_id and usage_quantity, row-aligned with *u*.
    """
    tags = normalize_tags(_custom_tags(u))[0]
    sku = u["sku_name"].astype("string").str.strip() if "sku_name" in u.columns else \
        pd.Series(pd.NA, index=u.index, dtype="string")
    d = pd.DataFrame({"ws": ws.to_numpy(), "run": run.to_numpy(), "sku": sku.to_numpy(), "tags": tags.to_numpy(),
                      "w": np.abs(qty.to_numpy(dtype=float))}).dropna(subset=["run"])
    if d.empty:
        return pd.DataFrame({"ws": [], "run": [], "sku_name": [], "tags": []})
    by_sku = d.dropna(subset=["sku"]).groupby(["ws", "run", "sku"], sort=False)["w"].sum().reset_index()
    by_sku = by_sku.sort_values(["ws", "run", "w"], ascending=[True, True, False], kind="stable")
    top = by_sku.drop_duplicates(["ws", "run"], keep="first").rename(columns={"sku": "sku_name"})
    # tags: the usage-weighted order of each run's distinct tag sets, merged (the largest last, so it wins)
    t = d.dropna(subset=["tags"]).groupby(["ws", "run", "tags"], sort=False)["w"].sum().reset_index()
    t = t.sort_values(["ws", "run", "w"], kind="stable")
    merged = t.groupby(["ws", "run"], sort=False)["tags"].agg(lambda s: merge_tag_texts(list(s)))
    out = d[["ws", "run"]].drop_duplicates()
    out = out.merge(top[["ws", "run", "sku_name"]], on=["ws", "run"], how="left")
    out = out.merge(merged.rename("tags").reset_index(), on=["ws", "run"], how="left")
    return out


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
