"""Sniffing (encoding, delimiter, decimal comma), header synonyms, units, mapping files, preview."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from etl_desk.core.data.importers import (ImportOptions, Mapping, guess_mapping, header_key, load_mapping_file, preview)
from etl_desk.core.data.importers.apply import apply_mapping
from etl_desk.core.data.importers.mapping import split_unit
from etl_desk.core.data.importers.sniff import detect_dialect, detect_encoding
from etl_desk.core.data.loaders import load_path, load_paths
from etl_desk.core.errors import DataError, LoadReport
from etl_desk.core.data.schema import assert_canonical
from tests.conftest import FIXTURES, run_cli

FOREIGN = FIXTURES / "foreign"


@pytest.mark.parametrize("raw, enc", [
    (b"\xef\xbb\xbfa,b\n1,2\n", "utf-8-sig"),
    (b"\xff\xfe" + "a,b\n".encode("utf-16-le"), "utf-16"),
    (b"\xfe\xff" + "a,b\n".encode("utf-16-be"), "utf-16"),
    ("a,b\nCafé,1\n".encode("utf-16-le"), "utf-16-le"),
    ("a,b\nCafé,1\n".encode("utf-8"), "utf-8"),
    ("a,b\nCafé,1\n".encode("latin-1"), "cp1252"),
    (b"a,b\n\x81\x8d,1\n", "latin-1"),  # bytes undefined in cp1252
])
def test_detect_encoding(raw, enc):
    assert detect_encoding(raw) == enc


def test_detect_encoding_refuses_binary():
    with pytest.raises(DataError, match="binary"):
        detect_encoding(bytes(range(256)) * 4)


@pytest.mark.parametrize("text, delim, dec", [
    ("a,b,c\n1,2.5,3\n4,5.5,6\n", ",", "."),
    ("a;b;c\n1;2,5;3\n4;5,5;6\n", ";", ","),
    ("a;b;c\n1;2.5;3\n4;5.5;6\n", ";", "."),
    ("a\tb\tc\n1\t2,5\t3\n", "\t", ","),
    ("a|b|c\n1|2|3\n", "|", "."),
    ('a,b\n"x;y;z",1\n"p;q",2\n', ",", "."),   # delimiters inside quotes do not count
    ("a;b\n1.234,5;2\n", ";", ","),            # thousands dot + decimal comma
])
def test_detect_dialect(text, delim, dec):
    d = detect_dialect(text.encode())
    assert (d.delimiter, d.decimal) == (delim, dec)


@pytest.mark.parametrize("header, field, unit", [
    ("run_duration_seconds", "duration_min", "s"),
    ("duration_ms", "duration_min", "ms"),
    ("Duration (min)", "duration_min", "min"),
    ("runtime", "duration_min", "min"),
    ("elapsed_hours", "duration_min", "h"),
    ("bytes_processed", "data_processed_gb", "B"),
    ("data_mb", "data_processed_gb", "MB"),
    ("gb", "data_processed_gb", "GB"),
    ("Data Processed (TB)", "data_processed_gb", "TB"),
    ("job_run_id", "run_id", None),
    ("RunId", "run_id", None),
    ("state", "result_state", None),
    ("result_state", "result_state", None),
    ("status", "status", None),
    ("list_cost", "cost_usd", None),
    ("cost", "cost_usd", None),
    ("usage_quantity", "dbus", None),
    ("dbus", "dbus", None),
    ("started_at", "start_time", None),
    ("finishedAt", "end_time", None),
    ("attempt_number", "attempt", None),
    ("termination_code", "termination_code", None),
    ("pipeline_name", "job_name", None),
])
def test_guess_single_header(header, field, unit):
    m = guess_mapping(["id_placeholder_zz", header])
    assert m.columns.get(field) == header, m
    if unit:
        assert m.unit(field) == unit


def test_guess_case_study_labels_map_to_themselves():
    labels = ["Job ID", "Start Time", "End Time", "Duration (min)", "Data Processed (GB)", "Job Status",
              "Compute Hours Used", "Cost (USD)"]
    m = guess_mapping(labels)
    assert m.columns == {"run_id": "Job ID", "start_time": "Start Time", "end_time": "End Time",
                         "duration_min": "Duration (min)", "data_processed_gb": "Data Processed (GB)",
                         "status": "Job Status", "compute_hours": "Compute Hours Used", "cost_usd": "Cost (USD)"}
    assert m.missing() == []


def test_job_id_is_a_run_id_only_when_nothing_better():
    assert guess_mapping(["job_id", "start", "status", "cost"]).columns["run_id"] == "job_id"
    m = guess_mapping(["job_id", "run_id", "start", "status", "cost"])
    assert m.columns["run_id"] == "run_id" and m.columns["job_id"] == "job_id"


def test_split_unit():
    assert split_unit("run_duration_seconds") == ("run_duration", "s")
    assert split_unit("Data Processed (GB)") == ("data_processed", "GB")


def test_mapping_round_trip_and_header_key():
    m = guess_mapping(["RunID", "Started", "duration_ms", "State", "DBUs"])
    again = Mapping.from_dict(json.loads(json.dumps(m.to_dict())))
    assert again == m
    assert header_key(["A", "b", "C"]) == header_key(["c", "B", "a"])  # order and case ignored
    assert header_key(["A", "b"]) != header_key(["A", "b", "c"])
    assert len(header_key(["x"])) == 16


def test_mapping_flat_form_and_labels():
    m = Mapping.from_dict({"Job ID": "Ident", "duration_min": {"column": "Secs", "unit": "seconds"}})
    assert m.columns == {"run_id": "Ident", "duration_min": "Secs"} and m.units == {"duration_min": "s"}


@pytest.mark.parametrize("content, needle", [
    ('{"columns": {"durration": "x"}}', "columns.durration"),
    ('{"columns": {"run_id": "x"}, "units": {"duration_min": "fortnights"}}', "units.duration_min"),
    ('{"columns": {"run_id": "x"}, "units": {"run_id": "s"}}', "units.run_id"),
    ('{"columns": {"run_id": 3.5}}', "columns.run_id"),
    ('{"columns": {}, "colour": 1}', "colour"),
    ('{"version": 9}', "version"),
    ("[1, 2]", "JSON object"),
    ("{not json", "not valid JSON"),
])
def test_mapping_file_errors_name_the_key(tmp_path, content, needle):
    p = tmp_path / "map.json"
    p.write_text(content)
    with pytest.raises(DataError) as ei:
        load_mapping_file(p)
    assert needle in str(ei.value) and str(p) in str(ei.value)


def test_semicolon_decimal_comma_units_and_dbus():
    # RunID;...;run_duration_seconds;State;data_mb;DBUs at $0.40/DBU, 10% discount:
    #   r1: 1800 s = 30 min, 1536,5 MB = 1.5365 GB, 12,5 DBU x 0.36 = 4.50
    #   r2: 2700 s = 45 min, 2048 MB = 2.048 GB,    7,25 DBU x 0.36 = 2.61
    #   r3:  360 s =  6 min, 512,25 MB = 0.51225 GB, 1 DBU x 0.36   = 0.36  -> total 7.47
    rep = LoadReport()
    df = load_path(FOREIGN / "semicolon_decimal_comma.csv", usd_per_dbu=0.4, contract_discount=0.1, report=rep)
    assert_canonical(df)
    assert df["duration_min"].tolist() == [30.0, 45.0, 6.0]
    np.testing.assert_allclose(df["data_processed_gb"], [1.5365, 2.048, 0.51225])
    np.testing.assert_allclose(df["cost_usd"], [4.50, 2.61, 0.36])
    assert df["cost_usd"].sum() == pytest.approx(7.47)
    assert df["status"].tolist() == ["Success", "Failed", "Failed"]
    assert df["result_state"].tolist() == ["SUCCEEDED", "FAILED", "TIMEDOUT"]
    assert df.attrs["cost_basis"] == "usd_per_dbu"


def test_dbus_without_price_load_with_loud_warning_or_refuse_when_strict():
    rep = LoadReport()
    df = load_path(FOREIGN / "semicolon_decimal_comma.csv", report=rep)
    # DBUs without a price: the cost is unknown (NaN), never $0, and the frame says why
    assert df["cost_usd"].isna().all() and df.attrs["cost_basis"] == "none"
    assert "no price per DBU" in df.attrs["cost_unknown_why"]
    assert any(w.startswith("COST UNKNOWN") and "--usd-per-dbu" in w for w in rep.warnings)
    with pytest.raises(DataError, match="usd-per-dbu"):
        load_path(FOREIGN / "semicolon_decimal_comma.csv", strict=True)


@pytest.mark.parametrize("name", ["utf16le_bom_tab.csv", "utf16be_bom_tab.csv"])
def test_utf16_tab_ms(name):
    # duration_ms 90000 / 600000 -> 1.5 / 10 min; cost 1.25 + 2.50 = 3.75. u3 UPSTREAM_FAILED never
    # ran ("skipped because of an upstream failure", Databricks RunResultState): left out by the skipped policy
    rep = LoadReport()
    df = load_path(FOREIGN / name, report=rep)
    assert df["job_name"].tolist() == ["Umsatz Übertrag", "Umsatz Übertrag"]
    assert df["duration_min"].tolist() == [1.5, 10.0]
    assert df["cost_usd"].sum() == pytest.approx(3.75)
    assert df["status"].tolist() == ["Success", "Failed"]  # SUCCEEDED, ERROR
    assert str(df["end_time"].iloc[1]) == "2024-05-01 09:10:00"
    assert [(e["reason"].split(" (")[0], e["count"], e["examples"]) for e in rep.left_out] == \
        [("never ran", 1, [3])]
    # with the skipped policy "failed" it counts: 60 min, $0.25
    df = load_path(FOREIGN / name, skipped="failed")
    assert df["cost_usd"].sum() == pytest.approx(4.0) and str(df["end_time"].iloc[2]) == "2024-05-01 11:00:00"


@pytest.mark.parametrize("name", ["latin1_labels.csv", "utf8_bom_labels.csv"])
def test_latin1_and_bom(name):
    df = load_path(FOREIGN / name)
    assert df["job_name"].tolist() == ["Café orders", "Café orders", "Niño tiles"]
    assert df["run_id"].tolist() == ["L1", "L2", "L3"]
    assert df["cost_usd"].sum() == pytest.approx(6.6)  # 1.10 + 2.20 + 3.30


def test_map_file_through_core_and_cli(tmp_path):
    # Ident/Began/Secs/Outcome/Dollars: 120 s = 2 min, 240 s = 4 min, 60 s = 1 min; $1.5 + 2.5 + 0.5 = 4.5
    with pytest.raises(DataError, match="--map FILE"):
        load_path(FOREIGN / "odd_headers.csv")
    m = load_mapping_file(FOREIGN / "odd_headers.map.json")
    df = load_path(FOREIGN / "odd_headers.csv", mapping=m)
    assert df["duration_min"].tolist() == [2.0, 4.0, 1.0]
    assert df["cost_usd"].sum() == pytest.approx(4.5)
    assert df["status"].tolist() == ["Success", "Failed", "Success"]
    assert str(df["start_time"].iloc[0]) == "2024-05-01 08:00:00"
    out = run_cli("check", FOREIGN / "odd_headers.csv", "--map", FOREIGN / "odd_headers.map.json", timeout=60)
    assert out.returncode == 0, out.stderr
    assert "loaded 3 runs" in out.stdout
    bad = tmp_path / "bad.json"
    bad.write_text('{"columns": {"run_identifier": "Ident"}}')
    out = run_cli("check", FOREIGN / "odd_headers.csv", "--map", bad, timeout=60)
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1
    assert "columns.run_identifier" in out.stderr


def test_mapping_naming_absent_column_is_refused():
    m = Mapping({"run_id": "Nope", "start_time": "Began", "status": "Outcome"})
    with pytest.raises(DataError) as ei:
        load_path(FOREIGN / "odd_headers.csv", mapping=m)
    assert ei.value.column == "Nope" and "no such column" in ei.value.problem


def test_preview_returns_headers_rows_and_guess():
    headers, rows, m = preview(FOREIGN / "semicolon_decimal_comma.csv", n=2)
    assert headers == ["RunID", "Pipeline", "Started", "Ended", "run_duration_seconds", "State", "data_mb", "DBUs"]
    # the preview shows the file's own text; the locale stage reads 1536,5 as 1536.5 on load
    assert len(rows) == 2 and rows[0][0] == "r1" and rows[0][6] == "1536,5"
    assert m.columns["run_id"] == "RunID" and m.unit("duration_min") == "s" and m.unit("data_processed_gb") == "MB"
    assert m.columns["dbus"] == "DBUs" and m.missing() == []


def test_no_cost_column_estimates_from_usd_per_hour(tmp_path):
    p = tmp_path / "runs.csv"
    p.write_text("run_id,start,duration_min,status\na,2024-05-01 08:00,30,SUCCESS\nb,2024-05-01 09:00,90,FAILED\n")
    rep = LoadReport()
    df = load_path(p, usd_per_hour=4.0, report=rep)   # 0.5 h x 4 = 2, 1.5 h x 4 = 6
    assert df["cost_usd"].tolist() == [2.0, 6.0] and df.attrs["cost_basis"] == "usd_per_hour"
    assert any("COST ESTIMATED" in w for w in rep.warnings)


def test_epoch_milliseconds_and_zero_based_attempts(tmp_path):
    p = tmp_path / "runs.csv"
    p.write_text("run_id,start_time,end_time,state,cost,attempt_number\n"
                 "a,1714550400000,1714554000000,SUCCESS,1,0\nb,1714557600000,1714559400000,FAILED,2,1\n")
    rep = LoadReport()
    df = load_path(p, report=rep)
    assert str(df["start_time"].iloc[0]) == "2024-05-01 08:00:00"
    assert df["duration_min"].tolist() == [60.0, 30.0]
    assert df["attempt"].tolist() == [1, 2]
    assert any("count from 0" in w for w in rep.warnings)


def test_several_files_concatenate_and_rename_duplicates(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("Job ID,Start Time,Duration (min),Job Status,Cost (USD)\n1,2024-05-01 08:00,10,Success,1\n")
    b.write_text("Job ID,Start Time,Duration (min),Job Status,Cost (USD)\n1,2024-05-02 08:00,20,Failed,2\n"
                 "2,2024-05-02 09:00,5,Success,0.5\n")
    rep = LoadReport()
    df = load_paths([a, b], report=rep)
    assert df["run_id"].tolist() == ["1", "1#2", "2"] and df["cost_usd"].sum() == 3.5
    assert any("renamed" in w for w in rep.warnings)
    with pytest.raises(DataError, match="more than one file"):
        load_paths([a, b], strict=True)


def test_import_options_validation():
    with pytest.raises(DataError, match="discount"):
        ImportOptions(contract_discount=1.5).validate()
    with pytest.raises(DataError, match="cancelled"):
        ImportOptions(cancelled="maybe").validate()
    with pytest.raises(TypeError):
        load_path(FOREIGN / "latin1_labels.csv", colour="red")
    assert ImportOptions(usd_per_dbu=0.5, contract_discount=0.2).dbu_price == pytest.approx(0.4)


def test_apply_mapping_direct():
    raw = pd.DataFrame({"id": ["x", "y"], "begin": ["2024-01-01 00:00", "2024-01-01 01:00"],
                        "secs": [60, 120], "outcome": ["ok", "failed"], "usd": [1.0, 2.0]})
    m = guess_mapping(raw.columns)
    assert m.columns["run_id"] == "id" and m.columns["cost_usd"] == "usd"
    m.columns["duration_min"] = "secs"
    m.units["duration_min"] = "s"
    df = apply_mapping(raw, m, file="mem")
    assert df["duration_min"].tolist() == [1.0, 2.0]
