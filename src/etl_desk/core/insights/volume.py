"""Data-volume insights: failure rate by volume band (chi-square) and failed vs successful volumes (Mann-Whitney U)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from etl_desk.core.insights.base import Insight, _Ctx, _ids
from etl_desk.core.insights.stats import ALPHA, explain_p, failure_by_volume_band, mann_whitney_volumes


#: Units of the volume-band table (:func:`etl_desk.core.insights.stats.failure_by_volume_band`).
BAND_UNITS = {"From (GB)": "gb", "To (GB)": "gb", "Runs": "count", "Failed": "count", "Failure rate (%)": "percent"}


def _volume_insights(ctx: _Ctx) -> tuple[list[Insight], dict | None]:
    why = "this source has no data-volume column (Data Processed (GB))"
    if ctx.gb is None:
        return [Insight("volume.failure_by_band", "data volume", "info", "Failure rate by data volume",
                        "Failure rate by data volume cannot be computed.", missing=why),
                Insight("volume.failed_vs_success", "data volume", "info", "Volumes of failed and successful runs",
                        "Volumes of failed and successful runs cannot be compared.", missing=why)], None
    known = ~np.isnan(ctx.gb)
    v, f = ctx.gb[known], ctx.failed[known]
    res = failure_by_volume_band(v, f)
    tab = res["table"]
    p = res["p"]
    lo, hi = tab.iloc[0], tab.iloc[-1]
    worst = tab.iloc[int(tab["Failure rate (%)"].to_numpy().argmax())]
    if math.isnan(p):
        words = "A test is not possible: " + ("no failed runs." if not f.any() else "all runs failed."
                                              if f.all() else "too few distinct volumes.")
    else:
        words = explain_p(p, "failures", "data volume")
    head = (f"Failure rate is {lo['Failure rate (%)']:.1f} % in the smallest-volume fifth "
            f"(≤ {lo['To (GB)']:,.0f} GB) and {hi['Failure rate (%)']:.1f} % in the largest "
            f"(≥ {hi['From (GB)']:,.0f} GB); highest in {worst['Volume band']} at {worst['Failure rate (%)']:.1f} %. "
            f"Chi-square test of independence: χ² = {res['chi2']:.2f}, {res['dof']} degrees of freedom. {words}")
    sig = not math.isnan(p) and p < ALPHA
    ins = [Insight("volume.failure_by_band", "data volume", "warning" if sig else "info",
                   "Failure rate by data volume", head, evidence=tab, units=BAND_UNITS,
                   run_ids=_ids(ctx, np.flatnonzero(known)[(res["band"] == int(worst.name)) & f]),
                   missing=(f"{int((~known).sum()):,} runs without a data volume are left out"
                            if not known.all() else None))]
    mw = mann_whitney_volumes(v[f], v[~f])
    if math.isnan(mw["p"]):
        ins.append(Insight("volume.failed_vs_success", "data volume", "info",
                           "Volumes of failed and successful runs", "Needs both failed and successful runs.",
                           missing="needs both failed and successful runs with a data volume"))
    else:
        vf, vs = v[f], v[~f]
        qf, qs = np.percentile(vf, [25, 50, 75]), np.percentile(vs, [25, 50, 75])
        mf, ms = float(qf[1]), float(qs[1])
        head = (f"Failed runs processed a median {mf:,.1f} GB against {ms:,.1f} GB for successful runs; a random "
                f"failed run processed more data than a random successful one in {mw['effect'] * 100:.0f} % of "
                f"pairs (Mann–Whitney U = {mw['U']:,.0f}). {explain_p(mw['p'], 'failures', 'data volume')}")
        ev = pd.DataFrame({"Status": ["Success", "Failed"], "Runs": [vs.size, vf.size],
                           "p25 (GB)": [round(qs[0], 2), round(qf[0], 2)],
                           "Median (GB)": [round(ms, 2), round(mf, 2)],
                           "p75 (GB)": [round(qs[2], 2), round(qf[2], 2)],
                           "Mean (GB)": [round(float(vs.mean()), 2), round(float(vf.mean()), 2)]})
        ins.append(Insight("volume.failed_vs_success", "data volume", "warning" if mw["p"] < ALPHA else "info",
                           "Volumes of failed and successful runs", head, evidence=ev,
                           units={"Runs": "count", "p25 (GB)": "gb", "Median (GB)": "gb", "p75 (GB)": "gb",
                                  "Mean (GB)": "gb"},
                           run_ids=_ids(ctx, ctx.failed & ~np.isnan(ctx.gb))))
    return ins, {"bands": res, "mw": mw}
