"""Number formatting shared by the window, the command line and reports.

Every number is rounded the way a spreadsheet displays it: the value to 15
significant digits, then half-up to the shown decimals. The case study's costs sum
to 1315.095 exactly, which binary floating point holds as 1315.0949999999998; Excel
and LibreOffice show $1,315.10, and so does ETL Desk; a p95 of 114.04999999999998
minutes shows as 114.1 everywhere. So the app, the terminal report and the workbook
never disagree in the last digit (one rounding, here).

:data:`UNITS` is the unit vocabulary core attaches to figures and table columns
(e.g. :attr:`etl_desk.core.insights.base.Insight.units`); the workbook and the window
pick number formats from it, never from header words.
"""
from __future__ import annotations

import datetime as _dt
import math
from decimal import ROUND_HALF_UP, Decimal


def _bad(x) -> bool:
    """True for an unknown value: None, pandas' NA/NaT, NaN or infinity of any float type (NumPy's too)."""
    if x is None:
        return True
    try:
        f = float(x)
    except (TypeError, ValueError):  # pd.NA and pd.NaT refuse float(); text is left to the caller
        return x is not x or type(x).__name__ in ("NAType", "NaTType")
    return math.isnan(f) or math.isinf(f)


def money_round(x: float, decimals: int = 2) -> Decimal:
    """*x* to *decimals* places as a spreadsheet shows it (15 significant digits, then half-up)."""
    return Decimal(f"{float(x):.15g}").quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def half_up(x: float, decimals: int) -> float:
    """*x* rounded as a spreadsheet shows it (15 significant digits, then half-up), as a float."""
    return float(money_round(x, decimals))


#: Units of figures and table columns: key -> what it means. Percent values are already
#: multiplied by 100 (7.5 means 7.5 %); fractions are 0..1 (0.075 means 7.5 %).
UNITS = {
    "usd": "US dollars",
    "usd_per_tb": "US dollars per TB (1 TB = 1,000 GB)",
    "usd_per_min": "US dollars per minute of run time",
    "count": "a whole number of runs, weeks or items",
    "fraction": "a share between 0 and 1, shown as a percentage",
    "percent": "a percentage already multiplied by 100",
    "min": "minutes",
    "gb": "gigabytes (1 GB = 10^9 bytes)",
    "gb_per_min": "gigabytes per minute",
    "tb": "terabytes (1 TB = 1,000 GB)",
    "days": "days",
    "months": "months",
    "date": "a calendar date",
    "datetime": "a date and time (UTC)",
    "ratio": "a multiple (x times)",
    "z": "a robust z-score (robust standard deviations)",
    "number": "a plain number",
    "text": "text",
    "bool": "yes or no",
}


def usd(x, decimals: int = 2, missing: str = "—") -> str:
    """$1,315.10; -$3.50; *missing* for None/NaN."""
    if _bad(x):
        return missing
    d = money_round(x, decimals)
    sign = "-" if d < 0 else ""
    return f"{sign}${abs(d):,.{decimals}f}"


def usd_short(x) -> str:
    """Compact currency for axes and KPI tiles: $950, $12.3k, $4.56M."""
    if _bad(x):
        return "—"
    x = float(x)
    a = abs(x)
    sign = "-" if x < 0 else ""
    if a >= 1e9:
        return f"{sign}${a / 1e9:,.2f}B"
    if a >= 1e6:
        return f"{sign}${a / 1e6:,.2f}M"
    if a >= 1e4:
        return f"{sign}${a / 1e3:,.1f}k"
    if a >= 100:
        return f"{sign}${a:,.0f}"
    return f"{sign}${a:,.2f}"


def fixed(x, decimals: int) -> str:
    """*x* with *decimals* places and thousands separators, rounded as a spreadsheet shows it."""
    return f"{money_round(x, decimals):,.{decimals}f}"


def gb(x, decimals: int = 2) -> str:
    """Gigabytes with *decimals* places (``"1,234.50 GB"``); ``"—"`` for None/NaN/inf (unknown volume)."""
    if _bad(x):
        return "—"
    return f"{fixed(x, decimals)} GB"


def tb(x, decimals: int = 2) -> str:
    """Terabytes (1 TB = 1,000 GB) with *decimals* places (``"1.23 TB"``); ``"—"`` for None/NaN/inf."""
    if _bad(x):
        return "—"
    return f"{fixed(x, decimals)} TB"


