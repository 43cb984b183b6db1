"""The report pages as a PDF: LibreOffice prints a report-only copy of the finance workbook.

Why LibreOffice: the PDF then shows exactly the pages of the workbook finance receives --
the same figures (LibreOffice prints the values ETL Desk computed and cached in every
formula cell), the same native charts, print areas, page headers and footers -- with
nothing drawn twice. It is free, runs offline on Windows, macOS and Linux, and is
used headless with a throw-away profile, so it never disturbs a LibreOffice the user
has open. A pure-Python PDF library would have meant a second renderer of every table
and chart to keep in step with the workbook. When LibreOffice is not installed the
export says so and how to get the same pages (print the workbook's report sheets).

The report pages: Decision, Assumptions, Business Case, Annual cash flows, Scenarios,
Checks and Charts, and Benefits realisation (the measurement when given: what was measured, the
periods, per target the change with its 95 % interval beside the projection; else a page saying it
was not measured); the data sheets are not in it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

from etl_desk.core.business_case.results import Results
from etl_desk.core.errors import DataError
from etl_desk.core.files import atomic_write
from etl_desk.core.workbook.export import export_workbook

#: Where LibreOffice usually lives when it is not on the PATH.
_CANDIDATES = ("/Applications/LibreOffice.app/Contents/MacOS/soffice",
               r"C:\Program Files\LibreOffice\program\soffice.exe",
               r"C:\Program Files (x86)\LibreOffice\program\soffice.exe")
TIMEOUT_S = 600


def find_soffice() -> str | None:
    """The LibreOffice executable (``ETL_DESK_SOFFICE``, the PATH, then the usual install folders), or None."""
    env = os.environ.get("ETL_DESK_SOFFICE")
    if env and Path(env).exists():
        return env
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    return next((c for c in _CANDIDATES if Path(c).exists()), None)


def export_report_pdf(path: str | os.PathLike, df: pd.DataFrame, results: Results, *, source: str = "",
                      title: str = "ETL job runs: cost, failures and the business case", realisation=None) -> Path:
    """Write the report pages of the workbook of *results* to the PDF *path* (atomically); return the path.

    Raises :class:`DataError` when *path* is not ``.pdf``, when LibreOffice is not
    installed, or when the conversion fails or takes longer than ten minutes.
    """
    path = Path(path)
    if path.suffix.lower() != ".pdf":
        raise DataError("the report must have the extension .pdf", file=str(path))
    exe = find_soffice()
    if exe is None:
        raise DataError("writing a PDF needs LibreOffice (soffice), which is not installed: install it (free, "
                        "libreoffice.org) or set ETL_DESK_SOFFICE to its path -- or write the .xlsx and print its "
                        "report pages", file=str(path))
    with tempfile.TemporaryDirectory(prefix="etl-desk-pdf-") as tmp:
        tmpdir = Path(tmp)
        book = tmpdir / "report.xlsx"
        export_workbook(book, df, results, source=source, title=title, realisation=realisation, report_only=True)
        profile = tmpdir / "profile"
        cmd = [exe, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore", "--nolockcheck",
               "--convert-to", "pdf", "--outdir", str(tmpdir / "out"), str(book)]
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S,
                                 creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0) if sys.platform == "win32"
                                 else 0)
        except subprocess.TimeoutExpired:
            raise DataError(f"LibreOffice took longer than {TIMEOUT_S // 60} minutes to print the report",
                            file=str(path)) from None
        except OSError as exc:
            raise DataError(f"cannot run LibreOffice ({exc})", file=str(path)) from None
        pdf = tmpdir / "out" / "report.pdf"
        if out.returncode != 0 or not pdf.exists():
            raise DataError(f"LibreOffice could not print the report ({(out.stderr or out.stdout).strip()[:300]})",
                            file=str(path))
        atomic_write(path, lambda dst: shutil.copyfile(pdf, dst))
    return path
