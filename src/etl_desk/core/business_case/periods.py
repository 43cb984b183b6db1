"""Period conventions of the business case (see :mod:`etl_desk.core.conventions`): per-period run-rates."""
from __future__ import annotations

from etl_desk.core.conventions import (
    DAYS_PER_WEEK,
    DAYS_PER_YEAR,
    MONTHS_PER_YEAR,
    QUARTERS_PER_YEAR,
    WORKING_WEEKS_PER_YEAR,
)

__all__ = ["DAYS_PER_WEEK", "DAYS_PER_YEAR", "MONTHS_PER_YEAR", "QUARTERS_PER_YEAR", "WORKING_WEEKS_PER_YEAR",
           "PERIODS", "per_period", "weeks_to_months"]

PERIODS = ("day", "week", "month", "quarter", "year")


def per_period(year: float) -> dict[str, float]:
    """A yearly figure (USD per year) per day, week, month, quarter and year (year = 365 days, week = 7 days)."""
    year = float(year)
    return {"day": year / DAYS_PER_YEAR, "week": year / DAYS_PER_YEAR * DAYS_PER_WEEK,
            "month": year / MONTHS_PER_YEAR, "quarter": year / QUARTERS_PER_YEAR, "year": year}


def weeks_to_months(weeks: float) -> float:
    """Calendar weeks as months (a week is 7 x 12 / 365 months)."""
    return weeks * DAYS_PER_WEEK * MONTHS_PER_YEAR / DAYS_PER_YEAR
