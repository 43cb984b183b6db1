"""The index built once when a big history is opened, and reused until its files change.

Contents (one folder per data source and fingerprint):

``cube.parquet``
    The rollup cube: day x pipeline x source x status x spot with additive sums
    (:func:`.queries.cube`). KPIs, per day/week/month/pipeline/status/source
    totals and every filter on those dimensions are answered from it in
    milliseconds; its sums are exact (money as DECIMAL).
``hist.parquet``
    A duration histogram per cube cell (log buckets, :mod:`.sketch`): p50/p90/p95
    of any cube-answerable selection, within 0.5 % of the order statistic.
``runs.parquet``
    Every run in natural run-ID order (numbers when every run ID is a whole number, else
    text; the in-memory dashboard's order), one file, row groups of :data:`ROW_GROUP` runs:
    a table page at any position is one row-group read. Written by :mod:`.runorder`
    (range partitions sorted in memory), with the pyramid in the same pass.
``run_groups.json``
    The run ID of the last run of each row group (binary search for keyset pages).
``pyramid/NN.npy``
    The level-of-detail pyramid over run order: level L holds, for each block
    of ``PYRAMID_BASE * 2**L`` consecutive runs, the run and failed counts and,
    per metric, max / min / sum / largest failed value / sum of failed values. A chart's envelope at
    any zoom is a slice of one level (memory-mapped).
``meta.json``
    Version, the source's fingerprint (file paths, sizes, mtimes), counts.

Where: ``<cache>/etl-desk/index/<hash of the source's location>/<hash of its
fingerprint>/`` in the user cache folder (``ETL_DESK_INDEX_DIR`` or the
``base`` argument overrides it). A changed, added or removed file changes the
fingerprint, so the old index is no longer found (and is deleted when the new
one is built). The index is built in ``<key>.partial-<pid>`` and renamed into
place when complete: a build that is killed or cancelled leaves no index that
could be mistaken for a complete one (stale partial folders are removed by the
next build). DuckDB runs the build within ``memory_limit``, spilling to the
partial folder.

Size: one job, the on-disk index (its stages, their manifest, reuse and atomic publish) in one
place so a half-built index can never be published; the run order and pyramid are written by
:mod:`.runorder`.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import bars
from . import queries as Q
from ._project import FAILED
from .backends import Source, canonical, connect_duckdb, open_source, register
from .engine import Envelope, run_watched
from .runorder import PYRAMID_BASE, PYRAMID_DTYPE, ROW_GROUP, write_run_order

__all__ = ["INDEX_VERSION", "PYRAMID_BASE", "PYRAMID_DTYPE", "ROW_GROUP", "RunIndex", "build_index",
           "default_base", "find_index", "index_dir"]

#: 2: the pyramid keeps the failed runs' sum per block (honest colour); 3: natural run-ID order
#: (numbers when every ID is a whole number), run_groups.json
INDEX_VERSION = 3
#: Decoded row groups kept in memory (about 3 MB each for the charts, see RunIndex._chart_groups).
CACHED_GROUPS = 16
#: Envelopes of at most this many bars are computed from the runs themselves (exact).
EXACT_ENVELOPE_BARS = 65_536
STAGES = ("rollups", "runs", "pyramid")


def default_base() -> Path:
    """The folder indexes live under: ``ETL_DESK_INDEX_DIR``, else the user cache folder + etl-desk/index."""
    env = os.environ.get("ETL_DESK_INDEX_DIR")
    if env:
        return Path(env)
    if sys.platform == "win32":
        root = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        root = Path.home() / "Library" / "Caches"
    else:
        root = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return root / "etl-desk" / "index"


def index_dir(source: Source, base: str | os.PathLike | None = None) -> Path:
    """Where the index of *source* in its current state lives (it may not exist yet)."""
    return Path(base or default_base()) / source.root_key() / source.key()


@dataclass
class RunIndex:
    """A built (or partly built) index: see the module docstring. Load with :func:`find_index`."""

    path: Path
    meta: dict
    cube: object = None  # pyarrow.Table
    hist: object = None  # pyarrow.Table
    levels: list = field(default_factory=list)  # np.memmap per pyramid level
    _pf: object = None
    _pf_chart: object = None
    _rg_start: np.ndarray | None = None
    _rg_last: list | None = None
    _cache: dict = field(default_factory=dict)

    @property
    def runs(self) -> int:
        """Number of runs indexed (``meta["runs"]``; 0 when the meta has no count yet)."""
        return int(self.meta.get("runs", 0))

    @property
    def has_runs(self) -> bool:
        """True when the "runs" stage (run order, ``runs.parquet``) is built and its file is present."""
        return "runs" in self.meta.get("stages", []) and (self.path / "runs.parquet").exists()

    @property
    def has_pyramid(self) -> bool:
        """True when the level-of-detail pyramid is loaded (at least one level)."""
        return bool(self.levels)

    @classmethod
    def load(cls, path: Path) -> "RunIndex":
        """Open the index in *path* (its meta.json must exist). Raises OSError/ValueError when unreadable."""
        import pyarrow.parquet as pq

        meta = json.loads((path / "meta.json").read_text())
        if meta.get("version") != INDEX_VERSION:
            raise ValueError(f"index version {meta.get('version')} (this program reads {INDEX_VERSION})")
        idx = cls(path, meta)
        if (path / "cube.parquet").exists():
            idx.cube = pq.read_table(path / "cube.parquet")
        if (path / "hist.parquet").exists():
            idx.hist = read_hist(path / "hist.parquet")
        n_levels = int(meta.get("pyramid_levels", 0))
        idx.levels = [np.load(path / "pyramid" / f"{L:02d}.npy", mmap_mode="r") for L in range(n_levels)]
        if idx.has_runs:  # parse runs.parquet's footer now (6-8 ms per 10M runs), not on the first deep zoom
            idx._chart_file()
        return idx

    # ------------------------------------------------------------------ run order
    def _file(self):
        if self._pf is None:
            import pyarrow.parquet as pq

            self._pf = pq.ParquetFile(self.path / "runs.parquet")
            md = self._pf.metadata
            self._rg_start = np.concatenate(([0], np.cumsum([md.row_group(i).num_rows
                                                             for i in range(md.num_row_groups)])))
        return self._pf

    def _group(self, g: int, columns: tuple[str, ...] | None):
        """Row group *g* of runs.parquet (these columns), decoded once and kept in a small LRU cache:
        the three charts and the next zoom step read the same groups."""
        key = (g, columns)
        hit = self._cache.pop(key, None)
        if hit is None:
            hit = self._file().read_row_group(g, columns=list(columns) if columns else None)
        self._cache[key] = hit
        while len(self._cache) > CACHED_GROUPS:
            self._cache.pop(next(iter(self._cache)))
        return hit

    def _chart_file(self):
        """runs.parquet opened for the charts: the same footer as :meth:`_file`, status read
        dictionary-encoded (5x cheaper than decoding 32k strings a group)."""
        if self._pf_chart is None:
            import pyarrow.parquet as pq

            self._pf_chart = pq.ParquetFile(self.path / "runs.parquet", metadata=self._file().metadata,
                                            read_dictionary=["status"])
        return self._pf_chart

    def _chart_groups(self, groups: range) -> list[dict]:
        """Row groups *groups* as the charts need them (each a part made by :func:`.bars.prepare`, about 1-2 MB
        a group of 32k runs), decoded straight from Arrow (no pandas: 4-5x faster than :meth:`rows`) and cached
        like :meth:`_group`; the groups not cached are read in one call."""
        import pyarrow.compute as pc

        self._file()
        hits = {g: self._cache.pop((g, "chart"), None) for g in groups}
        missing = [g for g, h in hits.items() if h is None]
        if missing:
            tbl = self._chart_file().read_row_groups(missing, columns=["status", *Q.METRICS])
            failed = np.concatenate([_equals(chunk, FAILED) for chunk in tbl.column("status").chunks]
                                    or [np.empty(0, dtype=bool)])
            vals = {m: pc.cast(tbl.column(m), "float64").to_numpy(zero_copy_only=False) for m in Q.METRICS}
            at = 0
            for g in missing:
                k = int(self._rg_start[g + 1] - self._rg_start[g])
                hits[g] = bars.prepare(failed[at:at + k], {m: v[at:at + k] for m, v in vals.items()})
                at += k
        for g in groups:
            self._cache[(g, "chart")] = hits[g]
        while len(self._cache) > max(CACHED_GROUPS, len(groups)):
            self._cache.pop(next(iter(self._cache)))
        return [hits[g] for g in groups]

    def _exact_envelope(self, lo: int, a_lo: int, a_hi: int, width: float, buckets: int, metric: str,
                        descending: bool):
        """:meth:`envelope` from the runs themselves: positions *a_lo*..*a_hi*-1 of the ascending run order
        (the asked range, mirrored when *descending*), buckets of *width* runs counted in the asked
        direction. Each row group reduces its own part at the bucket edges inside it (no copy of the
        range); a bucket that spans two groups combines their partial results."""
        m = a_hi - a_lo
        if m <= 0:  # a range past the last run: no bars
            return Envelope.empty()
        starts = bars.bucket_starts(m, width, buckets)  # in the asked direction, relative to the range
        asc = bars.ascending_edges(starts, m, descending)
        g0 = int(np.searchsorted(self._rg_start, a_lo, side="right") - 1)
        g1 = int(np.searchsorted(self._rg_start, a_hi - 1, side="right") - 1)
        groups = range(g0, g1 + 1)
        parts = []
        for g, grp in zip(groups, self._chart_groups(groups)):
            g_start = int(self._rg_start[g])
            a, b = max(a_lo, g_start) - g_start, min(a_hi, int(self._rg_start[g + 1])) - g_start
            parts.append(bars.partials(grp, a, b, g_start + a - a_lo, asc, metric))
        out = bars.combine(parts, descending)
        runs = np.diff(np.r_[starts, m])
        return Envelope(lo + starts, runs, out[0], out[1], out[2], out[3], out[4], failed_sum=out[5])

    def rows(self, lo: int, hi: int, columns: list[str] | None = None) -> pd.DataFrame:
        """Runs at positions *lo*..*hi*-1 of the run_id order (canonical columns), read by row group."""
        import pyarrow as pa

        pf = self._file()
        lo, hi = max(0, lo), min(hi, self.runs)
        cols = tuple(columns) if columns else None
        if hi <= lo:
            empty = pf.schema_arrow.empty_table()
            return (empty if cols is None else empty.select(list(cols))).to_pandas()
        g0 = int(np.searchsorted(self._rg_start, lo, side="right") - 1)
        g1 = int(np.searchsorted(self._rg_start, hi - 1, side="right") - 1)
        tbl = pa.concat_tables([self._group(g, cols) for g in range(g0, g1 + 1)])
        off = lo - int(self._rg_start[g0])
        return tbl.slice(off, hi - lo).to_pandas()

    def position_after(self, run_id) -> int:
        """Position of the first run whose run ID sorts after *run_id* in the index's run order
        (natural order, see :func:`.queries.run_key`): binary search over each row group's last
        run ID (``run_groups.json``), then over one group's run IDs.

        Raises:
            ValueError: when the index's run IDs are all whole numbers and *run_id* is not one.
        """
        import bisect

        numeric = bool(self.meta.get("numeric_ids"))
        self._file()
        if self._rg_last is None:
            self._rg_last = [Q.run_key_value(x, numeric)
                             for x in json.loads((self.path / "run_groups.json").read_text())]
        try:
            key = Q.run_key_value(run_id, numeric)
        except ValueError:  # not a number, among numeric IDs: no position (should not happen)
            raise ValueError(f"run ID {run_id!r} is not a whole number, unlike every run ID indexed") from None
        g = bisect.bisect_right(self._rg_last, key)  # first group whose last ID is after the key
        if g >= len(self._rg_last):
            return self.runs
        ids = [Q.run_key_value(x, numeric) for x in self._group(g, ("run_id",)).column("run_id").to_pylist()]
        return int(self._rg_start[g]) + bisect.bisect_right(ids, key)

    def envelope(self, lo: int, hi: int, buckets: int, metric: str, descending: bool = False):
        """The :class:`~.engine.Envelope` of run-order positions *lo*..*hi*-1 in buckets of (*hi* - *lo*) / *buckets*
        runs (*hi* may pass the last run: the last bucket is then partial).

        Exact from the runs when the range has at most :data:`EXACT_ENVELOPE_BARS` runs
        (or fewer than PYRAMID_BASE runs a bucket); otherwise from the pyramid level whose
        block is the largest not wider than a bucket, bucket edges rounded to that block.
        """
        n = self.runs
        lo = max(0, lo)
        # the bucket width asked for: *hi* may pass the last run (the last bucket is then partial),
        # so a window that asks for whole rows of k runs gets them up to the end
        width = max((hi - lo) / max(1, buckets), 1.0)
        hi = min(hi, n)
        buckets = max(1, int(math.ceil((hi - lo) / width - 1e-9)))
        a_lo, a_hi = (n - hi, n - lo) if descending else (lo, hi)
        if hi - lo <= EXACT_ENVELOPE_BARS or width < PYRAMID_BASE or not self.levels:
            # one cached read of the row groups serves the three charts
            return self._exact_envelope(lo, a_lo, a_hi, width, buckets, metric, descending)
        L = min(int(math.floor(math.log2(width / PYRAMID_BASE))), len(self.levels) - 1)
        size = PYRAMID_BASE << L
        lev = self.levels[L]
        j0, j1 = a_lo // size, min(-(-a_hi // size), len(lev))
        blk = np.asarray(lev[j0:j1])
        pos = np.arange(j0, j1, dtype=np.int64) * size  # ascending start of each block
        if descending:
            blk = blk[::-1]
            pos = n - np.minimum(pos + size, n)  # descending position of each block's first bar
        rel = np.clip(np.maximum(pos, lo) - lo, 0, None)
        b = np.minimum((rel / width).astype(np.int64), buckets - 1)
        starts = np.flatnonzero(np.r_[True, b[1:] != b[:-1]])
        return Envelope(lo + (b[starts] * width).astype(np.int64), np.add.reduceat(blk["runs"], starts),
                        np.add.reduceat(blk["failed"], starts), np.fmax.reduceat(blk[f"{metric}_max"], starts),
                        np.fmin.reduceat(blk[f"{metric}_min"], starts), np.add.reduceat(blk[f"{metric}_sum"], starts),
                        np.fmax.reduceat(blk[f"{metric}_fmax"], starts), exact=False, grain=size,
                        failed_sum=np.add.reduceat(blk[f"{metric}_fsum"], starts))


def _equals(chunk, value: str) -> np.ndarray:
    """Bool array: which entries of one Arrow chunk (dictionary-encoded or plain strings) equal *value*;
    unknown (null) is False. A dictionary chunk compares its few distinct values, then the codes."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(chunk.type):
        hit = np.flatnonzero(np.asarray(pc.fill_null(pc.equal(chunk.dictionary, value), False)))
        codes = chunk.indices.to_numpy(zero_copy_only=False)  # nulls come out as some code: masked below
        out = np.isin(codes, hit) if len(hit) != 1 else codes == hit[0]
        if chunk.null_count:
            out &= np.asarray(chunk.is_valid())
        return out
    return np.asarray(pc.fill_null(pc.equal(chunk, value), False))


