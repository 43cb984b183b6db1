"""The engine object the window and the command line talk to: one data source, one backend.

>>> eng = Engine.open("runs/", backend="duckdb")            # Parquet/CSV file or folder, or a DataFrame
>>> eng.kpis(Rule(statuses={"Failed"}))                       # dict, keys of compute_kpis + notes
>>> eng.rollup("day")                                         # DataFrame, one row per day
>>> eng.envelope(0, eng.n_runs, 1000, "cost_usd")             # Envelope of 1000 buckets
>>> eng.page("cost_usd", after=None, n=100, descending=True)  # Page (rows + the key of the next page)

Every method takes an optional :class:`~.rules.Rule` (the filter, or the
selection, as a rule) and the optional ``progress(fraction, text)`` /
``cancel() -> bool`` callbacks; ``cancel`` is polled while a query runs and
raises the project's ``Cancelled``. Queries run where the data lies; only their
(small) results come back as pandas/NumPy. With an index (:mod:`.index`),
answers the rollup cube can give come from it in milliseconds.

Size: the Engine facade (~650 lines) is one job: every query the window and the CLI ask, with the
same progress/cancel and memory-limit handling; the query definitions are in ``queries``, the index in
``index``. Next cut: KPI assembly into ``engine/kpis.py``.
"""
from __future__ import annotations

import contextlib
import math
import threading
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import bars
from . import queries as Q
from . import sketch
from ._project import GB_PER_TB, KPI_KEYS, AnomalyThresholds, Cancelled, retry_unknown_reason
from .backends import Source, canonical, connect_duckdb, connect_spark, open_source, register
from .rules import Rule

#: Above this many runs, quantiles come from histograms unless exact ones are asked for: exact
#: per-pipeline medians need ~80-100 bytes a run (8-10 GB at 100M, ../shared/ENGINE-MEASUREMENTS.md).
EXACT_QUANTILE_LIMIT = 10_000_000
MAD_TO_SD = 1.4826  # MAD -> standard deviation of a normal distribution


@dataclass
class EngineSettings:
    """Caps and choices of an engine.

    ``memory_limit`` / ``threads`` / ``temp_directory``: DuckDB's (see
    :func:`.backends.connect_duckdb`); ``quantiles``: "exact", "approx"
    (histograms, error stated in :mod:`.sketch`) or "auto" (exact up to
    :data:`EXACT_QUANTILE_LIMIT` runs); ``spark_remote``: a Spark Connect URL.
    """

    memory_limit: str = "1.5GB"
    threads: int = 2
    temp_directory: str | None = None
    quantiles: str = "auto"
    spark_remote: str | None = None
    spark_driver_memory: str = "4g"


@dataclass
class Envelope:
    """Bars ``lo..hi-1`` of a sort order in ``len(runs)`` buckets (arrays of equal length).

    ``first[i]`` is the position of bucket i's first bar; ``runs``/``failed_runs`` count
    its bars; ``max``/``min``/``sum`` of the metric; ``failed_max`` the largest value
    of a failed bar (NaN when none); ``failed_sum`` the sum of the metric over the failed
    bars (None from an index built before it was kept). The window draws each bucket as
    the mean ``sum / runs`` with the failed part ``failed_sum / runs`` on it, so the
    failed colour takes the failed share of the drawn length. ``exact`` is False when
    bucket edges were rounded to the index pyramid's grain (``grain`` bars).
    """

    first: np.ndarray
    runs: np.ndarray
    failed_runs: np.ndarray
    max: np.ndarray
    min: np.ndarray
    sum: np.ndarray
    failed_max: np.ndarray
    exact: bool = True
    grain: int = 1
    failed_sum: np.ndarray | None = None

    @classmethod
    def empty(cls) -> "Envelope":
        """No bars (a range past the last run)."""
        n, e = np.empty(0, np.int64), np.empty(0)
        return cls(n, n, n, e, e, e, e, failed_sum=e)


@dataclass
class Page:
    """Rows of one table page (canonical columns) and ``next_key`` to pass as ``after`` for the next one."""

    rows: pd.DataFrame
    next_key: tuple | None
    sort_key: str = "run_id"
    descending: bool = False


@dataclass
class Scores:
    """Robust z of every run's duration against its pipeline's baseline (see :meth:`Engine.anomaly_scores`).

    ``stats``: per pipeline key, a, b (fit ``duration = a + b*GB``), med, mad,
    spread, n_base, scored; ``flagged_runs``: count of runs with z above the
    threshold; ``top``: the most anomalous runs (run_id, job_name, start_time,
    duration_min, data_processed_gb, cost_usd, z); ``runs``: a lazy Ibis table of
    every run with ``z`` and ``flagged`` (write it with :meth:`Engine.write`);
    ``method``: "exact" or "histogram (median within ±DELTA/2 in log units)".
    """

    stats: pd.DataFrame
    flagged_runs: int
    top: pd.DataFrame
    runs: object
    method: str
    threshold: float


