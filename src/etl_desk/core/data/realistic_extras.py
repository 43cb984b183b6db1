"""Optional stages of the realistic generator: who pays (tags), and ground truth to score against.

Each stage runs only when its setting is on, and draws its random numbers from its own
generators, ``PCG64(SeedSequence(seed, spawn_key=(16,)))`` and ``(17,)`` (:func:`extras_rng`), never
from the main one: a seed's data with these settings off is exactly what it was before
they existed (tests/test_realistic_extras.py pins it).

* **Team tags** (``team_tags``): every run of a pipeline carries its team and
  cost-centre tags (:data:`TEAMS`), its workspace and its billing SKU, as system tables
  would give them. Two legacy pipelines carry no tags, and :data:`UNTAGGED_RUN_SHARE`
  of the other runs lost theirs (manual runs): the untagged spend a chargeback must show.
* **Drift** (``drift_pipelines``, ``drift_pct_per_week``): pipelines whose cost per TB
  rises ``k`` % a week, compounding, from a start day: half by node-hours (a cluster
  that grew: same wall-clock time, more cost), half by duration (data skew: slower at
  the same volume; cost follows). Starts are drawn between day 28 and 21 days before the
  end; a drift stops growing at 3x (then it stays there).
* **Failure waves** (``failure_waves``): pipeline-weeks (Monday to Sunday) in which
  :data:`FAILURE_WAVE_SHARE` of the pipeline's successful runs fail part-way with a
  driver error and are not retried (a bad deployment).

The ground truth is in ``df.attrs["ground_truth"]`` (:class:`GroundTruth.to_dict`);
injected run spikes stay in the ``injected_anomaly`` column, and SAP month-end peaks
(seasonal, *not* anomalies) follow from the dates (:func:`etl_desk.core.insights.seasonal`).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import numpy as np

#: Per pipeline: (team, cost centre); None = a legacy job nobody tagged.
TEAMS: dict[str, tuple[str, str] | None] = {
    "sap-fi-gl-extract": ("finance", "CC-410"),
    "sap-co-cost-allocation": ("finance", "CC-410"),
    "sap-mm-material-master": None,
    "sap-mm-purchase-orders": ("supply-chain", "CC-520"),
    "sap-sd-sales-orders": ("sales", "CC-610"),
    "sap-sd-billing-docs": ("sales", "CC-610"),
    "sap-hr-payroll": ("hr", "CC-300"),
    "sap-pm-maintenance-orders": ("asset-ops", "CC-720"),
    "sap-isu-meter-reads": ("metering", "CC-810"),
    "gis-parcel-sync": ("gis-platform", "CC-900"),
    "gis-network-topology": ("grid-planning", "CC-930"),
    "gis-imagery-tiles": ("gis-platform", "CC-900"),
    "gis-asset-inventory": ("asset-ops", "CC-720"),
    "gis-vegetation-risk": ("grid-planning", "CC-930"),
    "gis-outage-map": ("operations", "CC-950"),
    "gis-work-order-geocode": None,
}
#: Share of the runs of tagged pipelines that carry no tags (manual runs).
UNTAGGED_RUN_SHARE = 0.05
WORKSPACES = {"SAP": "4182934117032610", "GIS": "7731204661958841"}
SKU_CLASSIC = "PREMIUM_JOBS_COMPUTE"
SKU_PHOTON = "PREMIUM_JOBS_COMPUTE_(PHOTON)"
SKU_SERVERLESS = "PREMIUM_JOBS_SERVERLESS_COMPUTE_US_EAST_N_VIRGINIA"
SKUS = {"gis-imagery-tiles": SKU_PHOTON, "gis-vegetation-risk": SKU_PHOTON,
        "gis-outage-map": SKU_SERVERLESS, "gis-work-order-geocode": SKU_SERVERLESS}
#: Share of a pipeline's successful runs that fail during an injected failure wave.
FAILURE_WAVE_SHARE = 0.35
#: A drift stops growing once it has multiplied cost per TB by this much.
DRIFT_CAP = 3.0


@dataclass(frozen=True)
class Drift:
    """Ground truth of one injected drift: *pipeline*, *metric* (``"cost_per_tb"``: more node-hours at
    the same run time; ``"duration_per_gb"``: slower runs, cost follows), *start* (ISO date of its first
    day) and *pct_per_week* (compounding growth, percent a week, capped at :data:`DRIFT_CAP` x).
    """
    pipeline: str
    metric: str            # "cost_per_tb" (node-hours) or "duration_per_gb" (slower runs)
    start: str             # ISO date: the first day of the drift
    pct_per_week: float    # compounding weekly growth, percent


@dataclass(frozen=True)
class FailureWave:
    """Ground truth of one injected failure wave: *pipeline* and the ISO date of the wave's Monday
    (*week_start*); :data:`FAILURE_WAVE_SHARE` of its successful runs that week fail.
    """
    pipeline: str
    week_start: str        # ISO date of the Monday


@dataclass(frozen=True)
class GroundTruth:
    """What the optional stages injected, for scoring detection: drifts, failure waves and notes
    (stored as ``df.attrs["ground_truth"]`` through :meth:`to_dict`).
    """
    drifts: tuple[Drift, ...] = ()
    failure_waves: tuple[FailureWave, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict:
        """JSON-ready ``{"drifts": [Drift fields], "failure_waves": [FailureWave fields], "notes": [str]}``.
        """
        return {"drifts": [asdict(d) for d in self.drifts],
                "failure_waves": [asdict(w) for w in self.failure_waves], "notes": list(self.notes)}


def extras_rng(seed: int, stream: int = 16) -> np.random.Generator:
    """A random generator of the optional stages: independent of the main one, same seed.

    Stream 16 plans drifts and failure waves; stream 17 drops tags, so switching tags on
    does not move the injected ground truth and the other way round.
    """
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(int(seed), spawn_key=(stream,))))


def plan_drifts(rng: np.random.Generator, names: list[str], rows_per_pipe: np.ndarray, days: int,
                start_day: np.datetime64, count: int, pct: float) -> tuple[Drift, ...]:
    """*count* drifting pipelines (among those with runs) with their start days."""
    have = np.flatnonzero(rows_per_pipe > 0)
    count = min(int(count), len(have))
    if count <= 0 or days < 49:
        return ()
    pick = np.sort(rng.choice(have, size=count, replace=False))
    starts = rng.integers(28, days - 21 + 1, size=count)
    return tuple(Drift(pipeline=names[p], metric="cost_per_tb" if i % 2 == 0 else "duration_per_gb",
                       start=str(start_day + int(d)), pct_per_week=float(pct))
                 for i, (p, d) in enumerate(zip(pick, starts)))


def drift_factors(drifts: tuple[Drift, ...], names: list[str], pipe: np.ndarray, start_s: np.ndarray,
                  start_day: np.datetime64) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Per-row multipliers ``(of duration, of node-hours)`` for the drifts (None when no row drifts)."""
    if not drifts:
        return None, None
    dur_f = np.ones(len(pipe))
    hours_f = np.ones(len(pipe))
    for d in drifts:
        p = names.index(d.pipeline)
        t0 = (np.datetime64(d.start, "D") - start_day).astype(np.int64) * 86_400
        rows = np.flatnonzero((pipe == p) & (start_s >= t0))
        weeks = (start_s[rows] - t0) / (7 * 86_400.0)
        f = np.minimum((1.0 + d.pct_per_week / 100.0) ** weeks, DRIFT_CAP)
        (dur_f if d.metric == "duration_per_gb" else hours_f)[rows] *= f
    return dur_f, hours_f


