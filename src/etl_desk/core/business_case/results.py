"""Everything the window, the command line and the workbook show about one set of runs.

:func:`compute_results` is the one Qt-free function that computes the analysis
(KPIs, insights, anomalies) and the business case of a canonical table:

    analysis = analyze(runs, thresholds)
    baseline = compute_baseline(runs, analysis.anomalies)   # anomaly detection runs once
    case     = evaluate(baseline, assumptions)

The window runs it off the UI thread (and re-runs only :func:`with_assumptions`,
a few NumPy operations, while the user edits an assumption); ``etl-desk
analyze`` and the workbook export take the same :class:`Results`.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from etl_desk.core.business_case.assumptions import Assumptions, default_assumptions, validate_assumptions
from etl_desk.core.business_case.baseline import Baseline, compute_baseline
from etl_desk.core.business_case.model import BusinessCase, evaluate
from etl_desk.core.insights.analysis import Analysis, analyze
from etl_desk.core.insights.anomalies import AnomalyThresholds
from etl_desk.core.tasks import Cancelled


@dataclass(frozen=True)
class Results:
    """The analysis and the business case of the same runs.

    ``analysis`` or ``baseline``/``case`` is ``None`` when computing it failed
    (``analysis_error`` / ``baseline_error`` hold the exception); the other part is
    still usable. ``runs`` is the number of runs analysed.
    """

    runs: int
    thresholds: AnomalyThresholds
    assumptions: Assumptions
    analysis: Analysis | None
    baseline: Baseline | None
    case: BusinessCase | None
    analysis_error: BaseException | None = None
    baseline_error: BaseException | None = None


def compute_results(runs: pd.DataFrame, *, thresholds: AnomalyThresholds | None = None,
                    assumptions: Assumptions | None = None, keep_going: bool = False) -> Results:
    """Analysis and business case of the canonical table *runs* (n rows, any n >= 0).

    *thresholds*: anomaly thresholds (defaults when ``None``). *assumptions*: business-case
    assumptions, validated (defaults when ``None``; raises
    :class:`~etl_desk.core.errors.DataError` naming a bad key). With *keep_going* (the
    window), a failure in one part is kept in ``analysis_error`` / ``baseline_error`` and
    the other part is still computed; without it (command line, export) it is raised.
    :class:`~etl_desk.core.tasks.Cancelled` is always raised.
    """
    th = thresholds or AnomalyThresholds()
    a = default_assumptions() if assumptions is None else validate_assumptions(assumptions)
    analysis = baseline = case = a_err = b_err = None
    try:
        analysis = analyze(runs, th)
    except Cancelled:
        raise
    except Exception as exc:  # noqa: BLE001 - kept for the window, which still shows the business case
        if not keep_going:
            raise
        a_err = exc
    try:
        baseline = compute_baseline(runs, analysis.anomalies if analysis is not None else None, th)
        case = evaluate(baseline, a)
    except Cancelled:
        raise
    except Exception as exc:  # noqa: BLE001 - kept for the window, which still shows the insights
        if not keep_going:
            raise
        b_err = exc
    if analysis is None and baseline is None:
        raise a_err
    return Results(runs=len(runs), thresholds=th, assumptions=a, analysis=analysis, baseline=baseline,
                   case=case, analysis_error=a_err, baseline_error=b_err)


def with_assumptions(results: Results, assumptions: Assumptions) -> Results:
    """*results* with the business case re-evaluated under *assumptions* (no pass over the runs)."""
    a = validate_assumptions(assumptions)
    case = evaluate(results.baseline, a) if results.baseline is not None else None
    return replace(results, assumptions=a, case=case)