class Engine:
    """One data source on one backend ("duckdb" or "spark"). Create with :meth:`open`."""

    def __init__(self, con, backend: str, table, source: Source, settings: EngineSettings, index=None):
        self.con = con
        self.backend = backend
        self.t = table
        self.source = source
        self.settings = settings
        self.index = index
        self._n: int | None = None
        self._numeric: bool | None = None
        self._attempts: int | None = None  # runs of the whole source with an attempt recorded
        self._cube = None
        self._hist = None
        self._run_order = None  # the index's runs.parquet with each run's position (see _in_run_order)
        if index is not None:
            self.attach_index(index)

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, data, backend: str = "duckdb", settings: EngineSettings | None = None, index=None) -> "Engine":
        """Open *data* (a path, a :class:`Source` or a canonical DataFrame) on *backend*.

        *index*: a built :class:`~.index.RunIndex` to answer from. Raises
        :class:`DataError` (bad source, missing required column) or, for Spark,
        DataError with an install hint when pyspark is missing.

        Raises:
            ValueError: for a *backend* other than ``"duckdb"`` or ``"spark"``.
        """
        settings = settings or EngineSettings()
        source = data if isinstance(data, Source) else open_source(data)
        if backend == "duckdb":
            con = connect_duckdb(settings.memory_limit, settings.threads, settings.temp_directory)
        elif backend == "spark":
            con = connect_spark(settings.spark_remote, settings.spark_driver_memory, settings.threads)
        else:
            raise ValueError(f"unknown backend {backend!r}; use duckdb or spark")
        raw = register(con, backend, source)
        return cls(con, backend, canonical(raw), source, settings, index)

    def attach_index(self, index) -> None:
        """Answer from *index* (:class:`~.index.RunIndex`) from now on: its cube and histograms are
        loaded into the backend (DuckDB: a few MB in memory)."""
        self.index = index
        self._run_order = None
        if index is None or self.backend != "duckdb":
            self._cube = self._hist = None
            return
        if index.cube is not None:
            self.con.con.register("etl_desk_cube", index.cube)
            self._cube = self.con.table("etl_desk_cube")
        if index.hist is not None:
            self.con.con.register("etl_desk_hist", index.hist)
            self._hist = self.con.table("etl_desk_hist")
        if "runs" in index.meta:  # a partly built index (per-day cube only) has no count yet
            self._n = index.runs
        if "numeric_ids" in index.meta:
            self._numeric = bool(index.meta["numeric_ids"])

    def close(self) -> None:
        """Disconnect from the backend (best effort: a failure to close is ignored); the engine is unusable after.
        """
        try:
            self.con.disconnect()
        except Exception:  # pragma: no cover - closing is best effort
            pass

    # ------------------------------------------------------------------ running
    def execute(self, expr, progress=None, cancel=None, text: str = "query") -> pd.DataFrame:
        """Run an Ibis expression; return its (small) result as a DataFrame.

        ``cancel()`` is polled every 0.1 s (DuckDB: the query is interrupted) and
        raises ``Cancelled``; ``progress(fraction, text)`` reports DuckDB's query progress.
        """
        if (progress is None and cancel is None) or self.backend != "duckdb":
            if cancel is not None and cancel():
                raise Cancelled(f"{text} cancelled")
            return expr.to_pyarrow().to_pandas()
        return self._run_watched(lambda: expr.to_pyarrow().to_pandas(), progress, cancel, text)

    def _run_watched(self, fn, progress, cancel, text):
        return run_watched(self.con.con, fn, progress, cancel, text)

    def write(self, expr, path: str) -> None:
        """Write an Ibis expression's result to a Parquet file *path* (streamed by the backend)."""
        self.con.to_parquet(expr, path)

    # ------------------------------------------------------------------ sizes
    @property
    def n_runs(self) -> int:
        """Number of runs (one COUNT(*), cached)."""
        if self._n is None:
            self._n = int(self.t.count().to_pyarrow().as_py())
        return self._n

    @property
    def numeric_ids(self) -> bool:
        """True when every run ID is a whole number, so run IDs sort as numbers ("9" < "10"), as in the
        in-memory dashboard (:meth:`~etl_desk.core.dashboard.view.Dataset._run_rank`); from the index when
        it says, else one scan of the run IDs (cached)."""
        if self._numeric is None:
            meta = self.index.meta if self.index is not None else {}
            if "numeric_ids" in meta:
                self._numeric = bool(meta["numeric_ids"])
            else:
                c = self.execute(Q.id_counts(self.t))
                self._numeric = bool(int(c["runs"].iat[0]) > 0 and int(c["int_ids"].iat[0]) == int(c["runs"].iat[0]))
        return self._numeric

    @property
    def attempts_recorded(self) -> int:
        """Runs of the whole source whose attempt is recorded (one COUNT(attempt), cached): 0 for a
        source without an attempt column, whose retries are then unknown, not 0."""
        if self._attempts is None:
            self._attempts = int(self.t.attempt.count().to_pyarrow().as_py() or 0)
        return self._attempts

    def count(self, rule: Rule | None = None) -> int:
        """Runs selected by *rule* (all runs when None)."""
        if rule is None or rule.is_all:
            return self.n_runs
        if self._use_cube(rule):
            c = self._filter_cube(rule)
            return int(c.runs.sum().fill_null(0).to_pyarrow().as_py())
        return int(rule.apply(self.t).count().to_pyarrow().as_py())

    def _exact(self, rows: int) -> bool:
        q = self.settings.quantiles
        if q not in ("auto", "exact", "approx"):
            raise ValueError(f"unknown quantile mode {q!r}")
        return q == "exact" or (q == "auto" and rows <= EXACT_QUANTILE_LIMIT)

    def _filter_cube(self, rule: Rule):
        p = rule.cube_predicate(self._cube)
        return self._cube if p is None else self._cube.filter(p)

    def answers_from_index(self, rule: Rule | None = None, grain: str | None = None) -> bool:
        """True when :meth:`kpis`, :meth:`count` and :meth:`rollup` (*grain*) for *rule* come from the
        index's cube (milliseconds; the window may ask on its UI thread), False when they scan the runs."""
        return self._use_cube(rule, grain)

    def _use_cube(self, rule: Rule | None, grain: str | None = None) -> bool:
        """True when the index's cube (maybe still the coarse day x status one) can answer *rule* (and *grain*)."""
        return self._cube is not None and cube_answers(self._cube.columns, rule, grain)

    # ------------------------------------------------------------------ KPIs
    def kpis(self, rule: Rule | None = None, progress=None, cancel=None, quantiles: bool = True) -> dict:
        """The KPIs of :func:`~etl_desk.core.insights.kpis.compute_kpis` for the runs of *rule*.

        Differences, by design: ``total_cost_usd`` and the other money figures are
        None (not 0) when no selected run has a known cost; ``notes`` says how the
        duration percentiles were computed ("exact" or the histogram's stated
        error) and how many runs have no cost. From the index: sums from the cube,
        percentiles from its histograms. *quantiles* False leaves the percentiles out (None, noted
        "being computed"): the cube's sums alone take milliseconds, the histograms of a filter at
        100M runs a few hundred (the window asks for those on a worker).
        """
        rule = rule or Rule()
        if self._use_cube(rule):
            c = self._filter_cube(rule)
            sums = self.execute(Q.kpi_sums_from_cube(c), progress, cancel, "KPIs").iloc[0].copy()
            # the cube has no attempt count: exact when the source records every attempt or none
            rec = self.attempts_recorded
            sums["attempt_known"] = (0 if rec == 0 else int(sums["runs"] or 0) if rec == self.n_runs
                                     else None)
            h = self._hist
            if not quantiles:
                qs = ({}, "being computed")
            elif h is None:
                qs = ({}, "not yet known (the index is still building its histograms)")
            else:
                hp = rule.cube_predicate(h)
                h = h if hp is None else h.filter(hp)
                qs = _hist_quantiles(self.execute(h.group_by("bucket").aggregate(n=h.n.sum()), None, cancel))
        else:
            t = rule.apply(self.t)
            sums = self.execute(Q.kpi_sums(t), progress, cancel, "KPIs").iloc[0]
            if self._exact(int(sums["runs"])):
                qrow = self.execute(Q.duration_quantiles_exact(t), None, cancel).iloc[0]
                qs = ({0.5: qrow["q50"], 0.9: qrow["q90"], 0.95: qrow["q95"]}, "exact")
            else:
                hist = self.execute(Q.duration_histogram(t), None, cancel, "percentiles")
                qs = _hist_quantiles(hist)
        return kpis_from_sums(sums, *qs)

    # ------------------------------------------------------------------ rollups
    def rollup(self, grain: str, rule: Rule | None = None, progress=None, cancel=None) -> pd.DataFrame:
        """Totals per *grain* (:data:`.queries.GRAINS`), one row per key in key order.

        Columns: key, runs, failed_runs, cost_known, cost_usd, failed_cost_usd,
        data_processed_gb, failed_data_processed_gb, duration_min,
        failed_duration_min (money as float dollars, exact sums; NaN cost when a
        key has no known cost). Raises ValueError for an unknown grain.
        """
        if grain not in Q.GRAINS:
            raise ValueError(f"unknown grain {grain!r}; use one of: {', '.join(Q.GRAINS)}")
        if self._use_cube(rule, grain):
            expr = Q.rollup_from_cube(self._filter_cube(rule or Rule()), grain)
        else:
            expr = Q.rollup((rule or Rule()).apply(self.t), grain)
        df = self.execute(expr, progress, cancel, f"per-{grain} totals")
        for c in ("cost_usd", "failed_cost_usd"):
            df[c] = df[c].astype("float64")
        for c in ("runs", "failed_runs", "cost_known"):
            df[c] = df[c].astype("int64")
        return df.reset_index(drop=True)

    # ------------------------------------------------------------------ baselines and anomalies
    def baselines(self, rule: Rule | None = None, progress=None, cancel=None) -> pd.DataFrame:
        """Per pipeline: runs, baseline runs, duration median / MAD / p90 / p95 (baseline runs) and the
        volume slope (minutes per GB, OLS over baseline runs with a known volume; NaN without volume).

        Quantiles exact up to :data:`EXACT_QUANTILE_LIMIT` runs, else from histograms (``method`` column).
        """
        t = (rule or Rule()).apply(self.t)
        fit = self._fit(t, cancel)
        b = Q.baseline_runs(t)
        b = b.mutate(key=Q.pipeline_key(b))
        tk = t.mutate(key=Q.pipeline_key(t))
        counts = self.execute(tk.group_by("key").aggregate(runs=tk.count()), progress, cancel, "baselines")
        n_total = int(counts["runs"].sum())
        if self._exact(n_total):
            med = self.execute(b.group_by("key").aggregate(median=b.duration_min.median()), None, cancel)
            j = b.left_join(self._small(med, "etl_desk_med"), "key")
            j = j.mutate(dev=(j.duration_min - j.median).abs())
            mad = self.execute(j.group_by("key").aggregate(mad=j.dev.median()), None, cancel)
            qs = self.execute(b.group_by("key").aggregate(p90=b.duration_min.quantile(0.9),
                                                          p95=b.duration_min.quantile(0.95)), None, cancel)
            out = med.merge(mad, on="key").merge(qs, on="key")
            method = "exact"
        else:
            h = self.execute(Q.duration_histogram(b, ("key",)), None, cancel, "baselines")
            rows = []
            for key, g in h.groupby("key", sort=False):
                v, _ = sketch.quantiles_from_counts(g["bucket"].to_numpy(), g["n"].to_numpy(), [0.5, 0.9, 0.95])
                rows.append({"key": key, "median": v[0], "p90": v[1], "p95": v[2]})
            out = pd.DataFrame(rows, columns=["key", "median", "p90", "p95"])
            dev = b.left_join(self._small(out[["key", "median"]], "etl_desk_med"), "key")
            dev = dev.mutate(dev=(dev.duration_min - dev.median).abs())
            hd = self.execute(Q.duration_histogram(dev.mutate(duration_min=dev.dev), ("key",)), None, cancel)
            mads = {k: sketch.quantiles_from_counts(g["bucket"].to_numpy(), g["n"].to_numpy(), [0.5])[0][0]
                    for k, g in hd.groupby("key", sort=False)}
            out["mad"] = out["key"].map(mads)
            method = f"histogram (within {sketch.ALPHA:.2%} relative)"
        out = counts.merge(out, on="key", how="left").merge(
            fit[["key", "n", "b"]].rename(columns={"n": "baseline_runs", "b": "slope_min_per_gb"}), on="key",
            how="left")
        out["method"] = method
        return out.sort_values("key").reset_index(drop=True)

    def _fit(self, t, cancel=None) -> pd.DataFrame:
        sums = self.execute(Q.fit_sums(t), None, cancel, "volume fit")
        return fit_from_sums(sums)

    def anomaly_scores(self, rule: Rule | None = None, thresholds=None, top: int = 100, progress=None,
                       cancel=None) -> Scores:
        """Robust z of every run's duration against its pipeline (the ``duration_z`` rule, volume-aware).

        Steps, each a bounded-memory statement (the one-statement form runs out
        of memory at 2 GB on 100M runs): (1) per-pipeline sums for the fit
        ``duration = a + b * GB`` over baseline runs (successful, duration > 0);
        (2) per-pipeline median of ``r = ln(duration / expected)``; (3) median of
        ``|r - median|`` (MAD); (4) every run joined with those few rows:
        ``z = (r - median) / max(1.4826 * MAD, min_spread)``; flagged when z >
        ``z_threshold`` and the pipeline has at least ``min_baseline_runs``
        baseline runs. Medians are exact up to :data:`EXACT_QUANTILE_LIMIT` runs,
        else rebuilt from linear histograms within ``DELTA/2`` = 0.0005 in log
        units (0.05 % in duration). *thresholds*: an
        :class:`~etl_desk.core.insights.anomalies.AnomalyThresholds` (defaults when None).
        """
        th = thresholds or AnomalyThresholds()
        rule = rule or Rule()
        t = rule.apply(self.t)
        report = progress or (lambda f, s: None)
        report(0.0, "anomaly scores: volume fit")
        fit = self._fit(t, cancel)
        tr = Q.with_residual(t, self._small(fit[["key", "a", "b", "mean_gb"]], "etl_desk_fit"))
        exact = self._exact(self.count(rule) if not rule.is_all else self.n_runs)
        report(0.25, "anomaly scores: medians")
        med = self._median_of(tr, "r", exact, cancel).rename(columns={"value": "med"})
        report(0.5, "anomaly scores: spreads")
        td = Q.with_abs_dev(tr, self._small(med[["key", "med"]], "etl_desk_medr"))
        mad = self._median_of(td, "dev", exact, cancel).rename(columns={"value": "mad"})
        stats = fit[["key", "a", "b", "mean_gb", "n"]].rename(columns={"n": "n_base"}).merge(
            med[["key", "med"]], on="key", how="left").merge(mad[["key", "mad"]], on="key", how="left")
        stats["spread"] = np.maximum(MAD_TO_SD * stats["mad"].to_numpy(dtype=float), th.min_spread)
        stats["scored"] = (stats["n_base"] >= th.min_baseline_runs) & stats["med"].notna()
        report(0.75, "anomaly scores: every run")
        small = self._small(stats[["key", "med", "spread", "n_base", "scored"]], "etl_desk_stats")
        runs = Q.scored(tr, small, th.z_threshold)
        flagged_runs = int(self.execute(runs.aggregate(n=runs.count(where=runs.flagged)), None, cancel)["n"].iloc[0])
        fl = runs.filter(runs.flagged)
        top_df = self.execute(fl.select("run_id", "job_name", "start_time", "duration_min", "data_processed_gb",
                                        "cost_usd", "z").order_by([fl.z.desc(), fl.run_id.asc()]).limit(top),
                              None, cancel)
        report(1.0, "anomaly scores: done")
        method = "exact" if exact else f"histogram (median and MAD within ±{sketch.DELTA / 2:g} in log units)"
        return Scores(stats.sort_values("key").reset_index(drop=True), flagged_runs, top_df, runs, method,
                      th.z_threshold)

    def _small(self, df: pd.DataFrame, name: str):
        """A few-row pandas table as a backend table to join with (inline, not a second scan)."""
        if self.backend == "duckdb":
            import pyarrow as pa

            self.con.con.register(name, pa.Table.from_pandas(df.reset_index(drop=True), preserve_index=False))
            return self.con.table(name)
        return _memtable(df)

    def _median_of(self, t, column: str, exact: bool, cancel) -> pd.DataFrame:
        if exact:
            df = self.execute(Q.residual_median(t, column, exact=True), None, cancel)
            return df.rename(columns={"med": "value"})[["key", "value"]]
        h = self.execute(Q.residual_median(t, column, exact=False), None, cancel)
        vals = sketch.grouped_quantiles(h["key"].to_numpy(dtype=object), h["bucket"].to_numpy(),
                                        h["n"].to_numpy(), 0.5, kind="linear")
        return pd.DataFrame({"key": list(vals), "value": list(vals.values())})

    # ------------------------------------------------------------------ charts and table
    def envelope(self, lo: int, hi: int, buckets: int, metric: str, sort: str = "run_id",
                 descending: bool = False, rule: Rule | None = None, cancel=None) -> Envelope:
        """Bars *lo*..*hi*-1 of the (filtered, sorted) runs grouped into at most *buckets* buckets.

        From the index pyramid when the index has one and the view is the run
        order without a filter (milliseconds at any zoom); otherwise one window
        query over the runs (seconds at 10M+). Raises ValueError for a bad metric,
        sort key or range.
        """
        if metric not in Q.METRICS:
            raise ValueError(f"unknown metric {metric!r}")
        if not (0 <= lo < hi) or buckets < 1:
            raise ValueError(f"bad range {lo}..{hi} or bucket count {buckets}")
        rule = rule or Rule()
        if self.index is not None and self.index.has_pyramid and sort == "run_id" and rule.is_all:
            return self.index.envelope(lo, hi, buckets, metric, descending)
        if sort == "run_id" and self.index is not None and self.index.has_runs and self.backend == "duckdb":
            return self.envelopes(lo, hi, buckets, (metric,), sort, descending, rule, cancel)[metric]
        buckets = min(buckets, hi - lo)
        df = self.execute(Q.envelope(rule.apply(self.t), metric, sort, descending, lo, hi, buckets,
                                     self.numeric_ids), None, cancel)
        return Envelope(df["first"].to_numpy(np.int64), df["runs"].to_numpy(np.int64),
                        df["failed_runs"].to_numpy(np.int64), df["max"].to_numpy(float), df["min"].to_numpy(float),
                        df["sum"].to_numpy(float), df["failed_max"].to_numpy(float, na_value=np.nan),
                        failed_sum=df["failed_sum"].to_numpy(float, na_value=0.0))

    def _in_run_order(self, rule: Rule):
        """The runs *rule* keeps, read from the index's run-ordered file with ``file_row_number`` (each run's
        position in the run order): a filtered per-run view is ordered by that number instead of sorting
        run IDs (:meth:`_streamed_envelopes`, :meth:`_in_file_order`). None without a built run order (or on
        Spark)."""
        if self.index is None or not self.index.has_runs or self.backend != "duckdb":
            return None
        if self._run_order is None:
            path = str(self.index.path / "runs.parquet").replace("'", "''")
            self.con.raw_sql(f"CREATE OR REPLACE TEMP VIEW etl_desk_run_order AS SELECT * FROM "
                             f"read_parquet('{path}', file_row_number = true)")
            self._run_order = self.con.table("etl_desk_run_order")
        return rule.apply(self._run_order)

    @contextlib.contextmanager
    def _in_insertion_order(self):
        """DuckDB returns rows in file order inside this block (``preserve_insertion_order``; the engine runs
        with it off to save memory); the setting is restored after. Whatever the block opens on the
        connection must be closed in it: DuckDB refuses the restoring query while a result is open."""
        con = self.con.con
        before = con.execute("SELECT current_setting('preserve_insertion_order')").fetchall()[0][0]
        con.execute("SET preserve_insertion_order = true")
        try:
            yield con
        finally:
            con.execute(f"SET preserve_insertion_order = {str(bool(before)).lower()}")

    def _position_of(self, run_id) -> int:
        """Position of *run_id* in the index's run order, or of the first run after it when it is not there."""
        p = self.index.position_after(run_id)
        return p - 1 if p and self.index.rows(p - 1, p, ["run_id"])["run_id"].iat[0] == str(run_id) else p

    def _in_file_order(self, ordered, start: int, n: int, offset: int = 0) -> pd.DataFrame:
        """Rows *offset*..*offset* + *n* - 1 of *ordered* (:meth:`_in_run_order`) from run-order position
        *start* on, in file order: DuckDB stops reading once it has them (``preserve_insertion_order`` on for
        this query only), so a filtered page costs what it reads up to its rows, not a sort of every run."""
        import ibis

        t = ordered.filter(ordered.file_row_number >= start) if start else ordered
        sql = ibis.to_sql(t.drop("file_row_number").limit(n, offset=offset), dialect="duckdb")
        with self._in_insertion_order() as con:
            return con.sql(sql).to_arrow_table().to_pandas()

    #: Rows per batch when a filtered run order is streamed (:meth:`_streamed_envelopes`).
    STREAM_BATCH = 1 << 20

    def _streamed_envelopes(self, ordered, lo: int, hi: int, buckets: int, metrics, descending: bool,
                            rule: Rule, cancel) -> dict | None:
        """:meth:`envelopes` of a filtered run order without a sort: the runs *rule* keeps are streamed from
        the index's run-ordered file in file order (DuckDB's ``preserve_insertion_order``, on for this query
        only), counted as they come and reduced bucket by bucket (:mod:`.bars`); reading stops after the last
        bucket. 100M runs, measured: a source keeping 60M runs 16-17 s by the window query -> ~1.5 s.
        None when the rows do not arrive in file order (checked on every batch): the caller then runs
        the window query. Raises ``Cancelled`` when ``cancel()`` says so between batches."""
        import ibis

        width = (hi - lo) / buckets  # as the window query divides
        # descending counts from the end, so it needs the count first (from the cube when it holds the
        # rule); ascending learns where the runs end as they come (no count: a text filter would scan twice)
        total = self.count(rule) if descending else None
        m = (min(hi, total) if descending else hi) - lo
        if m <= 0:
            return {k: Envelope.empty() for k in metrics}
        a_lo, a_hi = (total - lo - m, total - lo) if descending else (lo, hi)
        starts = bars.bucket_starts(m, width, buckets)
        asc = bars.ascending_edges(starts, m, descending)
        keep = list(dict.fromkeys(metrics))
        sql = ibis.to_sql(ordered.select("file_row_number", *keep, f=Q.failed(ordered)), dialect="duckdb")
        parts = {k: [] for k in keep}
        pos, last = 0, -1
        with self._in_insertion_order() as con:
            reader = con.sql(sql).to_arrow_reader(self.STREAM_BATCH)
            try:
                for batch in reader:
                    if cancel is not None and cancel():
                        raise Cancelled("chart bars cancelled")
                    rows = batch.num_rows
                    fr = batch.column(0).to_numpy()
                    if rows and (fr[0] <= last or not (np.diff(fr) > 0).all()):
                        return None  # not in file order: never guess
                    last = fr[-1] if rows else last
                    s0, s1 = max(pos, a_lo), min(pos + rows, a_hi)
                    if s0 < s1:
                        f = batch.column(len(keep) + 1).to_numpy(zero_copy_only=False)[s0 - pos:s1 - pos]
                        vals = {k: batch.column(1 + j).to_numpy(zero_copy_only=False)[s0 - pos:s1 - pos]
                                .astype(float, copy=False) for j, k in enumerate(keep)}
                        part = bars.prepare(np.asarray(f, dtype=bool), vals)
                        for k in keep:
                            parts[k].append(bars.partials(part, 0, s1 - s0, s0 - a_lo, asc, k))
                    pos += rows
                    if pos >= a_hi:
                        break
            finally:  # closed before the setting is restored (cancelled, out of order or done)
                reader.close()
        if pos < a_hi:
            if descending:  # fewer runs than counted (should not happen): let the window query answer
                return None
            m = pos - lo  # ascending: the runs ended inside the range
            if m <= 0:
                return {k: Envelope.empty() for k in metrics}
            starts = starts[starts < m]
        first = lo + starts
        runs = np.diff(np.r_[starts, m])
        out = {}
        for k in keep:
            fc, mx, mn, sm, fmx, fsm = bars.combine(parts[k], descending)
            out[k] = Envelope(first, runs, fc, mx, mn, sm, fmx, failed_sum=fsm)
        return out

    def envelopes(self, lo: int, hi: int, buckets: int, metrics=Q.METRICS, sort: str = "run_id",
                  descending: bool = False, rule: Rule | None = None, cancel=None) -> dict:
        """:meth:`envelope` of each of *metrics* over the same buckets, as metric -> Envelope, in one query
        (one window over the runs instead of one per metric: the three charts draw from one answer).

        From the index pyramid (no query) when :meth:`envelope` would be. Raises ValueError as it does.
        """
        rule = rule or Rule()
        for m in metrics:
            if m not in Q.METRICS:
                raise ValueError(f"unknown metric {m!r}")
        if (self.index is not None and self.index.has_pyramid and sort == "run_id" and rule.is_all) \
                or not (0 <= lo < hi) or buckets < 1:
            return {m: self.envelope(lo, hi, buckets, m, sort, descending, rule, cancel) for m in metrics}
        buckets = min(buckets, hi - lo)
        import ibis

        keep = list(dict.fromkeys(metrics))
        ordered = self._in_run_order(rule) if sort == "run_id" else None
        if ordered is not None:
            got = self._streamed_envelopes(ordered, lo, hi, buckets, metrics, descending, rule, cancel)
            if got is not None:
                return got
        if ordered is not None:  # the run order is the file's order: no sort of run IDs
            # only the columns the bars need pass through the window (all 18 made a 60M-run filter 3x slower)
            t = ordered.select("file_row_number", *keep, f=Q.failed(ordered))
            order = [t.file_row_number.desc() if descending else t.file_row_number.asc()]
        else:
            t = rule.apply(self.t)
            Q.sort_value(t, sort)  # validates the key
            t = t.select(*dict.fromkeys(["run_id", *([sort] if sort != "run_id" else []), *keep]), f=Q.failed(t))
            order = Q.sort_order(t, sort, descending, self.numeric_ids)  # the table's order: bar i is row i
        r = t.mutate(pos=ibis.row_number().over(ibis.window(order_by=order)))
        r = r.filter((r.pos >= lo) & (r.pos < hi))
        r = r.mutate(bucket=((r.pos - lo) / ((hi - lo) / buckets)).floor().cast("int64"))
        aggs = dict(runs=r.count(), failed_runs=r.count(where=r.f), first=r.pos.min())
        for i, m in enumerate(metrics):
            v = r[m]
            aggs.update({f"max{i}": v.max(), f"min{i}": v.min(), f"sum{i}": v.sum(),
                         f"fmax{i}": v.max(where=r.f), f"fsum{i}": v.sum(where=r.f)})
        df = self.execute(r.group_by("bucket").aggregate(**aggs).order_by("bucket"), None, cancel, "envelopes")
        first, runs = df["first"].to_numpy(np.int64), df["runs"].to_numpy(np.int64)
        nf = df["failed_runs"].to_numpy(np.int64)
        return {m: Envelope(first, runs, nf, df[f"max{i}"].to_numpy(float), df[f"min{i}"].to_numpy(float),
                            df[f"sum{i}"].to_numpy(float), df[f"fmax{i}"].to_numpy(float, na_value=np.nan),
                            failed_sum=df[f"fsum{i}"].to_numpy(float, na_value=0.0))
                for i, m in enumerate(metrics)}

    def page(self, sort_key: str = "run_id", after: tuple | None = None, n: int = 100, rule: Rule | None = None,
             descending: bool = False, at: int | None = None, cancel=None) -> Page:
        """*n* rows in :func:`.queries.sort_order` after the key *after* (keyset pagination).

        One sort rule with the in-memory dashboard: unknown metric values last in both directions,
        ties in natural run-ID order (numbers when every run ID is a whole number), ascending also
        when *descending*.

        *at* jumps to a position instead (a scroll-bar drag): from the index's
        run-ordered files when sorting by run_id without a filter (one row group
        read), else by OFFSET (slow at depth: seconds per page at 10M+). With the index's run order
        built, a filtered run order (ascending run IDs) is read in file order from the key's position.
        """
        rule = rule or Rule()
        # a filtered run order, ascending: read in file order from a position (descending: a top-n over the
        # same file measured no faster than the sorted query's, 2.6-4.7 s at 100M, so the query answers)
        ordered = (self._in_run_order(rule) if sort_key == "run_id" and not descending and not rule.is_all
                   else None)
        if ordered is not None:
            if at is not None:
                rows = self._in_file_order(ordered, 0, n, at)
            else:
                rows = self._in_file_order(ordered, 0 if after is None else self.index.position_after(after[1]), n)
        elif at is not None:
            if self.index is not None and self.index.has_runs and sort_key == "run_id" and rule.is_all:
                pos = self.n_runs - at - n if descending else at
                rows = self.index.rows(max(pos, 0), max(pos, 0) + n + min(pos, 0))
                rows = rows.iloc[::-1].reset_index(drop=True) if descending else rows
            else:
                expr = Q.page(rule.apply(self.t), sort_key, None, n + at, descending, self.numeric_ids)
                rows = self.execute(expr.limit(n, offset=at), None, cancel).drop(columns="_sort")
        elif self.index is not None and self.index.has_runs and sort_key == "run_id" and rule.is_all:
            # keyset on the index's run-ordered file: find the key's position, read one or two row groups
            if after is None:
                pos = self.n_runs - n if descending else 0
            else:
                pos = self._position_of(after[1]) - n if descending else self.index.position_after(after[1])
            rows = self.index.rows(max(pos, 0), max(pos, 0) + n + min(pos, 0))
            rows = rows.iloc[::-1] if descending else rows
        else:
            rows = self.execute(Q.page(rule.apply(self.t), sort_key, after, n, descending, self.numeric_ids),
                                None, cancel)
            rows = rows.drop(columns="_sort")
        rows = rows.reset_index(drop=True)
        nxt = None
        if len(rows):
            last = rows.iloc[-1]
            v = last[sort_key]
            if sort_key in Q.METRICS and (v is None or (isinstance(v, float) and math.isnan(v))):
                v = None  # unknown: those runs come last (Q.page)
            nxt = (v.to_pydatetime() if isinstance(v, pd.Timestamp) else v, last["run_id"])
        return Page(rows, nxt, sort_key, descending)

    # ------------------------------------------------------------------ SQL
    def sql(self, expr, dialect: str | None = None) -> str:
        """The SQL an expression compiles to (*dialect*: "duckdb", "databricks", ...; default: this backend's)."""
        import ibis

        return str(ibis.to_sql(expr, dialect=dialect)) if dialect else str(self.con.compile(expr))


