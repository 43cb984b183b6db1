"""Where the runs lie and how an engine reaches them: sources, connections, the canonical view.

A :class:`Source` is a Parquet file, a folder of Parquet or CSV files (searched
recursively; hive-partitioned folders such as ``month=2025-01/`` as Spark and
Databricks write them), or an in-memory canonical DataFrame. Headers may be the
canonical names (``run_id``) or the display labels (``Job ID``); optional columns
may be absent. :func:`canonical` turns whatever is there into the canonical
columns with canonical types, as an Ibis expression, so every query reads the
files where they lie and nothing is materialised as Python objects.

Connections: :func:`connect_duckdb` (embedded, with ``memory_limit``, ``threads``
and a spill ``temp_directory``) and :func:`connect_spark` (local ``local[2]`` or
a Spark Connect URL ``sc://host:port``; pyspark is the optional ``[spark]`` extra
and needs a Java runtime).
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ._project import BY_NAME, COLUMN_NAMES, NAMES_BY_LABEL, DataError

#: Ibis type of each canonical column.
IBIS_TYPES = {"string": "string", "category": "string", "datetime": "timestamp", "float": "float64",
              "int": "int64", "bool": "boolean"}
_DATA_SUFFIXES = (".parquet", ".csv")


@dataclass
class Source:
    """What to open: ``kind`` is "parquet", "csv" or "dataframe"; ``files`` are absolute paths in
    a fixed (sorted) order; ``df`` is the canonical DataFrame of a "dataframe" source."""

    kind: str
    files: list[str] = field(default_factory=list)
    root: str = ""
    df: pd.DataFrame | None = None
    hive: bool = False

    @property
    def label(self) -> str:
        """What to call the data in messages: its root path, ``"in-memory table"`` for a DataFrame source, else ``""``.
        """
        return self.root or ("in-memory table" if self.df is not None else "")

    def fingerprint(self) -> dict:
        """The identity of the data: each file's path, size and mtime (ns). Raises OSError when a file is gone.

        An in-memory table has no stable identity and gets no stored index.

        Returns ``{"kind", "root", "files": [[path, size in bytes, mtime in ns], ...]}``.

        Raises:
            ValueError: for an in-memory (``"dataframe"``) source.
            OSError: when a file is gone or cannot be read (from :func:`os.stat`).
        """
        if self.kind == "dataframe":
            raise ValueError("an in-memory table has no file fingerprint")
        out = []
        for f in self.files:
            st = os.stat(f)
            out.append([f, st.st_size, st.st_mtime_ns])
        return {"kind": self.kind, "root": self.root, "files": out}

    def key(self) -> str:
        """A short hash of :meth:`fingerprint`: changes when any file is added, removed or changed."""
        blob = json.dumps(self.fingerprint(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:24]

    def root_key(self) -> str:
        """A short hash of the source's location only (its indexes share one folder)."""
        return hashlib.sha256(self.root.encode()).hexdigest()[:16]


def open_source(obj) -> Source:
    """A :class:`Source` for a path (file or folder) or a canonical DataFrame.

    Raises :class:`DataError` when the path does not exist, holds no Parquet or
    CSV file, or mixes the two formats.
    """
    if isinstance(obj, pd.DataFrame):
        return Source("dataframe", df=obj)
    p = Path(obj).expanduser()
    if not p.exists():
        raise DataError("no such file or folder", file=str(obj))
    p = p.resolve()
    if p.is_file():
        suf = p.suffix.lower()
        if suf not in _DATA_SUFFIXES:
            raise DataError(f"the engine reads Parquet or CSV files, not {suf or 'this file'}", file=str(obj))
        return Source(suf[1:], [str(p)], str(p))
    files = sorted(str(f) for f in p.rglob("*") if f.is_file() and f.suffix.lower() in _DATA_SUFFIXES
                   and not any(part.startswith((".", "_")) for part in f.relative_to(p).parts))
    if not files:
        raise DataError("no Parquet or CSV files in this folder", file=str(obj))
    kinds = {Path(f).suffix.lower() for f in files}
    if len(kinds) > 1:
        raise DataError("the folder mixes Parquet and CSV files; give one kind", file=str(obj))
    hive = any("=" in part for f in files for part in Path(f).relative_to(p).parts[:-1])
    return Source(kinds.pop()[1:], files, str(p), hive=hive)


# --------------------------------------------------------------------------- connections

def connect_duckdb(memory_limit: str = "1.5GB", threads: int = 2, temp_directory: str | None = None):
    """An Ibis DuckDB backend (in-process, in-memory database) with the given caps.

    *memory_limit* is DuckDB's buffer-manager cap (e.g. "1.5GB"); sorts, joins and
    aggregates beyond it spill to *temp_directory* (default: DuckDB's own
    ``.tmp`` beside the database, here a folder in the system temp dir).
    """
    import ibis
    import tempfile

    con = ibis.duckdb.connect(threads=int(threads), memory_limit=str(memory_limit))
    tmp = temp_directory or os.path.join(tempfile.gettempdir(), "etl-desk-duckdb")
    os.makedirs(tmp, exist_ok=True)
    con.raw_sql(f"SET temp_directory = '{_q(tmp)}'")
    con.raw_sql("SET preserve_insertion_order = false")
    return con


