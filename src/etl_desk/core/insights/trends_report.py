"""Trends as plain text: who pays, what is drifting, where the bill is heading (the CLI report)."""
from __future__ import annotations

import textwrap

from etl_desk.core.insights.trends import Trends
from etl_desk.core import fmt

__all__ = ["format_trends"]


def _usd(x) -> str:
    return "unknown" if x is None else f"${x:,.2f}"


def _pct(x) -> str:
    return "unknown" if x is None else f"{x * 100:.1f} %"


def _wrap(text: str, indent: str = "  ") -> list[str]:
    return textwrap.wrap(text, width=100, initial_indent=indent, subsequent_indent=indent + "  ",
                         break_on_hyphens=False)


def format_trends(t: Trends, max_rows: int = 15) -> list[str]:
    """Report lines for attribution tables, drift findings, the forecast and budgets."""
    lines: list[str] = []
    for a in t.attribution:
        lines += ["", f"WHO PAYS: BY {a.label.upper()}"]
        lines.append(f"  {'':<34} {'Runs':>9} {'Failed':>8} {'Cost':>14} {'Failed cost':>14} {'Share':>8}")
        rows = list(a.rows[:max_rows])
        if a.untagged not in rows:  # never hidden, however small
            rows.append(a.untagged)
        for r in rows + [a.total]:
            lines.append(f"  {r.key[:34]:<34} {r.runs:>9,} {r.failed_runs:>8,} {_usd(r.cost_usd):>14} "
                         f"{_usd(r.failed_cost_usd):>14} {_pct(r.share):>8}")
        if len(a.rows) > len(rows):
            lines.append(f"  … {len(a.rows) - len(rows)} more")
        for n in a.notes:
            lines += _wrap(f"(note: {n})")
    if t.drift is not None:
        lines += ["", "DRIFT (cost per TB and duration per GB creeping up)"]
        if not t.drift.findings:
            lines.append("  No pipeline is drifting.")
        for f in t.drift.findings:
            lines += _wrap(f"! {f.reason}")
        for n in t.drift.notes:
            lines += _wrap(f"(note: {n})")
    fc = t.forecast
    if fc is not None:
        lines += ["", "FORECAST (daily cost)"]
        if fc.total is None:
            lines += _wrap("No forecast: " + " ".join(fc.notes))
        else:
            f = fc.total.frame
            for days in (30, 60, 90):
                if len(f) >= days:
                    p = fc.total.period_total(days)
                    lines.append(f"  next {days} days: {_usd(p['mean'])} (80 %: {fmt.from_to(_usd(p['lo80']), _usd(p['hi80']), '–')}; "
                                 f"95 %: {fmt.from_to(_usd(p['lo95']), _usd(p['hi95']), '–')})")
            bt = fc.total.backtest
            if bt.coverage80 is not None:
                lines += _wrap(f"Backtest on the last {bt.weeks} weeks ({bt.days} days, 7 days ahead): "
                               f"{bt.coverage80 * 100:.0f} % of days inside the 80 % interval, "
                               f"{bt.coverage95 * 100:.0f} % inside the 95 % one; mean error "
                               f"{(bt.mape or 0) * 100:.1f} %.")
            if fc.pipelines:
                cov = [p.backtest.coverage80 for p in fc.pipelines.values() if p.backtest.coverage80 is not None]
                if cov:
                    lines += _wrap(f"{len(fc.pipelines)} pipelines forecast; their 80 % intervals held on "
                                   f"{sum(cov) / len(cov) * 100:.0f} % of backtest days on average.")
            lines += _wrap(f"(model: {fc.total.method})")
        for n in fc.notes:
            lines += _wrap(f"(note: {n})")
    for b in t.budgets:
        lines += ["", f"BUDGET {b.budget.label.upper()}: {b.status.upper()}"]
        lines += _wrap(b.reason)
        for n in b.notes:
            lines += _wrap(f"(note: {n})")
    return lines