# --------------------------------------------------------------------------- helpers (engine-independent)

def cube_answers(columns, rule: Rule | None = None, grain: str | None = None) -> bool:
    """True when a rollup cube with these *columns* answers *rule* (None: all runs) and *grain* (None: no
    grouping): the rule is one the cube can filter on and the grain's dimension is kept. The window asks
    this of an index before choosing where a query runs (no query is made)."""
    dims = set(columns)
    if grain is not None and Q.GRAIN_DIM.get(grain) not in dims:
        return False
    return rule is None or (rule.cube_compatible and rule.cube_dims() <= dims)


def run_watched(duck, fn, progress=None, cancel=None, text: str = "query"):
    """Call *fn* (which runs queries on the DuckDB connection *duck*) while a watcher thread polls.

    Every 0.1 s: ``cancel()`` -- when True the running query is interrupted and
    ``Cancelled`` is raised; ``progress(fraction, text)`` with DuckDB's progress of
    the running query (0..1). Returns what *fn* returns.
    """
    done = threading.Event()
    interrupted = []

    def watch():
        while not done.wait(0.1):
            if cancel is not None and cancel():
                interrupted.append(True)
                duck.interrupt()
                return
            if progress is not None:
                try:
                    p = duck.query_progress()
                except Exception:
                    p = -1
                if p is not None and p >= 0:
                    progress(min(p / 100.0, 1.0), text)

    if cancel is not None and cancel():
        raise Cancelled(f"{text} cancelled")
    th = threading.Thread(target=watch, daemon=True)
    th.start()
    try:
        return fn()
    except Exception as exc:
        if interrupted:
            raise Cancelled(f"{text} cancelled") from exc
        raise
    finally:
        done.set()
        th.join()
    


