"""The calendar and working-time conventions every figure uses, stated once.

* a year is 365 days; a week is 7 days, so a year has 365 / 7 = 52.14 calendar weeks;
* a month is a twelfth of a year (30.42 days), a quarter a quarter of a year;
* a person-week is a working week, and a person works 50 weeks a year (52.14 calendar
  weeks less about two weeks of leave and holidays): one full-time person for a year
  costs the loaded weekly rate x 50. This is the basis of the catalogue's rates
  ("150,000 USD a year fully loaded over 50 working weeks" = 3,000 USD a week).

The insights' run-rates, the business case, the workbook (as the named constants
``c_days_per_year`` ...) and the reports all read these numbers from here.
"""
from __future__ import annotations

DAYS_PER_YEAR = 365
DAYS_PER_WEEK = 7
MONTHS_PER_YEAR = 12
QUARTERS_PER_YEAR = 4
#: Working weeks in a person-year (the loaded annual cost is the weekly rate times this).
WORKING_WEEKS_PER_YEAR = 50

#: One line per convention, for notes in reports and the workbook.
CONVENTION_LINES = (
    "Year = 365 days; month = year / 12 (30.42 days); quarter = year / 4; week = 7 days (52.14 weeks a year).",
    "A person-week is a working week; a person-year is 50 working weeks, so a full-time person costs the "
    "loaded weekly rate x 50 a year.",
)
