"""The malformed / hostile input corpus (tests/fixtures/bad/, made by make_bad_corpus.py).

Every file either loads with its problems listed as warnings, or is refused with
a DataError whose message names the file (and the row and column where there is
one) - through the core loader and through `etl-desk check` (exit 2, exactly one
line on stderr, no traceback). Hostile files are refused in bounded time and memory.
"""
from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import textwrap

import pytest

from etl_desk.core.data.loaders import load_path
from etl_desk.core.errors import DataError, LoadReport
from tests.conftest import FIXTURES, run_cli

BAD = FIXTURES / "bad"

# name -> ("refuse", needle, row, column) | ("load", rows, warning needle or None)
EXPECTED = {
    "empty.csv": ("refuse", "empty", None, None),
    "blank_lines.csv": ("refuse", "empty", None, None),
    "header_only.csv": ("refuse", "no data rows", None, None),
    "binary_junk.csv": ("refuse", "binary", None, None),
    "png_as_xlsx.xlsx": ("refuse", "binary", None, None),
    "wrong_delimiter.csv": ("refuse", "no usable runs", None, None),
    "missing_required_columns.csv": ("refuse", "required column", None, "Job ID"),
    "html_as_csv.csv": ("refuse", "required column", None, "Job ID"),
    "text_in_numeric.csv": ("refuse", "expected a number", 3, "Cost (USD)"),
    "bad_bool.csv": ("refuse", "expected true/false", 2, "Spot"),
    "unparsable_dates.csv": ("refuse", "as a date", 2, "Start Time"),
    "timeline_bad_date.csv": ("refuse", "as a date", 2, "period_start_time"),
    "unclosed_quote.csv": ("refuse", "cannot split", 2, None),
    "ragged_rows.csv": ("refuse", "cannot split", 2, None),
    "all_rows_bad.csv": ("refuse", "no usable runs", None, None),
    "no_sheets.xlsx": ("refuse", "no sheets", None, None),
    "password_protected.xlsx": ("refuse", "password-protected", None, None),
    "truncated_zip.xlsx": ("refuse", "truncated", None, None),
    "zip_not_workbook.xlsx": ("refuse", "not an Excel workbook", None, None),
    "entity_bomb.xlsx": ("refuse", "entity-expansion", None, None),
    "zip_bomb.xlsx": ("refuse", "zip bomb", None, None),
    "wrong_types.parquet": ("refuse", "expected a number", 3, "Cost (USD)"),
    "truncated.parquet": ("refuse", "Parquet", None, None),
    "not_runs_list.json": ("refuse", "not a Databricks Jobs API runs/list", None, None),
    "invalid.json": ("refuse", "not valid JSON", None, None),
    "deeply_nested.json": ("refuse", "nested too deeply", None, None),
    "runs_not_array.json": ("refuse", "must be an array", None, None),
    "run_without_id.json": ("refuse", "no run_id", 1, "run_id"),
    "run_bad_time.json": ("refuse", "expected a number", 1, "start_time"),
    "empty_runs.json": ("refuse", "no runs", None, None),
    "usage_without_timeline.csv": ("refuse", "job_run_timeline", None, None),
    "negative_duration.csv": ("load", 2, "negative value (column 'Duration (min)', first at row 2)"),
    "nan_duration.csv": ("load", 2, "no duration"),
    "negative_cost.csv": ("load", 2, "negative value (column 'Cost (USD)', first at row 3)"),
    "nan_cost.csv": ("load", 2, "no cost (column 'Cost (USD)', first at row 2)"),
    "infinite_cost.csv": ("load", 2, "infinite value"),
    "duplicate_run_ids.csv": ("load", 4, "duplicate run ID(s) renamed"),
    "end_before_start.csv": ("load", 2, "end time before start time"),
    "unknown_status.csv": ("load", 2, "unknown job status 'Maybe'"),
    "mixed_timezones.csv": ("load", 3, "mixes times with a UTC offset"),
    "huge_cell_name.csv": ("load", 3, "were clipped"),
    "huge_cell_status.csv": ("load", 1, "unknown job status"),
    "formula_text.csv": ("load", 2, None),
}
HOSTILE = ["zip_bomb.xlsx", "entity_bomb.xlsx", "deeply_nested.json", "password_protected.xlsx",
           "huge_cell_name.csv", "huge_cell_status.csv", "binary_junk.csv"]


