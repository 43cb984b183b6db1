"""The Sources sheet: what was read, the cost basis, what was left out and why, the reconciliation.

It renders the provenance the loaders record (``df.attrs["provenance"]``, schema in
:mod:`etl_desk.core.data.provenance`): one line per input file (kind, rows read, rows
kept, header row, how numbers and dates were read), every reason rows were left out with
up to five example rows, the list prices used, and -- for Databricks system-table exports
with billing usage -- the reconciliation of billed job spend against what was attributed
to the runs, with the unattributed part split by reason. Unknown dollars are written as a
blank cell with the reason beside it, never as $0.

Data ETL Desk generated (no files) gets a short sheet that says so.
"""
from __future__ import annotations

import os

from etl_desk.core.data.xlsx_book import print_setup
from etl_desk.core.workbook.formats import Styles, wrapped_height
from etl_desk.core import fmt

SHEET = "Sources"
#: Column widths (Excel characters): label/file, then figures, then text.
_WIDTHS = (44, 14, 14, 12, 66)


def cost_basis_sentence(provenance: dict | None, source: str = "") -> str:
    """One sentence on where the costs come from (the cover's "Cost basis" line)."""
    if provenance:
        return provenance["cost_basis"]["sentence"]
    if "realistic" in source.lower() or "case study" in source.lower():
        return "Cost as the generator computed it (synthetic data: compute hours x the generator's prices)."
    return "Cost as written in the data (no file provenance recorded)."


def write_sources_sheet(wb, st: Styles, provenance: dict | None, *, source: str = "") -> None:
    """Add the Sources sheet to *wb* (an XlsxWriter workbook) from a provenance dict (or ``None``)."""
    ws = wb.add_worksheet(SHEET)
    for j, w in enumerate(_WIDTHS):
        ws.set_column(j, j, w)
    ws.write_string(0, 0, "Sources: what was read, the cost basis and the reconciliation", st.title)
    r = 2
    r = _line(ws, st, r, "Cost basis", cost_basis_sentence(provenance, source))
    if not provenance:
        _line(ws, st, r, "Data", f"{source or 'These runs'} were not read from files, so there is nothing "
                                  "more to trace.")
        print_setup(ws, title=SHEET, landscape=False)
        return
    span = provenance.get("time_span") or {}
    if span.get("first_start"):
        r = _line(ws, st, r, "Period of the runs", f"{fmt.from_to(span['first_start'], span.get('last_end') or '?')} (UTC)")
    settings = {k: v for k, v in (provenance.get("user_settings") or {}).items() if v not in (None, 0, 0.0)}
    if settings:
        r = _line(ws, st, r, "Settings given", "; ".join(f"{k} = {v}" for k, v in settings.items()))
    files = [str(f["file"]) for f in provenance.get("files") or []]
    folder = os.path.commonpath([os.path.dirname(f) or "." for f in files]) if files else ""
    if folder and folder != ".":
        r = _line(ws, st, r, "Folder", folder)

    def name(path) -> str:
        """A file's path below the common folder (the folder is stated once above)."""
        path = str(path)
        return os.path.relpath(path, folder) if folder and folder != "." and path.startswith(folder) else path

    r = _files(ws, st, r + 1, provenance, name)
    r = _left_out(ws, st, r + 1, provenance, name)
    r = _prices(ws, st, r + 1, provenance.get("price_table") or [])
    r = _reconciliation(ws, st, r + 1, provenance.get("reconciliation"), name)
    skipped = provenance.get("skipped") or []
    if skipped:  # files of the folder that are not run data
        r = _heading(ws, st, r + 1, f"Files skipped, not run data ({len(skipped)})")
        for x in skipped:
            text = f"{name(x['file'])}: {x['why']}"
            ws.merge_range(r, 0, r, len(_WIDTHS) - 1, text, st.wrap_plain)
            ws.set_row(r, wrapped_height(text, sum(_WIDTHS)))
            r += 1
    notes = list(provenance.get("notes") or []) + list(provenance.get("warnings") or [])
    if notes:
        r = _heading(ws, st, r + 1, "Notes and warnings")
        for n in notes:
            ws.merge_range(r, 0, r, len(_WIDTHS) - 1, n, st.wrap_plain)
            ws.set_row(r, wrapped_height(n, sum(_WIDTHS)))
            r += 1
    ws.repeat_rows(0)
    print_setup(ws, title=SHEET, landscape=False)


