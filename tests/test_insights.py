"""Insights: statistics on textbook examples, hand-checked numbers, case-study verdicts, missing data."""
from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest

from etl_desk.core.insights.analysis import analyze, to_json_dict
from etl_desk.core.insights.base import AREAS, SEVERITIES, Area
from etl_desk.core.insights.stats import (chi_square_independence, explain_p, failure_by_volume_band, mann_whitney_volumes)
from etl_desk.core.insights.compute import compute_insights
from etl_desk.core.data.schema import to_canonical


def by_id(insights):
    return {i.id: i for i in insights}


def frame(n, *, status=None, gb=None, dur=None, cost=None, job=None, start=None) -> pd.DataFrame:
    data = {
        "run_id": [f"r{i}" for i in range(n)],
        "start_time": start if start is not None else
        pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(n), unit="h"),
        "duration_min": dur if dur is not None else np.full(n, 10.0),
        "status": status if status is not None else ["Success"] * n,
        "cost_usd": cost if cost is not None else np.ones(n),
    }
    if gb is not None:
        data["data_processed_gb"] = gb
    if job is not None:
        data["job_name"] = job
    return to_canonical(pd.DataFrame(data))


# --------------------------------------------------------------------------- statistics, textbook cases

def test_chi_square_2x2_by_hand():
    # Pearson chi-square of [[a, b], [c, d]] = N (ad - bc)^2 / (row1 row2 col1 col2)
    # [[20, 30], [30, 20]]: 100 * (400 - 900)^2 / 50^4 = 4.0; with 1 degree of freedom
    # p = erfc(sqrt(chi2 / 2)) = erfc(sqrt 2) = 0.0455
    res = chi_square_independence([[20, 30], [30, 20]])
    assert res["chi2"] == pytest.approx(4.0)
    assert res["dof"] == 1
    assert res["p"] == pytest.approx(math.erfc(math.sqrt(2.0)))
    assert res["p"] == pytest.approx(0.0455, abs=1e-4)


def test_chi_square_of_failures_by_volume_band_through_own_function():
    # two volume bands: small runs 20 failed / 30 ok, large runs 30 failed / 20 ok (the table above)
    vol = np.r_[np.arange(1, 51), np.arange(101, 151)].astype(float)
    failed = np.r_[np.arange(50) < 20, np.arange(50) < 30]
    res = failure_by_volume_band(vol, failed, bands=2)
    assert list(res["table"]["Runs"]) == [50, 50]
    assert list(res["table"]["Failed"]) == [20, 30]
    assert list(res["table"]["Failure rate (%)"]) == [40.0, 60.0]
    assert res["chi2"] == pytest.approx(4.0)
    assert res["p"] == pytest.approx(math.erfc(math.sqrt(2.0)))


def test_chi_square_independent_table_is_not_significant():
    res = chi_square_independence([[10, 20], [30, 60]])  # rows proportional: chi2 = 0, p = 1
    assert res["chi2"] == pytest.approx(0.0, abs=1e-12) and res["p"] == pytest.approx(1.0)


def test_mann_whitney_textbook_exact():
    # completely separated samples of 3 and 3: U = 0; exact two-sided p = 2 / C(6, 3) = 0.1
    res = mann_whitney_volumes([1.0, 2.0, 3.0], [4.0, 5.0, 6.0])
    assert res["U"] == 0.0
    assert res["p"] == pytest.approx(2 / math.comb(6, 3))
    assert res["effect"] == 0.0


def _u_by_pairs(a, b):
    return sum((x > y) + 0.5 * (x == y) for x, y in itertools.product(a, b))


@pytest.mark.parametrize("n", [40, 30_000])
def test_mann_whitney_u_counts_pairs_including_large_fast_path(n):
    rng = np.random.default_rng(5)
    v = np.round(rng.lognormal(2, 1, n), 0)  # many ties
    f = rng.random(n) < 0.1
    f[:3] = True
    res = mann_whitney_volumes(v[f], v[~f])
    a, b = v[f], v[~f]
    if n <= 100:
        assert res["U"] == pytest.approx(_u_by_pairs(a, b))
    else:  # pair count vectorised: for each a, how many b are below plus half the ties
        sb = np.sort(b)
        u = (np.searchsorted(sb, a, "left") + 0.5 * (np.searchsorted(sb, a, "right") -
                                                     np.searchsorted(sb, a, "left"))).sum()
        assert res["U"] == pytest.approx(u)
        from scipy import stats

        assert res["p"] == pytest.approx(stats.mannwhitneyu(a, b, method="asymptotic").pvalue, rel=1e-9)


