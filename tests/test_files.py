"""Atomic writes: the file lands whole, with the user's normal permissions, or not at all."""
from __future__ import annotations

import os
import stat

import pytest

from etl_desk.core.errors import DataError
from etl_desk.core.files import atomic_write


def _write(text):
    def write(tmp):
        with open(tmp, "w") as fh:
            fh.write(text)
    return write


def _mode(p):
    return stat.S_IMODE(os.stat(p).st_mode)


@pytest.mark.skipif(os.name != "posix", reason="Unix permissions")
def test_new_file_gets_0666_minus_umask_not_0600(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "a.csv", _write("x"))
        assert _mode(tmp_path / "a.csv") == 0o644
        os.umask(0o002)
        atomic_write(tmp_path / "b.csv", _write("x"))
        assert _mode(tmp_path / "b.csv") == 0o664
    finally:
        os.umask(old)


@pytest.mark.skipif(os.name != "posix", reason="Unix permissions")
def test_replacing_a_file_keeps_its_mode(tmp_path):
    p = tmp_path / "report.xlsx"
    p.write_text("old")
    os.chmod(p, 0o640)
    atomic_write(p, _write("new"))
    assert p.read_text() == "new" and _mode(p) == 0o640


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("old")

    def boom(tmp):
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        atomic_write(p, boom)
    assert p.read_text() == "old" and sorted(x.name for x in tmp_path.iterdir()) == ["r.csv"]


def test_missing_folder_is_a_data_error_naming_the_file(tmp_path):
    with pytest.raises(DataError, match="nope.*folder does not exist"):
        atomic_write(tmp_path / "nope" / "r.csv", _write("x"))
