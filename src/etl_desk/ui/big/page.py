"""The Dashboard page over a big history: key figures, the three linked charts, cost over time, the runs.

Laid out as the Dashboard page (docks the user can move), rendering one
:class:`~etl_desk.ui.big.state.BigState`. A note line under the legend says what the
index holds so far and what is being computed.
"""
from __future__ import annotations

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QObject, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QMainWindow, QVBoxLayout, QWidget

from etl_desk.core.dashboard.view import METRIC_TITLES, METRICS
from etl_desk.ui.big.charts import BigBarChart
from etl_desk.ui.big.kpi_strip import BigKpiStrip
from etl_desk.ui.big.state import RunView
from etl_desk.ui.big.table_model import POSITION, BigTableModel
from etl_desk.ui.big.time_chart import BigTimeChart
from etl_desk.ui.dashboard.chart_parts import StatusLegend
from etl_desk.ui.dashboard.table_sync import fit_columns_to_contents, make_run_table, show_sort_order
from etl_desk.ui.widgets.docks import add_chart_docks, add_dock, add_header, initial_sizes
from etl_desk.ui.widgets.elided import ElidedLabel
from etl_desk.ui.widgets.guard import Guard

STAGE_TEXT = {
    "none": "Opening…",
    "day": "Index: per-day totals ready (grouped per day / week / month); building the full rollups…",
    "cube": "Index: rollups ready (every grouping and filter); building the duration histograms…",
    "rollups": "Index: rollups and percentiles ready; sorting the runs by run ID for the per-run views…",
    "complete": "Index complete: every view answers from it.",
    "stopped": "Index not complete: grouped views from what was built; other views scan the files.",
}


