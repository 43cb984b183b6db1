"""Everything the window, the command line and the workbook show about one set of runs.

:func:`compute_results` is the one Qt-free function that computes the analysis
(KPIs, insights, anomalies) and the business case of a canonical table:

    analysis  = analyze(runs, thresholds)
    baseline  = compute_baseline(runs, analysis.anomalies)   # anomaly detection runs once
    case      = evaluate(baseline, assumptions)
    appraisal = appraise(case, source)                       # scenarios, sensitivity, roll-up, decision

The window runs it off the UI thread (and re-runs only :func:`with_assumptions`,
a few NumPy operations, while the user edits an assumption); ``etl-desk
analyze`` and the workbook export take the same :class:`Results`.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from etl_desk.core.business_case.assumptions import Assumptions, default_assumptions, validate_assumptions
from etl_desk.core.business_case.baseline import Baseline, BusinessCaseUnavailable, compute_baseline
from etl_desk.core.business_case.cashflows import AnnualRow, annual_rollup
from etl_desk.core.business_case.decision import DecisionSummary, decide
from etl_desk.core.business_case.model import BusinessCase, evaluate
from etl_desk.core.business_case.scenarios import (
    ScenarioResult,
    SensitivityRow,
    SwitchingValue,
    scenario_results,
    sensitivity,
    switching_values,
)
from etl_desk.core.data.memory import release_memory
from etl_desk.core.insights.analysis import Analysis, analyze
from etl_desk.core.insights.anomalies import AnomalyThresholds
from etl_desk.core.tasks import Cancelled


@dataclass(frozen=True)
class Appraisal:
    """What finance asks of a business case, on top of the figures: all Qt-free, all in the JSON report.

    ``scenarios``: every option under low / base / high; ``sensitivity``: NPV of every
    option with each input at its low and high value; ``switching``: where NPV = 0;
    ``annual``: the fiscal-year roll-up (Year 0..N) of every solution and the portfolio
    (option id -> rows); ``decision``: the decision page.
    """

    scenarios: list[ScenarioResult]
    sensitivity: list[SensitivityRow]
    switching: list[SwitchingValue]
    annual: dict[str, list[AnnualRow]]
    decision: DecisionSummary


def appraise(case: BusinessCase, source: str = "") -> Appraisal:
    """Scenarios, sensitivity, switching values, annual roll-up and the decision page of *case* (~30 ms)."""
    sens = sensitivity(case)
    sw = switching_values(case)
    annual = {r.id: annual_rollup(case, r) for r in list(case.solutions) + [case.portfolio]}
    return Appraisal(scenarios=scenario_results(case), sensitivity=sens, switching=sw, annual=annual,
                     decision=decide(case, sens, sw, source))


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
    appraisal: Appraisal | None = None
    source: str = ""


def compute_results(runs: pd.DataFrame, *, thresholds: AnomalyThresholds | None = None,
                    assumptions: Assumptions | None = None, keep_going: bool = False) -> Results:
    """Analysis and business case of the canonical table *runs* (n rows, any n >= 0).

    *thresholds*: anomaly thresholds (defaults when ``None``). *assumptions*: business-case
    assumptions, validated (defaults when ``None``; raises
    :class:`~etl_desk.core.errors.DataError` naming a bad key). With *keep_going* (the
    window), a failure in one part is kept in ``analysis_error`` / ``baseline_error`` and
    the other part is still computed; without it (command line, export) it is raised.
    :class:`~etl_desk.core.tasks.Cancelled` is always raised. When the runs carry no
    price the business case is unavailable (``case`` None, ``baseline_error`` a
    :class:`~etl_desk.core.business_case.baseline.BusinessCaseUnavailable` saying so),
    never computed on costs of $0.
    """
    th = thresholds or AnomalyThresholds()
    source = str(runs.attrs.get("source", "") or "")
    appraisal = None
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
        appraisal = appraise(case, source)
    except Cancelled:
        raise
    except BusinessCaseUnavailable as exc:  # an answer, not a failure: the runs carry no price
        b_err = exc
    except Exception as exc:  # noqa: BLE001 - kept for the window, which still shows the insights
        if not keep_going:
            raise
        b_err = exc
    if analysis is None and baseline is None:
        raise a_err
    release_memory()  # the scoring's 1M-run temporaries, back to the OS before the window draws on
    return Results(runs=len(runs), thresholds=th, assumptions=a, analysis=analysis, baseline=baseline,
                   case=case, analysis_error=a_err, baseline_error=b_err, appraisal=appraisal, source=source)


def with_assumptions(results: Results, assumptions: Assumptions) -> Results:
    """*results* with the business case (and its appraisal) re-evaluated under *assumptions* (no pass over the runs)."""
    a = validate_assumptions(assumptions)
    case = appraisal = None
    err = results.baseline_error
    if results.baseline is not None:
        try:
            case = evaluate(results.baseline, a)
            appraisal = appraise(case, results.source)
            err = None
        except BusinessCaseUnavailable as exc:
            err = exc
    return replace(results, assumptions=a, case=case, appraisal=appraisal, baseline_error=err)