def _line(ws, st: Styles, r: int, label: str, text: str) -> int:
    ws.write_string(r, 0, label, st.label)
    ws.merge_range(r, 1, r, len(_WIDTHS) - 1, text, st.wrap_plain)
    ws.set_row(r, wrapped_height(text, sum(_WIDTHS[1:])))
    return r + 1


def _heading(ws, st: Styles, r: int, text: str) -> int:
    ws.write_string(r, 0, text, st.h2)
    for j in range(1, len(_WIDTHS)):
        ws.write_blank(r, j, None, st.h2)
    return r + 1


def _header(ws, st: Styles, r: int, names) -> int:
    for j, n in enumerate(names):
        ws.write_string(r, j, n, st.header)
    return r + 1


def _files(ws, st: Styles, r: int, prov: dict, name) -> int:
    r = _heading(ws, st, r, "Files read")
    r = _header(ws, st, r, ("File", "Rows read", "Rows kept", "Header row", "Kind; how values were read"))
    for f in prov.get("files") or []:
        ws.write_string(r, 0, name(f["file"]), st.wrap)
        ws.write_number(r, 1, f["rows_read"], st.num["count"])
        ws.write_number(r, 2, f["rows_kept"], st.num["count"])
        if f.get("header_row") is None:
            ws.write_string(r, 3, "—", st.na)
        else:
            ws.write_number(r, 3, f["header_row"], st.num["count"])
        how = "; ".join(f"{col}: {text}" for col, text in (f.get("read_as") or {}).items())
        text = f["kind"] + (f"; {how}" if how else "")
        ws.write_string(r, 4, text, st.wrap)
        ws.set_row(r, max(wrapped_height(text, _WIDTHS[4]), wrapped_height(name(f["file"]), _WIDTHS[0])))
        r += 1
    ws.write_string(r, 0, "Runs in the data", st.bold_text)
    ws.write_number(r, 2, prov.get("runs", 0), st.bold["count"])
    ws.write_string(r, 4, "the rows kept, after hourly slices were merged into their runs and repairs split into "
                          "attempts", st.note)
    ws.set_row(r, 30)
    return r + 1


def _left_out(ws, st: Styles, r: int, prov: dict, name) -> int:
    rows = [(f["file"], e) for f in prov.get("files") or [] for e in f.get("left_out") or []]
    r = _heading(ws, st, r, f"Rows left out ({prov.get('left_out_total', 0):,})")
    if not rows:
        ws.write_string(r, 0, "None: every row read is a run in the data.", st.plain)
        return r + 1
    r = _header(ws, st, r, ("File", "Rows", "", "", "Reason (example rows: 1 = the first row under the header)"))
    for file, e in rows:
        ws.write_string(r, 0, name(file), st.wrap)
        ws.write_number(r, 1, e["count"], st.num["count"])
        ex = ", ".join(str(x) for x in e.get("examples") or [])
        text = e["reason"] + (f" (e.g. rows {ex})" if ex else "")
        ws.write_string(r, 4, text, st.wrap)
        ws.set_row(r, max(wrapped_height(text, _WIDTHS[4]), wrapped_height(name(file), _WIDTHS[0])))
        r += 1
    return r


def _prices(ws, st: Styles, r: int, prices: list[dict]) -> int:
    if not prices:
        return r
    r = _heading(ws, st, r, "List prices used (system.billing.list_prices)")
    r = _header(ws, st, r, ("SKU", "USD per DBU", "Default price", "", "Valid (UTC); price column used"))
    for p in prices:
        ws.write_string(r, 0, str(p["sku_name"]), st.wrap)
        ws.write_number(r, 1, p["usd_per_dbu"], st.num["usd_per_dbu"])
        if p.get("pricing_default") is None:
            ws.write_string(r, 2, "—", st.na)
        else:
            ws.write_number(r, 2, p["pricing_default"], st.num["usd_per_dbu"])
        text = (f"{p['price_start_time']} to {p['price_end_time'] or 'open'}; {p['price_column']}")
        ws.write_string(r, 4, text, st.wrap)
        ws.set_row(r, max(wrapped_height(text, _WIDTHS[4]), wrapped_height(str(p["sku_name"]), _WIDTHS[0])))
        r += 1
    return r


