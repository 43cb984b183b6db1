"""The other pages while a big history is open: the engine's analysis, and plain words where a page cannot run yet.

* Insights: the engine's full analysis of the runs in the filter (key figures, per-pipeline
  totals and baselines, anomaly scores of every run) on a worker, on request, with progress
  and Cancel; the in-memory Insights cards need the runs in memory and say so.
* Business case: not available on a big history yet -- said plainly, with the measured
  failure and retry cost the engine does give.
* Sources: the files, the rows, the index (where, what it holds, how long each stage took).
"""
from __future__ import annotations

import html
import os

from PySide6.QtWidgets import (QHBoxLayout, QLabel, QProgressBar, QPushButton, QTextBrowser, QVBoxLayout, QWidget)

from etl_desk.core import fmt
from etl_desk.ui.window.workers import TaskRunner


def _kpi_line(k: dict) -> str:
    if not k or k.get("pending"):
        return "Key figures: being computed…"
    unknown = "unknown" if k.get("runs") else "—"
    return (f"{fmt.count(k.get('runs'))} runs, {fmt.pct(k.get('failure_rate'), 2)} failed; total cost "
            f"{fmt.usd(k.get('total_cost_usd'), missing=unknown)}, failed-run cost "
            f"{fmt.usd(k.get('failed_cost_usd'), missing=unknown)}, retry cost "
            f"{fmt.usd(k.get('retry_cost_usd'), missing=unknown)}")


