"""Date-and-time columns to naive UTC datetimes (ISO fast paths in Arrow and pandas, then the
general parser with row-numbered errors). Day-first / month-first text is read before this by
:mod:`etl_desk.core.data.locale_dates`."""
from __future__ import annotations

import numpy as np
import pandas as pd

from etl_desk.core.data.arrow_text import arrow_chunks
from etl_desk.core.errors import DataError


def _arrow_datetimes(txt: pd.Series, *, blanks: bool = True) -> pd.Series | None:
    """ISO 8601 text parsed by Arrow's C++ cast (~15x faster than pandas), or None.

    All values naive -> naive; all values with an offset (any offsets) -> converted to
    UTC and made naive. Anything else (mixed, other formats, bad values, out of range)
    returns None and the general path decides, with its row-numbered errors.
    """
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = pa.array(txt.array)
        if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
            return None
        if blanks:
            arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, arr.type), arr)
    except Exception:  # noqa: BLE001 - any trouble: use the general path
        return None
    for typ in (pa.timestamp("ns"), pa.timestamp("ns", tz="UTC")):
        try:
            out = pc.cast(arr, typ)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            continue
        if typ.tz is not None:
            out = out.cast(pa.timestamp("ns"))  # Arrow keeps UTC instants; drop the zone
        values = out.to_numpy(zero_copy_only=False)  # a fresh array: no need for pandas to copy it
        return pd.Series(values, index=txt.index, copy=False).astype("datetime64[ns]")
    return None


def _to_datetime(s: pd.Series, label: str, file: str | None, rows) -> tuple[pd.Series, str | None]:
    """Naive UTC datetimes from *s*, and a warning when times with and without a UTC offset
    are mixed (those without are read as UTC). Raises DataError naming the first bad value."""
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        out = s
        if getattr(out.dt, "tz", None) is not None:
            out = out.dt.tz_convert("UTC").dt.tz_localize(None)
        return out.astype("datetime64[ns]"), None
    # Arrow's ISO cast is strict (one format, all naive or all with an offset): when it
    # succeeds there is nothing to strip and nothing mixed
    if arrow_chunks(s) is not None:
        fast = _arrow_datetimes(s, blanks=False)
        if fast is not None:
            return fast, None
    txt = s.astype("string").str.strip()
    fast = _arrow_datetimes(txt)
    if fast is not None:
        return fast, None
    # fast path: ISO 8601 throughout (what exports and ETL Desk write) parses in C; mixed
    # offsets, other formats and bad values fall through to the general path below
    try:
        fast = pd.to_datetime(txt, format="ISO8601")
    except (ValueError, TypeError, OverflowError):
        fast = None
    if fast is not None:
        if getattr(fast.dt, "tz", None) is not None:
            fast = fast.dt.tz_convert("UTC").dt.tz_localize(None)
        return fast.astype("datetime64[ns]"), None
    has_tz = txt.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True, na=False)
    n_tz, n_all = int(has_tz.sum()), int((txt.notna() & (txt != "")).sum())
    mixed = (f"column '{label}' mixes times with a UTC offset ({n_tz:,}) and without ({n_all - n_tz:,}); "
             "those without were read as UTC") if 0 < n_tz < n_all else None
    try:
        if has_tz.any():
            out = pd.to_datetime(txt, errors="coerce", utc=True, format="mixed")
            out = out.dt.tz_convert("UTC").dt.tz_localize(None)
        else:
            out = pd.to_datetime(txt, errors="coerce", format="mixed")
    except (ValueError, TypeError, OverflowError) as exc:  # pragma: no cover - pandas edge cases
        raise DataError(f"dates cannot be read ({exc})", file=file, column=label) from None
    bad = out.isna() & txt.notna() & (txt != "")
    if bad.any():
        i = np.flatnonzero(bad.to_numpy())[0]
        raise DataError(f"cannot read {str(txt.iloc[i])[:40]!r} as a date and time", file=file,
                        row=int(rows[i]), column=label)
    return out.astype("datetime64[ns]"), mixed


def datetime_ns(s: pd.Series) -> np.ndarray:
    """The values of a datetime column as a ``datetime64[ns]`` array: the column's own array
    (read-only, no copy) when it is stored in nanoseconds as the canonical table stores it, else a
    converted copy. ``to_numpy(dtype="datetime64[ns]")`` always copies: 8 MB per call at 1M runs.
    """
    if s.dtype == np.dtype("datetime64[ns]"):
        return s.to_numpy()
    return s.to_numpy(dtype="datetime64[ns]")
