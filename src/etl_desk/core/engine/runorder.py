"""The index's run order: every run sorted by run ID into one Parquet file, and the level-of-detail
pyramid over that order written in the same pass.

Why not ``COPY (... ORDER BY run_id)``: DuckDB's external sort of 100M wide rows keyed by ~36-byte
run IDs with long shared prefixes (``sap-fi-gl-extract-20250128-...``) spent ~80 % of the index
build. Here the sort is a range partition (one MSD-radix step) followed by in-memory sorts:

1. one narrow scan of the run IDs: how many there are, whether every one is a whole number
   (then they sort as numbers, :func:`.queries.run_key`), and a deterministic sample (about
   :data:`SAMPLE` IDs, chosen by hash) whose quantiles cut the key range into partitions of
   about :data:`PART_ROWS` runs;
2. one scan of every column, each run appended to its partition's Arrow IPC file (LZ4) in the
   build folder;
3. partition by partition, in key order: read it, sort it in memory (``pyarrow`` stable sort),
   append it to ``runs.parquet`` (row groups of ``ROW_GROUP`` runs) and feed the pyramid. Helper
   threads sort the next :data:`SORT_AHEAD` partitions while this one is written, and a helper
   thread fetches DuckDB's next batch while the scatter writes this one (both cores busy).

Memory: a partition is ~0.13 GB in Arrow at 750k runs; three are in flight. Disk: the partitions
take about twice the source's size until each is consumed (deleted as it is written).
Cancellation is polled between batches (about 1M runs) and partitions.
"""
from __future__ import annotations

import json
import math
import os
import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from . import queries as Q
from ._project import FAILED, Cancelled
from .engine import run_watched

#: Runs per block of the pyramid's finest level.
PYRAMID_BASE = 256
#: Rows per row group of runs.parquet (a page read decodes one group).
ROW_GROUP = 32_768
#: Runs per sort partition (about 0.13 GB in Arrow for 18 columns; three are in memory at once).
PART_ROWS = 750_000
#: Partitions sorted ahead of the one being written (each by its own thread).
SORT_AHEAD = 2
#: Run IDs sampled to choose the partition boundaries.
SAMPLE = 100_000
#: Rows per batch of the scatter scan.
BATCH = 1 << 19


def _pyramid_dtype():
    fields_ = [("runs", "<i8"), ("failed", "<i8")]
    for m in Q.METRICS:
        fields_ += [(f"{m}_max", "<f8"), (f"{m}_min", "<f8"), (f"{m}_sum", "<f8"), (f"{m}_fmax", "<f8"),
                    (f"{m}_fsum", "<f8")]
    return np.dtype(fields_)


PYRAMID_DTYPE = _pyramid_dtype()


