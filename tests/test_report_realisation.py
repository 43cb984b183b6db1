"""The report copy of the workbook (what the PDF prints) carries the benefits realisation when one was
measured, with what was measured, and says "not measured" when none was."""
from __future__ import annotations

import openpyxl
import pandas as pd
import pytest

from etl_desk.core.business_case.realisation import realised_vs_projected
from etl_desk.core.business_case.results import compute_results
from etl_desk.core.data.schema import to_canonical
from etl_desk.core.workbook.export import export_workbook


def _runs(start: str, failed_cost: float) -> pd.DataFrame:
    """Ten days, two runs a day of 500 GB: a $4.00 success and a failed run of *failed_cost*."""
    t = pd.date_range(start, periods=10, freq="D")
    return to_canonical(pd.DataFrame({
        "run_id": [f"{start}-{i}" for i in range(20)],
        "start_time": list(t) + list(t + pd.Timedelta(hours=12)),
        "duration_min": 30.0, "data_processed_gb": 500.0,
        "status": ["Success"] * 10 + ["Failed"] * 10,
        "cost_usd": [4.0] * 10 + [failed_cost] * 10, "attempt": 1}))


def _texts(ws) -> str:
    return " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)


def test_the_report_says_not_measured_when_nothing_was(tmp_path):
    df = _runs("2024-03-01", 2.0)
    path = tmp_path / "report.xlsx"
    export_workbook(path, df, compute_results(df), report_only=True)
    ws = openpyxl.load_workbook(path)["Benefits realisation"]
    assert ws["A1"].value == "Benefits realisation: not measured"
    assert "the savings in it are projections" in ws["A2"].value


def test_the_report_carries_the_measurement_with_what_was_measured(tmp_path):
    before, after = _runs("2024-03-01", 2.0), _runs("2024-03-11", 1.0)
    real = realised_vs_projected(before, after, go_live="2024-03-11",
                                 measured="the runs of before.csv split at the go-live 2024-03-11")
    df = pd.concat([before, after], ignore_index=True)
    path = tmp_path / "report.xlsx"
    export_workbook(path, df, compute_results(df), report_only=True, realisation=real)
    ws = openpyxl.load_workbook(path)["Benefits realisation"]
    text = _texts(ws)
    assert "Measured: the runs of before.csv split at the go-live 2024-03-11." in text
    assert "Before: 20 runs, 2024-03-01 00:00:00 to 2024-03-10 12:30:00" in text
    row = next(r for r in ws.iter_rows(values_only=True) if r[0] == "Failed-run cost")
    # failed spend per TB: $20 over 10 TB = $2.00 before, $10 over 10 TB = $1.00 after: -$1.00 per TB
    assert row[1] == pytest.approx(2.0) and row[2] == pytest.approx(1.0) and row[3] == pytest.approx(-1.0)
    assert row[6] == pytest.approx(0.5)  # measured effect 50 %
