"""The index on open: same answers as the runs, reuse, invalidation, cancel, and a kill mid-build."""
from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from tests.engine_helpers import SMALL, assert_kpis_equal, assert_rollups_equal, realistic, write_dataset
from etl_desk.core.engine import Engine, EngineSettings, Rule
from etl_desk.core.engine import pandas_path as P
from etl_desk.core.engine import sketch
from etl_desk.core.engine.backends import open_source
from etl_desk.core.engine.index import PYRAMID_BASE, build_index, find_index, index_dir
from etl_desk.core.tasks import Cancelled


@pytest.fixture(scope="module")
def runs():
    return realistic(120_000, seed=11, days=40)


@pytest.fixture(scope="module")
def built(runs, tmp_path_factory):
    base = tmp_path_factory.mktemp("idx")
    folder = write_dataset(runs, base / "runs")
    stages, early = [], {}

    def on_stage(name, partial):
        stages.append(name)
        if name == "day":  # what the window can show seconds after opening: the coarse day x status cube
            e = Engine.open(folder, settings=EngineSettings(**SMALL), index=partial)
            early["day"] = e.rollup("day")
            early["failed_week"] = e.rollup("week", Rule.failed())
            early["kpis"] = e.kpis()
            early["sap"] = e.rollup("day", Rule(sources={"SAP"}))  # not in the coarse cube: from the runs
            e.close()

    idx = build_index(folder, base=base / "cache", memory_limit="1GB", on_stage=on_stage)
    return folder, base / "cache", idx, stages, early


def test_build_reports_stages_and_is_complete(built, runs):
    folder, cache, idx, stages, early = built
    assert stages == ["day", "cube", "rollups", "runs"]
    assert idx.meta["complete"] and idx.runs == len(runs)
    assert idx.meta["stages"] == ["rollups", "runs", "pyramid"]
    assert not [p for p in idx.path.parent.iterdir() if ".partial-" in p.name]


def test_the_first_coarse_cube_answers_the_per_day_view(built, runs):
    *_, early = built
    assert_rollups_equal(P.rollup(runs, "day"), early["day"])
    assert_rollups_equal(P.rollup(runs, "week", Rule.failed()), early["failed_week"])
    assert_rollups_equal(P.rollup(runs, "day", Rule(sources={"SAP"})), early["sap"])
    ref = P.kpis(runs)
    got = early["kpis"]
    assert_kpis_equal(ref, got, quantiles="approx")
    assert got["duration_p50_min"] is None and "not yet known" in got["notes"][0]


@pytest.mark.parametrize("rule", [None, Rule(statuses={"Failed"}), Rule(sources={"SAP"}, spot=False),
                                  Rule(start=pd.Timestamp("2024-01-10"), end=pd.Timestamp("2024-01-20"))],
                         ids=["all", "failed", "sap-on-demand", "dates"])
def test_cube_answers_like_the_runs(built, runs, rule):
    folder, cache, idx, _, _ = built
    e = Engine.open(folder, settings=EngineSettings(**SMALL), index=idx)
    k = e.kpis(rule)
    ref = P.kpis(runs, rule)
    assert_kpis_equal(ref, k, quantiles="approx")
    sel = runs if rule is None else runs[rule.mask(runs)]
    d = np.sort(sel["duration_min"].to_numpy())
    for q, key in ((0.5, "duration_p50_min"), (0.95, "duration_p95_min")):
        x_k = d[int(np.floor((len(d) - 1) * q))]
        assert abs(k[key] - x_k) <= sketch.ALPHA * x_k * (1 + 1e-12)
    for grain in ("day", "month", "pipeline", "status"):
        assert_rollups_equal(P.rollup(runs, grain, rule), e.rollup(grain, rule))
    e.close()


