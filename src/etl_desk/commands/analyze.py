"""etl-desk analyze: KPIs, insights, the case study's verdicts and anomalies of a run history.

Plain output is a report a person reads; ``--json`` prints one JSON object
(:func:`etl_desk.core.insights.analysis.to_json_dict`).

Extending this command (e.g. ``-o report.xlsx`` or ``--assumptions FILE``):
add the option in :func:`add_parser`, then consume it in :func:`write_outputs`,
which receives the loaded table, the
:class:`~etl_desk.core.business_case.results.Results` and the report dict that
:func:`build_report` made. Nothing else needs to change.
"""
from __future__ import annotations

import json
import sys
from dataclasses import fields

import pandas as pd

from etl_desk.core.business_case.results import Results, compute_results
from etl_desk.core.insights.analysis import Analysis, json_safe, to_json_dict
from etl_desk.core.insights.anomalies import RULE_LABELS, AnomalyThresholds
from etl_desk.core.insights.kpis import KPI_DISPLAY, format_value
from etl_desk.commands._input import add_input_options
from etl_desk.commands._input import load_input as _load_input
from etl_desk.core.data.provenance import text_lines as provenance_lines
from etl_desk.core.errors import DataError

AREA_ORDER = ("cost", "data volume", "duration")
SEVERITY_MARK = {"info": " ", "notice": "·", "warning": "!", "critical": "‼"}


def _threshold_option(f) -> str:
    return "--" + f.name.replace("_", "-")


def add_parser(sub) -> None:
    p = sub.add_parser("analyze", help="report KPIs, insights and anomalies of a run history",
                       description="Analyse a run history (CSV, XLSX, Parquet, ETL Desk workbook, Databricks "
                                   "exports): KPIs, insights on cost, data volume and duration, the case "
                                   "study's three insights confirmed or refuted, and anomalies.")
    add_input_options(p)
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the report")
    p.add_argument("-o", "--output", metavar="REPORT", action="append",
                   help="also write REPORT.xlsx, the workbook for finance (decision page, assumptions, business "
                        "case with live formulas, annual cash flows, scenarios, checks, KPIs, insights, anomalies, "
                        "charts, data), or REPORT.pdf, its report pages (needs LibreOffice); may be repeated")
    p.add_argument("--focus", metavar="FILE",
                   help="also write the runs' costs as a FOCUS 1.2 dataset (.csv or .parquet)")
    p.add_argument("--before", metavar="FILE",
                   help="a run history from before a remedy went live: the report measures each target's change "
                        "(realised against projected savings)")
    p.add_argument("--go-live", metavar="DATE",
                   help="the date a remedy went live in INPUT (YYYY-MM-DD): runs before it are the 'before' "
                        "history, runs from it the 'after' one")
    p.add_argument("--assumptions", metavar="FILE",
                   help="business-case assumptions (.json or .toml) overriding the defaults")
    p.add_argument("--rows", choices=("refuse", "split", "truncate"), default="refuse",
                   help="with -o, when the runs do not fit in one Excel sheet: refuse (default), split "
                        "across several Data sheets, or keep the first 1,048,575 runs")
    p.add_argument("--evidence", action="store_true", help="with --json: include each insight's evidence table")
    p.add_argument("--top", type=int, default=15, metavar="N",
                   help="anomalies listed in the report (default 15; --json lists all)")
    from etl_desk.commands._engine import add_engine_options

    add_engine_options(p)
    g = p.add_argument_group("anomaly thresholds")
    for f in fields(AnomalyThresholds):
        md = f.metadata
        if f.type in ("bool", bool):
            g.add_argument(_threshold_option(f).replace("--use-", "--no-"), dest=f.name, action="store_false",
                           default=None, help=f"do not {md['label'].lower()}".replace("%", "%%"))
            continue
        conv = int if f.type in ("int", int) else float
        unit = f" ({md['unit']})" if md.get("unit") else ""
        text = f"{md['label']}{unit}, default {f.default}: {md['help']}"
        g.add_argument(_threshold_option(f), dest=f.name, type=conv, default=None, metavar="X",
                       help=text.replace("%", "%%"))  # argparse formats help with %: a literal % is %%
    p.set_defaults(run=run)


