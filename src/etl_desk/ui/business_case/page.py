"""The Business case view: the five remedies, their assumptions and the business case per audience.

It renders what :mod:`etl_desk.core.business_case.results` computes: the window's
``Results`` re-evaluated at the current assumptions by
:func:`~etl_desk.core.business_case.results.with_assumptions` (the business case and its
appraisal: decision, scenarios, sensitivity, switching values, annual roll-up). The
tabs: Decision (first), IT leadership, Finance, Operations, Scenarios (switch,
tornado, sensitivity), Cash flows (J-curves, annual roll-up) and Realised (benefits realisation
after a go-live). The baseline (the only step that reads the job runs) comes from the window's one
:class:`~etl_desk.ui.window.analysis_job.AnalysisJob`, measured off the UI thread on
the anomalies of the same analysis the Insights view shows, whenever the data, the
filter or a threshold changes. The assumptions are the window's one
:class:`~etl_desk.ui.business_case.assumptions_model.AssumptionsModel` (shared with the
export, the Copy action and persistence); every change re-evaluates the business
case and its appraisal (arithmetic on at most 120 months, ~0.1 s), debounced by 150 ms.

Public API (used by tests): ``assumptions`` (a copy), ``set_assumption(path, value)``
(raises DataError), ``set_assumptions(a)``, ``save_assumptions(path)`` /
``load_assumptions(path)`` (False on a bad file), ``case``, ``baseline``,
``resultsChanged`` / ``baselineReady`` / ``errorReported``, ``recompute()``,
``refresh_baseline()``; the parts: ``editor`` (``solution_checks``, ``editors``,
``error_label``), ``chart`` view (``curves``, ``break_even_item``, ``break_even_label``,
``chart_status``), ``audience_tabs``, ``it_table``, ``finance_table``, ``operations``,
``results`` / ``appraisal``, ``decision``, ``sensitivity``, ``annual``, ``realisation``.
"""
from __future__ import annotations

import html

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMainWindow, QSplitter, QTabWidget, QVBoxLayout, QWidget

from etl_desk.core import fmt
from etl_desk.core.business_case.catalogue import global_assumptions, load_catalogue, targets
from etl_desk.core.business_case.results import with_assumptions
from etl_desk.ui.business_case.assumptions_model import AssumptionsModel
from etl_desk.ui.business_case.audience import make_table, render_finance, render_it, with_note
from etl_desk.ui.business_case.cashflows import AnnualCashFlows
from etl_desk.ui.business_case.chart import CumulativeCostChart, payback_text
from etl_desk.ui.business_case.decision import DecisionView
from etl_desk.ui.business_case.editor import AssumptionsEditor
from etl_desk.ui.business_case.operations import OperationsView
from etl_desk.ui.business_case.realisation import RealisationView
from etl_desk.ui.business_case.scenarios import SensitivityView
from etl_desk.ui.window.analysis_job import AnalysisJob, error_text

EVAL_DEBOUNCE_MS = 150