def test_run_order_pages_and_pyramid_envelope(built, runs):
    folder, cache, idx, _, _ = built
    order = np.argsort(runs["run_id"].to_numpy(dtype=object), kind="stable")
    ids = runs["run_id"].to_numpy(dtype=object)[order]
    dur = runs["duration_min"].to_numpy()[order]
    failed = (runs["status"] == "Failed").to_numpy()[order]
    assert idx.rows(70_000, 70_003)["run_id"].tolist() == list(ids[70_000:70_003])
    e = Engine.open(folder, settings=EngineSettings(**SMALL), index=idx)
    p = e.page("run_id", at=100_000, n=4)
    assert p.rows["run_id"].tolist() == list(ids[100_000:100_004])
    nxt = e.page("run_id", after=p.next_key, n=2)
    assert nxt.rows["run_id"].tolist() == list(ids[100_004:100_006])
    d1 = e.page("run_id", n=3, descending=True)  # keyset pages in both directions, from the index
    assert d1.rows["run_id"].tolist() == list(ids[::-1][:3])
    d2 = e.page("run_id", after=d1.next_key, n=3, descending=True)
    assert d2.rows["run_id"].tolist() == list(ids[::-1][3:6])
    gap = e.page("run_id", after=(ids[500] + "~", ids[500] + "~"), n=2)  # a key between two runs
    assert gap.rows["run_id"].tolist() == list(ids[501:503])
    assert e.page("run_id", after=(ids[-1], ids[-1]), n=5).rows.empty
    # zoomed out: from the pyramid; bucket edges on its blocks, every run counted once
    env = e.envelope(0, len(runs), 100, "duration_min")
    assert not env.exact and env.grain >= PYRAMID_BASE and env.runs.sum() == len(runs)
    assert env.max.max() == dur.max() and env.failed_runs.sum() == failed.sum()
    assert env.sum.sum() == pytest.approx(dur.sum(), rel=1e-12)
    for i in range(len(env.runs)):  # each bucket's max is the max of the runs it covers
        lo = env.first[i] if i == 0 else int(np.cumsum(env.runs)[i - 1])
        assert env.max[i] == dur[lo:lo + env.runs[i]].max()
    desc = e.envelope(0, len(runs), 100, "duration_min", descending=True)
    assert desc.runs.sum() == len(runs) and desc.max.max() == dur.max()
    rev = dur[::-1]  # descending run order: bucket i covers the next desc.runs[i] runs from the end
    bounds = np.r_[0, np.cumsum(desc.runs)]
    for i in range(len(desc.runs)):
        assert desc.max[i] == rev[bounds[i]:bounds[i + 1]].max()
    # zoomed in: exact, from the run-ordered file
    z = e.envelope(5_000, 5_600, 300, "duration_min")
    assert z.exact and (z.runs == 2).all()
    np.testing.assert_array_equal(z.max, dur[5_000:5_600].reshape(300, 2).max(axis=1))
    e.close()


def test_reused_when_unchanged_and_rebuilt_when_a_file_changes(built, tmp_path):
    folder, cache, idx, _, _ = built
    again = build_index(folder, base=cache)
    assert again.path == idx.path and again.meta["created"] == idx.meta["created"]
    # a changed file: new fingerprint, the old index is not found and is replaced
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    first = build_index(copy, base=cache, stages=("rollups",))
    f = next(copy.rglob("*.parquet"))
    os.utime(f, ns=(f.stat().st_atime_ns, f.stat().st_mtime_ns + 5_000_000_000))
    src = open_source(copy)
    assert find_index(src, base=cache) is None
    second = build_index(copy, base=cache, stages=("rollups",))
    assert second.path != first.path and not first.path.exists()
    assert second.meta["key"] == src.key()


def test_cancel_leaves_nothing(runs, tmp_path):
    folder = write_dataset(runs.iloc[:20_000], tmp_path / "runs")
    cache = tmp_path / "cache"
    state = {"stop": False}

    def on_stage(name, _):
        state["stop"] = True

    with pytest.raises(Cancelled):
        build_index(folder, base=cache, on_stage=on_stage, cancel=lambda: state["stop"])
    assert find_index(open_source(folder), base=cache) is None
    assert not any(cache.rglob("meta.json")) and not any(cache.rglob("*.parquet"))


