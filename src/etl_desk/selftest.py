"""``etl-desk --self-test``: check an installation end to end, one line per step.

Steps: the packaged resources are there; the case-study data regenerates exactly (1,000 runs,
52 failed, $1,315.10); it analyses; the business case computes; a workbook exports to a
temporary folder and reopens to the same data; the main window renders (offscreen when there is
no display) to a non-blank image showing the status-coloured bars.

Every step imports what it needs inside the step, so a missing or broken module fails that step
with a clear line instead of crashing the run; a step whose input failed is reported as failed
("needs ..."). Exit status 0 only when every step passed.

Works from a source checkout, an installed wheel and the PyInstaller bundle: files are found
with ``importlib.resources``, never relative to the source tree, and nothing is written outside
a temporary folder (settings included).
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, TextIO

#: What the case-study generator must reproduce (the published data set).
CASE_RUNS, CASE_FAILED, CASE_COST_USD = 1000, 52, 1315.095


class StepFailed(Exception):
    """A check inside a step did not hold; the message is the whole explanation."""


@dataclass
class Step:
    name: str
    func: Callable[["Context"], str]
    needs: tuple[str, ...] = ()


@dataclass
class Context:
    tmp: Path
    values: dict[str, Any] = field(default_factory=dict)


def usd(x: float) -> str:
    """$1,315.10: money as the app and a spreadsheet show it (etl_desk.core.fmt.usd)."""
    from etl_desk.core.fmt import usd as _usd

    return _usd(x)


# --------------------------------------------------------------------------- steps
def step_resources(ctx: Context) -> str:
    from importlib import resources

    root = resources.files("etl_desk.resources")
    icons = root / "icons"
    missing = [n for n in ("etl-desk.svg", "etl-desk-16.png", "etl-desk-256.png", "etl-desk.ico", "etl-desk.icns")
               if not (icons / n).is_file()]
    if missing:
        raise StepFailed(f"missing from {icons}: {', '.join(missing)}")
    names = sorted(p.name for p in root.iterdir())
    return f"{len(names)} item(s) in {root} ({', '.join(names)})"


def step_generate(ctx: Context) -> str:
    from etl_desk.core.data.case_study import generate_case_study

    df = generate_case_study()
    runs = len(df)
    failed = int((df["status"] == "Failed").sum())
    total = float(df["cost_usd"].sum())
    problems = []
    if runs != CASE_RUNS:
        problems.append(f"{runs:,} runs, expected {CASE_RUNS:,}")
    if failed != CASE_FAILED:
        problems.append(f"{failed} failed, expected {CASE_FAILED}")
    if abs(total - CASE_COST_USD) > 1e-6:
        problems.append(f"total cost {usd(total)}, expected {usd(CASE_COST_USD)}")
    if problems:
        raise StepFailed("; ".join(problems))
    ctx.values["df"] = df
    return f"{runs:,} runs, {failed} failed, {usd(total)} total"


def step_analyze(ctx: Context) -> str:
    from etl_desk.core.insights.analysis import analyze

    analysis = analyze(ctx.values["df"])
    if analysis is None:
        raise StepFailed("analyze() returned None")
    ctx.values["analysis"] = analysis
    insights = getattr(analysis, "insights", None)
    extra = f", {len(insights)} insight(s)" if isinstance(insights, (list, tuple)) else ""
    return f"{type(analysis).__name__}{extra}"


def step_business_case(ctx: Context) -> str:
    from etl_desk.core.business_case.results import Results
    from etl_desk.core.business_case.assumptions import default_assumptions
    from etl_desk.core.business_case.baseline import compute_baseline
    from etl_desk.core.business_case.model import evaluate

    assumptions = default_assumptions()
    analysis = ctx.values["analysis"]  # the same anomalies as the analysis step: detected once
    baseline = compute_baseline(ctx.values["df"], analysis.anomalies)
    case = evaluate(baseline, assumptions)
    ctx.values["results"] = Results(runs=len(ctx.values["df"]), thresholds=analysis.thresholds,
                                    assumptions=assumptions, analysis=analysis, baseline=baseline, case=case)
    return f"{type(case).__name__}, {len(case.solutions)} solution(s)"


def step_export(ctx: Context) -> str:
    from etl_desk.core.workbook.export import export_workbook

    path = ctx.tmp / "self-test.xlsx"
    export_workbook(path, ctx.values["df"], ctx.values["results"])
    if not path.is_file() or path.stat().st_size == 0:
        raise StepFailed(f"export_workbook() wrote no file at {path}")
    ctx.values["xlsx"] = path
    return f"{path.name}, {path.stat().st_size / 1024:,.0f} KiB"


def step_reopen(ctx: Context) -> str:
    import pandas as pd

    from etl_desk.core.data.xlsx_read import read_workbook

    df = ctx.values["df"]
    df2, assumptions2 = read_workbook(ctx.values["xlsx"])
    problems = []
    if len(df2) != len(df):
        problems.append(f"{len(df2):,} runs read back, {len(df):,} written")
    else:
        for col in ("run_id", "status", "cost_usd", "duration_min", "data_processed_gb", "start_time"):
            if col not in df2.columns:
                problems.append(f"column {col} missing")
                continue
            a, b = df[col].reset_index(drop=True), df2[col].reset_index(drop=True)
            if pd.api.types.is_float_dtype(a):
                same = bool(((a - b.astype(float)).abs().fillna(0) < 1e-9).all())
            else:
                same = bool((a.astype(str) == b.astype(str)).all())
            if not same:
                problems.append(f"column {col} differs")
    if assumptions2 is None:
        problems.append("no assumptions read back")
    else:
        try:
            if assumptions2 != ctx.values["results"].assumptions:
                problems.append("assumptions differ")
        except Exception:  # noqa: BLE001 - not comparable: report, do not crash
            problems.append("assumptions cannot be compared")
    if problems:
        raise StepFailed("; ".join(problems))
    return f"{len(df2):,} runs and the assumptions match"


def _needs_offscreen() -> bool:
    if os.environ.get("QT_QPA_PLATFORM"):
        return False
    if sys.platform.startswith("linux") or "bsd" in sys.platform:
        return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return False


def step_window(ctx: Context) -> str:
    if _needs_offscreen():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import QSettings

    from etl_desk.ui.app import ensure_app
    from etl_desk.ui.main_window import MainWindow

    app = ensure_app()
    settings = QSettings(str(ctx.tmp / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings=settings, restore=False)
    try:
        win.resize(1280, 800)
        win.show()
        win.set_data(ctx.values["df"], "Case study (seed 42)")
        # poll: the window may finish drawing after a deferred first paint (up to 5 s)
        deadline = time.perf_counter() + 5.0
        while True:
            for _ in range(5):
                app.processEvents()
            img = win.grab().toImage()
            found = _look(img)
            if (found[0] >= 8 and found[1]) or time.perf_counter() > deadline:
                break
            time.sleep(0.05)
    finally:
        win.close()
        app.processEvents()
    colours, orange, blue = found
    platform = app.platformName()
    if img.isNull() or img.width() < 100:
        raise StepFailed("the window grab is empty")
    if colours < 8:
        raise StepFailed(f"the window looks blank ({colours} colour(s), {img.width()}x{img.height()}, "
                         f"platform {platform})")
    if orange == 0:
        raise StepFailed(f"no Success-orange (#F28E2B) bars in the window ({colours} colours, "
                         f"platform {platform})")
    return (f"{img.width()}x{img.height()} on {platform}, {colours} colours, "
            f"orange and {'blue' if blue else 'no blue'} bars")


def _look(img) -> tuple[int, int, int]:
    """(distinct colours, Success-orange pixels, Failed-blue pixels) over a grid of samples."""
    if img.isNull() or img.width() == 0:
        return 0, 0, 0
    step = max(1, min(img.width(), img.height()) // 200)
    colours, orange, blue = set(), 0, 0
    for y in range(0, img.height(), step):
        for x in range(0, img.width(), step):
            c = img.pixel(x, y) & 0xFFFFFF
            colours.add(c)
            r, g, b = (c >> 16) & 0xFF, (c >> 8) & 0xFF, c & 0xFF
            if abs(r - 0xF2) < 12 and abs(g - 0x8E) < 12 and abs(b - 0x2B) < 12:
                orange += 1
            elif abs(r - 0x4E) < 12 and abs(g - 0x79) < 12 and abs(b - 0xA7) < 12:
                blue += 1
    return len(colours), orange, blue


STEPS: list[Step] = [
    Step("package resources", step_resources),
    Step("generate case study", step_generate),
    Step("analyse", step_analyze, ("generate case study",)),
    Step("business case", step_business_case, ("analyse",)),
    Step("export workbook", step_export, ("analyse", "business case")),
    Step("reopen workbook", step_reopen, ("export workbook",)),
    Step("render main window", step_window, ("generate case study",)),
]


def _output() -> TextIO:
    """stdout, or a file when there is none (a windowed Windows executable has no console)."""
    if sys.stdout is not None:
        return sys.stdout
    path = Path(tempfile.gettempdir()) / "etl-desk-self-test.txt"
    return open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed by the interpreter at exit


def run_self_test(steps: list[Step] | None = None, out: TextIO | None = None) -> int:
    """Run every step, print one line each, return 0 only if all passed."""
    from etl_desk import __version__

    steps = STEPS if steps is None else steps
    out = out or _output()
    frozen = "bundle" if getattr(sys, "frozen", False) else "python"
    print(f"ETL Desk {__version__} self-test ({frozen}, Python {sys.version.split()[0]}, {sys.platform})",
          file=out, flush=True)
    passed: set[str] = set()
    failures = 0
    t_all = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="etl-desk-self-test-") as tmp:
        ctx = Context(Path(tmp))
        for step in steps:
            missing = [n for n in step.needs if n not in passed]
            t0 = time.perf_counter()
            if missing:
                status, detail = "FAIL", f"not run: needs {', '.join(missing)}"
            else:
                try:
                    detail = step.func(ctx)
                    status = "ok"
                    passed.add(step.name)
                except StepFailed as exc:
                    status, detail = "FAIL", str(exc)
                except Exception as exc:  # noqa: BLE001 - every failure is one line, then go on
                    status, detail = "FAIL", f"{type(exc).__name__}: {exc}"
                    if os.environ.get("ETL_DESK_SELF_TEST_TRACEBACK") == "1":
                        traceback.print_exc(file=out)
            if status != "ok":
                failures += 1
            print(f"{status:<4} {step.name}: {detail} ({time.perf_counter() - t0:.2f} s)", file=out, flush=True)
    verdict = "all passed" if not failures else f"{failures} of {len(steps)} failed"
    print(f"self-test: {len(steps) - failures}/{len(steps)} steps ok, {verdict} "
          f"({time.perf_counter() - t_all:.1f} s)", file=out, flush=True)
    return 0 if failures == 0 else 1
