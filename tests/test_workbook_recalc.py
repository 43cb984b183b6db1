"""Recalculate the exported workbook with LibreOffice: every Business Case figure equals the app's.

LibreOffice runs take several seconds each, so one recalculated copy of the
case-study workbook is shared by the tests of this module (two runs in all: the
workbook as exported, and with one assumption changed).
"""
from __future__ import annotations

import re
import shutil
import zipfile

import openpyxl
import pytest

from tests.lo_recalc import recalc, require_soffice

from etl_desk.core.business_case.results import compute_results
from etl_desk.core.workbook.export import export_workbook

SHEET = "Business Case"
TOLERANCE = 0.01  # dollars


def _formula_cells(path) -> set[str]:
    ws = openpyxl.load_workbook(path)[SHEET]
    return {c.coordinate for row in ws.iter_rows() for c in row
            if isinstance(c.value, str) and c.value.startswith("=")}


def _values(path, coords) -> dict:
    ws = openpyxl.load_workbook(path, data_only=True)[SHEET]
    return {k: ws[k].value for k in coords}


def mismatches(expected: dict, actual: dict, tol: float = TOLERANCE) -> list[str]:
    """Cells whose numbers differ by more than *tol* (or whose kind differs)."""
    out = []
    for k, e in expected.items():
        a = actual.get(k)
        if isinstance(e, bool) or isinstance(a, bool) or not isinstance(e, (int, float)):
            if (e or "") != (a or "") and not (isinstance(e, (int, float)) and isinstance(a, (int, float))):
                out.append(f"{k}: app {e!r}, LibreOffice {a!r}")
            continue
        if not isinstance(a, (int, float)) or abs(float(e) - float(a)) > tol:
            out.append(f"{k}: app {e!r}, LibreOffice {a!r}")
    return out


@pytest.fixture(scope="module")
def books(tmp_path_factory, case_study):
    require_soffice()
    root = tmp_path_factory.mktemp("recalc")
    (root / "in").mkdir()
    original = root / "in" / "case.xlsx"
    result = export_workbook(original, case_study, compute_results(case_study), source="case study")
    recalced = recalc(original, root / "out")
    return original, recalced, result


def test_every_business_case_figure_matches_the_app(books):
    original, recalced, _ = books
    coords = _formula_cells(original)
    assert len(coords) > 100
    cached = _values(original, coords)  # the values ETL Desk computed, stored beside each formula
    numbers = [v for v in cached.values() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    assert len(numbers) > 100
    again = _values(recalced, coords)
    assert mismatches(cached, again) == []


def test_portfolio_figures_equal_the_finance_model(books, case_study):
    from etl_desk.core.business_case.model import business_case

    original, recalced, _ = books
    case = business_case(case_study)
    ws = openpyxl.load_workbook(recalced, data_only=True)[SHEET]
    numbers = [c.value for row in ws.iter_rows() for c in row
               if isinstance(c.value, (int, float)) and not isinstance(c.value, bool)]
    for figure in (case.portfolio.investment_usd, case.portfolio.npv_usd, case.portfolio.savings_year):
        assert any(abs(v - figure) <= TOLERANCE for v in numbers), figure


def test_a_wrong_cached_value_is_caught(books, tmp_path):
    original, recalced, _ = books
    coords = _formula_cells(original)
    # which part is the Business Case sheet? (sheet order: Cover, Assumptions, Business Case, ...)
    index = openpyxl.load_workbook(original, read_only=True).sheetnames.index(SHEET) + 1
    part = f"xl/worksheets/sheet{index}.xml"
    tampered = tmp_path / "tampered.xlsx"
    with zipfile.ZipFile(original) as zin, zipfile.ZipFile(tampered, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == part:
                text = data.decode()
                # the first formula with a sizeable cached number gets a cached value off by $5
                def bump(m):
                    return f"{m.group(1)}{float(m.group(2)) + 5.0!r}</v>"
                text, count = re.subn(r"(<f>[^<]+</f><v>)(\d{3,}(?:\.\d+)?)</v>", bump, text, count=1)
                assert count == 1
                data = text.encode()
            zout.writestr(item, data)
    wrong = _values(tampered, coords)
    found = mismatches(wrong, _values(recalced, coords))
    assert len(found) == 1, found


def test_changing_an_assumption_changes_dependent_figures(books, tmp_path):
    original, recalced, _ = books
    wb = openpyxl.load_workbook(original)
    names = wb.defined_names
    effect = next(n for n in names if n.endswith("_effect"))
    (sheet, ref), = names[effect].destinations
    cell = wb[sheet][ref.replace("$", "")]
    old = cell.value
    assert isinstance(old, (int, float))
    cell.value = min(1.0, old + 0.3) if old < 0.7 else old - 0.3
    (tmp_path / "in").mkdir()
    edited = tmp_path / "in" / "edited.xlsx"
    wb.save(edited)
    again = recalc(edited, tmp_path / "out")
    coords = _formula_cells(original)
    before = _values(recalced, coords)
    after = _values(again, coords)
    changed = [k for k in coords if isinstance(before[k], (int, float)) and isinstance(after[k], (int, float))
               and abs(before[k] - after[k]) > TOLERANCE]
    assert len(changed) >= 5, changed
    # and the rows that changed include savings and NPV
    ws = openpyxl.load_workbook(original)[SHEET]
    labels = {str(ws.cell(ws[k].row, 1).value or "").lower() for k in changed}
    assert any("npv" in lab for lab in labels), labels
    assert any("saving" in lab for lab in labels), labels


def test_recalculated_file_opens_and_keeps_data(books, case_study):
    _, recalced, _ = books
    wb = openpyxl.load_workbook(recalced, read_only=True)
    assert "Data" in wb.sheetnames and "Charts" in wb.sheetnames
    assert shutil.which("soffice") or shutil.which("libreoffice")
