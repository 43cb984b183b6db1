"""One analysis of the runs in the window's filter, shared by the Insights and Solutions tabs.

The main window owns one :class:`AnalysisJob`. After a data, filter or
anomaly-threshold change it runs, off the UI thread and once per change (a
:class:`~etl_desk.ui.window.workers.FilteredJob`: debounced, skipped when the runs and
thresholds are unchanged — a new sort order or grouping — and superseded
results dropped)::

    results = compute_results(runs, thresholds=thresholds, keep_going=True)

so anomaly detection runs once per change, and the business case's anomaly
excess cost counts exactly the runs the Insights tab lists, at the thresholds
the user set there. ``resultReady`` carries both in one :class:`Results`;
``result`` keeps the latest, for a tab built later.

The anomaly thresholds live here (the Insights view edits them through
:meth:`AnalysisJob.set_thresholds`) and persist in the window's settings
(:data:`etl_desk.ui.settings.THRESHOLDS`).
"""
from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from etl_desk.core.insights.anomaly_rules import AnomalyThresholds
from etl_desk.ui import settings as keys
from etl_desk.ui.window.workers import FilteredJob

if TYPE_CHECKING:
    from etl_desk.core.business_case.results import Results

DEBOUNCE_MS = 300


def error_text(exc: BaseException | None) -> str:
    if exc is None:
        return ""
    return getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"


def _work(runs, thresholds):
    """Worker thread: :func:`compute_results` of *runs* (its first import pulls in scipy: never on the UI thread)."""
    from etl_desk.core.business_case.results import compute_results  # scipy.stats: seconds, off the UI thread

    return compute_results(runs, thresholds=thresholds, keep_going=True)


class AnalysisJob(QObject):
    """The analysis and baseline of the runs in the filter, once per data/filter/threshold change.

    Signals: ``resultReady(Results)``, ``failed(exception, traceback)``
    (nothing could be computed), ``busyChanged(bool)``, ``thresholdsChanged(AnomalyThresholds)``.
    """

    resultReady = Signal(object)  # Results
    failed = Signal(object, str)
    busyChanged = Signal(bool)
    thresholdsChanged = Signal(object)

    def __init__(self, state, settings: keys.Settings | None = None, *, delay_ms: int = DEBOUNCE_MS, parent=None):
        super().__init__(parent)
        self.state = state
        self.settings = settings
        self.result: Results | None = None
        self._thresholds = self._load_thresholds()
        self.job = FilteredJob(state, _work, label="Analysing", delay_ms=delay_ms,
                               extra=lambda: self._thresholds, parent=self)
        self.runner = self.job.runner
        self.job.finished.connect(self._on_finished)
        self.job.failed.connect(self.failed)
        self.runner.busyChanged.connect(self.busyChanged)
        state.datasetChanged.connect(self._forget)

    # --- thresholds ---------------------------------------------------------------------------
    @property
    def thresholds(self) -> AnomalyThresholds:
        return self._thresholds

    def _load_thresholds(self) -> AnomalyThresholds:
        d = self.settings.get(keys.THRESHOLDS) if self.settings is not None else None
        if not isinstance(d, dict):
            return AnomalyThresholds()
        try:
            known = {f.name for f in fields(AnomalyThresholds)}
            t = AnomalyThresholds(**{k: v for k, v in d.items() if k in known})
            return t if not t.validate() else AnomalyThresholds()
        except (TypeError, ValueError, AttributeError):
            return AnomalyThresholds()

    def set_thresholds(self, t: AnomalyThresholds) -> bool:
        """Use *t* from now on: persist it and re-run (debounced). False when nothing changed."""
        if t == self._thresholds:
            return False
        self._thresholds = t
        if self.settings is not None:
            self.settings.set(keys.THRESHOLDS, t.to_dict())
        self.thresholdsChanged.emit(t)
        # thresholds are part of the job's key: A -> B -> A before B reports ends on A's result
        self.job.schedule()
        return True

    # --- running ------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.runner.busy

    def hold(self) -> None:
        """Wait with the analysis (the window holds it until its first paint: the first analysis
        imports SciPy on a worker thread, which would compete with the start-up for the GIL)."""
        self.job.hold()

    def release(self) -> None:
        self.job.release()

    def schedule(self, force: bool = False) -> None:
        self.job.schedule(force)

    def refresh(self) -> None:
        """Analyse the runs in the current filter now (in the background)."""
        self.job.run_now()

    def is_current(self) -> bool:
        """True when ``result`` is of the runs in the current filter at the current thresholds."""
        return self.result is not None and self.job.is_current()

    def cancel(self) -> None:
        self.runner.cancel()

    def _forget(self) -> None:
        self.result = None  # of the previous data set: a tab built now must not show it

    def _on_finished(self, value: "Results", n: int) -> None:
        self.result = value
        self.resultReady.emit(self.result)