def test_a_kill_mid_build_leaves_no_broken_index(runs, tmp_path):
    folder = write_dataset(runs.iloc[:20_000], tmp_path / "runs")
    cache = tmp_path / "cache"
    script = textwrap.dedent(f"""
        import sys, time
        from etl_desk.core.engine.index import build_index
        def on_stage(name, idx):
            if name == "cube":
                print("cube", flush=True)
                time.sleep(120)
        build_index({str(folder)!r}, base={str(cache)!r}, on_stage=on_stage)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "cube"  # mid-build: the cube is written, the rest is not
        proc.kill()
    finally:
        proc.wait(timeout=60)
    src = open_source(folder)
    assert find_index(src, base=cache) is None
    partial = [p for p in index_dir(src, cache).parent.iterdir() if ".partial-" in p.name]
    assert partial and (partial[0] / "cube.parquet").exists() and not (partial[0] / "meta.json").exists()
    idx = build_index(folder, base=cache, memory_limit="1GB")  # the next build removes the leftovers
    assert idx.meta["complete"] and not partial[0].exists()


def test_dataset_is_the_same_whatever_the_chunk_size(tmp_path):
    import pyarrow.parquet as pq

    from etl_desk.core.engine.dataset import generate_dataset
    from etl_desk.core.data.realistic import RealisticSettings

    s = RealisticSettings(runs=40_000, days=45, seed=9, start="2025-01-20", anomaly_rate=0.01)
    a = generate_dataset(tmp_path / "a", s, chunk_runs=3_000)
    b = generate_dataset(tmp_path / "b", s, chunk_runs=1_000_000)
    assert a["runs"] == b["runs"] == 40_000 and a["files"] > b["files"] == 3  # January to March
    ta = pq.read_table(sorted((tmp_path / "a").rglob("*.parquet"))).drop_columns(["month"])
    tb = pq.read_table(sorted((tmp_path / "b").rglob("*.parquet"))).drop_columns(["month"])
    assert ta.equals(tb)
    ids = ta.column("run_id").to_pylist()
    assert len(set(ids)) == len(ids) and ids[0].count("-2025012") == 1
    names = sorted(p.relative_to(tmp_path / "a").as_posix() for p in (tmp_path / "a").rglob("*.parquet"))
    assert names[0].startswith("month=2025-01/part-2025-01-20") and names == sorted(names)
    assert not (tmp_path / "a.partial").exists()


def test_a_reopened_index_holds_its_histograms_as_dictionaries_and_answers_the_same_percentiles(built, runs):
    # the histogram repeats pipeline, source and status on millions of rows at 100M runs: read back as
    # dictionaries (half the memory), its percentiles must not change
    import pyarrow as pa

    folder, cache, idx, *_ = built
    again = find_index(open_source(folder), base=cache)
    for c in ("job_name", "source_system", "status"):
        assert pa.types.is_dictionary(again.hist.schema.field(c).type), c
    e = Engine.open(folder, settings=EngineSettings(**SMALL), index=again)
    try:
        got = e.kpis(Rule(sources={"SAP"}))
    finally:
        e.close()
    sap = runs[runs["source_system"] == "SAP"]["duration_min"].dropna().to_numpy()
    for q, key in ((0.5, "duration_p50_min"), (0.95, "duration_p95_min")):
        assert got[key] == pytest.approx(np.quantile(sap, q), rel=0.01), key


@pytest.fixture(scope="module")
def small_groups(tmp_path_factory, monkeypatch_module):
    """An index whose runs.parquet has row groups of 1,000 runs (so a zoomed-in range spans several) over
    runs with unknown costs and durations: the exact envelope must combine groups and skip the unknown."""
    from etl_desk.core.engine import runorder

    monkeypatch_module.setattr(runorder, "ROW_GROUP", 1_000)
    runs = realistic(12_000, seed=31, days=20)
    rng = np.random.default_rng(31)
    runs.loc[rng.random(len(runs)) < 0.05, "cost_usd"] = np.nan
    runs.loc[rng.random(len(runs)) < 0.05, "duration_min"] = np.nan
    base = tmp_path_factory.mktemp("idx-small-groups")
    folder = write_dataset(runs, base / "runs")
    idx = build_index(folder, base=base / "cache", memory_limit="1GB")
    assert idx._file().metadata.num_row_groups == 12
    return idx


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def _brute_envelope(vals, failed, lo, hi, buckets, descending):
    """The envelope by its definition, one bucket at a time (no reduceat, no row groups)."""
    n = len(vals)
    if descending:
        vals, failed = vals[::-1], failed[::-1]
    width = max((hi - lo) / buckets, 1.0)
    hi = min(hi, n)
    nb = max(1, math.ceil((hi - lo) / width - 1e-9))
    b = np.minimum((np.arange(hi - lo) / width).astype(np.int64), nb - 1)
    v, f = vals[lo:hi], failed[lo:hi]
    rows = []
    for k in np.unique(b):
        vk, fk = v[b == k], f[b == k]
        known, fknown = vk[~np.isnan(vk)], vk[fk & ~np.isnan(vk)]
        rows.append((lo + np.flatnonzero(b == k)[0], len(vk), int(fk.sum()),
                     known.max() if len(known) else np.nan, known.min() if len(known) else np.nan,
                     known.sum(), fknown.max() if len(fknown) else np.nan, fknown.sum()))
    return [np.array(c) for c in zip(*rows)]


@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
@pytest.mark.parametrize("metric", ["cost_usd", "duration_min", "data_processed_gb"])
def test_exact_envelope_across_row_groups_equals_its_definition(small_groups, metric, descending):
    idx = small_groups
    rows = idx.rows(0, idx.runs, columns=["status", metric])  # the table path, not the charts' decoding
    vals = rows[metric].to_numpy(dtype=float, na_value=np.nan)
    failed = (rows["status"] == "Failed").to_numpy(dtype=bool)
    assert np.isnan(vals).any() == (metric != "data_processed_gb") and failed.any()
    rng = np.random.default_rng(7)
    cases = [(0, idx.runs, 997), (999, 1_001, 2), (1_500, 4_321, 300), (11_990, 12_500, 7), (2_000, 9_000, 5_000)]
    cases += [(int(a), int(a) + int(w), int(k)) for a, w, k in zip(rng.integers(0, 11_000, 20),
                                                                    rng.integers(1, 9_000, 20),
                                                                    rng.integers(1, 1_200, 20))]
    for lo, hi, buckets in cases:
        e = idx.envelope(lo, hi, buckets, metric, descending)
        assert e.exact
        first, runs, nfail, vmax, vmin, vsum, fmax, fsum = _brute_envelope(vals, failed, lo, hi, buckets,
                                                                          descending)
        np.testing.assert_array_equal(e.first, first)
        np.testing.assert_array_equal(e.runs, runs)
        np.testing.assert_array_equal(e.failed_runs, nfail)
        np.testing.assert_array_equal(e.max, vmax)
        np.testing.assert_array_equal(e.min, vmin)
        np.testing.assert_array_equal(e.failed_max, fmax)
        np.testing.assert_allclose(e.sum, vsum, rtol=1e-12)
        np.testing.assert_allclose(e.failed_sum, fsum, rtol=1e-12, atol=1e-9)
