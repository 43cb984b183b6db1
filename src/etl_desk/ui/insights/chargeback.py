"""The Chargeback view: who pays — cost, failed cost and runs by tag key, workspace, SKU, serverless vs
classic, source system or pipeline, as a table beside a horizontal bar chart.

It renders :func:`etl_desk.core.insights.attribution.attribute` of the runs in the window's
current filter (recomputed off the UI thread on every filter change, a
:class:`~etl_desk.ui.window.workers.FilteredJob`) and computes nothing itself. The
untagged (or not-recorded) row is always a row of the table and a bar of the chart — hatched
grey, even at $0 — never hidden. Clicking a row or a bar selects its runs (in the filter)
everywhere, as an insight card's "Select N runs" does; Ctrl adds.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QComboBox, QHBoxLayout, QHeaderView, QLabel, QSplitter, QTableView,
                               QVBoxLayout, QWidget)

from etl_desk.core import fmt
from etl_desk.core.data.schema import FAILED, STATUS_COLORS, SUCCESS
from etl_desk.core.insights.attribution import UNTAGGED, Attribution, attribute, attribution_mask, dimensions
from etl_desk.ui.widgets.plots import follow_palette, without_menus
from etl_desk.ui.window.workers import FilteredJob

#: Bars drawn at most (largest cost first); the untagged bar is always one of them.
MAX_BARS = 15
UNTAGGED_BRUSH = QBrush(QColor("#8C8C8C"), Qt.BrushStyle.BDiagPattern)
METRICS = {"cost": "Cost (failed part in blue)", "runs": "Runs (failed part in blue)"}


def group_label(row) -> str:
    """How a group is named on screen: the untagged row says what it is."""
    if row.untagged:
        return "untagged spend" if row.key == UNTAGGED else "not recorded"
    return row.key


def _work(runs, by):
    return attribute(runs, by)


class ChargebackModel(QAbstractTableModel):
    """Rows of an :class:`Attribution`, in core's order, then its total (bold)."""

    COLUMNS = [("key", "Group"), ("runs", "Runs"), ("failed_runs", "Failed runs"), ("cost_usd", "Cost"),
               ("failed_cost_usd", "Failed cost"), ("share", "Share of cost"), ("unknown_cost_runs", "Cost unknown")]

    def __init__(self, parent=None):
        super().__init__(parent)
        self.attribution: Attribution | None = None
        self.rows: list = []

    def set_attribution(self, a: Attribution | None) -> None:
        self.beginResetModel()
        self.attribution = a
        self.rows = [*a.rows, a.total] if a is not None else []
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()):  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()):  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802 - Qt API
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section][1]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return {"share": "Share of the known cost of the runs in the filter",
                    "unknown_cost_runs": "Runs whose source has no cost: counted as runs, never as $0"}.get(
                self.COLUMNS[section][0])
        return None

    def is_total(self, row: int) -> bool:
        return row == len(self.rows) - 1 and self.attribution is not None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        r, key = self.rows[index.row()], self.COLUMNS[index.column()][0]
        v = getattr(r, key)
        if role == Qt.ItemDataRole.DisplayRole:
            if key == "key":
                return group_label(r)
            if key in ("cost_usd", "failed_cost_usd"):
                return fmt.usd(v, missing="unknown")
            if key == "share":
                return fmt.pct(v, 1) if v is not None else "—"
            return fmt.count(v)
        if role == Qt.ItemDataRole.UserRole:  # sort key; the total always last
            if self.is_total(index.row()):
                return None
            return v if key == "key" else (float(v) if v is not None else -1.0)
        if role == Qt.ItemDataRole.TextAlignmentRole and key != "key":
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole and (self.is_total(index.row()) or r.untagged):
            f = QFont()
            f.setBold(self.is_total(index.row()))
            f.setItalic(r.untagged)
            return f
        if role == Qt.ItemDataRole.ToolTipRole:
            if self.is_total(index.row()):
                return "All runs in the filter"
            return f"Click to select the {fmt.count(r.runs)} run(s) of {r.key} in the filter"
        return None


class _TotalLastProxy(QSortFilterProxyModel):
    def lessThan(self, left, right):  # noqa: N802 - Qt API
        src = self.sourceModel()
        asc = self.sortOrder() == Qt.SortOrder.AscendingOrder
        if src.is_total(left.row()):
            return not asc
        if src.is_total(right.row()):
            return asc
        a, b = left.data(Qt.ItemDataRole.UserRole), right.data(Qt.ItemDataRole.UserRole)
        return a < b if type(a) is type(b) else str(a) < str(b)


class _KeyAxis(pg.AxisItem):
    def __init__(self):
        super().__init__("left")
        self.names: list[str] = []

    def tickValues(self, minVal, maxVal, size):  # noqa: N802 - pyqtgraph API
        return [(1.0, list(range(len(self.names))))]

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph API
        out = []
        for v in values:
            i = int(round(v))
            name = self.names[i] if 0 <= i < len(self.names) else ""
            out.append(name if len(name) <= 22 else name[:21] + "…")
        return out


