"""Statistics in words: chi-square and Mann-Whitney U tests, volume bands, p-values a manager can read."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

# SciPy is imported where a test needs it, not with the window's pages (scipy.special ~15 MB resident);
# scipy.stats only where a small sample needs its exact test (mann_whitney_volumes): with the modules
# it pulls in, it added ~35 MB to the window's memory (issue 15 item 8)

#: Significance level used to turn a p-value into a yes/no sentence.
ALPHA = 0.05
#: Number of volume bands (quintiles).
VOLUME_BANDS = 5


def chance_in_words(p: float) -> str:
    """'about 43 in 100', 'about 1 in 250', 'less than 1 in 1,000,000'."""
    if not math.isfinite(p):
        return "an unknown number of times"
    if p >= 0.095:
        return f"about {round(p * 100):.0f} in 100 times"
    if p >= 0.001:
        return f"about 1 in {1 / p:,.0f} times"
    if p >= 1e-6:
        return "less than 1 in 1,000 times"
    return "less than 1 in a million times"


def explain_p(p: float, effect: str, cause: str) -> str:
    """A p-value in words a manager understands.

    >>> explain_p(0.43, "failures", "data volume")  # doctest: +ELLIPSIS
    'If data volume made no difference to failures, ... no evidence that ...'
    """
    ptxt = f"p = {p:.3g}" if p >= 0.001 else "p < 0.001"
    base = (f"If {cause} made no difference to {effect}, a pattern at least this strong would "
            f"turn up by chance {chance_in_words(p)} ({ptxt})")
    if p < ALPHA:
        return base + f": strong evidence that {effect} depend on {cause}."
    return base + f": no evidence that {effect} depend on {cause}."


def chi_square_independence(table) -> dict:
    """Pearson chi-square test of independence of a contingency table (no continuity correction).

    Rows/columns that are all zero are dropped first (they carry no information and
    would make the expected counts zero). Returns ``{chi2, p, dof, expected}`` with
    ``p = nan`` when fewer than two rows or columns remain.
    """
    t = np.asarray(table, dtype=float)
    t = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0] if t.size else t
    if t.ndim != 2 or t.shape[0] < 2 or t.shape[1] < 2:
        return {"chi2": float("nan"), "p": float("nan"), "dof": 0, "expected": None}
    # Pearson's statistic against the counts expected under independence, as
    # scipy.stats.chi2_contingency(t, correction=False) computes it; p from the chi-square
    # survival function (scipy.special.chdtrc, what scipy.stats.chi2.sf evaluates)
    from scipy.special import chdtrc

    expected = np.outer(t.sum(axis=1), t.sum(axis=0)) / t.sum()
    chi2 = float(((t - expected) ** 2 / expected).sum())
    dof = (t.shape[0] - 1) * (t.shape[1] - 1)
    return {"chi2": chi2, "p": float(chdtrc(dof, chi2)), "dof": int(dof), "expected": expected}


def volume_bands(volume: np.ndarray, bands: int = VOLUME_BANDS) -> tuple[np.ndarray, np.ndarray]:
    """Assign each volume to a quantile band 0..k-1; returns (band, edges incl. min and max).

    Ties at an edge go to the upper band; duplicate edges (heavily tied data) collapse.
    """
    v = np.asarray(volume, dtype=float)
    inner = np.unique(np.quantile(v, np.linspace(0, 1, bands + 1)[1:-1])) if v.size else np.array([])
    band = np.searchsorted(inner, v, side="right")
    edges = np.concatenate([[v.min()], inner, [v.max()]]) if v.size else np.array([])
    return band, edges


def failure_by_volume_band(volume, failed, bands: int = VOLUME_BANDS) -> dict:
    """Failure counts and rate per volume band and the chi-square test of independence.

    Returns ``{table: DataFrame, chi2, p, dof}``; *table* has one row per band.
    """
    v = np.asarray(volume, dtype=float)
    f = np.asarray(failed, dtype=bool)
    band, edges = volume_bands(v, bands)
    k = len(edges) - 1
    runs = np.bincount(band, minlength=k)
    fails = np.bincount(band, weights=f, minlength=k).astype(int)
    test = chi_square_independence(np.vstack([fails, runs - fails]))
    labels = [f"Q{i + 1}" if k == bands else f"B{i + 1}" for i in range(k)]
    table = pd.DataFrame({
        "Volume band": labels,
        "From (GB)": np.round(edges[:-1], 2),
        "To (GB)": np.round(edges[1:], 2),
        "Runs": runs,
        "Failed": fails,
        "Failure rate (%)": np.round(np.divide(fails, runs, out=np.zeros(k), where=runs > 0) * 100, 2),
    })
    return {"table": table, "chi2": test["chi2"], "p": test["p"], "dof": test["dof"], "band": band}


#: Above this many runs the Mann-Whitney test uses one NumPy sort and the normal
#: approximation (the same formula scipy's ``method="asymptotic"`` uses, with tie
#: and continuity corrections) instead of :func:`scipy.stats.mannwhitneyu`, which
#: takes about 0.3 s for a million runs.
MWU_FAST_ABOVE = 20_000


def _mwu_asymptotic(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """U of *a* and the two-sided p-value by the normal approximation (ties averaged)."""
    n1, n2 = a.size, b.size
    n = n1 + n2
    s = np.sort(np.concatenate([a, b]))
    # average 1-based rank of each value of a: (number below) + (ties + 1) / 2
    lo = np.searchsorted(s, a, side="left")
    hi = np.searchsorted(s, a, side="right")
    r1 = float(((lo + hi + 1) / 2.0).sum())
    starts = np.r_[0, np.flatnonzero(s[1:] != s[:-1]) + 1]
    counts = np.diff(np.r_[starts, n])
    u1 = r1 - n1 * (n1 + 1) / 2.0
    u = max(u1, n1 * n2 - u1)
    tie = float((counts.astype(float) ** 3 - counts).sum())
    sd = math.sqrt(n1 * n2 / 12.0 * ((n + 1) - tie / (n * (n - 1))))
    if sd == 0:
        return u1, 1.0
    z = (u - n1 * n2 / 2.0 - 0.5) / sd
    from scipy.special import ndtr

    return u1, float(min(2.0 * ndtr(-z), 1.0))  # ndtr(-z): the normal survival function, scipy.stats.norm.sf


def mann_whitney_volumes(failed_volumes, ok_volumes) -> dict:
    """Two-sided Mann-Whitney U test: do failed runs process different volumes than successful ones?

    ``U`` is the statistic of the failed sample (number of (failed, successful) pairs
    where the failed run had more data, ties counting one half). Small samples use
    :func:`scipy.stats.mannwhitneyu` (exact p-values where scipy chooses them).
    """
    a = np.asarray(failed_volumes, dtype=float)
    b = np.asarray(ok_volumes, dtype=float)
    if a.size == 0 or b.size == 0:
        return {"U": float("nan"), "p": float("nan"), "effect": float("nan")}
    if a.size + b.size > MWU_FAST_ABOVE:
        u, p = _mwu_asymptotic(a, b)
        return {"U": u, "p": p, "effect": u / (a.size * b.size)}
    from scipy import stats  # only for small samples (see the note at the imports)

    res = stats.mannwhitneyu(a, b, alternative="two-sided")
    u = float(res.statistic)
    # probability that a random failed run processed more data than a random successful one
    return {"U": u, "p": float(res.pvalue), "effect": u / (a.size * b.size)}
