"""Issue 12 per kind, by hand: locale numbers and dates, prices, unknown is not zero, provenance,
and `--help` of every subcommand."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from etl_desk.cli import SUBCOMMANDS, main
from etl_desk.core.data import locale_numbers
from etl_desk.core.data.importers.mapping import Mapping
from etl_desk.core.data.loaders import load_path, load_paths
from etl_desk.core.errors import DataError, LoadReport
from etl_desk.core.insights.kpis import compute_kpis
from tests.real_export_helpers import list_prices, timeline, usage


def _write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


# ------------------------------------------------------------------ 3. locale numbers and dates

def test_day_first_where_only_some_days_exceed_12(tmp_path):
    # 02/05 and 07/05 read day-first because 19/05 and 28/05 prove it: 2, 7, 19, 28 May
    p = _write(tmp_path / "d.csv", "Job ID,Start Time,End Time,Job Status,Cost (USD)\n"
                                   "A,02/05/2024 10:00,02/05/2024 10:20,Success,1\n"
                                   "B,07/05/2024 10:00,07/05/2024 10:50,Failed,2\n"
                                   "C,19/05/2024 23:50,20/05/2024 00:30,Success,3\n"
                                   "D,28/05/2024 10:00,28/05/2024 10:05,Success,4\n")
    rep = LoadReport()
    df = load_path(p, report=rep)
    assert [str(t.date()) for t in df["start_time"]] == ["2024-05-02", "2024-05-07", "2024-05-19", "2024-05-28"]
    assert df["duration_min"].tolist() == [20.0, 50.0, 40.0, 5.0]
    assert "day-first" in rep.read_as["Start Time"]


def test_ambiguous_dates_refused_then_stated(tmp_path):
    p = _write(tmp_path / "a.csv", "Job ID,Start Time,Duration (min),Job Status,Cost (USD)\n"
                                   "A,01/02/2024 10:00,10,Success,1\nB,03/04/2024 10:00,20,Failed,2\n")
    with pytest.raises(DataError) as ei:
        load_path(p)
    e = ei.value
    assert e.column == "Start Time" and "a.csv" in e.message
    assert "day-first or month-first" in e.problem and "--day-first" in e.problem and "--map" in e.problem
    assert str(load_path(p, dayfirst=True)["start_time"].iloc[1].date()) == "2024-04-03"
    assert str(load_path(p, dayfirst=False)["start_time"].iloc[1].date()) == "2024-03-04"
    m = Mapping.from_dict({"columns": {"run_id": "Job ID", "start_time": "Start Time", "duration_min": "Duration (min)",
                                       "status": "Job Status", "cost_usd": "Cost (USD)"},
                           "dayfirst": {"start_time": True}})
    assert str(load_path(p, mapping=m)["start_time"].iloc[0].date()) == "2024-02-01"
    out = _cli(tmp_path, ["analyze", "a.csv", "--json"])
    assert out[0] == 2 and "Start Time" in out[2] and "Traceback" not in out[2]


def test_decimal_comma_per_column_and_ambiguous_refused(tmp_path):
    # Cost proves ',' decimals (12,5); Data proves '.' thousands (1.234,5); Hours 1,250 alone is ambiguous
    # but the file's other columns prove ',' is the decimal mark -> 1.25 h
    p = _write(tmp_path / "de.csv", "Job ID;Start Time;Duration (min);Job Status;Cost (USD);Data Processed (GB);"
                                    "Compute Hours Used\n"
                                    "A;2024-05-01 10:00;10;Success;12,5;1.234,5;1,250\n"
                                    "B;2024-05-02 10:00;20;Failed;3;10.240;2,500\n")
    rep = LoadReport()
    df = load_path(p, report=rep)
    assert df["cost_usd"].tolist() == [12.5, 3.0]
    assert df["data_processed_gb"].tolist() == [1234.5, 10240.0]
    assert df["compute_hours"].tolist() == [1.25, 2.5]
    assert "proved by another column" in rep.read_as["Compute Hours Used"]
    q = _write(tmp_path / "amb.csv", "Job ID;Start Time;Duration (min);Job Status;Cost (USD)\n"
                                     "A;2024-05-01 10:00;10;Success;1,250\nB;2024-05-02 10:00;20;Failed;2,500\n")
    with pytest.raises(locale_numbers.AmbiguousNumbers) as ei:
        load_path(q)
    assert ei.value.column == "Cost (USD)" and "--decimal-comma" in ei.value.problem
    assert "1.250" in ei.value.problem and "1250" in ei.value.problem
    assert load_path(q, decimal=",")["cost_usd"].tolist() == [1.25, 2.5]
    assert load_path(q, decimal=".")["cost_usd"].tolist() == [1250.0, 2500.0]


def test_number_evidence_classes():
    s = pd.Series(["1.234,56", "1,050.00", "1\u202f234,5", "12,5", "0,250", "1,250", "1.250", "1,234,567", "7", "x"])
    assert locale_numbers.classify(s).tolist() == [",", ".", ",", ",", ",", "amb,", "amb.", ".", "plain", "bad"]
    assert locale_numbers.parse_numbers(pd.Series(["$1,050.00", "(2.00)", "3"]), decimal=None, label="c",
                                        file="f", rows=[1, 2, 3]).tolist() == [1050.0, -2.0, 3.0]
    with pytest.raises(DataError, match="mix two locales"):
        locale_numbers.parse_numbers(pd.Series(["1.234,56", "1,050.00"]), decimal=None, label="c", file="f",
                                     rows=[1, 2])


# ------------------------------------------------------------------ 6. prices

def _system(tmp_path, prices):
    tl = timeline(tmp_path / "job_run_timeline.csv", [
        (1, 1, "2024-09-30 22:00", "2024-09-30 22:40", "SUCCEEDED", "SUCCESS"),
        (1, 2, "2024-09-30 23:10", "2024-10-01 00:00", "", ""),
        (1, 2, "2024-10-01 00:00", "2024-10-01 00:20", "FAILED", "RUN_EXECUTION_ERROR"),
        (2, 3, "2024-10-01 03:00", "2024-10-01 03:30", "SUCCEEDED", "SUCCESS")])
    us = usage(tmp_path / "usage.csv", [(1, "2024-09-30 22:00", "2024-09-30 23:00", 2.0),
                                         (2, "2024-09-30 23:00", "2024-10-01 00:00", 1.0),
                                         (2, "2024-10-01 00:00", "2024-10-01 01:00", 3.0),
                                         (3, "2024-10-01 03:00", "2024-10-01 04:00", 4.0, "SERVERLESS_JOBS")])
    lp = list_prices(tmp_path / "list_prices.csv", prices)
    return [tl, us, lp]


def test_effective_list_price_by_window(tmp_path):
    # PREMIUM: until 1 Oct default 0.15 / effective 0.10; from 1 Oct default 0.30 / effective 0.20;
    # SERVERLESS: default 0.50 only. Run 1 2.0 x 0.10 = 0.20; run 2 1.0 x 0.10 + 3.0 x 0.20 = 0.70 (failed);
    # run 3 4.0 x 0.50 = 2.00 -> $2.90
    files = _system(tmp_path, [("PREMIUM_JOBS_COMPUTE", "2024-01-01", "2024-10-01", 0.15, 0.10),
                               ("PREMIUM_JOBS_COMPUTE", "2024-10-01", "", 0.30, 0.20),
                               ("SERVERLESS_JOBS", "2024-01-01", "", 0.50, None)])
    df = load_paths(files)
    assert df.set_index("run_id")["cost_usd"].to_dict() == pytest.approx({"1": 0.2, "2": 0.7, "3": 2.0})
    prov = df.attrs["provenance"]
    assert prov["cost_basis"]["code"] == "list_prices" and "effective list price" in prov["cost_basis"]["text"]
    cols = {(p["sku_name"], p["price_start_time"][:10]): p["price_column"] for p in prov["price_table"]}
    assert cols[("PREMIUM_JOBS_COMPUTE", "2024-10-01")] == "pricing.effective_list.default"
    assert cols[("SERVERLESS_JOBS", "2024-01-01")] == "pricing.default"


def test_user_price_and_discount_override_list_prices(tmp_path):
    files = _system(tmp_path, [("PREMIUM_JOBS_COMPUTE", "2024-01-01", "", 0.15, 0.10)])
    # 10 DBU x $0.60 less 25% = $0.45/DBU -> $4.50; failed run 2: 4 DBU = $1.80
    df = load_paths(files, usd_per_dbu=0.6, contract_discount=0.25)
    k = compute_kpis(df)
    assert (k["total_cost_usd"], k["failed_cost_usd"]) == (pytest.approx(4.5), pytest.approx(1.8))
    assert "0.6/DBU" in df.attrs["provenance"]["cost_basis"]["sentence"]
    assert "25%" in df.attrs["provenance"]["cost_basis"]["sentence"]


def test_missing_price_makes_cost_unknown_not_zero(tmp_path):
    files = _system(tmp_path, [("PREMIUM_JOBS_COMPUTE", "2024-01-01", "", 0.15, 0.10)])  # no serverless price
    rep = LoadReport()
    df = load_paths(files, report=rep)
    by = df.set_index("run_id")["cost_usd"]
    assert by["1"] == pytest.approx(0.2) and np.isnan(by["3"])
    assert compute_kpis(df)["total_cost_usd"] is None and compute_kpis(df)["cost_unknown_runs"] == 1
    assert any("SERVERLESS_JOBS" in w for w in rep.warnings)


# ------------------------------------------------------------------ 7. unknown is not zero; provenance

def test_unknown_cost_kpis_are_null_and_the_report_runs(tmp_path):
    p = _write(tmp_path / "n.csv", "Job ID,Start Time,Duration (min),Job Status,Data Processed (GB)\n"
                                   "A,2024-05-01 10:00,10,Success,100\nB,2024-05-02 10:00,20,Failed,300\n")
    df = load_path(p)
    assert df["cost_usd"].isna().all() and "no cost column" in df.attrs["cost_unknown_why"]
    k = compute_kpis(df)
    for key in ("total_cost_usd", "failed_cost_usd", "failed_cost_share", "cost_per_tb_usd", "retry_cost_usd",
                "avg_cost_failed_usd"):
        assert k[key] is None, key
    assert k["total_tb"] == pytest.approx(0.4) and k["runs"] == 2
    code, out, err = _cli(tmp_path, ["analyze", "n.csv", "--json"])
    assert code == 0, err
    rep = json.loads(out)
    assert rep["kpis"]["total_cost_usd"] is None and rep["provenance"]["cost_basis"]["code"] == "none"
    code, out, err = _cli(tmp_path, ["analyze", "n.csv"])
    assert code == 0 and "SOURCES" in out and "Cost is unknown" in out and "nan" not in out.lower().split()


def test_provenance_reconciliation_by_hand(tmp_path):
    # usage: run 1 2.0 DBU; run 1 retraction -0.5; run 9 (not in the timeline) 1.5; no job_run_id 0.25;
    # ALL_PURPOSE 7 (other product). At $1/DBU: attributed 1.5, unattributed 1.75 (1.5 + 0.25)
    tl = timeline(tmp_path / "job_run_timeline.csv", [
        (1, 1, "2024-06-01 01:00", "2024-06-01 01:20", "SUCCEEDED", "SUCCESS"),
        (1, 2, "2024-06-01 02:00", "2024-06-01 02:10", "SKIPPED", "SKIPPED")])
    us = usage(tmp_path / "usage.csv", [(1, "2024-06-01 01:00", "2024-06-01 02:00", 2.0),
                                         (1, "2024-06-01 01:00", "2024-06-01 02:00", -0.5, "PREMIUM_JOBS_COMPUTE",
                                          "JOBS", "RETRACTION"),
                                         (9, "2024-06-01 03:00", "2024-06-01 04:00", 1.5),
                                         ("", "2024-06-01 03:00", "2024-06-01 04:00", 0.25),
                                         ("", "2024-06-01 03:00", "2024-06-01 04:00", 7, "PREMIUM_ALL_PURPOSE",
                                          "ALL_PURPOSE")])
    df = load_paths([tl, us], usd_per_dbu=1.0)
    prov = df.attrs["provenance"]
    rec = prov["reconciliation"]
    assert rec["job_usage"]["dbus"] == pytest.approx(3.25) and rec["attributed_to_runs"]["usd"] == pytest.approx(1.5)
    un = rec["unattributed_job_spend"]
    assert un["usd"] == pytest.approx(1.75)
    assert {r["reason"]: r["usd"] for r in un["reasons"]} == pytest.approx({
        "job usage with no job_run_id (not attributable to a run)": 0.25, "usage for runs not in the timeline": 1.5})
    assert rec["retractions"]["rows"] == 1 and rec["retractions"]["dbus"] == pytest.approx(-0.5)
    assert rec["other_products"]["dbus"] == pytest.approx(7.0) and rec["other_products"]["products"] == ["ALL_PURPOSE"]
    files = {f["file"].rsplit("/", 1)[-1]: f for f in prov["files"]}
    assert (files["job_run_timeline.csv"]["rows_read"], files["job_run_timeline.csv"]["rows_kept"]) == (2, 1)
    assert files["job_run_timeline.csv"]["left_out"][0]["examples"] == [2]
    assert (files["usage.csv"]["rows_read"], files["usage.csv"]["rows_kept"]) == (5, 2)
    assert json.loads(json.dumps(prov)) == prov   # plain JSON


def _cli(cwd, argv):
    import contextlib
    import io
    import os

    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    finally:
        os.chdir(old)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_help_of_every_subcommand(name, capsys):
    with pytest.raises(SystemExit) as ei:
        main([name, "--help"])
    assert ei.value.code == 0
    assert f"usage: etl-desk {name}" in capsys.readouterr().out