class _ValueAxis(pg.AxisItem):
    def __init__(self):
        super().__init__("bottom")
        self.runs = False

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph API
        return [fmt.count(int(round(v))) for v in values] if self.runs else [fmt.usd_short(v) for v in values]


class ChargebackView(QWidget):
    """Public: ``dimension`` / ``metric`` combos, ``model`` / ``table``, ``plot`` with ``bars``
    (``success``, ``failed``, ``untagged`` BarGraphItems), ``bar_keys`` (group per bar, top first),
    ``job``, ``attribution``; ``set_dimension(by)``, ``select_group(key, mode)``."""

    attributionReady = Signal(object)

    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.setObjectName("chargebackView")
        self.state = state
        self.by = "pipeline"
        self._chosen = False  # the user picked a dimension: kept for the next data set that has it
        self.attribution: Attribution | None = None
        self.bar_keys: list[str] = []
        self.job = FilteredJob(state, _work, label="Chargeback", extra=lambda: self.by, parent=self)
        self.job.finished.connect(self._on_result)
        self.job.failed.connect(lambda exc, tb: self.note.setText(f"Chargeback failed: {exc}"))

        self.dimension = QComboBox()
        self.dimension.setObjectName("chargebackBy")
        self.dimension.setToolTip("Group the cost of the runs in the filter by a tag key, the workspace, the SKU, "
                                  "serverless vs classic compute, the source system or the pipeline")
        self.dimension.currentIndexChanged.connect(self._dimension_chosen)
        self.metric = QComboBox()
        self.metric.setObjectName("chargebackMetric")
        for k, label in METRICS.items():
            self.metric.addItem(label, k)
        self.metric.currentIndexChanged.connect(self._draw_bars)
        self.title = QLabel()
        self.title.setObjectName("chargebackTitle")
        self.title.setWordWrap(True)
        head = QHBoxLayout()
        head.addWidget(QLabel("Charge back by"))
        head.addWidget(self.dimension)
        head.addSpacing(8)
        head.addWidget(QLabel("Bars:"))
        head.addWidget(self.metric)
        head.addStretch(1)

        self.model = ChargebackModel(self)
        self.proxy = _TotalLastProxy(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setObjectName("chargebackTable")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(20)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.clicked.connect(self._row_clicked)

        self.axis = _KeyAxis()
        self.value_axis = _ValueAxis()
        self.plot = pg.PlotWidget(axisItems={"left": self.axis, "bottom": self.value_axis})
        self.plot.setObjectName("chargebackPlot")
        pi = self.plot.getPlotItem()
        pi.hideButtons()
        without_menus(pi)
        pi.setMouseEnabled(x=False, y=False)
        pi.showGrid(x=True, y=False, alpha=0.2)
        pi.vb.invertY(True)  # the largest group on top, as in the table
        self.bars = {
            "failed": pg.BarGraphItem(x0=[], y=[], width=[], height=0.7, brush=STATUS_COLORS[FAILED], pen=None),
            "success": pg.BarGraphItem(x0=[], y=[], width=[], height=0.7, brush=STATUS_COLORS[SUCCESS], pen=None),
            "untagged": pg.BarGraphItem(x0=[], y=[], width=[], height=0.7, brush=UNTAGGED_BRUSH,
                                        pen=pg.mkPen("#8C8C8C")),
        }
        for it in self.bars.values():
            pi.addItem(it)
        follow_palette(self.plot)
        self.plot.scene().sigMouseClicked.connect(self._on_plot_click)

        split = QSplitter(Qt.Orientation.Vertical)
        split.setObjectName("chargebackSplitter")
        split.setChildrenCollapsible(False)
        split.addWidget(self.table)
        split.addWidget(self.plot)
        split.setSizes([300, 300])
        self.note = QLabel()
        self.note.setObjectName("chargebackNote")
        self.note.setWordWrap(True)
        v = QVBoxLayout(self)
        v.setContentsMargins(4, 4, 4, 4)
        v.addLayout(head)
        v.addWidget(self.title)
        v.addWidget(split, 1)
        v.addWidget(self.note)
        state.datasetChanged.connect(self._fill_dimensions)
        self._fill_dimensions()

    # --- dimension -----------------------------------------------------------------------------
    def _fill_dimensions(self) -> None:
        ds = self.state.dataset
        dims = dimensions(ds.df) if ds is not None else []
        self.dimension.blockSignals(True)
        self.dimension.clear()
        for by, label in dims:
            self.dimension.addItem(label, by)
        i = self.dimension.findData(self.by) if self._chosen else -1
        if i < 0 and dims:  # a team tag, else any tag (the question chargeback asks), else the pipeline
            tags = [k for k, (by, _) in enumerate(dims) if by.startswith("tag:")]
            team = [k for k in tags if dims[k][0].lower() == "tag:team"]
            i = (team or tags or [0])[0]
        self.dimension.setCurrentIndex(max(i, 0))
        self.dimension.blockSignals(False)
        if dims:
            self.by = self.dimension.currentData()
        self.model.set_attribution(None)
        self.job.schedule()

    def _dimension_chosen(self) -> None:
        by = self.dimension.currentData()
        if by:
            self.set_dimension(by)

    def set_dimension(self, by: str) -> None:
        """Charge back by *by* (``pipeline``, ``workspace``, ``sku``, ``compute``, ``source_system`` or ``tag:KEY``)."""
        self.by = by
        self._chosen = True
        i = self.dimension.findData(by)
        if i >= 0 and i != self.dimension.currentIndex():
            self.dimension.blockSignals(True)
            self.dimension.setCurrentIndex(i)
            self.dimension.blockSignals(False)
        self.job.run_now()

    # --- rendering -------------------------------------------------------------------------------
    def _on_result(self, a: Attribution, n: int) -> None:
        self.attribution = a
        self.model.set_attribution(a)
        self.proxy.sort(-1)  # core's order (largest cost first) until the user sorts
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        t = a.total
        un = a.untagged
        self.title.setText(f"<b>{a.label}</b> — {fmt.count(t.runs)} runs in the filter, {fmt.usd(t.cost_usd)}; "
                           f"untagged spend <b>{fmt.usd(un.cost_usd, missing='unknown')}</b> "
                           f"({fmt.pct(un.share, 1) if un.share is not None else '—'}) in {fmt.count(un.runs)} runs")
        self._draw_bars()
        self.note.setText(" ".join(a.notes))
        self.note.setVisible(bool(a.notes) or len(a.rows) > MAX_BARS)
        if len(a.rows) > MAX_BARS:
            self.note.setText((self.note.text() + " " if a.notes else "") +
                              f"The chart shows the {MAX_BARS - 1} largest groups and untagged spend; the table "
                              f"lists all {len(a.rows)}.")
        self.attributionReady.emit(a)

    def _bar_rows(self) -> list:
        a = self.attribution
        if a is None:
            return []
        rows = [r for r in a.rows if not r.untagged][:MAX_BARS - 1]
        return rows + [a.untagged]  # the untagged bar always drawn, last

    def _draw_bars(self, *args) -> None:
        rows = self._bar_rows()
        self.bar_keys = [r.key for r in rows]
        self.axis.names = [group_label(r) for r in rows]
        runs = self.metric.currentData() == "runs"
        tot = np.array([(r.runs if runs else (r.cost_usd or 0.0)) for r in rows], dtype=float)
        fail = np.array([(r.failed_runs if runs else (r.failed_cost_usd or 0.0)) for r in rows], dtype=float)
        y = np.arange(len(rows), dtype=float)
        un = np.array([r.untagged for r in rows], dtype=bool)
        k = ~un
        self.bars["failed"].setOpts(x0=np.zeros(k.sum()), y=y[k], width=fail[k], height=0.7)
        self.bars["success"].setOpts(x0=fail[k], y=y[k], width=tot[k] - fail[k], height=0.7)
        self.bars["untagged"].setOpts(x0=np.zeros(un.sum()), y=y[un], width=tot[un], height=0.7)
        self.value_axis.runs = runs
        self.value_axis.picture = None
        pi = self.plot.getPlotItem()
        pi.setYRange(-0.6, max(len(rows), 1) - 0.4, padding=0)
        pi.setXRange(0, max(float(tot.max()) if len(tot) else 0.0, 1e-9) * 1.05, padding=0)
        self.axis.picture = None
        self.axis.update()

    # --- selection -------------------------------------------------------------------------------
    def select_group(self, key: str, mode: str = "replace") -> int:
        """Select the runs in the filter that belong to group *key* of the current dimension; returns how many."""
        ds, v = self.state.dataset, self.state.view
        if ds is None or v is None or self.attribution is None:
            return 0
        rows = attribution_mask(ds.df, self.attribution.by, key) & np.asarray(v.row_mask, dtype=bool)
        self.state.select_rows(rows, mode)
        return int(rows.sum())

    def _row_clicked(self, index) -> None:
        src = self.proxy.mapToSource(index)
        if not src.isValid() or self.model.is_total(src.row()):
            if src.isValid():
                self.state.select_rows(np.asarray(self.state.view.row_mask, dtype=bool))
            return
        ctrl = QApplication.keyboardModifiers() & Qt.KeyboardModifier.ControlModifier
        self.select_group(self.model.rows[src.row()].key, "toggle" if ctrl else "replace")

    def _on_plot_click(self, ev) -> None:
        vb = self.plot.getPlotItem().vb
        if ev.button() != Qt.MouseButton.LeftButton or not vb.sceneBoundingRect().contains(ev.scenePos()):
            return
        p = vb.mapSceneToView(ev.scenePos())
        i = int(round(p.y()))
        if 0 <= i < len(self.bar_keys) and p.x() >= 0:
            ctrl = ev.modifiers() & Qt.KeyboardModifier.ControlModifier
            self.select_group(self.bar_keys[i], "toggle" if ctrl else "replace")