class PyramidBuilder:
    """Fed the runs in run order (failed flags and metric values, any chunking), it keeps one block
    per :data:`PYRAMID_BASE` runs; :meth:`finish` pads the last block and writes every level."""

    def __init__(self, n: int):
        self.n = n
        self.base = np.zeros(-(-n // PYRAMID_BASE), dtype=PYRAMID_DTYPE)
        self.carry: dict | None = None
        self.k = 0  # blocks filled

    def add(self, f: np.ndarray, vals: dict) -> None:
        """Feed the next runs: *f* failed flags (bool), *vals* metric -> float64 values (NaN unknown)."""
        if self.carry is not None:
            f = np.r_[self.carry["f"], f]
            vals = {m: np.r_[self.carry[m], vals[m]] for m in Q.METRICS}
        full = len(f) // PYRAMID_BASE * PYRAMID_BASE
        self.carry = {"f": f[full:], **{m: v[full:] for m, v in vals.items()}}
        self._blocks(f[:full], {m: v[:full] for m, v in vals.items()}, PYRAMID_BASE)

    def _blocks(self, f, vals, last_runs):
        nb = len(f) // PYRAMID_BASE
        if not nb:
            return
        ff = f.reshape(nb, PYRAMID_BASE)
        blk = self.base[self.k:self.k + nb]
        blk["runs"] = PYRAMID_BASE
        blk["runs"][-1] = last_runs
        blk["failed"] = ff.sum(axis=1)
        for m, v in vals.items():
            vv = v.reshape(nb, PYRAMID_BASE)
            fv = np.where(ff, vv, np.nan)
            blk[f"{m}_max"] = np.fmax.reduce(vv, axis=1)
            blk[f"{m}_min"] = np.fmin.reduce(vv, axis=1)
            blk[f"{m}_sum"] = np.nansum(vv, axis=1)
            blk[f"{m}_fmax"] = np.fmax.reduce(fv, axis=1)
            blk[f"{m}_fsum"] = np.nansum(fv, axis=1)
        self.k += nb

    def finish(self, out: Path) -> int:
        """Pad the last block, write levels ``out/NN.npy`` (level L: blocks of PYRAMID_BASE * 2**L runs);
        return the number of levels."""
        if self.carry is not None and len(self.carry["f"]):
            real = len(self.carry["f"])
            pad = PYRAMID_BASE - real
            f = np.r_[self.carry["f"], np.zeros(pad, bool)]
            vals = {m: np.r_[self.carry[m], np.full(pad, np.nan)] for m in Q.METRICS}
            self._blocks(f, vals, real)
        out.mkdir(parents=True, exist_ok=True)
        level, L = self.base[:self.k], 0
        while True:
            np.save(out / f"{L:02d}.npy", level)
            if len(level) <= 1:
                break
            if len(level) % 2:
                pad = np.zeros(1, dtype=PYRAMID_DTYPE)
                for m in Q.METRICS:
                    for s in ("max", "min", "fmax"):
                        pad[f"{m}_{s}"] = np.nan
                level = np.r_[level, pad]
            a, b = level[0::2], level[1::2]
            up = np.zeros(len(a), dtype=PYRAMID_DTYPE)
            up["runs"] = a["runs"] + b["runs"]
            up["failed"] = a["failed"] + b["failed"]
            for m in Q.METRICS:
                up[f"{m}_max"] = np.fmax(a[f"{m}_max"], b[f"{m}_max"])
                up[f"{m}_min"] = np.fmin(a[f"{m}_min"], b[f"{m}_min"])
                up[f"{m}_sum"] = a[f"{m}_sum"] + b[f"{m}_sum"]
                up[f"{m}_fmax"] = np.fmax(a[f"{m}_fmax"], b[f"{m}_fmax"])
                up[f"{m}_fsum"] = a[f"{m}_fsum"] + b[f"{m}_fsum"]
            level, L = up, L + 1
        return L + 1


class _Failed:
    def __init__(self, exc):
        self.exc = exc


def _prefetched(it, depth: int = 2):
    """Iterate *it* in a helper thread, up to *depth* items ahead, so the producer's work (DuckDB
    scanning and decoding Parquet on its own threads) overlaps the consumer's. Closing the generator
    stops the helper after its current item."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def put(x):
        while not stop.is_set():
            try:
                q.put(x, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run():
        try:
            for x in it:
                if not put(x):
                    return
            put(end)
        except BaseException as exc:  # handed to the consumer
            put(_Failed(exc))

    th = threading.Thread(target=run, daemon=True)
    th.start()
    try:
        while True:
            x = q.get()
            if x is end:
                return
            if isinstance(x, _Failed):
                raise x.exc
            yield x
    finally:
        stop.set()
        th.join()


def _sql_str(s: str) -> str:
    return "'" + str(s).replace("'", "''") + "'"


def _key_sql(numeric: bool) -> str:
    return "CAST(run_id AS BIGINT)" if numeric else "run_id"


def _partition_sql(bounds: list, numeric: bool) -> str:
    """A CASE tree (depth log2 of the partition count) giving each run its partition number."""
    key = _key_sql(numeric)
    lit = (lambda b: str(int(b))) if numeric else _sql_str

    def tree(lo, hi):
        if hi - lo == 1:
            return str(lo)
        mid = (lo + hi) // 2
        return f"CASE WHEN {key} < {lit(bounds[mid - 1])} THEN {tree(lo, mid)} ELSE {tree(mid, hi)} END"

    return tree(0, len(bounds) + 1)


def _sort_key(tbl, numeric: bool):
    import pyarrow as pa
    import pyarrow.compute as pc

    col = tbl.column("run_id")
    return pc.cast(col, pa.int64()) if numeric else col


def write_run_order(duck, table_sql: str, folder: Path, pyramid: bool = True, cancel=None, progress=None) -> dict:
    """Write ``folder/runs.parquet`` (every run of the query *table_sql* on DuckDB connection *duck*,
    in natural run-ID order) and, when *pyramid*, ``folder/pyramid/NN.npy``.

    Returns ``{"runs", "numeric_ids", "pyramid_levels", "group_last"}`` (``group_last``: the run ID
    of the last run of each row group, for binary search). Raises ``Cancelled`` when ``cancel()``
    returns True (partition files are removed; the caller removes *folder*).
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.ipc as ipc
    import pyarrow.parquet as pq

    report = progress or (lambda f, s: None)
    try:  # hand freed Arrow memory back to the system at once: the process must stay under its RSS budget
        pa.jemalloc_set_decay_ms(0)
    except (NotImplementedError, AttributeError, pa.ArrowException):
        pass

    def check():
        if cancel is not None and cancel():
            raise Cancelled("index build cancelled")

    check()
    src = f"({table_sql}) AS _runs"
    # 1. narrow scan: count, whole-number IDs, and a hash-chosen sample of about SAMPLE IDs
    def query(sql):
        return run_watched(duck, lambda: duck.sql(sql).fetchall()[0], None, cancel, "run order")

    n = int(query(f"SELECT count(*) FROM {src}")[0])
    every = max(1, n // SAMPLE)
    row = query(f"SELECT count(*) FILTER (WHERE regexp_matches(run_id, {_sql_str(Q.INT_ID)})), "
                f"list(run_id) FILTER (WHERE hash(run_id) % {every} = 0) FROM {src}")
    numeric = n > 0 and int(row[0]) == n
    sample = [int(x) for x in row[1]] if numeric else list(row[1] or [])
    sample.sort()
    parts = max(1, math.ceil(n / PART_ROWS))
    bounds = []
    if parts > 1 and sample:
        for i in range(1, parts):
            b = sample[min(len(sample) - 1, (i * len(sample)) // parts)]
            if not bounds or b > bounds[-1]:
                bounds.append(b)
    parts = len(bounds) + 1
    report(0.02, "run order: partitioning by run ID")
    check()

    # 2. scatter every run into its partition's IPC file
    tmp = folder / "sort-parts"
    tmp.mkdir(parents=True, exist_ok=True)
    writers = []
    try:
        reader = duck.sql(f"SELECT *, ({_partition_sql(bounds, numeric)})::INTEGER AS _p FROM {src}"
                          ).to_arrow_reader(BATCH)
        schema = None
        seen = 0
        opts = ipc.IpcWriteOptions(compression="lz4")
        for batch in _prefetched(reader):
            check()
            if schema is None:
                schema = batch.schema.remove(batch.schema.get_field_index("_p"))
                writers = [ipc.new_file(str(tmp / f"{i:04d}.arrow"), schema, options=opts) for i in range(parts)]
            p = batch.column("_p")
            if parts == 1:
                writers[0].write_batch(batch.drop_columns(["_p"]))
            else:
                order = pc.sort_indices(p)
                sb = batch.take(order).drop_columns(["_p"])
                counts = np.bincount(p.to_numpy(zero_copy_only=False), minlength=parts)
                off = 0
                for i, c in enumerate(counts):
                    if c:
                        writers[i].write_batch(sb.slice(off, int(c)))
                        off += int(c)
            seen += batch.num_rows
            report(0.02 + 0.43 * seen / max(n, 1), "run order: partitioning by run ID")
        for w in writers:
            w.close()
        writers = []
        if schema is None:  # no runs at all
            schema = reader.schema.remove(reader.schema.get_field_index("_p"))
        del reader  # DuckDB's result (and its buffers) can go before the sort

        # 3. sort each partition in memory, append to runs.parquet, feed the pyramid
        def load(i):
            path = tmp / f"{i:04d}.arrow"
            if not path.exists():
                return None
            with pa.memory_map(str(path)) as src_:
                t = ipc.open_file(src_).read_all()
            t = t.take(pc.sort_indices(_sort_key(t, numeric)))  # a copy: the mapping can go
            os.remove(path)
            return t

        pyr = PyramidBuilder(n) if pyramid else None
        group_last: list[str] = []
        written = 0
        with pq.ParquetWriter(str(folder / "runs.parquet"), schema, compression="snappy") as pw, \
                ThreadPoolExecutor(max_workers=SORT_AHEAD) as ex:
            ahead = {i: ex.submit(load, i) for i in range(min(SORT_AHEAD, parts))}
            for i in range(parts):
                try:
                    check()
                except Cancelled:
                    for f in ahead.values():
                        f.cancel()
                    raise
                t = ahead.pop(i).result()
                if i + SORT_AHEAD < parts:
                    ahead[i + SORT_AHEAD] = ex.submit(load, i + SORT_AHEAD)
                if t is None or t.num_rows == 0:
                    continue
                pw.write_table(t, row_group_size=ROW_GROUP)
                ids = t.column("run_id")
                group_last += [str(ids[j].as_py()) for j in range(ROW_GROUP - 1, t.num_rows, ROW_GROUP)]
                if t.num_rows % ROW_GROUP:
                    group_last.append(str(ids[t.num_rows - 1].as_py()))
                if pyr is not None:
                    f = pc.fill_null(pc.equal(t.column("status"), FAILED), False).to_numpy(zero_copy_only=False)
                    vals = {m: t.column(m).to_numpy(zero_copy_only=False).astype(np.float64) for m in Q.METRICS}
                    pyr.add(np.asarray(f, dtype=bool), vals)
                written += t.num_rows
                del t
                report(0.45 + 0.55 * written / max(n, 1), "run order: sorting and writing")
        levels = pyr.finish(folder / "pyramid") if pyr is not None and written else 0
    finally:
        for w in writers:
            try:
                w.close()
            except Exception:
                pass
        for f in tmp.glob("*.arrow"):
            f.unlink(missing_ok=True)
        try:
            tmp.rmdir()
        except OSError:
            pass
    (folder / "run_groups.json").write_text(json.dumps(group_last))
    return {"runs": written, "numeric_ids": bool(numeric), "pyramid_levels": levels, "group_last": group_last}
