"""The same query definitions on Spark local: equal to DuckDB and pandas on 1M generated runs and the shared cases.

Skipped (with the reason) when pyspark or a Java runtime is missing; CI installs
both (``scripts/bootstrap.sh --test``). ``ETL_DESK_SPARK_TEST_RUNS`` changes the
size (default 1,000,000).
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.engine_helpers import SMALL, assert_kpis_equal, assert_rollups_equal, realistic, write_dataset

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'etl-desk[spark]')")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("no Java runtime for Spark (apt-get install openjdk-17-jre-headless)", allow_module_level=True)

from etl_desk.core.engine import Engine, EngineSettings, Rule  # noqa: E402
from etl_desk.core.engine import pandas_path as P  # noqa: E402
from etl_desk.core.engine import sketch  # noqa: E402

pytestmark = pytest.mark.slow
RUNS = int(os.environ.get("ETL_DESK_SPARK_TEST_RUNS", "1000000"))
#: the shared cases as copied into the suite (tests/fixtures/real_exports/shared-*), so a clean clone runs them
CASES = Path(__file__).resolve().parent / "fixtures" / "real_exports"


@pytest.fixture(scope="module")
def runs():
    return realistic(RUNS, seed=21, days=120, anomaly_rate=0.01)


@pytest.fixture(scope="module")
def engines(runs, tmp_path_factory):
    folder = write_dataset(runs, tmp_path_factory.mktemp("spark") / "runs")
    settings = EngineSettings(spark_driver_memory="2g", **SMALL)
    spark = Engine.open(folder, backend="spark", settings=settings)
    duck = Engine.open(folder, backend="duckdb", settings=EngineSettings(**SMALL))
    yield spark, duck
    duck.close()


def test_kpis_equal(runs, engines):
    spark, duck = engines
    for rule in (None, Rule(statuses={"Failed"}, sources={"SAP"})):
        ref = P.kpis(runs, rule)
        ks, kd = spark.kpis(rule), duck.kpis(rule)
        assert_kpis_equal(ref, ks)
        assert_kpis_equal(ref, kd)
        for key in ("total_cost_usd", "failed_cost_usd", "retry_cost_usd"):
            assert ks[key] == kd[key]  # exact decimal sums: identical, not merely close


def test_rollups_equal(runs, engines):
    spark, duck = engines
    for grain in ("day", "week", "month", "pipeline", "status"):
        ref = P.rollup(runs, grain)
        assert_rollups_equal(ref, spark.rollup(grain))
        assert_rollups_equal(ref, duck.rollup(grain))


@pytest.mark.parametrize("mode", ["exact", "approx"])
def test_anomaly_flags_equal(runs, engines, mode):
    spark, duck = engines
    flagged = {}
    for name, e in (("spark", spark), ("duckdb", duck)):
        e.settings.quantiles = mode
        try:
            s = e.anomaly_scores(top=1_000_000)
        finally:
            e.settings.quantiles = "auto"
        flagged[name] = set(s.top["run_id"])
        assert s.flagged_runs == len(flagged[name])
    _, _, mask = P.anomaly_scores(runs, exact=mode == "exact")
    ref = set(runs["run_id"].to_numpy()[mask])
    assert flagged["spark"] == flagged["duckdb"] == ref


def test_approximate_quantiles_identical_and_within_stated_error(runs, engines):
    spark, duck = engines
    for e in (spark, duck):
        e.settings.quantiles = "approx"
    try:
        ks, kd = spark.kpis(), duck.kpis()
    finally:
        spark.settings.quantiles = duck.settings.quantiles = "auto"
    d = np.sort(runs["duration_min"].to_numpy())
    for q, key in ((0.5, "duration_p50_min"), (0.9, "duration_p90_min"), (0.95, "duration_p95_min")):
        assert ks[key] == kd[key]  # the same bucket counts on both engines
        x_k = d[int(np.floor((len(d) - 1) * q))]
        assert abs(ks[key] - x_k) <= sketch.ALPHA * x_k * (1 + 1e-12)


def test_envelope_and_pages_equal(engines):
    spark, duck = engines
    a = spark.envelope(0, RUNS, 50, "cost_usd")
    b = duck.envelope(0, RUNS, 50, "cost_usd")
    np.testing.assert_array_equal(a.runs, b.runs)
    np.testing.assert_array_equal(a.max, b.max)
    pa_ = spark.page("duration_min", n=20, descending=True)
    pb = duck.page("duration_min", n=20, descending=True)
    assert pa_.rows["run_id"].tolist() == pb.rows["run_id"].tolist()
    assert spark.page("duration_min", after=pa_.next_key, n=5, descending=True).rows["run_id"].tolist() == \
        duck.page("duration_min", after=pb.next_key, n=5, descending=True).rows["run_id"].tolist()


def _case_inputs():
    if not CASES.is_dir():
        return []
    out = []
    for case in sorted(p for p in CASES.glob("shared-*") if (p / "expected.json").exists()):
        spec = json.loads((case / "expected.json").read_text())
        for run in spec.get("runs", [])[:1]:
            out.append(pytest.param(case, run["args"], id=case.name))
    return out


@pytest.mark.parametrize("case,args", _case_inputs())
def test_shared_cases_equal(case, args, engines):
    """The real-world exports, loaded by the importers, give the same KPIs on pandas, DuckDB and Spark."""
    from etl_desk.cli import build_parser
    from etl_desk.commands.analyze import load_input
    from etl_desk.core.errors import DataError

    cwd = os.getcwd()
    os.chdir(case)
    try:
        parsed = build_parser().parse_args(["analyze", *args])
        df = load_input(parsed)
    except (DataError, SystemExit) as exc:
        pytest.skip(f"{case.name}: the importers refuse it ({exc})")
    finally:
        os.chdir(cwd)
    ref = P.kpis(df)
    spark, _ = engines
    for backend in ("duckdb", "spark"):
        e = Engine.open(df, backend=backend, settings=EngineSettings(**SMALL)) if backend == "duckdb" else \
            Engine(spark.con, "spark", _spark_table(spark, df), None, spark.settings)
        k = e.kpis()
        assert_kpis_equal(ref, k)


def _spark_table(spark, df):
    from etl_desk.core.engine.backends import Source, canonical, register

    return canonical(register(spark.con, "spark", Source("dataframe", df=df), name="etl_desk_case"))
