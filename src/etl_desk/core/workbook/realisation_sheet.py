"""The Benefits realisation sheet: the measured change of each target after go-live, beside the projection."""
from __future__ import annotations

from etl_desk.core.business_case.realisation import Realisation
from etl_desk.core.data.xlsx_book import print_setup
from etl_desk.core.workbook.formats import Styles, wrapped_height
from etl_desk.core import fmt

SHEET = "Benefits realisation"
HEADS = ("Target", "Rate before", "Rate after", "Change", "95 % interval: from", "to", "Measured effect",
         "Effect interval: from", "to", "Saving a year (USD)", "Saving interval: from", "to", "Projected effect",
         "Projected saving a year (USD)", "Projection within the interval?", "Solutions acting on it")


def write_realisation_sheet(wb, st: Styles, real: Realisation) -> None:
    """Add the "Benefits realisation" sheet to the xlsxwriter workbook *wb* from *real*
    (:func:`etl_desk.core.business_case.realisation.realised_vs_projected`).

    Header lines: both periods (runs, first start, last end, days), the go-live date, the method
    and the on-demand share of cost. Then one row per target (:data:`HEADS`): rate before and after
    and the change with its 95 % interval (USD per TB, or USD when ``real.per`` is not ``"TB"``),
    measured effect and interval (fractions shown as %), saving a year with interval and the
    projected effect and saving (USD), whether the projection lies in the interval, the solutions.
    Unknown values (None) are written as ``"n/a"``, never 0. Values only, no formulas.
    """
    ws = wb.add_worksheet(SHEET)
    ws.set_column(0, 0, 30)
    ws.set_column(1, 14, 12)
    ws.set_column(15, 15, 40)
    ws.write_string(0, 0, "Benefits realisation: measured after go-live, beside the projection", st.title)
    b, a = real.before, real.after
    lines = [f"Before: {b.runs:,} runs, {fmt.from_to((b.first_start or '-')[:19], (b.last_end or '-')[:19])} ({b.span_days:,.1f} days). "
             f"After: {a.runs:,} runs, {fmt.from_to((a.first_start or '-')[:19], (a.last_end or '-')[:19])} ({a.span_days:,.1f} days)"
             + (f"; go-live {real.go_live}." if real.go_live else "."),
             real.method,
             f"On-demand share of cost: {real.on_demand_share[0]:.1%} before, {real.on_demand_share[1]:.1%} after."]
    if real.measured:
        lines.insert(0, f"Measured: {real.measured}.")
    lines += [f"Note: {n}." for n in real.notes]
    row = 1
    for text in lines:
        ws.merge_range(row, 0, row, 15, text, st.wrap_plain)
        ws.set_row(row, wrapped_height(text, 200))
        row += 1
    row += 1
    ws.write_row(row, 0, HEADS, st.header)
    ws.set_row(row, 45)
    hdr = row
    row += 1
    unit = "usd_per_tb" if real.per == "TB" else "usd"
    for c in real.changes:
        vals = [(c.label, None), (c.before_rate, unit), (c.after_rate, unit), (c.change, unit),
                (c.change_ci[0], unit), (c.change_ci[1], unit), (c.measured_effect, "fraction"),
                (None if c.measured_effect_ci is None else c.measured_effect_ci[0], "fraction"),
                (None if c.measured_effect_ci is None else c.measured_effect_ci[1], "fraction"),
                (c.saving_usd_per_year, "usd0"), (c.saving_ci[0], "usd0"), (c.saving_ci[1], "usd0"),
                (c.projected_effect, "fraction"), (c.projected_saving_usd_per_year, "usd0"),
                ({True: "yes", False: "no", None: "n/a"}[c.projection_within_ci], None),
                (", ".join(c.solutions) or "none", None)]
        for j, (v, u) in enumerate(vals):
            if v is None:
                ws.write_string(row, j, "n/a", st.na)
            elif isinstance(v, str):
                ws.write_string(row, j, v, st.wrap)
            else:
                ws.write_number(row, j, float(v), st.unit(u))
        row += 1
    ws.freeze_panes(hdr + 1, 1)
    print_setup(ws, title=SHEET)
    ws.repeat_rows(hdr)
    ws.print_area(0, 0, row, 15)


def write_not_measured_sheet(wb, st: Styles) -> None:
    """The "Benefits realisation" sheet of a report when nothing was measured: it says so (a report
    that leaves the page out would let a reader think the savings were measured elsewhere)."""
    ws = wb.add_worksheet(SHEET)
    ws.set_column(0, 0, 80)  # an A4 portrait page wide
    ws.write_string(0, 0, "Benefits realisation: not measured", st.title)
    text = ("No realised savings were measured for this report: the savings in it are projections. To measure "
            "them, give a go-live date (the runs before and after it) or a history of the runs after the go-live "
            "(Business case › Realised in the window; --go-live or --before on the command line).")
    ws.write_string(1, 0, text, st.wrap_plain)
    ws.set_row(1, wrapped_height(text, 80))
    print_setup(ws, title=SHEET, landscape=False)
    ws.print_area(0, 0, 1, 0)
