"""The realistic SAP/GIS generator: a physically coherent, fully vectorised workload.

Every scheduled run of a catalogue pipeline (:mod:`etl_desk.core.data.pipelines`) is
drawn with NumPy's ``Generator(PCG64(seed))``, with no per-row Python loop:

* **schedule** - the runs are shared between SAP and GIS by ``sap_share`` and
  between a source's pipelines by their runs per day, then spread evenly over
  ``days`` days at each pipeline's cron hours (plus a short scheduler delay; a
  pipeline asked to run more often than its schedule fans out within the hour);
* **volume** - log-normal per pipeline; SAP pipelines peak during the month-end
  close (last three days and first day of each month);
* **duration** - cluster start-up + volume / (GB per minute per node x nodes),
  times a log-normal run-to-run noise (sigma 0.22: about +/-22 % at equal volume);
* **compute hours** - duration / 60 x nodes; **cost** - compute hours x
  (DBU per node-hour x $ per DBU + instance $ per hour, discounted on spot);
* **failures** - competing failure modes whose probability rises with volume
  (driver errors relative to the pipeline's median, storage errors with the
  absolute volume), with spot use (spot-instance loss per node-hour, more
  launch failures), all scaled by ``failure_rate_scale``; a run that would
  exceed its pipeline's timeout is stopped as TIMED_OUT. Failed runs stop
  part-way and still cost money;
* **retries** - a failed attempt is retried up to ``max_retries`` times, a few
  minutes after it ended, as rows with attempt 2, 3, ... of the same scheduled
  run (a retry after a spot loss falls back to on-demand instances);
* **anomalies** - a share ``anomaly_rate`` of runs get their duration (a stuck
  stage: compute hours and cost follow) or their compute hours and cost (a
  runaway autoscaler: same wall-clock time) multiplied by a factor in [2.5, 5],
  flagged in ``injected_anomaly``.

Rows come grouped by pipeline (catalogue order), then in schedule order (run
IDs ``<pipeline>-<scheduled run #>-a<attempt>``), with a run's retries right
after it; they are not sorted by start time across pipelines. ``runs`` is the
exact number of rows, retries included: scheduled runs are drawn first and
whole ones dropped at random (evenly over the period) until the rows fit. The
same settings give byte-identical output. Each row's cost is exactly
``compute_hours x rate`` rounded to 4 decimals, so costs are reproducible.


Size: one job, the realistic generator (settings, schedule, attempts, costs, frame: stages that share
the per-pipeline arrays), ~670 lines; the extras (tags, drift, failure waves) are already in
``realistic_extras``. Next cut: ``RealisticSettings`` and its validation into ``realistic_settings.py``.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd
import pyarrow as pa

from etl_desk.core.data import realistic_extras as x
from etl_desk.core.data.pipelines import PIPELINES, Pipeline
from etl_desk.core.data.schema import COLUMN_NAMES, FAILED, SOURCE_SYSTEMS, STATUSES, SUCCESS, dictionary_columns
from etl_desk.core.errors import DataError
from etl_desk.core.fields import spec_field
from etl_desk.core.tasks import CancelFn, Cancelled, ProgressFn

__all__ = ["RealisticSettings", "REALISTIC_SCENARIOS", "generate_realistic", "SettingsError", "TERMINATION_CODES",
           "ANOMALY_FACTOR_RANGE", "DURATION_NOISE_SIGMA"]


class SettingsError(DataError):
    """Generator settings out of range; ``problems`` lists one human message per bad field.

    A :class:`~etl_desk.core.errors.DataError` (hence a ValueError), so the
    command line reports it in one line with exit status 2.
    """

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True)
class RealisticSettings:
    """Everything the realistic generator needs; each field carries its :class:`~etl_desk.core.fields.FieldSpec`."""

    runs: int = spec_field(10_000, "Runs", "runs", 1, 5_000_000, 1_000,
                   "Total rows to generate, retries included")
    seed: int = spec_field(7, "Seed", "", 0, 2**32 - 1, 1,
                   "Random seed: the same seed and settings give identical data")
    start: str = spec_field("2024-01-01", "Start date", "ISO date", None, None, None,
                    "First day of the generated history (YYYY-MM-DD, UTC)")
    days: int = spec_field(90, "Days", "days", 1, 3_660, 1,
                   "Length of the history; scheduled runs are spread evenly over it")
    sap_share: float = spec_field(0.6, "SAP share", "fraction", 0.0, 1.0, 0.05,
                          "Share of scheduled runs from SAP pipelines; the rest are GIS")
    failure_rate_scale: float = spec_field(1.0, "Failure-rate scale", "x", 0.0, 10.0, 0.1,
                                   "Multiplies every failure probability (1 = the catalogue's rates)")
    max_retries: int = spec_field(2, "Max retries", "retries", 0, 5, 1,
                          "A failed attempt is retried up to this many times")
    spot_share: float = spec_field(0.5, "Spot share", "fraction", 0.0, 1.0, 0.05,
                           "Share of runs of spot-eligible pipelines that run on spot instances")
    spot_discount: float = spec_field(0.6, "Spot discount", "fraction", 0.0, 0.95, 0.05,
                              "Fraction taken off the instance price on spot")
    usd_per_dbu: float = spec_field(0.15, "$ per DBU", "USD/DBU", 0.01, 5.0, 0.01,
                            "Databricks price of one DBU (jobs compute)")
    instance_usd_per_hour: float = spec_field(0.5, "Instance $ per hour", "USD/node-h", 0.0, 50.0, 0.05,
                                      "On-demand cloud price of one standard node for an hour")
    anomaly_rate: float = spec_field(0.0, "Anomaly rate", "fraction", 0.0, 0.5, 0.005,
                             "Share of runs given a 2.5-5x duration or cost spike (ground truth)")
    month_end_peak_scale: float = spec_field(1.0, "Month-end peak scale", "x", 0.0, 5.0, 0.1,
                                     "Scales the SAP month-end volume peaks (0 = no peaks)")
    # optional stages (core/data/realistic_extras.py): off by default, so a seed's data stays the same
    team_tags: bool = spec_field(False, "Team tags", "", None, None, None,
                         "Tag runs with team and cost centre, workspace and SKU (some spend left untagged)")
    drift_pipelines: int = spec_field(0, "Drifting pipelines", "pipelines", 0, 16, 1,
                              "Pipelines whose cost per TB rises week after week from a random day (ground truth)")
    drift_pct_per_week: float = spec_field(5.0, "Drift per week", "% per week", 0.5, 50.0, 0.5,
                                   "Weekly, compounding growth of a drifting pipeline's cost per TB")
    failure_waves: int = spec_field(0, "Failure waves", "pipeline-weeks", 0, 100, 1,
                            "Pipeline-weeks in which a third of the runs fail (failure-rate jumps, ground truth)")

    def validate(self) -> list[str]:
        """Human messages for every out-of-range field (empty when the settings are usable)."""
        msgs: list[str] = []
        for f in fields(self):
            spec, v = f.metadata["spec"], getattr(self, f.name)
            if f.type in ("bool", bool):
                problem = spec.problem(v, "bool")
                if problem:
                    msgs.append(problem)
                continue
            if spec.is_date:
                try:
                    ts = pd.Timestamp(v)
                    if pd.isna(ts) or ts != ts.normalize():
                        raise ValueError
                except (ValueError, TypeError):
                    msgs.append(f"{spec.label}: {v!r} is not a date like 2024-01-01")
                continue
            kind = "int" if f.type in ("int", int) else "float"
            problem = spec.problem(v, kind)
            if problem:
                msgs.append(problem)
        return msgs


#: Named realistic scenarios for the generator panel (the first one is the default).
REALISTIC_SCENARIOS: dict[str, RealisticSettings] = {
    "Realistic: steady utility workload": RealisticSettings(anomaly_rate=0.01),
    "Realistic: month-end crunch": RealisticSettings(
        days=92, sap_share=0.8, month_end_peak_scale=2.0, failure_rate_scale=1.3, anomaly_rate=0.01),
    "Realistic: spot-heavy, flaky": RealisticSettings(
        spot_share=0.95, spot_discount=0.7, failure_rate_scale=2.5, max_retries=3, anomaly_rate=0.01),
    "Realistic: 1M runs stress": RealisticSettings(runs=1_000_000, days=365, anomaly_rate=0.005),
}

#: Run-to-run duration noise at equal volume (log-normal sigma).
DURATION_NOISE_SIGMA = 0.22
#: Injected anomalies multiply by a factor drawn uniformly from this range.
ANOMALY_FACTOR_RANGE = (2.5, 5.0)
#: Start-up time varies uniformly between these multiples of the pipeline's start-up.
_STARTUP_RANGE = (0.8, 1.3)
#: Minutes between a failed attempt's end and its retry.
_RETRY_DELAY_MIN = (1.0, 10.0)
#: Mean scheduler delay (minutes, exponential).
_SCHEDULER_DELAY_MIN = 0.75

# Failure modes (index into TERMINATION_CODES / _RESULT_STATES).
_OK, _CLUSTER, _DRIVER, _STORAGE, _SPOT, _TIMEOUT = range(6)
TERMINATION_CODES = ("SUCCESS", "CLUSTER_ERROR", "DRIVER_ERROR", "STORAGE_ACCESS_ERROR",
                     "SPOT_INSTANCE_TERMINATION", "TIMED_OUT")
_RESULT_STATES = ("SUCCEEDED", "FAILED", "FAILED", "FAILED", "FAILED", "TIMED_OUT")
#: Cluster launch failure per attempt (tripled on spot: capacity not available).
_P_CLUSTER = 0.004
_SPOT_LAUNCH_FACTOR = 3.0
#: Storage errors per attempt at 10 GB, growing with the square root of the volume.
_P_STORAGE_10GB = 0.003
#: Spot reclaim hazard per node-hour.
_SPOT_LOSS_PER_NODE_HOUR = 0.01
#: Exponent of the driver-failure growth with volume relative to the pipeline median.
_DRIVER_VOLUME_EXPONENT = 1.5
_P_MAX = 0.95


def _check(cancel: CancelFn | None) -> None:
    if cancel is not None and cancel():
        raise Cancelled("generation cancelled")


def _allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Split *total* into integer counts proportional to *weights* (largest remainder, stable)."""
    w = np.asarray(weights, dtype=np.float64)
    exact = total * w / w.sum()
    counts = np.floor(exact).astype(np.int64)
    short = total - int(counts.sum())
    if short:
        order = np.argsort(-(exact - counts), kind="stable")
        counts[order[:short]] += 1
    return counts


