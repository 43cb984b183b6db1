"""The Insights view: the analysis as a report — insight cards by area beside the anomalies and their rules.

It renders what :func:`etl_desk.core.insights.analysis.analyze` computes and computes
nothing itself. The analysis comes from the window's one
:class:`~etl_desk.ui.window.analysis_job.AnalysisJob` (off the UI thread, on the runs
in the current filter, debounced), which the Business case view shares: the
thresholds edited here go to that job, so a threshold change re-runs detection
once and both views update. Clicking a card (or its "Select N runs" button) or an
anomaly row selects those runs everywhere through the shared state.

Public API (used by tests): ``analysis`` (last result or None), ``analysisReady``
signal, ``refresh()``, ``card_for(insight_id)``, ``select_insight(insight_id)``,
``anomaly_model`` (source model), ``anomaly_table``, ``threshold_editors``,
``thresholds`` / ``set_thresholds(t)``, ``job`` (the shared AnalysisJob) and ``runner``;
``chargeback``, ``drift`` and ``forecast`` (the Chargeback, Drift and Forecast & budget tabs beside the cards,
``left_tabs``); ``forecast_job`` (the window's one ForecastJob, shared with the Dashboard's time view).
"""
from __future__ import annotations

import html
from dataclasses import fields, replace

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (QFrame, QGroupBox, QHBoxLayout, QLabel, QPushButton, QScrollArea, QSplitter,
                               QTabWidget, QVBoxLayout, QWidget)

from etl_desk.core import fmt
from etl_desk.core.fields import field_specs, value_kind
from etl_desk.core.insights.anomaly_rules import AnomalyThresholds
from etl_desk.core.insights.base import AREAS
from etl_desk.ui.insights.anomaly_table import fit_columns, make_anomaly_table
from etl_desk.ui.insights.cards import AREA_TITLES, InsightCard
from etl_desk.ui.insights.chargeback import ChargebackView
from etl_desk.ui.insights.drift_view import DriftView
from etl_desk.ui.insights.forecast_job import ForecastJob
from etl_desk.ui.insights.forecast_tab import ForecastTab
from etl_desk.ui.widgets.guard import Guard
from etl_desk.ui.widgets.spec_form import FormField, SpecForm
from etl_desk.ui.window.analysis_job import AnalysisJob, error_text


