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
from etl_desk.core.insights.budget import parse_budget
from etl_desk.core.insights.forecast import ForecastSettings
from etl_desk.core.insights.trends import Trends, compute_trends
from etl_desk.core.insights.trends_report import format_trends
from etl_desk.core.insights.anomalies import RULE_LABELS, AnomalyThresholds, describe_rules
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
    t = p.add_argument_group("who pays, drift, forecast and budget")
    t.add_argument("--by", action="append", metavar="DIM", default=None,
                   help="attribute cost, failed cost and runs by DIM: a tag key (team, cost_center, ...), "
                        "pipeline, source_system, workspace, sku or compute (serverless vs classic); repeatable "
                        "(default: pipeline); untagged spend is always shown")
    t.add_argument("--budget", action="append", metavar="AMOUNT/month[:KEY=VALUE]", default=None,
                   help="a monthly budget, e.g. 25000/month or 5000/month:team=finance: burn to date, forecast "
                        "month-end with its band, the day it is expected to be crossed; repeatable")
    t.add_argument("--forecast-days", type=int, default=90, metavar="N",
                   help="days of daily cost forecast with 80 %% and 95 %% intervals (default 90; 0 = none)")
    t.add_argument("--forecast-pipelines", action="store_true",
                   help="also forecast each pipeline (slower: seconds at 1M runs)")
    t.add_argument("--no-drift", dest="drift", action="store_false",
                   help="skip the drift test (cost per TB and duration per GB creeping up week after week)")
    from etl_desk.commands._engine import add_engine_options

    add_engine_options(p)
    g = p.add_argument_group("anomaly thresholds")
    for f in fields(AnomalyThresholds):
        spec = f.metadata["spec"]
        if f.type in ("bool", bool):
            if f.default:  # on by default: --no-X switches it off
                g.add_argument("--no-" + f.name.removeprefix("use_").replace("_", "-"), dest=f.name,
                               action="store_false", default=None,
                               help=f"off: {spec.label.lower()} ({spec.help})".replace("%", "%%"))
            else:
                g.add_argument(_threshold_option(f), dest=f.name, action="store_true", default=None,
                               help=f"{spec.label.lower()} ({spec.help})".replace("%", "%%"))
            continue
        conv = int if f.type in ("int", int) else float
        unit = f" ({spec.unit})" if spec.unit else ""
        text = f"{spec.label}{unit}, default {f.default}: {spec.help}"
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


def trends_for(df: pd.DataFrame, args) -> Trends:
    """Attribution, drift, forecast and budgets under the options in *args* (bad values: DataError)."""
    try:
        budgets = [parse_budget(b) for b in (getattr(args, "budget", None) or [])]
    except ValueError as exc:
        raise DataError(str(exc)) from None
    days = getattr(args, "forecast_days", 90)
    if days < 0 or days > 366:
        raise DataError(f"--forecast-days: {days} is outside 0–366")
    try:
        return compute_trends(df, by=getattr(args, "by", None) or ["pipeline"], budgets=budgets,
                              drift=getattr(args, "drift", True),
                              forecast=ForecastSettings(horizon_days=max(days, 31)) if days or budgets else False,
                              forecast_pipelines=getattr(args, "forecast_pipelines", False))
    except ValueError as exc:
        raise DataError(str(exc)) from None


def build_report(df: pd.DataFrame, args, results: Results, trends: Trends | None = None) -> dict:
    """The JSON report of *df* under the options in *args* (the one place that shapes it)."""
    from etl_desk.core.business_case.report import business_case_json

    report = to_json_dict(results.analysis, evidence=getattr(args, "evidence", False))
    report["source"] = _source(df, args)
    # where every figure came from (etl_desk.core.data.provenance documents the schema)
    report["provenance"] = json_safe(df.attrs.get("provenance"))
    # NaN becomes null: unknown is never a number in JSON
    report["business_case"] = json_safe(business_case_json(results.case, results.appraisal,
                                                           unavailable=str(results.baseline_error or "")))
    if trends is not None:
        report.update(json_safe(trends.to_dict(forecast_days=getattr(args, "forecast_days", 90) or 0)))
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
                                 data_coverage=results.assumptions["global"]["data_coverage"], go_live=go_live,
                                 measured=(f"{before_path} (before) against the runs of {_source(df, args)}"
                                           + (f" from {go_live}" if go_live else "") + " (after)" if before_path else
                                           f"the runs of {_source(df, args)} split at the go-live {go_live}"))


def write_outputs(df: pd.DataFrame, results: Results, report: dict, args, realisation=None,
                  trends: Trends | None = None) -> None:
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
                                  max_rows_policy=getattr(args, "rows", "refuse"), realisation=realisation,
                                  trends=trends)
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
    for rule, text in describe_rules(th).items():
        lines.append(_wrap(f"{RULE_LABELS.get(rule, rule)}: {text}", "  - ", hang="    "))
    if an is None or an.empty:
        lines.append("  No anomalies found.")
    else:
        counts = an.groupby("rule", sort=False).size()
        counts = counts.reindex([r for r in RULE_LABELS if r in counts.index])
        lines.append("  " + "; ".join(f"{RULE_LABELS.get(r, r)}: {c:,}" for r, c in counts.items()))
        runs = an.loc[an["rule"] != "failure_rate_jump", "run_id"].nunique()
        lines.append(f"  {runs:,} runs flagged. Top {min(top, len(an))} by score:")
        lines.append(f"  {'Job ID':<32} {'Pipeline':<26} {'Rule':<18} {'Observed':>14} {'Expected':>14} "
                     f"{'Excess':>10} {'Score':>7}")
        for r in an.head(top).itertuples(index=False):
            excess = getattr(r, "excess_usd", float("nan"))
            lines.append(f"  {str(r.run_id)[:32]:<32} {str(r.pipeline)[:26]:<26} {r.rule:<18} "
                         f"{_fmt_metric(r.metric, r.observed):>14} {_fmt_metric(r.metric, r.baseline):>14} "
                         f"{_fmt_metric('cost_usd', excess):>10} {r.score:>7.1f}")
            if isinstance(getattr(r, "reason", None), str):
                lines.append(_wrap(r.reason, "      "))
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
    trends = trends_for(df, args)
    report = build_report(df, args, results, trends)
    realisation = realisation_for(df, results, args)
    if realisation is not None:
        from etl_desk.core.business_case.report import plain_json  # start-up: only with a realisation

        report["realisation"] = plain_json(realisation)
    write_outputs(df, results, report, args, realisation, trends)
    if args.json:
        json.dump(report, sys.stdout, allow_nan=False, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        from etl_desk.core.business_case.report import format_business_case

        text = render_text(results.analysis, source=_source(df, args), top=max(args.top, 0))
        text += "\n" + "\n".join(format_trends(trends)) + "\n"
        if report.get("provenance"):
            text += "\n" + "\n".join(provenance_lines(report["provenance"])) + "\n"
        text += "\n" + "\n".join(format_business_case(report["business_case"])) + "\n"
        if realisation is not None:
            text += "\n" + "\n".join(format_realisation(realisation)) + "\n"
        sys.stdout.write(text)
    return 0