def test_p_value_in_words():
    high = explain_p(0.31, "failures", "data volume")
    assert "about 31 in 100" in high and "no evidence" in high
    low = explain_p(1e-9, "failures", "data volume")
    assert "less than 1 in a million" in low and "strong evidence" in low
    mid = explain_p(0.004, "failures", "data volume")
    assert "1 in 250" in mid and "strong evidence" in mid


# --------------------------------------------------------------------------- hand-checked insights

def test_failure_rate_by_band_and_volume_dependence_detected():
    # 100 runs, volumes 1..100; every run above 80 GB fails, none below
    n = 100
    gb = np.arange(1, n + 1, dtype=float)
    status = np.where(gb > 80, "Failed", "Success")
    ins = by_id(compute_insights(frame(n, gb=gb, status=status)))
    band = ins["volume.failure_by_band"]
    assert list(band.evidence["Failure rate (%)"]) == [0.0, 0.0, 0.0, 0.0, 100.0]
    assert band.severity == "warning" and "strong evidence" in band.headline
    assert ins["volume.failed_vs_success"].evidence["Median (GB)"].tolist() == [40.5, 90.5]
    # the study's claim "failures at small and large volumes" is refuted here: none in the smallest fifth
    assert ins["case.volume_extremes"].verdict == "refuted"


def test_cost_insights_hand_checked():
    # pipeline A: 4 runs at $1 (one failed); pipeline B: 2 runs at $5 (both failed); B retries
    job = ["A", "A", "A", "A", "B", "B"]
    status = ["Success", "Success", "Success", "Failed", "Failed", "Failed"]
    cost = [1.0, 1.0, 1.0, 1.0, 5.0, 5.0]
    df = frame(6, job=job, status=status, cost=cost, gb=[100.0] * 6, dur=[10, 10, 10, 10, 50, 50])
    df["attempt"] = [1, 1, 1, 1, 1, 2]
    ins = by_id(compute_insights(df))
    fs = ins["cost.failed_share"]
    assert "$11.00" in fs.headline and "78.57 %" in fs.headline  # 11 of 14
    assert sorted(fs.run_ids) == ["r3", "r4", "r5"]
    top = ins["cost.top_pipelines"].evidence
    assert top.iloc[0]["Pipeline"] == "B" and top.iloc[0]["Cost (USD)"] == 10.0
    assert top.iloc[1]["Failed cost (USD)"] == 1.0
    assert ins["cost.top_pipelines"].run_ids == ["r4", "r5"]  # B's failed runs
    assert "$5.00" in ins["cost.retry"].headline and ins["cost.retry"].run_ids == ["r5"]
    # $14 over 0.6 TB; failed runs $11 over 0.3 TB
    tb = ins["cost.per_tb"].evidence.set_index("Value")["Cost per TB (USD)"]
    assert tb["All runs"] == pytest.approx(14 / 0.6, abs=0.01)
    assert tb["Failed"] == pytest.approx(11 / 0.3, abs=0.01)
    # throughput of successful runs: A moves 300 GB in 30 min
    tp = ins["duration.throughput"].evidence.set_index("Pipeline")
    assert tp.loc["A", "GB per min (total)"] == pytest.approx(10.0)


def test_week_over_week_hand_checked():
    # two complete weeks (Mon 1 Jan - Sun 14 Jan 2024), one run a day; week 2 costs $15 vs $10
    days = pd.date_range("2024-01-01 06:00", periods=14, freq="D")
    cost = [10 / 7] * 7 + [15 / 7] * 7
    ins = by_id(compute_insights(frame(14, start=days, cost=cost)))
    wow = ins["cost.week_over_week"]
    assert "up 50.0 %" in wow.headline and "08 Jan 2024" in wow.headline
    assert wow.evidence["Complete"].all()


def test_incomplete_last_week_is_not_compared():
    days = pd.date_range("2024-01-01 06:00", periods=10, freq="D")  # week 2 stops on Wednesday
    wow = by_id(compute_insights(frame(10, start=days)))["cost.week_over_week"]
    assert wow.missing and "two complete weeks" in wow.missing


def test_duration_spread_verdicts():
    same = by_id(compute_insights(frame(50, dur=np.full(50, 30.0))))["case.duration_spread"]
    assert same.verdict == "refuted"
    wide = by_id(compute_insights(frame(50, dur=np.linspace(5, 120, 50))))["case.duration_spread"]
    assert wide.verdict == "confirmed"


