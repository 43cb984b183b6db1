"""The monthly schedule of one solution, and the measures read off a cash-flow series.

A solution's cash flows are three *unit* series times three amounts, so every
figure -- and every scenario, sensitivity and switching value -- is the same
arithmetic in the app and in the workbook:

* ``spread[m]`` -- share of the investment spent in month *m* (spread evenly over the
  implementation weeks; sums to 1);
* ``mfrac[m]`` -- share of month *m* after go-live (maintenance runs from go-live);
* ``rf[m]`` -- the ramp factor: share of the full monthly saving reached in month *m*
  (linear from 0 at go-live to 1 after ``ramp_weeks``, the exact average over the
  month) times the spend growth factor ``(1 + growth) ** ((m - 1) / 12)``.

investment_m = investment x spread_m; maintenance_m = maintenance a year / 12 x mfrac_m;
savings_m = savings a year / 12 x rf_m. Month *m* = 1..120 covers months ``(m-1, m]``
from the start; a week is ``7 x 12 / 365`` months. The schedule always runs
:data:`SCHEDULE_MONTHS` months (the longest horizon), so a payback after the horizon
is still found; NPV, ROI and the other horizon figures count months <= horizon only.
"""
from __future__ import annotations

import math

import numpy as np

from etl_desk.core.business_case.periods import MONTHS_PER_YEAR, weeks_to_months

#: Months in every schedule: the longest horizon the catalogue allows (10 years).
SCHEDULE_MONTHS = 120

#: Payback status words (``Result.payback_status``).
WITHIN, BEYOND_HORIZON, BEYOND_SCHEDULE, NEVER, NOTHING = (
    "within the horizon", "beyond the horizon", "not within 10 years", "never", "nothing to pay back")


def months(n: int = SCHEDULE_MONTHS) -> np.ndarray:
    """Month numbers 1..n as floats."""
    return np.arange(1, n + 1, dtype="float64")


def growth_factors(growth_rate: float, m: np.ndarray) -> np.ndarray:
    """Spend growth factor per month *m* (1-based array): ``(1 + growth_rate) ** ((m - 1) / 12)``,
    1.0 in month 1; *growth_rate* is a fraction a year (0.05 = 5 %).
    """
    return (1 + growth_rate) ** ((m - 1) / MONTHS_PER_YEAR)


def discount_factors(discount_rate: float, m: np.ndarray) -> np.ndarray:
    """``(1 + r) ** (-m / 12)``: month-end flows discounted at the monthly rate equivalent to *r* a year."""
    return (1 + discount_rate) ** (-m / MONTHS_PER_YEAR)


def _ramp_integral(t: np.ndarray, go: float, ramp: float) -> np.ndarray:
    """Integral from 0 to t of the ramp level (0 before go-live, linear to 1 over *ramp* months)."""
    after = np.maximum(t - go, 0.0)
    if ramp == 0:
        return after
    return np.minimum(after, ramp) ** 2 / (2 * ramp) + np.maximum(t - go - ramp, 0.0)


def unit_series(start_week: float, weeks: float, ramp_weeks: float, growth: np.ndarray,
                m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(spread, mfrac, rf)`` for a solution starting at *start_week*, implemented over *weeks* (> 0)."""
    st = weeks_to_months(start_week)
    go = weeks_to_months(start_week + weeks)
    ramp = weeks_to_months(ramp_weeks)
    spread = np.maximum(0.0, np.minimum(go, m) - np.maximum(st, m - 1)) / (go - st)
    mfrac = np.maximum(m - go, 0.0) - np.maximum(m - 1 - go, 0.0)
    rf = growth * (_ramp_integral(m, go, ramp) - _ramp_integral(m - 1, go, ramp))
    return spread, mfrac, rf


def payback_months(cum: np.ndarray) -> float | None:
    """Months until the cumulative net cash flow is non-negative for good (linear inside the month).

    ``None`` when it is negative at the end of *cum*; 0 when it never goes negative.
    """
    if len(cum) == 0:
        return 0.0
    if cum[-1] < 0:
        return None
    prev = np.concatenate(([0.0], cum[:-1]))
    cross = np.flatnonzero((prev < 0) & (cum >= 0))
    if len(cross) == 0:
        return 0.0
    i = cross[-1]
    return float(i + (-prev[i]) / (cum[i] - prev[i]))


def payback_status(payback: float | None, net: np.ndarray, horizon_months: int, has_flows: bool) -> str:
    """Where *payback* (over the whole schedule) falls: within or beyond the horizon, beyond 10 years, never."""
    if not has_flows:
        return NOTHING
    if payback is not None:
        return WITHIN if payback <= horizon_months else BEYOND_HORIZON
    return BEYOND_SCHEDULE if len(net) and net[-1] > 0 else NEVER


def irr_defined(net: np.ndarray) -> bool:
    """True when the flows are all costs first, then all gains (one sign change): a unique IRR exists."""
    neg = np.flatnonzero(net < 0)
    pos = np.flatnonzero(net > 0)
    return bool(len(neg) and len(pos) and neg[-1] < pos[0])


def irr_annual(net: np.ndarray) -> float | None:
    """Annualised internal rate of return ``(1 + monthly IRR) ** 12 - 1`` of monthly month-end flows.

    The monthly IRR is the root of ``sum_m net_m / (1 + r) ** m = 0`` (Excel's ``IRR`` of the
    same flows, which start at month 1). Defined only when the flows change sign once,
    from costs to gains (:func:`irr_defined`); ``None`` otherwise.
    """
    if not irr_defined(net):
        return None
    m = np.arange(1, len(net) + 1, dtype="float64")

    def npv(r: float) -> float:
        return float(np.sum(net * (1 + r) ** -m))

    lo, hi = -0.99, 0.1
    while npv(hi) > 0 and hi < 1e6:
        hi *= 2
    if npv(lo) * npv(hi) > 0:
        return None
    # scipy.optimize (~25 MB resident) when a rate is solved for, not with the window's pages (issue 15 item 8)
    from scipy.optimize import brentq

    r = brentq(npv, lo, hi, xtol=1e-14, rtol=1e-12, maxiter=500)
    out = (1 + r) ** MONTHS_PER_YEAR - 1
    return float(out) if math.isfinite(out) else None
