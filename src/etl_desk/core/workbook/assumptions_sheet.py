"""The Assumptions sheet: every assumption and baseline figure in a named cell that the Business Case formulas refer to."""
from __future__ import annotations

from typing import Any

from xlsxwriter.utility import xl_rowcol_to_cell

from etl_desk.core.business_case.assumptions import validate_assumptions
from etl_desk.core.business_case.baseline import MEASURED, TARGET_KEYS, Baseline
from etl_desk.core.business_case.catalogue import catalogue, targets

ASSUMPTIONS_SHEET = "Assumptions"
BUSINESS_CASE_SHEET = "Business Case"


USD = '"$"#,##0.00'
NEVER = "never"


NA = "n/a"
MEASURED_LABELS = {
    "compute_cost": "Job-run (compute) cost",
    "failed_cost": "Failed-run cost",
    "retry_cost": "Retry cost (attempt > 1)",
    "on_demand_cost": "On-demand compute cost (spot-eligible runs)",
    "large_volume_cost": "Large-volume run cost (top 20 % by GB)",
    "anomaly_excess_cost": "Anomaly excess cost (above pipeline median)",
}


def solution_prefix(sid: str) -> str:
    return sid.replace("-", "_")


def _sheet_ref(sheet: str, row: int, col: int, row2: int | None = None, col2: int | None = None) -> str:
    ref = xl_rowcol_to_cell(row, col, row_abs=True, col_abs=True)
    if row2 is not None:
        ref += ":" + xl_rowcol_to_cell(row2, col2, row_abs=True, col_abs=True)
    return f"='{sheet}'!{ref}"


class _Formats:
    def __init__(self, wb):
        self.title = wb.add_format({"bold": True, "font_size": 14})
        self.section = wb.add_format({"bold": True, "font_size": 11, "bg_color": "#DDDDDD"})
        self.header = wb.add_format({"bold": True, "bottom": 1, "text_wrap": True, "valign": "top"})
        self.note = wb.add_format({"italic": True, "font_color": "#555555", "text_wrap": True, "valign": "top"})
        self.text = wb.add_format({"valign": "top"})
        self.wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        inp = {"bg_color": "#FFF2CC", "font_color": "#1F4E79"}
        self.in_usd = wb.add_format({**inp, "num_format": USD})
        self.in_pct = wb.add_format({**inp, "num_format": "0.0%"})
        self.in_num = wb.add_format({**inp, "num_format": "#,##0.00"})
        self.in_int = wb.add_format({**inp, "num_format": "0"})
        self.in_text = wb.add_format(inp)
        self.usd = wb.add_format({"num_format": USD})
        self.usd_bold = wb.add_format({"num_format": USD, "bold": True})
        self.pct = wb.add_format({"num_format": "0.0%"})
        self.num = wb.add_format({"num_format": "#,##0.00"})
        self.num4 = wb.add_format({"num_format": "0.000000"})
        self.int = wb.add_format({"num_format": "0"})
        self.months = wb.add_format({"num_format": "0.0", "align": "right"})
        self.gen = wb.add_format({"align": "right"})


def _input_format(f: _Formats, unit: str, value: Any):
    if isinstance(value, bool) or isinstance(value, str):
        return f.in_text
    if unit.startswith("USD"):
        return f.in_usd
    if unit.startswith("fraction"):
        return f.in_pct
    if isinstance(value, int):
        return f.in_int
    return f.in_num


