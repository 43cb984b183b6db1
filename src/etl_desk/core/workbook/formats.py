"""Cell formats of the finance workbook, and number formats by unit (:data:`etl_desk.core.fmt.UNITS`).

Number formats come from the unit core attaches to a figure or a column -- never from
header words. Money on summary rows is whole dollars in an accounting style (negatives
red in parentheses); per-day and per-week rows keep cents; counts are integers; dates
are date cells.
"""
from __future__ import annotations

import math

#: Excel number format per unit.
UNIT_FORMATS = {
    "usd": "$#,##0.00;[Red]($#,##0.00);$0.00",
    "usd0": "$#,##0;[Red]($#,##0);$0",
    "usd_per_tb": '$#,##0.00" /TB"',
    "usd_per_min": '$#,##0.0000" /min"',
    "usd_per_dbu": '$#,##0.0000" /DBU"',
    "count": "#,##0",
    "fraction": "0.0%",
    "percent": '0.00" %"',
    "min": '#,##0.0" min"',
    "gb": '#,##0.00" GB"',
    "gb_per_min": '#,##0.000" GB/min"',
    "tb": '#,##0.000" TB"',
    "days": '#,##0.0" days"',
    "months": '0.0" mo"',
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
    "ratio": '0.00"x"',
    "z": '0.00" z"',
    "number": "#,##0.00",
    "factor": "0.000000",
}


def number_format(unit: str | None) -> str | None:
    """The Excel number format of *unit* (``None`` for text or no unit)."""
    if unit is None or unit in ("text", "bool"):
        return None
    return UNIT_FORMATS.get(unit, UNIT_FORMATS["number"])


def wrapped_height(text: str, width_chars: float, *, line_pt: float = 15.0, min_lines: int = 1) -> float:
    """Row height (points) for *text* wrapped in a column *width_chars* wide (Excel character units)."""
    per_line = max(int(width_chars * 1.1), 10)
    lines = 0
    for part in str(text).split("\n"):
        lines += max(1, math.ceil(len(part) / per_line))
    return line_pt * max(lines, min_lines)


class Styles:
    """The workbook's shared cell formats (one set per workbook)."""

    def __init__(self, wb):
        add = wb.add_format
        border = {"border": 1, "border_color": "#D9D9D9", "valign": "top"}
        self.title = add({"bold": True, "font_size": 16, "font_color": "#1F3864"})
        self.subtitle = add({"italic": True, "font_color": "#595959", "text_wrap": True, "valign": "top"})
        self.h2 = add({"bold": True, "font_size": 12, "font_color": "#1F3864", "bottom": 1,
                       "bottom_color": "#1F3864"})
        self.section = add({"bold": True, "bg_color": "#DDDDDD", "valign": "top"})
        self.header = add({"bold": True, "bg_color": "#1F3864", "font_color": "#FFFFFF", "text_wrap": True,
                           "valign": "top", "border": 1, "border_color": "#BFBFBF"})
        self.label = add({"bold": True, "valign": "top"})
        self.text = add({"valign": "top", **{k: v for k, v in border.items() if k != "valign"}})
        self.plain = add({"valign": "top"})
        self.wrap = add({"text_wrap": True, "valign": "top", **border})
        self.wrap_plain = add({"text_wrap": True, "valign": "top"})
        self.note = add({"italic": True, "font_color": "#595959", "text_wrap": True, "valign": "top"})
        self.warn = add({"bold": True, "font_color": "#C00000", "text_wrap": True, "valign": "top"})
        self.placeholder = add({"bold": True, "font_color": "#FFFFFF", "bg_color": "#C00000", "text_wrap": True,
                                "valign": "top"})
        self.link = add({"font_color": "#0563C1", "underline": 1})
        self.na = add({"font_color": "#A6A6A6", "bg_color": "#F2F2F2", "align": "center", **border})
        self.ok = add({"bold": True, "font_color": "#FFFFFF", "bg_color": "#1E7B45", "align": "center"})
        self.flag = add({"bold": True, "font_size": 14, "align": "center", "valign": "vcenter", "border": 2})
        self.bold_text = add({"bold": True, "valign": "top", "text_wrap": True, **border})
        inp = {"bg_color": "#FFF2CC", "font_color": "#1F4E79", "locked": False, "border": 1, "border_color": "#BF9000"}
        self.input = {u: add({**inp, "num_format": f}) for u, f in UNIT_FORMATS.items()}
        self.input_text = add(inp)
        self.input_int = add({**inp, "num_format": "0"})
        self.num = {u: add({**border, "num_format": f}) for u, f in UNIT_FORMATS.items()}
        self.bold = {u: add({**border, "num_format": f, "bold": True}) for u, f in UNIT_FORMATS.items()}
        self.big = {u: add({"num_format": f, "font_size": 12, "bold": True, **border}) for u, f in UNIT_FORMATS.items()}
        self.right = add({"align": "right", **border})
        self.severity = {
            "critical": add({"bold": True, "font_color": "#FFFFFF", "bg_color": "#C00000", "border": 1,
                             "align": "center", "valign": "top"}),
            "warning": add({"bold": True, "bg_color": "#F4B183", "border": 1, "align": "center", "valign": "top"}),
            "notice": add({"bg_color": "#FFE699", "border": 1, "align": "center", "valign": "top"}),
            "info": add({"bg_color": "#DDEBF7", "border": 1, "align": "center", "valign": "top"}),
        }
        # the older sheet writers' names (trends_sheets): bordered cells and num/big keys by kind
        self.cell, self.cell_wrap = self.text, self.wrap
        for old, unit in (("int", "count"), ("num", "number"), ("pct", None)):
            if unit is None:
                self.num[old] = add({**border, "num_format": "0.00%"})
                self.big[old] = add({"num_format": "0.00%", "font_size": 12, "bold": True, **border})
            else:
                self.num[old], self.big[old] = self.num[unit], self.big[unit]
        self.wb = wb

    def unit(self, unit: str | None, bold: bool = False):
        """The bordered cell format of *unit* (text format when it has no number format)."""
        if number_format(unit) is None:
            return self.text
        key = unit if unit in UNIT_FORMATS else "number"
        return (self.bold if bold else self.num)[key]
