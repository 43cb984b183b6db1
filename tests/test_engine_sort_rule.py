"""One sort rule for the engine and the in-memory dashboard.

:func:`~etl_desk.core.dashboard.view.build_view` puts unknown metric values last in both
directions and breaks ties in natural run-ID order (numbers when every run ID is a whole number:
"9" < "10" < "100"), ascending also when descending. The engine's keyset pages, OFFSET jumps and
envelopes, and the index's run order (pages, position search, descending pyramid reads) must
give the same order.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.engine_helpers import SMALL, realistic, write_dataset
from etl_desk.core.dashboard.view import Dataset, ViewFilter, ViewSpec, build_view
from etl_desk.core.engine import Engine, EngineSettings, Rule
from etl_desk.core.engine.index import EXACT_ENVELOPE_BARS, PYRAMID_BASE, build_index
from etl_desk.core.engine.queries import METRICS as Q_METRICS

KEYS = ("run_id", "cost_usd", "duration_min", "start_time")


def _with_ids(df: pd.DataFrame, ids) -> pd.DataFrame:
    """*df* with run IDs *ids*, ties in cost (every 7th run costs $1.00) and unknown values
    (every 11th cost, every 13th duration)."""
    df = df.copy()
    df["run_id"] = pd.array(list(ids), dtype=df["run_id"].dtype)
    cost = df["cost_usd"].to_numpy(dtype=float).copy()
    cost[::7] = 1.0
    cost[::11] = np.nan
    df["cost_usd"] = cost
    dur = df["duration_min"].to_numpy(dtype=float).copy()
    dur[::13] = np.nan
    df["duration_min"] = dur
    return df


def _memory_order(df: pd.DataFrame, key: str, descending: bool) -> list[str]:
    ds = Dataset(df)
    view = build_view(ds, ViewSpec(sort_key=key, descending=descending))
    return [str(x) for x in ds.run_id.to_numpy(dtype=object)[view.positions]]


def _walk(eng: Engine, key: str, descending: bool, n: int) -> list[str]:
    got, after = [], None
    while True:
        p = eng.page(key, after=after, n=n, descending=descending)
        got += [str(x) for x in p.rows["run_id"]]
        if len(p.rows) < n or p.next_key is None:
            return got
        after = p.next_key


@pytest.fixture(scope="module")
def numeric(tmp_path_factory):
    """3,000 runs whose IDs are the whole numbers 1..3000 in shuffled order (text order would put
    "10" before "9"), with ties and unknown values."""
    base = realistic(3_000, seed=3, days=5)
    ids = np.random.default_rng(4).permutation(np.arange(1, 3_001)).astype(str)
    df = _with_ids(base, ids)
    folder = write_dataset(df, tmp_path_factory.mktemp("num") / "runs")
    eng = Engine.open(folder, settings=EngineSettings(**SMALL))
    yield df, eng
    eng.close()


def test_integer_run_ids_sort_as_numbers_in_memory_and_in_the_engine(numeric):
    df, eng = numeric
    assert eng.numeric_ids
    order = _memory_order(df, "run_id", False)
    assert order[:12] == [str(i) for i in range(1, 13)]  # 9 before 10, by hand
    assert _walk(eng, "run_id", False, 500) == order
    assert _walk(eng, "run_id", True, 500) == order[::-1]


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
@pytest.mark.parametrize("key", KEYS)
def test_engine_pages_follow_the_in_memory_order(numeric, key, descending):
    df, eng = numeric
    ref = _memory_order(df, key, descending)
    # keyset pages of an odd size cross the ties and the unknown values at arbitrary points
    assert _walk(eng, key, descending, 97) == ref
    # OFFSET jumps (a scroll-bar drag)
    jump = eng.page(key, at=2_950, n=40, descending=descending)
    assert [str(x) for x in jump.rows["run_id"]] == ref[2_950:2_990]


def test_unknown_costs_come_last_in_both_directions(numeric):
    df, eng = numeric
    unknown = set(df.loc[df["cost_usd"].isna(), "run_id"].astype(str))
    assert len(unknown) == 273  # every 11th of 3,000 runs: ceil(3000 / 11)
    for desc in (False, True):
        got = _walk(eng, "cost_usd", desc, 400)
        assert set(got[-273:]) == unknown
        assert got[-273:] == sorted(unknown, key=int)  # among themselves: run-ID order, also descending
        ones = [r for r in got if r in set(df.loc[df["cost_usd"] == 1.0, "run_id"].astype(str))]
        assert ones == sorted(ones, key=int)  # ties on $1.00: ascending run IDs in both directions


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
def test_engine_envelope_bars_follow_the_in_memory_order(numeric, descending):
    df, eng = numeric
    ds = Dataset(df)
    view = build_view(ds, ViewSpec(sort_key="cost_usd", descending=descending))
    cost = df["cost_usd"].to_numpy(dtype=float)[view.positions]
    env = eng.envelope(2_600, 3_000, 400, "cost_usd", sort="cost_usd", descending=descending)
    np.testing.assert_array_equal(env.runs, 1)
    np.testing.assert_array_equal(env.max, cost[2_600:3_000])  # NaN where unknown, in the same places


@pytest.mark.parametrize("key", ["run_id", "cost_usd"])
@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
def test_the_windows_one_query_envelopes_follow_the_in_memory_order(numeric, key, descending):
    """``envelopes`` (the three charts in one query, what the window asks for a filtered or metric-sorted
    per-run view) draws bar i as the run on row i of the table: numeric IDs as numbers, unknown costs last,
    ties in ascending run-ID order in both directions."""
    df, eng = numeric
    ds = Dataset(df)
    view = build_view(ds, ViewSpec(sort_key=key, descending=descending))
    lo, hi = 2_600, 3_000
    envs = eng.envelopes(lo, hi, hi - lo, sort=key, descending=descending)
    for m in ("cost_usd", "duration_min"):
        want = df[m].to_numpy(dtype=float)[view.positions][lo:hi]
        np.testing.assert_array_equal(envs[m].runs, 1)
        np.testing.assert_array_equal(envs[m].max, want)  # NaN where unknown, in the same places


def test_text_run_ids_keep_text_order():
    df = _with_ids(realistic(300, seed=8, days=2), [f"r{i}" for i in range(300)])
    eng = Engine.open(df, settings=EngineSettings(**SMALL))
    try:
        assert not eng.numeric_ids
        ref = _memory_order(df, "run_id", False)
        assert ref[:3] == ["r0", "r1", "r10"]  # text order, by hand
        assert _walk(eng, "run_id", False, 64) == ref
        assert _walk(eng, "duration_min", True, 64) == _memory_order(df, "duration_min", True)
    finally:
        eng.close()


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    """70,000 runs with whole-number IDs (more than the envelope reads exactly: the pyramid answers)."""
    n = 70_000
    base = realistic(n, seed=9, days=10)
    ids = np.random.default_rng(10).permutation(np.arange(1, n + 1)).astype(str)
    df = _with_ids(base, ids)
    root = tmp_path_factory.mktemp("idxnum")
    folder = write_dataset(df, root / "runs")
    idx = build_index(folder, base=root / "cache", memory_limit="1GB")
    eng = Engine.open(folder, settings=EngineSettings(**SMALL), index=idx)
    yield df, eng, idx
    eng.close()


def test_index_run_order_is_natural(indexed):
    df, eng, idx = indexed
    assert idx.meta["numeric_ids"] and idx.meta["version"] >= 3
    ref = _memory_order(df, "run_id", False)
    assert idx.rows(0, 12, ["run_id"])["run_id"].tolist() == [str(i) for i in range(1, 13)]
    assert idx.rows(len(df) - 3, len(df), ["run_id"])["run_id"].tolist() == ref[-3:]
    assert idx.position_after("9") == 9 and idx.position_after("99999") == len(df)
    # keyset pages from the index, both directions, across row groups
    p = eng.page("run_id", at=40_000, n=5)
    assert p.rows["run_id"].tolist() == ref[40_000:40_005]
    assert eng.page("run_id", after=p.next_key, n=3).rows["run_id"].tolist() == ref[40_005:40_008]
    d = eng.page("run_id", after=("100", "100"), n=4, descending=True)
    assert d.rows["run_id"].tolist() == ["99", "98", "97", "96"]


def test_descending_pyramid_reads_follow_the_natural_order(indexed):
    df, eng, idx = indexed
    ds = Dataset(df)
    view = build_view(ds, ViewSpec(sort_key="run_id", descending=True))
    dur = df["duration_min"].to_numpy(dtype=float)[view.positions]
    n = len(df)
    assert n > EXACT_ENVELOPE_BARS
    env = eng.envelope(0, n, 10, "duration_min", descending=True)
    assert not env.exact and env.grain >= PYRAMID_BASE
    edges = np.r_[0, np.cumsum(env.runs)]  # bucket i holds the next runs[i] runs of the descending order
    assert edges[-1] == n
    for i in range(len(env.runs)):
        seg = dur[edges[i]:edges[i + 1]]
        assert env.runs[i] == len(seg)
        assert env.max[i] == np.nanmax(seg)
        assert env.sum[i] == pytest.approx(np.nansum(seg), rel=1e-12)


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
def test_a_filtered_per_run_view_reads_the_index_run_order(indexed, descending):
    """With the index's run order built, a filtered per-run view is ordered by each run's position in that
    file (no sort of run IDs): the same bars, bar for bar, as the in-memory dashboard's filtered view."""
    df, eng, idx = indexed
    ds = Dataset(df)
    view = build_view(ds, ViewSpec(sort_key="run_id", descending=descending,
                                   filter=ViewFilter(statuses=frozenset({"Failed"}))))
    n = len(view.positions)
    assert 1_000 < n < len(df)
    rule = Rule(statuses={"Failed"})
    assert eng._in_run_order(rule) is not None  # the path under test, not the scan of the source
    envs = eng.envelopes(0, n, n, rule=rule, descending=descending)
    for m in ("cost_usd", "data_processed_gb"):
        want = df[m].to_numpy(dtype=float)[view.positions]
        np.testing.assert_array_equal(envs[m].max, want)
        np.testing.assert_array_equal(envs[m].failed_runs, 1)
    one = eng.envelope(10, 410, 100, "duration_min", rule=rule, descending=descending)  # 4 runs a bar
    dur = df["duration_min"].to_numpy(dtype=float)[view.positions][10:410].reshape(100, 4)
    np.testing.assert_array_equal(one.max, np.fmax.reduce(dur, axis=1))  # unknown durations skipped
    np.testing.assert_array_equal(one.first, 10 + 4 * np.arange(100))


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
def test_streamed_filtered_bars_equal_the_window_querys_across_batches(indexed, descending, monkeypatch):
    """The filtered run order streamed in batches of 97 runs (so buckets span batches) gives, field for field,
    the bars of the engine's window query over the same runs, for ranges of any width."""
    df, eng, idx = indexed
    rule = Rule(statuses={"Failed", "Success"}, sources={"SAP", "GIS"})
    ordered = eng._in_run_order(rule)
    total = eng.count(rule)
    assert total > 5_000
    monkeypatch.setattr(Engine, "STREAM_BATCH", 97)
    for lo, hi, buckets in ((0, total, 333), (17, 5_017, 1_000), (total - 700, total + 300, 50), (1_000, 1_003, 3),
                            (250, 4_250, 4_000)):
        got = eng._streamed_envelopes(ordered, lo, hi, min(buckets, hi - lo), Q_METRICS, descending, rule, None)
        assert got is not None
        with monkeypatch.context() as mp:
            mp.setattr(Engine, "_streamed_envelopes", lambda *a, **k: None)  # the window query alone
            want = eng.envelopes(lo, hi, buckets, rule=rule, descending=descending)
        for m in Q_METRICS:
            g, w = got[m], want[m]
            for field in ("first", "runs", "failed_runs", "max", "min", "failed_max"):
                np.testing.assert_array_equal(getattr(g, field), getattr(w, field), err_msg=f"{m} {field}")
            # a bucket of unknown values only: the query's SUM is NULL, the reduction's 0 (both drawn as no bar)
            np.testing.assert_allclose(g.sum, np.nan_to_num(w.sum), rtol=1e-9)
            np.testing.assert_allclose(g.failed_sum, w.failed_sum, rtol=1e-9, atol=1e-9)


