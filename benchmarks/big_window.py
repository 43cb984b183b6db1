"""The big-history window after the index, timed the way a user meets it: from the action to the new state painted.

Run by :mod:`benchmarks.bench_engine` (row 4b) as ``--worker window PATH CACHE THRESHOLD`` in a fresh
process: the real :class:`MainWindow` at 1366x768 (offscreen), the history opened from the
filter bar's own entry point (``open_file``) with its index already built in *CACHE* (found and
reused), then each action is done through the widgets a user touches -- the filter bar's source
combo and status check boxes, the charts' job-axis range (a zoom step), the run table's scroll
position -- and timed until the window has painted the answer: Qt's events processed until no
engine query is under way (the event loop paints the widgets that changed, as on screen):
``*_ms``; and after a ``grab()`` of the whole window as well (every widget painted once more,
changed or not): ``*_grab_ms``. ``idle_paint_grab_ms``: that grab with nothing changed.

``*_ui_busy_ms``: the longest the UI thread went without serving its event loop meanwhile (a 5 ms timer's
largest gap, from the action to the paint): how long the window was frozen.
``first_view_ms``: from the index handed to the window (found on disk) to the dashboard painted;
``open_to_view_ms``: from ``open_file`` (imports of the engine, its connection, finding the index).
Figures are milliseconds, the largest of each kind (``*_max_ms``) and all of them (lists).
"""
from __future__ import annotations

import os
import tempfile
import time


def _app_window(threshold: int):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("ETL_DESK_NO_DIALOGS", "1")
    # a settings file of its own: the user's recent files, layout and threshold stay untouched
    os.environ["ETL_DESK_SETTINGS"] = os.path.join(tempfile.mkdtemp(prefix="etl-desk-bench-settings-"), "s.ini")
    from etl_desk.ui import settings as keys
    from etl_desk.ui.window.app import ensure_app, make_settings
    from etl_desk.ui.window.main_window import MainWindow

    app = ensure_app()
    win = MainWindow(settings=make_settings())
    win.settings.set(keys.BIG_HISTORY_RUNS, int(threshold))
    win.resize(1366, 768)
    win.show()
    return app, win


def w_window(path: str, cache: str, threshold: str = "5000000") -> dict:
    os.environ["ETL_DESK_INDEX_DIR"] = str(cache)
    app, win = _app_window(int(threshold))
    from PySide6.QtCore import QThreadPool

    # the window starts on the case study and analyses it in the background: let that finish first, so its
    # result (the Business case page recomputing, ~0.5 s) does not land inside the big history's figures
    t, pool = time.perf_counter(), QThreadPool.globalInstance()
    while time.perf_counter() - t < 120 and (pool.activeThreadCount() or time.perf_counter() - t < 1.0):
        app.processEvents()
        time.sleep(0.01)
    for _ in range(50):
        app.processEvents()
        time.sleep(0.01)
    t0 = time.perf_counter()
    from etl_desk.ui.big.state import BigState  # the engine's imports: part of opening (t0 is before them)

    ready: list[float] = []  # when the index (found on disk) was handed to the window
    built = BigState._on_built

    def on_built(self, idx):
        ready.append(time.perf_counter())
        built(self, idx)

    BigState._on_built = on_built
    win.open_file(str(path))
    st = None

    def settle(timeout: float = 300.0) -> float:
        """Process Qt's events (which paints what changed) until no query is under way; then grab the whole
        window. Returns when the event loop had painted (perf_counter)."""
        t = time.perf_counter()
        app.processEvents()
        while st is None or st.pending() or st.dataset is None:
            app.processEvents()
            time.sleep(0.001)
            if time.perf_counter() - t > timeout:
                raise TimeoutError("the window did not settle")
        app.processEvents()
        painted = time.perf_counter()
        win.grab()
        return painted

    while not (win.big_active and win.big.state.stage == "complete"):
        app.processEvents()
        time.sleep(0.002)
        if time.perf_counter() - t0 > 600:
            raise TimeoutError("the index was not found or built")
    st = win.big.state
    painted = settle()
    out: dict = {"open_to_view_ms": (painted - t0) * 1000, "first_view_ms": (painted - ready[0]) * 1000,
                 "runs": st.dataset.n}
    page, fb = win.big.dashboard, win.big.filter_bar

    from PySide6.QtCore import QTimer

    beats: list[float] = []  # a 5 ms timer's ticks: the longest gap is how long the UI thread was busy
    beat = QTimer()
    beat.setInterval(5)
    beat.timeout.connect(lambda: beats.append(time.perf_counter()))

    def timed(kind: str, action) -> None:
        beats.clear()
        beat.start()
        t = time.perf_counter()
        action()
        painted = settle()
        beat.stop()
        out.setdefault(f"{kind}_ms", []).append((painted - t) * 1000)
        out.setdefault(f"{kind}_grab_ms", []).append((time.perf_counter() - t) * 1000)
        ticks = [t, *beats, painted]
        out.setdefault(f"{kind}_ui_busy_ms", []).append(max(b - a for a, b in zip(ticks, ticks[1:])) * 1000)

    for _ in range(3):
        timed("idle_paint", lambda: None)
    sap = fb.source.findText("SAP")
    for _ in range(2):  # per day (the first screen): a source, then failed runs only, then back
        timed("filter_change", lambda: fb.source.setCurrentIndex(sap))
        timed("filter_change", lambda: fb.success.setChecked(False))
        timed("filter_change", lambda: fb.success.setChecked(True))
        timed("filter_change", lambda: fb.source.setCurrentIndex(0))
    fb.grouping.setCurrentIndex(fb.grouping.findData("run"))
    settle()
    page.zoom_out()
    settle()
    cost, n = page.charts["cost_usd"], st.view.n_bars
    lo, hi = 0, n
    for _ in range(12):  # zoom in around the middle, halving the range each step (three charts a step)
        mid = (lo + hi) // 2
        lo, hi = mid - (hi - lo) // 4, mid + (hi - lo) // 4
        timed("zoom_step", lambda: cost.vb.setYRange(lo - 0.5, hi - 0.5, padding=0))
    model = page.table_model
    for r in (n // 2, n - 300, 1_000, n // 3):  # a jump of the scroll bar, then the page after it
        timed("table_page", lambda: page.table.scrollTo(model.index(r, 1)))
        timed("table_page", lambda: page.table.scrollTo(model.index(r + 250, 1)))
    try:  # a filter the pyramid does not hold: the charts' rows and the table page read the run-ordered file
        timed("filter_change_per_run", lambda: fb.source.setCurrentIndex(sap))
        timed("filter_change_per_run", lambda: fb.source.setCurrentIndex(0))
    except TimeoutError:
        out.setdefault("filter_change_per_run_ms", []).append(float("inf"))
    for k in [k for k in out if k.endswith("_ms") and isinstance(out[k], list)]:
        out[k[:-3] + "_max_ms"] = max(out[k])
    out["timings_s"] = dict(st.timings)
    win.close()
    return out
