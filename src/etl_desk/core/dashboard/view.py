"""What the dashboard shows: filter, sort order and grouping applied to the run table.

The window owns one :class:`ViewSpec` (filter + sort + grouping) and one
selection; every chart and the data table render the :class:`View` computed
here, so they always show the same bars in the same order. A selection is a
rule over the data — a boolean mask over the table's rows — never bar indices.

All of it is vectorised: :class:`Dataset` precomputes per-table arrays once,
:func:`build_view` is a handful of numpy passes (about 0.1 s at 1,000,000 runs).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from etl_desk.core import fmt
from etl_desk.core.data.schema import FAILED
from etl_desk.core.data.times import datetime_ns

#: A run ID the natural order reads as a number: an optional minus and 1-18 digits (fits a 64-bit integer).
#: The same rule for the in-memory dashboard and the engine (:data:`etl_desk.core.engine.queries.INT_ID`).
WHOLE_NUMBER_ID = r"-?[0-9]{1,18}"

METRICS = ("cost_usd", "data_processed_gb", "duration_min")
METRIC_TITLES = {"cost_usd": "Cost (USD)", "data_processed_gb": "Data Processed (GB)",
                 "duration_min": "Duration (min)"}
SORT_KEYS = {
    "run_id": "Run ID",
    "start_time": "Start time",
    "cost_usd": "Cost",
    "data_processed_gb": "Data processed",
    "duration_min": "Duration",
}
GROUPINGS = {"run": "Per run", "pipeline": "Per pipeline", "day": "Per day", "week": "Per week",
             "month": "Per month"}
NO_NAME = "(no pipeline name)"


def _name_codes(names: pd.Series) -> tuple[np.ndarray, list]:
    """(code per run, pipeline names in sorted order): a missing name is :data:`NO_NAME`. A categorical
    column (the canonical table's) is read from its codes, without a million strings."""
    if not isinstance(names.dtype, pd.CategoricalDtype):
        codes, uniques = pd.factorize(names.fillna(NO_NAME), sort=True)
        return codes, list(uniques)
    cats = [str(c) for c in names.cat.categories]
    codes = names.cat.codes.to_numpy()
    missing = bool((codes < 0).any())
    values = sorted(cats + [NO_NAME]) if missing else sorted(cats)
    pos = {v: i for i, v in enumerate(values)}
    table = np.array([pos[c] for c in cats] + [pos.get(NO_NAME, -1)], dtype=np.int64)
    return table[codes], values  # code -1 (missing) takes the table's last entry


@dataclass(frozen=True)
class ViewFilter:
    """Which runs the dashboard shows; every field ``None`` / empty means "no restriction".

    ``statuses``: the :data:`~etl_desk.core.data.schema.FAILED` label keeps failed runs, any other
    label keeps the successful ones (``None``: all; an empty set: none). ``sources``: source-system
    names (``SAP``, ``GIS``, ``Other``); ignored when the table has no source system at all.
    ``start`` (inclusive) / ``end`` (exclusive) bound the run's start time (UTC, naive).
    ``text``: a case-insensitive substring of the pipeline name or the run ID.
    """
    statuses: frozenset[str] | None = None  # None = all
    sources: frozenset[str] | None = None  # None = all
    start: pd.Timestamp | None = None  # inclusive, on start time
    end: pd.Timestamp | None = None  # exclusive
    text: str = ""  # case-insensitive substring of pipeline name or run ID

    def is_active(self) -> bool:
        """True when any field restricts the runs (a blank ``text`` does not)."""
        return bool(self.statuses is not None or self.sources is not None or self.start is not None
                    or self.end is not None or self.text.strip())

    def describe(self) -> str:
        """The filter in words for captions and exports, e.g. ``"status: Failed; from 2024-04-01"``;
        ``"none (all runs)"`` when nothing restricts.
        """
        parts = []
        if self.statuses is not None:
            parts.append("status: " + (", ".join(sorted(self.statuses)) or "none"))
        if self.sources is not None:
            parts.append("source: " + (", ".join(sorted(self.sources)) or "none"))
        if self.start is not None:
            parts.append(f"from {self.start:%Y-%m-%d}")
        if self.end is not None:
            parts.append(f"before {self.end:%Y-%m-%d}")
        if self.text.strip():
            parts.append(f"name contains {self.text.strip()!r}")
        return "; ".join(parts) if parts else "none (all runs)"


@dataclass(frozen=True)
class ViewSpec:
    """What the dashboard shows: a :class:`ViewFilter`, the sort key (a :data:`SORT_KEYS` key),
    ``descending``, and the grouping (a :data:`GROUPINGS` key: per run, pipeline, day, week, month).

    Raises:
        ValueError: on construction, for a sort key or grouping not in :data:`SORT_KEYS` /
            :data:`GROUPINGS`.
    """
    filter: ViewFilter = field(default_factory=ViewFilter)
    sort_key: str = "run_id"
    descending: bool = False
    grouping: str = "run"

    def __post_init__(self):
        if self.sort_key not in SORT_KEYS:
            raise ValueError(f"unknown sort key {self.sort_key!r}")
        if self.grouping not in GROUPINGS:
            raise ValueError(f"unknown grouping {self.grouping!r}")


class Dataset:
    """A canonical table plus the arrays every view needs, computed once."""

    def __init__(self, df: pd.DataFrame, source: str = ""):
        self.df = df
        self.source = source or df.attrs.get("source", "")
        self.n = len(df)
        self.run_id = df["run_id"].reset_index(drop=True)  # string Series, no per-row Python objects
        self.failed = (df["status"] == FAILED).to_numpy(dtype=bool)
        self.values = {m: df[m].to_numpy(dtype=np.float64) for m in METRICS}
        self.start_ns = datetime_ns(df["start_time"]).view(np.int64)  # no copy
        src = df["source_system"]
        self.source_codes = src.cat.codes.to_numpy()
        self.source_names = list(src.cat.categories)
        self.has_sources = bool((self.source_codes >= 0).any())
        names = df["job_name"]
        self.has_names = bool(names.notna().any())
        #: columns holding at least one value (the table shows only those), and whether every
        #: run is a first attempt (the table then leaves the Attempt column out)
        self.filled = {c: bool(df[c].notna().any()) for c in df.columns}
        self.single_attempt = "attempt" not in df.columns or bool((df["attempt"] == 1).all())
        #: arrays views derive from this data set once (e.g. the table's columns), by name
        self.cache: dict[str, object] = {}
        codes, uniques = _name_codes(names)
        self.name_codes = codes.astype(_index_dtype(len(uniques)), copy=False)
        self.name_values = np.asarray(uniques, dtype=object)

        # computed here, where the data is built (off the UI thread), not on the first sort
        self.run_rank = self._run_rank()

    def _run_rank(self) -> np.ndarray:
        """Natural order of run IDs: numeric when every one is a whole number as :data:`WHOLE_NUMBER_ID`
        writes it (the engine's rule too: "7.0", "1e3" or "+4" make the column text), text otherwise."""
        if self.n <= 50_000:  # small tables: plain Python (no pyarrow.compute import at start-up)
            txt = self.run_id.astype(str).to_numpy(dtype=object)
            whole = re.compile(WHOLE_NUMBER_ID)
            if all(whole.fullmatch(x) for x in txt):
                order = np.argsort(np.fromiter((int(x) for x in txt), dtype=np.int64, count=len(txt)),
                                   kind="stable")
            else:
                order = np.argsort(txt, kind="stable")
            rank = np.empty(self.n, dtype=_index_dtype(self.n))
            rank[order] = np.arange(self.n, dtype=rank.dtype)
            return rank
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = getattr(self.run_id.array, "_pa_array", None)
        if arr is None:
            arr = pa.array(self.run_id.astype(str).to_numpy(dtype=object), type=pa.string())
        try:
            nums = pc.cast(arr, pa.int64()).to_numpy()
            # the cast also takes 19 digits; WHOLE_NUMBER_ID (and the engine) at most 18 after a minus
            length = pc.binary_length(arr)
            if pc.any(pc.greater(pc.subtract(length, pc.starts_with(arr, "-").cast(pa.int32())), 18)).as_py():
                raise pa.ArrowInvalid("more than 18 digits")
            order = np.argsort(nums, kind="stable")
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            order = np.asarray(pc.sort_indices(arr))
        rank = np.empty(self.n, dtype=_index_dtype(self.n))
        rank[order] = np.arange(self.n, dtype=rank.dtype)
        return rank

    def run_id_at(self, i: int) -> str:
        """The run ID (text) of table row *i* (0-based position, not the DataFrame index label)."""
        return str(self.run_id.iat[int(i)])

    def filter_mask(self, f: ViewFilter) -> np.ndarray:
        """Boolean array of length ``n``: True for the rows *f* keeps (all conditions combined with AND).

        Unknown values never match a restriction: a run without a source system is dropped by a source
        filter, one without a pipeline name matches *text* only through its run ID.
        """
        mask = np.ones(self.n, dtype=bool)
        if f.statuses is not None:
            want_failed = FAILED in f.statuses
            want_success = bool(set(f.statuses) - {FAILED})
            if not want_failed:
                mask &= ~self.failed
            if not want_success:
                mask &= self.failed
        if f.sources is not None and self.has_sources:
            codes = [self.source_names.index(s) for s in f.sources if s in self.source_names]
            mask &= np.isin(self.source_codes, np.asarray(codes, dtype=self.source_codes.dtype))
        if f.start is not None:
            mask &= self.start_ns >= pd.Timestamp(f.start).value
        if f.end is not None:
            mask &= self.start_ns < pd.Timestamp(f.end).value
        text = f.text.strip().lower()
        if text:
            name_hit = np.fromiter((text in str(v).lower() for v in self.name_values), dtype=bool,
                                   count=len(self.name_values))
            hit = name_hit[self.name_codes] if self.has_names else np.zeros(self.n, bool)
            ids = self.run_id.str.lower().str.contains(text, regex=False)
            hit |= ids.to_numpy(dtype=bool, na_value=False)
            mask &= hit
        return mask

    def rows_for_ids(self, run_ids) -> np.ndarray:
        """Mask of the rows whose run ID is in *run_ids*."""
        return self.run_id.isin(list(run_ids)).to_numpy(dtype=bool, na_value=False)


class RunValues(Mapping):
    """Per-run bar values of every metric in display order, read from the data set's arrays on access.

    The per-run view keeps no copy of its bars' values (at 1,000,000 runs that would be 8 MB per
    metric, once for the totals and once for the failed parts): ``values[m]`` gathers the whole
    array (a new one; for the data's own order, a read-only view of the data set's array) and
    :meth:`part` only bars ``start .. stop - 1`` (what a chart draws). With *failed* (one bool per
    bar) the values are the failed runs' parts: the value where the run failed, 0.0 elsewhere.
    """

    def __init__(self, values: dict[str, np.ndarray], positions: np.ndarray, identity: bool,
                 failed: np.ndarray | None = None):
        self._values, self._positions, self._identity, self._failed = values, positions, identity, failed

    def __getitem__(self, metric: str) -> np.ndarray:
        return self.part(metric, 0, len(self._positions))

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def part(self, metric: str, start: int, stop: int) -> np.ndarray:
        """Values of *metric* for bars *start* .. *stop* - 1 (clipped to the bars there are)."""
        src = self._values[metric]
        v = src[start:stop] if self._identity else src[self._positions[start:stop]]
        if self._failed is not None:
            return np.where(self._failed[start:stop], v, 0.0)
        return _read_only(v) if self._identity else v

    def nanmax(self, metric: str) -> float:
        """Largest known value of *metric* over all bars (NaN when none is known)."""
        src = self._values[metric]
        if self._failed is None and (self._identity or len(self._positions) == len(src)):
            v = src  # every run is a bar: the order does not change the maximum
        else:
            v = self[metric]
        return float(np.nanmax(v)) if len(v) and not np.isnan(v).all() else float("nan")


@dataclass
class View:
    """Bars in display order. Bar 0 is drawn at the top, like the case-study dashboard."""

    dataset: Dataset
    spec: ViewSpec
    n_bars: int
    bar_of_row: np.ndarray  # int32 (int64 past 2**31 rows) per table row: its bar, or -1 when filtered out
    totals: Mapping[str, np.ndarray]  # per metric, per bar (per run: a RunValues, read on access)
    failed_parts: Mapping[str, np.ndarray]  # per metric, the failed runs' share of the bar
    runs: np.ndarray  # runs per bar
    failed_runs: np.ndarray  # failed runs per bar
    positions: np.ndarray | None = None  # per-run grouping: table row of each bar
    group_labels: np.ndarray | None = None  # grouped: label of each bar

    @property
    def grouped(self) -> bool:
        """True when a bar stands for several runs (grouping other than ``"run"``)."""
        return self.spec.grouping != "run"

    @property
    def row_mask(self) -> np.ndarray:
        """Boolean array over the table's rows (length ``dataset.n``): the row is in a bar (passed the filter).
        """
        return self.bar_of_row >= 0

    def label(self, i: int) -> str:
        """Axis label of bar *i*: the run ID per run, else the group's label (pipeline name,
        ``YYYY-MM-DD``, ``"YYYY-MM-DD wk"`` for the week starting that Monday, or ``YYYY-MM``).
        """
        if self.positions is not None:
            return self.dataset.run_id_at(self.positions[i])
        return str(self.group_labels[i])

    def labels(self, start: int, stop: int) -> list[str]:
        """Labels of bars *start* to *stop* - 1, clipped to ``0 .. n_bars`` (what a chart's axis shows)."""
        return [self.label(i) for i in range(max(start, 0), min(stop, self.n_bars))]

    def bar_parts(self, metric: str, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """Totals and failed parts of *metric* for bars *start* .. *stop* - 1 (what a chart draws),
        without reading the other bars."""
        t, f = self.totals, self.failed_parts
        if isinstance(t, RunValues) and isinstance(f, RunValues):
            return t.part(metric, start, stop), f.part(metric, start, stop)
        return t[metric][start:stop], f[metric][start:stop]

    def value_max(self, metric: str) -> float:
        """Largest known total of *metric* over all bars; NaN when no bar has a known value."""
        t = self.totals
        if isinstance(t, RunValues):
            return t.nanmax(metric)
        v = np.asarray(t[metric], dtype=np.float64)
        return float(np.nanmax(v)) if len(v) and not np.isnan(v).all() else float("nan")

    def failed_share(self, metric: str) -> np.ndarray:
        """Per bar (length ``n_bars``), the failed runs' share 0..1 of *metric* (a :data:`METRICS` key).

        0.0 where the bar's total is zero or unknown (NaN), so the bar draws all-success.
        """
        tot = self.totals[metric]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(tot > 0, self.failed_parts[metric] / tot, 0.0)

    def rows_of_bars(self, bars) -> np.ndarray:
        """Boolean mask over table rows covered by the given bar indices."""
        bars = np.asarray(bars, dtype=np.int64)
        mask = np.zeros(self.dataset.n, dtype=bool)
        if bars.size == 0:
            return mask
        if self.positions is not None:
            mask[self.positions[bars]] = True
            return mask
        chosen = np.zeros(self.n_bars + 1, dtype=bool)
        chosen[bars] = True
        return chosen[self.bar_of_row]  # -1 indexes the trailing False

    def bars_of_rows(self, row_mask: np.ndarray) -> np.ndarray:
        """Boolean per bar: does the bar contain a selected row?"""
        if self.positions is not None:
            return row_mask[self.positions]
        sel = row_mask & (self.bar_of_row >= 0)
        out = np.zeros(self.n_bars, dtype=bool)
        out[np.unique(self.bar_of_row[sel])] = True
        return out

    def describe(self, i: int) -> list[tuple[str, str]]:
        """Fields of bar *i* for a tooltip, formatted."""
        ds = self.dataset
        if self.positions is not None:
            r = int(self.positions[i])
            row = ds.df.iloc[r]
            out = [("Job ID", str(row["run_id"]))]
            if pd.notna(row["job_name"]):
                out.append(("Pipeline", str(row["job_name"])))
            if pd.notna(row["source_system"]):
                out.append(("Source", str(row["source_system"])))
            out += [
                ("Status", str(row["status"]) + (f" ({row['result_state']})" if pd.notna(row["result_state"])
                                                 and str(row["result_state"]).upper() not in
                                                 ("SUCCESS", "FAILED") else "")),
                ("Start", f"{row['start_time']:%Y-%m-%d %H:%M:%S}"),
                ("End", f"{row['end_time']:%Y-%m-%d %H:%M:%S}"),
                ("Duration", fmt.minutes(row["duration_min"])),
                ("Data processed", fmt.gb(row["data_processed_gb"])),
                ("Compute hours", fmt.number(row["compute_hours"]) + " h"
                 if pd.notna(row["compute_hours"]) else "—"),
                ("Cost", fmt.usd(row["cost_usd"])),
            ]
            if pd.notna(row["termination_code"]):
                out.append(("Termination", str(row["termination_code"])))
            if pd.notna(row["attempt"]) and int(row["attempt"]) > 1:
                out.append(("Attempt", str(int(row["attempt"]))))
            if pd.notna(row["spot"]):
                out.append(("Spot", "yes" if bool(row["spot"]) else "no"))
            return out
        runs, failed = int(self.runs[i]), int(self.failed_runs[i])
        return [
            (GROUPINGS[self.spec.grouping].replace("Per ", "").capitalize(), self.label(i)),
            ("Runs", f"{runs:,} ({failed:,} failed, {fmt.pct(failed / runs if runs else 0, 1)})"),
            ("Cost", f"{fmt.usd(self.totals['cost_usd'][i])} (failed {fmt.usd(self.failed_parts['cost_usd'][i])})"),
            ("Data processed", fmt.gb(self.totals["data_processed_gb"][i])),
            ("Duration (total)", fmt.minutes(self.totals["duration_min"][i])),
        ]


def _sort_values(ds: Dataset, key: str) -> np.ndarray:
    if key == "run_id":
        return ds.run_rank
    if key == "start_time":
        return ds.start_ns
    return ds.values[key]


def _is_identity(positions: np.ndarray) -> bool:
    """True when *positions* is 0, 1, ..., n-1 (n = its length)."""
    n = len(positions)
    return n == 0 or (int(positions[0]) == 0 and int(positions[-1]) == n - 1
                      and bool((np.diff(positions) == 1).all()))


def _ones(n: int) -> np.ndarray:
    """n ones (int64), read-only and taking no memory: one run per bar in the per-run view."""
    return np.broadcast_to(np.int64(1), (n,))


def _index_dtype(n: int):
    """The integer type for row/bar numbers of a table with *n* rows (-1 included): int32 when it fits."""
    return np.int32 if n < 2**31 - 1 else np.int64


def _read_only(a: np.ndarray) -> np.ndarray:
    v = a.view()
    v.flags.writeable = False
    return v


def build_view(ds: Dataset, spec: ViewSpec) -> View:
    """The :class:`View` of data set *ds* under *spec*: filter, then group, then sort.

    Per run: one bar per kept row, sorted by the key (unknown values last in either direction;
    ties in natural run-ID order, also when descending). Grouped: one bar per pipeline / calendar day / week
    (Monday to Sunday) / month holding at least one kept run, with summed cost (USD), data (GB)
    and duration (minutes), and the failed runs' part of each; unknown (NaN) values add nothing
    to a group's sum, and a group where no run has a value is unknown (NaN), not 0. Groups sort by name or time, or by summed metric; by ``start_time``, by their
    first run. Arrays are numpy, per bar in display order (bar 0 at the top).
    """
    mask = ds.filter_mask(spec.filter)
    rows = np.flatnonzero(mask)
    if spec.grouping == "run":
        keyvals = _sort_values(ds, spec.sort_key)[rows]
        if spec.sort_key in METRICS:
            keyvals = np.where(np.isnan(keyvals), -np.inf if spec.descending else np.inf, keyvals)
        # ties keep run-ID order; descending flips the key only
        tie = ds.run_rank[rows]
        order = np.lexsort((tie, -keyvals if spec.descending else keyvals))
        positions = rows[order].astype(_index_dtype(ds.n), copy=False)
        bar_of_row = np.full(ds.n, -1, dtype=_index_dtype(ds.n))
        bar_of_row[positions] = np.arange(len(positions), dtype=bar_of_row.dtype)
        failed = ds.failed[positions]
        # the bars' values are read from the data set's arrays when drawn (RunValues), not copied:
        # in the data's own order (a file sorted by run ID) as read-only views of them
        identity = len(positions) == ds.n and _is_identity(positions)
        totals = RunValues(ds.values, positions, identity)
        failed_parts = RunValues(ds.values, positions, identity, failed=failed)
        # failed runs per bar (0 or 1): the bool array seen as int8, no copy
        return View(ds, spec, len(positions), bar_of_row, totals, failed_parts,
                    _ones(len(positions)), failed.view(np.int8), positions=positions)

    # --- grouped -------------------------------------------------------------------------
    if spec.grouping == "pipeline":
        gcodes = ds.name_codes[rows]
        ngroups = len(ds.name_values)
        labels_all = ds.name_values.astype(str)
        order_key_all = np.arange(ngroups, dtype=np.float64)  # alphabetical
    else:
        freq = {"day": "D", "week": "W-SUN", "month": "M"}[spec.grouping]
        starts = pd.DatetimeIndex(ds.start_ns[rows].view("datetime64[ns]"))
        periods = starts.to_period(freq)
        gcodes, uniq = pd.factorize(periods, sort=True)
        ngroups = len(uniq)
        if spec.grouping == "day":
            labels_all = np.asarray([p.strftime("%Y-%m-%d") for p in uniq], dtype=object)
        elif spec.grouping == "week":
            labels_all = np.asarray([f"{p.start_time:%Y-%m-%d} wk" for p in uniq], dtype=object)
        else:
            labels_all = np.asarray([p.strftime("%Y-%m") for p in uniq], dtype=object)
        order_key_all = np.arange(ngroups, dtype=np.float64)  # chronological
        gcodes = np.asarray(gcodes, dtype=np.int64)
    runs = np.bincount(gcodes, minlength=ngroups)
    failed = ds.failed[rows]
    failed_runs = np.bincount(gcodes, weights=failed, minlength=ngroups).astype(np.int64)
    totals, failed_parts = {}, {}
    for m in METRICS:
        raw = ds.values[m][rows]
        known = ~np.isnan(raw)
        v = np.where(known, raw, 0.0)
        # a group none of whose runs has a value is unknown (NaN), never a $0 / 0 GB bar
        none_known = np.bincount(gcodes, weights=known, minlength=ngroups) == 0
        totals[m] = np.where(none_known, np.nan, np.bincount(gcodes, weights=v, minlength=ngroups))
        failed_parts[m] = np.where(none_known, np.nan,
                                   np.bincount(gcodes, weights=np.where(failed, v, 0.0), minlength=ngroups))
    present = np.flatnonzero(runs > 0)
    if spec.sort_key in METRICS:
        key = totals[spec.sort_key][present]
    elif spec.sort_key == "start_time":
        first = np.full(ngroups, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(first, gcodes, ds.start_ns[rows])
        key = first[present].astype(np.float64)
    else:
        key = order_key_all[present]
    order = np.lexsort((present, -key if spec.descending else key))
    groups = present[order]
    new_index = np.full(ngroups, -1, dtype=np.int64)
    new_index[groups] = np.arange(len(groups))
    bar_of_row = np.full(ds.n, -1, dtype=_index_dtype(ds.n))
    bar_of_row[rows] = new_index[gcodes]
    return View(ds, spec, len(groups), bar_of_row,
                {m: totals[m][groups] for m in METRICS}, {m: failed_parts[m][groups] for m in METRICS},
                runs[groups], failed_runs[groups], group_labels=labels_all[groups])
