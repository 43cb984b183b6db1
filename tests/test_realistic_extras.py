"""Generator extras: tags and injected ground truth on their own random streams; old seeds keep their data."""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from etl_desk.core.data.realistic import REALISTIC_SCENARIOS, RealisticSettings, generate_realistic
from etl_desk.core.data.realistic_extras import DRIFT_CAP, FAILURE_WAVE_SHARE

OLD = ["run_id", "job_name", "source_system", "start_time", "end_time", "duration_min", "data_processed_gb",
       "status", "result_state", "termination_code", "compute_hours", "cost_usd", "attempt", "spot",
       "injected_anomaly"]

# hash sums of the columns above, recorded before the extras existed (commit 8e56288), for the
# settings below: the extras must not move a single draw of the main generator
PINNED = {
    (3000, 1, 0.0, 1.0): 3757786635806568386,
    (3000, 7, 0.01, 1.0): 11042214250069082080,
    (3000, 11, 0.05, 2.0): 13829063773071555707,
    (3000, 99, 0.0, 0.0): 14209916215381449163,
}


def _sum(df: pd.DataFrame) -> int:
    return int(pd.util.hash_pandas_object(df[OLD], index=True).sum())


@pytest.mark.parametrize("key", list(PINNED))
def test_existing_settings_keep_their_data(key):
    runs, seed, rate, peak = key
    s = RealisticSettings(runs=runs, seed=seed, anomaly_rate=rate, month_end_peak_scale=peak)
    assert _sum(generate_realistic(s)) == PINNED[key]
    assert generate_realistic(dataclasses.replace(s, team_tags=True))[OLD].equals(generate_realistic(s)[OLD])


def test_scenarios_keep_their_data():
    small = [v for v in REALISTIC_SCENARIOS.values() if v.runs < 100_000]
    assert [_sum(generate_realistic(s)) for s in small] == [14431292156367155358, 1501507421104722879,
                                                             2577502911869279325]


def test_drift_multiplies_cost_per_tb_from_its_start_and_nothing_before():
    s = RealisticSettings(runs=40_000, days=180, seed=12)
    base = generate_realistic(s)
    drift = generate_realistic(dataclasses.replace(s, drift_pipelines=2, drift_pct_per_week=4.0))
    truth = drift.attrs["ground_truth"]["drifts"]
    assert [d["metric"] for d in truth] == ["cost_per_tb", "duration_per_gb"]
    assert drift.attrs["ground_truth"] == generate_realistic(dataclasses.replace(s, drift_pipelines=2,
                                                                                  drift_pct_per_week=4.0)).attrs["ground_truth"]
    afters = [(drift["job_name"] == d["pipeline"]).to_numpy() & (drift["start_time"] >= pd.Timestamp(d["start"])).to_numpy()
              for d in truth]
    untouched = ~np.any(afters, axis=0)
    assert (drift["cost_usd"].to_numpy()[untouched] == base["cost_usd"].to_numpy()[untouched]).all()
    for d, after in zip(truth, afters):
        p = (drift["job_name"] == d["pipeline"]).to_numpy()
        ratio = drift["cost_usd"].to_numpy()[after] / base["cost_usd"].to_numpy()[after]
        weeks = ((drift["start_time"][after] - pd.Timestamp(d["start"])).dt.total_seconds() / (7 * 86400)).to_numpy()
        np.testing.assert_allclose(ratio, np.minimum(1.04 ** weeks, DRIFT_CAP), rtol=0.01, atol=0.02)
        assert (drift["data_processed_gb"].to_numpy()[p] == base["data_processed_gb"].to_numpy()[p]).all()
        dur_ratio = drift["duration_min"].to_numpy()[after] / base["duration_min"].to_numpy()[after]
        if d["metric"] == "cost_per_tb":  # more node-hours, the same wall-clock time
            assert np.allclose(dur_ratio, 1.0)
        else:  # slower at the same volume
            assert dur_ratio[weeks > 4].min() > 1.1


def test_failure_waves_fail_a_third_of_that_weeks_runs():
    s = RealisticSettings(runs=40_000, days=120, seed=13)
    base = generate_realistic(s)
    waved = generate_realistic(dataclasses.replace(s, failure_waves=3))
    waves = waved.attrs["ground_truth"]["failure_waves"]
    assert len(waves) == 3 and all(pd.Timestamp(w["week_start"]).day_of_week == 0 for w in waves)
    changed = (waved["status"] != base["status"]).to_numpy()
    flipped = eligible = 0
    for w in waves:
        wk = ((waved["job_name"] == w["pipeline"]) & (waved["start_time"] >= w["week_start"])
              & (waved["start_time"] < pd.Timestamp(w["week_start"]) + pd.Timedelta(days=7))).to_numpy()
        ok_before = wk & (base["status"] == "Success").to_numpy()
        flipped, eligible = flipped + changed[ok_before].sum(), eligible + ok_before.sum()
        assert (waved.loc[changed & wk, "termination_code"] == "DRIVER_ERROR").all()
    assert eligible > 50 and flipped / eligible == pytest.approx(FAILURE_WAVE_SHARE, abs=0.1)
    assert not changed[~np.any([((waved["job_name"] == w["pipeline"]).to_numpy()) for w in waves], axis=0)].any()


def test_bad_extra_settings_are_named():
    msgs = RealisticSettings(team_tags="yes", drift_pipelines=17, drift_pct_per_week=0.0).validate()
    assert any("Team tags" in m for m in msgs) and any("Drifting pipelines" in m for m in msgs)
    assert any("Drift per week" in m for m in msgs)