class InsightsPage(QWidget):
    """Insight cards grouped by area, a sortable anomalies table and the anomaly thresholds.

    *job*: the window's shared :class:`AnalysisJob` (one of its own when not given); *forecast_job*: the
    window's one :class:`ForecastJob` (the time view's; one of its own when not given).
    """

    analysisReady = Signal(object)  # the Analysis
    analysisFailed = Signal(str)

    def __init__(self, state, job: AnalysisJob | None = None, forecast_job: ForecastJob | None = None, parent=None):
        super().__init__(parent)
        if forecast_job is None:  # a page on its own: its own forecast, run while its tab is on screen
            forecast_job = ForecastJob(state, parent=self)
            forecast_job.job.hold()
        self.forecast_job = forecast_job
        self.setObjectName("insightsPage")
        self.state = state
        self.analysis = None
        self.job = job if job is not None else AnalysisJob(state, parent=self)
        self.runner = self.job.runner
        self._cards: dict[str, InsightCard] = {}
        self._card_layout = None
        self._unrendered = None  # an analysis whose cards wait until the view is shown
        self._active_id: str | None = None
        self._selecting = Guard()
        self._anomaly_columns_fitted = False
        self._build()
        job = self.job
        job.resultReady.connect(self._on_result)
        job.failed.connect(self._on_failed)
        job.busyChanged.connect(self._on_busy)
        job.thresholdsChanged.connect(self._show_thresholds)
        state.selectionChanged.connect(self._on_selection_changed)
        # built after the job started (the window builds its views after the first paint)
        self._on_busy(job.busy)
        if job.result is not None:
            self._on_result(job.result)

    # --- construction ------------------------------------------------------------------------
    def _build(self) -> None:
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(4)
        head = QHBoxLayout()
        self.summary = QLabel("No data analysed yet.")
        self.summary.setObjectName("insightsSummary")
        self.summary.setWordWrap(True)
        head.addWidget(self.summary, 1)
        self.busy_label = QLabel("Analysing…")
        self.busy_label.setObjectName("analysingIndicator")
        self.busy_label.setStyleSheet("color: white; background: #2F7EBC; border-radius: 3px; padding: 1px 8px;")
        self.busy_label.setVisible(False)
        head.addWidget(self.busy_label, 0, Qt.AlignmentFlag.AlignTop)
        lay.addLayout(head)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.setObjectName("insightsSplitter")
        split.setChildrenCollapsible(False)
        self.splitter = split
        # left: cards
        self.scroll = QScrollArea()
        self.scroll.setObjectName("cardsScroll")
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        # cards scroll down, never sideways: the splitter keeps them as wide as the widest card needs
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.cards_host = QWidget()
        self.cards_host.setObjectName("cardsHost")
        self.cards_layout = QVBoxLayout(self.cards_host)
        self.cards_layout.setContentsMargins(6, 6, 6, 6)
        self.cards_layout.setSpacing(6)
        self.cards_layout.addStretch(1)
        self.scroll.setWidget(self.cards_host)
        # who pays sits beside the findings, a tab away: the chargeback question is asked of the same
        # filtered runs, and its selection shows on the Dashboard like a card's
        self.chargeback = ChargebackView(self.state)
        self.left_tabs = QTabWidget()
        self.left_tabs.setObjectName("insightsTabs")
        self.left_tabs.setDocumentMode(True)
        self.left_tabs.addTab(self.scroll, "Insights")
        self.left_tabs.addTab(self.chargeback, "Chargeback")
        self.left_tabs.setTabToolTip(1, "Cost, failed cost and runs by team tag, workspace, SKU, compute type, "
                                        "source or pipeline; untagged spend always shown")
        # what is drifting and where the bill is heading: the same filtered runs, computed while on screen
        self.drift = DriftView(self.state)
        self.left_tabs.addTab(self.drift, "Drift")
        self.left_tabs.setTabToolTip(2, "Pipelines whose cost per TB or duration per GB rises week after week, "
                                        "with the extra spend so far and its annualised cost")
        self.forecast = ForecastTab(self.forecast_job)
        self.left_tabs.addTab(self.forecast, "Forecast && budget")
        self.left_tabs.setTabToolTip(3, "The next 30 / 60 / 90 days' cost with 80 % and 95 % bands, the backtest's "
                                        "coverage and the month against the budget (the time view's forecast)")
        split.addWidget(self.left_tabs)

        # right: anomalies, then their rules
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.setSpacing(4)
        self.anomaly_title = QLabel("<b>Anomalies</b>")
        self.anomaly_title.setWordWrap(True)
        rl.addWidget(self.anomaly_title)
        self.anomaly_model, self.anomaly_proxy, self.anomaly_table = make_anomaly_table(self)
        self.anomaly_table.selectionModel().selectionChanged.connect(self._on_anomaly_selection)
        rl.addWidget(self.anomaly_table, 1)
        self.notes_label = QLabel()
        self.notes_label.setWordWrap(True)
        self.notes_label.setStyleSheet("color: #8A6D00;")
        rl.addWidget(self.notes_label)
        rl.addWidget(self._build_thresholds())
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([3000, 2000])  # scaled to the real width on first layout
        lay.addWidget(split, 1)

    def _build_thresholds(self) -> QGroupBox:
        box = QGroupBox("Anomaly rules — thresholds")
        box.setObjectName("thresholdsBox")
        box.setToolTip("Changing a threshold re-runs detection on the runs in the current filter")
        v = QVBoxLayout(box)
        v.setContentsMargins(0, 0, 0, 4)
        defaults = AnomalyThresholds()
        specs = field_specs(AnomalyThresholds)
        self.threshold_form = SpecForm(
            [FormField(f.name, specs[f.name], value_kind(getattr(defaults, f.name))) for f in fields(defaults)],
            columns=2, object_prefix="threshold_", keyboard_tracking=False)
        self.threshold_form.set_values(self.thresholds.to_dict())
        self.threshold_form.edited.connect(self._on_threshold_edited)
        self.threshold_editors = self.threshold_form.editors
        v.addWidget(self.threshold_form)
        row = QHBoxLayout()
        row.addStretch(1)
        self.defaults_button = QPushButton("Restore defaults")
        self.defaults_button.setToolTip("Put every threshold back to its default")
        self.defaults_button.clicked.connect(lambda: self.set_thresholds(AnomalyThresholds()))
        row.addWidget(self.defaults_button)
        row.setContentsMargins(6, 0, 6, 0)
        v.addLayout(row)
        return box

    def reset_layout(self) -> None:
        w = max(self.splitter.width(), 500)
        self.splitter.setSizes([w * 3 // 5, w * 2 // 5])

    # --- thresholds ------------------------------------------------------------------------------
    @property
    def thresholds(self) -> AnomalyThresholds:
        """The thresholds the shared analysis uses (and the editors show)."""
        return self.job.thresholds

    def _on_threshold_edited(self, *args) -> None:
        # the shared job persists them and re-runs once; both views get the result
        self.job.set_thresholds(replace(self.thresholds, **self.threshold_form.values()))

    def _show_thresholds(self, t: AnomalyThresholds) -> None:
        self.threshold_form.set_values(t.to_dict())

    def set_thresholds(self, t: AnomalyThresholds) -> None:
        """Show *t* in the editors and re-run detection (debounced)."""
        self._show_thresholds(t)
        self.job.set_thresholds(t)

    # --- analysis ----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Analyse the runs in the current filter now (in the background); emits ``analysisReady``."""
        self.job.refresh()

    def _on_busy(self, busy: bool) -> None:
        self.busy_label.setVisible(busy)

    def _show_failure(self, msg: str) -> None:
        self.summary.setText(f"<span style='color:#C0392B'>Analysis failed: {html.escape(msg)}</span>")
        self.analysisFailed.emit(msg)

    def _on_failed(self, exc, tb: str) -> None:
        self._show_failure(error_text(exc))

    def _on_result(self, result) -> None:
        if result.analysis is None:
            self._show_failure(error_text(result.analysis_error))
            return
        self.analysis = result.analysis
        self._render(result.analysis, result.runs)
        self.analysisReady.emit(result.analysis)

    # --- rendering ------------------------------------------------------------------------------
    def _render(self, a, n: int) -> None:
        k = a.kpis
        src = self.state.dataset.source if self.state.dataset is not None else ""
        verdicts = [i.verdict for i in a.insights if i.verdict]
        vtxt = ", ".join(f"{verdicts.count(v)} {v}" for v in ("confirmed", "refuted") if v in verdicts)
        self.summary.setText(
            f"<b>{fmt.count(n)} runs analysed</b>{' — ' + html.escape(src) if src else ''}: "
            f"total cost <b>{fmt.usd(k.get('total_cost_usd'))}</b>, failed runs "
            f"<b>{fmt.count(k.get('failed_runs'))}</b> costing <b>{fmt.usd(k.get('failed_cost_usd'))}</b> "
            f"({fmt.pct(k.get('failed_cost_share'))}). {fmt.count(len(a.insights))} insights"
            f"{' (case study: ' + vtxt + ')' if vtxt else ''}, {fmt.count(len(a.anomalies))} anomalies.")
        self.anomaly_model.set_frame(a.anomalies)
        self.anomaly_title.setText(
            f"<b>Anomalies</b> — {fmt.count(len(a.anomalies))} found" if len(a.anomalies)
            else "<b>Anomalies</b> — none at these thresholds")
        notes = a.anomalies.attrs.get("notes", [])
        self.notes_label.setText("\n".join(notes))
        self.notes_label.setVisible(bool(notes))
        # the cards and the column widths are the costly part (a tenth of a second on the UI
        # thread after every filter change, plus their layout): only while the view is on
        # screen, else when it is next shown
        self._unrendered = a
        self._mark_active(None)  # a new analysis: no card is the selection's source any more
        if self.isVisible() and not self.visibleRegion().isEmpty():
            self._render_unrendered()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        self._render_unrendered()

    def set_on_screen(self, visible: bool) -> None:
        """The view came into view (e.g. its page was chosen): render what waited."""
        if visible:
            self._render_unrendered()

    def _render_unrendered(self) -> None:
        a, self._unrendered = self._unrendered, None
        if a is None:
            return
        active = self._active_id  # an insight selected through the API before the cards existed
        self._render_cards(a)
        if not self._anomaly_columns_fitted and self.anomaly_model.rowCount():
            # once, on the first anomalies: later results keep the widths (the user's, perhaps)
            self._anomaly_columns_fitted = True
            fit_columns(self.anomaly_table, self.anomaly_model.columnCount())
        if active is not None:
            self._mark_active(active)

    def _render_cards(self, a) -> None:
        groups = a.by_area()
        order = [g for g in AREAS if g in groups] + [g for g in groups if g not in AREAS]
        layout = [(area, [i.id for i in groups[area]]) for area in order]
        # the same insights as shown (a new filter, say): update the cards in place: creating
        # and styling ~100 widgets again costs the UI thread a quarter second at 1M runs
        if layout == self._card_layout and all(self._cards[i.id].update_from(i) for area in order
                                               for i in groups[area]):
            self._active_id = None
            for card in self._cards.values():
                if card.active:
                    card._set_active(False)
            self._fit_cards_width()
            return
        self._card_layout = layout
        while self.cards_layout.count() > 1:  # the previous cards (the stretch at the end stays)
            w = self.cards_layout.takeAt(0).widget()
            if w is not None:
                w.hide()
                w.deleteLater()
        self._cards.clear()
        self._active_id = None
        pos = 0
        for area in order:
            hdr = QLabel(AREA_TITLES.get(area, str(area).title()))
            hdr.setObjectName(f"areaHeader_{str(area).replace(' ', '_')}")
            hdr.setWordWrap(True)
            hdr.setStyleSheet("font-size: 12pt; font-weight: 700; padding: 6px 0 0 2px;")
            self.cards_layout.insertWidget(pos, hdr)
            pos += 1
            for ins in groups[area]:
                card = InsightCard(ins)
                card.clicked.connect(self.select_insight)
                self.cards_layout.insertWidget(pos, card)
                pos += 1
                self._cards[ins.id] = card
        self._fit_cards_width()

    def _fit_cards_width(self) -> None:
        """The cards' column is at least as wide as the widest card needs (its evidence table), so no
        button or figure is ever cut off at the side; the anomalies beside it give way."""
        self.cards_layout.activate()
        m = self.cards_layout.contentsMargins()
        widest = max((c.minimumSizeHint().width() for c in self._cards.values()), default=0)
        need = widest + m.left() + m.right() + self.scroll.verticalScrollBar().sizeHint().width() + 4
        self.scroll.setMinimumWidth(need)

    # --- selection -------------------------------------------------------------------------------
    def card_for(self, insight_id: str) -> InsightCard | None:
        self._render_unrendered()
        return self._cards.get(insight_id)

    def select_insight(self, insight_id: str) -> None:
        """Select the runs of *insight_id* in the charts and the table."""
        ins = self.analysis.insight(insight_id) if self.analysis is not None else None
        if ins is None:
            return
        with self._selecting:
            self.state.select_run_ids([str(r) for r in ins.run_ids])
        self._mark_active(insight_id)

    def _mark_active(self, insight_id: str | None) -> None:
        if self._active_id is not None and self._active_id in self._cards:
            self._cards[self._active_id]._set_active(False)
        self._active_id = insight_id
        if insight_id is not None and insight_id in self._cards:
            self._cards[insight_id]._set_active(True)

    def _on_selection_changed(self) -> None:
        if self._selecting:
            return
        self._mark_active(None)
        if self.state.selected_count() == 0:
            with QSignalBlocker(self.anomaly_table.selectionModel()):
                self.anomaly_table.clearSelection()

    def _on_anomaly_selection(self, *args) -> None:
        rows = sorted({self.anomaly_proxy.mapToSource(i).row()
                       for i in self.anomaly_table.selectionModel().selectedRows()})
        if not rows:
            return
        ids: list[str] = []
        for r in rows:
            ids.extend(self.anomaly_model.row_run_ids(r))
        with self._selecting:
            self.state.select_run_ids(ids)
        self._mark_active(None)
