"""One call for the whole analysis: KPIs, insights, anomalies and notes.

:func:`analyze` is what the window (off the UI thread), the command line and
the workbook export use. :func:`to_json_dict` is the contract of
``etl-desk analyze --json``: plain JSON types only, ``null`` for anything that
cannot be computed (never NaN).
"""
from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from etl_desk.core.insights.anomalies import AnomalyThresholds, describe_rules, detect_anomalies
from etl_desk.core.insights.base import Insight
from etl_desk.core.insights.compute import compute_insights
from etl_desk.core.insights.kpis import compute_kpis

#: Version of the JSON report layout (bump when keys change meaning).
REPORT_VERSION = 1


@dataclass
class Analysis:
    """The whole analysis of one run table, as :func:`analyze` returns it.

    ``kpis``: :func:`~etl_desk.core.insights.kpis.compute_kpis`'s dict (:data:`KPI_KEYS`; USD,
    fractions 0..1, minutes, TB; None where unknown). ``insights``: the findings in the order
    computed (case study first). ``anomalies``: :func:`detect_anomalies`'s DataFrame
    (:data:`~etl_desk.core.insights.anomalies.ANOMALY_COLUMNS`, one row per finding).
    ``notes``: what could not be computed and why. ``thresholds``: the anomaly settings used.
    """
    kpis: dict
    insights: list[Insight]
    anomalies: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    thresholds: AnomalyThresholds = field(default_factory=AnomalyThresholds)

    def insight(self, insight_id: str) -> Insight | None:
        """The insight with *insight_id*, or None."""
        return next((i for i in self.insights if i.id == insight_id), None)

    def by_area(self) -> dict[str, list[Insight]]:
        """Insights grouped by area, in the order they were computed."""
        out: dict[str, list[Insight]] = {}
        for i in self.insights:
            out.setdefault(i.area, []).append(i)
        return out


def analyze(df: pd.DataFrame, thresholds: AnomalyThresholds | None = None) -> Analysis:
    """KPIs, anomalies and insights of the canonical table *df*."""
    th = thresholds or AnomalyThresholds()
    kpis = compute_kpis(df)
    anomalies = detect_anomalies(df, th)
    insights = compute_insights(df, anomalies, kpis=kpis)
    notes = list(anomalies.attrs.get("notes", []))
    for i in insights:
        if i.missing and i.missing not in notes and "no pipeline names" not in i.missing:
            notes.append(f"{i.title}: {i.missing}")
    return Analysis(kpis=kpis, insights=insights, anomalies=anomalies, notes=notes, thresholds=th)


def json_safe(x):
    """Convert numpy/pandas scalars and containers to JSON types; NaN, NaT and inf become None."""
    if x is None or x is pd.NA or x is pd.NaT:
        return None
    if isinstance(x, dict):
        return {str(k): json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, np.ndarray, pd.Index, pd.Series)):
        return [json_safe(v) for v in x]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        return x if math.isfinite(x) else None
    if isinstance(x, (pd.Timestamp, _dt.datetime, _dt.date, np.datetime64)):
        ts = pd.Timestamp(x)
        return None if pd.isna(ts) else ts.isoformat(sep=" ")
    if isinstance(x, str):
        return x
    try:
        if pd.isna(x):
            return None
    except (TypeError, ValueError):
        pass
    return str(x)


def evidence_records(ev: pd.DataFrame) -> list[dict]:
    """An evidence table as a list of JSON-safe row dicts."""
    if ev is None or ev.empty:
        return []
    return [json_safe(dict(zip(ev.columns, row))) for row in ev.itertuples(index=False, name=None)]


def insight_dict(i: Insight, *, evidence: bool = False) -> dict:
    """One insight as JSON-ready dict: ``id, area, severity, title, headline, verdict`` (None unless a
    case-study claim), ``missing`` (why it could not be computed, or None), ``run_ids`` (text), and
    with *evidence* its evidence table as row dicts (:func:`evidence_records`; NaN -> None).
    """
    d = {"id": i.id, "area": i.area, "severity": i.severity, "title": i.title, "headline": i.headline,
         "verdict": i.verdict, "missing": i.missing, "run_ids": [str(r) for r in i.run_ids]}
    if evidence:
        d["evidence"] = evidence_records(i.evidence)
    return d


def anomaly_records(anomalies: pd.DataFrame, limit: int | None = None) -> list[dict]:
    """Anomaly rows as JSON-safe dicts with the contract keys first."""
    if anomalies is None or anomalies.empty:
        return []
    a = anomalies if limit is None else anomalies.head(limit)
    cols = ["run_id", "rule", "metric", "observed", "baseline", "threshold", "score", "pipeline", "detail"]
    cols += [c for c in ("excess_usd", "excess_pct", "reason") if c in a.columns]
    out = []
    for row in a[cols].itertuples(index=False, name=None):
        out.append(json_safe(dict(zip(cols, row))))
    if "run_ids" in a.columns:
        for d, ids, rule in zip(out, a["run_ids"], a["rule"]):
            if rule == "failure_rate_jump":
                d["run_ids"] = [str(x) for x in ids]
    return out


def to_json_dict(analysis: Analysis, *, evidence: bool = False, anomaly_limit: int | None = None) -> dict:
    """The ``etl-desk analyze --json`` object: ``kpis``, ``insights``, ``anomalies`` (+ notes, thresholds).

    ``kpis`` carries at least runs, failed_runs, success_rate, total_cost_usd,
    failed_cost_usd, failed_cost_share, cost_per_tb_usd, duration_p50_min,
    duration_p95_min (shares are fractions). Each insight has id, area, severity,
    title, headline, verdict, missing, run_ids (and its evidence rows when
    *evidence*); each anomaly has run_id, rule, metric, observed, baseline,
    threshold, score, pipeline, detail, excess_usd (null when the cost is unknown),
    excess_pct, reason (and run_ids for failure-rate jumps); ``rules`` states each
    rule with its settings.
    """
    return {
        "version": REPORT_VERSION,
        "kpis": json_safe(analysis.kpis),
        "insights": [insight_dict(i, evidence=evidence) for i in analysis.insights],
        "anomalies": anomaly_records(analysis.anomalies, anomaly_limit),
        "anomaly_count": int(len(analysis.anomalies)),
        "notes": list(analysis.notes),
        "thresholds": json_safe(analysis.thresholds.to_dict()),
        "rules": describe_rules(analysis.thresholds),
    }