def test_filtered_pages_read_in_file_order_are_the_querys_pages(indexed, monkeypatch):
    """A filtered table in ascending run-ID order pages from the index's run-ordered file (a key's position,
    then the next rows that pass the filter): the same rows as the sorted query, first page, next and a jump."""
    df, eng, idx = indexed
    rule = Rule(sources={"SAP"}, statuses={"Failed"})
    spec = ViewSpec(filter=ViewFilter(sources=frozenset({"SAP"}), statuses=frozenset({"Failed"})))
    ref = [str(x) for x in df["run_id"].to_numpy(dtype=object)[build_view(Dataset(df), spec).positions]]
    assert len(ref) > 300
    p1 = eng.page("run_id", n=50, rule=rule)
    p2 = eng.page("run_id", after=p1.next_key, n=50, rule=rule)
    j = eng.page("run_id", at=200, n=25, rule=rule)
    assert p1.rows["run_id"].tolist() == ref[:50] and p2.rows["run_id"].tolist() == ref[50:100]
    assert j.rows["run_id"].tolist() == ref[200:225]
    d1 = eng.page("run_id", n=40, rule=rule, descending=True)  # descending: the last runs first
    d2 = eng.page("run_id", after=d1.next_key, n=40, rule=rule, descending=True)
    dj = eng.page("run_id", at=100, n=20, rule=rule, descending=True)
    back = ref[::-1]
    assert d1.rows["run_id"].tolist() == back[:40] and d2.rows["run_id"].tolist() == back[40:80]
    assert dj.rows["run_id"].tolist() == back[100:120]
    monkeypatch.setattr(Engine, "_in_run_order", lambda self, rule: None)  # the sorted query alone
    q = eng.page("run_id", after=p1.next_key, n=50, rule=rule)
    assert list(q.rows.columns) == list(p2.rows.columns)
    pd.testing.assert_frame_equal(q.rows, p2.rows, check_dtype=False)
    qd = eng.page("run_id", after=d1.next_key, n=40, rule=rule, descending=True)
    pd.testing.assert_frame_equal(qd.rows, d2.rows, check_dtype=False)


