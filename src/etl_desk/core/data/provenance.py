"""Where every figure came from: the provenance of a loaded table.

:func:`build` makes a plain JSON-safe dict, carried on the loaded frame as
``df.attrs["provenance"]`` and printed by ``etl-desk analyze --json`` as the
top-level ``provenance`` object (and as the SOURCES section of the text report).

Schema (``"schema": "etl-desk.provenance/1"``)::

    runs            int: rows of the loaded table
    cost_basis      {"code": file | list_prices | usd_per_dbu | usd_per_hour | none | mixed,
                     "text": e.g. "billed usage x effective list price",
                     "sentence": one sentence for a cover page,
                     "unknown_why": why cost is unknown, or null}
    price_table     [{"sku_name", "price_start_time", "price_end_time", "usd_per_dbu",
                      "price_column" (pricing.effective_list.default | pricing.default),
                      "pricing_default"}] of the list prices used, or null
    user_settings   {"usd_per_dbu", "contract_discount", "usd_per_hour", "cancelled", "skipped",
                     "decimal", "dayfirst"} as given (null: not given)
    time_span       {"first_start", "last_end"} of the runs kept (ISO text) or nulls
    files           [{"file", "kind" (csv table | xlsx table | parquet table | etl desk workbook |
                      jobs api json | system_table:<name>), "rows_read", "rows_kept",
                      "left_out": [{"reason", "count", "examples": [row, ...] (<= 5 data-row
                      numbers: 1 = first row under the header; JSON: the run's position)}],
                      "header_row" (1-based line/sheet row of the header, null when not tabular),
                      "read_as": {column: how its numbers/dates were read}}]
    left_out_total  int: rows left out over all files
    warnings        [str]: the load warnings
    notes           [str]: facts worth knowing (repairs read as attempts, ...)
    skipped         [{"file", "why"}]: files of an opened folder that are not run data, not read
    reconciliation  null, or for system-table exports with billing usage (reasons and other_products
                    also carry "rows_by_file": {file: rows}):
                    {"period": {"start", "end"},
                     "job_usage": {"rows", "dbus", "usd"},            # billing_origin_product = JOBS
                     "other_products": {"rows", "dbus", "usd", "products"},
                     "attributed_to_runs": {"rows", "dbus", "usd"},
                     "unattributed_job_spend": {"dbus", "usd", "reasons": [{"reason", "rows", "dbus",
                                                "usd", "examples": [{"file", "row"}]}]},
                     "retractions": {"rows", "dbus", "usd", "note"},
                     "runs_without_usage": {"count", "examples", "note"}}

Dollar amounts are ``null`` when unknown (no price), never 0.
"""
from __future__ import annotations

import math

import pandas as pd

from etl_desk.core import fmt

SCHEMA = "etl-desk.provenance/1"

BASIS_TEXT = {
    "file": "cost from the file",
    "list_prices": "billed usage x list price",
    "usd_per_dbu": "billed usage x user $/DBU",
    "usd_per_hour": "run time x user $/hour",
    "none": "none (cost unknown)",
    "mixed": "mixed (the files differ)",
}


def _num(x):
    if x is None:
        return None
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def sentence(code: str, text: str, opts, why: str | None) -> str:
    """One sentence stating the cost basis (for a cover page or a report header)."""
    disc = getattr(opts, "contract_discount", 0.0) or 0.0
    less = f" less a {disc:.0%} contract discount" if disc else ""
    if code == "none":
        return f"Cost is unknown: {why or 'the source has no cost'}."
    if code == "usd_per_dbu":
        return f"Cost = billed DBUs x ${opts.usd_per_dbu:g}/DBU (given by the user){less}."
    if code == "usd_per_hour":
        return f"Cost = run time x ${opts.usd_per_hour:g}/hour (an estimate given by the user)."
    if code == "list_prices":
        return f"Cost = {text} from system.billing.list_prices{less}."
    if code == "file":
        return "Cost as written in the file."
    return f"Cost basis: {text}."


