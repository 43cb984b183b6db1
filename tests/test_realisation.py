"""Realised against projected: two generated histories where the 'after' one has half the failure rate.

The injected improvement is the generator's ``failure_rate_scale`` going from 1 to 0.5. Its true
effect on failed spend per TB is what two very large histories with the same settings give (the
expectation of the ratio, up to a sampling error far below the samples'); the measured change
from two ordinary histories must contain it in its 95 % interval, and must be clearly below zero.
"""
from __future__ import annotations

import pandas as pd
import pytest

from etl_desk.core.business_case.baseline import compute_baseline
from etl_desk.core.business_case.model import evaluate
from etl_desk.core.business_case.realisation import realised_vs_projected, split_at
from etl_desk.core.data.realistic import RealisticSettings, generate_realistic
from etl_desk.core.errors import DataError

BEFORE = dict(start="2024-01-01", days=90)
AFTER = dict(start="2024-04-01", days=90, failure_rate_scale=0.5)


@pytest.fixture(scope="module")
def histories():
    before = generate_realistic(RealisticSettings(runs=60_000, seed=1, **BEFORE))
    after = generate_realistic(RealisticSettings(runs=60_000, seed=2, **AFTER))
    return before, after


@pytest.fixture(scope="module")
def truth():
    """The injected change, from histories ten times larger (independent seeds, same settings)."""
    before = generate_realistic(RealisticSettings(runs=600_000, seed=101, **BEFORE))
    after = generate_realistic(RealisticSettings(runs=600_000, seed=102, **AFTER))
    return realised_vs_projected(before, after)


@pytest.mark.slow
def test_measured_saving_matches_the_injected_one_within_its_interval(histories, truth):
    before, after = histories
    b = compute_baseline(before)
    case = evaluate(b)
    real = realised_vs_projected(before, after, case, before_anomaly_runs=b.anomaly_runs,
                                 after_anomaly_runs=compute_baseline(after).anomaly_runs)
    failed, true = real.change("failed_cost"), truth.change("failed_cost")
    lo, hi = failed.change_ci
    assert lo <= true.change <= hi  # the injected change is inside the 95 % interval
    assert hi < 0 and failed.significant  # and the improvement is detected
    # halving every failure probability roughly halves failed spend per TB
    assert 0.3 < true.measured_effect < 0.6 and failed.measured_effect_ci[0] < true.measured_effect
    # the saving a year follows from the change and the after period's TB a year
    tb_year = real.after.volume * 365 / real.after.span_days
    assert failed.saving_usd_per_year == pytest.approx(-failed.change * tb_year)
    assert failed.saving_ci[0] < failed.saving_usd_per_year < failed.saving_ci[1]
    # beside it, the projection: error monitoring's assumed 40 % on failed spend
    assert failed.solutions == ("error-monitoring",) and failed.projected_effect == pytest.approx(0.4)
    assert failed.projection_within_ci is True
    # retries fall with failures too; the cost of spot-eligible work per TB does not move (no remedy on it)
    assert real.change("retry_cost").significant and real.change("retry_cost").change < 0
    od = real.change("on_demand_cost")
    assert od.change_ci[0] <= truth.change("on_demand_cost").change <= od.change_ci[1]


def test_a_go_live_date_splits_one_history(histories):
    before, after = histories
    both = pd.concat([before, after], ignore_index=True)
    b, a = split_at(both, "2024-04-01")
    assert len(b) == len(before) and len(a) == len(after)
    real = realised_vs_projected(b, a, go_live="2024-04-01")
    assert real.go_live == "2024-04-01" and real.per == "TB"
    _, later = split_at(both, "2024-04-01", settle_days=30)
    assert later["start_time"].min() >= pd.Timestamp("2024-05-01")
    with pytest.raises(DataError, match="leaves no runs"):
        split_at(both, "2030-01-01")


def _days(costs_gb, start):
    """One run a day: (cost USD or None, GB or None) each."""
    import numpy as np

    from etl_desk.core.data.schema import to_canonical

    n = len(costs_gb)
    t = pd.date_range(start, periods=n, freq="D") + pd.Timedelta(hours=2)
    return to_canonical(pd.DataFrame({
        "run_id": [f"{start}-{i}" for i in range(n)], "job_name": ["etl"] * n, "start_time": t,
        "duration_min": [30.0] * n, "result_state": ["SUCCESS"] * n,
        "cost_usd": [np.nan if c is None else c for c, _ in costs_gb],
        "data_processed_gb": [np.nan if g is None else g for _, g in costs_gb]}), unknown_cost=True)


def test_runs_of_unknown_cost_or_volume_are_left_out_not_counted_as_zero():
    # before: $10 per TB on the known runs (each $5 for 500 GB), plus two unpriced runs of 500 GB and one
    # priced run of unknown volume; after: $8 per TB ($4 for 500 GB). Counting the unknowns as $0 / 0 TB
    # would make "before" $5.00 x 4 / 2.5 TB = ... anything but $10.
    before = _days([(5.0, 500.0)] * 4 + [(None, 500.0), (None, 500.0), (5.0, None)], "2024-01-01")
    after = _days([(4.0, 500.0)] * 4, "2024-02-01")
    r = realised_vs_projected(before, after)
    c = r.change("compute_cost")
    assert c.unit == "USD per TB"
    assert c.before_rate == pytest.approx(10.0) and c.after_rate == pytest.approx(8.0)
    assert c.change == pytest.approx(-2.0)
    assert "3 of 7 runs before the go-live left out: unknown cost or data volume" in r.notes


def test_a_period_with_no_known_cost_is_refused():
    before = _days([(None, 500.0)] * 3, "2024-01-01")
    after = _days([(4.0, 500.0)] * 3, "2024-02-01")
    with pytest.raises(DataError, match="no run before the go-live has a known cost"):
        realised_vs_projected(before, after)
