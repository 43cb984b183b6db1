"""Number formatting shared by the window, the command line and reports.

Money is rounded the way a spreadsheet displays it: the value to 15 significant
digits, then half-up to the cent. The case study's costs sum to 1315.095 exactly,
which binary floating point holds as 1315.0949999999998; Excel and LibreOffice
show $1,315.10, and so does ETL Desk, so the app, the terminal report and the
workbook never disagree by a cent.
"""
from __future__ import annotations

import datetime as _dt
import math
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

import numpy as np
import pandas as pd


def _bad(x) -> bool:
    return x is None or (isinstance(x, float) and (math.isnan(x) or math.isinf(x)))


def money_round(x: float, decimals: int = 2) -> Decimal:
    """*x* to *decimals* places as a spreadsheet shows it (15 significant digits, then half-up)."""
    return Decimal(f"{float(x):.15g}").quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


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


def gb(x, decimals: int = 2) -> str:
    if _bad(x):
        return "—"
    return f"{float(x):,.{decimals}f} GB"


def tb(x, decimals: int = 2) -> str:
    if _bad(x):
        return "—"
    return f"{float(x):,.{decimals}f} TB"


def minutes(x, decimals: int = 1) -> str:
    if _bad(x):
        return "—"
    x = float(x)
    if decimals == 0 or x == int(x):
        return f"{x:,.0f} min"
    return f"{x:,.{decimals}f} min"


def pct(x, decimals: int = 2) -> str:
    """A fraction as a percentage: 0.0476 -> '4.76 %'."""
    if _bad(x):
        return "—"
    return f"{float(x) * 100:,.{decimals}f} %"


def count(n) -> str:
    if _bad(n):
        return "—"
    return f"{int(n):,}"


def number(x, decimals: int = 2) -> str:
    if _bad(x):
        return "—"
    return f"{float(x):,.{decimals}f}"


class Unit(StrEnum):
    """What a number in a table is, so it can be shown without guessing from its label."""

    USD = "usd"  # dollars: $1,315.10 (four decimals below a cent)
    PCT = "pct"  # already a percentage: 4.76 -> '4.76 %'
    FRACTION = "fraction"  # a share 0..1: 0.0476 -> '4.76 %'
    GB = "gb"
    TB = "tb"
    MIN = "min"
    DAYS = "days"
    COUNT = "count"  # a whole number of things: 1,000
    RATIO = "ratio"  # a dimensionless ratio: 2.35
    GB_PER_MIN = "gb/min"
    NUMBER = "number"
    DATE = "date"
    TEXT = "text"


def value(v, unit: Unit | str | None = None, missing: str = "—") -> str:
    """One table cell as text, by its *unit* (None: a plain number, or the value as text).

    Missing values (None, NaN, NaT, pandas NA) are *missing*; booleans 'yes'/'no';
    dates '14 Apr 2024' (with the time when it is not midnight).
    """
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        return missing
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (_dt.date, np.datetime64)):
        ts = pd.Timestamp(v)
        if ts is pd.NaT:
            return missing
        return ts.strftime("%d %b %Y") if ts == ts.normalize() else ts.strftime("%d %b %Y %H:%M")
    if isinstance(v, str):
        return v
    try:
        x = float(v)
    except (TypeError, ValueError):
        return str(v)
    if not math.isfinite(x):
        return missing
    u = Unit(unit) if unit else None
    if u is Unit.USD:
        return usd(x) if abs(x) >= 0.01 or x == 0 else f"${x:,.4f}"
    if u is Unit.PCT:
        return f"{x:,.2f} %"
    if u is Unit.FRACTION:
        return pct(x)
    if u is Unit.GB:
        return gb(x)
    if u is Unit.TB:
        return tb(x, 3)
    if u is Unit.MIN:
        return minutes(x)
    if u is Unit.DAYS:
        return f"{x:,.1f} days" if x != int(x) else f"{x:,.0f} days"
    if u is Unit.GB_PER_MIN:
        return f"{x:,.3f} GB/min"
    if u is Unit.COUNT or (u is None and x == int(x) and abs(x) >= 1):
        return f"{x:,.0f}"
    if u is Unit.TEXT:
        return str(v)
    return f"{x:,.2f}"