def build(df: pd.DataFrame, files: list[dict], report, opts) -> dict:
    """The provenance dict of the loaded *df* (see the module docstring). *files*: one dict per
    input file with at least file, kind, rows_read (header_row when known)."""
    left = report.left_out
    out_files = []
    for f in files:
        mine = [{"reason": e["reason"], "count": e["count"], "examples": e["examples"]}
                for e in left if e["file"] == f["file"]]
        kept = f.get("rows_kept")
        if kept is None:
            kept = max(0, int(f.get("rows_read") or 0) - sum(e["count"] for e in mine))
        out_files.append({
            "file": f["file"], "kind": f["kind"], "rows_read": int(f.get("rows_read") or 0), "rows_kept": int(kept),
            "left_out": mine, "header_row": f.get("header_row"), "read_as": dict(f.get("read_as") or {}),
        })
    # reasons recorded without a file (one input): the first file's
    orphan = [e for e in left if e["file"] is None or e["file"] not in {f["file"] for f in files}]
    if orphan and out_files:
        first = out_files[0]
        for e in orphan:
            first["left_out"].append({"reason": e["reason"], "count": e["count"], "examples": e["examples"]})
        if len(files) == 1 and files[0].get("rows_kept") is None:
            first["rows_kept"] = max(0, first["rows_read"] - sum(e["count"] for e in first["left_out"]))
    code = df.attrs.get("cost_basis", "file")
    text = df.attrs.get("cost_basis_text") or BASIS_TEXT.get(code, code)
    if code in ("usd_per_hour", "none"):  # the importers' own text is a sentinel or carries the rate
        text = BASIS_TEXT[code]
    why = df.attrs.get("cost_unknown_why")
    t0 = df["start_time"].min() if len(df) else None
    t1 = df["end_time"].max() if len(df) else None
    return {
        "schema": SCHEMA,
        "runs": int(len(df)),
        "cost_basis": {"code": code, "text": text, "sentence": sentence(code, text, opts, why), "unknown_why": why},
        "price_table": df.attrs.get("price_table") or None,
        "user_settings": {"usd_per_dbu": _num(opts.usd_per_dbu), "contract_discount": _num(opts.contract_discount),
                          "usd_per_hour": _num(opts.usd_per_hour), "cancelled": opts.cancelled,
                          "skipped": opts.skipped, "decimal": opts.decimal, "dayfirst": opts.dayfirst},
        "time_span": {"first_start": None if t0 is None or pd.isna(t0) else pd.Timestamp(t0).isoformat(sep=" "),
                      "last_end": None if t1 is None or pd.isna(t1) else pd.Timestamp(t1).isoformat(sep=" ")},
        "files": out_files,
        "left_out_total": int(sum(f2["count"] for f in out_files for f2 in f["left_out"])),
        "warnings": list(report.warnings),
        "notes": list(report.notes),
        "skipped": [dict(x) for x in getattr(report, "skipped", [])],
        "reconciliation": df.attrs.get("reconciliation"),
    }


def text_lines(prov: dict) -> list[str]:
    """The SOURCES section of the text report: one block per file, the cost basis, the reconciliation."""
    lines = ["SOURCES", f"  Cost basis: {prov['cost_basis']['sentence']}"]
    for f in prov["files"]:
        lines.append(f"  {f['file']} ({f['kind']}): {f['rows_read']:,} rows read, {f['rows_kept']:,} kept")
        for e in f["left_out"]:
            ex = ", ".join(str(x) for x in e["examples"])
            lines.append(f"    left out {e['count']:,}: {e['reason']}" + (f" (rows {ex})" if ex else ""))
        for col, how in f["read_as"].items():
            lines.append(f"    {col}: {how}")
    for x in prov.get("skipped") or []:
        lines.append(f"  Skipped {x['file']}: {x['why']}")
    for n in prov.get("notes") or []:
        lines.append(f"  Note: {n}")
    for p in prov.get("price_table") or []:
        end = p["price_end_time"] or "open"
        lines.append(f"  Price {p['sku_name']}: ${p['usd_per_dbu']:g}/DBU ({p['price_column']}) "
                     f"from {p['price_start_time']} to {end}")
    rec = prov.get("reconciliation")
    if rec:
        def money(x):
            return "unknown $" if x is None else f"${x:,.2f}"
        ju, at, un = rec["job_usage"], rec["attributed_to_runs"], rec["unattributed_job_spend"]
        lines.append(f"  Reconciliation ({fmt.from_to(rec['period']['start'], rec['period']['end'])}):")
        lines.append(f"    job usage in billing.usage     {ju['dbus']:>12,.3f} DBU  {money(ju['usd']):>14}")
        lines.append(f"    attributed to the runs         {at['dbus']:>12,.3f} DBU  {money(at['usd']):>14}")
        lines.append(f"    unattributed job spend         {un['dbus']:>12,.3f} DBU  {money(un['usd']):>14}")
        for r in un["reasons"]:
            dbu = "" if r["dbus"] is None else f"{r['dbus']:,.3f} DBU, "
            lines.append(f"      - {r['reason']}: {r['rows']:,} rows, {dbu}{money(r['usd'])}")
        op = rec["other_products"]
        if op["rows"]:
            lines.append(f"    other products (not job spend): {op['rows']:,} rows, {op['dbus']:,.3f} DBU "
                         f"({', '.join(op['products'])})")
        if rec["retractions"]["rows"]:
            lines.append(f"    retractions netted into runs: {rec['retractions']['rows']:,} rows, "
                         f"{rec['retractions']['dbus']:,.3f} DBU")
        if rec["runs_without_usage"]["count"]:
            lines.append(f"    runs without usage rows (cost $0 as billed): {rec['runs_without_usage']['count']:,}")
    return lines
