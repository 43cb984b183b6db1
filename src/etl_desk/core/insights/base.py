"""What every insight shares: the Insight record, its vocabulary, number words and the per-call context."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import pandas as pd

from etl_desk.core import fmt as _fmt
from etl_desk.core.data.schema import has_values
from etl_desk.core.insights.kpis import compute_kpis, failed_mask

class Area(StrEnum):
    """Which part of the report an insight belongs to (the Insights page groups cards by it)."""

    CASE_STUDY = "case study"
    COST = "cost"
    VOLUME = "data volume"
    DURATION = "duration"


class Severity(StrEnum):
    """How much a finding matters, in increasing order: info, notice, warning, critical. For shares of
    cost (:func:`_share_severity`): critical from 15 %, warning from 5 %, notice from 1 % (ETL Desk's
    own cut-offs, not an industry standard).
    """
    INFO = "info"
    NOTICE = "notice"
    WARNING = "warning"
    CRITICAL = "critical"


class Verdict(StrEnum):
    """A case-study claim checked against the data."""

    CONFIRMED = "confirmed"
    REFUTED = "refuted"


AREAS = tuple(Area)
SEVERITIES = tuple(Severity)
VERDICTS = tuple(Verdict)

#: "Durations vary widely" when the slowest tenth of runs takes at least this
#: many times as long as the fastest tenth (p90 / p10) ...
WIDE_SPREAD_RATIO = 2.0
#: ... or the coefficient of variation is at least this.
WIDE_SPREAD_CV = 0.5
#: Rows in an evidence table listing pipelines or runs.
TOP_N = 10


@dataclass
class Insight:
    """One finding: a headline with numbers, its evidence table and the runs it concerns.

    ``units`` maps each numeric evidence column to its unit (a key of
    :data:`etl_desk.core.fmt.UNITS`: ``"usd"``, ``"count"``, ``"percent"`` for values
    already multiplied by 100, ``"fraction"`` for 0..1 shares, ``"min"``, ``"gb"`` ...).
    In a two-column ``Measure`` / ``Value`` table the unit of each Value cell is
    ``units[<that row's Measure>]``. The workbook and the window take number formats
    from here, never from header words; a column without a unit is shown as a plain
    number. Strings for *area*, *severity* and *verdict* are accepted and become the
    enums (a ValueError names an unknown one).
    """

    id: str
    area: Area
    severity: Severity
    title: str
    headline: str
    evidence: pd.DataFrame = field(default_factory=pd.DataFrame)
    run_ids: list[str] = field(default_factory=list)
    verdict: Verdict | None = None
    missing: str | None = None
    units: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.area = Area(self.area)
        self.severity = Severity(self.severity)
        self.verdict = Verdict(self.verdict) if self.verdict else None

    def unit_of(self, column: str, row_label: str | None = None) -> str | None:
        """The unit of *column* (for a Measure/Value table, of the Value in the row *row_label*)."""
        if column == "Value" and row_label is not None and row_label in self.units:
            return self.units[row_label]
        return self.units.get(column)

    @property
    def is_measure_table(self) -> bool:
        """A two-column Measure / Value table (each row's value has its measure's unit)."""
        ev = self.evidence
        return ev is not None and list(ev.columns) == ["Measure", "Value"]


def usd(x: float | None) -> str:
    """Dollars as a headline shows them (``$1,315.10``, spreadsheet rounding); ``"n/a"`` for None/NaN."""
    return _fmt.usd(x, missing="n/a")


def cents(x):
    """Money rounded to the cent as a spreadsheet shows it (scalars, arrays and Series)."""
    if x is None:
        return None
    if isinstance(x, pd.Series):
        return x.map(lambda v: v if pd.isna(v) else float(_fmt.money_round(v)))
    if isinstance(x, np.ndarray):
        return np.array([v if not np.isfinite(v) else float(_fmt.money_round(v)) for v in x.astype(float)])
    return x if not math.isfinite(float(x)) else float(_fmt.money_round(x))


def pct(x: float | None, digits: int = 2) -> str:
    """A fraction 0..1 as a percentage with *digits* decimals (0.0476 -> ``"4.76 %"``); ``"n/a"`` for None/NaN/inf.
    """
    return "n/a" if x is None or not math.isfinite(x) else _fmt.pct(x, digits)


def num(x: float | None, digits: int = 1) -> str:
    """A plain number with *digits* decimals and thousands separators; ``"n/a"`` for None/NaN/inf."""
    return "n/a" if x is None or not math.isfinite(x) else _fmt.number(x, digits)


@dataclass
class _Ctx:
    df: pd.DataFrame
    n: int
    failed: np.ndarray
    cost: np.ndarray
    dur: np.ndarray
    gb: np.ndarray | None
    rid: pd.Series  # run_id column (converted to Python strings only where needed)
    group_codes: np.ndarray | None  # pipeline codes (or source system); -1 = none
    group_names: np.ndarray | None
    group_label: str  # "pipeline" or "source system"
    group_note: str | None
    kpis: dict


def _codes(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(s.dtype, pd.CategoricalDtype):
        used = s.cat.remove_unused_categories()
        return used.cat.codes.to_numpy().astype(np.int64), np.asarray(used.cat.categories, dtype=object)
    codes, uniques = pd.factorize(s, sort=True)
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)


def pipeline_groups(df: pd.DataFrame) -> tuple[np.ndarray | None, np.ndarray | None, str, str | None]:
    """(codes, names, label, note): pipelines, else source systems, else None, with a note saying so."""
    if has_values(df, "job_name"):
        codes, names = _codes(df["job_name"])
        note = None
        if (codes < 0).any():
            note = f"{int((codes < 0).sum()):,} runs have no pipeline name and are left out of per-pipeline figures"
        return codes, names, "pipeline", note
    if has_values(df, "source_system"):
        codes, names = _codes(df["source_system"])
        return codes, names, "source system", ("this data has no pipeline names (Job Name is empty); "
                                                "figures per source system are shown instead")
    return None, None, "pipeline", ("this data has no pipeline names (Job Name is empty) and no source system; "
                                    "figures are for all runs together")


def _ctx(df: pd.DataFrame, kpis: dict | None = None) -> _Ctx:
    n = len(df)
    gb = None
    if has_values(df, "data_processed_gb"):
        gb = df["data_processed_gb"].to_numpy(dtype=float, na_value=np.nan)
    codes, names, label, note = pipeline_groups(df)
    return _Ctx(df=df, n=n, failed=failed_mask(df),
                cost=np.nan_to_num(df["cost_usd"].to_numpy(dtype=float, na_value=np.nan)),
                dur=df["duration_min"].to_numpy(dtype=float, na_value=np.nan), gb=gb,
                rid=df["run_id"],
                group_codes=codes, group_names=names, group_label=label, group_note=note,
                kpis=kpis if kpis is not None else compute_kpis(df))


def _rid(ctx: _Ctx, idx) -> np.ndarray:
    """Run IDs at positions (or boolean mask) *idx* as a str object array."""
    idx = np.asarray(idx)
    if idx.dtype == bool:
        idx = np.flatnonzero(idx)
    return np.asarray(ctx.rid.iloc[idx].astype(str).to_numpy(dtype=object), dtype=object)


_ID_CACHE_ATTR = "_etl_desk_failed_ids"


def _ids(ctx: _Ctx, mask_or_idx) -> list[str]:
    m = np.asarray(mask_or_idx)
    if m.dtype == bool and m.shape == ctx.failed.shape and np.array_equal(m, ctx.failed):
        # the failed runs are listed by several insights: convert them once
        cached = getattr(ctx, _ID_CACHE_ATTR, None)
        if cached is None:
            cached = _rid(ctx, m).tolist()
            setattr(ctx, _ID_CACHE_ATTR, cached)
        return cached
    return _rid(ctx, m).tolist()


def _group_sums(codes: np.ndarray, k: int, *weights: np.ndarray) -> list[np.ndarray]:
    """Count and weighted sums per group code 0..k-1 (code -1 = left out)."""
    ok = codes >= 0
    if ok.all():
        return [np.bincount(codes, minlength=k).astype(float)] + \
            [np.bincount(codes, weights=w, minlength=k) for w in weights]
    c = codes[ok]
    out = [np.bincount(c, minlength=k).astype(float)]
    for w in weights:
        out.append(np.bincount(c, weights=w[ok], minlength=k))
    return out


def _share_severity(share: float | None) -> str:
    if share is None:
        return "info"
    if share >= 0.15:
        return "critical"
    if share >= 0.05:
        return "warning"
    if share >= 0.01:
        return "notice"
    return "info"
