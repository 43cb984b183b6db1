"""The anomaly rules' settings and their plain-language statement.

:class:`AnomalyThresholds` holds every setting of :func:`etl_desk.core.insights.anomalies.detect_anomalies`,
each field with its :class:`~etl_desk.core.fields.FieldSpec` (label, unit, range, step, help) so
the window and the command line build their editors from it. :func:`describe_rules` states each rule with
its settings, as the report, the workbook and the window show it next to the findings.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from etl_desk.core.fields import spec_field, value_kind

#: Rules that flag single runs (scored against ground truth) versus pipeline-weeks.
RUN_RULES = ("duration_z", "cost_z", "cost_rate_z", "cost_spike")
GROUP_RULES = ("failure_rate_jump",)

RULE_LABELS = {
    "duration_z": "Slow for its data volume (robust z)",
    "cost_z": "Expensive for its data volume (robust z)",
    "cost_rate_z": "Expensive per minute (robust z)",
    "cost_spike": "Cost spike vs trailing mean",
    "failure_rate_jump": "Failure-rate jump week over week",
}


@dataclass(frozen=True)
class AnomalyThresholds:
    """Thresholds of the anomaly rules; each field carries its :class:`~etl_desk.core.fields.FieldSpec`."""

    z_threshold: float = spec_field(4.0, "Robust z threshold", "z", 1.0, 20.0, 0.25,
                            "Flag a run whose duration or cost is this many robust standard deviations "
                            "(1.4826 x MAD) above what its pipeline's runs of that volume usually need")
    min_baseline_runs: int = spec_field(30, "Minimum baseline runs", "runs", 3, 10_000, 1,
                                "Score a pipeline only when it has at least this many successful runs")
    min_spread: float = spec_field(0.05, "Minimum spread", "log units", 0.0, 1.0, 0.01,
                           "Floor on the robust spread (0.05 = about 5 %), so a pipeline whose runs are "
                           "nearly identical does not flag tiny differences")
    use_volume: bool = spec_field(True, "Account for data volume", "", None, None, None,
                          "Compare each run with what its data volume should take and cost")
    spike_factor: float = spec_field(3.0, "Cost-spike factor", "x", 1.1, 100.0, 0.1,
                             "Flag a run costing at least this many times the trailing mean of its "
                             "pipeline's previous runs (scaled to its data volume)")
    spike_window: int = spec_field(20, "Cost-spike window", "runs", 2, 1_000, 1,
                           "How many previous runs of the pipeline the trailing mean covers")
    baseline_sample: int = spec_field(10_000, "Baseline sample per pipeline", "runs", 0, 10_000_000, 1_000,
                              "Fit and robust spread use at most this many successful runs per pipeline "
                              "(a fixed hash of the row position picks them; 0 = all runs). Every run is scored")
    failure_jump_pp: float = spec_field(10.0, "Failure-rate jump", "percentage points", 0.5, 100.0, 0.5,
                                "Flag a pipeline-week whose failure rate is this many percentage points "
                                "above the week before")
    failure_min_runs: int = spec_field(10, "Minimum runs per week", "runs", 1, 100_000, 1,
                               "Compare failure rates only for weeks with at least this many runs each")
    failure_p_value: float = spec_field(0.01, "Failure-jump significance", "p", 0.001, 1.0, 0.001,
                                "Flag a failure-rate jump only when chance alone would give one this large less "
                                "often than this (one-sided two-proportion z-test; 1 = no test)")
    # --- rules users can trust: direction, floors, seasonality ------------------------------------------
    rises: bool = spec_field(True, "Flag rises", "", None, None, None,
                     "Flag runs that took longer or cost more than usual (the waste)")
    falls: bool = spec_field(False, "Flag falls", "", None, None, None,
                     "Also flag runs that were unusually fast or cheap (a job that silently did less work)")
    min_excess_usd: float = spec_field(0.05, "Minimum excess", "USD", 0.0, 1_000_000.0, 0.05,
                               "Flag a run only when it cost at least this many dollars more (or less) than "
                               "expected; not applied when the cost is unknown")
    min_excess_pct: float = spec_field(20.0, "Minimum excess %", "%", 0.0, 10_000.0, 5.0,
                               "Flag a run only when it is at least this many percent off what was expected")
    seasonal: bool = spec_field(True, "Allow for weekday and month-end", "", None, None, None,
                        "Each pipeline's baseline allows for its usual day-of-week and month-end pattern, "
                        "so a month-end close peak seen every month is not flagged")
    weekly_level: bool = spec_field(True, "Follow the weekly level", "", None, None, None,
                            "Compare each run with its pipeline's level in the same calendar week, so a slow "
                            "drift (which the drift test reports) does not flag every later run")

    def validate(self) -> list[str]:
        """Human messages for out-of-range fields (empty when usable)."""
        msgs = []
        for f in fields(self):
            problem = f.metadata["spec"].problem(getattr(self, f.name), value_kind(f.default))
            if problem:
                msgs.append(problem)
        if not (self.rises or self.falls):
            msgs.append("Flag rises / Flag falls: at least one direction must be on")
        return msgs

    def to_dict(self) -> dict:
        """Every threshold by field name (plain values: floats, ints, bools), for settings and JSON."""
        return asdict(self)

    @property
    def direction(self) -> str:
        """"rises", "falls" or "both"."""
        return "both" if self.rises and self.falls else "rises" if self.rises else "falls"


def describe_rules(th: AnomalyThresholds) -> dict[str, str]:
    """Each rule in one sentence with its settings (rule id -> text), as shown beside the findings."""
    way = {"rises": "above", "falls": "below", "both": "above or below"}[th.direction]
    season = (" and its usual weekday and month-end pattern" if th.seasonal else "")
    season += " at that week's level" if th.weekly_level else ""
    vol = " for its data volume" if th.use_volume else ""
    floors = (f"; only when the run is at least {th.min_excess_pct:g} % and ${th.min_excess_usd:,.2f} "
              f"off what was expected")
    z = f"robust z {way} {th.z_threshold:g} (1.4826 x MAD of the pipeline's successful runs"
    spike_way = {"rises": f"at least {th.spike_factor:g}x", "falls": f"at most 1/{th.spike_factor:g} of",
                 "both": f"at least {th.spike_factor:g}x or at most 1/{th.spike_factor:g} of"}[th.direction]
    return {
        "duration_z": f"Duration {z}{vol}{season}, at least {th.min_baseline_runs} runs){floors}.",
        "cost_z": f"Cost {z}{vol}{season}, spot and on-demand apart){floors}.",
        "cost_rate_z": f"Cost per minute {z}{season}, spot and on-demand apart){floors}.",
        "cost_spike": f"Cost {spike_way} the mean of the pipeline's previous {th.spike_window} runs"
                      f"{', scaled to its volume' if th.use_volume else ''}"
                      f"{', weekday and month-end' if th.seasonal else ''}{floors}.",
        "failure_rate_jump": f"Failure rate up at least {th.failure_jump_pp:g} percentage points on the week "
                             f"before{' (its usual month-end rise allowed for)' if th.seasonal else ''} "
                             f"(Monday to Sunday, both weeks with at least {th.failure_min_runs} runs), "
                             f"more than chance (one-sided two-proportion z-test, p < {th.failure_p_value:g}).",
    }
