"""Number formatting shared by the window, the command line and reports.

Money is rounded the way a spreadsheet displays it: the value to 15 significant
digits, then half-up to the cent. The case study's costs sum to 1315.095 exactly,
which binary floating point holds as 1315.0949999999998; Excel and LibreOffice
show $1,315.10, and so does ETL Desk, so the app, the terminal report and the
workbook never disagree by a cent.
"""
from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal


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
