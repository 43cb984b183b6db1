"""The workbook's Sources sheet and the cover's cost-basis line (issue 12: every figure says where it came from)."""
from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from etl_desk.core.business_case.results import compute_results
from etl_desk.core.data.loaders import load_path
from etl_desk.core.workbook.export import export_workbook

CASES = Path(__file__).parent / "fixtures" / "real_exports"


def _rows(ws):
    return [tuple(row) for row in ws.iter_rows(values_only=True)]


def _find(rows, first):
    return next(r for r in rows if r[0] == first)


def test_system_table_export_reconciles_billed_job_spend(tmp_path):
    folder = CASES / "shared-system-tables-sql-editor-export" / "export"
    df = load_path(folder)
    out = tmp_path / "w.xlsx"
    res = export_workbook(out, df, compute_results(df), source=str(folder))
    assert "Sources" in res.sheets
    wb = openpyxl.load_workbook(out)
    rows = _rows(wb["Sources"])
    # by hand from usage.csv: 10 JOBS rows, 12.7 DBU, $2.555 billed; the runs carry 11.9 DBU = $2.435 (the KPIs'
    # total); usage row 7 (0.8 DBU x $0.15 = $0.12) belongs to a run the timeline does not have
    billed, attributed, gap = (_find(rows, "Job usage billed"), _find(rows, "Attributed to the runs"),
                               _find(rows, "Unattributed job spend"))
    assert billed[1:4] == (pytest.approx(12.7), pytest.approx(2.555), 10)
    assert attributed[1:4] == (pytest.approx(11.9), pytest.approx(2.435), 9)
    assert gap[1:3] == (pytest.approx(0.8), pytest.approx(0.12))
    reason = _find(rows, "  usage for runs not in the timeline")
    assert reason[3] == 1 and "usage.csv row 7" in reason[4]
    # one line per file, with rows read and kept; the running run is left out with its example row
    timeline = next(r for r in rows if str(r[0]).endswith("job_run_timeline.csv") and isinstance(r[1], int))
    assert timeline[1:3] == (7, 6)
    left = [r for r in rows if r[4] and "still running" in str(r[4])]
    assert left and left[0][1] == 1 and "rows 5" in left[0][4]
    cover = _rows(wb["Cover"])
    basis = _find([r[1:] for r in cover], "Cost basis")
    assert "list_prices" in basis[1] and basis[1].startswith("Cost = billed usage")
    wb.close()


def test_unknown_cost_is_stated_not_zero(tmp_path):
    src = CASES / "shared-jobs-api-no-cost" / "list_runs.json"
    df = load_path(src)
    out = tmp_path / "w.xlsx"
    export_workbook(out, df, compute_results(df, keep_going=True))
    wb = openpyxl.load_workbook(out)
    cover = [r[1:] for r in _rows(wb["Cover"])]
    assert _find(cover, "Cost basis")[1].startswith("Cost is unknown")
    assert _find(_rows(wb["Sources"]), "Cost basis")[1].startswith("Cost is unknown")
    wb.close()


def test_generated_data_says_it_was_not_read_from_files(tmp_path, case_study):
    out = tmp_path / "w.xlsx"
    export_workbook(out, case_study, compute_results(case_study), source="Case study (seed 42)")
    wb = openpyxl.load_workbook(out)
    rows = _rows(wb["Sources"])
    assert _find(rows, "Cost basis")[1].startswith("Cost as the generator computed it")
    assert "not read from files" in _find(rows, "Data")[1]
    wb.close()
