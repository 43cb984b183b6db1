"""Shared fixtures. Qt runs offscreen and never touches the real user settings."""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
_settings_dir = tempfile.mkdtemp(prefix="etl-desk-test-settings-")
os.environ["ETL_DESK_SETTINGS"] = str(Path(_settings_dir) / "settings.ini")

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def case_study():
    from etl_desk.core.data.case_study import generate_case_study

    return generate_case_study()


@pytest.fixture
def settings_path(tmp_path, monkeypatch):
    """A fresh settings file for one test."""
    p = tmp_path / "settings.ini"
    monkeypatch.setenv("ETL_DESK_SETTINGS", str(p))
    return p


def run_cli(*args, cwd=None, timeout=120):
    """Run `python -m etl_desk ARGS` in a subprocess; returns CompletedProcess."""
    import subprocess

    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    return subprocess.run([sys.executable, "-m", "etl_desk", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=timeout, env=env)
