"""The bar charts' axes as a user reads them: the job axis names the runs of the data on screen, long run IDs
do not squeeze the plot, and value labels never run together on a narrow chart."""
from __future__ import annotations

import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics

from etl_desk.core.data.generate import generate
from etl_desk.ui.dashboard.chart_parts import MAX_JOB_LABEL_PX, JobAxis, ValueAxis


@pytest.fixture
def win(window):
    return window()


def _painted_labels(axis: JobAxis, qtbot) -> list[str]:
    """The texts the axis draws when it is next painted (pyqtgraph's drawPicture, captured)."""
    seen: list[str] = []
    original = axis.drawPicture

    def capture(painter, axis_spec, tick_specs, text_specs):
        seen[:] = [t[2] for t in text_specs]
        return original(painter, axis_spec, tick_specs, text_specs)

    axis.drawPicture = capture
    try:
        axis.scene().views()[0].viewport().repaint()
        qtbot.wait(10)
        axis.getViewWidget().grab()
    finally:
        del axis.drawPicture
    return seen


def test_a_new_data_set_over_the_same_rows_relabels_the_job_axis(win, qtbot):
    # the case study's run IDs are 1, 2, 3...; the realistic history's are text. The first rows are on
    # screen in both, so the range does not change: the axis kept "1, 6, 11" beside the new runs
    cost = win.charts["cost_usd"]
    before = _painted_labels(cost.job_axis, qtbot)
    assert before and all(t.isdigit() for t in before)
    df = generate("realistic", runs=2_000, seed=5)
    win.set_data(df, "realistic")
    qtbot.waitUntil(lambda: win.state.view is not None and win.state.view.n_bars == 2_000)
    after = _painted_labels(cost.job_axis, qtbot)
    first = str(win.state.view.label(0))
    assert after, "no job labels drawn"
    assert not any(t.isdigit() for t in after), after
    axis = cost.job_axis
    metrics = QFontMetrics(axis.style.get("tickFont") or axis.font())
    assert metrics.elidedText(first, Qt.TextElideMode.ElideMiddle, MAX_JOB_LABEL_PX) in after


def test_long_run_ids_are_elided_in_the_middle_and_keep_their_end(win, qtbot):
    df = generate("case-study", runs=50, seed=1)
    df["run_id"] = [f"sap-co-cost-allocation-20250101-{i:06d}-a1" for i in range(len(df))]
    win.set_data(df, "long ids")
    axis = win.charts["cost_usd"].job_axis
    labels = axis.tickStrings([0, 37], 1, 1)
    metrics = QFontMetrics(axis.style.get("tickFont") or axis.font())
    assert all(metrics.horizontalAdvance(t) <= MAX_JOB_LABEL_PX for t in labels)
    assert labels[0].endswith("000000-a1") and labels[1].endswith("000037-a1")
    assert labels[0].startswith("sap-co") and "…" in labels[0]
    # short IDs are left whole
    df2 = generate("case-study", runs=50, seed=1)
    win.set_data(df2, "short ids")
    assert axis.tickStrings([0], 1, 1) == [str(df2["run_id"].iloc[0])]


@pytest.mark.parametrize("width_px", [110, 160, 400])
def test_value_labels_fit_side_by_side_on_a_narrow_chart(qtbot, width_px):
    axis = ValueAxis("cost_usd")
    axis.setRange(0.0, 7.0)
    levels = axis.tickSpacing(0.0, 7.0, width_px)
    major = levels[0][0]
    ticks = [k * major for k in range(int(7.0 // major) + 1)]
    texts = axis.tickStrings(ticks, 1.0, major)
    metrics = QFontMetrics(axis.font())
    used = sum(metrics.horizontalAdvance(t) for t in texts) + 8 * (len(texts) - 1)
    assert used <= width_px, (texts, width_px)
    assert len(texts) >= 2  # still a scale to read
    if width_px == 400:  # a wide chart keeps pyqtgraph's own, denser, choice: a label every $1 or $2
        assert major <= 2.0


@pytest.mark.parametrize("metric, lo, hi, want", [
    ("cost_usd", 0.0, 0.005, ["$0.000", "$0.001", "$0.002"]),  # sub-cent runs: not "$0.00" on every tick
    ("duration_min", 0.0, 0.5, ["0.0", "0.1", "0.2"]),
])
def test_small_values_are_labelled_as_they_are_with_no_multiplier(qtbot, metric, lo, hi, want):
    """The cheapest runs cost $0.004 and last 0.5 min: the axis showed "(x0.001)" beside labels that were already
    the values (pyqtgraph's SI prefix; a reader dividing by 1,000 got them wrong) and "$0.00" on every tick."""
    plot = pg.PlotWidget(axisItems={"bottom": ValueAxis(metric)})
    qtbot.addWidget(plot)
    axis = plot.getAxis("bottom")
    axis.setLabel("Cost (USD)" if metric == "cost_usd" else "Duration (min)")
    plot.setXRange(lo, hi, padding=0)
    plot.resize(600, 200)
    plot.show()
    qtbot.waitExposed(plot)
    assert "x0.0" not in axis.labelString() and axis.autoSIPrefixScale == 1.0
    step = (hi - lo) / 5
    assert axis.tickStrings([lo, lo + step, lo + 2 * step], 1.0, step) == want