#: The histogram's text dimensions, read dictionary-encoded: at 100M runs the table has ~3M rows whose
#: pipeline, source and status repeat; as plain strings they took 202 MB of the window's memory, as
#: dictionaries 113 MB (DuckDB queries either alike).
HIST_TEXT = ("job_name", "source_system", "status")


def read_hist(path: Path):
    """``hist.parquet`` as a pyarrow Table, its text dimensions dictionary-encoded (:data:`HIST_TEXT`)."""
    import pyarrow.parquet as pq

    names = set(pq.read_schema(path).names)
    return pq.read_table(path, read_dictionary=[c for c in HIST_TEXT if c in names])


def find_index(source: Source, base=None) -> RunIndex | None:
    """The complete index of *source* as it is now, or None (never built, or a file changed since)."""
    if source.kind == "dataframe":
        return None
    try:
        path = index_dir(source, base)
    except OSError:
        return None
    if not (path / "meta.json").exists():
        return None
    try:
        idx = RunIndex.load(path)
    except (OSError, ValueError):
        return None
    return idx if idx.meta.get("complete") and idx.meta.get("key") == source.key() else None


# --------------------------------------------------------------------------- building

def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _clean_stale(folder: Path, keep: str) -> None:
    """Remove other fingerprints' indexes and partial folders whose builder is gone."""
    if not folder.exists():
        return
    for p in folder.iterdir():
        if p.name == keep:
            continue
        if ".partial-" in p.name:
            try:
                pid = int(p.name.split(".partial-")[1].split("-")[0])
            except ValueError:
                pid = -1
            if pid != os.getpid() and _pid_alive(pid):
                continue
        shutil.rmtree(p, ignore_errors=True)