def test_no_failures_refutes_failed_cost_claim():
    ins = by_id(compute_insights(frame(20, gb=np.arange(20.0) + 1)))
    assert ins["case.failed_cost"].verdict == "refuted"
    assert ins["cost.failed_vs_success"].missing


def test_no_volume_column_says_what_is_missing():
    df = frame(30, status=["Failed"] * 3 + ["Success"] * 27)
    ins = by_id(compute_insights(df))
    for iid in ("volume.failure_by_band", "volume.failed_vs_success", "cost.per_tb", "duration.throughput",
                "case.volume_extremes"):
        assert ins[iid].missing and "data-volume" in ins[iid].missing, iid
    assert ins["case.volume_extremes"].verdict is None


# --------------------------------------------------------------------------- the case study

def test_case_study_three_verdicts_with_published_numbers(case_study):
    ins = by_id(compute_insights(case_study))
    fc = ins["case.failed_cost"]
    assert fc.verdict == "confirmed"
    for s in ("52", "1,000", "$62.59", "4.76 %", "$1,315.10"):
        assert s in fc.headline
    failed = set(case_study.loc[case_study["status"] == "Failed", "run_id"])
    assert set(fc.run_ids) == failed and len(fc.run_ids) == 52
    ve = ins["case.volume_extremes"]
    assert ve.verdict == "confirmed"
    # the published data draws status independently of volume: the tests must not find a dependence
    assert "no evidence" in ins["volume.failure_by_band"].headline
    assert "no evidence" in ins["volume.failed_vs_success"].headline
    assert ins["case.duration_spread"].verdict == "confirmed"


def test_case_study_without_pipeline_names_says_so(case_study):
    ins = by_id(compute_insights(case_study))
    for iid in ("cost.top_pipelines", "duration.by_pipeline"):
        assert "no pipeline names" in ins[iid].missing
    assert "no pipeline names" in ins["case.duration_spread"].headline


def test_every_insight_is_well_formed(case_study):
    from etl_desk.core.data.generate import generate

    for df in (case_study, generate("realistic", runs=5000, seed=4, anomaly_rate=0.01)):
        a = analyze(df)
        for i in a.insights:
            assert i.area in AREAS and i.severity in SEVERITIES, i.id
            assert i.verdict in (None, "confirmed", "refuted")
            assert i.headline and i.title
            assert isinstance(i.evidence, pd.DataFrame) and len(i.evidence) <= 40
            assert all(isinstance(r, str) for r in i.run_ids)
        ids = [i.id for i in a.insights]
        assert len(ids) == len(set(ids))
        json.dumps(to_json_dict(a, evidence=True), allow_nan=False)


def test_realistic_data_has_per_pipeline_figures():
    from etl_desk.core.data.generate import generate

    ins = by_id(compute_insights(generate("realistic", runs=20_000, seed=4)))
    assert ins["duration.by_pipeline"].missing is None
    assert len(ins["duration.by_pipeline"].evidence) > 5
    assert "within pipelines" in ins["case.duration_spread"].headline
    # the realistic generator makes failures more likely for larger volumes
    assert "strong evidence" in ins["volume.failure_by_band"].headline


def test_areas_severities_and_verdicts_are_enums():
    """Strings are accepted (and compare equal), unknown ones refused by name."""
    from etl_desk.core.insights.base import Insight, Severity, Verdict

    i = Insight("x", "cost", "warning", "t", "h", verdict="confirmed")
    assert i.area is Area.COST and i.severity is Severity.WARNING and i.verdict is Verdict.CONFIRMED
    assert i.area == "cost" and json.dumps({"area": i.area}) == '{"area": "cost"}'
    with pytest.raises(ValueError, match="costs"):
        Insight("x", "costs", "info", "t", "h")


def test_volume_extremes_headline_reads_like_a_report():
    """Thousands separated and a vanishing p-value as "p < 0.001" (a 1M-run history read "3122 failures" and
    "chi-square p = 0")."""
    n = 10_000
    gb = np.arange(1, n + 1, dtype=float)
    i = np.arange(n)
    failed = ((i < 2000) | (i >= 8000)) & (i % 2 == 0)  # 1,000 failures in each extreme fifth, none between
    df = frame(n, gb=gb, status=np.where(failed, "Failed", "Success").tolist())
    head = by_id(compute_insights(df))["case.volume_extremes"].headline
    assert "1,000 failures among the smallest fifth" in head and "1,000 among the largest fifth" in head
    assert "chi-square p < 0.001" in head and "p = 0)" not in head
