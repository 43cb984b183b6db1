"""A folder of run data with stray files (README, notes, a JSON of metadata, .DS_Store) loads its run
data and lists the stray files as skipped, with the reason; only run data of kinds that cannot be
combined is refused, naming the files of each kind."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from etl_desk.core.data.loaders import load_path
from etl_desk.core.data.provenance import text_lines
from etl_desk.core.errors import DataError, LoadReport
from etl_desk.core.insights.kpis import compute_kpis

CASE = Path(__file__).resolve().parents[2] / "shared" / "cases" / "timeline-repaired-run"
FIXTURE = Path(__file__).parent / "fixtures" / "real_exports" / "shared-timeline-repaired-run"


def _case_folder(tmp_path: Path) -> Path:
    src = FIXTURE if FIXTURE.is_dir() else CASE  # the same files (copied from ../shared/cases)
    if not src.is_dir():
        pytest.skip("the timeline-repaired-run case is not here")
    folder = tmp_path / "export"
    folder.mkdir()
    for name in ("job_run_timeline.csv", "jobs.csv", "usage.csv"):
        shutil.copy(src / name, folder / name)
    return folder


def _strays(folder: Path) -> None:
    (folder / "README.md").write_text("# Export of 3 May\nThe system tables, from the SQL editor.\n")
    (folder / "notes.txt").write_text("Exported from the SQL editor on 3 May.\nAsk Jane about list prices.\n")
    (folder / "export_meta.json").write_text('{"exported_by": "jane", "tables": 3}')
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1" + b"\x00" * 40)


def test_stray_files_are_skipped_with_the_reason_and_the_runs_load(tmp_path):
    folder = _case_folder(tmp_path)
    clean = compute_kpis(load_path(folder, usd_per_dbu=0.20))
    _strays(folder)
    report = LoadReport()
    df = load_path(folder, usd_per_dbu=0.20, report=report)
    k = compute_kpis(df)
    # the case's figures (expected.json): $2.40 in all, $1.20 failed; the strays change nothing
    assert k["total_cost_usd"] == pytest.approx(2.40) and k["failed_cost_usd"] == pytest.approx(1.20)
    assert k["runs"] == clean["runs"]
    why = {Path(x["file"]).name: x["why"] for x in report.skipped}
    assert set(why) == {"README.md", "notes.txt", "export_meta.json", ".DS_Store"}
    assert "not a table of runs" in why["notes.txt"] and "run id" in why["notes.txt"]
    assert "not a Databricks Jobs API runs/list response" in why["export_meta.json"]
    assert "exported_by" in why["export_meta.json"]
    assert "file type" in why["README.md"] and "hidden" in why[".DS_Store"]
    prov = df.attrs["provenance"]
    assert {Path(x["file"]).name for x in prov["skipped"]} == set(why)
    assert [Path(f["file"]).name for f in prov["files"]] == ["job_run_timeline.csv", "jobs.csv", "usage.csv"]
    assert any(line.strip().startswith("Skipped") and "notes.txt" in line for line in text_lines(prov))


def test_conflicting_kinds_of_run_data_are_refused_naming_the_files(tmp_path):
    folder = _case_folder(tmp_path)
    (folder / "runs.csv").write_text("Job ID,Start Time,Duration (min),Job Status,Cost (USD)\n"
                                     "r1,2024-05-03 01:00,10,Success,1.50\n")
    with pytest.raises(DataError) as e:
        load_path(folder, usd_per_dbu=0.20)
    msg = str(e.value)
    assert "cannot combine" in msg and "choose" not in msg.split("cannot combine")[0]
    assert "job_run_timeline.csv" in msg and "usage.csv" in msg and "runs.csv" in msg


def test_a_folder_without_run_data_names_what_it_skipped(tmp_path):
    folder = tmp_path / "odds"
    folder.mkdir()
    _strays(folder)
    with pytest.raises(DataError) as e:
        load_path(folder)
    msg = str(e.value)
    assert "no run data" in msg and "notes.txt" in msg and "export_meta.json" in msg


def test_a_stray_json_chosen_by_name_is_still_refused(tmp_path):
    p = tmp_path / "export_meta.json"
    p.write_text('{"exported_by": "jane"}')
    with pytest.raises(DataError, match="not a Databricks Jobs API runs/list response"):
        load_path(p)
