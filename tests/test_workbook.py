"""The workbook for finance: sheets, names, formulas, formats, injection, atomicity, row limit, round trip."""
from __future__ import annotations

import os
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest

from etl_desk.core.data import tables, xlsx_sheet
from etl_desk.core.data.schema import labelled_frame
from etl_desk.core.tasks import Cancelled
from etl_desk.core.data.generate import generate
from etl_desk.core.insights.kpis import compute_kpis
from etl_desk.core.errors import DataError
from etl_desk.core.data.xlsx_book import TooManyRowsError
from etl_desk.core.business_case.results import compute_results
from etl_desk.core.workbook.export import export_workbook
from etl_desk.core.insights.kpis import kpi_table_text
from etl_desk.core.data.xlsx_read import is_etl_desk_workbook, read_workbook
from etl_desk.core.business_case.baseline import compute_baseline

INJECTIONS = ['=HYPERLINK("http://x","y")', "+1", "-1", "@SUM(A1)", "\tx", "\rx", "=1+1", "_x000D_", "a\x01b"]


@pytest.fixture(scope="module")
def case_book(tmp_path_factory, case_study):
    path = tmp_path_factory.mktemp("wb") / "case.xlsx"
    result = export_workbook(path, case_study, compute_results(case_study), source="case study (seed 42)", filters_text="Status: all")
    return path, result


@pytest.fixture(scope="module")
def realistic():
    return generate("realistic", runs=3000, seed=11, anomaly_rate=0.02)


def _frame_with(df, values, column="job_name"):
    df = df.copy()
    df[column] = df[column].astype("string")
    for i, v in enumerate(values):
        df.loc[i, column] = v
    return df


def test_sheets_names_and_cover(case_book):
    path, result = case_book
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Decision", "Cover", "Assumptions", "Business Case", "Annual cash flows", "Scenarios",
                             "Checks", "Sources", "KPIs", "Insights", "Anomalies", "Charts", "Monthly schedule", "Data",
                             "_etl_desk"]
    assert wb.active.title == "Decision"  # the decision page opens first
    assert wb["_etl_desk"].sheet_state == "hidden"
    assert result.sheets == wb.sheetnames[:-1]
    cover = wb["Cover"]
    texts = [c.value for row in cover.iter_rows() for c in row if isinstance(c.value, str)]
    assert "case study (seed 42)" in texts and "Status: all" in texts
    assert any(t.startswith("ETL Desk ") for t in texts)
    links = {c.hyperlink.location for row in cover.iter_rows() for c in row if c.hyperlink}
    for sheet in wb.sheetnames[2:-1]:
        assert f"'{sheet}'!A1" in links
    # defined names from the Assumptions sheet
    assert len(wb.defined_names) > 20
    assert "g_discount_rate" in wb.defined_names


def test_business_case_has_formulas(case_book):
    wb = openpyxl.load_workbook(case_book[0])
    formulas = [c.value for row in wb["Business Case"].iter_rows() for c in row
                if isinstance(c.value, str) and c.value.startswith("=")]
    assert len(formulas) > 50
    assert any("g_" in f or "_effect" in f for f in formulas)


def test_data_sheet_table_formats(case_book, case_study):
    wb = openpyxl.load_workbook(case_book[0])
    ws = wb["Data"]
    (name, ref), = ws.tables.items()
    assert name == "Runs" and ref == f"A1:H{len(case_study) + 1}"
    assert ws.tables["Runs"].autoFilter.ref == ref
    assert ws.freeze_panes == "A2"
    headers = [c.value for c in ws[1]]
    assert headers == list(labelled_frame(case_study).columns)
    fmt = {h: ws.cell(2, j + 1).number_format for j, h in enumerate(headers)}
    assert fmt["Cost (USD)"] == "$#,##0.00"
    assert fmt["Data Processed (GB)"] == "#,##0.00"
    assert fmt["Start Time"] == "yyyy-mm-dd hh:mm:ss"
    assert ws.cell(2, 2).value == case_study["start_time"].iloc[0].to_pydatetime()
    assert ws.column_dimensions["B"].width >= 19
    assert ws.page_setup.orientation == "landscape"
    assert ws.print_title_rows.replace("$", "") == "1:1"