def plan_failure_waves(rng: np.random.Generator, names: list[str], pipe: np.ndarray, start_s: np.ndarray,
                       ok: np.ndarray, start_day: np.datetime64, days: int, count: int
                       ) -> tuple[np.ndarray, tuple[FailureWave, ...]]:
    """Rows to fail and the waves: *count* distinct pipeline-weeks with a full week before them."""
    if count <= 0:
        return np.zeros(0, dtype=np.int64), ()
    monday0 = np.datetime64("1970-01-05", "D")
    day = start_day + (start_s // 86_400)
    week = ((day - monday0).astype(np.int64)) // 7
    first_full = int(((start_day - monday0).astype(np.int64) + 6) // 7)  # first Monday on or after the start
    last_full = int(((start_day + days - monday0).astype(np.int64)) // 7) - 1  # last week ending inside
    weeks = np.arange(first_full + 1, last_full + 1)  # a full week before each
    have = np.unique(pipe)
    cells = [(int(p), int(w)) for p in have for w in weeks]
    if not cells:
        return np.zeros(0, dtype=np.int64), ()
    chosen = rng.choice(len(cells), size=min(int(count), len(cells)), replace=False)
    flip = []
    waves = []
    for c in sorted(chosen):
        p, w = cells[c]
        rows = np.flatnonzero((pipe == p) & (week == w) & ok)
        flip.append(rows[rng.random(len(rows)) < FAILURE_WAVE_SHARE])
        waves.append(FailureWave(pipeline=names[p], week_start=str(monday0 + 7 * w)))
    return np.concatenate(flip) if flip else np.zeros(0, dtype=np.int64), tuple(waves)


def tag_texts(names: list[str], sources: list[str]) -> tuple[list[str | None], list[str], list[str]]:
    """Per pipeline: canonical tag text (None when untagged), workspace ID and SKU."""
    tags = []
    for n in names:
        t = TEAMS.get(n)
        tags.append(None if t is None else json.dumps({"cost_center": t[1], "team": t[0]}, separators=(",", ":")))
    return tags, [WORKSPACES.get(s, WORKSPACES["GIS"]) for s in sources], [SKUS.get(n, SKU_CLASSIC) for n in names]


def untagged_runs(rng: np.random.Generator, n: int) -> np.ndarray:
    """Rows whose tags were lost (manual runs), :data:`UNTAGGED_RUN_SHARE` of them."""
    return rng.random(n) < UNTAGGED_RUN_SHARE