def test_cancelling_streamed_bars_leaves_the_connection_usable(indexed, monkeypatch):
    """The window cancels a superseded request between batches: Cancelled reaches the caller (not the
    connection's "open result" error) and the next query on the same engine runs."""
    from etl_desk.core.tasks import Cancelled

    df, eng, idx = indexed
    rule = Rule(statuses={"Failed", "Success"})
    monkeypatch.setattr(Engine, "STREAM_BATCH", 1_000)
    calls = []

    def cancel():
        calls.append(1)
        return len(calls) > 2  # after two batches
    with pytest.raises(Cancelled):
        eng.envelopes(0, eng.count(rule), 100, rule=rule, cancel=cancel)
    assert eng.envelopes(0, 500, 50, rule=rule)["cost_usd"].runs.sum() == 500
    assert len(eng.page("run_id", n=5, rule=rule).rows) == 5


@pytest.mark.parametrize("size", [300, 60_000], ids=["small table", "large table"])
@pytest.mark.parametrize("odd", ["7.0", "1e3", "+4", "1234567890123456789"])
def test_one_id_that_is_not_a_whole_number_makes_the_order_text_in_memory_and_in_the_engine(size, odd):
    """"7.0", "1e3", "+4" and 19 digits are not whole-number run IDs for the engine (BIGINT, 18 digits); the
    in-memory order read them as numbers on small tables (pandas.to_numeric) and 19 digits on large ones."""
    ids = [str(i) for i in range(1, size)] + [odd]
    df = _with_ids(realistic(size, seed=12, days=2), ids)
    eng = Engine.open(df, settings=EngineSettings(**SMALL))
    try:
        assert not eng.numeric_ids
        ref = _memory_order(df, "run_id", False)
        assert ref[:3] == sorted(ids)[:3]  # text order: "1", "10", "100"
        assert [str(x) for x in eng.page("run_id", n=5).rows["run_id"]] == ref[:5]
    finally:
        eng.close()
