"""Defined names of the finance workbook: one convention, so every formula reads like the model.

* ``c_<constant>`` -- conventions (``c_days_per_year`` ...), never a bare 365 in a formula;
* ``g_<key>`` -- global inputs; ``<solution>_<key>`` -- solution inputs (``error_monitoring_effect``);
* ``sc_<low|high>_<driver>`` -- scenario multipliers (inputs); ``sc_<driver>`` -- the one in force;
* ``sens_<input>_<low|high>`` -- sensitivity ranges (inputs);
* ``bl_<component>`` -- the baseline (measured ``_observed`` over the Data table, annualised, assumed);
* ``bc_<option>_<figure>`` -- results of the Business Case sheet (``bc_portfolio_npv``);
* ``sch_<column>`` / ``sch_<option>_<column>`` -- monthly schedule columns, months 1..120
  (``..._0`` names the same column one row up: months 0..119).
"""
from __future__ import annotations

from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

from etl_desk.core.business_case.catalogue import load_catalogue

ASSUMPTIONS_SHEET = "Assumptions"
BUSINESS_CASE_SHEET = "Business Case"
SCHEDULE_SHEET = "Monthly schedule"
ANNUAL_SHEET = "Annual cash flows"
SCENARIO_SHEET = "Scenarios"
DECISION_SHEET = "Decision"
CHECKS_SHEET = "Checks"

CONSTANTS = {"c_days_per_year": 365, "c_days_per_week": 7, "c_months_per_year": 12, "c_quarters_per_year": 4,
             "c_working_weeks_per_year": 50, "c_schedule_months": 120}


def prefix(rid: str) -> str:
    """``error-monitoring`` -> ``error_monitoring``; ``portfolio`` stays."""
    return rid.replace("-", "_")


def solution_ids() -> list[str]:
    """The catalogue's solution ids in catalogue order (``error-monitoring``, ...: hyphens, see :func:`prefix`)."""
    return [s.id for s in load_catalogue()]


def bc(rid: str, what: str) -> str:
    """Defined name of Business Case figure *what* of option *rid*: ``bc("error-monitoring", "npv")`` ->
    ``bc_error_monitoring_npv``.
    """
    return f"bc_{prefix(rid)}_{what}"


def sch(what: str, rid: str | None = None) -> str:
    """Defined name of a Monthly schedule column: ``sch_<what>`` (timeline) or ``sch_<option>_<what>``."""
    return f"sch_{what}" if rid is None else f"sch_{prefix(rid)}_{what}"


def quote(sheet: str) -> str:
    """Sheet name quoted for a formula (``'Business Case'``; a ``'`` inside is doubled)."""
    return "'" + sheet.replace("'", "''") + "'"


def ref(sheet: str, row: int, col: int, row2: int | None = None, col2: int | None = None) -> str:
    """``='Sheet'!$A$1`` or ``='Sheet'!$A$1:$B$9`` (0-based rows and columns)."""
    out = xl_rowcol_to_cell(row, col, row_abs=True, col_abs=True)
    if row2 is not None:
        out += ":" + xl_rowcol_to_cell(row2, col if col2 is None else col2, row_abs=True, col_abs=True)
    return f"={quote(sheet)}!{out}"


def define(wb, name: str, sheet: str, row: int, col: int, row2: int | None = None, col2: int | None = None) -> str:
    """Define workbook-level name *name* for the absolute cell or range (0-based rows and columns,
    as :func:`ref`) and return *name*, so a writer can use it in the formula it writes next.
    """
    wb.define_name(name, ref(sheet, row, col, row2, col2))
    return name


def a1(row: int, col: int, *, abs_row: bool = False, abs_col: bool = False) -> str:
    """A1 reference of 0-based *row*, *col* (``a1(0, 0)`` -> ``A1``; ``$`` where *abs_row* / *abs_col*)."""
    return xl_rowcol_to_cell(row, col, row_abs=abs_row, col_abs=abs_col)


def col(c: int) -> str:
    """Column letters of 0-based column *c* (0 -> ``A``, 26 -> ``AA``)."""
    return xl_col_to_name(c)
