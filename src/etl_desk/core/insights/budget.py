"""A monthly budget against the forecast: burn to date, month-end with its band, the day it is crossed.

The month is the one in progress on the last day of data (the next one when the data ends on
a month's last day). ``burn_to_date`` is the known cost of that month so far; the month-end
figure adds the forecast of the remaining days (:mod:`etl_desk.core.insights.forecast`); its
band comes from the forecast's out-of-sample errors of sums over as many days (so days that
tend to err together are not treated as independent). The budget is expected to be crossed on
the first day the running total (burn + forecast) reaches it; "earliest" uses the 90 %
quantile of the running total, "latest" the 10 % one. A budget may be scoped to one tag
value (``25000/month:team=finance``): only runs carrying that tag count.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from etl_desk.core.data.tags import tag_values
from etl_desk.core.insights.forecast import Forecast, ForecastSettings, error_quantile, daily_costs, forecast_series
from etl_desk.core import fmt

__all__ = ["Budget", "BudgetStatus", "parse_budget", "budget_status"]

_BUDGET_RE = re.compile(r"^\s*\$?\s*([0-9][0-9,_]*(?:\.[0-9]+)?)\s*([kKmM]?)\s*(?:/\s*(month|mo|monthly))?\s*"
                        r"(?:[:\s]\s*([^=\s]+)\s*=\s*(.+?))?\s*$")


@dataclass(frozen=True)
class Budget:
    """A monthly budget in USD (``amount_usd``), optionally for the runs carrying one tag
    (``tag_key`` = ``tag_value``); ``period`` is always ``"month"`` (:func:`parse_budget`).
    """
    amount_usd: float
    period: str = "month"
    tag_key: str | None = None
    tag_value: str | None = None

    @property
    def label(self) -> str:
        """The budget in words: ``"$25,000 a month"`` or ``"$5,000 a month for team=finance"``."""
        scope = f" for {self.tag_key}={self.tag_value}" if self.tag_key else ""
        return f"${self.amount_usd:,.0f} a month{scope}"


def parse_budget(text: str) -> Budget:
    """``"25000/month"``, ``"$25,000"``, ``"25k/month:team=finance"`` -> :class:`Budget`; ValueError otherwise."""
    m = _BUDGET_RE.match(str(text))
    if not m:
        raise ValueError(f"cannot read the budget {text!r}: write an amount a month, e.g. 25000/month or "
                         "25000/month:team=finance")
    amount = float(m.group(1).replace(",", "").replace("_", "")) * {"": 1, "k": 1e3, "m": 1e6}[m.group(2).lower()]
    if amount <= 0:
        raise ValueError("the budget must be more than $0")
    return Budget(amount_usd=amount, tag_key=m.group(4), tag_value=m.group(5))


@dataclass
class BudgetStatus:
    """Where the month stands. Money in USD; dates ISO; ``daily`` (day, actual, forecast, lo80, hi80:
    running totals over the month) is what a chart draws against the budget line."""

    budget: Budget
    month: str
    days_in_month: int
    days_elapsed: int
    burn_to_date: float
    month_end: float | None
    month_end_lo80: float | None
    month_end_hi80: float | None
    month_end_lo95: float | None
    month_end_hi95: float | None
    crossing: str | None
    crossing_earliest: str | None
    crossing_latest: str | None
    status: str          # "over budget", "likely over", "at risk", "on track", "unknown"
    reason: str
    daily: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-ready status: the month (``YYYY-MM``; ``""`` without data), days, ``burn_to_date`` and ``month_end`` with its
        80 / 95 % band (USD; None where unknown), ``crossing`` dates (ISO, earliest / latest; None when
        not crossed), ``status`` and ``reason``, ``budget_usd``, ``scope`` (``{tag_key: tag_value}`` or
        None) and the notes. The ``daily`` table is left out.
        """
        d = {k: getattr(self, k) for k in ("month", "days_in_month", "days_elapsed", "burn_to_date", "month_end",
                                           "month_end_lo80", "month_end_hi80", "month_end_lo95", "month_end_hi95",
                                           "crossing", "crossing_earliest", "crossing_latest", "status", "reason")}
        d["budget_usd"] = self.budget.amount_usd
        d["scope"] = {self.budget.tag_key: self.budget.tag_value} if self.budget.tag_key else None
        d["notes"] = list(self.notes)
        return d


def _first_at(cum: np.ndarray, days: pd.DatetimeIndex, limit: float) -> str | None:
    hit = np.flatnonzero(cum >= limit)
    return str(days[hit[0]].date()) if hit.size else None


