"""Period conventions of the business case: year = 365 days, week = 7 days, month = year / 12, quarter = year / 4."""
from __future__ import annotations

DAYS_PER_YEAR = 365
DAYS_PER_WEEK = 7


MONTHS_PER_YEAR = 12
QUARTERS_PER_YEAR = 4


#: Months in one week: 7 * 12 / 365.
PERIODS = ("day", "week", "month", "quarter", "year")


def per_period(year: float) -> dict[str, float]:
    """A yearly figure per day, week, month, quarter and year (year = 365 days, week = 7 days)."""
    year = float(year)
    return {"day": year / DAYS_PER_YEAR, "week": year / DAYS_PER_YEAR * DAYS_PER_WEEK,
            "month": year / MONTHS_PER_YEAR, "quarter": year / QUARTERS_PER_YEAR, "year": year}


def weeks_to_months(weeks: float) -> float:
    return weeks * DAYS_PER_WEEK * MONTHS_PER_YEAR / DAYS_PER_YEAR