def thresholds_from_args(args) -> AnomalyThresholds:
    """Anomaly thresholds: defaults overridden by the command-line options given."""
    over = {f.name: getattr(args, f.name) for f in fields(AnomalyThresholds)
            if getattr(args, f.name, None) is not None}
    th = AnomalyThresholds(**over)
    bad = th.validate()
    if bad:
        raise DataError("; ".join(bad))
    return th


def load_input(args) -> pd.DataFrame:
    """The canonical table of INPUT (raises DataError naming file, row and column)."""
    df = _load_input(args)
    if len(df) == 0:
        raise DataError("no runs to analyse", file=", ".join(map(str, args.input)))
    return df


def assumptions_for(args):
    """The business-case assumptions: defaults, or the file given with --assumptions (validated)."""
    from etl_desk.core.business_case.assumptions import default_assumptions, load_assumptions

    path = getattr(args, "assumptions", None)
    return load_assumptions(path) if path else default_assumptions()


def results_for(df: pd.DataFrame, args) -> Results:
    """Analysis and business case of *df* under the options in *args* (thresholds, assumptions)."""
    return compute_results(df, thresholds=thresholds_from_args(args), assumptions=assumptions_for(args))


def build_report(df: pd.DataFrame, args, results: Results) -> dict:
    """The JSON report of *df* under the options in *args* (the one place that shapes it)."""
    from etl_desk.core.business_case.report import business_case_json

    report = to_json_dict(results.analysis, evidence=getattr(args, "evidence", False))
    report["source"] = _source(df, args)
    # where every figure came from (etl_desk.core.data.provenance documents the schema)
    report["provenance"] = json_safe(df.attrs.get("provenance"))
    # NaN becomes null: unknown is never a number in JSON
    report["business_case"] = json_safe(business_case_json(results.case, results.appraisal,
                                                           unavailable=str(results.baseline_error or "")))
    return report


def _source(df: pd.DataFrame, args) -> str:
    inp = getattr(args, "input", None)
    if isinstance(inp, (list, tuple)):
        return ", ".join(map(str, inp))
    return str(inp or df.attrs.get("source", ""))


def realisation_for(df: pd.DataFrame, results: Results, args):
    """Realised against projected savings (``--before`` or ``--go-live``), or None when neither is given."""
    before_path, go_live = getattr(args, "before", None), getattr(args, "go_live", None)
    if not before_path and not go_live:
        return None
    # imported here, not at start-up: only --before / --go-live need them (keeps `etl-desk --help` quick)
    from etl_desk.core.business_case.baseline import compute_baseline
    from etl_desk.core.business_case.model import evaluate
    from etl_desk.core.business_case.realisation import realised_vs_projected, split_at
    from etl_desk.core.data.loaders import load_path

    th = results.thresholds
    if before_path:
        before, after = load_path(before_path), df
        if go_live:
            after = after[after["start_time"] >= pd.Timestamp(go_live)]
    else:
        try:
            pd.Timestamp(go_live)
        except (TypeError, ValueError):
            raise DataError(f"--go-live: {go_live!r} is not a date like 2024-04-01") from None
        before, after = split_at(df, go_live)
    b_base, a_base = compute_baseline(before, thresholds=th), compute_baseline(after, thresholds=th)
    case = evaluate(b_base, results.assumptions) if b_base.cost_known else None
    return realised_vs_projected(before, after, case, before_anomaly_runs=b_base.anomaly_runs,
                                 after_anomaly_runs=a_base.anomaly_runs,
                                 data_coverage=results.assumptions["global"]["data_coverage"], go_live=go_live)


