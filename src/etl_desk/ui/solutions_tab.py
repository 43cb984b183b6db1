"""The Solutions tab: the five remedies, their assumptions and the business case per audience.

It renders what :mod:`etl_desk.core.business_case.model` computes. The baseline (the only
step that reads the job runs) comes from the window's one
:class:`~etl_desk.ui.analysis_job.AnalysisJob`, which measures it off the UI
thread on the anomalies of the same analysis the Insights tab shows (at the
thresholds set there), whenever the data, the filter or a threshold changes;
every assumption edit re-evaluates the business case, which is pure arithmetic
on at most 120 months, debounced by 150 ms.

Assumptions persist in the window's settings (JSON under
``solutions/assumptions``) and can be saved to / loaded from TOML or JSON
files; a bad file is reported naming the key and the current assumptions stay.

Public API (used by tests): ``assumptions`` (current, a copy), ``set_assumption(path, value)``,
``set_assumptions(a)``, ``case`` (last :class:`~etl_desk.core.BusinessCase`),
``baseline``, ``resultsChanged`` / ``baselineReady`` / ``errorReported`` signals, ``chart``
(the pyqtgraph PlotWidget), ``curves``, ``break_even_item``, ``audience_tabs``,
``it_table``, ``finance_table``, ``solution_checks``, ``editors``, ``save_assumptions(path)``,
``load_assumptions(path)`` (False on a bad file), ``recompute()``, ``refresh_baseline()``,
``job`` (the shared AnalysisJob) and ``runner``.
"""
from __future__ import annotations

import copy
import html
import json
import math
import os
import textwrap

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout,
                               QFrame, QGroupBox, QHBoxLayout, QHeaderView, QLabel, QListWidget, QMessageBox,
                               QPushButton, QScrollArea, QSizePolicy, QSpinBox, QSplitter, QTableWidget,
                               QTableWidgetItem, QTabWidget, QTextBrowser, QToolBox, QVBoxLayout, QWidget)

from etl_desk.core import fmt
from etl_desk.core.errors import DataError
from etl_desk.core.business_case.catalogue import diagram_path, global_assumptions, load_catalogue, targets
from etl_desk.ui.analysis_job import AnalysisJob, error_text
from etl_desk.core.business_case.model import evaluate
from etl_desk.core.business_case.periods import PERIODS, per_period
from etl_desk.core.business_case.assumptions import default_assumptions, load_assumptions, save_assumptions, validate_assumptions

SETTINGS_KEY = "solutions/assumptions"
EVAL_DEBOUNCE_MS = 150
FILE_FILTER = "Assumptions (*.toml *.json);;TOML (*.toml);;JSON (*.json);;All files (*)"

DO_NOTHING_COLOR = "#8C8C8C"
PORTFOLIO_COLOR = "#2E8B57"
BREAK_EVEN_COLOR = "#C0392B"
NEGATIVE_COLOR = QColor("#B03A2E")
POSITIVE_COLOR = QColor("#1E7B45")

ROW_TIPS = {
    "Investment": "People × weeks × loaded weekly rate + one-off tooling, spent during implementation",
    "Maintenance": "Running cost after go-live: tooling per year + maintenance FTE × weekly rate × 365 / 7",
    "Savings": "Expected effect × the measured yearly cost of the target, at full effect",
    "Net saving": "Savings per year − maintenance per year, at full effect",
    "Payback": "Months until the cumulative net cash flow turns positive for good (where the lines cross)",
    "ROI": "(Savings − investment − maintenance) / (investment + maintenance) over the horizon, undiscounted",
    "NPV": "Monthly net cash flows discounted at the discount rate over the horizon",
    "Spend doing nothing": "Cumulative cost over the horizon if nothing changes",
    "Spend with": "Cumulative cost over the horizon with this solution (or the portfolio), investment included",
    "Impact vs": "Spend doing nothing − spend with the solution over the horizon (positive = saves money)",
}

ANNUALISATION_LABELS = {"span": "Span of the data (first start to last end)",
                        "active_days": "Days with at least one run"}


def _is_fraction(unit: str) -> bool:
    return unit.startswith("fraction")


def _pct_suffix(unit: str) -> str:
    rest = unit[len("fraction"):].strip()
    return f" % {rest}" if rest else " %"


def _decimals(step: float) -> int:
    if step >= 1:
        return 0
    return max(0, min(4, -int(math.floor(math.log10(step) + 1e-9))))


def _payback_text(r, horizon_years: int) -> str:
    if r.payback_months is None:
        return f"not within {horizon_years} y"
    if r.payback_months == 0:
        return "immediately"
    return f"{r.payback_months:,.1f} months"


def _short_name(number: int, name: str, width: int = 16) -> str:
    """'Cost tracking, auto-scaling and spot instances' -> '2. Cost tracking' (for column headers)."""
    short = name.split(",")[0].split(" and ")[0].strip()
    return textwrap.fill(f"{number}. {short}", width)


class MoneyAxis(pg.AxisItem):
    def tickStrings(self, values, scale, spacing):
        return [fmt.usd_short(v) for v in values]


