"""Honest colour: at every zoom, the blue share of what a chart draws is the failed share of what is in view.

Measured on the rendered image: pixels of the Failed colour (#4E79A7) against those of the
Success colour (#F28E2B) inside each chart's plot area, compared with the failed runs' share
of the metric summed over the bars in view (drawn length is proportional to the metric; every
bar has the same height). Allowed: 2 percentage points. The same measurement is shown to fail on
the old level-of-detail drawing (the largest bar of each row with the largest failed part on top).
"""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QImage

from etl_desk.core.dashboard.lod import Rows
from etl_desk.core.dashboard.view import METRICS
from etl_desk.core.data.schema import FAILED, STATUS_COLORS, SUCCESS
from etl_desk.ui.dashboard import charts as charts_mod

TOLERANCE = 0.02


def _rgb(hex_: str) -> np.ndarray:
    return np.array([int(hex_[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.int32)


def _pixels(widget) -> np.ndarray:
    img = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    arr = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine() // 4, 4)
    return arr[:, :img.width(), [2, 1, 0]].astype(np.int32)  # BGRA in memory -> RGB


def _count(rgb: np.ndarray, hex_: str) -> int:
    return int((np.abs(rgb - _rgb(hex_)).sum(axis=2) <= 24).sum())


def drawn_blue_share(chart) -> float:
    """Blue pixels / (blue + orange pixels) inside the chart's plot area, as rendered."""
    chart.viewport().repaint()
    rgb = _pixels(chart)
    r = chart.mapFromScene(chart.vb.sceneBoundingRect()).boundingRect()
    area = rgb[max(r.top(), 0):r.bottom(), max(r.left(), 0):r.right()]
    blue, orange = _count(area, STATUS_COLORS[FAILED]), _count(area, STATUS_COLORS[SUCCESS])
    return blue / max(blue + orange, 1)


def failed_share_in_view(chart) -> float:
    v = chart.view
    i0, i1 = chart.visible_range()
    tot = np.nan_to_num(v.totals[chart.metric_key][i0:i1]).sum()
    return float(np.nan_to_num(v.failed_parts[chart.metric_key][i0:i1]).sum() / tot) if tot else 0.0


def _views(win, n):
    """(name, how to get there) for zoom levels and groupings a user reaches."""
    st, cost = win.state, win.charts["cost_usd"]
    return [
        ("first screen (exact bars)", lambda: cost.reset_zoom()),
        ("zoomed out: every run in view", lambda: cost.vb.setYRange(-0.5, n - 0.5, padding=0)),
        ("a few thousand runs in view", lambda: cost.vb.setYRange(10_000, 14_000, padding=0)),
        ("sorted by cost, zoomed out", lambda: (st.set_sort("cost_usd", True),
                                                cost.vb.setYRange(-0.5, n - 0.5, padding=0))),
        ("grouped per day", lambda: (st.set_sort("run_id"), st.set_grouping("day"),
                                     cost.vb.setYRange(-0.5, st.view.n_bars - 0.5, padding=0))),
        ("grouped per pipeline", lambda: (st.set_grouping("pipeline"),
                                          cost.vb.setYRange(-0.5, st.view.n_bars - 0.5, padding=0))),
    ]


def _measure(win, qtbot, n) -> list[tuple[str, str, float, float]]:
    out = []
    for name, go in _views(win, n):
        go()
        qtbot.wait(10)
        for m in METRICS:
            ch = win.charts[m]
            ch._redraw()
            out.append((name, m, drawn_blue_share(ch), failed_share_in_view(ch)))
    win.state.set_grouping("run")
    return out


@pytest.fixture
def big(window, qtbot):
    from etl_desk.core.data.generate import generate

    win = window(size=(1500, 950))
    df = generate("realistic", runs=120_000, seed=21)
    win.set_data(df, "realistic 120k")
    qtbot.wait(20)
    return win, len(df)


def test_blue_share_matches_the_failed_share_at_every_zoom(big, qtbot):
    win, n = big
    results = _measure(win, qtbot, n)
    lods = {name: win.charts["cost_usd"].level_of_detail() for name, *_ in results}
    bad = [f"{name} / {m}: drawn {d:.3f}, in view {e:.3f}" for name, m, d, e in results if abs(d - e) > TOLERANCE]
    assert not bad, "\n".join(bad)
    # the measurement covers binned rows as well as exact bars, and runs that did fail
    assert any(e > 0.01 for *_, e in results) and len(lods) == 6
    win.charts["cost_usd"].vb.setYRange(-0.5, n - 0.5, padding=0)
    assert win.charts["cost_usd"].level_of_detail() > 10


def _old_rows(total, failed, first, lod, bar_height, selected=None):
    """The old level of detail: per row the largest bar and, drawn over it, the largest failed part."""
    total = np.nan_to_num(np.asarray(total, float))
    failed = np.nan_to_num(np.asarray(failed, float))
    if lod <= 1:
        return Rows(np.arange(first, first + len(total), dtype=float), bar_height, total, failed, total)
    starts = np.arange(0, len(total), lod)
    counts = np.minimum(starts + lod, len(total)) - starts
    env = np.maximum.reduceat(total, starts)
    return Rows(first + starts + (counts - 1) / 2.0, lod * 0.98, env, np.maximum.reduceat(failed, starts), env)


def test_the_measurement_fails_on_the_old_drawing(big, qtbot, monkeypatch):
    win, n = big
    monkeypatch.setattr(charts_mod, "rows_to_draw", _old_rows)
    cost = win.charts["cost_usd"]
    cost.vb.setYRange(-0.5, n - 0.5, padding=0)
    qtbot.wait(10)
    cost._redraw()
    assert cost.level_of_detail() > 10
    drawn, truth = drawn_blue_share(cost), failed_share_in_view(cost)
    assert drawn - truth > 5 * TOLERANCE, (drawn, truth)  # failures look several times as large as they are


def test_the_time_view_draws_the_failed_part_honestly(big, qtbot):
    win, _ = big
    tc = win.time_chart
    for freq in ("day", "week"):
        tc.freq.setCurrentIndex(tc.freq.findData(freq))
        qtbot.wait(10)
        t = tc.timeline
        truth = t.failed.sum() / t.total.sum()
        plot = tc.plot
        plot.viewport().repaint()
        rgb = _pixels(plot)
        r = plot.mapFromScene(plot.getPlotItem().vb.sceneBoundingRect()).boundingRect()
        area = rgb[r.top():r.bottom(), r.left():r.right()]
        blue, orange = _count(area, STATUS_COLORS[FAILED]), _count(area, STATUS_COLORS[SUCCESS])
        assert abs(blue / (blue + orange) - truth) <= TOLERANCE, (freq, blue / (blue + orange), truth)