class BigDashboardPage(QMainWindow):
    """Public: ``charts``, ``chart_docks``, ``time_chart``, ``table``, ``table_model``, ``kpis``, ``note``."""

    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.setObjectName("bigDashboardPage")
        self.setWindowFlags(Qt.WindowType.Widget)
        self.setDockNestingEnabled(True)
        self.state = state
        self.kpis = BigKpiStrip(state)
        self.legend = StatusLegend()
        head = QWidget()
        col = QVBoxLayout(head)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(0)
        col.addWidget(self.legend)
        # one line, elided (the whole text in its tooltip): a long "scanning the runs" note wrapped onto a
        # second line and pushed the charts down while it showed
        self.note = ElidedLabel()
        self.note.setObjectName("bigNote")
        self.note.setContentsMargins(8, 0, 8, 2)
        col.addWidget(self.note)
        add_header(self, [("bigKpiToolbar", "Key figures", self.kpis), ("bigLegendToolbar", "Legend", head)])
        self.charts: dict[str, BigBarChart] = {m: BigBarChart(m, state, show_job_labels=(i == 0))
                                               for i, m in enumerate(METRICS)}
        self.chart_docks: dict[str, QDockWidget] = add_chart_docks(self, self.charts, METRIC_TITLES, "bigChartDock_",
                                                                   closable=False)
        self.charts[METRICS[0]].lodChanged.connect(lambda lod: self.legend.set_binned(lod > 1))
        self.time_chart = BigTimeChart(state)
        self.time_dock = self._dock("Cost over time", "bigTimeDock", self.time_chart,
                                    Qt.DockWidgetArea.BottomDockWidgetArea)
        self.table_model = BigTableModel(state, self)
        self.table = make_run_table(self.table_model)
        self.table.setObjectName("bigRunTable")
        self.table.verticalHeader().setVisible(False)  # positions are a column (see table_model.POSITION)
        self.table_dock = self._dock("Runs", "bigTableDock", self.table, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.splitDockWidget(self.time_dock, self.table_dock, Qt.Orientation.Horizontal)
        self.table_link = _TableLink(state, self.table, self.table_model, self)
        # a new filter, sort or grouping starts the runs at the top: the position the user had scrolled to is
        # another run now, and a page deep in a filtered order costs a sort of every run in it (minutes at 100M)
        self.table_model.modelReset.connect(self.table.scrollToTop)
        self._columns: tuple = ()  # the column keys shown
        self._fit_pending = False  # new columns, not yet fitted to their first rows' text
        self.table_model.modelReset.connect(self._on_reset)
        self.table_model.dataChanged.connect(self._fit_columns)  # rows a worker fetched
        self._stage_text = STAGE_TEXT["none"]
        self._work_text = ""
        state.stageChanged.connect(self._on_stage)
        state.note.connect(self._on_note)
        state.selectionChanged.connect(self._show_note)

    def _on_reset(self) -> None:
        """New rows in the table: the header's arrow on the sorted column (the filter bar's sort too); other
        columns (per run <-> grouped) start at the left edge and are fitted to their text once their first
        rows are here (a user's widths are kept after that); "#" as wide as its positions."""
        m = self.table_model
        show_sort_order(self.table, m, self.state.spec)
        cols = tuple(m.column_key(c) for c in range(m.columnCount()))
        if cols != self._columns:
            self._columns, self._fit_pending = cols, bool(cols)
            self.table.horizontalScrollBar().setValue(0)
        self._fit_position_column()
        QTimer.singleShot(0, self._fit_columns)  # rows read at once (run-ID order) are here after this turn

    def _fit_columns(self, *args) -> None:
        """Columns as wide as their text (run IDs and pipeline names were cut to "sap-co-cost-…" at Qt's
        default 120 px) when new columns' first rows are here; else nothing."""
        m = self.table_model
        if not self._fit_pending or not m.rowCount() or not m.has_row(0):
            return  # fitted already, or the first rows not here yet (their fetch reports with dataChanged)
        self._fit_pending = False
        fit_columns_to_contents(self.table)
        self._fit_position_column()

    def _fit_position_column(self) -> None:
        """The "#" column as wide as its largest position ("100,000,000") and its header, not the default 120 px."""
        m = self.table_model
        if m.columnCount() and m.column_key(0) == POSITION:
            fm = self.table.fontMetrics()
            self.table.horizontalHeader().resizeSection(0, fm.horizontalAdvance(f"{max(m.rowCount(), 1):,}") + 24)

    def _dock(self, title: str, name: str, widget: QWidget, area) -> QDockWidget:
        return add_dock(self, title, name, widget, area, closable=False)

    def initial_sizes(self) -> None:
        initial_sizes(self, list(self.chart_docks.values()), self.time_dock, self.table_dock)

    def _on_stage(self, stage: str) -> None:
        self._stage_text = STAGE_TEXT.get(stage, "")
        self._show_note()

    def _on_note(self, text: str) -> None:
        self._work_text = text
        self._show_note()

    def _show_note(self) -> None:
        st = self.state
        parts = [f"{st.label}: {self._stage_text}"]
        if self._work_text:
            parts.append(self._work_text)
        if st.selection is not None:
            n = st.selected_count()
            parts.append(f"Selected: {st.selection.describe()} — "
                         + ("counting…" if n is None else f"{n:,} run(s)"))
        self.note.setText("  ·  ".join(parts))

    def reset_zoom(self) -> None:
        self.charts[METRICS[0]].reset_zoom()

    def zoom_out(self) -> None:
        """Every bar in view (a million or a hundred million runs: one drawn row per pyramid block)."""
        v = self.state.view
        n = v.n_bars if v is not None else 0
        self.charts[METRICS[0]].vb.setYRange(-0.5, max(n, 1) - 0.5, padding=0)


class _TableLink(QObject):
    """Rows picked in the table select their runs (hand-picked run IDs) or groups; grouped selections mirror back."""

    def __init__(self, state, table, model: BigTableModel, parent=None):
        super().__init__(parent)
        self.state, self.table, self.model = state, table, model
        self._echo = Guard()
        table.selectionModel().selectionChanged.connect(self._on_table)
        state.selectionChanged.connect(self._mirror)
        model.modelReset.connect(self._mirror)

    def _on_table(self, *args) -> None:
        if self._echo:
            return
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        with self._echo:
            if not rows:
                self.state.clear_selection()
            elif isinstance(self.state.view, RunView):
                from etl_desk.core.engine.rules import Rule

                ids = [self.model.run_id_at(r) for r in rows[:5000]]
                ids = frozenset(i for i in ids if i)
                if ids:
                    self.state.select_rule(Rule(run_ids=ids))
            else:
                self.state.select_bars(rows)

    def _mirror(self) -> None:
        if self._echo or isinstance(self.state.view, RunView) or self.state.view is None:
            return
        import numpy as np

        idx = np.flatnonzero(self.state.selected_bars())
        with self._echo:
            sel = QItemSelection()
            last = max(0, self.model.columnCount() - 1)
            for i in idx[:2000]:
                sel.select(self.model.index(int(i), 0), self.model.index(int(i), last))
            self.table.selectionModel().select(sel, QItemSelectionModel.SelectionFlag.ClearAndSelect)