def connect_spark(remote: str | None = None, driver_memory: str = "4g", cores: int = 2):
    """An Ibis PySpark backend: Spark Connect when *remote* (``sc://...``) is given, else ``local[cores]``.

    Raises :class:`DataError` with an install hint when pyspark is missing.
    The session runs in UTC (timestamps are naive UTC), with the UI off.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise DataError("the Spark engine needs pyspark and a Java runtime: pip install 'etl-desk[spark]' "
                        "(and e.g. apt-get install openjdk-17-jre-headless)") from None
    import ibis

    b = SparkSession.builder.appName("etl-desk")
    if remote:
        b = b.remote(remote)
    else:
        b = (b.master(f"local[{int(cores)}]").config("spark.driver.memory", driver_memory)
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.shuffle.partitions", str(max(2, cores * 2))))
    b = b.config("spark.sql.session.timeZone", "UTC")
    session = b.getOrCreate()
    if not remote:  # a Spark Connect session has no SparkContext
        session.sparkContext.setLogLevel("ERROR")
    return ibis.pyspark.connect(session)


def _q(s: str) -> str:
    return str(s).replace("'", "''")


def register(con, backend: str, source: Source, name: str = "etl_desk_raw"):
    """Make *source* a table of *con* named *name* (no copy of Parquet/CSV data) and return it (Ibis table)."""
    if source.kind == "dataframe":

        tbl = _arrow_of(source.df)
        if backend == "duckdb":
            con.con.register(name, tbl)
            return con.table(name)
        session = con._session  # Ibis' PySpark backend keeps the SparkSession here
        from pyspark.sql.pandas.types import from_arrow_schema

        try:  # pyspark >= 4: straight from Arrow (nulls stay null)
            sdf = session.createDataFrame(tbl)
        except (TypeError, ValueError):  # pyspark 3.5: from pandas, with NaN as null (NaN is a value in Spark)
            pdf = tbl.to_pandas()
            pdf = pdf.astype(object).where(pdf.notna(), None)
            sdf = session.createDataFrame(pdf, schema=from_arrow_schema(tbl.schema))
        sdf.createOrReplaceTempView(name)
        return con.table(name)
    if backend == "duckdb":
        files = "[" + ", ".join(f"'{_q(f)}'" for f in source.files) + "]"
        if source.kind == "parquet":
            rel = f"read_parquet({files}, hive_partitioning = {str(source.hive).lower()}, union_by_name = true)"
        else:
            rel = f"read_csv({files}, header = true, union_by_name = true, hive_partitioning = " \
                  f"{str(source.hive).lower()})"
        con.raw_sql(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM {rel}")
        return con.table(name)
    # Spark: one reader over the root folder discovers hive partitions itself
    path = source.root if source.hive or len(source.files) > 1 else source.files[0]
    if source.kind == "parquet":
        return con.read_parquet(path, table_name=name)
    return con.read_csv(path, table_name=name, header=True, inferSchema=True)


def _arrow_of(df: pd.DataFrame):
    """The canonical DataFrame as an Arrow table with plain string columns and microsecond timestamps."""
    import pyarrow as pa

    cols = {}
    for c in df.columns:
        s = df[c]
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = s.astype("string")
        cols[c] = s
    tbl = pa.Table.from_pandas(pd.DataFrame(cols, copy=False), preserve_index=False)
    arrow_types = {"string": pa.string(), "category": pa.string(), "datetime": pa.timestamp("us"),
                   "float": pa.float64(), "int": pa.int64(), "bool": pa.bool_()}
    fields = []
    for f in tbl.schema:
        if pa.types.is_null(f.type):  # an all-empty column: its canonical type (Spark cannot infer one)
            kind = BY_NAME[f.name].kind if f.name in BY_NAME else "string"
            fields.append(pa.field(f.name, arrow_types[kind]))
        elif pa.types.is_timestamp(f.type):
            fields.append(pa.field(f.name, pa.timestamp("us")))
        elif pa.types.is_large_string(f.type):
            fields.append(pa.field(f.name, pa.string()))
        else:
            fields.append(f)
    return tbl.cast(pa.schema(fields), safe=False)


def canonical(raw):
    """The canonical runs table over any raw table *raw*: canonical names, types and column order.

    Columns are found by canonical name or display label; absent optional columns
    become typed NULLs (``attempt`` 1, ``spot`` false are *not* invented: they stay
    NULL and every query reads NULL as "first attempt" / "on demand"). Raises
    :class:`DataError` naming a missing required column.
    """
    import ibis

    have = {c: c for c in raw.columns}
    for c in raw.columns:
        name = NAMES_BY_LABEL.get(c)
        if name and name not in have:
            have[name] = c
    cols = {}
    for name in COLUMN_NAMES:
        col = BY_NAME[name]
        typ = IBIS_TYPES[col.kind]
        if name in have:
            cols[name] = raw[have[name]].cast(typ)
        elif name == "end_time" and "start_time" in have and "duration_min" in have:
            continue  # derived below
        elif col.required:
            raise DataError(f"the data has no column {name!r} ({col.label})")
        else:
            cols[name] = ibis.null().cast(typ)
    t = raw.select(**cols)
    if "end_time" not in t.columns:
        t = t.mutate(end_time=t.start_time + (t.duration_min * 60_000_000).cast("int64").as_interval("us"))
    return t.select(*COLUMN_NAMES)
