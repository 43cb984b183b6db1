"""The Dashboard page: key figures, the status legend, three linked bar charts, cost over time and the run table.

The page is a QMainWindow of its own so its parts are docks the user can move,
float, close and restore ("Reset layout"); docks live on this page only. Its
dock layout is saved with the window's settings (``pages/dashboard/layout``).
Everything on it renders the one shared :class:`~etl_desk.ui.dashboard.state.DashboardState`.
"""
from __future__ import annotations

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QWidget

from etl_desk.core.dashboard.view import METRIC_TITLES, METRICS
from etl_desk.ui.dashboard.chart_parts import StatusLegend
from etl_desk.ui.dashboard.charts import BarChart
from etl_desk.ui.dashboard.kpi_strip import KpiStrip
from etl_desk.ui.dashboard.table_model import RunTableModel
from etl_desk.ui.dashboard.table_sync import TableSync, make_run_table
from etl_desk.ui.widgets.docks import add_chart_docks, add_dock, add_header, initial_sizes

LAYOUT_VERSION = 2


class DashboardPage(QMainWindow):
    """Public: ``charts`` / ``chart_docks`` (metric -> …), ``time_chart`` / ``time_dock``, ``table`` /
    ``table_model`` / ``table_dock``, ``kpis``, ``legend``, ``table_sync``; ``save_layout()``,
    ``restore_layout(bytes)``, ``reset_layout()``."""

    def __init__(self, state, settings=None, parent=None):
        super().__init__(parent)
        self.setObjectName("dashboardPage")
        self.settings = settings  # the time view's forecast days and budget
        self.setWindowFlags(Qt.WindowType.Widget)
        self.setDockNestingEnabled(True)
        self.state = state
        self.kpis = KpiStrip(state)
        self.legend = StatusLegend()
        add_header(self, [("kpiToolbar", "Key figures", self.kpis), ("legendToolbar", "Job status legend",
                                                                     self.legend)])
        self.charts: dict[str, BarChart] = {m: BarChart(m, state, show_job_labels=(i == 0))
                                            for i, m in enumerate(METRICS)}
        self.chart_docks: dict[str, QDockWidget] = add_chart_docks(self, self.charts, METRIC_TITLES, "chartDock_")
        self.charts[METRICS[0]].lodChanged.connect(lambda lod: self.legend.set_binned(lod > 1))
        # cost over time is built right after the first paint (ensure_time_chart): the dock is here now
        self._time_chart = None
        waiting = QLabel("Cost over time…")
        waiting.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.time_dock = self._dock("Cost over time", "timeDock", waiting, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.table_model = RunTableModel(state, self)
        self.table = make_run_table(self.table_model)
        self.table_dock = self._dock("Runs", "tableDock", self.table, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.splitDockWidget(self.time_dock, self.table_dock, Qt.Orientation.Horizontal)
        self.table_sync = TableSync(state, self.table, self.table_model, self)
        self.table_sync.barActivated.connect(self.ensure_bar_visible)
        # the arrangement as built (sizes come with the window's first show: initial_sizes)
        self._default_state = self.saveState(LAYOUT_VERSION)

    def _dock(self, title: str, name: str, widget: QWidget, area) -> QDockWidget:
        return add_dock(self, title, name, widget, area)

    def ensure_time_chart(self):
        """The cost-over-time chart (built on first use, after the first paint)."""
        if self._time_chart is None:
            from etl_desk.ui.dashboard.time_chart import TimeChart  # start-up: not needed for the first paint

            self._time_chart = TimeChart(self.state, self.settings)
            old = self.time_dock.widget()
            self.time_dock.setWidget(self._time_chart)
            old.deleteLater()
        return self._time_chart

    time_chart = property(ensure_time_chart)

    @property
    def docks(self) -> list[QDockWidget]:
        return [*self.chart_docks.values(), self.time_dock, self.table_dock]

    # --- sizes and layout ---------------------------------------------------------------------
    def initial_sizes(self) -> None:
        """Charts on the top ~58 %, cost over time and the runs side by side below."""
        initial_sizes(self, list(self.chart_docks.values()), self.time_dock, self.table_dock)

    def save_layout(self) -> QByteArray:
        return self.saveState(LAYOUT_VERSION)

    def restore_layout(self, state: QByteArray | None) -> bool:
        return bool(state is not None and self.restoreState(state, LAYOUT_VERSION))

    def reset_layout(self) -> None:
        self.restoreState(self._default_state, LAYOUT_VERSION)
        for d in self.docks:
            d.setFloating(False)
            d.show()
        self.initial_sizes()

    # --- charts ------------------------------------------------------------------------------
    def ensure_bar_visible(self, i: int) -> None:
        chart = self.charts[METRICS[0]]
        y0, y1 = chart.vb.viewRange()[1]
        if not (y0 <= i <= y1):
            span = y1 - y0
            chart.vb.setYRange(i - span / 3, i - span / 3 + span, padding=0)

    def reset_zoom(self) -> None:
        self.charts[METRICS[0]].reset_zoom()