def minutes(x, decimals: int = 1) -> str:
    """Minutes (``"45 min"``, ``"114.1 min"``): whole numbers show no decimals; ``"—"`` for None/NaN/inf."""
    if _bad(x):
        return "—"
    x = float(x)
    if decimals == 0 or x == int(x):
        return f"{fixed(x, 0)} min"
    return f"{fixed(x, decimals)} min"


def pct(x, decimals: int = 2) -> str:
    """A fraction as a percentage: 0.0476 -> '4.76 %'."""
    if _bad(x):
        return "—"
    return f"{fixed(float(x) * 100, decimals)} %"


def count(n) -> str:
    """A whole number with thousands separators (``"1,000"``, truncated); ``"—"`` for None/NaN/inf."""
    if _bad(n):
        return "—"
    return f"{int(n):,}"


def number(x, decimals: int = 2) -> str:
    """A plain number with *decimals* places and thousands separators, rounded as a spreadsheet shows it;
    ``"—"`` for None/NaN/inf.
    """
    if _bad(x):
        return "—"
    return fixed(x, decimals)


def _missing(x) -> bool:
    """None, NaN, NaT or pandas' NA (without importing pandas)."""
    if x is None:
        return True
    if isinstance(x, float):
        return math.isnan(x)
    return type(x).__name__ in ("NaTType", "NAType") or (hasattr(x, "dtype") and str(x) in ("nan", "NaT"))


def _when(x, with_time: bool) -> str:
    """A date as '14 Apr 2024' (and ' 04:38' when it has a time of day and *with_time*)."""
    if hasattr(x, "to_pydatetime"):
        x = x.to_pydatetime()
    elif type(x).__name__ == "datetime64":
        x = _dt.datetime.fromisoformat(str(x.astype("datetime64[s]")))
    if isinstance(x, _dt.datetime):
        timed = with_time and (x.hour, x.minute, x.second) != (0, 0, 0)
        return x.strftime("%d %b %Y %H:%M" if timed else "%d %b %Y")
    if isinstance(x, _dt.date):
        return x.strftime("%d %b %Y")
    return str(x)


def by_unit(x, unit: str | None, missing: str = "—") -> str:
    """*x* formatted for its :data:`UNITS` key; unknown or no unit: as a plain number (or as text).

    Missing values (None, NaN, NaT, NA) are *missing*; dates '14 Apr 2024' (``datetime``: with
    the time of day when it has one); booleans 'yes' / 'no'.
    """
    if _missing(x):
        return missing
    if isinstance(x, bool) or type(x).__name__ in ("bool_", "bool") or unit == "bool":
        return "yes" if bool(x) else "no"
    if unit in ("date", "datetime") or isinstance(x, (_dt.date, _dt.datetime)) or type(x).__name__ in (
            "Timestamp", "datetime64"):
        return _when(x, unit != "date")
    if unit == "text" or isinstance(x, str):
        return str(x)
    if unit == "usd":
        return usd(x, missing=missing)
    if unit in ("usd_per_tb", "usd_per_min"):
        return usd(x, 4 if unit == "usd_per_min" else 2, missing=missing) + (" per TB" if unit == "usd_per_tb"
                                                                            else " per min")
    if unit == "count":
        return count(x)
    if unit == "fraction":
        return pct(x)
    if unit == "percent":
        return f"{fixed(x, 2)} %"
    if unit == "min":
        return minutes(x)
    if unit in ("gb", "tb"):
        return gb(x) if unit == "gb" else tb(x)
    if unit == "gb_per_min":
        return f"{fixed(x, 3)} GB/min"
    if unit in ("days", "months"):
        return f"{fixed(x, 0 if float(x) == int(x) else 1)} {unit}"
    if unit == "ratio":
        return f"{fixed(x, 2)}x"
    return number(x)


def between(a: str, b: str) -> str:
    """'between *a* and *b*', or 'on *a*' when both ends read the same (a range of one day is a day)."""
    return f"on {a}" if str(a) == str(b) else f"between {a} and {b}"


def from_to(a: str, b: str, sep: str = " to ") -> str:
    """'*a* to *b*' (or *a* *sep* *b*, e.g. '–' for a band), or just *a* when both ends read the same."""
    return str(a) if str(a) == str(b) else f"{a}{sep}{b}"
