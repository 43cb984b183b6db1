"""The finance sheets as written: names, inputs, formulas, formats by unit, print set-up (no LibreOffice needed)."""
from __future__ import annotations

import copy
import datetime as _dt

import openpyxl
import pytest

from etl_desk.core.business_case.assumptions import assumptions_from_items, default_assumptions
from etl_desk.core.business_case.results import compute_results, with_assumptions
from etl_desk.core.workbook.export import export_workbook


@pytest.fixture(scope="module")
def book(tmp_path_factory, case_study):
    p = tmp_path_factory.mktemp("fx") / "case.xlsx"
    res = compute_results(case_study)
    export_workbook(p, case_study, res, source="case study")
    return p, res


def _named(wb, name):
    (sheet, ref), = wb.defined_names[name].destinations
    return wb[sheet][ref.replace("$", "")]


def test_inputs_are_named_labelled_and_read_back(book):
    p, res = book
    wb = openpyxl.load_workbook(p)
    ws = wb["Assumptions"]
    rows = {r[5].value: r for r in ws.iter_rows(min_row=5) if r[5].value and "." in str(r[5].value)}
    r = rows["solutions.error-monitoring.effect"]
    # label first, then value, unit, rationale, defined name, key (D28)
    assert r[0].value == "Effect on target" and r[1].value == 0.4 and r[2].value == "% of target"
    assert r[3].value and r[4].value == "error_monitoring_effect"
    assert r[1].protection.locked is False and ws.protection.sheet  # inputs unlocked, the rest locked (D29)
    assert r[1].number_format == "0.0%"
    # the sheet reads back as the assumptions it was written from (start date: the resolved month)
    items = [(k, r[1].value) for k, r in rows.items() if k.split(".")[0] in ("global", "solutions", "scenarios",
                                                                             "sensitivity")]
    items = [(k, v.date() if isinstance(v, _dt.datetime) else v) for k, v in items]
    back = assumptions_from_items(items)
    want = copy.deepcopy(res.assumptions)
    want["global"]["start_date"] = res.case.start.isoformat()
    assert back == want


def test_named_constants_replace_bare_numbers(book):
    wb = openpyxl.load_workbook(book[0])
    for name, v in (("c_days_per_year", 365), ("c_working_weeks_per_year", 50), ("c_months_per_year", 12)):
        assert _named(wb, name).value == v
    mnt = _named(wb, "bc_error_monitoring_mnt").value
    assert mnt == ("=(error_monitoring_maintenance_usd_per_year+error_monitoring_maintenance_fte*"
                   "error_monitoring_weekly_rate_usd*c_working_weeks_per_year)*sc_maintenance")
    formulas = [c.value for ws in wb for row in ws.iter_rows() for c in row
                if isinstance(c.value, str) and c.value.startswith("=") and ws.title == "Business Case"]
    assert not [f for f in formulas if "365" in f or "*7*" in f or "/7" in f]  # no bare calendar constants (D29)


def test_scenario_switch_is_a_named_input_that_drives_the_multipliers(book):
    wb = openpyxl.load_workbook(book[0])
    assert _named(wb, "g_scenario").value == "base"
    assert _named(wb, "sc_effect").value == '=IF(g_scenario="low",sc_low_effect,IF(g_scenario="high",sc_high_effect,1))'
    inv = _named(wb, "bc_cost_optimisation_inv").value
    assert inv.endswith("*sc_investment")


def test_measured_and_assumed_baseline_split(book):
    p, res = book
    wb = openpyxl.load_workbook(p)
    cached = openpyxl.load_workbook(p, data_only=True)
    assert _named(wb, "bl_compute_cost_observed").value == "=SUM(Runs[Cost (USD)])"  # D6
    assert _named(wb, "bl_failed_cost_observed").value == '=SUMIFS(Runs[Cost (USD)],Runs[Job Status],"Failed")'
    assert _named(wb, "bl_storage_cost").value == "=IF(g_storage_confirmed,bl_storage_cost_assumed,0)"  # D4
    assert _named(cached, "bl_storage_cost_assumed").value == 12_000
    assert _named(cached, "bl_storage_cost").value == 0
    assert _named(cached, "bl_total_cost").value == pytest.approx(res.case.annual["compute_cost"])


def test_payback_beyond_the_horizon_is_a_number_with_a_flag(tmp_path, case_study):
    """D1: an option that pays back after the horizon shows the month and says so, not 'never'."""
    res = compute_results(case_study)
    a = copy.deepcopy(res.assumptions)
    a["global"].update(data_coverage=0.02, portfolio="enabled")  # the sample is 2 % of a large estate
    res = with_assumptions(res, a)
    later = [r for r in res.case.solutions if r.payback_status == "beyond the horizon"]
    assert later, [(r.id, r.payback_months, r.payback_status) for r in res.case.solutions]
    r = later[0]
    assert r.payback_months > 36
    p = tmp_path / "b.xlsx"
    export_workbook(p, case_study, res)
    wb = openpyxl.load_workbook(p, data_only=True)
    pid = r.id.replace("-", "_")
    assert _named(wb, f"bc_{pid}_pb").value == pytest.approx(r.payback_months)
    assert _named(wb, f"bc_{pid}_pb_status").value == "beyond the horizon"


def test_print_setup_of_the_finance_sheets(book):
    wb = openpyxl.load_workbook(book[0])
    for name in ("Decision", "Assumptions", "Business Case", "Annual cash flows", "Scenarios", "Checks"):
        ws = wb[name]
        assert ws.print_area, name
        assert ws.page_setup.fitToWidth in (None, 1) and ws.sheet_properties.pageSetUpPr.fitToPage, name
    # wrapped labels get the rows they need (D9, D10)
    bc = wb["Business Case"]
    inv = next(r for r in bc.iter_rows(min_row=5) if str(r[0].value).startswith("Investment"))
    assert bc.row_dimensions[inv[0].row].height >= 30
    # the data sheet prints its first page only (D24)
    assert wb["Data"].print_area == "'Data'!$A$1:$H$41"
