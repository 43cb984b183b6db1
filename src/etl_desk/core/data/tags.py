"""Tags of a run (team, cost centre, ...): one canonical text form and fast reading.

The canonical ``tags`` column holds each run's tags as a compact JSON object with
sorted keys, e.g. ``{"cost_center":"CC-410","team":"finance"}``; a run without tags
is missing (NA). Sources give tags as:

* ``custom_tags`` of ``system.billing.usage`` and ``tags`` of ``system.lakeflow.jobs``
  (a MAP<STRING, STRING>: a dict from Parquet, JSON text from a CSV export);
* a generic file's column mapped to *Tags*, as JSON (``{"team": "gis"}``) or as
  ``key=value`` pairs separated by ``;`` or ``,`` (``team=gis; cost_center=CC-7``).

Keys are kept as written (Databricks tag keys are case-sensitive); values become text.
Parsing works on the distinct values only, so a 1M-row column with a few hundred tag
sets costs a factorize and a few hundred ``json.loads``.
"""
from __future__ import annotations

import json
from typing import Iterable

import numpy as np
import pandas as pd

__all__ = ["parse_tags", "tags_text", "normalize_tags", "tag_values", "tag_keys", "merge_tags"]


def parse_tags(value) -> dict[str, str] | None:
    """One source value as a ``{key: value}`` dict (None when it holds no tag).

    Accepts a dict (or a list of ``(key, value)`` pairs, as Arrow reads a MAP), JSON
    object text, or ``key=value`` pairs separated by ``;`` or ``,``. Raises ValueError
    for text that is none of these (e.g. ``"finance"``: a value without a key).
    """
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, dict):
        d = value
    elif isinstance(value, (list, tuple, np.ndarray)):
        d = {}
        for item in value:
            if isinstance(item, dict) and "key" in item:
                d[item["key"]] = item.get("value")
            elif isinstance(item, (list, tuple)) and len(item) == 2:
                d[item[0]] = item[1]
            else:
                raise ValueError(f"cannot read {item!r} as a tag (key, value)")
    else:
        text = str(value).strip()
        if not text or text in ("{}", "null", "[]"):
            return None
        if text.startswith("{"):
            try:
                d = json.loads(text)
            except ValueError:
                raise ValueError(f"tags {text[:40]!r} are not valid JSON") from None
            if not isinstance(d, dict):
                raise ValueError(f"tags {text[:40]!r} are not a JSON object")
        else:
            d = {}
            for part in text.replace(",", ";").split(";"):
                part = part.strip()
                if not part:
                    continue
                if "=" not in part and ":" not in part:
                    raise ValueError(f"tag {part[:40]!r} has no key (write key=value)")
                k, v = part.split("=", 1) if "=" in part else part.split(":", 1)
                d[k.strip()] = v.strip()
    out = {str(k).strip(): ("" if v is None else str(v).strip()) for k, v in d.items() if str(k).strip()}
    return out or None


def tags_text(tags: dict[str, str] | None) -> str | None:
    """The canonical text of a tag dict (compact JSON, sorted keys), or None when empty."""
    if not tags:
        return None
    return json.dumps(dict(sorted(tags.items())), separators=(",", ":"), ensure_ascii=False)


def normalize_tags(s: pd.Series) -> tuple[pd.Series, int | None]:
    """A source column as canonical tag text (``string`` dtype, NA without tags).

    Returns ``(tags, first_bad)``: *first_bad* is the position of the first value that
    cannot be read (see :func:`parse_tags`), or None. Bad values become NA.
    """
    if len(s) == 0 or not s.notna().any():
        return pd.Series(pd.NA, index=s.index, dtype="string"), None
    obj = s.astype("object") if not pd.api.types.is_string_dtype(s.dtype) else s
    try:
        codes, uniques = pd.factorize(obj, use_na_sentinel=True)
    except TypeError:  # unhashable values (dicts from Parquet): factorize their JSON
        obj = obj.map(lambda v: json.dumps(v, sort_keys=True, default=str) if isinstance(v, (dict, list)) else v)
        codes, uniques = pd.factorize(obj, use_na_sentinel=True)
    texts: list = []
    bad_codes = []
    for i, u in enumerate(uniques):
        try:
            texts.append(tags_text(parse_tags(u)))
        except ValueError:
            texts.append(None)
            bad_codes.append(i)
    table = np.array(texts + [None], dtype=object)
    out = pd.Series(table[codes], index=s.index, dtype="string")
    first_bad = None
    if bad_codes:
        first_bad = int(np.flatnonzero(np.isin(codes, bad_codes))[0])
    return out, first_bad


def _distinct(tags: pd.Series) -> tuple[np.ndarray, list]:
    codes, uniques = pd.factorize(tags, use_na_sentinel=True)
    return codes, [json.loads(u) if isinstance(u, str) else {} for u in uniques]


def tag_values(tags: pd.Series, key: str) -> pd.Series:
    """The value of tag *key* for each run (``string`` dtype; NA where the run lacks it)."""
    if tags is None or len(tags) == 0:
        return pd.Series(pd.NA, index=getattr(tags, "index", None), dtype="string")
    codes, dicts = _distinct(tags)
    vals = [d.get(key) or None for d in dicts] + [None]
    return pd.Series(np.array(vals, dtype=object)[codes], index=tags.index, dtype="string")


def tag_keys(tags: pd.Series) -> list[str]:
    """Every tag key present in *tags*, sorted."""
    if tags is None or not tags.notna().any():
        return []
    _, dicts = _distinct(tags)
    return sorted({k for d in dicts for k in d})


def merge_tags(parts: Iterable[dict | None]) -> dict[str, str] | None:
    """Tag dicts merged left to right (later values win), None when nothing is left."""
    out: dict[str, str] = {}
    for p in parts:
        if p:
            out.update(p)
    return out or None