def budget_status(df: pd.DataFrame, budget: Budget, forecast: Forecast | None = None,
                  settings: ForecastSettings | None = None) -> BudgetStatus:
    """The month in progress against *budget* (see the module docstring).

    *forecast* (of the same runs, all of them) is reused when given and the budget has no tag
    scope; otherwise the scoped runs are forecast here. Raises nothing on thin data: a status
    ``"unknown"`` with the reason.
    """
    notes: list[str] = []
    runs = df
    if budget.tag_key:
        vals = tag_values(df["tags"], budget.tag_key) if "tags" in df.columns else pd.Series(pd.NA, index=df.index)
        runs = df[(vals == budget.tag_value).fillna(False).to_numpy(dtype=bool)]
        notes.append(f"{len(runs):,} of {len(df):,} runs carry {budget.tag_key}={budget.tag_value}.")
    y, dn = daily_costs(runs) if len(runs) else (pd.Series(dtype=float), ["No runs in this scope."])
    notes += dn
    if not len(y):
        return BudgetStatus(budget, "", 0, 0, 0.0, None, None, None, None, None, None, None, None, "unknown",
                            "No known cost to set against the budget.", notes=notes)
    last = pd.Timestamp(y.index[-1])
    month0 = (last + pd.Timedelta(days=1)).to_period("M") if last.is_month_end else last.to_period("M")
    start, end = month0.start_time.normalize(), month0.end_time.normalize()
    dim = int(month0.days_in_month)
    in_month = y[(y.index >= start) & (y.index <= last)]
    burn = float(in_month.sum())
    elapsed = int(len(in_month))
    remaining = pd.date_range(last + pd.Timedelta(days=1), end, freq="D")
    f = forecast if (forecast is not None and not budget.tag_key) else forecast_series(y, budget.label, settings)
    month_days = pd.date_range(start, end, freq="D")
    if f is None:
        return BudgetStatus(budget, str(month0), dim, elapsed, burn, None, None, None, None, None, None, None, None,
                            "unknown", "Too little history for a forecast: only the burn to date is known.",
                            notes=notes)
    fr = f.frame.set_index("day").reindex(remaining)
    k = len(remaining)
    mean = fr["mean"].to_numpy(dtype=float)
    cum = burn + np.cumsum(mean)
    q = {name: np.array([np.exp(error_quantile(f.sum_errors, j, p)) for j in range(1, k + 1)])
         for name, p in (("lo80", 0.10), ("hi80", 0.90), ("lo95", 0.025), ("hi95", 0.975))}
    # a band always holds its point (no float dust outside it)
    q["lo80"], q["lo95"] = np.minimum(q["lo80"], 1.0), np.minimum(q["lo95"], 1.0)
    q["hi80"], q["hi95"] = np.maximum(q["hi80"], 1.0), np.maximum(q["hi95"], 1.0)
    band = {name: burn + np.cumsum(mean) * v for name, v in q.items()}
    total = float(cum[-1]) if k else burn
    ends = {name: float(b[-1]) if k else burn for name, b in band.items()}
    amount = budget.amount_usd
    hist_cum = np.cumsum(in_month.to_numpy())
    if burn >= amount:
        crossing = _first_at(hist_cum, pd.DatetimeIndex(in_month.index), amount)
        earliest = latest = crossing
        status = "over budget"
    else:
        crossing = _first_at(cum, remaining, amount)
        earliest = _first_at(band["hi80"], remaining, amount)
        latest = _first_at(band["lo80"], remaining, amount)
        status = ("likely over" if total >= amount else "at risk" if ends["hi80"] >= amount else "on track")
    pct = burn / amount * 100.0
    band80 = fmt.from_to(f"${ends['lo80']:,.0f}", f"${ends['hi80']:,.0f}", "–")  # one figure when the month is over
    reason = (f"{month0.strftime('%B %Y')}: ${burn:,.2f} spent in {elapsed} of {dim} days ({pct:.0f} % of "
              f"{budget.label}); forecast month-end ${total:,.0f}"
              + (f" (80 %: {band80})." if "–" in band80 else "."))
    if status == "over budget":
        reason += f" The budget was crossed on {crossing}."
    elif crossing:
        when = fmt.between(earliest, latest or "month-end")  # "on X" when the 80 % band crosses on one day
        reason += f" Expected to cross the budget on {crossing}" + ("." if when == f"on {crossing}" else f" ({when}).")
    elif earliest:
        reason += f" Could cross it from {earliest} if spending runs high."
    else:
        reason += " Not expected to cross it this month."
    daily = pd.DataFrame({"day": month_days})
    actual = pd.Series(hist_cum, index=in_month.index).reindex(month_days)
    daily["actual"] = actual.to_numpy()
    fc = pd.Series(cum, index=remaining).reindex(month_days)
    daily["forecast"] = fc.to_numpy()
    for name in ("lo80", "hi80", "lo95", "hi95"):
        daily[name] = pd.Series(band[name], index=remaining).reindex(month_days).to_numpy()
    return BudgetStatus(budget, str(month0), dim, elapsed, burn, total, ends["lo80"], ends["hi80"], ends["lo95"],
                        ends["hi95"], crossing, earliest, latest, status, reason, daily=daily, notes=notes)
