"""What keeps the window's memory down at 1M runs (issue 15 item 8), checked for what a user would see.

* Opening a file and drawing it (the dashboard, its forecast, the background analysis) imports
  neither statsmodels nor scipy.stats: together they held ~60 MB of the window's memory.
* The forecast written with NumPy is statsmodels' AutoReg model: the same forecasts.
* The per-run view reads its bars from the data set instead of copying them: the values are the
  same, bar by bar, in every order.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from etl_desk.core.dashboard.view import Dataset, RunValues, ViewFilter, ViewSpec, build_view
from etl_desk.core.data.generate import generate
from etl_desk.core.data.schema import to_canonical
from etl_desk.core.insights import forecast
from etl_desk.core.insights.stats import chi_square_independence

_OPEN_AND_DRAW = r"""
import json, sys, time
from etl_desk.ui.window.app import ensure_app, make_settings
from etl_desk.core.data.memory import prefer_system_allocator
prefer_system_allocator()
app = ensure_app()
from etl_desk.ui.window.main_window import MainWindow
win = MainWindow(settings=make_settings(), restore=False)
win.show()
win.load_path(sys.argv[1])
win.ensure_pages()
fj = win.dashboard.time_chart.forecast_job
deadline = time.time() + 120
while (win.analysis_job.busy or win.analysis_job.result is None or fj.busy or fj.result is None) \
        and time.time() < deadline:
    app.processEvents()
    time.sleep(0.01)
r = win.analysis_job.result
print(json.dumps({"analysed": r is not None and r.analysis is not None,
                  "forecast": fj.result is not None and fj.result.forecast.total is not None,
                  "modules": sorted(m for m in ("statsmodels", "scipy.stats") if m in sys.modules)}))
