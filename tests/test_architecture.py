"""Architecture rules and pinned traps."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "etl_desk"


def test_core_and_cli_import_no_qt():
    """Importing every core module and the CLI loads no Qt module (checked in a fresh process)."""
    mods = sorted(".".join(("etl_desk", *p.relative_to(SRC).with_suffix("").parts)) for p in (SRC / "core").rglob("*.py")
                  if p.stem != "__init__")
    mods += sorted("etl_desk.commands." + p.stem for p in (SRC / "commands").glob("*.py")
                   if p.stem != "__init__")
    code = textwrap.dedent(f"""
        import importlib, sys
        for m in {mods!r} + ["etl_desk.cli"]:
            importlib.import_module(m)
        import etl_desk.cli
        etl_desk.cli.build_parser()
        bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph'))
        print(','.join(bad))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"Qt loaded by core/CLI: {out.stdout}"
    assert len(mods) >= 40


def test_core_sources_have_no_qt_import_lines():
    import re

    pat = re.compile(r"^\s*(from|import)\s+(PySide6|pyqtgraph|shiboken6)", re.M)
    offenders = [str(p) for p in (SRC / "core").rglob("*.py") if pat.search(p.read_text())]
    assert offenders == []


def test_pyside6_void_calls_do_not_abort():
    """PySide6 6.12.0 on CPython 3.11 aborts after ~16k void calls (none_dealloc). 100k must pass."""
    code = textwrap.dedent("""
        import os
        os.environ['QT_QPA_PLATFORM'] = 'offscreen'
        from PySide6.QtGui import QGuiApplication, QImage, QPainter, QBrush, QColor
        app = QGuiApplication([])
        img = QImage(8, 8, QImage.Format.Format_ARGB32)
        p = QPainter(img)
        b = QBrush(QColor('#F28E2B'))
        for _ in range(100_000):
            p.setBrush(b)
        p.end()
        print('ok')
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "ok", (out.returncode, out.stderr[-2000:])


def test_installed_pyside6_is_not_the_aborting_combination():
    import PySide6

    if sys.version_info[:2] == (3, 11):
        assert tuple(int(x) for x in PySide6.__version__.split(".")[:2]) < (6, 12)


@pytest.mark.parametrize("path", ["pyproject.toml"])
def test_pin_is_declared(path):
    text = (SRC.parents[1] / path).read_text()
    assert "PySide6-Essentials>=6.6,<6.12; python_version < '3.12'" in text


def test_window_start_up_imports_pandas_before_pyside(tmp_path):
    """Pinned trap: PySide6's import hook reads the source of every module imported after it
    (~0.1 s of start-up for pandas alone). The window's start-up path must import pandas and
    the core first; the first-paint exit hook gives a real start-up in a fresh process."""
    env = {**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen", "ETL_DESK_EXIT_AFTER_FIRST_PAINT": "1",
           "ETL_DESK_SETTINGS": str(tmp_path / "s.ini")}
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "etl_desk"], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    order = [line.rsplit("|", 1)[-1].strip() for line in out.stderr.splitlines() if line.startswith("import time:")]
    first = {name: order.index(name) for name in ("pandas", "etl_desk.core.dashboard.view", "PySide6")}
    assert first["pandas"] < first["PySide6"], "pandas is imported after PySide6"
    assert first["etl_desk.core.dashboard.view"] < first["PySide6"], "the core is imported after PySide6"


def test_import_contracts_hold():
    """The import-linter contracts in pyproject.toml: core never imports the window or Qt; layers point down."""
    out = subprocess.run([str(Path(sys.executable).with_name("lint-imports")), "--config",
                          str(SRC.parents[1] / "pyproject.toml")], capture_output=True, text=True, timeout=300,
                         cwd=SRC.parents[1])
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout


def _cycles(graph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.find_modules_directly_imported_by(v):
            if w not in graph.modules:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for m in sorted(graph.modules):
        if m not in index:
            visit(m)
    return found


def test_no_import_cycles_in_src():
    """No module imports itself back through others -- counting imports inside functions too."""
    import grimp

    graph = grimp.build_graph("etl_desk", exclude_type_checking_imports=True)
    assert _cycles(graph) == []


def test_the_cycle_check_finds_a_cycle():
    import grimp

    graph = grimp.ImportGraph()
    for a, b in (("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.c", "p.d")):
        graph.add_import(importer=a, imported=b)
    assert _cycles(graph) == [["p.a", "p.b", "p.c"]]


def test_no_process_wide_warning_filters_in_code_that_may_run_on_a_worker_thread():
    """``warnings.catch_warnings`` / ``simplefilter`` swap the process-wide filter list: on a worker thread
    (the forecast, the analysis, loads) they race the UI thread's filters (not thread-safe in Python 3.11).
    Warnings are avoided at their cause instead (e.g. the forecast checks its design before fitting)."""
    bad = [f"{p.relative_to(SRC)}:{i}" for p in SRC.rglob("*.py")
           for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
           if not line.lstrip().startswith("#") and any(
               w in line for w in ("catch_warnings(", "simplefilter(", "filterwarnings("))]
    assert not bad, bad