def _table(df, cols: list[tuple[str, str, object]]) -> str:
    head = "".join(f"<th align='left'>{html.escape(t)}</th>" for _, t, _ in cols)
    body = []
    for _, r in df.iterrows():
        cells = []
        for c, _, f in cols:
            v = r.get(c)
            cells.append(f"<td>{html.escape(f(v) if f else str(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table cellspacing='0' cellpadding='3' border='1'><tr>{head}</tr>{''.join(body)}</table>"


def _num(d: int):
    return lambda v: "" if v is None or v != v else f"{v:,.{d}f}"


class BigInsightsPage(QWidget):
    """Public: ``run_button``, ``cancel_button``, ``progress``, ``report`` (QTextBrowser), ``result``; ``run()``."""

    def __init__(self, state, thresholds=lambda: None, parent=None):
        super().__init__(parent)
        self.setObjectName("bigInsightsPage")
        self.state, self.thresholds = state, thresholds
        self.result = None
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.run_button = QPushButton("Run the analysis")
        self.run_button.setObjectName("bigRunAnalysis")
        self.run_button.clicked.connect(self.run)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setMaximumWidth(220)
        self.status = QLabel()
        self.status.setWordWrap(True)
        row = QHBoxLayout()
        for w in (self.run_button, self.cancel_button, self.progress):
            row.addWidget(w)
        row.addWidget(self.status, 1)
        self.report = QTextBrowser()
        self.report.setObjectName("bigInsightsReport")
        lay = QVBoxLayout(self)
        lay.addWidget(self.title)
        lay.addLayout(row)
        lay.addWidget(self.report, 1)
        self.runner = TaskRunner(self)
        self.runner.progress.connect(lambda f: self.progress.setValue(int(round(f * 100))))
        self.runner.finished.connect(self._done)
        self.runner.failed.connect(lambda exc, tb: self._stopped(f"Could not finish: {getattr(exc, 'message', exc)}"))
        self.runner.cancelled.connect(lambda: self._stopped("Cancelled."))
        self.cancel_button.clicked.connect(self.runner.cancel)
        state.kpisChanged.connect(self._intro)
        state.datasetChanged.connect(self._reset)
        self._intro()

    def _reset(self) -> None:
        self.runner.cancel()
        self.result = None
        self.report.setHtml("")
        self.status.setText("Not run yet for this filter.")

    def _intro(self) -> None:
        st = self.state
        n = st.dataset.n if st.dataset is not None else 0
        self.title.setText(
            f"<b>Insights on a big history ({fmt.count(n)} runs)</b><br>The Insights cards, charts and anomaly "
            "table need the runs in memory; on a history this size ETL Desk runs the engine's analysis of the runs "
            "in the filter instead: per-pipeline totals and baselines (median, MAD, p90/p95 of duration, minutes "
            "per GB) and the robust z of every run's duration against its pipeline's volume-aware baseline "
            f"(minutes on 100M runs: on request).<br>{html.escape(_kpi_line(st.kpis))}")

    def run(self) -> None:
        """Start the analysis of the runs in the filter (a worker with its own engine connection)."""
        from etl_desk.core.engine import Engine

        st = self.state
        if st.engine is None:
            return
        source, settings, index, rule, th = st.source, st.settings, st.index, st.rule, self.thresholds()

        def work(progress, cancel):
            eng = Engine.open(source, "duckdb", settings, index=index)
            try:
                progress(0.02)
                out = {"kpis": eng.kpis(rule, cancel=cancel), "rule": rule.describe()}
                out["pipelines"] = eng.rollup("pipeline", rule, cancel=cancel)
                progress(0.1)
                out["baselines"] = eng.baselines(rule, cancel=cancel)
                progress(0.4)
                out["scores"] = eng.anomaly_scores(rule, thresholds=th, top=25, cancel=cancel,
                                                   progress=lambda f, s: progress(0.4 + 0.6 * f))
                return out
            finally:
                eng.close()

        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.status.setText(f"Analysing the runs in the filter ({rule.describe()})…")
        self.runner.start(work, "Analysis")

    def _stopped(self, text: str) -> None:
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.status.setText(text)

    def _done(self, out: dict) -> None:
        self.result = out
        self._stopped(f"Analysis of {out['rule']} done.")
        s = out["scores"]
        pipes = out["pipelines"].merge(out["baselines"], on="key", how="left", suffixes=("", "_b"))
        parts = [f"<p>{html.escape(_kpi_line(out['kpis']))}</p>",
                 "<p>" + html.escape("; ".join(out["kpis"].get("notes", []))) + "</p>",
                 "<h3>Per pipeline</h3>",
                 _table(pipes, [("key", "Pipeline", None), ("runs", "Runs", _num(0)),
                                ("failed_runs", "Failed", _num(0)),
                                ("cost_usd", "Cost (USD)", lambda v: fmt.usd(v, missing="unknown")),
                                ("median", "Duration p50 (min)", _num(1)), ("mad", "MAD (min)", _num(2)),
                                ("p95", "p95 (min)", _num(1)), ("slope_min_per_gb", "min per GB", _num(3))]),
                 f"<h3>Anomalies: {s.flagged_runs:,} runs flagged</h3>",
                 f"<p>Rule: robust z of log(duration / expected for the volume) above {s.threshold:g}, per pipeline "
                 f"({html.escape(s.method)}). The {len(s.top)} most anomalous:</p>",
                 _table(s.top, [("run_id", "Run", None), ("job_name", "Pipeline", None),
                                ("duration_min", "Duration (min)", _num(1)), ("data_processed_gb", "GB", _num(1)),
                                ("cost_usd", "Cost", lambda v: fmt.usd(v, missing="unknown")), ("z", "z", _num(1))])]
        self.report.setHtml("".join(parts))


class BigNoticePage(QWidget):
    """A page that cannot run on a big history yet: says so, and what the engine gives instead."""

    def __init__(self, state, name: str, parent=None):
        super().__init__(parent)
        self.setObjectName(f"bigNotice_{name}")
        self.state, self.name = state, name
        self.text = QLabel()
        self.text.setObjectName(f"bigNoticeText_{name}")
        self.text.setWordWrap(True)
        self.text.setTextFormat(self.text.textFormat().RichText)
        lay = QVBoxLayout(self)
        lay.addWidget(self.text)
        lay.addStretch(1)
        for sig in (state.kpisChanged, state.stageChanged, state.datasetChanged):
            sig.connect(self.refresh)
        self.refresh()

    def refresh(self, *args) -> None:
        st = self.state
        n = st.dataset.n if st.dataset is not None else 0
        if self.name == "business_case":
            self.text.setText(
                f"<h3>Business case: not available on a big history yet</h3><p>The business case and its appraisal "
                f"are computed from every run held in memory (each run's cost and anomaly flag). This history has "
                f"{fmt.count(n)} runs, more than the window holds in memory, so the page does not run on it yet — "
                "nothing here is a zero standing in for an answer.</p><p>What the engine measures on the runs in the "
                f"filter: {html.escape(_kpi_line(st.kpis))}.</p><p>For the full business case, open an extract "
                "(a pipeline or a date range) below the big-history threshold, or run <code>etl-desk analyze "
                "PATH --engine duckdb</code> for the engine's report.</p>")
            return
        files = st.source.files if st.source is not None else []
        size = sum(os.path.getsize(f) for f in files if os.path.exists(f))
        idx = st.index
        where = html.escape(str(idx.path)) if idx is not None else "not built"
        timings = ", ".join(f"{k} {v:g} s" for k, v in (idx.meta.get("timings_s", {}) if idx else {}).items())
        self.text.setText(
            f"<h3>Sources: a big history read where it lies</h3><p>{html.escape(st.path)}<br>{len(files):,} Parquet "
            f"file(s), {size / 1e6:,.0f} MB, {fmt.count(n)} runs (read by the DuckDB engine; nothing loaded into "
            f"memory).</p><p>Index ({html.escape(st.stage)}): {where}<br>{html.escape(timings)}</p><p>Per-file "
            "provenance (rows left out by reason, cost basis, reconciliation) is given for files the in-memory "
            "loader reads; this dataset is read as canonical runs.</p>")
