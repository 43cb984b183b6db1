"""Column mapping: foreign headers -> canonical fields, with units.

``guess_mapping(headers)`` guesses from header synonyms and the units written in
header names (``run_duration_seconds``, ``duration_ms``, ``bytes_processed``,
``data_mb``, ``Duration (min)``). :func:`etl_desk.core.data.importers.apply.apply_mapping`
renames, reads locale numbers and dates, converts units, prices DBUs and ends in
:func:`etl_desk.core.data.schema.to_canonical`.

A :class:`Mapping` is plain data (``to_dict``/``from_dict``) so the window can
remember one per header set (:func:`header_key`) and the command line can read
one from a JSON file (:func:`load_mapping_file`)::

    {"version": 1,
     "columns": {"run_id": "RunIdentifier", "start_time": "Began", "duration_min": "Secs",
                 "status": "Outcome", "dbus": "DBU"},
     "units": {"duration_min": "s"},
     "decimal": {"cost_usd": ","},          # ',' or '.': the decimal mark of that column
     "dayfirst": {"start_time": true}}      # true: day-first dates, false: month-first

``decimal`` / ``dayfirst`` settle a column whose values read two ways (``1,250``,
``03/04/2024``); ``"*"`` as the field applies to every number / date column. The flat
form ``{"run_id": "RunIdentifier", "duration_min": {"column": "Secs", "unit": "s",
"decimal": ","}}`` is accepted too.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field


from etl_desk.core.data.schema import BY_NAME, COLUMN_NAMES, NAMES_BY_LABEL
from etl_desk.core.errors import DataError

#: Fields a mapping may target: the canonical columns plus two helpers.
#: ``dbus`` (DBUs consumed; cost = DBUs x $/DBU when there is no cost column) and
#: ``job_id`` (names the pipeline "job <id>" when there is no job name).
EXTRA_FIELDS = {"dbus": "DBUs", "job_id": "Job (pipeline) ID"}
FIELDS: tuple[str, ...] = COLUMN_NAMES + tuple(EXTRA_FIELDS)

#: Units per field: factor to the canonical unit.
UNITS: dict[str, dict[str, float]] = {
    "duration_min": {"ms": 1 / 60000, "s": 1 / 60, "min": 1.0, "h": 60.0, "d": 1440.0},
    "compute_hours": {"ms": 1 / 3.6e6, "s": 1 / 3600, "min": 1 / 60, "h": 1.0},
    "data_processed_gb": {"B": 1e-9, "KB": 1e-6, "MB": 1e-3, "GB": 1.0, "TB": 1e3, "PB": 1e6,
                          "KiB": 1024 / 1e9, "MiB": 1024 ** 2 / 1e9, "GiB": 1024 ** 3 / 1e9,
                          "TiB": 1024 ** 4 / 1e9},
    "start_time": {"auto": 1.0, "epoch_ms": 1.0, "epoch_s": 1.0, "epoch_us": 1.0},
    "end_time": {"auto": 1.0, "epoch_ms": 1.0, "epoch_s": 1.0, "epoch_us": 1.0},
    "attempt": {"auto": 1.0, "from0": 1.0, "from1": 1.0},
}
DEFAULT_UNITS = {"duration_min": "min", "compute_hours": "h", "data_processed_gb": "GB",
                 "start_time": "auto", "end_time": "auto", "attempt": "auto"}

_UNIT_TOKENS = {
    "ms": "ms", "msec": "ms", "millis": "ms", "millisecond": "ms", "milliseconds": "ms",
    "s": "s", "sec": "s", "secs": "s", "second": "s", "seconds": "s",
    "min": "min", "mins": "min", "minute": "min", "minutes": "min",
    "h": "h", "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
    "b": "B", "byte": "B", "bytes": "B",
    "kb": "KB", "mb": "MB", "gb": "GB", "tb": "TB", "pb": "PB",
    "kib": "KiB", "mib": "MiB", "gib": "GiB", "tib": "TiB",
}
_TIME_UNITS = {"ms", "s", "min", "h"}
_DATA_UNITS = {"B", "KB", "MB", "GB", "TB", "PB", "KiB", "MiB", "GiB", "TiB"}

#: field -> header stems (normalised, units removed), best first.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "run_id": ("run_id", "job_run_id", "runid", "run", "run_number", "execution_id", "exec_id",
               "run_key", "id", "job_id"),
    "job_name": ("job_name", "pipeline_name", "pipeline", "name", "run_name", "job", "workflow_name",
                 "workflow", "dag_id", "task_name", "job_title", "process", "process_name"),
    "source_system": ("source_system", "source", "system", "source_name", "origin"),
    "start_time": ("start_time", "start", "started", "started_at", "start_ts", "start_timestamp",
                   "run_start", "start_date", "begin", "begin_time", "period_start_time", "starttime",
                   "start_datetime"),
    "end_time": ("end_time", "end", "ended", "ended_at", "end_ts", "end_timestamp", "finish",
                 "finish_time", "finished", "finished_at", "completed_at", "completion_time", "stop_time",
                 "run_end", "end_date", "period_end_time", "endtime", "end_datetime"),
    "duration_min": ("duration", "run_duration", "runtime", "run_time", "elapsed", "elapsed_time",
                     "execution_time", "execution_duration", "wall_time", "wall_clock", "time_taken",
                     "job_duration", "total_duration", "duration_time", ""),
    "data_processed_gb": ("data_processed", "processed", "data", "data_volume", "volume", "data_size",
                          "size", "input_size", "bytes_read", "read", "input", "data_read",
                          "processed_data", "volume_processed", "data_written"),
    "status": ("status", "job_status", "run_status", "outcome", "final_status", "state_name"),
    "result_state": ("result_state", "state", "result", "run_result", "final_state", "life_cycle_state"),
    "termination_code": ("termination_code", "error_code", "termination_reason", "failure_reason",
                         "failure_code", "error_type", "termination_type", "reason_code", "error_class"),
    "compute_hours": ("compute_hours", "compute_used", "compute_hours_used", "compute", "compute_time",
                      "cluster_hours", "cluster", "node_hours", "node", "instance_hours", "instance",
                      "vm_hours", "vm", "core_hours", "core"),
    "cost_usd": ("cost_usd", "cost", "list_cost", "total_cost", "usd", "cost_dollars", "spend",
                 "amount_usd", "amount", "price_usd", "estimated_cost", "net_cost", "charge",
                 "job_cost", "run_cost", "cost_in_usd", "usd_cost", "billed_cost"),
    "dbus": ("dbus", "dbu", "usage_quantity", "dbu_usage", "dbus_used", "dbu_used", "dbu_consumed",
             "dbus_consumed", "dbu_hours", "total_dbus", "quantity"),
    "attempt": ("attempt", "attempt_number", "try_number", "try", "retry_number", "attempt_no"),
    "spot": ("spot", "is_spot", "spot_instance", "preemptible", "uses_spot", "spot_instances"),
    "injected_anomaly": ("injected_anomaly", "anomaly"),
    "workspace_id": ("workspace_id", "workspace", "workspace_name"),
    "sku_name": ("sku_name", "sku", "billing_sku"),
    "tags": ("tags", "custom_tags", "job_tags", "resource_tags", "labels"),
    "job_id": ("job_id", "pipeline_id", "workflow_id", "jobid"),
}
_SYN_RANK = {(f, s): i for f, syns in SYNONYMS.items() for i, s in enumerate(syns)}

REQUIRED_HELP = {
    "run_id": "a run ID column",
    "start_time": "a start time (or an end time with a duration)",
    "status": "a status or result-state column",
}


def normalise(header: object) -> str:
    """'Duration (min)' -> 'duration_min'; 'usage_metadata.job_run_id' -> 'usage_metadata_job_run_id'."""
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(header).strip())  # camelCase
    return re.sub(r"[^0-9a-z]+", "_", s.lower()).strip("_")


def split_unit(header: object) -> tuple[str, str | None]:
    """Header -> (stem without unit words, unit or None)."""
    tokens = normalise(header).split("_")
    unit = None
    rest = []
    for t in tokens:
        u = _UNIT_TOKENS.get(t)
        if u is not None and unit is None and (t not in ("s", "h", "b") or len(tokens) > 1):
            unit = u
        else:
            rest.append(t)
    return "_".join(x for x in rest if x), unit


def header_key(headers) -> str:
    """A stable key for a header set (order and case ignored) to remember a mapping by."""
    norm = sorted({normalise(h) for h in headers})
    return hashlib.sha1("\x1f".join(norm).encode("utf-8")).hexdigest()[:16]


@dataclass
class Mapping:
    """Which source header feeds each canonical field, and in which unit."""

    columns: dict[str, str] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    #: field (or "*") -> "," or ".": the decimal mark of a number column that reads two ways
    decimal: dict[str, str] = field(default_factory=dict)
    #: field (or "*") -> True (day-first) / False (month-first) for a date column that reads two ways
    dayfirst: dict[str, bool] = field(default_factory=dict)

    def unit(self, name: str) -> str:
        """The unit source column *name* is in (a :data:`UNITS` key: ``"s"``, ``"MB"``, ``"epoch_ms"`` ...):
        the mapping's, else the canonical default (:data:`DEFAULT_UNITS`), else ``""``.
        """
        return self.units.get(name, DEFAULT_UNITS.get(name, ""))

    def decimal_of(self, name: str) -> str | None:
        """The decimal mark (``","`` or ``"."``) stated for field *name* (or for every field, ``"*"``);
        None: not stated (the column's own values must settle it).
        """
        return self.decimal.get(name, self.decimal.get("*"))

    def dayfirst_of(self, name: str) -> bool | None:
        """True (day-first) / False (month-first) as stated for date field *name* (or for every field,
        ``"*"``); None: not stated (the column's own values must settle it).
        """
        return self.dayfirst.get(name, self.dayfirst.get("*"))

    def missing(self) -> list[str]:
        """Required fields this mapping does not cover (empty list: usable)."""
        c = self.columns
        out = []
        if "run_id" not in c:
            out.append("run_id")
        if "start_time" not in c and not ("end_time" in c and "duration_min" in c):
            out.append("start_time")
        if "status" not in c and "result_state" not in c:
            out.append("status")
        return out

    def describe_missing(self) -> str:
        """What the mapping still lacks, in words for the mapping dialog and errors
        (``"a run ID column; a status or result-state column"``); ``""`` when usable.
        """
        return "; ".join(REQUIRED_HELP[m] for m in self.missing())

    def to_dict(self) -> dict:
        """The mapping as the JSON-ready dict of the module docstring: ``{"version": 1, "columns": {field:
        header}, "units": {field: unit}}`` plus ``"decimal"`` / ``"dayfirst"`` when any are stated.
        """
        d = {"version": 1, "columns": dict(self.columns), "units": dict(self.units)}
        if self.decimal:
            d["decimal"] = dict(self.decimal)
        if self.dayfirst:
            d["dayfirst"] = dict(self.dayfirst)
        return d

    def to_json(self) -> str:
        """:meth:`to_dict` as indented JSON text with sorted keys (what ``--map FILE`` reads back)."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: object, *, source: str | None = None) -> "Mapping":
        """Build and validate; DataError names the offending key."""
        def bad(msg: str) -> DataError:
            return DataError(msg, file=source)

        if not isinstance(data, dict):
            raise bad("a mapping must be a JSON object like {\"columns\": {\"run_id\": \"RunID\", ...}}")
        data = dict(data)
        version = data.pop("version", 1)
        if version != 1:
            raise bad(f"key 'version': unsupported mapping version {version!r} (expected 1)")
        dec_in, day_in = data.pop("decimal", {}), data.pop("dayfirst", {})
        if not isinstance(dec_in, dict) or not isinstance(day_in, dict):
            raise bad("keys 'decimal' / 'dayfirst': expected an object of field -> setting")
        if "columns" in data:
            cols_in, units_in = data.pop("columns"), data.pop("units", {})
            if data:
                raise bad(f"key {sorted(data)[0]!r}: unknown key (expected 'columns', 'units', 'decimal', "
                          f"'dayfirst', 'version')")
        else:
            cols_in, units_in = {}, {}
            for k, v in data.items():
                if isinstance(v, dict):
                    if "column" not in v:
                        raise bad(f"key {k!r}: expected {{\"column\": ..., \"unit\": ...}}")
                    cols_in[k] = v["column"]
                    if "unit" in v:
                        units_in[k] = v["unit"]
                    if "decimal" in v:
                        dec_in[k] = v["decimal"]
                    if "dayfirst" in v:
                        day_in[k] = v["dayfirst"]
                else:
                    cols_in[k] = v
        if not isinstance(cols_in, dict):
            raise bad("key 'columns': expected an object of field -> column name")
        if not isinstance(units_in, dict):
            raise bad("key 'units': expected an object of field -> unit")
        columns: dict[str, str] = {}
        for k, v in cols_in.items():
            name = _field_name(k)
            if name is None:
                raise bad(f"key 'columns.{k}': unknown field (use one of {', '.join(FIELDS)})")
            if v is None:
                continue
            if not isinstance(v, (str, int)) or str(v) == "":
                raise bad(f"key 'columns.{k}': expected a column name, got {v!r}")
            columns[name] = str(v)
        units: dict[str, str] = {}
        for k, v in units_in.items():
            name = _field_name(k)
            if name is None or name not in UNITS:
                raise bad(f"key 'units.{k}': no unit applies to this field (units apply to "
                          f"{', '.join(UNITS)})")
            u = _unit_name(name, v)
            if u is None:
                raise bad(f"key 'units.{k}': unknown unit {v!r} (use one of {', '.join(UNITS[name])})")
            units[name] = u
        decimal: dict[str, str] = {}
        for k, v in dec_in.items():
            name = "*" if k == "*" else _field_name(k)
            if name is None or v not in (",", "."):
                raise bad(f"key 'decimal.{k}': expected a field and ',' or '.', got {v!r}")
            decimal[name] = v
        dayfirst: dict[str, bool] = {}
        for k, v in day_in.items():
            name = "*" if k == "*" else _field_name(k)
            if name is None or not isinstance(v, bool):
                raise bad(f"key 'dayfirst.{k}': expected a field and true (day-first) or false (month-first), "
                          f"got {v!r}")
            dayfirst[name] = v
        return cls(columns, units, decimal, dayfirst)

    @classmethod
    def from_json(cls, text: str, *, source: str | None = None) -> "Mapping":
        """Parse JSON *text* (a ``--map`` file or a remembered mapping) and validate it (:meth:`from_dict`).

        Raises:
            DataError: naming *source* as the file: the text is not valid JSON (or nested too deeply),
                or a key or value is wrong (the message names the key, e.g. ``key 'units.duration_min'``).
        """
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise DataError(f"not valid JSON ({exc})", file=source) from None
        return cls.from_dict(data, source=source)


def _field_name(key: object) -> str | None:
    k = str(key)
    if k in FIELDS:
        return k
    if k in NAMES_BY_LABEL:
        return NAMES_BY_LABEL[k]
    n = normalise(k)
    return n if n in FIELDS else None


def _unit_name(fieldname: str, unit: object) -> str | None:
    allowed = UNITS[fieldname]
    u = str(unit).strip()
    if u in allowed:
        return u
    low = {a.lower(): a for a in allowed}
    if u.lower() in low:
        return low[u.lower()]
    tok = _UNIT_TOKENS.get(u.lower())
    return tok if tok in allowed else None


def load_mapping_file(path: str | os.PathLike) -> Mapping:
    """Read a mapping JSON file (``--map FILE``); DataError names the file and the bad key."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(1_000_001)
    except OSError as exc:
        raise DataError(f"cannot read the mapping file ({exc.strerror or exc})", file=str(path)) from None
    if len(raw) > 1_000_000:
        raise DataError("the mapping file is larger than 1 MB; it is not a mapping", file=str(path))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError("the mapping file is not UTF-8 text", file=str(path)) from None
    return Mapping.from_json(text, source=str(path))


def guess_mapping(headers) -> Mapping:
    """Guess which header feeds which field, and its unit, from the header names."""
    headers = [str(h) for h in headers]
    # exact canonical labels or names first (the case-study CSV maps to itself)
    columns: dict[str, str] = {}
    units: dict[str, str] = {}
    used: set[str] = set()
    for h in headers:
        name = NAMES_BY_LABEL.get(h.strip()) or (h.strip() if h.strip() in COLUMN_NAMES else None)
        if name and name not in columns:
            columns[name] = h
            used.add(h)
            if BY_NAME[name].unit and name in UNITS:
                units[name] = DEFAULT_UNITS[name]
    # then synonyms: every (field, header) candidate with a score; best first
    cands = []
    for pos, h in enumerate(headers):
        if h in used:
            continue
        stem, unit = split_unit(h)
        full = normalise(h)
        for f in SYNONYMS:
            if f in columns:
                continue
            score = None
            for key, bonus in ((full, 0), (stem, 1)):
                r = _SYN_RANK.get((f, key))
                if r is not None:
                    score = min(score, r + bonus) if score is not None else r + bonus
            if score is None:
                continue
            if f == "duration_min" and unit not in (None, *_TIME_UNITS):
                continue
            if f == "data_processed_gb" and unit not in (None, *_DATA_UNITS):
                continue
            if f == "compute_hours" and unit not in (None, *_TIME_UNITS):
                continue
            if f not in ("duration_min", "data_processed_gb", "compute_hours") and unit is not None \
                    and full != key_of(f, full):
                continue
            if stem == "" and f == "duration_min" and unit not in _TIME_UNITS:
                continue
            cands.append((score, pos, f, h, unit))
    # a bare data-size unit header ('gb', 'bytes') is data volume
    for pos, h in enumerate(headers):
        stem, unit = split_unit(h)
        if stem in ("", "total", "size") and unit in _DATA_UNITS and h not in used:
            cands.append((0, pos, "data_processed_gb", h, unit))
    cands.sort(key=lambda c: (c[0], c[1]))
    for score, pos, f, h, unit in cands:
        if f in columns or h in used:
            continue
        # 'job_id' is a run ID only when nothing better names runs
        if f == "run_id" and normalise(h) == "job_id":
            continue
        columns[f] = h
        used.add(h)
        if f in UNITS and unit is not None and unit in UNITS[f]:
            units[f] = unit
        elif f in DEFAULT_UNITS and f in UNITS and f not in ("start_time", "end_time", "attempt"):
            units[f] = DEFAULT_UNITS[f]
    if "run_id" not in columns:
        for h in headers:
            if normalise(h) in ("job_id", "jobid") and (h not in used or columns.get("job_id") == h):
                columns["run_id"] = h
                used.add(h)
                if columns.get("job_id") == h:
                    del columns["job_id"]
                break
    if "attempt" in columns and normalise(columns["attempt"]) in ("attempt_number", "retry_number"):
        units.setdefault("attempt", "auto")
    return Mapping(columns, units)


def key_of(f: str, full: str) -> str:
    """*full* when the whole normalised header *full* is itself a synonym of field *f* (:data:`SYNONYMS`),
    else ``""``: a header with a unit word may map to a non-quantity field only then.
    """
    return full if (f, full) in _SYN_RANK else ""
