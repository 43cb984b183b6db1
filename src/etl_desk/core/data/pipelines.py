"""The catalogue of named SAP and GIS pipelines behind the realistic generator.

Each :class:`Pipeline` describes one Databricks job of a utility company: when it
is scheduled, how much data it reads (log-normal, with SAP month-end peaks), the
cluster it runs on (nodes, DBU rate, relative instance price), how fast that
cluster processes data, and how it tends to fail. The realistic generator
(:mod:`etl_desk.core.realistic`) turns these numbers into runs; nothing here is
random.

Units: GB, minutes, nodes, DBU per node-hour. Start hours are UTC.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pipeline:
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


def _p(name, source, description, runs_per_day, hours, minute, median_gb, sigma, nodes, dbu, inst,
       tput, startup, spot, peak, timeout, fail) -> Pipeline:
    return Pipeline(name, source, description, runs_per_day, tuple(hours), minute, median_gb, sigma, nodes,
                    dbu, inst, tput, startup, spot, peak, timeout, fail)


#: The pipelines, SAP first. Month-end peaks apply to SAP only.
PIPELINES: tuple[Pipeline, ...] = (
    # --- SAP (ERP extracts into the lakehouse) -------------------------------------------------------
    _p("sap-fi-gl-extract", "SAP", "Finance: general-ledger journal entries (FI/GL)",
       2, (1, 13), 5, 120.0, 0.35, 8, 2.0, 1.0, 0.60, 6.0, False, 3.0, 240, 0.020),
    _p("sap-co-cost-allocation", "SAP", "Controlling: cost-centre allocations and settlements (CO)",
       1, (2,), 30, 40.0, 0.30, 8, 2.0, 1.0, 0.50, 6.0, False, 3.5, 180, 0.015),
    _p("sap-mm-material-master", "SAP", "Materials: material master and plant stock (MM)",
       1, (4,), 0, 35.0, 0.25, 4, 1.5, 0.75, 0.80, 5.0, True, 1.0, 120, 0.010),
    _p("sap-mm-purchase-orders", "SAP", "Procurement: purchase orders and goods receipts (MM)",
       4, (0, 6, 12, 18), 15, 12.0, 0.45, 4, 2.0, 1.0, 0.70, 5.0, True, 1.5, 90, 0.015),
    _p("sap-sd-sales-orders", "SAP", "Sales: orders and deliveries (SD)",
       12, range(0, 24, 2), 10, 18.0, 0.50, 4, 2.0, 1.0, 0.70, 5.0, True, 1.6, 90, 0.015),
    _p("sap-sd-billing-docs", "SAP", "Billing documents and invoices (SD/FI-CA)",
       6, range(0, 24, 4), 40, 25.0, 0.50, 6, 2.0, 1.0, 0.65, 5.0, True, 2.2, 120, 0.020),
    _p("sap-hr-payroll", "SAP", "HR: payroll results and time data (HCM)",
       1, (22,), 0, 8.0, 0.30, 4, 2.0, 1.0, 0.50, 5.0, False, 6.0, 120, 0.010),
    _p("sap-pm-maintenance-orders", "SAP", "Plant maintenance: work orders and notifications (PM)",
       4, (3, 9, 15, 21), 20, 6.0, 0.60, 2, 1.5, 0.75, 0.80, 4.0, True, 1.2, 60, 0.015),
    _p("sap-isu-meter-reads", "SAP", "Utilities: meter readings for billing (IS-U)",
       24, range(24), 25, 15.0, 0.40, 6, 2.0, 1.0, 0.90, 5.0, True, 1.4, 60, 0.020),
    # --- GIS (network and asset geodata) ---------------------------------------------------------------
    _p("gis-parcel-sync", "GIS", "Land parcels and easements from the cadastre",
       4, (1, 7, 13, 19), 0, 20.0, 0.50, 4, 2.0, 1.0, 0.50, 5.0, True, 1.0, 90, 0.020),
    _p("gis-network-topology", "GIS", "Electric network topology rebuild (connectivity graph)",
       1, (3,), 0, 220.0, 0.30, 12, 3.0, 1.5, 0.40, 8.0, True, 1.0, 240, 0.030),
    _p("gis-imagery-tiles", "GIS", "Aerial and satellite imagery tiling",
       1, (0,), 30, 900.0, 0.60, 16, 2.0, 1.0, 1.20, 10.0, True, 1.0, 300, 0.020),
    _p("gis-asset-inventory", "GIS", "Poles, transformers, lines: asset register sync",
       2, (5, 17), 0, 45.0, 0.35, 4, 2.0, 1.0, 0.60, 5.0, True, 1.0, 120, 0.015),
    _p("gis-vegetation-risk", "GIS", "LiDAR vegetation encroachment scoring along lines",
       1, (23,), 0, 350.0, 0.45, 10, 3.0, 1.5, 0.50, 8.0, True, 1.0, 300, 0.030),
    _p("gis-outage-map", "GIS", "Outage map refresh from SCADA and customer calls",
       96, range(24), 0, 1.5, 0.70, 2, 1.0, 0.5, 1.00, 3.0, True, 1.0, 30, 0.010),
    _p("gis-work-order-geocode", "GIS", "Geocoding of field work orders",
       12, range(0, 24, 2), 45, 3.0, 0.50, 2, 1.0, 0.5, 0.80, 3.0, True, 1.0, 30, 0.010),
)

SOURCES = ("SAP", "GIS")
BY_NAME: dict[str, Pipeline] = {p.name: p for p in PIPELINES}


def pipelines(source: str | None = None) -> tuple[Pipeline, ...]:
    """The catalogue, or the pipelines of one source system."""
    return tuple(p for p in PIPELINES if source is None or p.source == source)
