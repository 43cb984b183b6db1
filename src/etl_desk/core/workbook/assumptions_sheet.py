"""The Assumptions sheet: every input in a named cell, the measured baseline as formulas over the Data table.

Columns: label, value, unit, rationale, defined name, key (the dotted assumption key, so
:func:`etl_desk.core.business_case.assumptions.assumptions_from_items` can read it back).
Inputs are blue text on yellow and unlocked; everything else is locked (the sheet is
protected without a password). Sections: conventions (named constants), global inputs,
scenario multipliers, sensitivity ranges, the five solutions, the measured baseline, the
assumed lines and the cost of doing nothing as counted.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any

from etl_desk.core.business_case.assumptions import validate_assumptions
from etl_desk.core.business_case.baseline import ASSUMED, MEASURED, TARGET_KEYS
from etl_desk.core.business_case.catalogue import catalogue, targets
from etl_desk.core.business_case.model import BusinessCase
from etl_desk.core.data.xlsx_book import print_setup
from etl_desk.core.data.xlsx_sheet import excel_serial
from etl_desk.core.workbook.formats import Styles, wrapped_height
from etl_desk.core.workbook.names import ASSUMPTIONS_SHEET, CONSTANTS, define, prefix

MEASURED_LABELS = {
    "compute_cost": "Job-run (compute) cost",
    "failed_cost": "Failed-run cost",
    "retry_cost": "Retry cost (attempt > 1)",
    "on_demand_cost": "On-demand compute cost (spot-eligible runs)",
    "large_volume_cost": "Large-volume run cost (top 20 % by GB)",
    "anomaly_excess_cost": "Anomaly excess cost (above pipeline median)",
}
WIDTHS = (44, 16, 20, 70, 30, 44)


@dataclass(frozen=True)
class DataRefs:
    """How the workbook's formulas may reach the runs: the Excel table and its column labels.

    ``complete``: the table holds every run (one Data sheet, nothing truncated), so the
    measured baseline and the KPIs can be formulas over it. ``anomaly_table``: name of
    the Anomalies sheet's per-run table (``None`` when absent).
    """

    table: str
    labels: frozenset[str]
    complete: bool
    anomaly_table: str | None = None
    anomaly_excess_label: str = "Excess over pipeline median (USD)"
    why_values: str = "the Data sheet holds only part of them"

    def col(self, label: str) -> str:
        """Structured reference to column *label* of the Data table, e.g. ``Runs[Cost (USD)]``."""
        return f"{self.table}[{label}]"

    def has(self, label: str) -> bool:
        """True when formulas may read column *label*: the table holds every run and has that column."""
        return self.complete and label in self.labels


def _unit_key(spec_unit: str, value: Any) -> str:
    if spec_unit.startswith("USD"):
        return "usd"
    if spec_unit.startswith("fraction"):
        return "fraction"
    if isinstance(value, int) and not isinstance(value, bool):
        return "count"
    return "number"


class _Writer:
    def __init__(self, wb, ws, st: Styles):
        self.wb, self.ws, self.st = wb, ws, st
        self.row = 0

    def line(self, label: str, value, unit: str, rationale: str, name: str | None, key: str = "", *,
             fmt=None, formula: str | None = None, is_input: bool = False, validation: dict | None = None,
             label_fmt=None) -> int:
        ws, st, r = self.ws, self.st, self.row
        ws.write_string(r, 0, label, label_fmt or st.wrap)
        if formula is not None:
            ws.write_formula(r, 1, formula, fmt, value)
        elif isinstance(value, bool):
            ws.write_boolean(r, 1, value, fmt)
        elif isinstance(value, str):
            ws.write_string(r, 1, value, fmt)
        elif value is None:
            ws.write_blank(r, 1, None, fmt)
        else:
            ws.write_number(r, 1, float(value), fmt)
        if validation:
            ws.data_validation(r, 1, r, 1, validation)
        ws.write_string(r, 2, unit, st.text)
        ws.write_string(r, 3, rationale, st.wrap)
        ws.write_string(r, 4, name or "", st.text)
        ws.write_string(r, 5, key, st.text)
        if name:
            define(self.wb, name, ASSUMPTIONS_SHEET, r, 1)
        ws.set_row(r, max(wrapped_height(rationale, WIDTHS[3]), wrapped_height(label, WIDTHS[0])))
        self.row += 1
        return r

    def section(self, text: str) -> None:
        self.row += 1
        self.ws.merge_range(self.row, 0, self.row, 5, text, self.st.section)
        self.row += 1

    def note(self, text: str, fmt=None) -> None:
        self.ws.merge_range(self.row, 0, self.row, 5, text, fmt or self.st.note)
        self.ws.set_row(self.row, wrapped_height(text, sum(WIDTHS)))
        self.row += 1


def _input(w: _Writer, key: str, name: str, spec, value) -> None:
    st = w.st
    kind = spec.kind
    if kind == "bool":
        w.line(spec.label, bool(value), "TRUE / FALSE", spec.rationale, name, key, fmt=st.input_text,
               validation={"validate": "list", "source": ["TRUE", "FALSE"]})
    elif kind == "choice":
        w.line(spec.label, str(value), "one of: " + ", ".join(spec.choices), spec.rationale, name, key,
               fmt=st.input_text, validation={"validate": "list", "source": list(spec.choices)})
    elif kind == "date":
        d = value if isinstance(value, _dt.date) else _dt.date.fromisoformat(value)
        serial = float(excel_serial([d.isoformat()])[0])
        w.line(spec.label, serial, spec.unit, spec.rationale, name, key, fmt=st.input["date"],
               validation={"validate": "date", "criteria": "between", "minimum": _dt.date(1990, 1, 1),
                           "maximum": _dt.date(2100, 12, 1), "error_message": "a date: the first day of a month"})
    else:
        unit = _unit_key(spec.unit, value)
        fmt = st.input_int if unit == "count" else st.input[unit if unit != "usd" else "usd"]
        shown = spec.unit.replace("fraction", "%") if unit == "fraction" else spec.unit  # the cell shows a percentage
        w.line(spec.label, value, shown, spec.rationale, name, key, fmt=fmt, validation={
            "validate": "integer" if isinstance(value, int) and not isinstance(value, bool) else "decimal",
            "criteria": "between", "minimum": spec.min, "maximum": spec.max,
            "error_message": f"{spec.label}: between {spec.min:g} and {spec.max:g} {spec.unit}"})


def write_assumptions_sheet(wb, st: Styles, case: BusinessCase, data: DataRefs) -> None:
    """Write the Assumptions sheet of *case* (inputs, scenario and sensitivity ranges, baseline)."""
    a = validate_assumptions(case.assumptions)
    cat = catalogue()
    ws = wb.add_worksheet(ASSUMPTIONS_SHEET)
    for j, wdt in enumerate(WIDTHS):
        ws.set_column(j, j, wdt)
    w = _Writer(wb, ws, st)
    ws.write_string(0, 0, "Business-case assumptions", st.title)
    w.row = 1
    w.note("Inputs are blue text on yellow: change one and every figure of the Business Case, Annual cash flows, "
           "Scenarios, Checks and Decision sheets follows. Each input has a defined name (column E) the formulas "
           "use; column F is its key in an ETL Desk assumptions file. Every other cell is locked (Review > "
           "Unprotect sheet, no password). Money is US dollars; fractions show as percentages.")
    w.row += 1
    ws.write_row(w.row, 0, ("Assumption", "Value", "Unit", "Rationale", "Defined name", "Key"), st.header)
    hdr = w.row
    ws.freeze_panes(hdr + 1, 0)
    w.row += 1

    w.section("Conventions (named constants, used by every formula instead of bare numbers)")
    why = {"c_days_per_year": "A year is 365 days.", "c_days_per_week": "A week is 7 days (52.14 weeks a year).",
           "c_months_per_year": "A month is a twelfth of a year (30.42 days).",
           "c_quarters_per_year": "A quarter is a quarter of a year.",
           "c_working_weeks_per_year": "A person-year is 50 working weeks: a full-time person costs the loaded "
                                       "weekly rate x 50 a year.",
           "c_schedule_months": "The monthly schedule runs 120 months (the longest horizon), so a payback after "
                                "the horizon is still found."}
    for name, v in CONSTANTS.items():
        w.line(name.replace("c_", "").replace("_", " ").capitalize(), v, "", why[name], name, "constant",
               fmt=st.num["count"])

    w.section("Global assumptions")
    for k, spec in cat.globals.items():
        v = case.start if k == "start_date" else a["global"][k]
        _input(w, f"global.{k}", f"g_{k}", spec, v)
        if k in ("storage_usd_per_month", "incident_hours_per_failure"):
            flag = "g_storage_confirmed" if k == "storage_usd_per_month" else "g_incident_confirmed"
            ws.conditional_format(w.row - 1, 0, w.row - 1, 0, {"type": "formula", "criteria": f"=NOT({flag})",
                                                                "format": st.placeholder})

    w.section("Scenarios: multipliers of the key inputs (base = 1; the scenario input picks the one in force)")
    for d, drv in cat.scenario_drivers.items():
        for sc in ("low", "high"):
            w.line(f"{drv.label}: {sc} scenario", a["scenarios"][sc][d], "x", drv.rationale, f"sc_{sc}_{d}",
                   f"scenarios.{sc}.{d}", fmt=st.input["ratio"], validation={
                       "validate": "decimal", "criteria": "between", "minimum": 0.01, "maximum": 10})
        w.line(f"{drv.label}: in force", case.multipliers[d], "x", "The multiplier of the scenario in force.",
               f"sc_{d}", fmt=st.num["ratio"],
               formula=f'=IF(g_scenario="low",sc_low_{d},IF(g_scenario="high",sc_high_{d},1))')

    w.section("Sensitivity ranges (one input at a time; multipliers scale the input, others replace it)")
    for k, drv in cat.sensitivity.items():
        spec = cat.globals.get(k)
        unit = "x" if drv.kind == "multiplier" else spec.unit
        fmt = st.input["ratio"] if drv.kind == "multiplier" else (
            st.input["fraction"] if spec.unit.startswith("fraction") else
            st.input_int if k == "horizon_years" else st.input["usd" if spec.unit.startswith("USD") else "number"])
        for end in ("low", "high"):
            w.line(f"{drv.label}: {end}", a["sensitivity"][k][end], unit, drv.rationale, f"sens_{k}_{end}",
                   f"sensitivity.{k}.{end}", fmt=fmt)

    for sol in cat.solutions:
        w.section(f"Solution {sol.number}: {sol.name}")
        p = prefix(sol.id)
        for k, spec in sol.assumptions.items():
            _input(w, f"solutions.{sol.id}.{k}", f"{p}_{k}", spec, a["solutions"][sol.id][k])

    _baseline(w, case, data)
    print_setup(ws, header_rows=hdr, title=ASSUMPTIONS_SHEET)
    ws.repeat_rows(hdr)
    ws.print_area(0, 0, w.row, 5)
    ws.protect("", {"format_columns": True, "format_rows": True, "select_locked_cells": True,
                    "select_unlocked_cells": True})


def _baseline(w: _Writer, case: BusinessCase, data: DataRefs) -> None:
    st, b = w.st, case.baseline
    g = case.assumptions["global"]
    cost = data.col("Cost (USD)")
    src = "formula over the Data sheet's Runs table" if data.complete else (
        f"computed by ETL Desk over all {b.runs:,} runs; values, as {data.why_values}")
    w.section(f"Measured baseline: sums over the runs ({src})")

    def measured(label, name, value, unit, note, formula=None, fmt=None):
        w.line(label, value, unit, note, name, fmt=fmt or st.num["usd"], formula=formula if data.complete else None)

    measured("Runs in the data", "bl_runs", b.runs, "runs", "Rows of the Runs table.",
             f"=ROWS({data.col('Job ID')})", st.num["count"])
    measured("Failed runs", "bl_failed_runs", b.counts.get("failed_runs") or 0, "runs",
             "Runs whose status is Failed.", f'=COUNTIFS({data.col("Job Status")},"Failed")', st.num["count"])
    span_f = (f"=MAX(MAX({data.col('End Time')})-MIN({data.col('Start Time')}),1)"
              if data.has("End Time") and data.has("Start Time") else None)
    measured("Observed span", "bl_span_days", b.span_days, "days",
             f"Last end {b.last_end or '-'} minus first start {b.first_start or '-'} (UTC), at least one day.",
             span_f, st.num["factor"])
    w.line("Days with at least one run", b.active_days, "days",
           "Distinct calendar days with a run start (computed by ETL Desk); used by the active_days method.",
           "bl_active_days", fmt=st.num["count"])
    w.line("Annualisation factor", b.factor(g["annualisation"]), "x",
           "span: c_days_per_year / observed span; active_days: c_days_per_year / days with a run.",
           "bl_annualisation_factor", fmt=st.num["factor"],
           formula='=IF(g_annualisation="active_days",c_days_per_year/MAX(bl_active_days,1),'
                   'c_days_per_year/bl_span_days)')
    thr = b.large_volume_threshold_gb
    if thr is not None:
        measured("Large-volume threshold (80th percentile of GB)", "bl_large_volume_threshold_gb", thr, "GB",
                 "PERCENTILE of Data Processed (GB) at 0.8 (linear, as numpy's default).",
                 f"=PERCENTILE({data.col('Data Processed (GB)')},0.8)", st.num["number"])
    formulas = {
        "compute_cost": f"=SUM({cost})",
        "failed_cost": f'=SUMIFS({cost},{data.col("Job Status")},"Failed")',
        "retry_cost": f'=SUMIFS({cost},{data.col("Attempt")},">1")' if data.has("Attempt") else None,
        "on_demand_cost": (f"=SUM({cost})-SUMIFS({cost},{data.col('Spot')},TRUE)" if data.has("Spot")
                           else f"=SUM({cost})"),
        "large_volume_cost": (f"=SUMPRODUCT({cost}*({data.col('Data Processed (GB)')}>=bl_large_volume_threshold_gb))"
                              if thr is not None else None),
        "anomaly_excess_cost": (f"=SUM({data.anomaly_table}[{data.anomaly_excess_label}])"
                                if data.anomaly_table else None),
    }
    for k in MEASURED:
        v = b.observed[k]
        note = "Sum of Cost (USD) over the priced runs."
        if v is None:
            why = ("no attempt or retry column: retries are unknown, not 0" if k == "retry_cost"
                   else "no data-volume column")
            w.line(MEASURED_LABELS[k] + ", observed", "n/a", "USD over the span",
                   f"Not measurable from this source ({why}): a solution acting on it has an unknown input and "
                   f"saves nothing here.", f"bl_{k}_observed", fmt=st.na)
            continue
        if k == "anomaly_excess_cost":
            note = f"Total of the Anomalies sheet's excess column. Source: {b.anomaly_source}."
        elif k == "retry_cost" and formulas[k] is None:
            note = "No run in this data is a retry (every recorded attempt is 1)."
        elif k == "on_demand_cost" and not data.has("Spot"):
            note = "No spot column: every run is taken as on-demand."
        formula = formulas[k] if (data.complete or k == "anomaly_excess_cost") else None
        w.line(MEASURED_LABELS[k] + ", observed", v, "USD over the span", note, f"bl_{k}_observed",
               fmt=st.num["usd"], formula=formula)

    w.section("Assumed lines: not in the runs; counted only once confirmed on the inputs above")
    assumed = case.assumed
    w.line("Failed runs a year", b.failed_runs_per_year(case.assumptions), "runs per year",
           "Failed runs x annualisation factor / data coverage x scenario baseline multiplier.",
           "bl_failed_runs_per_year", fmt=st.num["number"],
           formula="=bl_failed_runs*bl_annualisation_factor/g_data_coverage*sc_baseline")
    w.line("Storage bill, ASSUMED", assumed["storage_cost"], "USD per year",
           "Storage bill input x 12. A placeholder until the real bill is entered and confirmed.",
           "bl_storage_cost_assumed", fmt=st.num["usd"], formula="=g_storage_usd_per_month*c_months_per_year",
           label_fmt=st.placeholder if not g["storage_confirmed"] else None)
    w.line("Engineer time on failures, ASSUMED", assumed["incident_cost"], "USD per year",
           "Failed runs a year x hours per failure x cost per hour: an assumption, not measured.",
           "bl_incident_cost_assumed", fmt=st.num["usd"],
           formula="=bl_failed_runs_per_year*g_incident_hours_per_failure*g_incident_usd_per_hour",
           label_fmt=st.placeholder if not g["incident_confirmed"] else None)

    w.section("Cost of doing nothing, as counted (USD a year): what a solution can act on")
    first = w.row
    tg = targets()
    for k in TARGET_KEYS:
        v = case.annual[k]
        if k in MEASURED:
            formula = (f"=IF(ISNUMBER(bl_{k}_observed),bl_{k}_observed*bl_annualisation_factor/g_data_coverage"
                       f"*sc_baseline,0)")
            note = "MEASURED: observed x annualisation factor / data coverage x scenario baseline multiplier."
        elif k in ASSUMED:
            flag = "g_storage_confirmed" if k == "storage_cost" else "g_incident_confirmed"
            formula = f"=IF({flag},bl_{k}_assumed,0)"
            note = "ASSUMED: counted only when confirmed (else 0)."
        else:
            formula = "=bl_compute_cost+bl_storage_cost+bl_incident_cost"
            note = "Measured job-run cost + the confirmed assumed lines: the yearly cost of doing nothing."
        w.line(tg[k].label + ", a year", v or 0.0, "USD per year", note + " " + tg[k].description, f"bl_{k}",
               f"baseline.{k}", fmt=st.bold["usd"] if k == "total_cost" else st.num["usd"], formula=formula)
    w.line("Job-run (compute) cost, a year", case.annual["compute_cost"], "USD per year",
           "MEASURED: all runs' cost, annualised.", "bl_compute_cost", "baseline.compute_cost", fmt=st.num["usd"],
           formula="=bl_compute_cost_observed*bl_annualisation_factor/g_data_coverage*sc_baseline")
    define(w.wb, "bl_target_keys", ASSUMPTIONS_SHEET, first, 5, first + len(TARGET_KEYS) - 1, 5)
    define(w.wb, "bl_target_values", ASSUMPTIONS_SHEET, first, 1, first + len(TARGET_KEYS) - 1, 1)
    define(w.wb, "bl_target_labels", ASSUMPTIONS_SHEET, first, 0, first + len(TARGET_KEYS) - 1, 0)
    w.row += 1
    w.note("Annualisation: " + b.method_text(g["annualisation"], g["data_coverage"]) + ".")
    for n in b.notes:
        w.note("Note: " + n + ".")