def test_kpis_and_charts(case_book, case_study):
    wb = openpyxl.load_workbook(case_book[0])
    cached = openpyxl.load_workbook(case_book[0], data_only=True)["KPIs"]
    ws = wb["KPIs"]
    values = {r[0].value: r[1] for r in ws.iter_rows(min_row=2)}
    # a formula over the Data table, with the app's value cached
    assert values["Total cost"].value == "=SUM(Runs[Cost (USD)])"
    assert cached[values["Total cost"].coordinate].value == pytest.approx(case_study["cost_usd"].sum())
    assert values["Total cost"].number_format == "$#,##0.00;[Red]($#,##0.00);$0.00"
    assert values["Success rate"].number_format == "0.0%"
    assert values["Runs"].number_format == "#,##0"
    with zipfile.ZipFile(case_book[0]) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        xml = "".join(z.read(n).decode() for n in charts)
    # per run: cost, GB, duration; cost per day; cumulative cost; a J-curve per option; a tornado per option
    assert len(charts) == 3 + 1 + 1 + 6 + 6
    assert "F28E2B" in xml and "4E79A7" in xml
    assert "Months from the project start" in xml and "Change in NPV" in xml


def test_kpi_table_text(case_study):
    text = kpi_table_text(compute_kpis(case_study))
    lines = text.splitlines()
    assert lines[0] == "KPI\tValue"
    assert "Total cost\t$1,315.10" in lines  # as Excel shows the 1315.095 sum, see core.fmt
    assert all(line.count("\t") == 1 for line in lines)


@pytest.mark.parametrize("value", INJECTIONS)
def test_injection_stays_text(tmp_path, case_study, value):
    df = _frame_with(case_study.iloc[:5], [value])
    path = tmp_path / "inj.xlsx"
    export_workbook(path, df, compute_results(df))
    ws = openpyxl.load_workbook(path)["Data"]
    col = [c.value for c in ws[1]].index("Job Name") + 1
    cell = ws.cell(2, col)
    assert cell.data_type == "s", (value, cell.data_type, cell.value)
    back, _ = read_workbook(path)
    assert back["job_name"].iloc[0] == value


def test_injection_in_insights_and_filters_text(tmp_path, case_study):
    path = tmp_path / "f.xlsx"
    export_workbook(path, case_study.iloc[:20], compute_results(case_study.iloc[:20]), filters_text='=HYPERLINK("http://x","y")', source="@SUM(A1)")
    ws = openpyxl.load_workbook(path)["Cover"]
    cells = [c for row in ws.iter_rows() for c in row if c.value in ('=HYPERLINK("http://x","y")', "@SUM(A1)")]
    assert len(cells) == 2 and all(c.data_type == "s" for c in cells)


def test_round_trip_case_study(case_book, case_study):
    back, assumptions = read_workbook(case_book[0])
    pd.testing.assert_frame_equal(back, case_study, check_exact=True)
    from etl_desk.core.business_case.assumptions import default_assumptions

    assert assumptions == default_assumptions()


def test_round_trip_realistic_with_assumptions(tmp_path, realistic):
    from etl_desk.core.business_case.assumptions import default_assumptions

    a = default_assumptions()
    a["global"]["discount_rate"] = 0.123
    first = next(iter(a["solutions"]))
    a["solutions"][first]["people"] = 2.5
    df = realistic.copy()
    df.loc[5, "start_time"] = df.loc[5, "start_time"] + pd.Timedelta(nanoseconds=123_456_789)
    df.loc[7, "job_name"] = pd.NA
    df.loc[8, "data_processed_gb"] = np.nan
    df.loc[9, "spot"] = pd.NA
    path = tmp_path / "real.xlsx"
    export_workbook(path, df, compute_results(df, assumptions=a))
    assert is_etl_desk_workbook(path)
    back, got = read_workbook(path)
    pd.testing.assert_frame_equal(back, df, check_exact=True)
    assert got == a