def write_assumptions_sheet(workbook, assumptions: dict, baseline: Baseline, *,
                            sheet_name: str = ASSUMPTIONS_SHEET) -> dict[str, str]:
    """Write the Assumptions sheet; return ``{dotted key: defined name}``.

    Keys: ``global.<key>``, ``solutions.<id>.<key>``, ``baseline.<component>``,
    ``baseline.<component>_observed``, ``baseline.span_days``,
    ``baseline.active_days``, ``baseline.annualisation_factor``,
    ``baseline.target_keys``, ``baseline.target_values``. Column A holds the
    dotted key of each row, so the sheet can be read back
    (:func:`etl_desk.core.finance.assumptions_from_items`).
    """

    a = validate_assumptions(assumptions)
    cat = catalogue()
    f = _Formats(workbook)
    ws = workbook.add_worksheet(sheet_name)
    names: dict[str, str] = {}
    ws.set_column(0, 0, 38)
    ws.set_column(1, 1, 42)
    ws.set_column(2, 2, 16)
    ws.set_column(3, 3, 20)
    ws.set_column(4, 4, 34)
    ws.set_column(5, 5, 90)
    ws.write(0, 0, "Business-case assumptions", f.title)
    ws.write(1, 0, "Yellow cells are inputs: change one and the Business Case sheet follows. Each input "
                   "has a defined name (column E) used by the formulas. Money in US dollars; fractions "
                   "as percentages. Year = 365 days, quarter = year / 4, month = year / 12, week = 7 days.",
             f.note)
    ws.set_row(1, 30)
    hdr = ("Key", "Assumption", "Value", "Unit", "Defined name", "Rationale")
    row = 3
    ws.write_row(row, 0, hdr, f.header)
    ws.freeze_panes(row + 1, 0)
    row += 1

    def put_input(key: str, name: str, spec, value, row: int) -> None:
        ws.write_string(row, 0, key, f.text)
        ws.write_string(row, 1, spec.label, f.text)
        fmt = _input_format(f, spec.unit, value)
        if isinstance(value, bool):
            ws.write_boolean(row, 2, value, fmt)
            ws.data_validation(row, 2, row, 2, {"validate": "list", "source": ["TRUE", "FALSE"]})
        elif isinstance(value, str):
            ws.write_string(row, 2, value, fmt)
            ws.data_validation(row, 2, row, 2, {"validate": "list", "source": list(spec.choices)})
        else:
            ws.write_number(row, 2, value, fmt)
            ws.data_validation(row, 2, row, 2, {
                "validate": "integer" if isinstance(value, int) else "decimal", "criteria": "between",
                "minimum": spec.min, "maximum": spec.max,
                "error_message": f"{spec.label}: between {spec.min:g} and {spec.max:g} {spec.unit}"})
        ws.write_string(row, 3, spec.unit, f.text)
        ws.write_string(row, 4, name, f.text)
        ws.write_string(row, 5, spec.rationale, f.wrap)
        workbook.define_name(name, _sheet_ref(sheet_name, row, 2))
        names[key] = name

    ws.merge_range(row, 0, row, 5, "Global assumptions", f.section)
    row += 1
    for k, spec in cat.globals.items():
        put_input(f"global.{k}", f"g_{k}", spec, a["global"][k], row)
        row += 1

    for sol in cat.solutions:
        row += 1
        ws.merge_range(row, 0, row, 5, f"Solution {sol.number}: {sol.name}", f.section)
        row += 1
        p = solution_prefix(sol.id)
        for k, spec in sol.assumptions.items():
            put_input(f"solutions.{sol.id}.{k}", f"{p}_{k}", spec, a["solutions"][sol.id][k], row)
            row += 1

    # ---- baseline ------------------------------------------------------------------------
    row += 1
    ws.merge_range(row, 0, row, 5, "Baseline measured from the data (not inputs: re-run ETL Desk to change)",
                   f.section)
    row += 1

    def put_fixed(key: str, name: str, label: str, value, unit: str, note: str, fmt, row: int,
                  formula: str | None = None) -> None:
        ws.write_string(row, 0, key, f.text)
        ws.write_string(row, 1, label, f.text)
        if formula is not None:
            ws.write_formula(row, 2, formula, fmt, value)
        elif value is None:
            ws.write_number(row, 2, 0, fmt)
        else:
            ws.write_number(row, 2, value, fmt)
        ws.write_string(row, 3, unit, f.text)
        ws.write_string(row, 4, name, f.text)
        ws.write_string(row, 5, note, f.wrap)
        workbook.define_name(name, _sheet_ref(sheet_name, row, 2))
        names[key] = name

    g = a["global"]
    factor = baseline.factor(g["annualisation"])
    put_fixed("baseline.runs", "bl_runs", "Runs in the data", baseline.runs, "runs", "Rows of the job-run table.",
              f.int, row)
    row += 1
    put_fixed("baseline.span_days", "bl_span_days", "Observed span", baseline.span_days, "days",
              f"First start {baseline.first_start or '-'} to last end {baseline.last_end or '-'}; at least 1 day.",
              f.num4, row)
    row += 1
    put_fixed("baseline.active_days", "bl_active_days", "Days with at least one run", baseline.active_days, "days",
              "Used when the annualisation method is active_days.", f.int, row)
    row += 1
    put_fixed("baseline.annualisation_factor", "bl_annualisation_factor", "Annualisation factor", factor,
              "x", "365 / observed span (method span) or 365 / active days (method active_days).", f.num4, row,
              formula='=IF(g_annualisation="active_days",365/MAX(bl_active_days,1),365/bl_span_days)')
    row += 1
    for k in MEASURED:
        v = baseline.observed[k]
        note = "Sum of Cost (USD) over the data."
        if v is None:
            note = "Not measurable: the source has no data-volume column; taken as 0."
        elif k == "anomaly_excess_cost":
            note = f"Flagged runs' cost above their pipeline's median cost. Source: {baseline.anomaly_source}."
        elif k == "large_volume_cost" and baseline.large_volume_threshold_gb is not None:
            note = f"Runs at or above {baseline.large_volume_threshold_gb:,.2f} GB (80th percentile)."
        put_fixed(f"baseline.{k}_observed", f"bl_{k}_observed", MEASURED_LABELS[k] + ", observed", v,
                  "USD over the span", note, f.usd, row)
        row += 1
    annual = baseline.annual(a)
    put_fixed("baseline.compute_cost", "bl_compute_cost", "Job-run (compute) cost, annualised",
              annual["compute_cost"], "USD per year", "Observed x annualisation factor / data coverage.",
              f.usd, row, formula="=bl_compute_cost_observed*bl_annualisation_factor/g_data_coverage")
    row += 1
    row += 1
    ws.write_string(row, 0, "Targets a solution can act on (annual run-rate, the cost of doing nothing)", f.header)
    row += 1
    tgt = targets()
    first = row
    for k in TARGET_KEYS:
        if k in MEASURED:
            formula = f"=bl_{k}_observed*bl_annualisation_factor/g_data_coverage"
            note = "Observed x annualisation factor / data coverage."
        elif k == "storage_cost":
            formula = "=g_storage_usd_per_month*12"
            note = "Storage cost assumption x 12 (job runs do not carry storage)."
        else:
            formula = "=bl_compute_cost+bl_storage_cost"
            note = "Annualised job-run cost + storage: the yearly cost of doing nothing."
        put_fixed(f"baseline.{k}", f"bl_{k}", tgt[k].label + ", annualised", annual[k] or 0.0, "USD per year",
                  note + " " + tgt[k].description, f.usd, row, formula=formula)
        ws.write_string(row, 0, f"baseline.{k}", f.text)
        row += 1
    workbook.define_name("bl_target_keys", _sheet_ref(sheet_name, first, 0, row - 1, 0))
    workbook.define_name("bl_target_values", _sheet_ref(sheet_name, first, 2, row - 1, 2))
    names["baseline.target_keys"] = "bl_target_keys"
    names["baseline.target_values"] = "bl_target_values"
    row += 1
    ws.write_string(row, 0, "Annualisation: " + baseline.method_text(g["annualisation"], g["data_coverage"]), f.note)
    for i, note in enumerate(baseline.notes, 1):
        ws.write_string(row + i, 0, "Note: " + note, f.note)
    return names