def write_outputs(df: pd.DataFrame, results: Results, report: dict, args, realisation=None) -> None:
    """Further outputs: the workbook for finance or its report pages (-o), a FOCUS dataset (--focus)."""
    for out in getattr(args, "output", None) or []:
        low = str(out).lower()
        if low.endswith(".pdf"):
            from etl_desk.core.workbook.pdf import export_report_pdf  # start-up: only -o *.pdf needs it

            export_report_pdf(out, df, results, source=_source(df, args), realisation=realisation)
            print(f"wrote {out}: the report pages", file=sys.stderr)
        elif low.endswith(".xlsx"):
            from etl_desk.core.workbook.export import export_workbook  # start-up: only -o *.xlsx needs it

            res = export_workbook(out, df, results, source=_source(df, args), filters_text="none (all runs)",
                                  max_rows_policy=getattr(args, "rows", "refuse"), realisation=realisation)
            print(f"wrote {out}: {len(res.sheets)} sheets, {res.rows_written:,} runs", file=sys.stderr)
        else:
            raise DataError("the report must be an .xlsx workbook or a .pdf of its report pages", file=str(out))
    focus = getattr(args, "focus", None)
    if focus:
        from etl_desk.core.data.focus import write_focus  # start-up: only --focus needs it

        notes = write_focus(df, focus)
        for n in notes:
            print(f"etl-desk: warning: {n}", file=sys.stderr)
        print(f"wrote {focus}: FOCUS 1.2 cost and usage", file=sys.stderr)


# --------------------------------------------------------------------------- plain-text report

def _wrap(text: str, indent: str, width: int = 100, hang: str | None = None) -> str:
    import textwrap

    return textwrap.fill(text, width=width, initial_indent=indent,
                         subsequent_indent=hang if hang is not None else indent + "  ", break_on_hyphens=False)


def _fmt_num(x) -> str:
    if x is None or (isinstance(x, float) and x != x):
        return "n/a"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:,.2f}"


def _fmt_metric(metric: str, x) -> str:
    if x is None or (isinstance(x, float) and x != x):
        return "n/a"
    if metric == "duration_min":
        return f"{x:,.1f} min"
    if metric == "cost_usd":
        from etl_desk.core.fmt import usd

        return usd(x)
    if metric == "cost_per_min":
        return f"${x:,.4f}/min"
    if metric == "failure_rate":
        return f"{x * 100:.1f} %"
    return _fmt_num(x)