def test_data_only_workbook_round_trip(tmp_path, realistic):
    path = tmp_path / "data.xlsx"
    tables.write_table(realistic, path)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Data", "_etl_desk"]
    pd.testing.assert_frame_equal(tables.read_table(path), realistic, check_exact=True)


def test_defusedxml_is_used():
    import openpyxl.xml

    assert openpyxl.xml.DEFUSEDXML is True


def test_foreign_and_damaged_workbooks(tmp_path, case_study):
    plain = tmp_path / "plain.xlsx"
    case_study.head().to_excel(plain, index=False)
    assert not is_etl_desk_workbook(plain)
    with pytest.raises(DataError, match="not a workbook written by ETL Desk"):
        read_workbook(plain)
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"not a zip")
    assert not is_etl_desk_workbook(junk)
    with pytest.raises(DataError):
        read_workbook(junk)
    # headers edited in Excel
    ok = tmp_path / "ok.xlsx"
    export_workbook(ok, case_study.head(10), compute_results(case_study.head(10)))
    wb = openpyxl.load_workbook(ok)
    wb["Data"]["A1"] = "Something else"
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)
    with pytest.raises(DataError, match="headers"):
        read_workbook(edited)


# ---- atomicity, cancel, permissions -------------------------------------------------------

def test_failure_mid_write_leaves_old_file(tmp_path, case_study, monkeypatch):
    path = tmp_path / "report.xlsx"
    path.write_bytes(b"previous report")

    def boom(*a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(xlsx_sheet, "_stream_rows", boom)
    with pytest.raises(RuntimeError, match="disk on fire"):
        export_workbook(path, case_study, compute_results(case_study))
    assert path.read_bytes() == b"previous report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.xlsx"]


def test_cancel_leaves_old_file(tmp_path, case_study):
    path = tmp_path / "report.xlsx"
    path.write_bytes(b"previous report")
    seen = []

    def progress(f):
        seen.append(f)

    calls = {"n": 0}

    def cancel():
        calls["n"] += 1
        return calls["n"] > 1  # the first call is before any sheet; cancel once the Data sheet is being written

    with pytest.raises(Cancelled):
        export_workbook(path, case_study, compute_results(case_study), progress=progress, cancel=cancel)
    assert path.read_bytes() == b"previous report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.xlsx"]


def test_progress_reaches_one(tmp_path, realistic, monkeypatch):
    monkeypatch.setattr(xlsx_sheet, "_CHUNK_ROWS", 500)
    seen = []
    export_workbook(tmp_path / "p.xlsx", realistic, compute_results(realistic), progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) >= 6


def test_read_only_folder_message(tmp_path, case_study):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running as root: chmod does not stop writes")
        with pytest.raises(DataError, match="read-only|permission"):
            export_workbook(folder / "x.xlsx", case_study, compute_results(case_study))
    finally:
        folder.chmod(0o755)


def test_missing_folder_message(tmp_path, case_study):
    with pytest.raises(DataError, match="folder does not exist"):
        export_workbook(tmp_path / "nope" / "x.xlsx", case_study, compute_results(case_study))


# ---- the row limit ---------------------------------------------------------------------------

@pytest.fixture
def small_excel(monkeypatch):
    monkeypatch.setattr(xlsx_sheet, "EXCEL_MAX_ROWS", 401)  # 400 runs + header per sheet


def test_too_many_rows_refused(tmp_path, case_study, small_excel):
    with pytest.raises(TooManyRowsError) as err:
        export_workbook(tmp_path / "x.xlsx", case_study, compute_results(case_study))
    assert err.value.rows == 1000 and err.value.limit == 400
    assert "split" in str(err.value)
    assert not (tmp_path / "x.xlsx").exists()


