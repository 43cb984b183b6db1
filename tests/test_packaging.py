"""Packaging: the icon set, the self-test, and the wheel installed into a fresh venv.

The wheel test is a real installation, not a shortcut: ``pip wheel --no-deps .`` (with build
isolation, as any user's ``pip install .`` would do), then a brand-new venv (no
``--system-site-packages``) into which pip installs the wheel *with its declared
dependencies* — so a missing dependency or a wrong PySide6 pin fails here. pip resolves them
from its cache when warm (about 40 s on the 2-core CI box, most of it unpacking PySide6).
The self-test then runs from a temporary working directory with ``PYTHONPATH`` unset, and the
package and its resources must be found inside the venv, never in this source tree.
"""
from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli

ICONS = ROOT / "resources" / "icons"


def test_icon_set_is_complete_and_well_formed():
    from etl_desk.ui.identity import ICON_SIZES

    assert (ICONS / "etl-desk.svg").read_text().lstrip().startswith("<?xml")
    for s in ICON_SIZES:
        data = (ICONS / f"etl-desk-{s}.png").read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        w, h = struct.unpack(">II", data[16:24])
        assert (w, h) == (s, s)
    ico = (ICONS / "etl-desk.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", ico[:6])
    assert (reserved, kind) == (0, 1) and count >= 6
    icns = (ICONS / "etl-desk.icns").read_bytes()
    assert icns[:4] == b"icns" and struct.unpack(">I", icns[4:8])[0] == len(icns)


def test_app_icon_and_about_text(qapp):
    from etl_desk import __version__
    from etl_desk.ui.identity import about_text, app_icon

    icon = app_icon()
    assert not icon.isNull()
    assert {s.width() for s in icon.availableSizes()} >= {16, 32, 256}
    text = about_text()
    assert "ETL Desk" in text and __version__ in text
    for word in ("Python", "Qt", "PySide6", "pandas", "Proprietary"):
        assert word in text


def test_self_test_reports_each_step_and_fails_on_any_failure():
    from etl_desk import selftest

    def boom(ctx):
        raise RuntimeError("broken on purpose")

    steps = [selftest.Step("one", lambda ctx: "fine"), selftest.Step("two", boom),
             selftest.Step("three", lambda ctx: "never", ("two",))]
    out = io.StringIO()
    assert selftest.run_self_test(steps, out=out) == 1
    lines = out.getvalue().splitlines()
    assert lines[1].startswith("ok   one: fine")
    assert lines[2].startswith("FAIL two: RuntimeError: broken on purpose")
    assert lines[3].startswith("FAIL three: not run: needs two")
    assert "1/3 steps ok" in lines[-1]
    out = io.StringIO()
    assert selftest.run_self_test(steps[:1], out=out) == 0
    assert "all passed" in out.getvalue()


def test_usd_rounds_half_up():
    from etl_desk.selftest import usd

    assert usd(1315.0949999999998) == "$1,315.10"
    assert usd(0.004) == "$0.00"


@pytest.mark.slow
def test_cli_self_test_passes():
    out = run_cli("--self-test", timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert "ok   generate case study: 1,000 runs, 52 failed, $1,315.10 total" in out.stdout
    assert sum(1 for ln in lines if ln.startswith("ok   ")) >= 7
    assert not any(ln.startswith("FAIL") for ln in lines)


def _clean_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP", "PYTHONUSERBASE")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env.update(extra)
    return env


@pytest.mark.slow
def test_wheel_in_fresh_venv_passes_self_test(tmp_path):
    env = _clean_env()
    wheels = tmp_path / "wheels"
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(ROOT), "-w", str(wheels)],
                       capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    (wheel,) = wheels.glob("etl_desk-*.whl")

    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    for must in ("etl_desk/resources/icons/etl-desk-256.png", "etl_desk/resources/icons/etl-desk.ico",
                 "etl_desk/resources/solutions.toml", "etl_desk/resources/pipelines.toml",
                 "etl_desk/resources/diagrams/solution-1.svg", "etl_desk/selftest.py"):
        assert must in names, f"{must} is not in {wheel.name}"

    venv = tmp_path / "venv"
    r = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True, env=env,
                       timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    py = bindir / ("python.exe" if os.name == "nt" else "python")
    r = subprocess.run([str(py), "-m", "pip", "install", "-q", str(wheel)], capture_output=True, text=True,
                       env=env, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]

    work = tmp_path / "elsewhere"
    work.mkdir()
    where = subprocess.run(
        [str(py), "-I", "-c",
         "import etl_desk, importlib.resources as r; print(etl_desk.__file__); "
         "print(r.files('etl_desk.resources') / 'icons' / 'etl-desk-256.png'); print(etl_desk.__version__)"],
        capture_output=True, text=True, env=env, cwd=work, timeout=120)
    assert where.returncode == 0, where.stderr
    module_file, icon_file, version = where.stdout.split()
    site = str(venv.resolve())
    assert Path(module_file).resolve().is_relative_to(site), module_file
    assert Path(icon_file).resolve().is_relative_to(site) and Path(icon_file).is_file(), icon_file
    assert not version.endswith("+src")

    out = subprocess.run([str(bindir / "etl-desk"), "--self-test"], capture_output=True, text=True, env=env,
                         cwd=work, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "package resources: " in out.stdout and site in out.stdout  # resources came from the venv
    assert "self-test: 7/7 steps ok" in out.stdout or "all passed" in out.stdout


def test_every_package_is_listed_in_pyproject():
    """pyproject.toml lists packages by hand (resources/ maps to etl_desk.resources): a new folder must be added."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {".".join(p.parent.relative_to(ROOT / "src").parts) for p in (ROOT / "src").rglob("__init__.py")}
    assert listed == on_disk | {"etl_desk.resources"}
