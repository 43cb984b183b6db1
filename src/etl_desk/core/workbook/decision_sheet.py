"""The Decision page (first sheet) and the Checks sheet.

Decision: the question, a live one-line answer, the options ranked by NPV with PI,
payback (and whether it falls within the horizon), discounted payback, IRR and the
spend at which each would break even, the portfolio and what "all enabled" would be
worth, the top risks and the provenance (as exported), the master check flag, and a
prepared / reviewed / version block. Checks: tie-outs the workbook proves about itself
(data total = baseline, portfolio savings <= target, NPV = ``NPV()``, annual roll-up =
NPV, period identities, valid inputs), each with an OK flag, and one master flag.
"""
from __future__ import annotations

import datetime as _dt

from etl_desk.core.business_case.baseline import TARGET_KEYS
from etl_desk.core.business_case.decision import DecisionSummary, ranking
from etl_desk.core.fmt import money_round
from etl_desk.core.business_case.model import BusinessCase
from etl_desk.core.data.xlsx_book import app_version, print_setup
from etl_desk.core.workbook.assumptions_sheet import DataRefs
from etl_desk.core.workbook.formats import Styles, wrapped_height
from etl_desk.core.workbook.names import CHECKS_SHEET, DECISION_SHEET, a1, bc, define, prefix

NA = "n/a"
TOL = 0.005  # half a cent


def one_line(case: BusinessCase) -> str:
    """The live one-line answer of the Decision page, exactly as its formula computes it."""
    k = sum(1 for r in case.solutions if r.npv_usd > 0)
    h = case.horizon_months
    if k == 0:
        return (f"No option pays back within the {h}-month horizon at this scale: the NPV-maximising choice is to do "
                f"nothing.")
    return f"{k} of {len(case.solutions)} options pay back within the {h}-month horizon (NPV > 0)."


