"""Applying a column mapping: a raw table -> the canonical table.

Stages: rename to fields; the locale stage (:mod:`.locale_stage`: numbers and dates
read per column); units; status kept raw; pipeline name from a job ID; cost (the
file's, DBUs x $/DBU, compute hours x $/hour, run time x $/hour, or unknown: NaN with
``df.attrs["cost_unknown_why"]``); then :func:`etl_desk.core.data.schema.to_canonical`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from etl_desk.core.data.arrow_text import strings_unique, text_facts
from etl_desk.core.data.importers.locale_stage import read_locale
from etl_desk.core.data.importers.mapping import EXTRA_FIELDS, UNITS, Mapping
from etl_desk.core.data.importers.options import ImportOptions
from etl_desk.core.data.importers.table_shape import footer_mask
from etl_desk.core.data.locale_numbers import parse_numbers
from etl_desk.core.data.schema import COLUMN_NAMES, LABELS, to_canonical
from etl_desk.core.errors import DataError, LoadReport

def _epoch_to_datetime(s: pd.Series, unit: str) -> pd.Series:
    v = pd.to_numeric(s, errors="coerce")
    if unit == "auto":
        mx = float(np.nanmax(np.abs(v.to_numpy(dtype=float)))) if v.notna().any() else 0.0
        unit = "epoch_us" if mx > 1e14 else "epoch_ms" if mx > 1e11 else "epoch_s"
    pd_unit = {"epoch_ms": "ms", "epoch_s": "s", "epoch_us": "us"}[unit]
    out = pd.to_datetime(v.where(v > 0), unit=pd_unit, errors="coerce")
    return out


def apply_mapping(raw: pd.DataFrame, mapping: Mapping, *, file: str | None = None,
                  options: ImportOptions | None = None, report: LoadReport | None = None,
                  row_numbers=None) -> pd.DataFrame:
    """Rename, convert units, price DBUs and validate *raw* into the canonical table.

    Raises DataError naming the file, and the row and column where there is one.
    ``df.attrs["cost_basis"]`` says where the cost came from (see ``COST_BASES``).
    """
    options = (options or ImportOptions()).validate()
    report = report if report is not None else LoadReport()
    headers = [str(c) for c in raw.columns]
    raw = raw.set_axis(headers, axis=1)
    for f, h in mapping.columns.items():
        if h not in raw.columns:
            shown = ", ".join(repr(x) for x in headers[:12]) + (" ..." if len(headers) > 12 else "")
            raise DataError(f"the mapping reads column {h!r} for {f}, but the file has no such column "
                            f"(columns: {shown})", file=file, column=h)
    missing = mapping.missing()
    if missing:
        shown = ", ".join(repr(x) for x in headers[:12]) + (" ..." if len(headers) > 12 else "")
        first = missing[0]
        raise DataError(f"required column {LABELS.get(first, first)!r} is missing: need "
                        f"{mapping.describe_missing()} (columns found: {shown}); "
                        f"map them in the import dialog or with --map FILE",
                        file=file, column=LABELS.get(first, first))
    cols = mapping.columns
    out: dict[str, pd.Series] = {}
    for f, h in cols.items():
        if f in COLUMN_NAMES or f in EXTRA_FIELDS:
            out[f] = raw[h]
    df = pd.DataFrame(out, index=raw.index, copy=False)  # copy-on-write keeps raw apart
    rows = (np.arange(1, len(df) + 1) if row_numbers is None else np.asarray(row_numbers, dtype=np.int64))

    # --- totals and notes under the data ----------------------------------------------
    foot = footer_mask(df, ["start_time", "end_time"])
    if foot.any():
        n = int(foot.sum())
        report.add(f"{n:,} row(s) under the data without a start or end time (totals, notes) are not runs: "
                   f"left out (first at row {int(rows[foot][0])})")
        report.leave_out("total or note row under the data (no start or end time)", n, rows[foot][:5], file=file)
        df, rows = df.loc[~foot], rows[~foot]
    # --- locale: numbers and dates read per column ---------------------------------------
    df = read_locale(df, cols, decimal={f: mapping.decimal_of(f) for f in cols},
                     dayfirst={f: mapping.dayfirst_of(f) for f in cols}, options=options, file=file, rows=rows,
                     report=report)
    row_numbers = rows

    # --- units -------------------------------------------------------------------
    for f in ("duration_min", "compute_hours", "data_processed_gb"):
        if f in df.columns:
            factor = UNITS[f][mapping.unit(f)]
            if factor != 1.0:
                num = _numeric(df[f], LABELS[f], file, row_numbers)
                df[f] = num * factor
    for f in ("start_time", "end_time"):
        if f in df.columns:
            s = df[f]
            unit = mapping.unit(f)
            if unit != "auto" or (pd.api.types.is_numeric_dtype(s.dtype)
                                  and not pd.api.types.is_bool_dtype(s.dtype)):
                df[f] = _epoch_to_datetime(s, unit)
    # times mixing UTC offsets and bare times are reported by to_canonical (read as UTC)
    if "attempt" in df.columns:
        unit = mapping.unit("attempt")
        a = df["attempt"]
        if not (pd.api.types.is_integer_dtype(a.dtype) and not pd.api.types.is_bool_dtype(a.dtype)):
            a = _numeric(a, "Attempt", file, row_numbers)
        if unit == "from0" or (unit == "auto" and a.notna().any() and a.min() == 0):
            df["attempt"] = a + 1
            report.add(f"attempt numbers in column {cols['attempt']!r} count from 0; 1 was added")
    # text longer than schema.TEXT_LIMIT is clipped (with a warning) by to_canonical
    # --- status: keep the raw state -----------------------------------------------
    if "status" in df.columns and "result_state" not in df.columns:
        st = df["status"]
        if _is_text(st):
            u = pd.Series(pd.unique(st), dtype="object").dropna().astype(str).str.strip().str.lower()
            if not u.isin(["success", "failed"]).all():
                df["result_state"] = st
    # --- job name from job id -------------------------------------------------------
    if "job_id" in df.columns:
        jid = df.pop("job_id")
        if "job_name" not in df.columns:
            jid = jid.astype("string").str.strip()
            df["job_name"] = ("job " + jid).where(jid.notna() & (jid != ""), pd.NA)
    # --- cost --------------------------------------------------------------------
    basis = "file"
    unknown_why = None
    dbus = df.pop("dbus") if "dbus" in df.columns else None
    kwargs = options.canonical_kwargs()
    if "cost_usd" not in df.columns:
        if dbus is not None and options.dbu_price is not None:
            d = _numeric(dbus, cols["dbus"], file, row_numbers)
            df["cost_usd"] = d * options.dbu_price
            basis = "usd_per_dbu"
            report.add(f"cost = DBUs (column {cols['dbus']!r}) x ${options.usd_per_dbu:g}/DBU"
                       + (f" less {options.contract_discount:.0%} discount" if options.contract_discount else ""))
        elif "compute_hours" in df.columns and options.usd_per_hour is not None:
            kwargs["rate_usd_per_hour"] = options.usd_per_hour
            basis = "usd_per_hour"
            report.add(f"cost = compute hours x ${options.usd_per_hour:g}/hour (no cost column)")
        else:
            why = (f"column {cols['dbus']!r} holds DBUs but no price per DBU was given"
                   if dbus is not None else "the file has no cost column")
            basis = _no_cost(df, why, file=file, options=options, report=report,
                             dbu_hint=dbus is not None)
            if basis == "none":
                kwargs["unknown_cost"] = True
                unknown_why = why
    if "run_id" in df.columns:
        # Excel's damage is looked for now (a sample settles most files); whether the IDs repeat is asked
        # once, by the validator on its own thread while its workers convert the other columns
        if not mangled_ids(df["run_id"], cols["run_id"], file, report):
            label = cols["run_id"]
            kwargs["ids_unique"] = lambda rid: distinct_ids(rid, label, file, report)
    canon = to_canonical(df, file=file, report=report, row_numbers=row_numbers, **kwargs)
    canon.attrs["cost_basis"] = basis
    if unknown_why:
        canon.attrs["cost_unknown_why"] = unknown_why
    return canon


_SCIENTIFIC = r"[+-]?\d(?:[.,]\d+)?[Ee][+]?\d+"


def _id_text(ids: pd.Series) -> pd.Series:
    """Run IDs as text, surrounding blanks stripped (no copy when the Arrow buffers show none)."""
    if pd.api.types.is_numeric_dtype(ids.dtype) and not pd.api.types.is_bool_dtype(ids.dtype):
        return ids.astype("string")
    facts = text_facts(ids)  # from the Arrow buffers: nothing to strip and nothing blank -> no copy
    return ids.astype("string") if facts is not None and facts.clean else ids.astype("string").str.strip()


def mangled_ids(ids: pd.Series, label: str, file: str | None, report: LoadReport) -> bool:
    """Warn (by file, column and count) about run IDs Excel mangled: written in scientific
    notation (``1.11223E+15``) or rounded to 15 significant digits (numbers of 16+ digits).
    The rows are never merged or dropped: the validator keeps them with made-unique IDs (``#2``...).
    Returns True when some are (warned). Repeats are :func:`distinct_ids`'s."""
    where = f"{file}: " if file else ""
    n_sci = n_big = 0
    txt = _id_text(ids)
    if pd.api.types.is_numeric_dtype(ids.dtype) and not pd.api.types.is_bool_dtype(ids.dtype):
        big = ids.abs() >= 1e15
        n_big = int(big.sum())
        if n_big:  # Excel shows such a number as 1.11223E+15
            txt = txt.where(~big, ids[big].map(lambda v: f"{v:.6G}"))
    else:
        # Excel rewrites a whole column: a sample tells whether to look at every value
        head = txt.iloc[:500]
        if head.str.fullmatch(_SCIENTIFIC).fillna(False).any():
            n_sci = int(txt.str.fullmatch(_SCIENTIFIC).fillna(False).sum())
        if head.str.fullmatch(r"\d{16,}(?:\.0+)?").fillna(False).any():
            n_big = int(txt.str.fullmatch(r"\d{16,}(?:\.0+)?").fillna(False).sum())
    if n_sci:
        msg = (f"{where}column '{label}': {n_sci:,} run ID(s) written in scientific notation by Excel "
               f"(e.g. {txt[txt.str.fullmatch(_SCIENTIFIC).fillna(False)].iloc[0]!r}): they no longer match "
               f"Databricks run IDs; {_KEPT}")
        report.add(msg)
        report.note(msg)
    if n_big:
        ex = txt[txt.notna()].iloc[0]
        msg = (f"{where}column '{label}': {n_big:,} run ID(s) of 16+ digits stored as numbers (e.g. {ex!r}): "
               f"Excel keeps 15 significant digits, so they are rounded and may be shared by different runs; "
               f"{_KEPT}")
        report.add(msg)
        report.note(msg)
    return bool(n_sci or n_big)


_KEPT = "the rows are kept as different runs with made-unique IDs ('#2', '#3', ...)"


def distinct_ids(txt: pd.Series, label: str, file: str | None, report: LoadReport) -> bool:
    """Whether the run IDs *txt* (text, as the validator cleaned them) are all distinct; when some repeat,
    warn (by file, column and count: Excel drops leading zeros, ``000123`` -> ``123``). False also when it
    could not tell cheaply (the validator then checks exactly)."""
    if strings_unique(txt) is True:
        return True
    dup = txt.notna() & txt.duplicated(keep=False)
    if dup.any():
        where = f"{file}: " if file else ""
        msg = (f"{where}column '{label}': {int(dup.sum()):,} rows share a run ID with another row "
               f"(e.g. {txt[dup].iloc[0]!r}; Excel drops leading zeros: 000123 -> 123); {_KEPT}")
        report.add(msg)
        report.note(msg)
    return False


def _no_cost(df: pd.DataFrame, why: str, *, file, options: ImportOptions, report: LoadReport,
             dbu_hint: bool = False) -> str:
    """Fill df['cost_usd'] when the source has no cost: $/hour x run time, or unknown (NaN, never 0)."""
    hint = "give a price per DBU (--usd-per-dbu)" if dbu_hint else \
        "give a $/hour of run time (--usd-per-hour) to estimate it"
    if options.usd_per_hour is not None:
        dur = _duration_minutes(df)
        df["cost_usd"] = dur / 60.0 * float(options.usd_per_hour)
        report.add(f"COST ESTIMATED: {why}; cost = run time x ${options.usd_per_hour:g}/hour")
        return "usd_per_hour"
    if options.strict:
        raise DataError(f"no cost: {why}; {hint}", file=file, column="Cost (USD)")
    df["cost_usd"] = np.nan
    report.add(f"COST UNKNOWN: {why}; every cost figure is unknown until you {hint}.")
    return "none"


def _duration_minutes(df: pd.DataFrame) -> pd.Series:
    if "duration_min" in df.columns:
        d = pd.to_numeric(df["duration_min"], errors="coerce")
        if d.notna().all():
            return d
    else:
        d = pd.Series(np.nan, index=df.index)
    if "start_time" in df.columns and "end_time" in df.columns:
        try:
            s = pd.to_datetime(df["start_time"], errors="coerce", format="mixed", utc=True)
            e = pd.to_datetime(df["end_time"], errors="coerce", format="mixed", utc=True)
            d = d.where(d.notna(), (e - s).dt.total_seconds() / 60.0)
        except (ValueError, TypeError):
            pass
    return d.clip(lower=0).fillna(0.0)


def _is_text(s: pd.Series) -> bool:
    return s.dtype == object or pd.api.types.is_string_dtype(s.dtype)


def _numeric(s: pd.Series, label: str, file, row_numbers) -> pd.Series:
    """Floats of a column the locale stage has not read (numbers already are): '.' decimals."""
    rows = row_numbers if row_numbers is not None else pd.RangeIndex(1, len(s) + 1)
    return parse_numbers(s, decimal=None, label=label, file=file, rows=rows)
