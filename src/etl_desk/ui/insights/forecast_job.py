"""The cost forecast and the monthly budget of the runs in the window's filter, off the UI thread.

:class:`ForecastJob` runs :func:`etl_desk.core.insights.forecast.forecast_costs` (all runs
together) and, when a budget is set, :func:`etl_desk.core.insights.budget.budget_status`
on a :class:`~etl_desk.ui.window.workers.FilteredJob` (debounced, once per filter /
days / budget change, progress on ``runner.progress``, ``cancel()`` stops it and keeps
what was shown). It computes nothing itself. The forecast days and the budget text persist
in the window's settings (:data:`etl_desk.ui.settings.FORECAST_DAYS`, :data:`~etl_desk.ui.settings.BUDGET`).
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from etl_desk.core.insights.budget import Budget, BudgetStatus, budget_status, parse_budget
from etl_desk.core.insights.forecast import ForecastResult, ForecastSettings, forecast_costs
from etl_desk.ui import settings as keys
from etl_desk.ui.window.workers import FilteredJob

MIN_DAYS, MAX_DAYS = 7, 90


@dataclass(frozen=True)
class ForecastOutcome:
    """What the job hands the charts: core's forecast of all runs, and the budget's status (or None)."""

    days: int
    forecast: ForecastResult
    budget: BudgetStatus | None


def _work(runs, extra, progress, cancel) -> ForecastOutcome:
    days, budget = extra
    fs = ForecastSettings(horizon_days=days)
    fr = forecast_costs(runs, fs, by_pipeline=False, progress=progress, cancel=cancel)
    status = budget_status(runs, budget, fr.total, fs) if budget is not None else None
    return ForecastOutcome(days, fr, status)


class ForecastJob(QObject):
    """Signals: ``resultReady(ForecastOutcome)``, ``daysChanged(int)``, ``failed(str)``, ``busyChanged(bool)``,
    ``progress(float)``; ``days`` / ``budget`` (a :class:`Budget` or None) with their setters;
    ``watch(viewer, on_screen)``: the views that show the one result (it runs while one is on screen)."""

    resultReady = Signal(object)
    daysChanged = Signal(int)  # days ahead, set from any view: the others show the same number
    failed = Signal(str)
    busyChanged = Signal(bool)
    progress = Signal(float)

    def __init__(self, state, settings: keys.Settings | None = None, *, delay_ms: int = 300, parent=None):
        super().__init__(parent)
        self.settings = settings
        self.days = self._stored_days()
        self.budget_text = settings.get(keys.BUDGET) if settings is not None else ""
        try:
            self.budget: Budget | None = parse_budget(self.budget_text) if self.budget_text.strip() else None
        except ValueError:
            self.budget, self.budget_text = None, ""
        self.result: ForecastOutcome | None = None
        self.job = FilteredJob(state, _work, label="Forecasting", delay_ms=delay_ms, with_progress=True,
                               extra=lambda: (self.days, self.budget), parent=self)
        self.runner = self.job.runner
        self.job.finished.connect(self._on_finished)
        self.job.failed.connect(lambda exc, tb: self.failed.emit(getattr(exc, "message", None) or str(exc)))
        self.runner.busyChanged.connect(self.busyChanged)
        self.runner.progress.connect(self.progress)
        state.datasetChanged.connect(self._forget)
        self._viewers: set = set()

    def watch(self, viewer, on_screen: bool) -> None:
        """*viewer* (the time view, the Insights page's Forecast tab) came on screen or left it: the forecast
        takes seconds of CPU at 1M runs, so it runs while at least one viewer is on screen (held otherwise)."""
        if on_screen:
            self._viewers.add(viewer)
        else:
            self._viewers.discard(viewer)
        if self._viewers:
            self.job.release()
        else:
            self.job.hold()

    def _stored_days(self) -> int:
        d = self.settings.get(keys.FORECAST_DAYS) if self.settings is not None else keys.FORECAST_DAYS.default
        return min(max(int(d), MIN_DAYS), MAX_DAYS)

    def set_days(self, days: int) -> None:
        days = min(max(int(days), MIN_DAYS), MAX_DAYS)
        if days != self.days:
            self.days = days
            if self.settings is not None:
                self.settings.set(keys.FORECAST_DAYS, days)
            self.daysChanged.emit(days)
            self.job.schedule()

    def set_budget(self, text: str) -> None:
        """Use the budget typed as *text* (empty: none). Raises ValueError (parse_budget's message) for bad text."""
        text = (text or "").strip()
        budget = parse_budget(text) if text else None
        self.budget_text = text
        if self.settings is not None:
            self.settings.set(keys.BUDGET, text)
        if budget != self.budget:
            self.budget = budget
            self.job.schedule()

    @property
    def busy(self) -> bool:
        return self.runner.busy

    def cancel(self) -> None:
        self.runner.cancel()

    def run_now(self) -> None:
        self.job.run_now()

    def _forget(self) -> None:
        self.result = None

    def _on_finished(self, value: ForecastOutcome, n: int) -> None:
        if not self.job.is_current():  # of data replaced while it ran: the new data's run follows
            return
        self.result = value
        self.resultReady.emit(value)
