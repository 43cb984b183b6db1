"""etl-desk generate / --version: round trips for all formats and one-line errors."""
from __future__ import annotations

import pandas as pd
import pytest

from etl_desk import __version__
from etl_desk.cli import main
from etl_desk.core.data.tables import read_table
from tests.conftest import run_cli


@pytest.mark.parametrize("ext", ["csv", "xlsx", "parquet"])
def test_case_study_round_trip(tmp_path, case_study, ext):
    out = tmp_path / f"runs.{ext}"
    assert main(["generate", "--preset", "case-study", "-o", str(out)]) == 0
    back = read_table(out)
    pd.testing.assert_frame_equal(back, case_study, check_exact=False, rtol=1e-12)


def test_csv_has_exactly_the_published_columns(tmp_path):
    out = tmp_path / "x.csv"
    assert main(["generate", "-o", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert lines[0] == ("Job ID,Start Time,End Time,Duration (min),Data Processed (GB),Job Status,"
                        "Compute Hours Used,Cost (USD)")
    assert lines[1] == "1,2024-03-06 04:38:37,2024-03-06 05:05:37,27,498.17,Success,2.68,0.67"
    assert len(lines) == 1001


def test_version_subprocess():
    out = run_cli("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"etl-desk {__version__}"


@pytest.mark.parametrize("args, needle", [
    (["generate", "--runs", "abc", "-o", "x.csv"], "--runs"),
    (["generate", "--runs", "0", "-o", "x.csv"], "at least 1"),
    (["generate", "-o", "x.txt"], "unsupported file type"),
    (["generate", "--preset", "nope", "-o", "x.csv"], "invalid choice"),
    (["frobnicate"], "neither a command"),
    (["generate", "-o", "/nonexistent-dir/x.csv"], "folder does not exist"),
])
def test_bad_arguments_one_line_exit_2(args, needle, tmp_path):
    out = run_cli(*args, cwd=tmp_path)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert needle in lines[0]
    assert "Traceback" not in out.stderr


def test_window_without_a_display_says_so(tmp_path):
    """`etl-desk` over ssh (no display) explains itself instead of letting Qt abort."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    out = subprocess.run([sys.executable, "-m", "etl_desk"], capture_output=True, text=True, env=env,
                         timeout=60, cwd=tmp_path)
    assert out.returncode == 2
    assert "no display" in out.stderr and "Traceback" not in out.stderr
