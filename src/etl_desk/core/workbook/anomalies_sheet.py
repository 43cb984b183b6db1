"""The Anomalies sheet: one row per flagged run with plain run IDs, thresholds in the observed unit and excess dollars.

The per-run table is an Excel table (``AnomalyRuns``); its "Excess over pipeline median
(USD)" column totals to the business case's anomaly excess (the Assumptions sheet's
``bl_anomaly_excess_cost_observed`` is that SUM, and the Checks sheet ties it to ETL
Desk's figure). Failure-rate jumps concern pipeline-weeks, not runs, and get their own
table. Only the top of the per-run table is in the print area.
"""
from __future__ import annotations

import pandas as pd

from etl_desk.core.data.xlsx_book import print_setup
from etl_desk.core.insights.anomaly_table import JUMP_UNITS, RUN_COLUMNS, RUN_UNITS, jumps_table, runs_table
from etl_desk.core.workbook.formats import Styles
from etl_desk.core.workbook.sheets import write_frame, write_value

TABLE = "AnomalyRuns"
EXCESS = "Excess over pipeline median (USD)"
PRINT_RUNS = 40
WIDTHS = (34, 24, 16, 40, 20, 13, 13, 13, 9, 12, 13, 14, 50)


def write_anomalies(ws, st: Styles, analysis, baseline) -> str | None:
    """Write the sheet; return the per-run table's name (``None`` when no run was flagged)."""
    an = getattr(analysis, "anomalies", None)
    ws.write_string(0, 0, "Anomalies", st.title)
    if not isinstance(an, pd.DataFrame):
        ws.write_string(2, 0, "No anomaly detection: the analysis could not be computed.", st.note)
        ws.set_column(0, 0, 80)
        print_setup(ws, title="Anomalies")
        return None
    runs = runs_table(an, getattr(baseline, "anomaly_runs", None))
    jumps = jumps_table(an)
    th = analysis.thresholds
    ws.merge_range(1, 0, 1, 8, (f"{len(runs):,} runs flagged, one row each (their strongest finding; every rule that "
                                f"flagged them is listed). 'Flag at' is where the rule flags, in the same unit as "
                                f"'Observed' (robust z > {th.z_threshold:g} against the pipeline's own runs; cost spike "
                                f">= {th.spike_factor:g}x the trailing mean of {th.spike_window} runs). The excess is "
                                f"the run's cost above its pipeline's median cost: the anomaly excess of the business "
                                f"case."), st.note)
    ws.set_row(1, 48)
    for j, w in enumerate(WIDTHS):
        ws.set_column(j, j, w)
    row = 3
    total = float(runs[EXCESS].sum()) if len(runs) else 0.0
    ws.write_string(row, 0, "Total excess over pipeline medians (USD)", st.label)
    name = TABLE if len(runs) else None
    if name:
        ws.write_formula(row, 1, f"=SUM({TABLE}[{EXCESS}])", st.bold["usd"], total)
    else:
        ws.write_number(row, 1, 0.0, st.bold["usd"])
    row += 2
    if len(jumps):
        ws.write_string(row, 0, f"Failure-rate jumps week over week ({len(jumps):,} pipeline-weeks; "
                                f"+{th.failure_jump_pp:g} points flags)", st.h2)
        row += 1
        row = write_frame(ws, st, jumps, row, units=JUMP_UNITS) + 1
    ws.write_string(row, 0, "Runs flagged", st.h2)
    row += 1
    top = row
    if runs.empty:
        ws.write_string(top, 0, "No run was flagged.", st.note)
        ws.print_area(0, 0, top, 8)
        print_setup(ws, title="Anomalies")
        return None
    cols = list(RUN_COLUMNS)
    for i, rec in enumerate(runs.itertuples(index=False, name=None)):
        unit = rec[-1]
        for j, c in enumerate(cols):
            u = unit if c in ("Observed", "Usual for the pipeline", "Flag at") else RUN_UNITS.get(c)
            write_value(ws, top + 1 + i, j, rec[j], st.unit(u) if u else st.text, st.text)
    ws.add_table(top, 0, top + len(runs), len(cols) - 1, {
        "name": TABLE, "style": "Table Style Light 9", "autofilter": True,
        "columns": [{"header": c, "header_format": st.header} for c in cols]})
    ws.freeze_panes(top + 1, 1)
    print_setup(ws, header_rows=top, title="Anomalies")
    ws.print_area(0, 0, top + min(len(runs), PRINT_RUNS), len(cols) - 1)
    if len(runs) > PRINT_RUNS:
        ws.set_footer(f"&L&8&A: the {PRINT_RUNS} runs with the largest excess are printed; all {len(runs):,} are in "
                      f"the workbook&R&8Page &P of &N")
    return name
