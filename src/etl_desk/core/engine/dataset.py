"""Big synthetic histories: the realistic generator, day by day, into a hive-partitioned Parquet dataset.

``generate_dataset("runs/", RealisticSettings(runs=100_000_000, days=365))``
writes ``runs/month=2024-01/part-2024-01-01.parquet``, ... in bounded memory.

Each day of the history is one call of the project's realistic generator
(:func:`etl_desk.core.data.realistic.generate_realistic` with ``days=1``), with

* the day's runs: *runs* split evenly over the days (largest remainder, earlier
  days first);
* the day's seed: ``SeedSequence([seed, day]).generate_state(1)[0]``, so a day's
  runs depend only on (seed, settings, day): the same seed and settings give the
  same rows whatever the chunk size, and any day can be regenerated alone;
* run IDs made unique across days: ``<pipeline>-<YYYYMMDD>-<run #>-a<attempt>``.

Days are gathered into files of at most *chunk_runs* rows (never across a
month); file names sort in time order. Timestamps are written in microseconds
(Spark does not read nanosecond Parquet timestamps). The dataset is written to
``DIR.partial`` and renamed to DIR at the end: a killed run leaves no half
dataset under DIR.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from ._project import Cancelled, DataError, RealisticSettings, SettingsError, generate_realistic

#: Rows per file at most (and so the memory a chunk needs: about 0.5 KB a run while it is built).
DEFAULT_CHUNK_RUNS = 1_000_000
#: The realistic generator's per-call limit (RealisticSettings.runs max).
_MAX_RUNS_PER_DAY = 5_000_000


def runs_per_day(runs: int, days: int) -> np.ndarray:
    """*runs* split over *days* days: ``runs // days`` each, one more for the first ``runs % days`` days."""
    out = np.full(days, runs // days, dtype=np.int64)
    out[: runs % days] += 1
    return out


def day_seed(seed: int, day: int) -> int:
    """The seed of day *day* (0-based) of a history with seed *seed* (a uint32)."""
    return int(np.random.SeedSequence([int(seed), int(day)]).generate_state(1)[0])


def generate_day(settings: RealisticSettings, day: int, runs: int) -> pd.DataFrame:
    """The runs of day *day* (0-based) of the history *settings*, as a canonical DataFrame."""
    import pyarrow as pa
    import pyarrow.compute as pc

    date = pd.Timestamp(settings.start) + pd.Timedelta(days=day)
    s = replace(settings, runs=int(runs), days=1, start=date.strftime("%Y-%m-%d"), seed=day_seed(settings.seed, day))
    df = generate_realistic(s)
    ids = pa.array(df["run_id"].array)
    ids = pc.replace_substring_regex(ids, r"-(\d+-a\d+)$", f"-{date:%Y%m%d}-\\1")
    df["run_id"] = pd.arrays.ArrowStringArray(pa.chunked_array([ids.cast(pa.large_string())])) \
        if pd.StringDtype().storage == "pyarrow" else ids.to_pylist()
    return df


def _arrow(df: pd.DataFrame):
    import pyarrow as pa

    cols = {c: (df[c].astype("string") if isinstance(df[c].dtype, pd.CategoricalDtype) else df[c]) for c in df}
    tbl = pa.Table.from_pandas(pd.DataFrame(cols, copy=False), preserve_index=False)
    fields = [pa.field(f.name, pa.timestamp("us")) if pa.types.is_timestamp(f.type)
              else pa.field(f.name, pa.string()) if pa.types.is_large_string(f.type) else f for f in tbl.schema]
    return tbl.cast(pa.schema(fields), safe=False)


def generate_dataset(out_dir: str | os.PathLike, settings: RealisticSettings, chunk_runs: int = DEFAULT_CHUNK_RUNS,
                     progress=None, cancel=None) -> dict:
    """Write the realistic history *settings* (any number of runs) as a hive-partitioned Parquet dataset.

    ``progress(fraction, text)`` after each file; ``cancel()`` polled between
    days raises ``Cancelled`` (the partial folder is removed). Returns
    ``{"runs", "files", "days", "bytes"}``. Raises :class:`SettingsError` for bad
    settings or more than 5,000,000 runs a day, :class:`DataError` when *out_dir*
    exists and is not empty.

    Raises:
        ValueError: when *chunk_runs* < 1.
    """
    out = Path(out_dir)
    days = int(settings.days)
    per_day = runs_per_day(int(settings.runs), days)
    problems = replace(settings, runs=max(1, min(int(per_day.max()), _MAX_RUNS_PER_DAY))).validate()
    if per_day.max() > _MAX_RUNS_PER_DAY:
        problems.append(f"Runs: at most {_MAX_RUNS_PER_DAY:,} a day ({days:,} days given); add days")
    if problems:
        raise SettingsError(problems)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise DataError("the output folder exists and is not empty", file=str(out))
    if chunk_runs < 1:
        raise ValueError("chunk_runs must be at least 1")
    import pyarrow.parquet as pq

    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    report = progress or (lambda f, s: None)
    start = pd.Timestamp(settings.start)
    total = int(per_day.sum())
    done = files = 0
    try:
        day = 0
        while day < days:
            month = (start + pd.Timedelta(days=day)).strftime("%Y-%m")
            frames, rows, first = [], 0, day
            while day < days and (start + pd.Timedelta(days=day)).strftime("%Y-%m") == month \
                    and (not frames or rows + per_day[day] <= chunk_runs):
                if cancel is not None and cancel():
                    raise Cancelled("generation cancelled")
                if per_day[day]:
                    frames.append(generate_day(settings, day, int(per_day[day])))
                    rows += int(per_day[day])
                day += 1
            if not frames:
                continue
            df = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
            frames.clear()
            folder = partial / f"month={month}"
            folder.mkdir(exist_ok=True)
            name = f"part-{start + pd.Timedelta(days=first):%Y-%m-%d}.parquet"
            pq.write_table(_arrow(df), folder / name, row_group_size=256 * 1024, compression="snappy")
            del df
            done += rows
            files += 1
            report(done / total, f"{done:,} of {total:,} runs written")
        if out.exists():
            out.rmdir()
        os.replace(partial, out)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    size = sum(f.stat().st_size for f in out.rglob("*.parquet"))
    return {"runs": done, "files": files, "days": days, "bytes": size}
