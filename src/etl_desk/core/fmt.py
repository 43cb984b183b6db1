"""Number formatting shared by the window, the command line and reports."""
from __future__ import annotations

import math


def _bad(x) -> bool:
    return x is None or (isinstance(x, float) and (math.isnan(x) or math.isinf(x)))


def usd(x, decimals: int = 2) -> str:
    """$1,315.10; -$3.50; '—' for missing."""
    if _bad(x):
        return "—"
    x = float(x)
    sign = "-" if x < 0 else ""
    return f"{sign}${abs(x):,.{decimals}f}"


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
