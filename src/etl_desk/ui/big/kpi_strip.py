"""The key-figure strip over a big history: the engine's KPIs, said as what they are.

Money that is unknown stays "unknown" (never $0); duration percentiles rebuilt from the
index's histograms are marked "≈" with their stated error in the tooltip, and say
"after the index" while the histograms are still being built; "…" while a worker
computes the figures of a filter the index cannot answer.
"""
from __future__ import annotations

from etl_desk.ui.dashboard.kpi_strip import KpiStrip

PENDING = "…"


class BigKpiStrip(KpiStrip):
    def __init__(self, state, parent=None):
        super().__init__(state, parent)
        self.setObjectName("bigKpiStrip")
        state.kpisChanged.connect(self._from_state)

    def set_kpis(self, k: dict) -> None:
        if k.get("pending") or not k:
            self.kpis = k
            for lab in self.values.values():
                lab.setText(PENDING if k else "—")
            return
        super().set_kpis(k)
        notes = "; ".join(k.get("notes", []))
        dur = self.values["duration"]
        if "being computed" in notes:
            dur.setText(PENDING)
        elif "not yet known" in notes:
            dur.setText("after the index")
        elif "histogram" in notes:
            dur.setText("≈ " + dur.text())
        dur.setToolTip(notes)
