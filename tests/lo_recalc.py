"""Recalculate an .xlsx with LibreOffice (headless) so tests can check formulas.

LibreOffice keeps an xlsx's cached values and recalculates nothing by default.
It recalculates on load only with a profile whose
``/org.openoffice.Office.Calc/Formula/Load`` ``OOXMLRecalcMode`` is 0 (always), so
:func:`recalc` uses a fresh profile with that setting, converts the file to xlsx
in *outdir* and returns the new path; read it with openpyxl ``data_only=True``.

Tests that need it call :func:`require_soffice` (skips when LibreOffice is absent).
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def require_soffice() -> str:
    exe = soffice()
    if exe is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    return exe


def recalc(path: str | Path, outdir: str | Path, *, timeout: float = 180) -> Path:
    """Open *path* in headless LibreOffice with forced recalculation, save as xlsx in *outdir*."""
    exe = require_soffice()
    path, outdir = Path(path), Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    if outdir.resolve() == path.parent.resolve():
        raise ValueError("outdir must differ from the input's folder (the output keeps the file name)")
    profile = Path(tempfile.mkdtemp(prefix="lo-profile-"))
    try:
        (profile / "user").mkdir()
        (profile / "user" / "registrymodifications.xcu").write_text(_XCU, encoding="utf-8")
        cmd = [exe, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
               "--convert-to", "xlsx", "--outdir", str(outdir), str(path)]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        result = outdir / (path.stem + ".xlsx")
        if out.returncode != 0 or not result.exists():
            raise RuntimeError(f"LibreOffice conversion failed ({out.returncode}): {out.stdout} {out.stderr}")
        return result
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def is_formula(value) -> bool:
    """A formula cell as openpyxl reads it: text starting with '=' or an array formula."""
    return (isinstance(value, str) and value.startswith("=")) or type(value).__name__ == "ArrayFormula"


def compare_cached(original: str | Path, recalculated: str | Path, sheets, *, tol: float = 0.01) -> list[str]:
    """Cells whose recalculated value differs from the cached value written in *original*.

    Numbers must agree to *tol*; text must be equal (empty text and no value count as equal).
    Returns one line per mismatch (empty list = all formulas reproduce the cached values).
    """
    import openpyxl

    a = openpyxl.load_workbook(original, data_only=True)
    f = openpyxl.load_workbook(original, data_only=False)
    b = openpyxl.load_workbook(recalculated, data_only=True)
    bad = []
    for name in sheets:
        wa, wf, wb = a[name], f[name], b[name]
        for row in wf.iter_rows():
            for c in row:
                if not is_formula(c.value):
                    continue
                va, vb = wa[c.coordinate].value, wb[c.coordinate].value
                va = None if va == "" else va
                vb = None if vb == "" else vb
                if isinstance(va, bool) or isinstance(vb, bool):
                    ok = va == vb
                elif isinstance(va, (int, float)) and isinstance(vb, (int, float)):
                    ok = abs(va - vb) <= tol
                else:
                    ok = va == vb
                if not ok:
                    text = c.value if isinstance(c.value, str) else str(getattr(c.value, "text", c.value))
                    bad.append(f"{name}!{c.coordinate}: cached {va!r}, recalculated {vb!r} ({text[:120]})")
    return bad
