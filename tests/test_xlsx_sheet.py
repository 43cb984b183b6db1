"""The Data sheet writer's two paths (XlsxWriter internals fast path, plain cell-by-cell) write the same cells."""
from __future__ import annotations

import datetime as dt

import numpy as np
import openpyxl
import pandas as pd
import pytest

from etl_desk.core.data import xlsx_sheet
from etl_desk.core.data.xlsx_book import open_book


def _frame():
    return pd.DataFrame({
        "Job ID": ["r1", "=HYPERLINK(\"x\")", "_x0041_ literal", "r4"],
        "Cost (USD)": [1315.095, np.nan, 0.1, -2.5],
        "Start Time": pd.to_datetime(["2024-04-13 06:28:37", "2024-01-01 00:00:00", None, "2024-12-31 23:59:59"]),
        "Spot": pd.array([True, False, None, True], dtype="boolean"),
        "Attempt": [1, 2, 1, 3],
    })


def _cells(path):
    wb = openpyxl.load_workbook(path)
    ws = wb["Data"]
    rows = [tuple(c.value for c in r) for r in ws.iter_rows()]
    tables = {n: ws.tables[n].ref for n in ws.tables}
    wb.close()
    return rows, tables


def _write(path, frame):
    with open(str(path), "wb"):
        pass
    with open_book(str(path), title="t") as wb:
        ws = wb.add_worksheet("Data")
        xlsx_sheet.write_data_sheet(wb, ws, frame)


@pytest.mark.parametrize("fast", [True, False], ids=["fast-path", "cell-by-cell"])
def test_both_paths_write_the_runs_exactly(tmp_path, monkeypatch, fast):
    if not fast:
        monkeypatch.setattr(xlsx_sheet, "_fast_supported", lambda wb, ws: False)
    path = tmp_path / "d.xlsx"
    _write(path, _frame())
    rows, tables = _cells(path)
    assert rows[0] == ("Job ID", "Cost (USD)", "Start Time", "Spot", "Attempt")
    assert rows[1] == ("r1", 1315.095, dt.datetime(2024, 4, 13, 6, 28, 37), True, 1)
    assert rows[2][0] == '=HYPERLINK("x")' and rows[2][1] is None       # formula-looking text stays text
    assert rows[3][0] == "_x0041_ literal" and rows[3][2] is None       # an Excel escape is not decoded
    assert rows[4][1] == -2.5 and rows[4][4] == 3
    assert tables == {"Runs": "A1:E5"}


def test_fast_and_slow_paths_agree_cell_for_cell(tmp_path, monkeypatch):
    fast = tmp_path / "fast.xlsx"
    slow = tmp_path / "slow.xlsx"
    _write(fast, _frame())
    monkeypatch.setattr(xlsx_sheet, "_fast_supported", lambda wb, ws: False)
    _write(slow, _frame())
    assert _cells(fast) == _cells(slow)


def test_the_fast_path_is_taken_on_this_xlsxwriter(tmp_path):
    """If an XlsxWriter upgrade removes the internals, this fails (and the slow path keeps exports working)."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(tmp_path / "x.xlsx"))
    ws = wb.add_worksheet()
    assert xlsx_sheet._fast_supported(wb, ws), f"XlsxWriter {xlsxwriter.__version__} lacks the fast-path internals"
    wb.close()
