"""FilteredJob: background work on the filtered runs, once per change that matters."""
from __future__ import annotations

import pytest

from etl_desk.core.data.case_study import generate_case_study
from etl_desk.core.dashboard.view import ViewFilter
from etl_desk.ui.dashboard.state import DashboardState
from etl_desk.ui.window.workers import FilteredJob, TaskRunner


@pytest.fixture
def job(qtbot):
    state = DashboardState()
    state.set_data(generate_case_study(), "case")
    calls = []
    extra = {"v": 1}

    def fn(runs, x):
        calls.append((len(runs), x))
        return float(runs["cost_usd"].sum())

    j = FilteredJob(state, fn, delay_ms=10, extra=lambda: extra["v"])
    yield state, j, calls, extra
    j.runner.cancel()
    TaskRunner.wait_all(10_000)


def test_runs_once_per_relevant_change(qtbot, job):
    state, j, calls, extra = job
    with qtbot.waitSignal(j.finished, timeout=5000) as b:
        pass  # scheduled on construction: data present
    assert b.args[1] == 1000 and calls == [(1000, 1)]
    # sort and grouping leave the runs as they were: no new work
    state.set_sort("cost_usd", descending=True)
    state.set_grouping("day")
    qtbot.wait(150)
    assert len(calls) == 1
    # a filter change does
    with qtbot.waitSignal(j.finished, timeout=5000) as b:
        state.set_filter(ViewFilter(statuses=frozenset({"Failed"})))
    assert b.args[1] == 52 and b.args[0] == pytest.approx(62.59, abs=0.005)
    # so does a change of the extra input, and a forced schedule
    extra["v"] = 2
    with qtbot.waitSignal(j.finished, timeout=5000):
        j.schedule()
    with qtbot.waitSignal(j.finished, timeout=5000):
        j.schedule(force=True)
    assert calls[-2:] == [(52, 2), (52, 2)]


def test_new_data_reruns_even_with_the_same_mask(qtbot, job):
    state, j, calls, _ = job
    with qtbot.waitSignal(j.finished, timeout=5000):
        pass  # the first result delivered (waiting for the call alone let its late signal pass for the second)
    assert len(calls) == 1
    with qtbot.waitSignal(j.finished, timeout=5000):
        state.set_data(generate_case_study(), "again")  # same size, same mask: a new data set all the same
    assert len(calls) == 2


def test_undoing_a_change_while_its_work_runs_drops_that_work(qtbot):
    import threading

    state = DashboardState()
    state.set_data(generate_case_study(), "case")
    gate = threading.Event()
    calls = []

    def fn(runs, x):
        calls.append(len(runs))
        if len(runs) == 52:
            gate.wait(5)
        return len(runs)

    j = FilteredJob(state, fn, delay_ms=10)
    got = []
    j.finished.connect(lambda v, n: got.append(v))
    qtbot.waitUntil(lambda: got == [1000], timeout=5000)
    assert j.is_current()
    with qtbot.waitSignal(j.runner.busyChanged, timeout=5000, check_params_cb=bool):
        state.set_filter(ViewFilter(statuses=frozenset({"Failed"})))
    assert not j.is_current()
    state.set_filter(ViewFilter())  # back to the runs of the last result before the work reports
    qtbot.waitUntil(lambda: not j.runner.busy, timeout=5000)
    gate.set()
    TaskRunner.wait_all(5000)
    qtbot.wait(100)
    assert got == [1000] and calls == [1000, 52]  # no re-run of the same runs, no stale result
    assert j.is_current()