class SolutionsTab(QWidget):
    """Portfolio checkboxes, assumption editors, results per audience and a cumulative-cost chart.

    *job*: the window's shared :class:`AnalysisJob` (the parent's ``analysis_job``
    when not given; one of its own otherwise).
    """

    resultsChanged = Signal(object)  # BusinessCase
    baselineReady = Signal(object)  # Baseline
    errorReported = Signal(str)

    def __init__(self, state, parent=None, job: AnalysisJob | None = None):
        super().__init__(parent)
        self.setObjectName("solutionsTab")
        self.state = state
        self.settings = getattr(parent, "settings", None)
        self.solutions = load_catalogue()
        self.global_specs = global_assumptions()
        self.target_specs = targets()
        self._assumptions = self._restore_assumptions()
        self.baseline = None
        self.case = None
        self.last_error = ""
        self._updating = False

        self._eval_timer = QTimer(self)
        self._eval_timer.setSingleShot(True)
        self._eval_timer.setInterval(EVAL_DEBOUNCE_MS)
        self._eval_timer.timeout.connect(self.recompute)

        self._build()
        self._show_assumptions()
        # the baseline comes with the shared analysis of the runs in the filter (same anomalies, same
        # thresholds as the Insights tab), off the UI thread, once per data/filter/threshold change
        if job is None:
            job = getattr(parent, "analysis_job", None)
        if job is None:
            job = AnalysisJob(state, self.settings, parent=self)
        self.job = job
        self.runner = job.runner
        job.resultReady.connect(self._on_result)
        job.failed.connect(self._on_baseline_failed)
        job.busyChanged.connect(self.busy_label.setVisible)
        # built after the job started (the window builds its tabs after the first paint)
        self.busy_label.setVisible(job.busy)
        if job.result is not None:
            self._on_result(job.result)

    # =========================================================================== construction
    def _build(self) -> None:
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(4)
        top = QHBoxLayout()
        self.banner = QLabel("Measuring the baseline…")
        self.banner.setObjectName("portfolioBanner")
        self.banner.setWordWrap(True)
        self.banner.setTextFormat(Qt.TextFormat.RichText)
        self.banner.setStyleSheet("QLabel#portfolioBanner { background: #F6F6F4; border: 1px solid #DDDDDD; "
                                  "border-radius: 4px; padding: 4px 8px; font-size: 10pt; }")
        top.addWidget(self.banner, 1)
        self.busy_label = QLabel("Measuring baseline…")
        self.busy_label.setStyleSheet("color: white; background: #2F7EBC; border-radius: 3px; padding: 1px 8px;")
        self.busy_label.setVisible(False)
        top.addWidget(self.busy_label, 0, Qt.AlignmentFlag.AlignTop)
        lay.addLayout(top)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.setChildrenCollapsible(False)
        self.splitter = split
        split.addWidget(self._build_editor())
        split.addWidget(self._build_results())
        split.addWidget(self._build_chart())
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 3)
        split.setStretchFactor(2, 2)
        split.setSizes([320, 780, 460])
        lay.addWidget(split, 1)

    # --- editor ---------------------------------------------------------------------------------
    def _build_editor(self) -> QWidget:
        w = QWidget()
        w.setMinimumWidth(300)
        v = QVBoxLayout(w)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(4)
        box = QGroupBox("Portfolio — solutions to fund")
        bl = QVBoxLayout(box)
        bl.setContentsMargins(6, 4, 6, 4)
        bl.setSpacing(1)
        self.solution_checks: dict[str, QCheckBox] = {}
        for s in self.solutions:
            cb = QCheckBox(f"{s.number}. {s.name}")
            cb.setObjectName(f"solutionCheck_{s.id}")
            cb.setToolTip(f"<b>{html.escape(s.name)}</b><br>{html.escape(s.summary)}")
            cb.toggled.connect(lambda on, sid=s.id: self._edited(("solutions", sid, "enabled"), bool(on)))
            bl.addWidget(cb)
            self.solution_checks[s.id] = cb
        v.addWidget(box)

        self.editors: dict[tuple, QWidget] = {}
        self.editor_box = QToolBox()
        # date inputs (project start) have no editor here yet: the Business case page is being rebuilt
        editable = [("global", k) for k, spec in self.global_specs.items() if spec.kind != "date"]
        self.editor_box.addItem(self._form(editable, self.global_specs),
                                "General: horizon, discount rate, growth, storage")
        for s in self.solutions:
            specs = {k: a for k, a in s.assumptions.items() if k != "enabled"}
            page = self._form([("solutions", s.id, k) for k in specs], specs)
            self.editor_box.addItem(page, f"{s.number}. {s.name}")
        v.addWidget(self.editor_box, 1)

        row = QHBoxLayout()
        self.load_button = QPushButton("Load…")
        self.load_button.setToolTip("Load assumptions from a TOML or JSON file")
        self.load_button.clicked.connect(self.load_dialog)
        self.save_button = QPushButton("Save…")
        self.save_button.setToolTip("Save these assumptions to a TOML or JSON file")
        self.save_button.clicked.connect(self.save_dialog)
        self.defaults_button = QPushButton("Defaults")
        self.defaults_button.setToolTip("Put every assumption back to the catalogue's default")
        self.defaults_button.clicked.connect(lambda: self.set_assumptions(default_assumptions()))
        for b in (self.load_button, self.save_button, self.defaults_button):
            row.addWidget(b)
        v.addLayout(row)
        self.error_label = QLabel()
        self.error_label.setObjectName("assumptionsError")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #B03A2E;")
        self.error_label.setVisible(False)
        v.addWidget(self.error_label)
        return w

    def _form(self, paths: list[tuple], specs: dict) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        form.setContentsMargins(4, 4, 4, 4)
        form.setVerticalSpacing(3)
        for path in paths:
            spec = specs[path[-1]]
            editor = self._editor(path, spec)
            rng = ""
            if spec.kind in ("int", "float"):
                if _is_fraction(spec.unit):
                    rng = f"Range {spec.min * 100:g} – {spec.max * 100:g} %"
                else:
                    rng = f"Range {spec.min:,g} – {spec.max:,g} {spec.unit}".rstrip()
            tip = f"<b>{html.escape(spec.label)}</b><br>{html.escape(spec.rationale)}" + (
                f"<br><i>{html.escape(rng)}</i>" if rng else "")
            editor.setToolTip(tip)
            lab = QLabel(spec.label)
            lab.setToolTip(tip)
            lab.setWordWrap(True)
            form.addRow(lab, editor)
            self.editors[path] = editor
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(page)
        return scroll

    def _editor(self, path: tuple, spec) -> QWidget:
        kind = spec.kind
        name = "editor_" + "_".join(str(p) for p in path)
        if kind == "choice":
            w = QComboBox()
            for c in spec.choices:
                label = (self.target_specs[c].label if c in self.target_specs
                         else ANNUALISATION_LABELS.get(c, c))
                w.addItem(label, c)
                if c in self.target_specs:
                    w.setItemData(w.count() - 1, self.target_specs[c].description, Qt.ItemDataRole.ToolTipRole)
            w.currentIndexChanged.connect(lambda _i, p=path, w=w: self._edited(p, w.currentData()))
        elif kind == "bool":
            w = QCheckBox()
            w.toggled.connect(lambda on, p=path: self._edited(p, bool(on)))
        elif kind == "int" and not _is_fraction(spec.unit):
            w = QSpinBox()
            w.setRange(int(spec.min), int(spec.max))
            w.setSingleStep(max(1, int(spec.step)))
            if spec.unit:
                w.setSuffix(f" {spec.unit}")
            w.setGroupSeparatorShown(True)
            w.valueChanged.connect(lambda v, p=path: self._edited(p, int(v)))
        else:
            w = QDoubleSpinBox()
            w.setGroupSeparatorShown(True)
            if _is_fraction(spec.unit):
                w.setDecimals(max(0, _decimals(spec.step * 100)))
                w.setRange(spec.min * 100, spec.max * 100)
                w.setSingleStep(spec.step * 100)
                w.setSuffix(_pct_suffix(spec.unit))
                w.valueChanged.connect(lambda v, p=path: self._edited(p, round(v / 100, 10)))
            else:
                w.setDecimals(_decimals(spec.step))
                w.setRange(float(spec.min), float(spec.max))
                w.setSingleStep(float(spec.step))
                unit = spec.unit
                if unit.startswith("USD"):
                    w.setPrefix("$")
                    unit = unit[3:].strip()
                if unit:
                    w.setSuffix(f" {unit}")
                w.valueChanged.connect(lambda v, p=path, k=kind: self._edited(p, int(round(v)) if k == "int"
                                                                              else float(v)))
            w.setKeyboardTracking(True)
        w.setObjectName(name)
        w.setMinimumWidth(130)
        return w

    # --- results ----------------------------------------------------------------------------------
    def _build_results(self) -> QWidget:
        w = QWidget()
        v = QVBoxLayout(w)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(2)
        self.baseline_label = QLabel()
        self.baseline_label.setObjectName("baselineLabel")
        self.baseline_label.setWordWrap(True)
        self.baseline_label.setTextFormat(Qt.TextFormat.RichText)
        self.baseline_label.setStyleSheet("color: #444444;")
        v.addWidget(self.baseline_label)
        self.audience_tabs = QTabWidget()
        self.audience_tabs.setObjectName("audienceTabs")
        self.audience_tabs.setDocumentMode(True)

        self.it_table = self._table()
        self.it_table.setObjectName("itTable")
        self.audience_tabs.addTab(self._with_note(self.it_table, "it"), "IT leadership")

        self.finance_table = self._table()
        self.finance_table.setObjectName("financeTable")
        self.audience_tabs.addTab(self._with_note(self.finance_table, "finance"), "Finance")

        self.audience_tabs.addTab(self._build_operations(), "Operations")
        self.audience_tabs.setCurrentIndex(1)
        v.addWidget(self.audience_tabs, 1)
        return w

    def _table(self) -> QTableWidget:
        t = QTableWidget()
        t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        t.setSelectionMode(QAbstractItemView.SelectionMode.ContiguousSelection)
        t.setAlternatingRowColors(True)
        t.verticalHeader().setDefaultSectionSize(20)
        t.setWordWrap(True)
        t.setMinimumHeight(120)
        return t

    def _with_note(self, table: QTableWidget, which: str) -> QWidget:
        w = QWidget()
        v = QVBoxLayout(w)
        v.setContentsMargins(0, 2, 0, 0)
        v.setSpacing(2)
        v.addWidget(table, 1)
        note = QLabel()
        note.setWordWrap(True)
        note.setStyleSheet("color: #666666; font-size: 8pt;")
        v.addWidget(note)
        setattr(self, f"{which}_note", note)
        return w

    def _build_operations(self) -> QWidget:
        w = QWidget()
        h = QHBoxLayout(w)
        h.setContentsMargins(0, 2, 0, 0)
        self.ops_list = QListWidget()
        self.ops_list.setObjectName("operationsList")
        for s in self.solutions:
            self.ops_list.addItem(f"{s.number}. {s.name}")
        self.ops_list.setMaximumWidth(190)
        self.ops_list.setWordWrap(True)
        self.ops_list.currentRowChanged.connect(self._show_operations)
        h.addWidget(self.ops_list)
        self.ops_text = QTextBrowser()
        self.ops_text.setObjectName("operationsText")
        self.ops_text.setOpenLinks(False)
        h.addWidget(self.ops_text, 2)
        self.diagram_host = QWidget()
        self.diagram_host.setMinimumWidth(260)
        dl = QVBoxLayout(self.diagram_host)
        dl.setContentsMargins(0, 0, 0, 0)
        self.diagram_title = QLabel("<b>Architecture</b>")
        self.diagram_title.setWordWrap(True)
        dl.addWidget(self.diagram_title)
        self.diagram = None
        self.diagram_missing = QLabel()
        self.diagram_missing.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.diagram_missing.setWordWrap(True)
        self.diagram_missing.setStyleSheet("color: #777777; border: 1px dashed #CCCCCC;")
        dl.addWidget(self.diagram_missing, 1)
        h.addWidget(self.diagram_host, 4)
        return w

    # --- chart ---------------------------------------------------------------------------------------
    def _build_chart(self) -> QWidget:
        self.chart = pg.PlotWidget(axisItems={"left": MoneyAxis("left")})
        self.chart.setObjectName("cumulativeCostChart")
        self.chart.setBackground("w")
        pi = self.chart.getPlotItem()
        pi.setLabel("bottom", "Months from today")
        pi.setLabel("left", "Cumulative cost (USD)")
        for a in ("left", "bottom"):
            ax = pi.getAxis(a)
            ax.setPen(pg.mkPen("#9a9a9a"))
            ax.setTextPen(pg.mkPen("#333333"))
        pi.showGrid(x=True, y=True, alpha=0.15)
        pi.setMenuEnabled(False)
        self.chart.setMouseEnabled(x=False, y=False)
        legend = pi.addLegend(offset=(10, 10), brush=pg.mkBrush(255, 255, 255, 220), pen=pg.mkPen("#cccccc"),
                              labelTextColor="#222222")
        self.legend = legend
        self.curves = {
            "do_nothing": pi.plot([], [], pen=pg.mkPen(DO_NOTHING_COLOR, width=2.5), name="Doing nothing"),
            "portfolio": pi.plot([], [], pen=pg.mkPen(PORTFOLIO_COLOR, width=2.5), name="With the portfolio"),
        }
        self.break_even_item = pg.ScatterPlotItem(size=11, pen=pg.mkPen("w", width=1.5),
                                                  brush=pg.mkBrush(BREAK_EVEN_COLOR), symbol="o")
        pi.addItem(self.break_even_item)
        self.break_even_line = pg.InfiniteLine(angle=90, movable=False,
                                               pen=pg.mkPen(BREAK_EVEN_COLOR, width=1, style=Qt.PenStyle.DashLine))
        pi.addItem(self.break_even_line)
        self.break_even_label = pg.TextItem(color=BREAK_EVEN_COLOR, anchor=(0, 1),
                                            fill=pg.mkBrush(255, 255, 255, 210))
        pi.addItem(self.break_even_label)
        self.end_labels = {k: pg.TextItem(color=c, anchor=(1, 1)) for k, c in
                           (("do_nothing", DO_NOTHING_COLOR), ("portfolio", PORTFOLIO_COLOR))}
        for t in self.end_labels.values():
            pi.addItem(t)
        host = QWidget()
        v = QVBoxLayout(host)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(2)
        title = QLabel("<b>Cumulative cost: doing nothing vs the portfolio</b>")
        title.setWordWrap(True)
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        v.addWidget(title)
        v.addWidget(self.chart, 1)
        self.chart_status = QLabel()
        self.chart_status.setObjectName("breakEvenStatus")
        self.chart_status.setWordWrap(True)
        self.chart_status.setTextFormat(Qt.TextFormat.RichText)
        v.addWidget(self.chart_status)
        host.setMinimumWidth(300)
        return host

    # =========================================================================== assumptions
    @property
    def assumptions(self) -> dict:
        """The current assumptions (a copy: edit through :meth:`set_assumption`)."""
        return copy.deepcopy(self._assumptions)

    def _restore_assumptions(self) -> dict:
        s = self.settings
        if s is not None:
            raw = s.value(SETTINGS_KEY)
            if raw:
                try:
                    return validate_assumptions(json.loads(raw))
                except (ValueError, TypeError):  # DataError is a ValueError
                    pass
        return default_assumptions()

    def _persist(self) -> None:
        if self.settings is not None:
            self.settings.setValue(SETTINGS_KEY, json.dumps(self._assumptions))
            self.settings.sync()

    def _normalise_path(self, path) -> tuple:
        if isinstance(path, str):
            parts = tuple(path.split("."))
            if len(parts) == 1:
                if path in self.global_specs:
                    return ("global", path)
                raise KeyError(f"{path}: not a global assumption; use ('solutions', id, key)")
            path = parts
        path = tuple(path)
        if len(path) == 2 and path[0] == "global" and path[1] in self.global_specs:
            return path
        if len(path) == 3 and path[0] == "solutions" and path[1] in self._assumptions["solutions"] \
                and path[2] in self._assumptions["solutions"][path[1]]:
            return path
        raise KeyError(f"{'.'.join(map(str, path))}: unknown assumption")

    def set_assumption(self, path, value) -> None:
        """Set one assumption: ``("global", "discount_rate")``, ``"global.discount_rate"``,
        ``"discount_rate"`` or ``("solutions", id, key)``. Raises DataError on a bad value."""
        path = self._normalise_path(path)
        self._apply(path, value)
        self._show_assumptions()

    def set_assumptions(self, a) -> None:
        """Replace all assumptions (validated; missing keys take defaults)."""
        self._assumptions = validate_assumptions(a)
        self._show_assumptions()
        self._persist()
        self._eval_timer.start()

    def _apply(self, path: tuple, value) -> None:
        new = copy.deepcopy(self._assumptions)
        node = new
        for p in path[:-1]:
            node = node[p]
        node[path[-1]] = value
        new = validate_assumptions(new)  # raises DataError naming the key
        if new == self._assumptions:
            return
        self._assumptions = new
        self._persist()
        self._eval_timer.start()

    def _edited(self, path: tuple, value) -> None:
        if self._updating:
            return
        try:
            self._apply(path, value)
        except DataError as exc:
            self._report(exc.message)
            self._show_assumptions()
        else:
            self.error_label.setVisible(False)

    def _show_assumptions(self) -> None:
        """Put the current assumptions into every editor (without feedback)."""
        self._updating = True
        try:
            a = self._assumptions
            for sid, cb in self.solution_checks.items():
                cb.setChecked(bool(a["solutions"][sid]["enabled"]))
            for path, w in self.editors.items():
                v = a["global"][path[1]] if path[0] == "global" else a["solutions"][path[1]][path[2]]
                spec = self.global_specs[path[1]] if path[0] == "global" else \
                    next(s for s in self.solutions if s.id == path[1]).assumptions[path[2]]
                if isinstance(w, QComboBox):
                    w.setCurrentIndex(max(0, w.findData(v)))
                elif isinstance(w, QCheckBox):
                    w.setChecked(bool(v))
                elif isinstance(w, QDoubleSpinBox) and _is_fraction(spec.unit):
                    w.setValue(float(v) * 100)
                else:
                    w.setValue(v)
            for s, i in zip(self.solutions, range(1, self.editor_box.count())):
                on = a["solutions"][s.id]["enabled"]
                self.editor_box.setItemText(i, f"{s.number}. {s.name}" + ("" if on else "  (not in portfolio)"))
        finally:
            self._updating = False

    # --- files ------------------------------------------------------------------------------------
    def _report(self, message: str) -> None:
        self.last_error = message
        self.error_label.setText(message)
        self.error_label.setVisible(True)
        self.errorReported.emit(message)
        if not os.environ.get("ETL_DESK_NO_DIALOGS"):
            QMessageBox.warning(self, "Assumptions", message)

    def save_assumptions(self, path) -> bool:
        try:
            save_assumptions(self._assumptions, path)
        except (DataError, OSError) as exc:
            self._report(getattr(exc, "message", None) or f"Cannot write {path}: {exc}")
            return False
        self.error_label.setVisible(False)
        return True

    def load_assumptions(self, path) -> bool:
        """Load a TOML/JSON file; on a bad file report the error (naming the key) and keep the current ones."""
        try:
            a = load_assumptions(path)
        except DataError as exc:
            self._report(f"{exc.message}\nThe current assumptions are unchanged.")
            return False
        self.error_label.setVisible(False)
        self.set_assumptions(a)
        return True

    def _start_dir(self) -> str:
        if self.settings is not None:
            return str(self.settings.value("solutions/lastDir", os.path.expanduser("~")))
        return os.path.expanduser("~")

    def save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save assumptions",
                                              os.path.join(self._start_dir(), "assumptions.toml"), FILE_FILTER)
        if path and self.save_assumptions(path) and self.settings is not None:
            self.settings.setValue("solutions/lastDir", os.path.dirname(path))

    def load_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load assumptions", self._start_dir(), FILE_FILTER)
        if path and self.load_assumptions(path) and self.settings is not None:
            self.settings.setValue("solutions/lastDir", os.path.dirname(path))

    # =========================================================================== baseline
    def refresh_baseline(self) -> None:
        """Measure the baseline of the runs in the current filter now (in the background)."""
        self.job.refresh()

    def _on_result(self, result) -> None:
        if result.baseline is None:
            self._show_baseline_failure(error_text(result.baseline_error))
            return
        self._on_baseline(result.baseline, result.runs)

    def _on_baseline(self, baseline, n: int) -> None:
        self.baseline = baseline
        self.baselineReady.emit(baseline)
        self.recompute()

    def _show_baseline_failure(self, msg: str) -> None:
        self.banner.setText(f"<span style='color:#B03A2E'>Cannot measure the baseline: {html.escape(msg)}</span>")

    def _on_baseline_failed(self, exc, tb: str) -> None:
        self._show_baseline_failure(error_text(exc))

    # =========================================================================== evaluation
    def recompute(self) -> None:
        """Evaluate the business case now (pure arithmetic) and refresh every view."""
        self._eval_timer.stop()
        if self.baseline is None:
            return
        self.case = evaluate(self.baseline, self._assumptions)
        self._render(self.case)
        self.resultsChanged.emit(self.case)

    def _render(self, case) -> None:
        self._render_banner(case)
        self._render_it(case)
        self._render_finance(case)
        self._render_chart(case)
        if self.ops_list.currentRow() < 0:
            self.ops_list.setCurrentRow(0)
        else:
            self._show_operations(self.ops_list.currentRow())

    def _render_banner(self, case) -> None:
        g = case.assumptions["global"]
        p = case.portfolio
        yrs = int(g["horizon_years"])
        n = sum(1 for r in case.solutions if r.enabled)
        if n == 0:
            self.banner.setText("<b>No solution selected.</b> Tick solutions on the left to build the portfolio; "
                                f"doing nothing costs <b>{fmt.usd(case.annual['total_cost'], 0)}</b> a year.")
        else:
            pay = _payback_text(p, yrs)
            col = "#1E7B45" if p.payback_months is not None else "#B03A2E"
            self.banner.setText(
                f"<b>Portfolio of {n} solution{'s' if n != 1 else ''}:</b> invest "
                f"<b>{fmt.usd(p.investment_usd, 0)}</b> ({p.personnel_fte:g} people, weeks "
                f"{p.start_week:g}–{p.go_live_week:g}); saves <b>{fmt.usd(p.savings_year, 0)}</b> a year for "
                f"<b>{fmt.usd(p.maintenance_year, 0)}</b> a year of upkeep. Payback "
                f"<b style='color:{col}'>{pay}</b>; NPV over {yrs} years at {g['discount_rate'] * 100:g} %: "
                f"<b>{fmt.usd(p.npv_usd, 0)}</b>; ROI <b>{fmt.pct(p.roi, 0) if p.roi is not None else '—'}</b>.")
        b = case.baseline
        a = case.annual
        method = b.method_text(g["annualisation"], g["data_coverage"])
        notes = "".join(f"<br><i>Note: {html.escape(x)}</i>" for x in b.notes)
        self.baseline_label.setText(
            f"<b>Doing nothing costs {fmt.usd(a['total_cost'], 0)} a year</b>: job runs "
            f"{fmt.usd(a['compute_cost'], 0)} (measured on {b.runs:,} runs over {b.span_days:,.1f} days, "
            f"{html.escape(method.split(' = ')[0])}) + storage {fmt.usd(a['storage_cost'], 0)} (assumption)."
            f"{notes}")
        self.baseline_label.setToolTip(method)

    # --- IT leadership --------------------------------------------------------------------------------
    def _render_it(self, case) -> None:
        cols = ["Solution", "In portfolio", "Investment", "People (FTE)", "Implementation", "Start → go-live",
                "Full effect", "Team", "Timeline"]
        t = self.it_table
        t.clear()
        t.setColumnCount(len(cols))
        t.setHorizontalHeaderLabels(cols)
        rows = case.solutions + [case.portfolio]
        t.setRowCount(len(rows))
        cat = {s.id: s for s in self.solutions}
        for i, r in enumerate(rows):
            a = case.assumptions["solutions"].get(r.id, {})
            sol = cat.get(r.id)
            vals = [
                f"{r.number}. {r.name}" if sol else "Portfolio (selected)",
                ("yes" if r.enabled else "no") if sol else f"{sum(1 for x in case.solutions if x.enabled)} of 5",
                fmt.usd(r.investment_usd, 0),
                f"{r.personnel_fte:g}",
                f"{r.duration_weeks:g} weeks",
                f"week {r.start_week:g} → {r.go_live_week:g}",
                f"week {r.go_live_week + a.get('ramp_weeks', 0):g}" if sol else
                f"week {max((x.go_live_week + case.assumptions['solutions'][x.id]['ramp_weeks'] for x in case.solutions if x.enabled), default=0):g}",
                "; ".join(sol.personnel) if sol else "",
                sol.timeline if sol else r.timeline,
            ]
            for c, v in enumerate(vals):
                it = QTableWidgetItem(v)
                if c in (2, 3, 4):
                    it.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if sol is None:
                    f = it.font()
                    f.setBold(True)
                    it.setFont(f)
                    it.setBackground(QBrush(QColor("#EEF5EF")))
                elif not r.enabled:
                    it.setForeground(QBrush(QColor("#999999")))
                if c in (0, 7, 8):
                    it.setToolTip(v)
                t.setItem(i, c, it)
        hh = t.horizontalHeader()
        t.resizeColumnsToContents()
        for c in range(len(cols)):
            hh.resizeSection(c, min(hh.sectionSize(c) + 8, 210 if c == 0 else 240 if c == 7 else 160))
        hh.setStretchLastSection(True)
        t.verticalHeader().setVisible(False)
        t.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        t.verticalHeader().setDefaultSectionSize(40)  # two lines; full text in the tooltips
        self.it_note.setText("Investment = people × weeks × loaded weekly rate + one-off tooling. People are "
                             "full-time equivalents during implementation; timeline in weeks from today.")

    # --- Finance -----------------------------------------------------------------------------------------
    def _finance_rows(self, case) -> list[tuple[str, str | None, object]]:
        """(label, kind, fn(result) -> value) rows; kind None = section header."""
        g = case.assumptions["global"]
        yrs = int(g["horizon_years"])
        dn_total = float(case.do_nothing_cumulative[-1])
        rows: list = [("Investment (one-off)", "usd0", lambda r: r.investment_usd)]
        rows.append(("Maintenance (running cost)", None, None))
        for p in PERIODS:
            rows.append((f"   per {p}", "usd", lambda r, p=p: per_period(r.maintenance_year)[p]))
        rows.append(("Savings against doing nothing", None, None))
        for p in PERIODS:
            rows.append((f"   per {p}", "usd", lambda r, p=p: per_period(r.savings_year)[p]))
        rows.append(("Net saving per year", "usd0",
                     lambda r: r.savings_year - r.maintenance_year))
        rows.append((f"Over the horizon ({yrs} year{'s' if yrs != 1 else ''})", None, None))
        rows.append(("   Payback", "text", lambda r: _payback_text(r, yrs)))
        rows.append(("   ROI", "pct", lambda r: r.roi))
        rows.append((f"   NPV at {g['discount_rate'] * 100:g} % a year", "usd0", lambda r: r.npv_usd))
        rows.append(("   Spend doing nothing", "usd0", lambda r: dn_total))
        rows.append(("   Spend with the solution", "usd0", lambda r: float(case.with_cumulative(r)[-1])))
        rows.append(("   Impact vs doing nothing", "usd0", lambda r: r.net_benefit))
        rows.append(("What it acts on", None, None))
        rows.append(("   Target, per year", "text",
                     lambda r: (f"{self.target_specs[r.target].label}: {fmt.usd(r.target_usd_per_year, 0)}"
                                if r.target in self.target_specs and r.target_usd_per_year is not None
                                else (self.target_specs[r.target].label + ": not measurable"
                                      if r.target in self.target_specs else "combined"))))
        rows.append(("   Expected effect", "text",
                     lambda r: f"{r.effect * 100:g} % of target" if r.effect is not None else "see solutions"))
        return rows

    def _render_finance(self, case) -> None:
        t = self.finance_table
        rows = self._finance_rows(case)
        results = [case.portfolio] + case.solutions
        t.clear()
        t.clearSpans()
        t.setRowCount(len(rows))
        t.setColumnCount(len(results))
        headers = ["Portfolio\n(selected)"] + [_short_name(r.number, r.name) + ("" if r.enabled else "\n(not selected)")
                                               for r in case.solutions]
        t.setHorizontalHeaderLabels(headers)
        t.setVerticalHeaderLabels([lab for lab, _, _ in rows])
        bold = QFont(t.font())
        bold.setBold(True)
        for i, (lab, kind, fn) in enumerate(rows):
            vh = t.verticalHeaderItem(i)
            vh.setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            tip = next((v for k, v in ROW_TIPS.items() if lab.strip().startswith(k)), None)
            if tip:
                vh.setToolTip(tip)
            if kind is None:
                vh.setFont(bold)
                t.setSpan(i, 0, 1, len(results))
                it = QTableWidgetItem("")
                it.setBackground(QBrush(QColor("#EEEEEA")))
                t.setItem(i, 0, it)
                continue
            for c, r in enumerate(results):
                v = fn(r)
                if kind == "usd":
                    txt = fmt.usd(v)
                elif kind == "usd0":
                    txt = fmt.usd(v, 0)
                elif kind == "pct":
                    txt = fmt.pct(v, 1) if v is not None else "—"
                else:
                    txt = str(v)
                it = QTableWidgetItem(txt)
                it.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if kind == "text":
                    it.setToolTip(txt)
                if kind in ("usd0", "pct") and isinstance(v, (int, float)) and v is not None and v < 0:
                    it.setForeground(QBrush(NEGATIVE_COLOR))
                if lab.strip().startswith("Payback"):
                    it.setForeground(QBrush(NEGATIVE_COLOR if r.payback_months is None else POSITIVE_COLOR))
                if c == 0:
                    it.setFont(bold)
                    it.setBackground(QBrush(QColor("#EEF5EF")))
                elif not r.enabled:
                    it.setForeground(QBrush(QColor("#999999")))
                t.setItem(i, c, it)
        hh = t.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        t.resizeColumnsToContents()
        for c in range(len(results)):
            hh.resizeSection(c, max(96, min(hh.sectionSize(c) + 10, 150)))
        t.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        g = case.assumptions["global"]
        self.finance_note.setText(
            "US dollars. Periods: year = 365 days, quarter = year / 4, month = year / 12, week = 7 days "
            "(steady-state run-rates after go-live). Each solution's column is that solution on its own; the "
            "portfolio counts a shared target once (combined effect = 1 − ∏(1 − effect)). NPV: monthly cash flows "
            f"discounted at {g['discount_rate'] * 100:g} % a year; spend growth {g['growth_rate'] * 100:g} % a "
            "year. Negative figures in red.")

    # --- Operations --------------------------------------------------------------------------------------
    def _show_operations(self, row: int) -> None:
        if not (0 <= row < len(self.solutions)):
            return
        s = self.solutions[row]
        a = self._assumptions["solutions"][s.id]
        tech = "".join(f"<li>{html.escape(x)}</li>" for x in s.technology)
        team = "".join(f"<li>{html.escape(x)}</li>" for x in s.personnel)
        tgt = self.target_specs.get(a["target"])
        self.ops_text.setHtml(
            f"<h3 style='margin:0'>{s.number}. {html.escape(s.name)}</h3>"
            f"<p>{html.escape(s.summary)}</p>"
            f"<p><b>Feasibility.</b> {html.escape(s.feasibility)}</p>"
            f"<p><b>Acts on:</b> {html.escape(tgt.label if tgt else a['target'])} — "
            f"{html.escape(tgt.description if tgt else '')}</p>"
            f"<p><b>Technology requirements</b></p><ul style='margin-top:0'>{tech}</ul>"
            f"<p><b>Team</b></p><ul style='margin-top:0'>{team}</ul>"
            f"<p><b>Timeline.</b> {html.escape(s.timeline)}</p>")
        self._show_diagram(s)

    def _show_diagram(self, s) -> None:
        from PySide6.QtSvgWidgets import QSvgWidget

        path = diagram_path(s)
        self.diagram_title.setText(f"<b>Architecture — {html.escape(s.name)}</b>")
        if self.diagram is not None:
            self.diagram.hide()
            self.diagram.deleteLater()
            self.diagram = None
        ok = path.is_file()
        if ok:
            w = QSvgWidget()
            w.load(str(path))
            ok = w.renderer().isValid()
            if ok:
                w.renderer().setAspectRatioMode(Qt.AspectRatioMode.KeepAspectRatio)
                w.setObjectName("architectureDiagram")
                w.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
                w.setMinimumSize(QSize(200, 150))
                self.diagram_host.layout().insertWidget(1, w, 1)
                self.diagram = w
            else:
                w.deleteLater()
        self.diagram_missing.setVisible(not ok)
        if not ok:
            self.diagram_missing.setText(f"Architecture diagram not available in this build\n({path.name})")

    # --- chart ---------------------------------------------------------------------------------------------
    def _render_chart(self, case) -> None:
        months = np.arange(case.horizon_months + 1, dtype=float)
        dn = case.do_nothing_cumulative
        pf = case.portfolio_cumulative
        self.curves["do_nothing"].setData(months, dn)
        self.curves["portfolio"].setData(months, pf)
        yrs = int(case.assumptions["global"]["horizon_years"])
        p = case.portfolio
        top = float(max(dn.max(), pf.max(), 1.0))
        self.break_even_label.setVisible(True)
        red, green = NEGATIVE_COLOR.name(), POSITIVE_COLOR.name()
        if not p.enabled or p.payback_months is None:
            self.break_even_item.setData([], [])
            self.break_even_line.setVisible(False)
            self.break_even_label.setVisible(False)
            if not p.enabled:
                self.chart_status.setText("No solution selected: the two lines are the same.")
            else:
                gap = float(pf[-1] - dn[-1])
                self.chart_status.setText(
                    f"<span style='color:{red}'><b>No break-even within {yrs} years</b></span>: after {yrs} "
                    f"years the portfolio has cost <b>{fmt.usd(gap, 0)}</b> more than doing nothing.")
        else:
            x = float(p.payback_months)
            y = float(np.interp(x, months, dn))
            self.break_even_item.setData([x], [y])
            self.break_even_line.setVisible(True)
            self.break_even_line.setPos(x)
            self.break_even_label.setText(f"Break-even: month {x:,.1f}\n{fmt.usd(y, 0)} spent either way")
            self.break_even_label.setPos(x, y)
            self.break_even_label.setAnchor((0, 1) if x < months[-1] * 0.6 else (1, 1))
            saved = float(dn[-1] - pf[-1])
            self.chart_status.setText(
                f"<span style='color:{green}'><b>Break-even after {x:,.1f} months</b></span> (red dot): from "
                f"then on the portfolio costs less than doing nothing; after {yrs} years it has saved "
                f"<b>{fmt.usd(saved, 0)}</b>.")
        self.end_labels["do_nothing"].setText(f"Doing nothing {fmt.usd_short(dn[-1])}")
        self.end_labels["portfolio"].setText(f"Portfolio {fmt.usd_short(pf[-1])}")
        hi_key, lo_key = ("do_nothing", "portfolio") if dn[-1] >= pf[-1] else ("portfolio", "do_nothing")
        self.end_labels[hi_key].setAnchor((1, 1))
        self.end_labels[lo_key].setAnchor((1, 0))
        self.end_labels["do_nothing"].setPos(months[-1], dn[-1])
        self.end_labels["portfolio"].setPos(months[-1], pf[-1])
        pi = self.chart.getPlotItem()
        pi.setXRange(0, months[-1], padding=0.02)
        pi.setYRange(0, top * 1.08, padding=0)
        step = 6 if yrs <= 3 else 12
        pi.getAxis("bottom").setTicks([[(m, f"{m:g}") for m in range(0, int(months[-1]) + 1, step)],
                                       [(m, "") for m in range(0, int(months[-1]) + 1, 3)]])
