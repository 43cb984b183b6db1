"""One analysis of the runs in the window's filter, shared by the Insights and Solutions tabs.

The main window owns one :class:`AnalysisJob`. After a data, filter or
anomaly-threshold change it runs, off the UI thread and once per change (a
:class:`~etl_desk.ui.workers.FilteredJob`: debounced, skipped when the runs and
thresholds are unchanged — a new sort order or grouping — and superseded
results dropped)::

    analysis = analyze(runs, thresholds)
    baseline = compute_baseline(runs, analysis.anomalies)

so anomaly detection runs once per change, and the business case's anomaly
excess cost counts exactly the runs the Insights tab lists, at the thresholds
the user set there. ``resultReady`` carries both in one :class:`AnalysisResult`;
``result`` keeps the latest, for a tab built later.

The anomaly thresholds live here (the Insights tab edits them through
:meth:`AnalysisJob.set_thresholds`) and persist in the window's settings under
``insights/thresholds``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, fields

from PySide6.QtCore import QObject, Signal

from etl_desk.core.anomalies import AnomalyThresholds
from etl_desk.ui.workers import FilteredJob

SETTINGS_KEY = "insights/thresholds"
DEBOUNCE_MS = 300


@dataclass(frozen=True)
class AnalysisResult:
    """What both tabs render: the analysis and the business-case baseline of the same runs.

    One of ``analysis`` / ``baseline`` may be ``None`` when computing it failed
    (``analysis_error`` / ``baseline_error`` say why); the other is still usable.
    """

    runs: int
    thresholds: AnomalyThresholds
    analysis: object | None  # etl_desk.core.analysis.Analysis
    baseline: object | None  # etl_desk.core.finance.Baseline
    analysis_error: BaseException | None = None
    baseline_error: BaseException | None = None


def error_text(exc: BaseException | None) -> str:
    if exc is None:
        return ""
    return getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"


def analyse_runs(runs, thresholds: AnomalyThresholds) -> tuple:
    """Worker thread: the analysis of *runs* and the baseline measured on its anomalies.

    Returns ``(analysis, baseline, analysis_error, baseline_error)``. The first
    import pulls in scipy.stats (seconds): never on the UI thread.
    """
    from etl_desk.core import finance
    from etl_desk.core.analysis import analyze
    from etl_desk.core.generate import Cancelled

    analysis = baseline = a_err = b_err = None
    try:
        analysis = analyze(runs, thresholds)
    except Cancelled:
        raise
    except Exception as exc:  # noqa: BLE001 - reported in the Insights tab; the business case still stands
        a_err = exc
    try:
        if analysis is not None:
            baseline = finance.compute_baseline(runs, analysis.anomalies)
        else:
            baseline = finance.compute_baseline(runs, thresholds=thresholds)
    except Cancelled:
        raise
    except Exception as exc:  # noqa: BLE001 - reported in the Solutions tab
        b_err = exc
    if analysis is None and baseline is None:
        raise a_err
    return analysis, baseline, a_err, b_err


def _work(runs, thresholds):
    return (thresholds, *analyse_runs(runs, thresholds))


class AnalysisJob(QObject):
    """The analysis and baseline of the runs in the filter, once per data/filter/threshold change.

    Signals: ``resultReady(AnalysisResult)``, ``failed(exception, traceback)``
    (nothing could be computed), ``busyChanged(bool)``, ``thresholdsChanged(AnomalyThresholds)``.
    """

    resultReady = Signal(object)  # AnalysisResult
    failed = Signal(object, str)
    busyChanged = Signal(bool)
    thresholdsChanged = Signal(object)

    def __init__(self, state, settings=None, *, delay_ms: int = DEBOUNCE_MS, parent=None):
        super().__init__(parent)
        self.state = state
        self.settings = settings
        self.result: AnalysisResult | None = None
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
        s = self.settings
        raw = s.value(SETTINGS_KEY) if s is not None else None
        if not raw:
            return AnomalyThresholds()
        try:
            d = json.loads(raw)
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
            self.settings.setValue(SETTINGS_KEY, json.dumps(t.to_dict()))
        self.thresholdsChanged.emit(t)
        # thresholds are part of the job's key: A -> B -> A before B reports ends on A's result
        self.job.schedule()
        return True

    # --- running ------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.runner.busy

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

    def _on_finished(self, value, n: int) -> None:
        th, analysis, baseline, a_err, b_err = value
        self.result = AnalysisResult(runs=n, thresholds=th, analysis=analysis, baseline=baseline,
                                     analysis_error=a_err, baseline_error=b_err)
        self.resultReady.emit(self.result)
