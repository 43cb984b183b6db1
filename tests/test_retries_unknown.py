"""Retries are unknown, not 0, when a source does not record attempts (the case-study CSV, most exports).

Every reader of ``attempt`` is checked: the canonical table, KPIs (pandas and DuckDB engine),
the retry insight, the business-case baseline and a remedy aimed at retries, the
realisation, the workbook and the own-workbook round trip. Values worked out by hand.
"""
from __future__ import annotations

import json

import openpyxl
import pandas as pd
import pytest

from tests.engine_helpers import SMALL
from etl_desk.core.business_case.assumptions import default_assumptions
from etl_desk.core.business_case.baseline import compute_baseline
from etl_desk.core.business_case.decision import sizing_warnings
from etl_desk.core.business_case.model import evaluate
from etl_desk.core.business_case.realisation import realised_vs_projected
from etl_desk.core.data.schema import assert_canonical, to_canonical
from etl_desk.core.data.tables import read_table, write_table
from etl_desk.core.engine import Engine, EngineSettings
from etl_desk.core.insights.compute import compute_insights
from etl_desk.core.insights.kpis import compute_kpis

T0 = pd.Timestamp("2024-03-01 08:00")


def runs(attempt=None, n=4) -> pd.DataFrame:
    """Four runs a day apart: costs $1.00, $2.50, $3.25, $4.75; runs b and d failed."""
    data = {
        "run_id": list("abcd")[:n],
        "start_time": [T0 + pd.Timedelta(days=i) for i in range(n)],
        "duration_min": [10.0, 20.0, 30.0, 40.0][:n],
        "status": ["Success", "Failed", "Success", "Failed"][:n],
        "cost_usd": [1.00, 2.50, 3.25, 4.75][:n],
        "data_processed_gb": [100.0, 200.0, 300.0, 400.0][:n],
    }
    if attempt is not None:
        data["attempt"] = attempt
    return to_canonical(pd.DataFrame(data))


def test_a_source_without_attempts_has_unknown_attempts_not_first_attempts():
    df = runs()
    assert_canonical(df)
    assert df["attempt"].isna().all()
    blanks = runs([1, None, 3, None])  # a mapped column with blank cells: those runs are unknown
    assert blanks["attempt"].tolist()[0] == 1 and blanks["attempt"].tolist()[2] == 3
    assert blanks["attempt"].isna().tolist() == [False, True, False, True]


def test_kpis_say_unknown_when_no_run_records_an_attempt():
    k = compute_kpis(runs())
    assert k["total_cost_usd"] == pytest.approx(11.50)  # cost is known ...
    assert k["retry_runs"] is None and k["retry_cost_usd"] is None  # ... retries are not
    assert k["attempt_unknown_runs"] == 4
    assert json.loads(json.dumps(k))["retry_cost_usd"] is None  # null in JSON, not 0


def test_kpis_of_a_mixed_source_count_only_the_known_attempts():
    k = compute_kpis(runs([1, None, 3, None]))
    assert k["retry_runs"] == 1  # run c only; b and d are unknown, not first attempts
    assert k["retry_cost_usd"] == pytest.approx(3.25)
    assert k["attempt_unknown_runs"] == 2
    full = compute_kpis(runs([1, 2, 1, 1]))
    assert (full["retry_runs"], full["retry_cost_usd"], full["attempt_unknown_runs"]) == (1, 2.50, 0)


def test_the_retry_insight_says_unknown_and_partial():
    ins = {i.id: i for i in compute_insights(runs())}["cost.retry"]
    assert "unknown" in ins.headline.lower() and "$0" not in ins.headline
    assert "does not record attempts" in ins.missing
    mixed = {i.id: i for i in compute_insights(runs([1, None, 3, None]))}["cost.retry"]
    assert "1 runs were retries" in mixed.headline and "$3.25" in mixed.headline
    assert "2 of 4 runs have no attempt recorded" in mixed.missing


