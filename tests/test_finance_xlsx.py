"""Assumptions and Business Case sheets: names, formulas, and LibreOffice recalculation to $0.01."""
from __future__ import annotations

import openpyxl
import pytest
import xlsxwriter
from etl_desk.core.workbook.assumptions_sheet import write_assumptions_sheet
from etl_desk.core.workbook.case_sheet import write_business_case_sheet

from .lo_recalc import compare_cached, recalc, require_soffice
from etl_desk.core.business_case.periods import PERIODS
from etl_desk.core.business_case.assumptions import assumptions_from_items, default_assumptions
from etl_desk.core.business_case.model import business_case, evaluate
from etl_desk.core.business_case.report import business_case_json

SHEETS = ["Assumptions", "Business Case"]


def write(path, case):
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False})
    names = write_assumptions_sheet(wb, case.assumptions, case.baseline)
    ranges = write_business_case_sheet(wb, case, names)
    chart = wb.add_chart({"type": "line"})
    chart.add_series({"name": ranges["do_nothing_name"], "categories": ranges["months"],
                      "values": ranges["do_nothing"]})
    chart.add_series({"name": ranges["portfolio_name"], "categories": ranges["months"],
                      "values": ranges["portfolio"]})
    wb.add_worksheet("Charts").insert_chart("A1", chart)
    wb.close()
    return names, ranges


def figures(ws) -> dict[str, list]:
    """Business Case summary: row label -> values of the solution, portfolio and doing-nothing columns."""
    out = {}
    for row in ws.iter_rows(min_row=5, max_row=80, max_col=9, values_only=True):
        if row[0] and row[0] not in out:
            out[row[0]] = list(row[2:9])
    return out


def expected(case) -> dict[str, list]:
    j = business_case_json(case)
    items = j["solutions"] + [j["portfolio"], j["do_nothing"]]

    def col(fn):
        return [fn(x) for x in items]

    never = lambda v: "never" if v is None else v  # noqa: E731
    exp = {
        "Investment (people x weeks x rate + tooling)": col(lambda x: x["investment_usd"]),
        "Personnel during implementation": col(lambda x: x["personnel_fte"]),
        "Implementation time": col(lambda x: x["duration_weeks"]),
        "NPV at the discount rate": col(lambda x: x["npv_usd"]),
        "Net benefit over the horizon": col(lambda x: x["net_benefit_usd"]),
        "Total spend over the horizon": col(lambda x: x["horizon_spend_usd"]),
        "Present value of total spend": col(lambda x: x["pv_spend_usd"]),
        "Payback": [never(x["payback_months"]) for x in items[:-1]] + ["n/a"],
        "ROI (net benefit / costs)": [("n/a" if x["roi"] is None else x["roi"]) for x in items[:-1]] + ["n/a"],
    }
    for per in PERIODS:
        exp[f"Maintenance per {per}"] = col(lambda x: x["maintenance_usd"][per])
        exp[f"Savings per {per}"] = col(lambda x: x["savings_usd"][per])
        exp[f"Total cost of ETL (spend - savings + maintenance) per {per}"] = col(lambda x: x["cost_usd"][per])
    return exp


def assert_matches(got: dict, exp: dict, tol=0.01):
    for label, values in exp.items():
        assert label in got, label
        for g, e in zip(got[label], values):
            if isinstance(e, str) or isinstance(g, str):
                assert g == e, (label, got[label], values)
            else:
                assert g == pytest.approx(e, abs=tol), (label, got[label], values)


@pytest.fixture(scope="module")
def case(case_study):
    return business_case(case_study)


@pytest.fixture(scope="module")
def rich_case(case_study):
    """Assumptions under which several solutions pay back, and two share a target."""
    a = default_assumptions()
    a["global"].update(data_coverage=0.02, storage_usd_per_month=40_000.0, growth_rate=0.1, horizon_years=4)
    a["solutions"]["performance-monitoring"].update(target="failed_cost", effect=0.3)
    a["solutions"]["parallel-processing"]["enabled"] = False
    return business_case(case_study, a)