def _money(ws, st: Styles, r: int, c: int, usd, why: str = "price unknown") -> None:
    if usd is None:
        ws.write_blank(r, c, None, st.na)
        ws.write_comment(r, c, f"Unknown: {why} (not $0).")
    else:
        ws.write_number(r, c, usd, st.num["usd"])


def _reconciliation(ws, st: Styles, r: int, rec: dict | None, name) -> int:
    if not rec:
        return r
    period = rec.get("period") or {}
    r = _heading(ws, st, r, f"Reconciliation with billing.usage ({fmt.from_to(period.get('start'), period.get('end'))})")
    r = _header(ws, st, r, ("", "DBUs", "USD", "Usage rows", "What it is"))
    lines = [
        ("Job usage billed", rec["job_usage"], "billing.usage rows of billing_origin_product JOBS in the period"),
        ("Attributed to the runs", rec["attributed_to_runs"], "the runs' cost in this workbook"),
    ]
    for label, block, what in lines:
        ws.write_string(r, 0, label, st.bold_text)
        ws.write_number(r, 1, block["dbus"], st.num["number"])
        _money(ws, st, r, 2, block["usd"])
        ws.write_number(r, 3, block["rows"], st.num["count"])
        ws.write_string(r, 4, what, st.wrap)
        r += 1
    un = rec["unattributed_job_spend"]
    ws.write_string(r, 0, "Unattributed job spend", st.warn)
    ws.write_number(r, 1, un["dbus"], st.bold["number"])
    _money(ws, st, r, 2, un["usd"])
    ws.write_string(r, 4, "billed to jobs but not to any run here; by reason below", st.wrap)
    r += 1
    for reason in un.get("reasons") or []:
        ws.write_string(r, 0, "  " + reason["reason"], st.wrap)
        if reason.get("dbus") is None:
            ws.write_blank(r, 1, None, st.na)
        else:
            ws.write_number(r, 1, reason["dbus"], st.num["number"])
        _money(ws, st, r, 2, reason.get("usd"))
        ws.write_number(r, 3, reason.get("rows", 0), st.num["count"])
        ex = ", ".join(f"{name(e.get('file'))} row {e.get('row')}" for e in reason.get("examples") or [])
        ws.write_string(r, 4, f"e.g. {ex}" if ex else "", st.wrap)
        ws.set_row(r, max(wrapped_height(reason["reason"], _WIDTHS[0]), wrapped_height(ex, _WIDTHS[4])))
        r += 1
    op = rec.get("other_products") or {}
    if op.get("rows"):
        ws.write_string(r, 0, "Other products (not job spend)", st.wrap)
        ws.write_number(r, 1, op["dbus"], st.num["number"])
        _money(ws, st, r, 2, op.get("usd"))
        ws.write_number(r, 3, op["rows"], st.num["count"])
        ws.write_string(r, 4, ", ".join(op.get("products") or []), st.wrap)
        r += 1
    ret = rec.get("retractions") or {}
    if ret.get("rows"):
        ws.write_string(r, 0, "Retractions netted into runs", st.wrap)
        ws.write_number(r, 1, ret["dbus"], st.num["number"])
        _money(ws, st, r, 2, ret.get("usd"))
        ws.write_number(r, 3, ret["rows"], st.num["count"])
        ws.write_string(r, 4, ret.get("note") or "", st.wrap)
        r += 1
    no_usage = rec.get("runs_without_usage") or {}
    if no_usage.get("count"):
        text = no_usage.get("note") or "runs with no usage rows: cost $0 as billed"
        ws.write_string(r, 0, "Runs without usage rows", st.wrap)
        ws.write_number(r, 3, no_usage["count"], st.num["count"])
        ws.write_string(r, 4, text, st.wrap)
        r += 1
    return r
