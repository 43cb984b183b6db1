"""The KPI strip: runs, success rate, total cost, failed-run cost and share, cost per TB, p50/p95.

It shows the state's KPIs (:attr:`DashboardState.kpis`, the runs in the filter) and
follows its ``viewChanged`` signal, like the charts.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from etl_desk.core import fmt

TILES = [
    ("runs", "Runs", "Runs in the current filter"),
    ("success_rate", "Success rate", "Share of runs that succeeded"),
    ("total_cost_usd", "Total cost", "Sum of Cost (USD) over the runs in the filter"),
    ("failed_cost_usd", "Failed-run cost", "Cost of runs that failed, and its share of the total"),
    ("cost_per_tb_usd", "Cost per TB", "Total cost divided by data processed (TB = 1,000 GB)"),
    ("duration", "Duration p50 / p95", "Median and 95th percentile of run duration"),
]


class KpiStrip(QWidget):
    def __init__(self, state=None, parent=None):
        super().__init__(parent)
        self.state = state
        self.setObjectName("kpiStrip")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 2, 6, 2)
        lay.setSpacing(8)
        self.values: dict[str, QLabel] = {}
        for key, title, tip in TILES:
            tile = QFrame()
            tile.setObjectName(f"kpi_{key}")
            tile.setFrameShape(QFrame.Shape.StyledPanel)
            tile.setToolTip(tip)
            # palette roles: readable on the light and the dark system palette
            tile.setStyleSheet("QFrame#kpi_%s { background: palette(alternate-base); border: 1px solid palette(mid); "
                               "border-radius: 4px; }" % key)
            v = QVBoxLayout(tile)
            v.setContentsMargins(10, 3, 10, 3)
            v.setSpacing(0)
            t = QLabel(title)
            t.setStyleSheet("color: palette(window-text); font-size: 8pt;")
            val = QLabel("—")
            val.setObjectName(f"kpiValue_{key}")
            val.setStyleSheet("font-size: 12pt; font-weight: 600; color: palette(text);")
            val.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            v.addWidget(t)
            v.addWidget(val)
            lay.addWidget(tile)
            self.values[key] = val
        lay.addStretch(1)
        self.kpis: dict = {}
        if state is not None:
            state.viewChanged.connect(self._from_state)
            self._from_state()

    def _from_state(self) -> None:
        k = self.state.kpis
        if k is not self.kpis:
            self.set_kpis(k)

    def set_kpis(self, k: dict) -> None:
        self.kpis = k
        # with runs, a missing figure is unknown (a source without cost), never zero
        missing = "unknown" if k.get("runs") else "—"
        self.values["runs"].setText(fmt.count(k.get("runs")))
        self.values["success_rate"].setText(fmt.pct(k.get("success_rate"), 1))
        self.values["total_cost_usd"].setText(fmt.usd(k.get("total_cost_usd"), missing=missing))
        share = k.get("failed_cost_share")
        failed = fmt.usd(k.get("failed_cost_usd"), missing=missing)
        self.values["failed_cost_usd"].setText(f"{failed}  ({fmt.pct(share, 2)})" if share is not None else failed)
        cpt = k.get("cost_per_tb_usd")
        self.values["cost_per_tb_usd"].setText(fmt.usd(cpt) if cpt is not None else "no volume data")
        self.values["duration"].setText(f"{fmt.minutes(k.get('duration_p50_min'))} / "
                                        f"{fmt.minutes(k.get('duration_p95_min'))}")

    def text(self, key: str) -> str:
        return self.values[key].text()
