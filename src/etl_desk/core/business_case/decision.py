"""The decision page: options ranked, what would have to be true, top risks and provenance.

:func:`decide` reads a :class:`~etl_desk.core.business_case.model.BusinessCase` with its
sensitivity and switching values and says, in plain words, which options pay back, which
portfolio maximises NPV, and -- when nothing pays back -- at what spend each option
would. Every number in the text is also a field, so the window, the JSON report and the
workbook show the same figures.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from etl_desk.core import fmt
from etl_desk.core.fields import CHOICE_LABELS
from etl_desk.core.business_case.baseline import ASSUMED
from etl_desk.core.business_case.catalogue import targets
from etl_desk.core.business_case.model import BusinessCase, Result
from etl_desk.core.business_case.scenarios import SensitivityRow, SwitchingValue, tornado

QUESTION = ("Which of the five remedies should we fund, and what do they save against the cost of doing "
            "nothing?")

#: Below this many days of data, the annualisation is called out as a risk.
SHORT_HISTORY_DAYS = 180
#: A small sample: prompt for the data coverage.
SMALL_SAMPLE_RUNS = 10_000
SMALL_SAMPLE_DAYS = 90

COST_BASIS_TEXT = {
    "file": "costs as given in the source file",
    "list_prices": "DBUs x Databricks list prices (system.billing.list_prices)",
    "usd_per_dbu": "DBUs x the entered price per DBU",
    "usd_per_hour": "run hours x the entered price per hour (an assumption)",
    "none": "no cost in the source",
    "mixed": "mixed: several sources with different cost bases",
}


@dataclass(frozen=True)
class OptionSummary:
    """One option's figures on the decision page (USD; months; fractions)."""

    id: str
    name: str
    number: int
    rank: int
    member: bool
    npv_usd: float
    profitability_index: float | None
    roi: float | None
    payback_months: float | None
    payback_status: str
    discounted_payback_months: float | None
    discounted_payback_status: str
    irr_annual: float | None
    investment_usd: float
    maintenance_usd_per_year: float
    savings_usd_per_year: float
    target: str | None
    target_usd_per_year: float | None
    effect: float | None
    effect_needed: float | None
    target_needed_usd_per_year: float | None
    sizing_warning: str | None = None


@dataclass(frozen=True)
class DecisionSummary:
    """Everything the decision page shows, first page of the workbook and of the window's Business case."""

    question: str
    statement: str
    options: list[OptionSummary]
    portfolio: OptionSummary
    portfolio_rule: str
    npv_max_members: tuple[str, ...]
    all_enabled_npv_usd: float
    risks: list[str]
    provenance: str
    warnings: list[str] = field(default_factory=list)


def _summary(r: Result, rank: int, sw: SwitchingValue | None, warning: str | None) -> OptionSummary:
    return OptionSummary(
        id=r.id, name=r.name, number=r.number, rank=rank, member=r.member, npv_usd=r.npv_usd,
        profitability_index=r.profitability_index, roi=r.roi, payback_months=r.payback_months,
        payback_status=r.payback_status, discounted_payback_months=r.discounted_payback_months,
        discounted_payback_status=r.discounted_payback_status, irr_annual=r.irr_annual,
        investment_usd=r.investment_usd, maintenance_usd_per_year=r.maintenance_year,
        savings_usd_per_year=r.savings_year, target=r.target, target_usd_per_year=r.target_usd_per_year,
        effect=r.effect, effect_needed=sw.effect_needed if sw else None,
        target_needed_usd_per_year=sw.target_needed_usd_per_year if sw else None, sizing_warning=warning)


def sizing_warnings(case: BusinessCase) -> dict[str, str]:
    """Options whose upkeep alone exceeds the spend they act on (they cannot pay back at this scale)."""
    out = {}
    for r in case.solutions:
        if r.target_usd_per_year is None and r.target in targets():  # e.g. retries in a source without attempts
            out[r.id] = (f"the {targets()[r.target].label.lower()} it acts on is unknown in this data: its "
                         f"savings cannot be sized (counted as none)")
            continue
        t = r.target_usd_per_year or 0.0
        if r.maintenance_year > t:
            out[r.id] = (f"upkeep {fmt.usd(r.maintenance_year, 0)} a year is more than the whole "
                         f"{targets()[r.target].label.lower()} it acts on ({fmt.usd(t, 0)} a year)")
    return out


def provenance(case: BusinessCase, source: str = "") -> str:
    """Source, period, coverage and cost basis in one line."""
    b = case.baseline
    g = case.assumptions["global"]
    basis = COST_BASIS_TEXT.get(b.cost_basis, b.cost_basis or "costs as given by the source")
    period = f"{fmt.from_to((b.first_start or '-')[:16], (b.last_end or '-')[:16])} UTC ({b.span_days:,.1f} days)"
    priced = "" if not b.counts.get("unpriced_runs") else f" ({b.counts['unpriced_runs']:,} without a price)"
    return (f"Source: {source or 'not saved to a file'}; {b.runs:,} runs{priced}, {period}, annualised "
            f"x {b.factor(g['annualisation']):.3g} ({g['annualisation']}); data coverage {fmt.pct(g['data_coverage'], 0)} "
            f"of the estate; cost basis: {basis}; scenario {case.scenario}.")