def _month_end_days(start: np.datetime64, days: int) -> np.ndarray:
    """For each day offset 0..days-1: inside the month-end close (last 3 days or the 1st)?"""
    d = start + np.arange(days)
    month = d.astype("datetime64[M]")
    first = month.astype("datetime64[D]")
    next_first = (month + 1).astype("datetime64[D]")
    to_end = (next_first - d).astype(np.int64)  # 1 on the last day of the month
    return (to_end <= 3) | (d == first)


_TRIPLES = np.array([f"{i:03d}".encode() for i in range(1000)], dtype="S3")


def _run_ids(names: list[str], rows_per_pipe: np.ndarray, sched: np.ndarray, attempt: np.ndarray) -> pa.Array:
    """"<job>-<scheduled run, zero-padded to 6 or 9 digits>-a<attempt>", built as raw bytes.

    Rows are grouped by pipeline (``rows_per_pipe`` in catalogue order); attempts are 1..9.
    """
    n = len(sched)
    groups = 2 if n == 0 or int(sched.max()) < 1_000_000 else 3
    suffix = np.empty(n, dtype=[("dash", "S1")] + [(f"d{g}", "S3") for g in range(groups)]
                      + [("a", "S2"), ("k", "S1")])
    suffix["dash"] = b"-"
    x = sched.astype(np.int64, copy=True)
    for g in range(groups - 1, -1, -1):
        q = x // 1000
        suffix[f"d{g}"] = _TRIPLES[x - q * 1000]
        x = q
    suffix["a"] = b"-a"
    suffix["k"] = (attempt + ord("0")).astype(np.uint8).view("S1")
    sw = suffix.dtype.itemsize
    suffix = suffix.view(f"S{sw}")
    encoded = [nm.encode() for nm in names]
    row_width = np.array([len(b) + sw for b in encoded], dtype=np.int64)
    data = np.empty(int((row_width * rows_per_pipe).sum()), dtype=np.uint8)
    lo = pos = 0
    for b, w, k in zip(encoded, row_width, rows_per_pipe):
        k, w = int(k), int(w)
        if not k:
            continue
        block = data[pos:pos + k * w].view(np.dtype([("name", f"S{len(b)}"), ("rest", f"S{sw}")]))
        block["name"] = b
        block["rest"] = suffix[lo:lo + k]
        lo += k
        pos += k * w
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.repeat(row_width, rows_per_pipe), out=offsets[1:])
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def _strings(arr: pa.Array) -> pd.api.extensions.ExtensionArray:
    """An Arrow string array as pandas' canonical "string" array."""
    if arr.type != pa.large_string():
        arr = arr.cast(pa.large_string())
    if pd.StringDtype().storage == "pyarrow" and pd.StringDtype().na_value is pd.NA:
        return pd.arrays.ArrowStringArray(pa.chunked_array([arr]))
    return pd.array(arr.to_pylist(), dtype="string")  # pragma: no cover - non-default string storage


