"""The Insights tab: verdicts, cards that select runs, anomalies, thresholds, refresh on filter."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from etl_desk.core.dashboard.view import ViewFilter
from tests.ui_helpers import drawn


@pytest.fixture
def win(window, qtbot):
    w = window()
    tab = w.insights_page
    if tab.analysis is None:
        with qtbot.waitSignal(tab.analysisReady, timeout=10_000):
            pass
    return w


def table_run_ids(win) -> list[str]:
    m = win.table_model
    return sorted(m.data(m.index(i.row(), 0)) for i in win.table.selectionModel().selectedRows())


def test_shows_the_case_study_verdicts(win):
    tab = win.insights_page
    a = tab.analysis
    assert a.kpis["failed_runs"] == 52
    for iid in ("case.failed_cost", "case.volume_extremes", "case.duration_spread"):
        card = tab.card_for(iid)
        assert card is not None
        assert card.verdict_badge is not None
        assert card.verdict_badge.text() in ("CONFIRMED", "REFUTED")
        assert card.verdict_badge.text() == a.insight(iid).verdict.upper()
    card = tab.card_for("case.failed_cost")
    assert "$62.59" in card.headline.text() and "4.76 %" in card.headline.text()
    # evidence is formatted: currency and percentages, not raw floats
    ev = card.evidence.text()
    assert "$1,315.10" in ev and "4.76 %" in ev
    # an insight the data cannot support says what is missing
    assert tab.card_for("cost.top_pipelines").missing is not None
    assert "1,000 runs analysed" in tab.summary.text()


def test_clicking_an_insight_selects_its_runs_in_charts_and_table(win, qtbot):
    tab = win.insights_page
    win.show_page("insights")
    ins = tab.analysis.insight("case.failed_cost")
    card = tab.card_for("case.failed_cost")
    qtbot.waitUntil(card.select_button.isVisible, timeout=2000)
    assert card.select_button.text() == "Select 52 runs"
    with qtbot.waitSignal(win.state.selectionChanged, timeout=2000):
        qtbot.mouseClick(card.select_button, Qt.MouseButton.LeftButton)
    assert sorted(win.state.selected_run_ids()) == sorted(ins.run_ids)
    assert len(win.state.selected_run_ids()) == 52
    assert table_run_ids(win) == sorted(ins.run_ids)
    assert int(win.state.selected_bars().sum()) == 52  # the charts highlight the same bars
    for chart in win.charts.values():  # run 10 (row 9, failed, on the first screen) is highlighted
        chart._redraw()
        y, _ = drawn(chart, "sel_total")
        assert 9.0 in list(y)
    assert card.active
    # clicking another card (anywhere on it) replaces the selection
    other = tab.card_for("case.volume_extremes")
    with qtbot.waitSignal(win.state.selectionChanged, timeout=2000):
        qtbot.mouseClick(other.title, Qt.MouseButton.LeftButton)
    assert sorted(win.state.selected_run_ids()) == sorted(tab.analysis.insight("case.volume_extremes").run_ids)
    assert other.active and not card.active


def test_threshold_change_reruns_detection_and_anomaly_click_selects(win, qtbot):
    tab = win.insights_page
    assert len(tab.analysis.anomalies) == 0  # none at the defaults on the case study
    z = tab.threshold_editors["z_threshold"]
    with qtbot.waitSignal(tab.analysisReady, timeout=10_000):
        z.setValue(1.5)
    assert tab.analysis.thresholds.z_threshold == 1.5
    n = len(tab.analysis.anomalies)
    assert n > 0 and tab.anomaly_model.rowCount() == n
    # formatted cells
    m = tab.anomaly_model
    cols = [c for c, _ in m.COLUMNS]
    # the threshold in the observed unit, the rule's own parameter in its tooltip
    fa = m.index(0, cols.index("flag_at"))
    assert m.data(fa, Qt.ItemDataRole.ToolTipRole) == "Rule threshold: z > 1.5"
    row = tab.analysis.anomalies.iloc[0]
    assert m.data(fa) == m._metric_value(row["metric"], row["baseline"] * (row["observed"] / row["baseline"])
                                         ** (1.5 / row["score"]))
    # sortable by score
    tab.anomaly_table.sortByColumn(cols.index("score"), Qt.SortOrder.AscendingOrder)
    proxy = tab.anomaly_proxy
    scores = [proxy.data(proxy.index(r, cols.index("score")), Qt.ItemDataRole.UserRole) for r in range(n)]
    assert scores == sorted(scores)
    # a real click on an anomaly row selects its run
    win.show_page("insights")
    tv = tab.anomaly_table
    qtbot.waitUntil(tv.isVisible, timeout=2000)
    idx = proxy.index(0, cols.index("run_id"))
    run = proxy.data(idx)
    rect = tv.visualRect(idx)
    with qtbot.waitSignal(win.state.selectionChanged, timeout=2000):
        qtbot.mouseClick(tv.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert win.state.selected_run_ids() == [run]
    assert table_run_ids(win) == [run]
    # restoring defaults runs detection again
    with qtbot.waitSignal(tab.analysisReady, timeout=10_000):
        tab.defaults_button.click()
    assert len(tab.analysis.anomalies) == 0


def test_refreshes_after_filter_change(win, qtbot):
    tab = win.insights_page
    with qtbot.waitSignal(tab.analysisReady, timeout=10_000):
        win.state.set_filter(ViewFilter(statuses=frozenset({"Failed"})))
    assert tab.analysis.kpis["runs"] == 52
    assert tab.analysis.kpis["failed_runs"] == 52
    assert "52 runs analysed" in tab.summary.text()
    # a sort change does not re-analyse (same runs)
    calls = []
    tab.analysisReady.connect(calls.append)
    win.state.set_sort("cost_usd", True)
    qtbot.wait(600)
    assert calls == []
    with qtbot.waitSignal(tab.analysisReady, timeout=10_000):
        win.state.set_filter(ViewFilter())
    assert tab.analysis.kpis["runs"] == 1000


def test_anomaly_model_selects_all_runs_of_a_pipeline_week(qtbot):
    import pandas as pd

    from etl_desk.ui.insights.anomaly_table import AnomalyModel

    m = AnomalyModel()
    m.set_frame(pd.DataFrame({"run_id": ["a"], "rule": ["failure_rate_jump"], "metric": ["failure_rate"],
                              "observed": [0.3], "baseline": [0.05], "threshold": [0.1], "score": [25.0],
                              "pipeline": ["p"], "detail": ["week"], "run_ids": [["a", "b", "c"]]}))
    assert m.row_run_ids(0) == ["a", "b", "c"]
    cols = [c for c, _ in m.COLUMNS]
    # flagged at the week before + 10 points = 15 %, a rise
    assert m.data(m.index(0, cols.index("observed"))) == "30.0 %"
    assert m.data(m.index(0, cols.index("flag_at"))) == "15.0 %"
    assert m.data(m.index(0, cols.index("flag_at")), Qt.ItemDataRole.ToolTipRole) == "Rule threshold: +10 pp"
    assert m.data(m.index(0, cols.index("direction"))) == "↑ rise"


def test_evidence_formatting():
    import pandas as pd

    from etl_desk.core.insights.base import Insight
    from etl_desk.ui.insights.cards import evidence_html

    ev = pd.DataFrame({"Status": ["Failed"], "Runs": [52], "Cost (USD)": [62.59], "Share of cost (%)": [4.76],
                       "Median (GB)": [242.02], "p50 (min)": [66.0]})
    units = {"Runs": "count", "Cost (USD)": "usd", "Share of cost (%)": "percent", "Median (GB)": "gb",
             "p50 (min)": "min"}  # as core declares them on its insights
    h = evidence_html(Insight("x", "cost", "info", "t", "h", evidence=ev, units=units))
    for s in ("$62.59", "4.76 %", "242.02 GB", "66 min", ">52<"):
        assert s in h
    # the unit comes from the insight, not the label: an undeclared column is a plain number
    h = evidence_html(Insight("x", "cost", "info", "t", "h", evidence=ev, units={"Runs": "count"}))
    assert "$62.59" not in h and "62.59" in h


def _card_headline(tab, iid: str) -> str | None:
    """The headline of the card currently on the tab (without forcing a render)."""
    card = tab._cards.get(iid)
    return card.headline.text() if card is not None else None


def test_cards_are_rebuilt_only_when_the_insights_tab_is_in_view(win, qtbot):
    """A filter change while the user looks at the data tab must not spend the UI thread on
    cards nobody sees; choosing the Insights tab then shows the cards of the current filter."""
    tab = win.insights_page
    win.show_page("insights")
    qtbot.waitUntil(lambda: _card_headline(tab, "case.failed_cost") is not None, timeout=2000)
    before = _card_headline(tab, "case.failed_cost")
    assert "$62.59" in before

    win.show_page("dashboard")  # the Dashboard in front: Insights is not on screen
    qtbot.waitUntil(lambda: tab.visibleRegion().isEmpty(), timeout=2000)
    with qtbot.waitSignal(tab.analysisReady, timeout=10_000):
        win.state.set_filter(ViewFilter(statuses=frozenset({"Failed"})))
    assert "52 runs analysed" in tab.summary.text()        # the cheap summary is current at once
    assert _card_headline(tab, "case.failed_cost") == before  # the cards wait

    win.show_page("insights")
    qtbot.waitUntil(lambda: _card_headline(tab, "case.failed_cost") != before, timeout=2000)
    assert "$62.59" in _card_headline(tab, "case.failed_cost")
    assert "100" in _card_headline(tab, "case.failed_cost")  # all runs in view failed: 100 % of the cost


def test_a_filter_change_updates_the_cards_in_place(win, qtbot):
    """The same insights for other runs: the cards keep their place (and the list its scroll
    position) and show the new numbers, instead of being torn down and built again."""
    tab = win.insights_page
    win.show_page("insights")
    qtbot.waitUntil(lambda: _card_headline(tab, "case.failed_cost") is not None, timeout=2000)
    card = tab.card_for("case.failed_cost")
    before = card.headline.text()
    middle = win.state.dataset.df["start_time"].median()
    with qtbot.waitSignal(tab.analysisReady, timeout=10_000):
        win.state.set_filter(ViewFilter(end=middle))  # the earlier half of the runs
    qtbot.waitUntil(lambda: card.headline.text() != before, timeout=2000)
    assert tab.card_for("case.failed_cost") is card
    assert card.insight is tab.analysis.insight("case.failed_cost")
    failed = int(tab.analysis.kpis["failed_runs"])
    assert 0 < failed < 52
    assert card.select_button.text() == f"Select {failed} run{'s' if failed != 1 else ''}"
    assert f"{tab.analysis.kpis['runs']:,} runs analysed" in tab.summary.text()


def test_anomaly_excess_dollars_and_direction_are_cores_and_rule_switches_rescore(win, qtbot):
    import math

    import numpy as np

    from etl_desk.core.insights.anomalies import detect_anomalies

    tab = win.insights_page
    with qtbot.waitSignal(tab.analysisReady, timeout=10_000):
        tab.threshold_editors["z_threshold"].setValue(1.5)
    core = detect_anomalies(win.state.df, tab.thresholds)
    m = tab.anomaly_model
    cols = [c for c, _ in m.COLUMNS]
    assert m.rowCount() == len(core) > 0
    for r in range(m.rowCount()):
        rid, rule = m.data(m.index(r, cols.index("run_id"))), m.df["rule"].iloc[r]
        row = core[(core["run_id"].astype(str) == rid) & (core["rule"] == rule)].iloc[0]
        ex = row["excess_usd"]
        assert m.data(m.index(r, cols.index("excess_usd"))) == (f"${ex:,.2f}" if ex >= 0 else f"-${-ex:,.2f}"
                                                                if math.isfinite(ex) else "unknown")
        assert m.data(m.index(r, cols.index("direction"))) == ("↑ rise" if row["observed"] >= row["baseline"]
                                                               else "↓ fall")
        assert m.data(m.index(r, cols.index("reason"))) == row["reason"]
    assert all(m.data(m.index(r, cols.index("direction"))) == "↑ rise" for r in range(m.rowCount()))
    # the rule switches re-score: flag falls too -> the falls appear, as core finds them
    with qtbot.waitSignal(tab.analysisReady, timeout=10_000):
        tab.threshold_editors["falls"].setChecked(True)
    assert tab.analysis.thresholds.falls
    both = detect_anomalies(win.state.df, tab.thresholds)
    falls = int((both["observed"] < both["baseline"]).sum())
    assert falls > 0 and m.rowCount() == len(both)
    shown = [m.data(m.index(r, cols.index("direction"))) for r in range(m.rowCount())]
    assert shown.count("↓ fall") == falls
    for name in ("seasonal", "weekly_level"):
        with qtbot.waitSignal(tab.analysisReady, timeout=10_000):
            tab.threshold_editors[name].setChecked(False)
        assert getattr(tab.analysis.thresholds, name) is False
        assert m.rowCount() == len(detect_anomalies(win.state.df, tab.thresholds))
    assert np.isfinite(m.df["excess_usd"].to_numpy(float)).any()