def _risks(case: BusinessCase, sens: list[SensitivityRow], warnings: dict[str, str]) -> list[str]:
    out = []
    b, g = case.baseline, case.assumptions["global"]
    confirmed = b.confirmed(case.assumptions)
    for k in ASSUMED:
        if not confirmed[k] and case.assumed[k] > 0:
            on = [r for r in case.solutions if r.target == k]
            what = "storage bill" if k == "storage_cost" else "engineer time on failures"
            out.append(f"The {what} ({fmt.usd(case.assumed[k], 0)} a year) is an assumption, not measured, and is "
                       f"not counted" + (f": solution {', '.join(str(r.number) for r in on)} acts on it and saves "
                                         f"nothing until it is confirmed." if on else "."))
    if b.span_days < SHORT_HISTORY_DAYS:
        out.append(f"The run-rate is {b.span_days:,.1f} days of runs scaled x {b.factor(g['annualisation']):.2f} to "
                   f"a year; seasonality outside that window is not in it.")
    focus = case.portfolio if case.members else max(case.solutions, key=lambda r: r.npv_usd)
    top = tornado(sens, focus.id)
    if top and top[0].swing > 0:
        t = top[0]
        out.append(f"The NPV of {'the portfolio' if focus.id == 'portfolio' else focus.name} moves from "
                   f"{fmt.from_to(fmt.usd(t.npv_low, 0), fmt.usd(t.npv_high, 0))} with the {t.label.lower()} "
                   f"({fmt.from_to(f'{t.low_value:g}', f'{t.high_value:g}')}): the largest swing of the sensitivity table.")
    if warnings:
        nums = [str(case.result(rid).number) for rid in warnings]
        out.append(f"Solution{'s' if len(nums) > 1 else ''} {', '.join(nums)}: the upkeep alone is more than the "
                   f"whole spend {'they act' if len(nums) > 1 else 'it acts'} on, so no effect can pay it back at "
                   f"this scale (see the sizing warnings).")
    if g["data_coverage"] == 1 and (b.runs < SMALL_SAMPLE_RUNS or b.span_days < SMALL_SAMPLE_DAYS):
        out.append(f"The data is {b.runs:,} runs over {b.span_days:,.1f} days. If it is a sample of a larger estate, "
                   f"set the share of the estate in the data (data coverage): the measured baseline scales with it.")
    if b.counts.get("unpriced_runs"):
        out.append(f"{b.counts['unpriced_runs']:,} runs have no price and are not in the baseline (a lower bound).")
    out.append("Effects are estimates from the catalogue's rationale, not measured: see the switching values.")
    return out


def _statement(case: BusinessCase, ranked: list[Result], sw: dict[str, SwitchingValue]) -> str:
    h = case.horizon_months
    paying = [r for r in ranked if r.npv_usd > 0]
    later = [r for r in ranked if r.npv_usd <= 0 and r.payback_months is not None]
    if not paying:
        parts = []
        for r in ranked:
            s = sw[r.id]
            if s.target_needed_usd_per_year is not None:
                today = ("today unknown: not in this data" if r.target_usd_per_year is None
                         else f"today {fmt.usd(r.target_usd_per_year, 0)}")
                if r.target in ASSUMED and not case.baseline.confirmed(case.assumptions)[r.target]:
                    today += f" counted, {fmt.usd(case.assumed[r.target], 0)} assumed"
                parts.append(f"{r.number}. {fmt.usd(s.target_needed_usd_per_year, 0)} a year of "
                             f"{targets()[r.target].label.lower()} ({today})")
            else:
                parts.append(f"{r.number}. no spend is enough at an effect of 0")
        text = (f"No option pays back within the {h}-month horizon at this scale: the NPV-maximising choice is to do "
                f"nothing. Each option would break even (NPV = 0) if the spend it acts on were: " + "; ".join(parts)
                + ".")
        if later:
            text += (" Paying back after the horizon: " + ", ".join(
                f"{r.number} in month {r.payback_months:,.1f}" for r in later) + ".")
        return text
    p = case.portfolio
    names = ", ".join(str(case.result(i).number) for i in case.members) or "none"
    rule = CHOICE_LABELS.get(case.assumptions["global"]["portfolio"], case.assumptions["global"]["portfolio"])
    text = (f"{len(paying)} of {len(ranked)} options pay back within the {h}-month horizon (NPV > 0). "
            f"Best: {paying[0].number}. {paying[0].name}, NPV {fmt.usd(paying[0].npv_usd, 0)}"
            + (f", payback month {paying[0].payback_months:,.1f}" if paying[0].payback_months is not None else "")
            + f". The portfolio ({rule}: solutions {names}) has NPV "
            f"{fmt.usd(p.npv_usd, 0)}")
    if p.payback_months is not None:
        text += f" and pays back in month {p.payback_months:,.1f}"
    return text + "."


def ranking(case: BusinessCase) -> list[Result]:
    """The solutions by NPV to the cent, highest first; equal NPVs keep the catalogue order."""
    return sorted(case.solutions, key=lambda r: (-float(fmt.money_round(r.npv_usd)), r.number))


def decide(case: BusinessCase, sens: list[SensitivityRow], switching: list[SwitchingValue],
           source: str = "") -> DecisionSummary:
    """The decision page of *case* (with its :func:`sensitivity` rows and :func:`switching_values`)."""
    sw = {s.option_id: s for s in switching}
    warnings = sizing_warnings(case)
    ranked = ranking(case)
    options = [_summary(r, i + 1, sw.get(r.id), warnings.get(r.id)) for i, r in enumerate(ranked)]
    port = _summary(case.portfolio, 0, sw.get("portfolio"), None)
    return DecisionSummary(question=QUESTION, statement=_statement(case, ranked, sw), options=options,
                           portfolio=port, portfolio_rule=case.assumptions["global"]["portfolio"],
                           npv_max_members=case.members, all_enabled_npv_usd=case.all_enabled_npv,
                           risks=_risks(case, sens, warnings), provenance=provenance(case, source),
                           warnings=[f"Solution {case.result(k).number}: {v}" for k, v in warnings.items()])