def _nulls(n: int) -> pd.api.extensions.ExtensionArray:
    """*n* missing text values (an optional column the settings leave empty)."""
    return _strings(pa.nulls(n, type=pa.large_string()))


def _bools(values: np.ndarray) -> pd.arrays.BooleanArray:
    return pd.arrays.BooleanArray(np.ascontiguousarray(values, dtype=bool), np.zeros(len(values), dtype=bool))


class _Catalogue:
    """The catalogue as NumPy arrays, one entry per pipeline."""

    def __init__(self, pipes: tuple[Pipeline, ...]):
        def a(attr, dt=np.float64):
            return np.array([getattr(p, attr) for p in pipes], dtype=dt)

        for p in pipes:
            if p.runs_per_day % len(p.hours) or list(p.hours) != sorted(p.hours):
                raise ValueError(f"{p.name}: runs per day must be a multiple of its sorted schedule hours")
        self.pipes = pipes
        self.names = [p.name for p in pipes]
        self.source_code = np.array([SOURCE_SYSTEMS.index(p.source) for p in pipes], dtype=np.int8)
        self.runs_per_day = a("runs_per_day")
        self.hours = [np.array(p.hours, dtype=np.int64) for p in pipes]
        self.per_hour = np.array([p.runs_per_day // len(p.hours) for p in pipes], dtype=np.int64)
        self.minute = a("minute")
        self.log_median = np.log(a("median_gb"))
        self.median_gb = a("median_gb")
        self.sigma = a("sigma")
        self.nodes = a("nodes")
        self.dbu = a("dbu_per_node_hour")
        self.instance_factor = a("instance_factor")
        self.tput = a("gb_per_min_per_node") * self.nodes  # GB per minute of the whole cluster
        self.startup = a("startup_min")
        self.spot_eligible = a("spot_eligible", bool)
        self.peak = a("month_end_peak")
        self.timeout = a("timeout_min")
        self.base_failure = a("base_failure")


_CAT = _Catalogue(PIPELINES)


def generate_realistic(settings: RealisticSettings | None = None, progress: ProgressFn | None = None,
                       cancel: CancelFn | None = None) -> pd.DataFrame:
    """Generate the canonical job-run table for *settings* (see the module docstring).

    Returns exactly ``settings.runs`` rows in the canonical columns (times UTC, durations in
    minutes, volumes in GB, costs in USD), in pipeline order. Five stages, in this order (the
    random draws happen in this order too, which keeps a seed's data the same):
    :func:`_schedule` (scheduled runs and volumes), :func:`_attempts` (durations, failures,
    retries), :func:`_trim` (exactly ``runs`` rows), :func:`_costs` (compute hours, cost,
    injected anomalies) and :func:`_frame`.

    ``progress(fraction)`` is called a few times from 0 to 1; ``cancel()`` is polled between
    stages and, when it returns True, :class:`~etl_desk.core.tasks.Cancelled` is raised.
    Raises :class:`SettingsError` (a ValueError) listing every problem when the settings are
    out of range.
    """
    s = settings if settings is not None else RealisticSettings()
    problems = s.validate()
    if problems:
        raise SettingsError(problems)
    report = progress or (lambda _f: None)
    report(0.0)
    _check(cancel)
    rng = np.random.Generator(np.random.PCG64(s.seed))
    sch = _schedule(s, rng)
    report(0.2)
    _check(cancel)
    attempts, n_rows = _attempts(s, rng, sch, report, cancel)
    report(0.5)
    _check(cancel)
    rows = _trim(s, rng, sch, attempts, n_rows)
    truth, hours_f = _inject(s, sch, rows)
    cost = _costs(s, rng, rows, hours_f)
    report(0.75)
    _check(cancel)
    df = _frame(s, sch, rows, cost)
    if s.team_tags:
        _tag(s, df, rows)
    df = dictionary_columns(df)  # pipeline names, states, codes, tags: codes into their distinct values
    if truth is not None:
        df.attrs["ground_truth"] = truth.to_dict()
    report(1.0)
    return df


@dataclass
class _Schedule:
    """Scheduled runs (one per first attempt), pipeline by pipeline in contiguous blocks."""

    counts: np.ndarray      # scheduled runs per pipeline
    bounds: np.ndarray      # block boundaries (len = pipelines + 1)
    sched: np.ndarray       # start, seconds after the start day (int64)
    gb: np.ndarray          # data volume (GB)
    spot: np.ndarray        # runs on spot (bool)
    pipe_of: np.ndarray     # pipeline index of each scheduled run
    p_driver: np.ndarray    # probability of a driver (code) failure, volume-driven
    p_storage: np.ndarray   # probability of a storage-access failure, volume-driven
    q_volume: np.ndarray    # probability of neither
    work_nominal: np.ndarray  # planned working minutes at the cluster's throughput
    start_day: np.datetime64

    def per_run(self, values: np.ndarray, idx: np.ndarray | None) -> np.ndarray:
        """A per-pipeline array spread to every scheduled run (``idx`` None) or to the runs ``idx``."""
        return np.repeat(values, self.counts) if idx is None else values[self.pipe_of[idx]]


def _schedule(s: RealisticSettings, rng: np.random.Generator) -> _Schedule:
    """Schedule and volumes, pipeline by pipeline (each a contiguous block of scheduled runs).

    One scheduled run yields at least one row, so drawing ``runs`` scheduled runs always gives
    enough rows; the surplus (retries) is trimmed by :func:`_trim`.
    """
    cat = _CAT
    n, days = int(s.runs), int(s.days)
    start_day = np.datetime64(pd.Timestamp(s.start).date(), "D")
    share = np.where(cat.source_code == 0, s.sap_share, 1.0 - s.sap_share)
    src_total = np.array([cat.runs_per_day[cat.source_code == c].sum() for c in cat.source_code])
    counts = _allocate(n, cat.runs_per_day / src_total * share)
    bounds = np.concatenate(([0], np.cumsum(counts)))
    month_end = _month_end_days(start_day, days)
    gb = rng.standard_normal(n)  # becomes the volume, in place
    sched = rng.exponential(_SCHEDULER_DELAY_MIN * 60.0, n)  # scheduler delay (s); becomes the start
    for p in range(len(cat.names)):
        lo, hi = int(bounds[p]), int(bounds[p + 1])
        k = hi - lo
        if not k:
            continue
        rpd, per_hour = cat.runs_per_day[p], int(cat.per_hour[p])
        pos = np.arange(k) * (days / k)  # evenly spaced over the period, in days
        day = pos.astype(np.int64)
        pos -= day
        pos *= rpd  # slot of the day, with the fraction within the slot
        slot = pos.astype(np.int64)
        pos -= slot
        if k <= days * rpd:
            pos[:] = 0.0  # no fan-out: every run starts on its slot
        # slots are sorted in time: `per_hour` runs in each scheduled hour, evenly spaced
        tod = cat.hours[p][slot // per_hour] * 3600.0 + cat.minute[p] * 60.0
        tod += (slot % per_hour + pos) * (3600.0 / per_hour)
        block = sched[lo:hi]
        block += tod
        block += day * 86_400.0
        v = gb[lo:hi]
        v *= cat.sigma[p]
        v += cat.log_median[p]
        np.exp(v, out=v)
        if cat.peak[p] != 1.0 and s.month_end_peak_scale:
            v[month_end[day]] *= 1.0 + (cat.peak[p] - 1.0) * s.month_end_peak_scale
    sched = np.rint(sched).astype(np.int64)  # seconds after the start day
    np.round(gb, 2, out=gb)
    np.maximum(gb, 0.01, out=gb)
    spot = rng.random(n) < s.spot_share
    spot &= np.repeat(cat.spot_eligible, counts)
    pipe_of = np.repeat(np.arange(len(cat.names), dtype=np.intp), counts)
    sch = _Schedule(counts=counts, bounds=bounds, sched=sched, gb=gb, spot=spot, pipe_of=pipe_of,
                    p_driver=gb, p_storage=gb, q_volume=gb, work_nominal=gb, start_day=start_day)
    # volume-driven hazards: driver errors relative to the pipeline's median, storage errors absolute
    scale = s.failure_rate_scale
    p_driver = gb / sch.per_run(cat.median_gb, None)
    p_driver *= np.sqrt(p_driver)
    p_driver *= sch.per_run(cat.base_failure * scale, None)
    np.minimum(p_driver, 0.5, out=p_driver)
    p_storage = np.sqrt(gb * 0.1)
    p_storage *= _P_STORAGE_10GB * scale
    np.minimum(p_storage, 0.5, out=p_storage)
    q_volume = 1.0 - p_driver
    q_volume *= 1.0 - p_storage
    sch.p_driver, sch.p_storage, sch.q_volume = p_driver, p_storage, q_volume
    sch.work_nominal = gb / sch.per_run(cat.tput, None)
    return sch


def _attempts(s: RealisticSettings, rng: np.random.Generator, sch: _Schedule, report, cancel
              ) -> tuple[list[tuple], np.ndarray]:
    """Attempts: duration, failure mode and retries of every scheduled run.

    Returns ``(attempts, n_rows)``: one ``(runs, start_s, duration_min, mode, spot)`` per attempt
    number (``runs`` None for the first: every scheduled run), and the rows each scheduled run made.
    """
    cat, n, scale = _CAT, len(sch.sched), s.failure_rate_scale
    per_run = sch.per_run
    attempts: list[tuple] = []
    active: np.ndarray | None = None  # None = every scheduled run (first attempt)
    start_s = sch.sched
    spot_a = sch.spot
    n_rows = np.ones(n, dtype=np.int64)
    for a in range(1, s.max_retries + 2):
        m = n if active is None else len(active)
        startup = rng.uniform(*_STARTUP_RANGE, m)
        startup *= per_run(cat.startup, active)
        work = rng.standard_normal(m)
        work *= DURATION_NOISE_SIGMA
        np.exp(work, out=work)
        work *= sch.work_nominal if active is None else sch.work_nominal[active]
        dur = startup + work  # planned duration
        # spot: reclaim hazard per node-hour of the planned run; launch failures more likely
        p_spot = dur * per_run(cat.nodes, active)
        p_spot *= -_SPOT_LOSS_PER_NODE_HOUR * scale / 60.0
        np.expm1(p_spot, out=p_spot)
        np.negative(p_spot, out=p_spot)
        p_spot *= spot_a
        p_cluster = np.where(spot_a, _SPOT_LAUNCH_FACTOR * _P_CLUSTER * scale, _P_CLUSTER * scale)
        p_fail = 1.0 - p_spot
        p_fail *= 1.0 - p_cluster
        p_fail *= sch.q_volume if active is None else sch.q_volume[active]
        np.subtract(1.0, p_fail, out=p_fail)
        failed = np.flatnonzero(rng.random(m) < np.minimum(p_fail, _P_MAX, out=p_fail))
        mode = np.zeros(m, dtype=np.int8)
        if len(failed):
            g = failed if active is None else active[failed]
            hz = np.cumsum(np.stack([p_cluster[failed], sch.p_driver[g], sch.p_storage[g], p_spot[failed]]),
                           axis=0)
            x = rng.random(len(failed)) * hz[-1]
            fm = 1 + (x >= hz[:-1]).sum(axis=0)
            u = rng.random(len(failed))
            # failed runs stop part-way: launch failures during start-up, the others while working
            dur[failed] = np.where(fm == _CLUSTER, startup[failed] * (0.2 + 0.8 * u),
                                   startup[failed] + work[failed] * (0.05 + 0.95 * u))
            mode[failed] = fm
        timeout = per_run(cat.timeout, active)
        mode[dur > timeout] = _TIMEOUT
        np.minimum(dur, timeout, out=dur)
        np.round(dur, 2, out=dur)
        np.maximum(dur, 0.01, out=dur)
        attempts.append((active, start_s, dur, mode, spot_a))
        retry = mode != _OK
        if a > s.max_retries or not retry.any():
            break
        active = np.flatnonzero(retry) if active is None else active[retry]
        n_rows[active] += 1
        end_s = start_s[retry] + np.rint(dur[retry] * 60.0).astype(np.int64)
        start_s = end_s + np.rint(rng.uniform(*_RETRY_DELAY_MIN, len(active)) * 60.0).astype(np.int64)
        spot_a = spot_a[retry] & (mode[retry] != _SPOT)  # after a spot loss, fall back to on-demand
        report(0.2 + 0.3 * a / (s.max_retries + 1))
        _check(cancel)
    return attempts, n_rows


@dataclass
class _Rows:
    """One row per kept attempt, in pipeline order."""

    start: np.ndarray       # seconds after the start day
    dur: np.ndarray         # minutes
    mode: np.ndarray        # failure mode (0 = OK)
    spot: np.ndarray
    attempt: np.ndarray     # 1, 2, ... within a scheduled run
    has_next: np.ndarray    # a retry follows this row
    sched_no: np.ndarray    # scheduled-run number within its pipeline (1..)
    gb: np.ndarray
    pipe: np.ndarray        # pipeline index
    rows_per_pipe: np.ndarray


def _trim(s: RealisticSettings, rng: np.random.Generator, sch: _Schedule, attempts: list[tuple],
          n_rows: np.ndarray) -> _Rows:
    """Exactly ``runs`` rows: drop whole scheduled runs at random, evenly over the period."""
    n = len(sch.sched)
    keep = n_rows
    excess = int(n_rows.sum()) - n
    if excess > 0:
        keep = n_rows.copy()
        perm = rng.permutation(n)
        cs = np.cumsum(n_rows[perm])
        cut = int(np.searchsorted(cs, n))  # first scheduled run at which the running total reaches n
        keep[perm[cut + 1:]] = 0
        keep[perm[cut]] -= int(cs[cut]) - n
    offset = np.cumsum(keep)
    cum_keep = np.concatenate(([0], offset))
    offset -= keep
    rows_per_pipe = cum_keep[sch.bounds[1:]] - cum_keep[sch.bounds[:-1]]
    row_start = np.empty(n, dtype=np.int64)
    row_dur = np.empty(n, dtype=np.float64)
    row_mode = np.empty(n, dtype=np.int8)
    row_spot = np.empty(n, dtype=bool)
    for a, (chain, st, du, mo, sp) in enumerate(attempts, start=1):
        if chain is None:
            ok = keep >= 1
            dst = offset[ok]
        else:
            ok = keep[chain] >= a
            dst = offset[chain[ok]] + (a - 1)
        row_start[dst] = st[ok]
        row_dur[dst] = du[ok]
        row_mode[dst] = mo[ok]
        row_spot[dst] = sp[ok]
    chain_rows = keep  # rows of each scheduled run
    attempt = np.arange(1, n + 1, dtype=np.int64)
    attempt -= np.repeat(offset, chain_rows)
    has_next = attempt < np.repeat(chain_rows, chain_rows)
    kept = np.cumsum(keep > 0)
    before = np.concatenate(([0], kept))[sch.bounds[:-1]]
    sched_no = np.repeat(kept - np.repeat(before, sch.counts), chain_rows)  # 1.. within each pipeline
    return _Rows(start=row_start, dur=row_dur, mode=row_mode, spot=row_spot, attempt=attempt, has_next=has_next,
                 sched_no=sched_no, gb=np.repeat(sch.gb, chain_rows),
                 pipe=np.repeat(np.arange(len(_CAT.names), dtype=np.int8), rows_per_pipe),
                 rows_per_pipe=rows_per_pipe)


@dataclass
class _Cost:
    hours: np.ndarray       # compute hours (node-hours)
    cost: np.ndarray        # USD
    anomaly: np.ndarray     # injected anomaly (ground truth)


def _inject(s: RealisticSettings, sch: _Schedule, rows: _Rows) -> tuple[x.GroundTruth | None, np.ndarray | None]:
    """Ground truth (drifts, failure waves) when asked: ``rows`` updated in place; the node-hour factors.

    Draws only from :func:`realistic_extras.extras_rng`, and only when a setting is on.
    """
    if not (s.drift_pipelines or s.failure_waves):
        return None, None
    rng = x.extras_rng(s.seed)
    names = _CAT.names
    drifts = x.plan_drifts(rng, names, rows.rows_per_pipe, int(s.days), sch.start_day, s.drift_pipelines,
                           s.drift_pct_per_week)
    flip, waves = x.plan_failure_waves(rng, names, rows.pipe, rows.start, rows.mode == _OK, sch.start_day,
                                       int(s.days), s.failure_waves)
    if len(flip):
        rows.mode[flip] = _DRIVER
        rows.dur[flip] = np.maximum(np.round(rows.dur[flip] * rng.uniform(0.1, 0.9, len(flip)), 2), 0.01)
    dur_f, hours_f = x.drift_factors(drifts, names, rows.pipe, rows.start, sch.start_day)
    if dur_f is not None:
        rows.dur *= dur_f
        np.round(rows.dur, 2, out=rows.dur)
    return x.GroundTruth(drifts=drifts, failure_waves=waves), hours_f


def _tag(s: RealisticSettings, df: pd.DataFrame, rows: _Rows) -> None:
    """Team / cost-centre tags, workspace and SKU per pipeline; some runs untagged (own random stream)."""
    rng = x.extras_rng(s.seed, stream=17)
    tags, ws, sku = x.tag_texts(_CAT.names, [SOURCE_SYSTEMS[c] for c in _CAT.source_code])
    lost = x.untagged_runs(rng, len(rows.pipe))
    idx = pa.array(np.where(lost, len(tags), rows.pipe.astype(np.int64)))
    df["tags"] = _strings(pa.array(tags + [None], type=pa.large_string()).take(idx))
    df["workspace_id"] = _strings(pa.array(ws, type=pa.large_string()).take(pa.array(rows.pipe)))
    df["sku_name"] = _strings(pa.array(sku, type=pa.large_string()).take(pa.array(rows.pipe)))


def _costs(s: RealisticSettings, rng: np.random.Generator, rows: _Rows, hours_f: np.ndarray | None = None) -> _Cost:
    """Compute hours and cost of every row; injected anomalies (duration or cost spikes) when asked.

    Cost = node-hours x (DBU per node-hour x $/DBU + instance $/hour x the pipeline's instance
    factor, less the spot discount on spot rows). A spike stretches the run (a stuck stage) unless
    a retry follows it or the stretch would pass the job's timeout; then it is a runaway autoscaler
    (more node-hours, the same wall-clock time). ``rows.dur`` is updated in place.
    """
    cat, n = _CAT, len(rows.dur)
    rate_on = cat.dbu * s.usd_per_dbu + s.instance_usd_per_hour * cat.instance_factor
    rate_spot = cat.dbu * s.usd_per_dbu + s.instance_usd_per_hour * cat.instance_factor * (1.0 - s.spot_discount)
    rate = np.where(rows.spot, np.repeat(rate_spot, rows.rows_per_pipe), np.repeat(rate_on, rows.rows_per_pipe))
    anomaly = np.zeros(n, dtype=bool)
    hours_factor = None
    if s.anomaly_rate > 0:
        idx = np.flatnonzero(rng.random(n) < s.anomaly_rate)
        factor = rng.uniform(*ANOMALY_FACTOR_RANGE, len(idx))
        want_duration = rng.random(len(idx)) < 0.5
        stretched = np.round(rows.dur[idx] * factor, 2)
        as_duration = want_duration & ~rows.has_next[idx] & (stretched <= cat.timeout[rows.pipe[idx]])
        rows.dur[idx[as_duration]] = stretched[as_duration]
        hours_factor = factor[~as_duration], idx[~as_duration]
        anomaly[idx] = True
    hours = rows.dur * np.repeat(cat.nodes / 60.0, rows.rows_per_pipe)
    if hours_f is not None:  # injected drift: more node-hours for the same wall-clock time
        hours *= hours_f
    if hours_factor is not None:
        hours[hours_factor[1]] *= hours_factor[0]
    np.round(hours, 4, out=hours)
    cost = hours * rate
    np.round(cost, 4, out=cost)
    return _Cost(hours=hours, cost=cost, anomaly=anomaly)


def _frame(s: RealisticSettings, sch: _Schedule, rows: _Rows, cost: _Cost) -> pd.DataFrame:
    """Strings and the canonical frame (Arrow-backed text, categorical status and source)."""
    cat = _CAT
    start_ns = rows.start  # in place: the seconds are not needed again
    start_ns *= 1_000_000_000
    start_ns += sch.start_day.astype("datetime64[ns]").astype(np.int64)
    end_ns = np.rint(rows.dur * 60e9).astype(np.int64)
    end_ns += start_ns
    run_id = _run_ids(cat.names, rows.rows_per_pipe, rows.sched_no, rows.attempt)
    job = pa.array(cat.names, type=pa.large_string()).take(pa.array(rows.pipe))
    codes = pa.array(TERMINATION_CODES, type=pa.large_string()).take(pa.array(rows.mode))
    states = pa.array(_RESULT_STATES, type=pa.large_string()).take(pa.array(rows.mode))
    status = pd.Categorical.from_codes((rows.mode != _OK).view(np.int8), dtype=_STATUS_DTYPE)
    source = pd.Categorical.from_codes(cat.source_code[rows.pipe], dtype=_SOURCE_DTYPE)
    df = pd.DataFrame({
        "run_id": _strings(run_id),
        "job_name": _strings(job),
        "source_system": source,
        "start_time": start_ns.view("datetime64[ns]"),
        "end_time": end_ns.view("datetime64[ns]"),
        "duration_min": rows.dur,
        "data_processed_gb": rows.gb,
        "status": status,
        "result_state": _strings(states),
        "termination_code": _strings(codes),
        "compute_hours": cost.hours,
        "cost_usd": cost.cost,
        "attempt": pd.arrays.IntegerArray(np.ascontiguousarray(rows.attempt, dtype=np.int64),
                                          np.zeros(len(rows.attempt), dtype=bool)),  # every attempt known
        "spot": _bools(rows.spot),
        "injected_anomaly": _bools(cost.anomaly),
        "workspace_id": _nulls(len(rows.dur)),
        "sku_name": _nulls(len(rows.dur)),
        "tags": _nulls(len(rows.dur)),
    }, copy=False)
    if tuple(df.columns) != COLUMN_NAMES:  # pragma: no cover - guards edits of the schema
        raise AssertionError("realistic generator out of step with schema.COLUMNS")
    df.attrs["source"] = f"Realistic SAP/GIS (seed {s.seed})"
    return df


assert STATUSES == (SUCCESS, FAILED)  # status codes above: 0 = Success, 1 = Failed
_STATUS_DTYPE = pd.CategoricalDtype(list(STATUSES))
_SOURCE_DTYPE = pd.CategoricalDtype(list(SOURCE_SYSTEMS))