class BusinessCasePage(QWidget):
    """Portfolio and assumptions, the cumulative-cost chart, and the IT / Finance / Operations views.

    *job*: the window's shared AnalysisJob; *model*: its AssumptionsModel (each is made
    here when not given, for a page used on its own).
    """

    resultsChanged = Signal(object)  # BusinessCase
    baselineReady = Signal(object)  # Baseline
    errorReported = Signal(str)

    def __init__(self, state, job: AnalysisJob | None = None, model: AssumptionsModel | None = None,
                 settings=None, parent=None):
        super().__init__(parent)
        self.setObjectName("businessCasePage")
        self.state = state
        self.job = job if job is not None else AnalysisJob(state, parent=self)
        self.model = model if model is not None else AssumptionsModel(settings, parent=self)
        self.runner = self.job.runner
        self.solutions = load_catalogue()
        self.target_specs = targets()
        self.baseline = None
        self.case = None
        self.results = None  # Results at the current assumptions (case + appraisal)
        self._base_results = None  # the job's Results (of the runs in the filter)

        self._eval_timer = QTimer(self)
        self._eval_timer.setSingleShot(True)
        self._eval_timer.setInterval(EVAL_DEBOUNCE_MS)
        self._eval_timer.timeout.connect(self.recompute)
        self._build(settings)
        self.model.changed.connect(lambda _a: self._eval_timer.start())

        job = self.job
        job.resultReady.connect(self._on_result)
        job.failed.connect(lambda exc, tb: self._show_baseline_failure(error_text(exc)))
        job.busyChanged.connect(self.busy_label.setVisible)
        # built after the job started (the window builds its views after the first paint)
        self.busy_label.setVisible(job.busy)
        if job.result is not None:
            self._on_result(job.result)

    # --- construction -------------------------------------------------------------------------------
    def _build(self, settings) -> None:
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(4)
        top = QHBoxLayout()
        self.banner = QLabel("Measuring the baseline…")
        self.banner.setObjectName("portfolioBanner")
        self.banner.setWordWrap(True)
        self.banner.setTextFormat(Qt.TextFormat.RichText)
        self.banner.setStyleSheet("QLabel#portfolioBanner { border: 1px solid palette(mid); border-radius: 4px; "
                                  "padding: 4px 8px; font-size: 10pt; }")
        top.addWidget(self.banner, 1)
        self.busy_label = QLabel("Measuring baseline…")
        self.busy_label.setStyleSheet("color: white; background: #2F7EBC; border-radius: 3px; padding: 1px 8px;")
        self.busy_label.setVisible(False)
        top.addWidget(self.busy_label, 0, Qt.AlignmentFlag.AlignTop)
        lay.addLayout(top)

        self.editor = AssumptionsEditor(self.model, self.solutions, global_assumptions(), self.target_specs,
                                        settings=settings)
        self.editor.setMinimumWidth(300)
        self.editor.errorReported.connect(self.errorReported)
        self.solution_checks, self.editors = self.editor.solution_checks, self.editor.editors

        self.chart_view = CumulativeCostChart()
        self.chart, self.curves = self.chart_view.chart, self.chart_view.curves
        self.break_even_item, self.break_even_line = self.chart_view.break_even_item, self.chart_view.break_even_line
        self.break_even_label, self.chart_status = self.chart_view.break_even_label, self.chart_view.status

        results = QWidget()
        rv = QVBoxLayout(results)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.setSpacing(2)
        self.baseline_label = QLabel()
        self.baseline_label.setObjectName("baselineLabel")
        self.baseline_label.setWordWrap(True)
        self.baseline_label.setTextFormat(Qt.TextFormat.RichText)
        rv.addWidget(self.baseline_label)
        self.audience_tabs = QTabWidget()
        self.audience_tabs.setObjectName("audienceTabs")
        self.audience_tabs.setDocumentMode(True)
        self.decision = DecisionView()
        self.audience_tabs.addTab(self.decision, "Decision")
        self.audience_tabs.setTabToolTip(0, "The decision asked, the options ranked, what would have to be true, "
                                            "risks and provenance")
        self.it_table = make_table("itTable")
        it_host, self.it_note = with_note(self.it_table)
        self.audience_tabs.addTab(it_host, "IT leadership")
        self.finance_table = make_table("financeTable")
        fin_host, self.finance_note = with_note(self.finance_table)
        self.audience_tabs.addTab(fin_host, "Finance")
        self.operations = OperationsView(self.solutions, self.target_specs)
        self.audience_tabs.addTab(self.operations, "Operations")
        self.sensitivity = SensitivityView()
        self.sensitivity.scenarioChosen.connect(lambda s: self._edit(("global", "scenario"), s))
        self.audience_tabs.addTab(self.sensitivity, "Scenarios")
        self.audience_tabs.setTabToolTip(4, "Low / Base / High, the sensitivity of each option (tornado) and the "
                                            "switching values")
        self.annual = AnnualCashFlows()
        self.audience_tabs.addTab(self.annual, "Cash flows")
        self.audience_tabs.setTabToolTip(5, "Every option's cumulative net cash flow (J-curves) and the annual "
                                            "roll-up (Year 0…N) behind every NPV")
        self.realisation = RealisationView(self.state, lambda: self.model.assumptions, lambda: self.job.thresholds)
        self.audience_tabs.addTab(self.realisation, "Realised")
        self.audience_tabs.setTabToolTip(6, "Benefits realisation: the measured change after a go-live beside the "
                                            "projection")
        self.audience_tabs.setCurrentIndex(0)
        rv.addWidget(self.audience_tabs, 1)

        # the cumulative-cost chart large on the right, the audience views under it
        self.right = QSplitter(Qt.Orientation.Vertical)
        self.right.setObjectName("businessCaseRight")
        self.right.setChildrenCollapsible(False)
        self.right.addWidget(self.chart_view)
        self.right.addWidget(results)
        self.right.setStretchFactor(0, 1)
        self.right.setStretchFactor(1, 2)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.setObjectName("businessCaseSplitter")
        split.setChildrenCollapsible(False)
        split.addWidget(self.editor)
        split.addWidget(self.right)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        self.splitter = split
        lay.addWidget(split, 1)
        self.reset_layout()

    def showEvent(self, ev):  # noqa: N802 - Qt API
        super().showEvent(ev)
        win = self.window()
        if not getattr(self, "_in_status_bar", False) and isinstance(win, QMainWindow):
            self._in_status_bar = True
            self.realisation.use_status_bar(win.statusBar())  # progress + Cancel where the window shows work

    def reset_layout(self) -> None:
        w, h = max(self.width(), 900), max(self.height(), 600)
        self.splitter.setSizes([340, w - 340])
        # the views (decision, tables) get two thirds: the chart reads well smaller, the tables do not
        self.right.setSizes([h // 3, h - h // 3])
        self.audience_tabs.setCurrentIndex(0)

    def save_layout(self) -> dict:
        """The splitters' states and the audience tab shown (for the window's settings)."""
        return {"outer": self.splitter.saveState(), "right": self.right.saveState(),
                "tab": self.audience_tabs.currentIndex()}

    def restore_layout(self, d: dict) -> None:
        if d.get("outer") is not None:
            self.splitter.restoreState(d["outer"])
        if d.get("right") is not None:
            self.right.restoreState(d["right"])
        if isinstance(d.get("tab"), int) and 0 <= d["tab"] < self.audience_tabs.count():
            self.audience_tabs.setCurrentIndex(d["tab"])

    # --- assumptions (the shared model) -------------------------------------------------------------
    @property
    def assumptions(self) -> dict:
        """The current assumptions (a copy: edit through :meth:`set_assumption`)."""
        return self.model.assumptions

    @property
    def error_label(self) -> QLabel:
        return self.editor.error_label

    @property
    def last_error(self) -> str:
        return self.editor.last_error

    def set_assumption(self, path, value) -> None:
        """Set one assumption: ``("global", "discount_rate")``, ``"global.discount_rate"``,
        ``"discount_rate"`` or ``("solutions", id, key)``. Raises DataError on a bad value."""
        self.model.set(path, value)

    def _edit(self, path, value) -> None:
        """An edit from a view (the scenario switch): as the form's, a refused value is reported."""
        self.editor._edited(path, value)

    def set_assumptions(self, a) -> None:
        """Replace all assumptions (validated; missing keys take defaults)."""
        self.model.replace(a)

    def save_assumptions(self, path) -> bool:
        return self.editor.save(path)

    def load_assumptions(self, path) -> bool:
        """Load a TOML/JSON file; on a bad file report the error (naming the key) and keep the current ones."""
        return self.editor.load(path)

    # --- baseline -----------------------------------------------------------------------------------
    def refresh_baseline(self) -> None:
        """Measure the baseline of the runs in the current filter now (in the background)."""
        self.job.refresh()

    def _on_result(self, result) -> None:
        if result.baseline is None:
            # of other runs than the ones before: an edit must not re-evaluate the old baseline
            self.baseline = self._base_results = self.results = None
            self._show_baseline_failure(error_text(result.baseline_error))
            return
        self.baseline = result.baseline
        self._base_results = result
        self.baselineReady.emit(result.baseline)
        self.recompute()

    def _show_baseline_failure(self, msg: str) -> None:
        self.case = None  # the case shown before was of other runs (or other assumptions): never kept as current
        self.banner.setText(f"<span style='color:#B03A2E'>Cannot measure the baseline: {html.escape(msg)}</span>")
        self.chart_view.clear("the cost of doing nothing could not be measured (see the line above).")
        self.annual.clear("the cost of doing nothing could not be measured (see the line at the top).")

    # --- evaluation -----------------------------------------------------------------------------------
    def recompute(self) -> None:
        """Evaluate the business case now (arithmetic) and refresh every view."""
        self._eval_timer.stop()
        if self._base_results is None:
            return
        self.results = with_assumptions(self._base_results, self.model.assumptions)
        if self.results.case is None:
            self._show_baseline_failure(error_text(self.results.baseline_error))
            return
        self.case = self.results.case
        self._render(self.case)
        self.resultsChanged.emit(self.case)

    @property
    def appraisal(self):
        """Scenarios, sensitivity, switching values, annual roll-up and decision at the current assumptions."""
        return self.results.appraisal if self.results is not None else None

    def _render(self, case) -> None:
        self._render_banner(case)
        render_it(self.it_table, self.it_note, case, self.solutions)
        render_finance(self.finance_table, self.finance_note, case, self.target_specs)
        self.chart_view.show_case(case)
        self.operations.set_assumptions(case.assumptions)
        ap = self.results.appraisal
        yrs = int(case.assumptions["global"]["horizon_years"])
        self.decision.show_decision(ap.decision, yrs)
        self.sensitivity.show_appraisal(case, ap)
        self.annual.show_case(case, ap)

    def _render_banner(self, case) -> None:
        g = case.assumptions["global"]
        p = case.portfolio
        yrs = int(g["horizon_years"])
        ticked = sum(1 for r in case.solutions if r.enabled)
        members = [case.result(i) for i in case.members]
        n = len(members)
        dn = f"doing nothing costs <b>{fmt.usd(case.annual['total_cost'], 0)}</b> a year."
        if ticked == 0:
            self.banner.setText("<b>No solution selected.</b> Tick solutions on the left to build the portfolio; "
                                + dn)
        elif n == 0:
            self.banner.setText(
                f"<b>No ticked solution pays back</b> within {yrs} years, so the NPV-maximising portfolio is empty: "
                + dn + " (Set the portfolio rule to “enabled” to see the ticked solutions anyway.)"
                if g.get("portfolio") == "npv_max" else
                "<b>The portfolio is empty.</b> " + dn[0].upper() + dn[1:])
        else:
            col = "#1E7B45" if p.payback_within_horizon else "#B03A2E"
            which = ", ".join(str(r.number) for r in members)
            rule = (f" (the NPV-maximising choice of the {ticked} ticked)"
                    if g.get("portfolio") == "npv_max" and n < ticked else "")
            self.banner.setText(
                f"<b>Portfolio of {n} solution{'s' if n != 1 else ''}</b> ({which}){rule}: invest "
                f"<b>{fmt.usd(p.investment_usd, 0)}</b> ({p.personnel_fte:g} people, weeks "
                f"{p.start_week:g}–{p.go_live_week:g}); saves <b>{fmt.usd(p.savings_year, 0)}</b> a year for "
                f"<b>{fmt.usd(p.maintenance_year, 0)}</b> a year of upkeep. Payback "
                f"<b style='color:{col}'>{payback_text(p, yrs)}</b>; NPV over {yrs} years at "
                f"{g['discount_rate'] * 100:g} %: <b>{fmt.usd(p.npv_usd, 0)}</b>; ROI "
                f"<b>{fmt.pct(p.roi, 0)}</b>.")
        b, a = case.baseline, case.annual
        method = b.method_text(g["annualisation"], g["data_coverage"])
        notes = "".join(f"<br><i>Note: {html.escape(x)}</i>" for x in b.notes)
        confirmed = b.confirmed(case.assumptions)
        assumed = []
        for key, what in (("storage_cost", "storage"), ("incident_cost", "engineer time on failures")):
            if confirmed[key]:
                assumed.append(f" + {what} {fmt.usd(a[key], 0)} (assumed, confirmed)")
            elif case.assumed[key] > 0:
                assumed.append(f"; {what} {fmt.usd(case.assumed[key], 0)} assumed, not counted until confirmed")
        scenario = "" if case.scenario == "base" else (
            f" <b>{html.escape(global_assumptions()['scenario'].spec.choice_label(case.scenario))} scenario</b>: "
            f"measured spend ×{case.multipliers.get('baseline', 1):g}.")
        self.baseline_label.setText(
            f"<b>Doing nothing costs {fmt.usd(a['total_cost'], 0)} a year</b>: job runs "
            f"{fmt.usd(a['compute_cost'], 0)} (measured on {fmt.count(b.runs)} runs over {b.span_days:,.1f} days, "
            f"{html.escape(method.split(' = ')[0])}){''.join(assumed)}.{scenario}{notes}")
        self.baseline_label.setToolTip(method)