def build_index(source: Source | str | os.PathLike, base=None, memory_limit: str = "1.2GB", threads: int = 2,
                stages=STAGES, progress=None, cancel=None, on_stage=None) -> RunIndex:
    """Build (or reuse) the index of *source*; return it complete.

    *stages*: which parts to build ("rollups" = cube + histograms, "runs" = run
    order, "pyramid", which needs "runs"). ``progress(fraction, text)`` reports
    the whole build (0..1); ``cancel()`` is polled about every 0.1 s and raises
    ``Cancelled`` (nothing is left behind); ``on_stage(name, index)`` is called
    when a stage is done with the partly built index: "day" (a coarse day x status
    cube: the per-day views and unfiltered KPIs can be drawn), "cube" (the full
    rollup cube: every grouping and cube filter), "rollups" (histograms too:
    percentiles), "runs" (run order: pages by position).
    Raises :class:`~etl_desk.core.errors.DataError` for a source it cannot read.

    Raises:
        ValueError: for an in-memory source (the pandas path serves those), or *stages* with
            ``"pyramid"`` but not ``"runs"``.
        OSError: when the files change while the index is built (open the data again).
        Cancelled: (:class:`etl_desk.core.tasks.Cancelled`) when ``cancel()`` returns True.
    """
    source = source if isinstance(source, Source) else open_source(source)
    if source.kind == "dataframe":
        raise ValueError("in-memory tables are not indexed (the pandas path serves them)")
    stages = tuple(stages)
    if "pyramid" in stages and "runs" not in stages:
        raise ValueError("the pyramid stage needs the runs stage")
    found = find_index(source, base)
    if found is not None and set(stages) <= set(found.meta.get("stages", [])):
        if progress:
            progress(1.0, "index reused")
        return found
    final = index_dir(source, base)
    key = source.key()
    _clean_stale(final.parent, keep=final.name)
    tmp = final.parent / f"{key}.partial-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    report = progress or (lambda f, s: None)
    weights = {"rollups": 0.2, "runs": 0.75, "pyramid": 0.05}  # the pyramid is written with the run order
    total_w = sum(weights[s] for s in stages)
    spans, acc = {}, 0.0
    for s in STAGES:
        if s in stages:
            spans[s] = (acc / total_w, (acc + weights[s]) / total_w)
            acc += weights[s]

    def sub(stage):
        a, b = spans[stage]
        return lambda f, text: report(a + (b - a) * max(0.0, min(f, 1.0)), text)

    meta = {"version": INDEX_VERSION, "key": key, "fingerprint": source.fingerprint(), "stages": [],
            "created": time.strftime("%Y-%m-%dT%H:%M:%S"), "complete": False, "timings_s": {}}
    con = None
    try:
        con = connect_duckdb(memory_limit, threads, str(tmp / "spill"))
        t = canonical(register(con, "duckdb", source))
        duck = con.con
        idx = RunIndex(tmp, meta)
        if "rollups" in stages:
            t0 = time.perf_counter()
            p = sub("rollups")
            p(0.0, "rollups: day x pipeline x source x status x spot")
            import pyarrow.parquet as pq

            day = run_watched(duck, lambda: Q.cube(t, Q.DAY_DIMS).to_pyarrow(),
                              lambda f, s: p(0.2 * f, "per-day totals"), cancel, "per-day totals")
            idx.cube = day
            meta["timings_s"]["day"] = round(time.perf_counter() - t0, 2)
            if on_stage:  # the per-day views and the unfiltered KPIs can be drawn now
                on_stage("day", idx)
            # one scan for the cube and the histograms: cells (cube dims x flags x duration bucket),
            # then both folded from that small table
            cells_sql = con.compile(Q.cube_cells(t, buckets=True))
            run_watched(duck, lambda: con.raw_sql(f"CREATE OR REPLACE TEMP TABLE etl_desk_cells AS {cells_sql}"),
                        lambda f, s: p(0.2 + 0.75 * f, "rollups and duration histograms"), cancel, "rollups")
            cells = con.table("etl_desk_cells")
            con.to_parquet(Q.cube_from_cells(cells), str(tmp / "cube.parquet"))
            idx.cube = pq.read_table(tmp / "cube.parquet")
            meta["runs"] = int(pd.Series(idx.cube.column("runs").to_numpy()).sum())
            meta["cube_rows"] = idx.cube.num_rows
            meta["timings_s"]["cube"] = round(time.perf_counter() - t0, 2)
            if on_stage:  # the grouped views can be drawn now; percentiles follow with the histograms
                on_stage("cube", idx)
            con.to_parquet(Q.histogram_from_cells(cells), str(tmp / "hist.parquet"))
            con.raw_sql("DROP TABLE IF EXISTS etl_desk_cells")
            idx.hist = read_hist(tmp / "hist.parquet")
            meta["hist_rows"] = idx.hist.num_rows
            meta["stages"].append("rollups")
            meta["timings_s"]["rollups"] = round(time.perf_counter() - t0, 2)
            if on_stage:
                on_stage("rollups", idx)
        if "runs" in stages:
            t0 = time.perf_counter()
            a, b = spans["runs"][0], spans["pyramid" if "pyramid" in stages else "runs"][1]

            def p(f, text, a=a, b=b):
                report(a + (b - a) * max(0.0, min(f, 1.0)), text)
            p(0.0, "run order (sorting by run ID)")
            got = write_run_order(duck, con.compile(t), tmp, pyramid="pyramid" in stages, cancel=cancel,
                                  progress=p)
            meta["runs"] = got["runs"]
            meta["numeric_ids"] = got["numeric_ids"]
            meta["stages"].append("runs")
            meta["timings_s"]["runs"] = round(time.perf_counter() - t0, 2)
            if "pyramid" in stages:
                meta["pyramid_levels"] = got["pyramid_levels"]
                meta["pyramid_base"] = PYRAMID_BASE
                meta["stages"].append("pyramid")
            if on_stage:
                on_stage("runs", idx)
        con.disconnect()
        con = None
        shutil.rmtree(tmp / "spill", ignore_errors=True)
        if source.key() != key:  # a file changed while we read it: this index would be wrong
            raise OSError(f"{source.label}: the data changed while the index was built; open it again")
        meta["complete"] = True
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
        if final.exists():
            shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
    except BaseException:
        if con is not None:
            try:
                con.disconnect()
            except Exception:
                pass
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    report(1.0, "index complete")
    return RunIndex.load(final)