win.close_without_saving()
"""


def test_opening_and_drawing_a_file_does_not_import_statsmodels_or_scipy_stats(tmp_path):
    path = tmp_path / "runs.parquet"
    generate("realistic", runs=30_000, seed=5).to_parquet(path)  # > the exact-test sizes: the 1M path
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "ETL_DESK_SETTINGS": str(tmp_path / "s.ini")}
    out = subprocess.run([sys.executable, "-c", _OPEN_AND_DRAW, str(path)], capture_output=True, text=True,
                         env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    # the analysis and the forecast the window shows were both computed ...
    assert got["analysed"] and got["forecast"]
    # ... without the two libraries
    assert got["modules"] == []


@pytest.mark.parametrize("days", [12, 40, 90, 200])
def test_forecast_model_is_statsmodels_autoreg(days):
    from statsmodels.tsa.ar_model import AutoReg

    rng = np.random.default_rng(days)
    idx = pd.date_range("2024-01-03", periods=days, freq="D")
    # a weekly pattern, a month-end bump, a drift and noise, in logs as forecast_costs fits them
    ly = (5.0 + 0.002 * np.arange(days) + 0.3 * (idx.day_of_week.to_numpy() == 0)
          + 0.2 * (idx.days_in_month - idx.day == 0) + rng.normal(0, 0.05, days))
    h = 30
    got, why = forecast._fit_predict(ly, idx, h)
    w = min(days, forecast.FIT_WINDOW_DAYS)
    # the same design (12 days: no month-end among them, so those dummies are left out)
    mask, trend, why_ref = forecast._design(ly[-w:], idx[-w:])
    assert why == why_ref and (why is None) == (days >= 40)
    future = pd.date_range(idx[-1] + pd.Timedelta(days=1), periods=h, freq="D")
    ex = None if mask is None else forecast._exog(idx[-w:])[:, mask]
    oos = None if mask is None else forecast._exog(future)[:, mask]
    ref = AutoReg(ly[-w:], lags=1, trend="ct" if trend else "c", exog=ex).fit()
    want = np.asarray(ref.predict(start=w, end=w + h - 1, exog_oos=oos))
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)


def test_chi_square_by_hand():
    # [[10, 30], [20, 40]]: expected [[12, 28], [18, 42]]; chi2 = 4/12 + 4/28 + 4/18 + 4/42 = 0.79365...
    res = chi_square_independence([[10, 30], [20, 40]])
    assert res["chi2"] == pytest.approx(4 / 12 + 4 / 28 + 4 / 18 + 4 / 42)
    assert res["dof"] == 1
    np.testing.assert_allclose(res["expected"], [[12, 28], [18, 42]])
    # one degree of freedom: P(chi2 > x) = erfc(sqrt(x / 2))
    import math

    assert res["p"] == pytest.approx(math.erfc(math.sqrt(res["chi2"] / 2)))


def _runs() -> pd.DataFrame:
    """Five runs out of run-ID order: costs $5, $1, $4, $2, $3 for r5, r1, r4, r2, r3; r4 failed."""
    return to_canonical(pd.DataFrame({
        "run_id": ["r5", "r1", "r4", "r2", "r3"],
        "start_time": pd.to_datetime(["2024-03-01 05:00", "2024-03-01 01:00", "2024-03-01 04:00",
                                      "2024-03-01 02:00", "2024-03-01 03:00"]),
        "duration_min": [50.0, 10.0, 40.0, 20.0, 30.0],
        "status": ["Success", "Success", "Failed", "Success", "Success"],
        "cost_usd": [5.0, 1.0, 4.0, 2.0, 3.0],
        "data_processed_gb": [np.nan, 1.0, 4.0, 2.0, 3.0],
    }))


def test_per_run_view_reads_its_bars_from_the_data_set_in_display_order():
    ds = Dataset(_runs())
    v = build_view(ds, ViewSpec())  # run-ID order: r1 r2 r3 r4 r5 -> rows 1, 3, 4, 2, 0
    assert isinstance(v.totals, RunValues)
    assert list(v.totals["cost_usd"]) == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert list(v.failed_parts["cost_usd"]) == [0.0, 0.0, 0.0, 4.0, 0.0]
    assert list(v.failed_runs) == [0, 0, 0, 1, 0]
    # what a chart draws: only bars 2..3
    total, failed = v.bar_parts("duration_min", 2, 4)
    assert list(total) == [30.0, 40.0] and list(failed) == [0.0, 40.0]
    # unknown stays unknown (r5 has no data volume), and the axis maximum skips it
    assert np.isnan(v.totals["data_processed_gb"][4])
    assert v.value_max("data_processed_gb") == 4.0
    # the data set is never written through the view
    assert list(ds.values["cost_usd"]) == [5.0, 1.0, 4.0, 2.0, 3.0]


def test_filtered_and_sorted_per_run_view_has_the_same_bars_as_a_copy():
    ds = Dataset(_runs())
    v = build_view(ds, ViewSpec(filter=ViewFilter(start=pd.Timestamp("2024-03-01 02:00")), sort_key="cost_usd",
                                descending=True))
    # r5 $5, r4 $4, r3 $3, r2 $2 (r1 starts before the filter)
    assert v.labels(0, v.n_bars) == ["r5", "r4", "r3", "r2"]
    assert list(v.totals["cost_usd"]) == [5.0, 4.0, 3.0, 2.0]
    assert list(v.bar_parts("cost_usd", 1, 2)[1]) == [4.0]
    assert v.value_max("cost_usd") == 5.0
    assert list(v.rows_of_bars([1])) == [False, False, True, False, False]


def _text_runs() -> pd.DataFrame:
    """Four runs whose text columns need cleaning: padded names, a blank state, a missing code."""
    return pd.DataFrame({
        "Job ID": ["r1", "r2", "r3", "r4"],
        "Job Name": [" sap-fi ", "gis-map", "sap-fi", None],
        "Start Time": pd.to_datetime(["2024-03-01 01:00", "2024-03-01 02:00", "2024-03-01 03:00",
                                      "2024-03-01 04:00"]),
        "Duration (min)": [10.0, 20.0, 30.0, 40.0],
        "Job Status": ["Success", "Failed", "Success", "Success"],
        "Result State": ["SUCCESS", "FAILED", "", "SUCCESS"],
        "Termination Code": [None, "DRIVER_ERROR", None, None],
        "Cost (USD)": [1.25, 2.50, 3.75, 5.00],
    })


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_text_columns_load_dictionary_encoded_with_the_same_values(tmp_path, suffix):
    from etl_desk.core.data.loaders import load_path
    from etl_desk.core.data.schema import DICTIONARY_TEXT

    path = tmp_path / f"runs{suffix}"
    raw = _text_runs()
    raw.to_parquet(path) if suffix == ".parquet" else raw.to_csv(path, index=False)
    df = load_path(path)
    for name in DICTIONARY_TEXT:
        assert isinstance(df[name].dtype, pd.CategoricalDtype), name  # one code per run, each value once
    # cleaned as text is: padding stripped, blank -> missing; missing never shown as a value
    assert df["job_name"].tolist()[:3] == ["sap-fi", "gis-map", "sap-fi"] and pd.isna(df["job_name"].iloc[3])
    assert list(df["job_name"].cat.categories) == ["gis-map", "sap-fi"]
    assert df["result_state"].tolist()[:2] == ["SUCCESS", "FAILED"] and pd.isna(df["result_state"].iloc[2])
    assert df["termination_code"].notna().tolist() == [False, True, False, False]
    assert df["workspace_id"].isna().all()
    # per pipeline, by hand: sap-fi $1.25 + $3.75 = $5.00 (2 runs), gis-map $2.50 (1 failed run)
    ds = Dataset(df)
    v = build_view(ds, ViewSpec(grouping="pipeline"))
    got = dict(zip(v.labels(0, v.n_bars), zip(v.runs.tolist(), v.totals["cost_usd"].tolist(),
                                              v.failed_runs.tolist())))
    assert got == {"(no pipeline name)": (1, 5.0, 0), "gis-map": (1, 2.5, 1), "sap-fi": (2, 5.0, 0)}
    assert ds.filter_mask(ViewFilter(text="SAP")).tolist() == [True, False, True, False]
