"""Dated cash flows: the monthly schedule with month-end dates and fiscal years, and the annual roll-up.

Month 1 is the calendar month of the project start (``start_date``, the first day of a
month; ``auto`` = the month after the data ends); month *m* ends on the last day of the
(m-1)-th month after it (Excel ``EOMONTH(start, m - 1)``). A fiscal year starting in
month *s* is named by the calendar year it ends in: a month-end in month >= *s* (when
*s* > 1) belongs to the next calendar year's fiscal year. **Year 0** of the roll-up is
the fiscal year in which the project starts (a part year unless the start is the first
month of a fiscal year); the roll-up runs to the fiscal year of the horizon's last month.

The discounted column of the roll-up sums to the NPV, cent for cent: every NPV has its
cash flows printed behind it.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from etl_desk.core.business_case.model import BusinessCase, Result


@dataclass(frozen=True)
class AnnualRow:
    """One fiscal year of one option's cash flows (USD; ``discounted`` at month-end discount factors)."""

    option_id: str
    year_index: int
    fiscal_year: str
    first_month_end: _dt.date
    last_month_end: _dt.date
    months: int
    investment: float
    maintenance: float
    savings: float
    net: float
    cumulative: float
    discounted: float
    discounted_cumulative: float


def month_ends(start: _dt.date, n: int) -> list[_dt.date]:
    """The last day of each of the *n* months from the month of *start*."""
    first = pd.Timestamp(start).to_period("M")
    return [(first + k).to_timestamp(how="end").date() for k in range(n)]


def fiscal_year(d: _dt.date, first_month: int) -> int:
    """The fiscal year of *d*, named by the calendar year it ends in (fiscal years start in *first_month*)."""
    return d.year + (1 if first_month > 1 and d.month >= first_month else 0)


def dated_schedule(case: BusinessCase, result: Result) -> pd.DataFrame:
    """*result*'s monthly cash flows over the horizon, dated.

    Columns: ``month`` (1..N), ``month_end`` (date), ``fiscal_year`` (e.g. ``FY2025``),
    ``year_index`` (0 = the fiscal year of the start), ``investment``, ``maintenance``,
    ``savings``, ``net``, ``cumulative``, ``discount_factor``, ``discounted``,
    ``discounted_cumulative`` (USD).
    """
    n = case.horizon_months
    ends = month_ends(case.start, n)
    fy_first = int(case.assumptions["global"]["fiscal_year_start_month"])
    fys = np.array([fiscal_year(d, fy_first) for d in ends])
    s = result.schedule
    net = s.net
    disc = net * result.discount
    return pd.DataFrame({
        "month": np.arange(1, n + 1), "month_end": ends, "fiscal_year": [f"FY{y}" for y in fys],
        "year_index": fys - fys[0] if n else fys, "investment": s.investment, "maintenance": s.maintenance,
        "savings": s.savings, "net": net, "cumulative": np.cumsum(net), "discount_factor": result.discount,
        "discounted": disc, "discounted_cumulative": np.cumsum(disc)})


def annual_rollup(case: BusinessCase, result: Result) -> list[AnnualRow]:
    """*result*'s cash flows summed per fiscal year (Year 0..N) over the horizon."""
    t = dated_schedule(case, result)
    rows: list[AnnualRow] = []
    cum = dcum = 0.0
    for k, part in t.groupby("year_index", sort=True):
        net = float(part["net"].sum())
        disc = float(part["discounted"].sum())
        cum += net
        dcum += disc
        rows.append(AnnualRow(option_id=result.id, year_index=int(k), fiscal_year=str(part["fiscal_year"].iloc[0]),
                              first_month_end=part["month_end"].iloc[0], last_month_end=part["month_end"].iloc[-1],
                              months=len(part), investment=float(part["investment"].sum()),
                              maintenance=float(part["maintenance"].sum()), savings=float(part["savings"].sum()),
                              net=net, cumulative=cum, discounted=disc, discounted_cumulative=dcum))
    return rows
