"""The catalogue of named SAP and GIS pipelines behind the realistic generator.

Each :class:`Pipeline` describes one Databricks job of a utility company: when it
is scheduled, how much data it reads (log-normal, with SAP month-end peaks), the
cluster it runs on (nodes, DBU rate, relative instance price), how fast that
cluster processes data, and how it tends to fail. The realistic generator
(:mod:`etl_desk.core.data.realistic`) turns these numbers into runs; nothing here is
random. The numbers live in ``resources/pipelines.toml``, where each field is explained.

Units: GB, minutes, nodes, DBU per node-hour. Start hours are UTC.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources

#: The catalogue's data file in the ``etl_desk.resources`` package.
CATALOGUE_FILE = "pipelines.toml"


@dataclass(frozen=True)
class Pipeline:
    """One named job of the realistic generator's catalogue (``resources/pipelines.toml``): its
    schedule, volume, cluster and failure parameters, each field documented below.
    """
    #: Job name as it appears in Databricks and in the charts.
    name: str
    #: "SAP" or "GIS".
    source: str
    #: What the job does (one line, for tooltips and the catalogue table).
    description: str
    #: Scheduled runs per day; spread over :attr:`hours`.
    runs_per_day: int
    #: UTC start hours of the schedule (cron-like); runs beyond one per hour are spread within the hour.
    hours: tuple[int, ...]
    #: Minute of the hour the schedule fires at.
    minute: int
    #: Median data volume of one run (GB), outside month-end.
    median_gb: float
    #: Log-normal sigma of the volume (spread between runs).
    sigma: float
    #: Worker nodes of the job cluster (fixed size).
    nodes: int
    #: Databricks units per node-hour (depends on the instance type).
    dbu_per_node_hour: float
    #: Instance price relative to the standard node price of the settings (1.0 = standard).
    instance_factor: float
    #: Throughput of one node (GB per minute).
    gb_per_min_per_node: float
    #: Cluster start-up and job set-up time (minutes) before any data moves.
    startup_min: float
    #: Whether the job may run on spot instances.
    spot_eligible: bool
    #: Volume multiplier during the month-end close (last three days and first day of a month); 1 = none.
    month_end_peak: float
    #: The job's timeout (minutes); a run that would take longer is stopped as TIMED_OUT.
    timeout_min: float
    #: Probability of a code/driver failure of a run at median volume (before volume and scale effects).
    base_failure: float

    @property
    def planned_minutes_at_median(self) -> float:
        """Duration of a run at median volume with no run-to-run noise."""
        return self.startup_min + self.median_gb / (self.gb_per_min_per_node * self.nodes)


def _load() -> tuple[Pipeline, ...]:
    """The catalogue from ``resources/pipelines.toml`` (packaged as ``etl_desk.resources``)."""
    data = tomllib.loads(resources.files("etl_desk.resources").joinpath(CATALOGUE_FILE).read_text("utf-8"))
    return tuple(Pipeline(**{**row, "hours": tuple(row["hours"])}) for row in data["pipelines"])


#: The pipelines, SAP first. Month-end peaks apply to SAP only.
PIPELINES: tuple[Pipeline, ...] = _load()

SOURCES = ("SAP", "GIS")
BY_NAME: dict[str, Pipeline] = {p.name: p for p in PIPELINES}


def pipelines(source: str | None = None) -> tuple[Pipeline, ...]:
    """The catalogue, or the pipelines of one source system."""
    return tuple(p for p in PIPELINES if source is None or p.source == source)