def _memtable(df: pd.DataFrame):
    import ibis

    return ibis.memtable(df.reset_index(drop=True))


def _hist_quantiles(hist: pd.DataFrame | None):
    if hist is None or hist.empty:
        return {0.5: None, 0.9: None, 0.95: None}, "no durations"
    v, rank_err = sketch.quantiles_from_counts(hist["bucket"].to_numpy(), hist["n"].to_numpy(), [0.5, 0.9, 0.95])
    note = (f"histogram: within {sketch.ALPHA:.2%} of the order statistic, rank error up to "
            f"{float(np.nanmax(rank_err)):.2%}")
    return dict(zip((0.5, 0.9, 0.95), v)), note


def fit_from_sums(sums: pd.DataFrame) -> pd.DataFrame:
    """Per-pipeline fit ``duration = a + b * GB`` from :func:`.queries.fit_sums` rows (least squares).

    ``b = (n Sxy - Sx Sy) / (n Sxx - Sx^2)`` over runs with a known volume, 0 when the
    volume is unknown or constant; ``a = mean(duration) - b * mean(GB)``. Returns
    key, n, a, b, mean_gb.
    """
    s = sums.copy()
    for c in ("n", "n_x", "sx", "sy", "sxy", "sxx", "sy_all"):
        s[c] = s[c].astype("float64").fillna(0.0)
    nx = s["n_x"].to_numpy()
    den = nx * s["sxx"].to_numpy() - s["sx"].to_numpy() ** 2
    num = nx * s["sxy"].to_numpy() - s["sx"].to_numpy() * s["sy"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        b = np.where((nx >= 2) & (den > 1e-12 * np.maximum(nx * s["sxx"].to_numpy(), 1e-300)), num / den, 0.0)
        mean_x = np.where(nx > 0, s["sx"].to_numpy() / np.maximum(nx, 1), np.nan)
        mean_y = np.where(nx > 0, s["sy"].to_numpy() / np.maximum(nx, 1),
                          s["sy_all"].to_numpy() / np.maximum(s["n"].to_numpy(), 1))
    a = mean_y - b * np.nan_to_num(mean_x, nan=0.0)
    return pd.DataFrame({"key": s["key"].to_numpy(dtype=object), "n": s["n"].astype("int64").to_numpy(),
                         "a": a, "b": b, "mean_gb": mean_x})


def _num(x) -> float | None:
    if x is None:
        return None
    try:
        if pd.isna(x):
            return None
    except (TypeError, ValueError):
        pass
    x = float(x)
    return x if math.isfinite(x) else None


def _ratio(a, b) -> float | None:
    a, b = _num(a), _num(b)
    return None if a is None or not b else _num(a / b)


def kpis_from_sums(sums, quantiles: dict, quantile_note: str) -> dict:
    """The KPI dict (:data:`~etl_desk.core.insights.kpis.KPI_KEYS`, same definitions) from one :func:`.queries.kpi_sums` row.

    Money: exact decimal sums as float dollars; ``None`` when any run's cost is unknown (as
    :func:`~etl_desk.core.insights.kpis.compute_kpis`: a total over some runs is not the total).
    Adds ``notes`` (list of str); ``cost_unknown_runs`` counts the runs without cost.
    """
    n = int(sums["runs"] or 0)
    nf = int(sums["failed_runs"] or 0)
    known = int(sums["cost_known"] or 0)
    all_known = known == n
    total = _num(sums["cost"]) if all_known and n else (0.0 if not n else None)
    fcost = (_num(sums["failed_cost"]) or 0.0) if all_known else None
    known = n if all_known else 0
    out = {"runs": n, "failed_runs": nf, "success_rate": _ratio(n - nf, n), "total_cost_usd": total,
           "failed_cost_usd": fcost, "failed_cost_share": _ratio(fcost, total), "cost_per_tb_usd": None}
    out["duration_p50_min"] = _num(quantiles.get(0.5))
    out["duration_p95_min"] = _num(quantiles.get(0.95))
    out["duration_p90_min"] = _num(quantiles.get(0.9))
    out["failure_rate"] = _ratio(nf, n)
    out["avg_cost_success_usd"] = _ratio(None if total is None else total - fcost, n - nf)
    out["avg_cost_failed_usd"] = _ratio(fcost, nf)
    # retries: unknown (None) when no selected run records its attempt; else among those that do
    att = _num(sums.get("attempt_known"))  # None: some runs of the source record it, how many here is unknown
    if n and att == 0:
        out["retry_runs"], out["retry_cost_usd"] = None, None
    else:
        out["retry_runs"] = int(sums["retry_runs"] or 0)
        out["retry_cost_usd"] = (_num(sums["retry_cost"]) or 0.0) if known else None
    out["attempt_unknown_runs"] = None if att is None else n - int(att)
    out["total_tb"] = None
    if n and int(sums["gb_known"] or 0):
        tb = (_num(sums["gb"]) or 0.0) / GB_PER_TB
        out["total_tb"] = tb
        out["cost_per_tb_usd"] = _ratio(sums["cost_gb_known"], tb) if known else None
    out["first_start"] = out["last_end"] = out["span_days"] = None
    t0, t1 = sums["first_start"], sums["last_end"]
    if n and not pd.isna(t0) and not pd.isna(t1):
        t0, t1 = pd.Timestamp(t0), pd.Timestamp(t1)
        out["first_start"] = t0.isoformat(sep=" ")
        out["last_end"] = t1.isoformat(sep=" ")
        out["span_days"] = _num((t1 - t0) / pd.Timedelta(days=1))
    out["cost_unknown_runs"] = n - int(sums["cost_known"] or 0)
    out = {k: out[k] for k in KPI_KEYS}
    notes = [f"duration percentiles: {quantile_note}"]
    if out["cost_unknown_runs"]:
        notes.append(f"{out['cost_unknown_runs']:,} of {n:,} runs have no cost: money figures are unknown, not zero")
    if att is None:
        notes.append("some runs of this source have no attempt recorded: retries are counted among those that do")
    elif n and att < n:
        notes.append(retry_unknown_reason(n, int(att)))
    out["notes"] = notes
    return out