def test_too_many_rows_truncate(tmp_path, case_study, small_excel):
    path = tmp_path / "t.xlsx"
    res = export_workbook(path, case_study, compute_results(case_study), max_rows_policy="truncate")
    assert res.truncated and res.rows_written == 400 and res.data_sheets == ["Data"]
    cover = [c.value for row in openpyxl.load_workbook(path)["Cover"].iter_rows() for c in row]
    assert any(isinstance(v, str) and "first 400 of 1,000 runs" in v for v in cover)
    back, _ = read_workbook(path)
    pd.testing.assert_frame_equal(back, case_study.iloc[:400], check_exact=True)


def test_too_many_rows_split(tmp_path, case_study, small_excel):
    path = tmp_path / "s.xlsx"
    res = export_workbook(path, case_study, compute_results(case_study), max_rows_policy="split")
    assert res.data_sheets == ["Data", "Data (2)", "Data (3)"]
    wb = openpyxl.load_workbook(path)
    assert wb["Data (3)"].tables["Runs_3"].ref == "A1:H201"
    back, _ = read_workbook(path)
    pd.testing.assert_frame_equal(back, case_study, check_exact=True)


def test_results_at_the_users_thresholds_detect_once(tmp_path, case_study, monkeypatch):
    """compute_results analyses at the thresholds given, once, and measures the case on those anomalies."""
    from etl_desk.core.insights import analysis as analysis_mod
    from etl_desk.core.insights import anomalies as anomalies_mod
    from etl_desk.core.insights.anomalies import AnomalyThresholds

    calls = []
    original = anomalies_mod.detect_anomalies

    def counting(df, thresholds=None):
        calls.append(thresholds)
        return original(df, thresholds)

    monkeypatch.setattr(analysis_mod, "detect_anomalies", counting)
    monkeypatch.setattr("etl_desk.core.business_case.baseline.detect_anomalies", counting)
    th = AnomalyThresholds(z_threshold=1.5)
    path = tmp_path / "t.xlsx"
    export_workbook(path, case_study, compute_results(case_study, thresholds=th))
    assert calls == [th]
    expected = analysis_mod.analyze(case_study, th)
    wb = openpyxl.load_workbook(path, data_only=True)
    sheet, coord = next(iter(wb.defined_names["bl_anomaly_excess_cost_observed"].destinations))

    want = compute_baseline(case_study, expected.anomalies).observed["anomaly_excess_cost"]
    assert wb[sheet][coord].value == pytest.approx(want) and want > 0
    ws = wb["Anomalies"]
    ids = [c.value for c in ws["A"] if c.value is not None]
    run_level = set(expected.anomalies.loc[expected.anomalies["rule"] != "failure_rate_jump", "run_id"].astype(str))
    assert run_level <= {str(x) for x in ids}
    assert len([i for i in ids if str(i) in run_level]) == len(run_level)  # one row per run
    wb.close()


def test_export_renders_the_results_it_is_given_without_reading_the_runs_again(tmp_path, case_study, monkeypatch):
    from etl_desk.core.insights.anomalies import AnomalyThresholds

    r = compute_results(case_study, thresholds=AnomalyThresholds(z_threshold=2.0))
    b = r.baseline
    fail = lambda *args, **kw: pytest.fail("computed again")  # noqa: E731
    monkeypatch.setattr("etl_desk.core.business_case.baseline.compute_baseline", fail)
    monkeypatch.setattr("etl_desk.core.business_case.results.compute_baseline", fail)
    monkeypatch.setattr("etl_desk.core.business_case.results.analyze", fail)
    monkeypatch.setattr("etl_desk.core.insights.analysis.detect_anomalies", fail)
    path = tmp_path / "b.xlsx"
    export_workbook(path, case_study, r)
    wb = openpyxl.load_workbook(path, data_only=True)
    sheet, coord = next(iter(wb.defined_names["bl_anomaly_excess_cost_observed"].destinations))
    assert wb[sheet][coord].value == pytest.approx(b.observed["anomaly_excess_cost"]) and b.counts["anomalous_runs"] > 0
    wb.close()
