"""Honest colour over the engine: the blue share of what each chart draws is the failed share in view.

Same measurement as tests/test_ui_honest_colour.py (pixels of the Failed colour against the
Success colour in each plot area, 2 percentage points allowed), on a 200,000-run partitioned
dataset opened in big-history mode: the charts draw from the index's pyramid (zoomed out),
from the run-ordered file (exact bars), from a worker's window query (sorted by cost) and from
the rollup cube (per day). The truth is computed with pandas on the same runs.
"""
from __future__ import annotations

import numpy as np
import pytest

from etl_desk.core.dashboard.view import METRICS
from etl_desk.core.data.schema import FAILED

from .engine_helpers import realistic, write_dataset
from .test_ui_honest_colour import TOLERANCE, drawn_blue_share, failed_share_in_view

pytestmark = pytest.mark.slow
RUNS = 200_000


@pytest.fixture(scope="module")
def runs():
    return realistic(RUNS, seed=12, days=40)


@pytest.fixture(scope="module")
def folder(runs, tmp_path_factory):
    return write_dataset(runs, tmp_path_factory.mktemp("bigc") / "runs")


def _ordered(runs, key, descending):
    df = runs.copy()
    df["_k"] = df[key].fillna(np.inf) if key in METRICS else df[key]
    return df.sort_values(["_k", "run_id"], ascending=not descending, kind="stable").reset_index(drop=True)


def _truth(ordered, chart, metric):
    i0, i1 = chart.visible_range()
    part = ordered.iloc[i0:i1]
    v = np.nan_to_num(part[metric].to_numpy(dtype=float, na_value=np.nan))
    f = (part["status"] == FAILED).to_numpy()
    return float(v[f].sum() / v.sum()) if v.sum() else 0.0


def test_blue_share_is_the_failed_share_over_the_engine(window, qtbot, folder, runs, tmp_path, monkeypatch):
    from etl_desk.ui import settings as keys

    monkeypatch.setenv("ETL_DESK_INDEX_DIR", str(tmp_path / "idx"))
    win = window(size=(1500, 950))
    win.settings.set(keys.BIG_HISTORY_RUNS, 1000)
    win.open_file(folder)
    qtbot.waitUntil(lambda: win.big_active and win.big.state.stage == "complete", timeout=120_000)
    st, page = win.big.state, win.big.dashboard
    cost = page.charts["cost_usd"]
    st.set_grouping("run")
    by_id = _ordered(runs, "run_id", False)
    results, lods = [], []

    def measure(name, ordered):
        for m in METRICS:
            ch = page.charts[m]
            ch._redraw()
            results.append((name, m, drawn_blue_share(ch), _truth(ordered, ch, m)))
        lods.append((name, cost.level_of_detail()))

    cost.reset_zoom()
    qtbot.wait(10)
    measure("first screen (exact bars)", by_id)
    page.zoom_out()
    qtbot.wait(10)
    measure("zoomed out: every run, from the pyramid", by_id)
    cost.vb.setYRange(10_000, 14_000, padding=0)
    qtbot.wait(10)
    measure("a few thousand runs", by_id)
    st.set_sort("cost_usd", descending=True)
    page.zoom_out()
    qtbot.waitUntil(lambda: cost.drawn is not None and cost.drawn.lod > 1, timeout=60_000)
    measure("sorted by cost, zoomed out (a worker's query)", _ordered(runs, "cost_usd", True))
    st.set_sort("run_id")
    st.set_grouping("day")
    cost.vb.setYRange(-0.5, st.view.n_bars - 0.5, padding=0)
    qtbot.wait(10)
    for m in METRICS:
        ch = page.charts[m]
        ch._redraw()
        results.append(("grouped per day (cube)", m, drawn_blue_share(ch), failed_share_in_view(ch)))
    bad = [f"{n} / {m}: drawn {d:.3f}, in view {e:.3f}" for n, m, d, e in results if abs(d - e) > TOLERANCE]
    assert not bad, "\n".join(bad)
    assert dict(lods)["first screen (exact bars)"] == 1
    assert dict(lods)["zoomed out: every run, from the pyramid"] >= 256  # whole pyramid blocks per row
    assert any(e > 0.01 for *_, e in results)
