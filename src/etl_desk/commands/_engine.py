"""``etl-desk analyze PATH --engine duckdb|spark|databricks``: the analysis over the big-history engine.

``pandas`` (the default) is the in-memory path of :mod:`etl_desk.commands.analyze`.
``duckdb`` and ``spark`` read PATH (a Parquet/CSV file or a folder of them) where it
lies and print the KPIs, per-month and per-pipeline totals, per-pipeline baselines
and the anomaly scores of every run (``--json``: one JSON object with the
same ``kpis`` keys as the pandas report). ``--engine databricks --print-sql``
prints the SQL for a Databricks SQL warehouse over the system tables.
"""
from __future__ import annotations

import json
import math
import sys

ENGINES = ("pandas", "duckdb", "spark", "databricks")


def add_engine_options(p) -> None:
    """Add --engine, --spark-remote, --print-sql, --memory-limit, --index/--no-index, --quantiles, --days."""
    g = p.add_argument_group("engine (big histories)")
    g.add_argument("--engine", choices=ENGINES, default="pandas",
                   help="pandas: load into memory (default; every importer and the workbook); duckdb: query "
                        "Parquet/CSV where it lies; spark: the same queries on Spark (local, or --spark-remote); "
                        "databricks: with --print-sql, print SQL for a Databricks SQL warehouse")
    g.add_argument("--spark-remote", metavar="URL", help="Spark Connect URL, e.g. sc://host:15002 (--engine spark)")
    g.add_argument("--print-sql", action="store_true", help="print the SQL instead of running it (--engine databricks)")
    g.add_argument("--memory-limit", default="1.5GB", metavar="SIZE", help="DuckDB memory limit (default 1.5GB)")
    g.add_argument("--index", dest="use_index", action="store_true",
                   help="build (or reuse) the index first and answer from it (--engine duckdb)")
    g.add_argument("--quantiles", choices=("auto", "exact", "approx"), default="auto",
                   help="exact quantiles, histogram ones with a stated error, or auto (exact up to 10M runs)")
    g.add_argument("--days", type=int, default=365, help="--print-sql: history length in days (default 365)")


def wants_engine(args) -> bool:
    return getattr(args, "engine", "pandas") != "pandas"


def _clean(x):
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if hasattr(x, "isoformat"):
        return x.isoformat(sep=" ") if hasattr(x, "hour") else x.isoformat()
    if hasattr(x, "item"):
        return _clean(x.item())
    return x


def _records(df) -> list[dict]:
    return [{k: _clean(v) for k, v in r.items()} for r in df.to_dict(orient="records")]


def run_engine(args, thresholds=None) -> int:
    """Run ``analyze`` on the engine chosen by ``args.engine``; *thresholds*: the anomaly thresholds
    (an AnomalyThresholds, from the command's options)."""
    from etl_desk.core.engine._project import DataError

    if args.engine == "databricks":
        if not args.print_sql:
            raise DataError("--engine databricks only prints SQL: add --print-sql and run it in a SQL warehouse")
        from etl_desk.core.engine.databricks import print_sql_script

        sys.stdout.write(print_sql_script(days=args.days))
        return 0
    if len(args.input) != 1:
        raise DataError(f"--engine {args.engine} reads one file or folder (a Parquet/CSV dataset)")
    from etl_desk.core.engine import Engine, EngineSettings

    settings = EngineSettings(memory_limit=args.memory_limit, quantiles=args.quantiles,
                              spark_remote=args.spark_remote)
    path = args.input[0]
    index = None

    def progress(f, text):
        if not args.json:
            print(f"\r{text}: {f:6.1%}", end="", file=sys.stderr, flush=True)

    if args.use_index and args.engine == "duckdb":
        from etl_desk.core.engine.index import build_index

        index = build_index(path, memory_limit=args.memory_limit, progress=progress)
        print(file=sys.stderr)
    eng = Engine.open(path, backend=args.engine, settings=settings, index=index)
    try:
        if args.print_sql:
            from etl_desk.core.engine.databricks import engine_queries

            dialect = "duckdb" if args.engine == "duckdb" else "databricks"
            for title, expr in engine_queries(eng.t).items():
                print(f"-- {title}\n{eng.sql(expr, dialect)};\n")
            return 0
        from etl_desk.core.engine._project import AnomalyThresholds

        th = thresholds or AnomalyThresholds()
        kpis = eng.kpis()
        months = eng.rollup("month")
        pipes = eng.rollup("pipeline")
        base = eng.baselines()
        scores = eng.anomaly_scores(thresholds=th, top=max(args.top, 0) if not args.json else 1000,
                                    progress=None if args.json else progress)
        if not args.json:
            print(file=sys.stderr)
        report = {"engine": args.engine, "source": path, "kpis": {k: v for k, v in kpis.items() if k != "notes"},
                  "notes": kpis["notes"], "per_month": _records(months), "per_pipeline": _records(pipes),
                  "baselines": _records(base),
                  "anomalies": {"rule": f"robust z of log(duration / expected for the volume) > {th.z_threshold:g}, "
                                        f"per pipeline, >= {th.min_baseline_runs} successful runs",
                                "method": scores.method, "flagged_runs": scores.flagged_runs,
                                "top": _records(scores.top)}}
        if args.json:
            json.dump(report, sys.stdout, allow_nan=False, ensure_ascii=False, default=str)
            sys.stdout.write("\n")
        else:
            sys.stdout.write(render(report))
        return 0
    finally:
        eng.close()


def render(report: dict) -> str:
    from etl_desk.core.insights.kpis import KPI_DISPLAY, format_value

    k = report["kpis"]
    lines = [f"ETL Desk analysis ({report['engine']} engine): {report['source']}", "", "KEY FIGURES"]
    for key in ("runs", "failed_runs", "success_rate", "total_cost_usd", "failed_cost_usd", "failed_cost_share",
                "cost_per_tb_usd", "duration_p50_min", "duration_p95_min", "retry_cost_usd", "span_days"):
        label, fmt = KPI_DISPLAY[key]
        lines.append(f"  {label:<26}{format_value(k.get(key), fmt)}")
    lines += ["", "PER PIPELINE", f"  {'Pipeline':<28}{'Runs':>12}{'Failed':>10}{'Cost':>16}{'p50 min':>10}"
                                  f"{'MAD':>8}{'min/GB':>9}"]
    base = {b["key"]: b for b in report["baselines"]}
    for p in report["per_pipeline"]:
        b = base.get(p["key"], {})
        cost = format_value(p["cost_usd"], "usd") if p["cost_usd"] is not None else "unknown"
        med, mad, slope = b.get("median"), b.get("mad"), b.get("slope_min_per_gb")
        lines.append(f"  {str(p['key'])[:28]:<28}{p['runs']:>12,}{p['failed_runs']:>10,}{cost:>16}"
                     f"{'' if med is None else f'{med:.1f}':>10}{'' if mad is None else f'{mad:.2f}':>8}"
                     f"{'' if slope is None else f'{slope:.3f}':>9}")
    an = report["anomalies"]
    lines += ["", "ANOMALIES", f"  Rule: {an['rule']} ({an['method']}).", f"  {an['flagged_runs']:,} runs flagged."]
    for r in an["top"]:
        lines.append(f"  {str(r['run_id'])[:40]:<40} {str(r['job_name'])[:26]:<26} {r['duration_min']:>9.1f} min"
                     f"  z {r['z']:6.1f}")
    if report["notes"]:
        lines += ["", "NOTES"] + [f"  - {n}" for n in report["notes"]]
    return "\n".join(lines) + "\n"