def render_text(analysis: Analysis, source: str = "", top: int = 15) -> str:
    """The plain-text report: KPIs, case-study verdicts, insights by area, top anomalies, notes."""
    k = analysis.kpis
    lines = [f"ETL Desk analysis{': ' + source if source else ''}", ""]
    lines.append("KEY FIGURES")
    for key in ("runs", "failed_runs", "success_rate", "total_cost_usd", "failed_cost_usd", "failed_cost_share",
                "cost_per_tb_usd", "duration_p50_min", "duration_p95_min", "retry_cost_usd", "span_days"):
        label, fmt = KPI_DISPLAY[key]
        lines.append(f"  {label:<26}{format_value(k.get(key), fmt)}")
    by_area = analysis.by_area()
    lines += ["", "THE CASE STUDY'S THREE INSIGHTS"]
    for i in by_area.get("case study", []):
        verdict = (i.verdict or "cannot be checked").upper()
        lines.append(f"  [{verdict}] {i.title.split(': ', 1)[-1]}")
        lines.append(_wrap(i.headline, "      "))
    for area in AREA_ORDER:
        items = by_area.get(area, [])
        if not items:
            continue
        lines += ["", f"{area.upper()}"]
        for i in items:
            lines.append(f" {SEVERITY_MARK.get(i.severity, ' ')} {i.title} [{i.severity}]")
            lines.append(_wrap(i.headline, "      "))
            if i.missing:
                lines.append(_wrap(f"(missing: {i.missing})", "      "))
    an = analysis.anomalies
    lines += ["", "ANOMALIES"]
    th = analysis.thresholds
    lines.append(_wrap(f"Rules: robust z > {th.z_threshold:g} against the pipeline's own runs after allowing for "
                       f"data volume (at least {th.min_baseline_runs} successful runs); cost ≥ {th.spike_factor:g}× "
                       f"the trailing mean of the last {th.spike_window} runs; failure rate up ≥ "
                       f"{th.failure_jump_pp:g} points week over week (≥ {th.failure_min_runs} runs a week).", "  "))
    if an is None or an.empty:
        lines.append("  No anomalies found.")
    else:
        counts = an.groupby("rule", sort=False).size()
        counts = counts.reindex([r for r in RULE_LABELS if r in counts.index])
        lines.append("  " + "; ".join(f"{RULE_LABELS.get(r, r)}: {c:,}" for r, c in counts.items()))
        runs = an.loc[an["rule"] != "failure_rate_jump", "run_id"].nunique()
        lines.append(f"  {runs:,} runs flagged. Top {min(top, len(an))} by score:")
        lines.append(f"  {'Job ID':<32} {'Pipeline':<26} {'Rule':<18} {'Observed':>14} {'Expected':>14} {'Score':>7}")
        for r in an.head(top).itertuples(index=False):
            lines.append(f"  {str(r.run_id)[:32]:<32} {str(r.pipeline)[:26]:<26} {r.rule:<18} "
                         f"{_fmt_metric(r.metric, r.observed):>14} {_fmt_metric(r.metric, r.baseline):>14} "
                         f"{r.score:>7.1f}")
    if analysis.notes:
        lines += ["", "NOTES"]
        lines += [_wrap(n, "  - ", hang="    ") for n in analysis.notes]
    return "\n".join(lines) + "\n"


def format_realisation(real) -> list[str]:
    """Realised against projected savings as terminal lines."""
    from etl_desk.core import fmt  # start-up: only with a realisation

    lines = [f"REALISED AGAINST PROJECTED ({'go-live ' + real.go_live if real.go_live else 'two histories'})",
             "  " + real.method]
    for c in real.changes:
        eff = "n/a" if c.measured_effect is None else (f"{c.measured_effect:.0%} (95 % CI {c.measured_effect_ci[0]:.0%}"
                                                       f" to {c.measured_effect_ci[1]:.0%})")
        proj = "" if c.projected_effect is None else f"; projected {c.projected_effect:.0%}"
        lines.append(f"  {c.label:<34} {c.before_rate:,.3f} -> {c.after_rate:,.3f} {c.unit}; measured effect {eff}; "
                     f"saving {fmt.usd(c.saving_usd_per_year, 0)} a year ({fmt.usd(c.saving_ci[0], 0)} to "
                     f"{fmt.usd(c.saving_ci[1], 0)}){proj}")
    return lines


def run(args) -> int:
    from etl_desk.commands._engine import run_engine, wants_engine

    if wants_engine(args):
        return run_engine(args, thresholds_from_args(args))
    df = load_input(args)
    assumptions_for(args)  # a bad assumptions file is refused before any long work
    results = results_for(df, args)
    report = build_report(df, args, results)
    realisation = realisation_for(df, results, args)
    if realisation is not None:
        from etl_desk.core.business_case.report import plain_json  # start-up: only with a realisation

        report["realisation"] = plain_json(realisation)
    write_outputs(df, results, report, args, realisation)
    if args.json:
        json.dump(report, sys.stdout, allow_nan=False, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        from etl_desk.core.business_case.report import format_business_case

        text = render_text(results.analysis, source=_source(df, args), top=max(args.top, 0))
        if report.get("provenance"):
            text += "\n" + "\n".join(provenance_lines(report["provenance"])) + "\n"
        text += "\n" + "\n".join(format_business_case(report["business_case"])) + "\n"
        if realisation is not None:
            text += "\n" + "\n".join(format_realisation(realisation)) + "\n"
        sys.stdout.write(text)
    return 0
