"""LibreOffice recalculates the finance workbook and gets the app's figures -- also after inputs change.

A workbook exported with the defaults is edited the way finance would (the scenario switch
and three inputs), recalculated by LibreOffice (fresh profile, recalculation forced), and
every formula cell of every report sheet -- business case, scenarios, sensitivity, annual
roll-up, decision ranking, checks, chart data, array formulas -- is compared with a workbook
the app exported for the same inputs. LibreOffice runs take seconds; the module shares them.
"""
from __future__ import annotations

import copy
import re
import zipfile

import openpyxl
import pytest

from tests.lo_recalc import compare_cached, is_formula, recalc, require_soffice

from etl_desk.core.business_case.results import compute_results, with_assumptions
from etl_desk.core.data.generate import generate
from etl_desk.core.workbook.export import export_workbook

REPORT_SHEETS = ["Decision", "Cover", "Assumptions", "Business Case", "Annual cash flows", "Scenarios", "Checks",
                 "KPIs", "Charts", "Monthly schedule", "Anomalies"]
#: The edits: the scenario switch and three inputs (defined name -> value, assumption path -> value).
EDITS = {"g_scenario": ("global.scenario", "low"), "g_horizon_years": ("global.horizon_years", 5),
         "g_data_coverage": ("global.data_coverage", 0.5),
         "error_monitoring_effect": ("solutions.error-monitoring.effect", 0.7)}


def _set(a: dict, path: str, value) -> None:
    parts = path.split(".")
    (a["global"] if parts[0] == "global" else a["solutions"][parts[1]])[parts[-1]] = value


def _cells(path, data_only: bool) -> dict:
    wb = openpyxl.load_workbook(path, data_only=data_only)
    return {(ws.title, c.coordinate): c.value for ws in wb if ws.title in REPORT_SHEETS
            for row in ws.iter_rows() for c in row}


def differences(app_book, lo_book) -> tuple[int, list]:
    """Formula cells of *app_book* whose cached value differs from *lo_book*'s (money to $0.01)."""
    formulas, want, got = _cells(app_book, False), _cells(app_book, True), _cells(lo_book, True)
    bad, n = [], 0
    for k, f in formulas.items():
        if not is_formula(f):
            continue
        n += 1
        x, y = want.get(k), got.get(k)
        x, y = (None if x == "" else x), (None if y == "" else y)
        if isinstance(x, (int, float)) and isinstance(y, (int, float)) and not isinstance(x, bool):
            if abs(x - y) > 0.01 + 1e-9 * abs(x):
                bad.append((k, x, y))
        elif x != y:
            bad.append((k, x, y))
    return n, bad


def _edited_pair(tmp, df, name):
    """(the app's workbook for the edited inputs, LibreOffice's recalculation of the edited default workbook)."""
    res = compute_results(df)
    (tmp / "in").mkdir()
    original = tmp / "in" / f"{name}.xlsx"
    export_workbook(original, df, res, source=name)
    a = copy.deepcopy(res.assumptions)
    for _, (path, v) in EDITS.items():
        _set(a, path, v)
    app = tmp / f"{name}-app.xlsx"
    export_workbook(app, df, with_assumptions(res, a), source=name)
    wb = openpyxl.load_workbook(original)
    for defined, (_, v) in EDITS.items():
        (sheet, ref), = wb.defined_names[defined].destinations
        wb[sheet][ref.replace("$", "")].value = v
    edited = tmp / "in" / f"{name}-edited.xlsx"
    wb.save(edited)
    return original, app, recalc(edited, tmp / "out"), recalc(original, tmp / "out0")


@pytest.fixture(scope="module")
def case_books(tmp_path_factory, case_study):
    require_soffice()
    return _edited_pair(tmp_path_factory.mktemp("recalc-case"), case_study, "case")


@pytest.fixture(scope="module")
def realistic_books(tmp_path_factory):
    require_soffice()
    df = generate("realistic", runs=6000, seed=3, anomaly_rate=0.01)
    return _edited_pair(tmp_path_factory.mktemp("recalc-real"), df, "real")


@pytest.mark.slow
@pytest.mark.parametrize("books", ["case_books", "realistic_books"])
def test_the_workbook_as_exported_recalculates_to_the_app(books, request):
    original, _, _, lo = request.getfixturevalue(books)
    sheets = [s for s in openpyxl.load_workbook(original, read_only=True).sheetnames if s in REPORT_SHEETS]
    assert compare_cached(original, lo, sheets) == []


@pytest.mark.slow
@pytest.mark.parametrize("books", ["case_books", "realistic_books"])
def test_after_the_scenario_switch_and_three_inputs_every_figure_equals_the_app(books, request):
    _, app, lo, _ = request.getfixturevalue(books)
    n, bad = differences(app, lo)
    assert n > 10_000  # business case, schedule, scenarios, sensitivity, annual roll-up, decision, checks, charts
    assert bad == []
    got = _cells(lo, True)
    # the edits reached the figures: the scenario is low, and the Checks flag still says OK
    dec = openpyxl.load_workbook(lo, data_only=True)["Decision"]
    assert dec["K1"].value == "OK"
    assert any(v == "low" for v in got.values())


@pytest.mark.slow
def test_charts_follow_the_horizon(case_books):
    """Horizon 3 -> 5 years in the sheet: the chart data run to month 60 and stop there (#N/A after)."""
    original, _, lo, before = case_books
    ws_lo = openpyxl.load_workbook(lo, data_only=True)["Charts"]
    ws_0 = openpyxl.load_workbook(before, data_only=True)["Charts"]
    ws_f = openpyxl.load_workbook(original)["Charts"]
    month_cells = [c for row in ws_f.iter_rows() for c in row
                   if isinstance(c.value, str) and "<=g_horizon_years*c_months_per_year," in c.value
                   and c.value.startswith("=IF(") and c.value.endswith(",NA())") and c.column == 37]
    assert len(month_cells) == 121  # months 0..120, all in the chart ranges
    months_lo = [ws_lo[c.coordinate].value for c in month_cells]
    months_0 = [ws_0[c.coordinate].value for c in month_cells]
    assert months_0[:37] == list(range(37)) and set(months_0[37:]) == {"#N/A"}
    assert months_lo[:61] == list(range(61)) and set(months_lo[61:]) == {"#N/A"}
    with zipfile.ZipFile(original) as z:
        xml = "".join(z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart"))
    rows = {int(a) for a in re.findall(r"Charts'?!\$AK\$\d+:\$AK\$(\d+)", xml)}
    firsts = {int(a) for a in re.findall(r"Charts'?!\$AK\$(\d+):\$AK\$\d+", xml)}
    assert rows and all(last - first == 120 for first, last in zip(sorted(firsts), sorted(rows)))


@pytest.mark.slow
def test_a_wrong_cached_value_is_caught(case_books, tmp_path):
    original, _, _, lo = case_books
    index = openpyxl.load_workbook(original, read_only=True).sheetnames.index("Business Case") + 1
    part = f"xl/worksheets/sheet{index}.xml"
    tampered = tmp_path / "tampered.xlsx"
    with zipfile.ZipFile(original) as zin, zipfile.ZipFile(tampered, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == part:
                text, count = re.subn(r"(<f>[^<]+</f><v>)(\d{4,}(?:\.\d+)?)</v>",
                                      lambda m: f"{m.group(1)}{float(m.group(2)) + 5.0!r}</v>", data.decode(), count=1)
                assert count == 1
                data = text.encode()
            zout.writestr(item, data)
    bad = compare_cached(tampered, lo, ["Business Case"])
    assert len(bad) == 1 and bad[0].startswith("Business Case!")