def test_engine_kpis_are_unknown_without_attempts_and_count_the_known_ones():
    df = runs()
    df = df.drop(columns=["attempt"])  # as a Parquet export without the column
    e = Engine.open(df, settings=EngineSettings(**SMALL))
    try:
        k = e.kpis()
        assert k["retry_runs"] is None and k["retry_cost_usd"] is None and k["attempt_unknown_runs"] == 4
        assert k["total_cost_usd"] == pytest.approx(11.50)
    finally:
        e.close()
    e = Engine.open(runs([1, None, 3, None]), settings=EngineSettings(**SMALL))
    try:
        k = e.kpis()
        assert (k["retry_runs"], k["attempt_unknown_runs"]) == (1, 2)
        assert k["retry_cost_usd"] == pytest.approx(3.25)
        assert any("2 of 4 runs have no attempt recorded" in n for n in k["notes"])
    finally:
        e.close()


def test_baseline_and_a_remedy_aimed_at_retries_say_the_input_is_unknown():
    b = compute_baseline(runs())
    assert b.observed["retry_cost"] is None and b.counts["retry_runs"] is None
    assert any("does not record attempts" in n for n in b.notes)
    a = default_assumptions()
    sol = next(iter(a["solutions"]))
    a["solutions"][sol]["target"] = "retry_cost"
    case = evaluate(b, a)
    r = next(r for r in case.solutions if r.id == sol)
    assert r.target_usd_per_year is None  # unknown, not $0 a year
    assert r.savings_year == 0.0  # nothing is counted on an unknown input ...
    assert "unknown" in sizing_warnings(case)[sol]  # ... and the option says why
    known = compute_baseline(runs([1, 2, 1, 1]))
    assert known.observed["retry_cost"] == pytest.approx(2.50) and known.counts["retry_runs"] == 1


def test_realisation_leaves_retries_out_when_attempts_are_unknown():
    before, after = runs(), runs()
    after["start_time"] += pd.Timedelta(days=10)
    after["end_time"] += pd.Timedelta(days=10)
    r = realised_vs_projected(before, after)
    assert "retry_cost" not in [c.target for c in r.changes]
    assert any("retry cost not measured" in n and "4 of 4 runs before" in n for n in r.notes)
    known_b, known_a = runs([1, 2, 1, 1]), runs([1, 1, 1, 1])
    known_a["start_time"] += pd.Timedelta(days=10)
    known_a["end_time"] += pd.Timedelta(days=10)
    r2 = realised_vs_projected(known_b, known_a)
    c = r2.change("retry_cost")  # $2.50 over 1 TB before, $0 after: -$2.50 per TB
    assert c.before_rate == pytest.approx(2.50) and c.change == pytest.approx(-2.50)


def test_round_trip_keeps_unknown_unknown_and_known_first_attempts_known(tmp_path):
    for name, df in (("unknown", runs()), ("known", runs([1, 1, 1, 1]))):
        for ext in (".csv", ".xlsx", ".parquet"):
            p = tmp_path / f"{name}{ext}"
            write_table(df, p)
            back = read_table(p)
            assert back["attempt"].isna().all() == (name == "unknown"), (name, ext)
            if name == "known":  # all first attempts: "no retries", known
                assert compute_kpis(back)["retry_runs"] == 0


def test_workbook_kpi_and_baseline_lines_say_unknown_with_the_reason(tmp_path):
    from etl_desk.core.business_case.results import compute_results
    from etl_desk.core.workbook.export import export_workbook

    df = runs()
    path = tmp_path / "book.xlsx"
    export_workbook(path, df, compute_results(df))
    wb = openpyxl.load_workbook(path)
    ws = wb["KPIs"]
    rows = {r[0].value: (r[1].value, r[2].value) for r in ws.iter_rows(min_row=2) if r[0].value}
    value, note = rows["Retry cost"]
    assert value == "n/a" and "No attempt or retry column" in note
    assert rows["Runs with unknown attempt"][0] == 4
    text = " ".join(str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row
                    if isinstance(c.value, str))
    assert "retries are unknown, not 0" in text
