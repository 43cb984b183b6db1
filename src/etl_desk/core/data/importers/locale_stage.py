"""The locale stage of a mapped table: numbers and dates read per column, before validation.

For each mapped number field (duration, data volume, compute hours, cost, DBUs) and
date field (start, end) held as text, the reading is chosen in this order:

1. the column's setting in the mapping (``Mapping.decimal`` / ``Mapping.dayfirst``);
2. the column's own evidence (:func:`etl_desk.core.data.locale_numbers.column_evidence`,
   :func:`etl_desk.core.data.locale_dates.column_evidence`);
3. the file-wide option (``ImportOptions.decimal`` / ``ImportOptions.dayfirst``,
   CLI ``--decimal-comma`` / ``--decimal-point`` / ``--day-first`` / ``--month-first``);
4. what the other columns of the same file prove (one locale per file);
5. otherwise the load is refused with a DataError naming the file, the column and the
   choice to make (:class:`~etl_desk.core.data.locale_numbers.AmbiguousNumbers`,
   :class:`~etl_desk.core.data.locale_dates.AmbiguousDates`).

Each decision is recorded in ``report.notes`` (``column 'Cost (USD)': ',' is the decimal
mark (2.345,10)``).
"""
from __future__ import annotations

import pandas as pd

from etl_desk.core.data import locale_dates, locale_numbers
from etl_desk.core.data.importers.options import ImportOptions
from etl_desk.core.errors import DataError, LoadReport

NUMBER_FIELDS = ("duration_min", "data_processed_gb", "compute_hours", "cost_usd", "dbus", "attempt")
DATE_FIELDS = ("start_time", "end_time")


def _is_text(s: pd.Series) -> bool:
    return s.dtype == object or pd.api.types.is_string_dtype(s.dtype)


def read_locale(df: pd.DataFrame, columns: dict[str, str], *, decimal: dict[str, str], dayfirst: dict[str, bool],
                options: ImportOptions, file: str | None, rows, report: LoadReport) -> pd.DataFrame:
    """*df* (fields as columns; *columns* field -> source header) with its text numbers as floats
    and its d/m/y text dates as datetimes. Raises DataError (see the module docstring)."""
    out = df.copy(deep=False)
    rows = rows if rows is not None else pd.RangeIndex(1, len(df) + 1)
    # --- numbers ----------------------------------------------------------------------
    evidence: dict[str, str | None] = {}
    for f in NUMBER_FIELDS:
        if f in df.columns and _is_text(df[f]):
            try:
                evidence[f] = locale_numbers.column_evidence(df[f])
            except ValueError as exc:
                raise DataError(f"the numbers mix two locales: {exc}", file=file, column=columns.get(f, f)) from None
    proved = {e for e in evidence.values() if e in (".", ",")}
    file_mark = proved.pop() if len(proved) == 1 else None
    for f, ev in evidence.items():
        label = columns.get(f, f)
        mark, how = _choose(decimal.get(f), ev if ev in (".", ",") else None, options.decimal, file_mark)
        if ev == "ambiguous" and mark is None:
            raise locale_numbers.ambiguous_error(df[f].astype("string").str.strip(), label, file)
        if ev is not None:
            report.read_as[label] = f"'{mark}' is the decimal mark ({how})"
        out[f] = locale_numbers.parse_numbers(df[f], decimal=mark or ".", label=label, file=file, rows=rows)
    # --- dates ------------------------------------------------------------------------
    dev: dict[str, tuple] = {}
    for f in DATE_FIELDS:
        if f in df.columns and _is_text(df[f]):
            try:
                got = locale_dates.column_evidence(df[f].astype("string"))  # strips only d/m/y columns
            except ValueError as exc:
                raise DataError(f"the dates mix day-first and month-first: {exc}", file=file,
                                column=columns.get(f, f)) from None
            if got is not None:
                dev[f] = got
    proved_d = {e[0] for e in dev.values() if e[0] is not None}
    file_order = proved_d.pop() if len(proved_d) == 1 else None
    for f, (own, why) in dev.items():
        label = columns.get(f, f)
        first, how = _choose(dayfirst.get(f), own, options.dayfirst, file_order)
        if first is None:
            raise locale_dates.ambiguous_error(df[f].astype("string").str.strip(), label, file)
        if how == "its own values":
            how = why
        report.read_as[label] = f"{'day' if first else 'month'}-first dates ({how})"
        out[f] = locale_dates.parse_dates(df[f], dayfirst=first, label=label, file=file, rows=rows)
    return out


def _choose(stated, own, option, file_wide):
    """(choice, how it was made) in the order of the module docstring; (None, '') when nothing decides."""
    for value, how in ((stated, "stated in the column mapping"), (own, "its own values"),
                       (option, "stated for the file"), (file_wide, "proved by another column of the file")):
        if value is not None:
            return value, how
    return None, ""
