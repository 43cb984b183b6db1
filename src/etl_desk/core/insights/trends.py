"""Who pays, what is drifting, where the bill is heading: one call for the slower analyses.

:func:`compute_trends` bundles attribution (:mod:`.attribution`), drift (:mod:`.drift`),
the cost forecast (:mod:`.forecast`) and budgets (:mod:`.budget`). It is separate from
:func:`etl_desk.core.insights.analysis.analyze` (the run-level rules, ~1 s at 1M runs)
because drift and the forecast take seconds: the window runs it off the UI thread with
``progress`` and ``cancel``; the command line and the workbook use the same result.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import pandas as pd

from etl_desk.core.insights.attribution import Attribution, attribute
from etl_desk.core.insights.budget import Budget, BudgetStatus, budget_status
from etl_desk.core.insights.drift import DriftResult, DriftSettings, detect_drift
from etl_desk.core.insights.forecast import ForecastResult, ForecastSettings, forecast_costs
from etl_desk.core.tasks import CancelFn, ProgressFn

__all__ = ["Trends", "compute_trends"]


@dataclass
class Trends:
    """Attribution tables (one per dimension asked), drift, forecast, budgets; ``seconds`` per part."""

    attribution: list[Attribution] = field(default_factory=list)
    drift: DriftResult | None = None
    forecast: ForecastResult | None = None
    budgets: list[BudgetStatus] = field(default_factory=list)
    seconds: dict = field(default_factory=dict)

    def to_dict(self, forecast_days: int | None = 31) -> dict:
        """The report's ``attribution``, ``drift``, ``forecast`` and ``budgets`` (JSON types; None = unknown)."""
        return {
            "attribution": [a.to_dict() for a in self.attribution],
            "drift": self.drift.to_dict() if self.drift is not None else None,
            "forecast": self.forecast.to_dict(forecast_days) if self.forecast is not None else None,
            "budgets": [b.to_dict() for b in self.budgets],
            "seconds": dict(self.seconds),
        }


def compute_trends(df: pd.DataFrame, *, by: tuple[str, ...] | list[str] = ("pipeline",),
                   budgets: tuple[Budget, ...] | list[Budget] = (), drift: DriftSettings | None | bool = True,
                   forecast: ForecastSettings | None | bool = True, forecast_pipelines: bool = True,
                   progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> Trends:
    """Attribution by each of *by*, drift, forecast and *budgets* of the canonical table *df*.

    ``drift`` / ``forecast``: settings, True for the defaults, False to skip. Progress goes
    0 -> 0.05 (attribution) -> 0.25 (drift) -> 1 (forecast, then budgets).
    """
    report = progress or (lambda _f: None)
    out = Trends()
    t = time.perf_counter()
    out.attribution = [attribute(df, b) for b in by]
    out.seconds["attribution"] = time.perf_counter() - t
    report(0.05)
    if drift is not False:
        t = time.perf_counter()
        out.drift = detect_drift(df, drift if isinstance(drift, DriftSettings) else None,
                                 progress=lambda f: report(0.05 + 0.2 * f), cancel=cancel)
        out.seconds["drift"] = time.perf_counter() - t
    report(0.25)
    if forecast is not False or budgets:
        t = time.perf_counter()
        fs = forecast if isinstance(forecast, ForecastSettings) else None
        out.forecast = forecast_costs(df, fs, by_pipeline=forecast_pipelines and forecast is not False,
                                      progress=lambda f: report(0.25 + 0.65 * f), cancel=cancel)
        out.seconds["forecast"] = time.perf_counter() - t
        t = time.perf_counter()
        out.budgets = [budget_status(df, b, out.forecast.total, fs) for b in budgets]
        out.seconds["budgets"] = time.perf_counter() - t
    report(1.0)
    return out
