"""Run IDs checked for repeats once per file: distinct IDs load as they are, repeats (also ones that differ
only by surrounding blanks, or numeric ones) are kept as different runs with '#n' and said."""
from __future__ import annotations

from etl_desk.core.data.loaders import load_path

HEAD = "Job ID,Start Time,Duration (min),Job Status,Cost (USD)\n"


def _write(tmp_path, rows: list[str]):
    p = tmp_path / "runs.csv"
    p.write_text(HEAD + "\n".join(rows) + "\n")
    return p


def test_distinct_ids_load_unchanged(tmp_path):
    p = _write(tmp_path, ["r7,2024-01-01 00:00:00,5,Success,1.00", " r8 ,2024-01-01 01:00:00,5,Failed,2.00"])
    df = load_path(p)
    assert df["run_id"].tolist() == ["r7", "r8"]


def test_ids_equal_after_stripping_are_repeats(tmp_path):
    p = _write(tmp_path, ["r7,2024-01-01 00:00:00,5,Success,1.00", " r7,2024-01-01 01:00:00,5,Failed,2.00",
                          "r8,2024-01-01 02:00:00,5,Success,3.00"])
    df = load_path(p)
    assert df["run_id"].tolist() == ["r7", "r7#2", "r8"]
    assert df["cost_usd"].sum() == 6.0  # nothing merged or dropped


def test_numeric_repeats_are_kept_apart(tmp_path):
    p = _write(tmp_path, ["123,2024-01-01 00:00:00,5,Success,1.00", "123,2024-01-01 01:00:00,5,Failed,2.00",
                          "124,2024-01-01 02:00:00,5,Success,3.00"])
    df = load_path(p)
    assert df["run_id"].tolist() == ["123", "123#2", "124"]
