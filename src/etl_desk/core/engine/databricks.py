"""SQL for a Databricks SQL warehouse: the engine's queries over the system tables.

:func:`print_sql_script` returns a script that (1) defines a temporary view
``etl_desk_runs`` with the canonical columns from ``system.lakeflow.job_run_timeline``,
``system.lakeflow.jobs``, ``system.billing.usage`` and ``system.billing.list_prices``,
and (2) runs the engine's queries on it, each compiled from the same Ibis
expressions DuckDB and Spark run (``ibis.to_sql(expr, dialect="databricks")``).

Mapping, following the system tables' documentation and DESIGN.md's traps:

* one canonical run per ``job_run_timeline.run_id``: start = first period
  start, end = last period end (hourly slices are merged), result state and
  termination code from the last slice that has one;
* status: SUCCEEDED / SUCCESS / SUCCEEDED_WITH_FAILURES are Success; FAILED,
  TIMED_OUT, ERROR, ... are Failed; CANCELLED counts as failed spend (the default
  cancelled policy); SKIPPED / EXCLUDED / DISABLED runs never ran and are left out;
* cost: ``usage_quantity`` x the list price valid at ``usage_start_time``
  (``pricing.effective_list.default`` when present, else ``pricing.default``),
  summed per ``usage_metadata.job_run_id``, retraction rows (negative quantities)
  included; a run without usage rows has unknown (NULL) cost, not zero;
* no data-volume column exists in the system tables: ``data_processed_gb`` is NULL;
* a run's repairs are merged into it here, so its attempts are not counted: ``attempt`` is
  NULL and the retry KPIs read "unknown" (the file importer reads repairs as attempts).
"""
from __future__ import annotations

import ibis

from . import queries as Q
from .backends import IBIS_TYPES
from ._project import BY_NAME, COLUMN_NAMES

CANONICAL_VIEW = """CREATE OR REPLACE TEMPORARY VIEW etl_desk_runs AS
WITH slices AS (
  SELECT t.workspace_id, t.job_id, t.run_id, t.period_start_time, t.period_end_time,
         UPPER(t.result_state) AS result_state, t.termination_code
  FROM system.lakeflow.job_run_timeline AS t
  WHERE t.period_start_time >= DATEADD(DAY, -{days}, CURRENT_DATE())
),
runs AS (
  SELECT workspace_id, job_id, run_id,
         MIN(period_start_time) AS start_time,
         MAX(period_end_time) AS end_time,
         MAX_BY(result_state, IF(result_state IS NULL, NULL, period_end_time)) AS result_state,
         MAX_BY(termination_code, IF(result_state IS NULL, NULL, period_end_time)) AS termination_code
  FROM slices
  GROUP BY workspace_id, job_id, run_id
),
jobs AS (
  SELECT workspace_id, job_id, MAX_BY(name, change_time) AS job_name
  FROM system.lakeflow.jobs
  GROUP BY workspace_id, job_id
),
cost AS (
  SELECT u.workspace_id, u.usage_metadata.job_run_id AS run_id,
         SUM(u.usage_quantity * COALESCE(p.pricing.effective_list.default, p.pricing.default)) AS cost_usd,
         SUM(IF(u.usage_unit = 'DBU', u.usage_quantity, 0)) AS dbus
  FROM system.billing.usage AS u
  LEFT JOIN system.billing.list_prices AS p
    ON u.sku_name = p.sku_name AND u.cloud = p.cloud AND u.usage_unit = p.usage_unit
   AND u.usage_start_time >= p.price_start_time
   AND (p.price_end_time IS NULL OR u.usage_start_time < p.price_end_time)
  WHERE u.usage_metadata.job_run_id IS NOT NULL
    AND u.usage_date >= DATEADD(DAY, -{days}, CURRENT_DATE())
  GROUP BY u.workspace_id, u.usage_metadata.job_run_id
)
SELECT
  CAST(r.run_id AS STRING) AS run_id,
  j.job_name AS job_name,
  CAST(NULL AS STRING) AS source_system,
  r.start_time, r.end_time,
  (UNIX_MILLIS(r.end_time) - UNIX_MILLIS(r.start_time)) / 60000.0 AS duration_min,
  CAST(NULL AS DOUBLE) AS data_processed_gb,
  CASE WHEN r.result_state IN ('SUCCEEDED', 'SUCCESS', 'SUCCEEDED_WITH_FAILURES') THEN 'Success'
       ELSE 'Failed' END AS status,
  r.result_state, r.termination_code,
  CAST(NULL AS DOUBLE) AS compute_hours,
  c.cost_usd,
  CAST(NULL AS BIGINT) AS attempt,
  CAST(NULL AS BOOLEAN) AS spot,
  CAST(NULL AS BOOLEAN) AS injected_anomaly
FROM runs AS r
LEFT JOIN jobs AS j ON r.workspace_id = j.workspace_id AND r.job_id = j.job_id
LEFT JOIN cost AS c ON r.workspace_id = c.workspace_id AND CAST(r.run_id AS STRING) = CAST(c.run_id AS STRING)
WHERE r.result_state IS NOT NULL
  AND r.result_state NOT IN ('SKIPPED', 'EXCLUDED', 'DISABLED')"""


def runs_table(name: str = "etl_desk_runs"):
    """An unbound Ibis table with the canonical schema (for compiling SQL without a connection)."""
    return ibis.table({c: IBIS_TYPES[BY_NAME[c].kind] for c in COLUMN_NAMES}, name=name)


def engine_queries(t) -> dict:
    """The engine's dashboard and analysis queries over *t*, by name (Ibis expressions)."""
    out = {"kpis": Q.kpi_sums(t), "duration percentiles (exact)": Q.duration_quantiles_exact(t),
           "duration histogram (for approximate percentiles)": Q.duration_histogram(t)}
    for g in ("day", "week", "month", "pipeline"):
        out[f"per-{g} totals"] = Q.rollup(t, g)
    out["rollup cube (index)"] = Q.cube(t)
    out["per-pipeline fit sums (anomaly step 1)"] = Q.fit_sums(t)
    out["first table page in run_id order"] = Q.page(t, "run_id", None, 100)
    return out


def print_sql_script(days: int = 365, dialect: str = "databricks") -> str:
    """The whole SQL script (view + queries), statements separated by ``;`` and titled by comments.

    *days*: how far back the canonical view reads the system tables; *dialect*: any sqlglot
    dialect Ibis compiles to (``"databricks"``, ``"spark"``, ``"duckdb"`` ...).

    Raises:
        ValueError: when *days* < 1.
    """
    if int(days) < 1:
        raise ValueError("days must be at least 1")
    parts = ["-- ETL Desk: run history from the Databricks system tables (canonical view), then the "
             "engine's queries.\n-- Generated from the same Ibis expressions ETL Desk runs on DuckDB "
             "and Spark.", CANONICAL_VIEW.format(days=int(days)) + ";"]
    for title, expr in engine_queries(runs_table()).items():
        parts.append(f"-- {title}\n{ibis.to_sql(expr, dialect=dialect)};")
    return "\n\n".join(parts) + "\n"