def write_checks_sheet(wb, st: Styles, case: BusinessCase, data: DataRefs) -> bool:
    """Write the Checks sheet (master flag named ``chk_all``); return whether every check holds for the app's figures."""
    ws = wb.add_worksheet(CHECKS_SHEET)
    ws.set_column(0, 0, 70)
    ws.set_column(1, 3, 18)
    ws.set_column(4, 4, 10)
    ws.write_string(0, 0, "Checks: what the workbook proves about itself", st.title)
    ws.merge_range(1, 0, 1, 4, "Each line compares two figures that must agree (to half a cent where money). The "
                               "master flag is OK only when every line is; it shows on the Decision page and the "
                               "Cover.", st.subtitle)
    ws.set_row(1, 30)
    ws.write_row(3, 0, ("Check", "Figure", "Must equal / not exceed", "Difference", "OK"), st.header)
    row = 4
    b = case.baseline
    first = row

    def check(label: str, fa: str, va, fb: str | None, vb, kind: str = "eq", fmt=None):
        nonlocal row
        fmt = fmt or st.num["usd"]
        ws.write_string(row, 0, label, st.wrap)
        ws.write_formula(row, 1, fa, fmt, va)
        if fb is None:
            ws.write_number(row, 2, vb, fmt)
        else:
            ws.write_formula(row, 2, fb, fmt, vb)
        R = row + 1
        ws.write_formula(row, 3, f"=B{R}-C{R}", fmt, va - vb)
        ok_f = f"=ABS(D{R})<={TOL}" if kind == "eq" else f"=B{R}<=C{R}+{TOL}"
        ok = abs(va - vb) <= TOL if kind == "eq" else va <= vb + TOL
        ws.write_formula(row, 4, ok_f, st.text, bool(ok))
        ws.set_row(row, wrapped_height(label, 70))
        row += 1
        return ok

    oks = []
    tail = "" if data.complete else " (the Data sheet holds part of the runs: the baseline is a value)"
    oks.append(check("Runs on the Data sheet = runs ETL Desk analysed" + tail, "=bl_runs", b.runs, None, b.runs,
                     fmt=st.num["count"]))
    oks.append(check("Data total Cost (USD) = measured baseline as computed by ETL Desk" + tail,
                     "=bl_compute_cost_observed", b.observed["compute_cost"] or 0.0, None,
                     b.observed["compute_cost"] or 0.0))
    oks.append(check("Failed-run cost over the Data sheet = ETL Desk" + tail, "=bl_failed_cost_observed",
                     b.observed["failed_cost"] or 0.0, None, b.observed["failed_cost"] or 0.0))
    oks.append(check("Anomaly excess: total of the Anomalies sheet = ETL Desk's baseline", "=bl_anomaly_excess_cost_observed",
                     b.observed["anomaly_excess_cost"] or 0.0, None, b.observed["anomaly_excess_cost"] or 0.0))
    for k in TARGET_KEYS:
        terms = "+".join(f"{bc(r.id, 'mem')}*{bc(r.id, 'rem')}*{bc(r.id, 'sav')}*({prefix(r.id)}_target=\"{k}\")"
                         for r in case.solutions)
        got = sum(r.savings_year * r.remaining_share for r in case.solutions if r.member and r.target == k)
        oks.append(check(f"Portfolio savings on '{k}' <= its yearly spend", "=" + terms, got, f"=bl_{k}",
                         case.annual[k] or 0.0, kind="le"))
    for r in list(case.solutions) + [case.portfolio]:
        oks.append(check(f"{r.name}: NPV (sum of discounted months) = Excel NPV()", f"={bc(r.id, 'npv')}", r.npv_usd,
                         f"={bc(r.id, 'npv_check')}", r.npv_usd))
        oks.append(check(f"{r.name}: annual roll-up, discounted total = NPV", f"={bc(r.id, 'annual_npv')}", r.npv_usd,
                         f"={bc(r.id, 'npv')}", r.npv_usd))
    mnt = case.portfolio.maintenance_year
    oks.append(check("Portfolio maintenance per day x days a year = per year",
                     "=bc_portfolio_mnt/c_days_per_year*c_days_per_year", mnt, "=bc_portfolio_mnt", mnt))
    ws.write_string(row, 0, "Scenario input is low, base or high", st.wrap)
    ws.write_formula(row, 4, '=OR(g_scenario="low",g_scenario="base",g_scenario="high")', st.text, True)
    row += 1
    ws.write_string(row, 0, "Horizon is a whole number of years from 1 to 10", st.wrap)
    ws.write_formula(row, 4, "=AND(g_horizon_years>=1,g_horizon_years<=10,g_horizon_years=INT(g_horizon_years))",
                     st.text, True)
    row += 1
    ws.write_string(row, 0, "Project start is the first day of a month", st.wrap)
    ws.write_formula(row, 4, "=DAY(g_start_date)=1", st.text, True)
    row += 2
    ws.write_string(row, 0, "All checks", st.label)
    all_ok = all(oks)
    ws.write_formula(row, 1, f'=IF(AND(E{first + 1}:E{row - 1}),"OK","CHECK")', st.flag, "OK" if all_ok else "CHECK")
    define(wb, "chk_all", CHECKS_SHEET, row, 1)
    ws.conditional_format(row, 1, row, 1, {"type": "cell", "criteria": "==", "value": '"OK"',
                                           "format": wb.add_format({"bg_color": "#C6EFCE", "font_color": "#006100"})})
    ws.conditional_format(row, 1, row, 1, {"type": "cell", "criteria": "==", "value": '"CHECK"',
                                           "format": wb.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})})
    print_setup(ws, title=CHECKS_SHEET, landscape=False)
    ws.print_area(0, 0, row, 4)
    ws.protect("", {"format_columns": True, "format_rows": True})
    return all_ok


def flag_cell(wb, ws, st: Styles, row: int, col: int, value: str) -> None:
    """The master check flag (``=chk_all``), green OK / red CHECK."""
    ws.write_formula(row, col, "=chk_all", st.flag, value)
    ws.conditional_format(row, col, row, col, {"type": "cell", "criteria": "==", "value": '"OK"',
                                               "format": wb.add_format({"bg_color": "#C6EFCE", "font_color": "#006100"})})
    ws.conditional_format(row, col, row, col, {"type": "cell", "criteria": "==", "value": '"CHECK"',
                                               "format": wb.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})})