@contextlib.contextmanager
def time_limit(seconds: float):
    """Fail the test if the block runs longer than *seconds* (POSIX main thread)."""
    if not hasattr(signal, "setitimer"):  # pragma: no cover - Windows
        yield
        return

    def boom(signum, frame):
        raise TimeoutError(f"took longer than {seconds} s")
    old = signal.signal(signal.SIGALRM, boom)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_corpus_is_complete():
    on_disk = {p.name for p in BAD.iterdir()}
    assert on_disk == set(EXPECTED), on_disk ^ set(EXPECTED)
    assert len(on_disk) >= 30
    assert (BAD / "zip_bomb.xlsx").stat().st_size < 64 * 1024   # small on disk


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_core_loader(name):
    exp = EXPECTED[name]
    path = BAD / name
    rep = LoadReport()
    with time_limit(20):
        if exp[0] == "refuse":
            with pytest.raises(DataError) as ei:
                load_path(path, report=rep)
            err = ei.value
            assert type(err) is DataError
            assert err.file and name in err.file, err.message
            assert exp[1] in err.problem, err.message
            if exp[2] is not None:
                assert err.row == exp[2], err.message
            if exp[3] is not None:
                assert err.column == exp[3], err.message
            assert len(err.message) < 600
        else:
            df = load_path(path, report=rep)
            assert len(df) == exp[1]
            if exp[2]:
                assert any(exp[2] in w for w in rep.warnings), rep.warnings
            assert df.attrs["load_warnings"] == rep.warnings


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_command_line(name):
    exp = EXPECTED[name]
    out = run_cli("check", BAD / name, timeout=60)
    assert "Traceback" not in out.stderr
    if exp[0] == "refuse":
        assert out.returncode == 2, (out.returncode, out.stdout, out.stderr)
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1, out.stderr
        assert name in lines[0] and exp[1] in lines[0]
        if exp[2] is not None:
            assert f"row {exp[2]}" in lines[0]
        if exp[3] is not None:
            assert f"column '{exp[3]}'" in lines[0]
    else:
        assert out.returncode == 0, out.stderr
        assert f"loaded {exp[1]:,} runs" in out.stdout
        if exp[2]:
            assert exp[2] in out.stdout


def test_strict_mode_refuses_what_lenient_mode_fixes():
    for name in ("negative_duration.csv", "duplicate_run_ids.csv", "unknown_status.csv"):
        with pytest.raises(DataError) as ei:
            load_path(BAD / name, strict=True)
        assert ei.value.row is not None and ei.value.column is not None


def test_defusedxml_refuses_the_entity_bomb_even_without_our_scan():
    """openpyxl's own parse of the bomb (skipping our DTD pre-scan) must refuse, not expand."""
    import pandas as pd

    with time_limit(20):
        with pytest.raises(Exception) as ei:
            pd.read_excel(BAD / "entity_bomb.xlsx", engine="openpyxl")
    assert "entit" in repr(ei.value).lower() or "forbidden" in repr(ei.value).lower() \
        or "could not read strings" in str(ei.value)


def test_hostile_files_bounded_memory():
    """Each hostile file is refused by a fresh process that stays under 600 MB peak RSS."""
    code = textwrap.dedent("""
        import sys
        from etl_desk.core.data.loaders import load_path
        from etl_desk.core.errors import DataError
        try:
            load_path(sys.argv[1])
        except DataError:
            pass
        # this process's own high-water mark (ru_maxrss can carry the forking parent's figure)
        status = open("/proc/self/status").read()
        print(next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")))  # KiB
    """)
    if sys.platform != "linux":
        pytest.skip("reads /proc/self/status (Linux)")
    for name in HOSTILE:
        out = subprocess.run([sys.executable, "-c", code, str(BAD / name)], capture_output=True, text=True,
                             timeout=120)
        assert out.returncode == 0, out.stderr
        assert int(out.stdout.split()[-1]) < 600 * 1024, (name, out.stdout)
