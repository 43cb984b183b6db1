"""The case study's three claims, each confirmed or refuted by the data."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from etl_desk.core.insights.base import (
    TOP_N,
    WIDE_SPREAD_CV,
    WIDE_SPREAD_RATIO,
    Insight,
    _Ctx,
    _ids,
    _share_severity,
    cents,
    num,
    pct,
    usd,
)
from etl_desk.core.insights.duration import SPREAD_UNITS, _r
from etl_desk.core.insights.volume import BAND_UNITS
from etl_desk.core.insights.stats import ALPHA


def _case_study(ctx: _Ctx, vol: dict | None, dur: dict) -> list[Insight]:
    k, out = ctx.kpis, []
    # 1. Failed jobs add to cost
    nf, fc = k["failed_runs"], k["failed_cost_usd"]
    if fc is None:  # unknown is not zero: the claim cannot be checked (wording: the insights owner's)
        out.append(Insight("case.failed_cost", "case study", "info", "Case study insight 1: failed jobs add to cost",
                           f"Cannot be checked: the cost of the runs is unknown ({nf:,} of {k['runs']:,} runs "
                           f"failed).", missing="cost is unknown for this source", run_ids=_ids(ctx, ctx.failed)))
        verdict = None
    else:
        verdict = "confirmed" if nf and fc > 0 else "refuted"
    if verdict is None:
        pass
    elif verdict == "confirmed":
        head = (f"Confirmed: {nf:,} of {k['runs']:,} runs failed and cost {usd(fc)}, {pct(k['failed_cost_share'])} "
                f"of the {usd(k['total_cost_usd'])} total — money spent for no output. A failed run cost "
                f"{usd(k['avg_cost_failed_usd'])} on average against {usd(k['avg_cost_success_usd'])} for a "
                f"successful one.")
    else:
        head = (f"Refuted: no failed run cost anything in this data ({nf:,} failed runs, failed cost {usd(fc)}).")
    if verdict is not None:
        out.append(Insight("case.failed_cost", "case study", _share_severity(k["failed_cost_share"]) if nf else "info",
                           "Case study insight 1: failed jobs add to cost", head,
                           evidence=pd.DataFrame({"Measure": ["Runs", "Failed runs", "Total cost (USD)",
                                                              "Failed cost (USD)", "Failed share of cost (%)"],
                                                  "Value": [k["runs"], nf, cents(k["total_cost_usd"]), cents(fc),
                                                            _r((k["failed_cost_share"] or 0) * 100)]}),
                           run_ids=_ids(ctx, ctx.failed), verdict=verdict,
                           units={"Runs": "count", "Failed runs": "count", "Total cost (USD)": "usd",
                                  "Failed cost (USD)": "usd", "Failed share of cost (%)": "percent"}))

    # 2. Failures occur at both small and large volumes
    title2 = "Case study insight 2: failures occur at small and large data volumes"
    if vol is None:
        out.append(Insight("case.volume_extremes", "case study", "info", title2,
                           "Cannot be checked: this source has no data-volume column.",
                           missing="this source has no data-volume column (Data Processed (GB))"))
    else:
        tab = vol["bands"]["table"]
        lo, hi = tab.iloc[0], tab.iloc[-1]
        both = lo["Failed"] > 0 and hi["Failed"] > 0
        p = vol["bands"]["p"]
        verdict = "confirmed" if both else "refuted"
        ptxt = f"p = {p:.3g}" if not math.isnan(p) and p >= 0.001 else "p < 0.001"  # as stats.py words it
        indep = ("" if math.isnan(p) else
                 (" Failure rates differ between volume bands more than chance would explain (chi-square "
                  f"{ptxt}), so volume matters." if p < ALPHA else
                  f" Failure rates do not differ between volume bands more than chance would explain (chi-square "
                  f"{ptxt}): failures are not tied to volume."))
        head = (f"{'Confirmed' if both else 'Refuted'}: {int(lo['Failed']):,} failures among the smallest fifth of runs "
                f"(≤ {lo['To (GB)']:,.0f} GB, {lo['Failure rate (%)']:.1f} %) and {int(hi['Failed']):,} among the "
                f"largest fifth (≥ {hi['From (GB)']:,.0f} GB, {hi['Failure rate (%)']:.1f} %).{indep}")
        known = ~np.isnan(ctx.gb)
        band = vol["bands"]["band"]
        kmax = int(band.max()) if band.size else 0
        idx = np.flatnonzero(known)[((band == 0) | (band == kmax)) & ctx.failed[known]]
        out.append(Insight("case.volume_extremes", "case study", "info", title2, head, evidence=tab,
                           run_ids=_ids(ctx, idx), verdict=verdict, units=BAND_UNITS))

    # 3. Durations vary widely
    t3 = "Case study insight 3: job durations vary widely"
    al = dur["overall"]
    gt = dur["group_table"]
    if al["Runs"] == 0:
        out.append(Insight("case.duration_spread", "case study", "info", t3, "No durations.",
                           missing="no durations"))
        return out
    ratio = al["p90"] / al["p10"] if al["p10"] else float("inf")
    if gt is not None and ctx.group_label == "pipeline" and len(gt):
        # within the same pipeline: the claim is about one job behaving differently run to run
        r_med = float(gt["p90/p10"].median())
        cv_med = float(gt["CV"].median())
        wide = r_med >= WIDE_SPREAD_RATIO or cv_med >= WIDE_SPREAD_CV
        head = (f"{'Confirmed' if wide else 'Refuted'} within pipelines: in the median pipeline the slowest tenth of "
                f"runs takes {r_med:.1f}× as long as the fastest tenth (CV {cv_med:.2f}); across all runs p10 "
                f"{num(al['p10'])} min, p50 {num(al['p50'])}, p90 {num(al['p90'])}, p95 {num(al['p95'])} min. "
                f"Rule: 'wide' means p90/p10 ≥ {WIDE_SPREAD_RATIO:g} or CV ≥ {WIDE_SPREAD_CV:g}.")
        ev = gt[["Pipeline", "Runs", "p10 (min)", "p50 (min)", "p90 (min)", "p90/p10", "CV"]] \
            .sort_values("p90/p10", ascending=False).head(TOP_N).reset_index(drop=True)
        missing = None
    else:
        wide = ratio >= WIDE_SPREAD_RATIO or (al["CV"] or 0) >= WIDE_SPREAD_CV
        head = (f"{'Confirmed' if wide else 'Refuted'}: durations run from p10 {num(al['p10'])} min to p90 "
                f"{num(al['p90'])} min — the slowest tenth of runs takes {ratio:.1f}× as long as the fastest tenth "
                f"(p50 {num(al['p50'])}, p95 {num(al['p95'])} min, CV {num(al['CV'], 2)}). "
                f"Rule: 'wide' means p90/p10 ≥ {WIDE_SPREAD_RATIO:g} or CV ≥ {WIDE_SPREAD_CV:g}. "
                f"Measured over all runs together because {ctx.group_note or 'there are no pipeline names'}.")
        ev = pd.DataFrame({"Measure": ["Runs", "p10 (min)", "p50 (min)", "p90 (min)", "p95 (min)", "p90/p10", "CV"],
                           "Value": [al["Runs"], _r(al["p10"], 1), _r(al["p50"], 1), _r(al["p90"], 1),
                                     _r(al["p95"], 1), _r(ratio), _r(al["CV"])]})
        missing = ctx.group_note
    sel = (ctx.dur >= al["p90"]) | (ctx.dur <= al["p10"])
    out.append(Insight("case.duration_spread", "case study", "notice" if wide else "info", t3, head, evidence=ev,
                       run_ids=_ids(ctx, sel), verdict="confirmed" if wide else "refuted", missing=missing,
                       units=SPREAD_UNITS))
    return out