def write_decision_sheet(ws, wb, st: Styles, case: BusinessCase, decision: DecisionSummary, checks_ok: bool,
                         title: str) -> None:
    """Fill the Decision worksheet *ws* (added first, written last: it reads every other sheet)."""
    sols = case.solutions
    ws.hide_gridlines(2)
    widths = (6, 40, 13, 8, 12, 17, 17, 9, 17, 14, 11)
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    last_col = len(widths) - 1
    ws.merge_range(0, 0, 0, last_col - 2, title or "Business case", st.title)
    ws.write_string(0, last_col - 1, "Checks", st.label)
    flag_cell(wb, ws, st, 0, last_col, "OK" if checks_ok else "CHECK")
    ws.set_row(0, 24)
    row = 2
    ws.merge_range(row, 0, row, last_col, "The decision asked", st.h2)
    row += 1
    ws.merge_range(row, 0, row, last_col, decision.question, st.wrap_plain)
    row += 1
    h = "g_horizon_years*c_months_per_year"
    cnt = "(" + "+".join(f"({bc(r.id, 'npv')}>0)" for r in sols) + ")"
    answer = (f'=IF({cnt}=0,"No option pays back within the "&{h}&"-month horizon at this scale: the NPV-maximising '
              f'choice is to do nothing.",{cnt}&" of {len(sols)} options pay back within the "&{h}&"-month horizon '
              f'(NPV > 0).")')
    ws.merge_range(row, 0, row, last_col, "", st.warn)
    ws.write_formula(row, 0, answer, st.warn, one_line(case))
    ws.set_row(row, 32)
    row += 1
    members = "TRIM(" + "&".join(f'IF({bc(r.id, "mem")}=1,"{r.number} ","")' for r in sols) + ")"
    port_text = " ".join(str(case.result(i).number) for i in case.members)
    ws.merge_range(row, 0, row, 4, "", st.text)
    ws.write_formula(row, 0, f'="Portfolio ("&g_portfolio&"): solutions "&IF({members}="","none",{members})',
                     st.bold_text, f"Portfolio ({case.assumptions['global']['portfolio']}): solutions "
                                   f"{port_text or 'none'}")
    ws.write_string(row, 5, "NPV of the portfolio", st.label)
    ws.write_formula(row, 6, "=bc_portfolio_npv", st.bold["usd0"], case.portfolio.npv_usd)
    ws.write_string(row, 7, "", st.plain)
    ws.write_string(row, 8, "NPV of all enabled", st.label)
    ws.write_formula(row, 9, "=INDEX(bc_choice_npv," + "+".join(f"{bc(r.id, 'en')}*{2 ** i}"
                                                                  for i, r in enumerate(sols)) + "+1)",
                     st.num["usd0"], case.all_enabled_npv)
    row += 2
    ws.merge_range(row, 0, row, last_col, "Options ranked by NPV (live)", st.h2)
    row += 1
    heads = ("Rank", "Option", "NPV", "PI", "Payback (months)", "Payback", "Discounted payback", "IRR (a year)",
             "Breaks even at a yearly spend of", "Spend today (a year)", "Effect needed")
    ws.write_row(row, 0, heads, st.header)
    ws.set_row(row, 32)
    row += 1
    # rank helper in hidden column M
    hc = 12
    top = row
    npv_rng = f"$M${top + 1}:$M${top + len(sols)}"
    for i, r in enumerate(sols):
        ws.write_formula(top + i, hc, f"=ROUND({bc(r.id, 'npv')},2)", st.num["usd"],
                         float(money_round(r.npv_usd)))
    rank_cells = []
    for i, r in enumerate(sols):
        R = top + i + 1
        before = f"+SUMPRODUCT(--($M${top + 1}:M{R - 1}=M{R}))" if i else ""
        ranked = [sols.index(x) for x in ranking(case)]
        ws.write_formula(top + i, hc + 1, f"=SUMPRODUCT(--({npv_rng}>M{R})){before}+1", st.num["count"],
                         ranked.index(i) + 1)
        rank_cells.append(a1(top + i, hc + 1))
    rank_rng = f"$N${top + 1}:$N${top + len(sols)}"
    order = ranking(case)
    opts = {o.id: o for o in decision.options}

    def choose(k: int, what: str) -> str:
        return f"CHOOSE(MATCH({k},{rank_rng},0)," + ",".join(bc(r.id, what) for r in sols) + ")"

    months_wrap = wb.add_format({"num_format": '0.0" mo"', "text_wrap": True, "valign": "top", "border": 1,
                                 "border_color": "#D9D9D9"})
    rank_fmt = wb.add_format({"num_format": '"#"0', "align": "center", "valign": "top", "border": 1,
                              "border_color": "#D9D9D9"})
    for k, r in enumerate(order, start=1):
        o = opts[r.id]
        R = row + 1
        ws.write_number(row, 0, k, rank_fmt)
        names = ",".join('"' + f"{x.number}. {x.name}".replace('"', "'") + '"' for x in sols)
        ws.write_formula(row, 1, f"=CHOOSE(MATCH({k},{rank_rng},0),{names})", st.wrap, f"{r.number}. {r.name}")
        ws.write_formula(row, 2, "=" + choose(k, "npv"), st.bold["usd0"], r.npv_usd)
        ws.write_formula(row, 3, "=" + choose(k, "pi"), st.num["ratio"], NA if o.profitability_index is None
                         else o.profitability_index)
        ws.write_formula(row, 4, "=" + choose(k, "pb"), months_wrap,
                         o.payback_months if o.payback_months is not None else o.payback_status)
        ws.write_formula(row, 5, "=" + choose(k, "pb_status"), st.wrap, o.payback_status)
        ws.write_formula(row, 6, "=" + choose(k, "dpb"), months_wrap,
                         o.discounted_payback_months if o.discounted_payback_months is not None
                         else o.discounted_payback_status)
        ws.write_formula(row, 7, "=" + choose(k, "irr"), st.num["fraction"], NA if o.irr_annual is None
                         else o.irr_annual)
        ws.write_formula(row, 8, "=" + choose(k, "tgt_needed"), st.num["usd0"],
                         NA if o.target_needed_usd_per_year is None else o.target_needed_usd_per_year)
        ws.write_formula(row, 9, "=" + choose(k, "tgt"), st.num["usd0"], o.target_usd_per_year or 0.0)
        ws.write_formula(row, 10, "=" + choose(k, "eff_needed"), st.num["fraction"],
                         NA if o.effect_needed is None else o.effect_needed)
        ws.set_row(row, 30)
        row += 1
    p = decision.portfolio
    ws.write_string(row, 0, "", st.text)
    ws.write_string(row, 1, "Portfolio", st.bold_text)
    for c, what, v, fmt in ((2, "npv", p.npv_usd, st.bold["usd0"]),
                            (3, "pi", NA if p.profitability_index is None else p.profitability_index, st.num["ratio"]),
                            (4, "pb", p.payback_months if p.payback_months is not None else p.payback_status,
                             months_wrap),
                            (5, "pb_status", p.payback_status, st.wrap),
                            (6, "dpb", p.discounted_payback_months if p.discounted_payback_months is not None
                             else p.discounted_payback_status, months_wrap),
                            (7, "irr", NA if p.irr_annual is None else p.irr_annual, st.num["fraction"])):
        ws.write_formula(row, c, f"={bc('portfolio', what)}", fmt, v)
    for c in (8, 9, 10):
        ws.write_blank(row, c, None, st.na)
    ws.set_row(row, 30)
    row += 1
    note = ("PI = PV of savings / PV of costs. Payback counts months from the project start over a 120-month schedule "
            "and says whether it falls within the horizon. Breaks even at: the yearly spend on the component the "
            "option acts on at which its NPV is zero, at the assumed effect. Per-option detail: Business Case; cash "
            "flows: Annual cash flows; what would have to be true: Scenarios.")
    ws.merge_range(row, 0, row, last_col, note, st.note)
    ws.set_row(row, wrapped_height(note, sum(widths)))
    row += 2
    ws.merge_range(row, 0, row, last_col, "Top risks (as exported)", st.h2)
    row += 1
    for text in decision.risks[:6]:
        ws.write_string(row, 0, "-", st.plain)
        ws.merge_range(row, 1, row, last_col, text, st.wrap_plain)
        ws.set_row(row, wrapped_height(text, sum(widths[1:])))
        row += 1
    row += 1
    ws.merge_range(row, 0, row, last_col, "Provenance", st.h2)
    row += 1
    ws.merge_range(row, 0, row, last_col, decision.provenance, st.wrap_plain)
    ws.set_row(row, wrapped_height(decision.provenance, sum(widths)))
    row += 2
    made = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z").strip()
    for label, value, is_input in (("Prepared", f"by ETL Desk {app_version()} on {made}", False),
                                   ("Reviewed by", "", True), ("Version", "", True)):
        ws.write_string(row, 0, "", st.plain)
        ws.write_string(row, 1, label, st.label)
        ws.merge_range(row, 2, row, 6, value, st.input_text if is_input else st.plain)
        row += 1
    ws.set_column(hc, hc + 1, None, None, {"hidden": True})
    print_setup(ws, title=DECISION_SHEET)
    ws.print_area(0, 0, row, last_col)
    ws.fit_to_pages(1, 1)
    ws.protect("", {"format_columns": True, "format_rows": True, "select_unlocked_cells": True})