def test_names_and_formulas(tmp_path, case):
    p = tmp_path / "bc.xlsx"
    names, ranges = write(p, case)
    wb = openpyxl.load_workbook(p)
    defined = set(wb.defined_names)
    for key in ("global.discount_rate", "global.horizon_years", "solutions.error-monitoring.effect",
                "solutions.data-lifecycle.people", "baseline.failed_cost", "baseline.total_cost"):
        assert names[key] in defined
    assert names["solutions.error-monitoring.effect"] == "error_monitoring_effect"
    assert {"bl_target_keys", "bl_target_values", "bc_months", "bc_cum_do_nothing", "bc_cum_portfolio"} <= defined
    # every input sits in column C with its key in A, unit in D and rationale in F
    ws = wb["Assumptions"]
    rows = {r[0].value: r for r in ws.iter_rows(min_row=5) if r[0].value}
    r = rows["solutions.error-monitoring.effect"]
    assert r[2].value == 0.4 and r[3].value == "fraction of target" and r[4].value == "error_monitoring_effect"
    assert r[5].value
    bc = wb["Business Case"]
    inv = next(row for row in bc.iter_rows(min_row=5) if row[0].value and row[0].value.startswith("Investment"))
    assert inv[2].value == ("=error_monitoring_people*error_monitoring_weeks*error_monitoring_weekly_rate_usd"
                            "+error_monitoring_tooling_usd")
    assert bc[inv[2].coordinate].number_format == '"$"#,##0.00'
    # cached values are the app's numbers
    cached = figures(openpyxl.load_workbook(p, data_only=True)["Business Case"])
    assert_matches(cached, expected(case), tol=1e-6)
    assert ranges["months"].startswith("='Business Case'!$")
    # the assumptions read back from the sheet equal the ones written
    back = assumptions_from_items((k, r[2].value) for k, r in rows.items()
                                    if k.startswith(("global.", "solutions.")))
    assert back == case.assumptions


@pytest.mark.slow
@pytest.mark.parametrize("which", ["case", "rich_case"])
def test_libreoffice_recalculation_reproduces_the_app(tmp_path, which, request):
    require_soffice()
    c = request.getfixturevalue(which)
    p = tmp_path / "bc.xlsx"
    write(p, c)
    out = recalc(p, tmp_path / "lo")
    assert compare_cached(p, out, SHEETS) == []
    got = figures(openpyxl.load_workbook(out, data_only=True)["Business Case"])
    assert_matches(got, expected(c))
    if which == "rich_case":
        assert any(isinstance(v, float) for v in got["Payback"])  # something pays back here


@pytest.mark.slow
def test_recalculation_check_can_fail(tmp_path, case):
    """A deliberately wrong cached value is caught: the comparison really recalculates."""
    require_soffice()
    case.solutions[0].npv_usd += 5.0  # the cached NPV of solution 1 is now wrong by $5
    try:
        p = tmp_path / "bad.xlsx"
        write(p, case)
    finally:
        case.solutions[0].npv_usd -= 5.0
    out = recalc(p, tmp_path / "lo")
    bad = compare_cached(p, out, SHEETS)
    # the NPV cell and the PV of spend derived from the app's NPV; nothing else
    assert 1 <= len(bad) <= 2 and all(b.startswith("Business Case!C") for b in bad), bad
    assert "=SUMPRODUCT(" in bad[0] and "recalculated" in bad[0]


@pytest.mark.slow
def test_changing_an_assumption_in_the_sheet_changes_the_figures(tmp_path, case_study, case):
    require_soffice()
    p = tmp_path / "bc.xlsx"
    names, _ = write(p, case)
    wb = openpyxl.load_workbook(p)
    ws = wb["Assumptions"]
    edits = {"solutions.data-lifecycle.effect": 0.9, "global.storage_usd_per_month": 50_000.0,
             "solutions.error-monitoring.target": "retry_cost", "solutions.cost-optimisation.enabled": False,
             "global.discount_rate": 0.12, "global.horizon_years": 5}
    for row in ws.iter_rows(min_row=5):
        if row[0].value in edits:
            row[2].value = edits[row[0].value]
    wb.save(p)
    out = recalc(p, tmp_path / "lo")
    a = default_assumptions()
    for k, v in edits.items():
        parts = k.split(".")
        (a["global"] if parts[0] == "global" else a["solutions"][parts[1]])[parts[-1]] = v
    new = evaluate(case.baseline, a)
    got = figures(openpyxl.load_workbook(out, data_only=True)["Business Case"])
    assert_matches(got, expected(new))
    assert got["NPV at the discount rate"] != figures(openpyxl.load_workbook(p, data_only=True)["Business Case"]).get(
        "NPV at the discount rate")
