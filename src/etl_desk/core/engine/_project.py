"""The one door from the engine to the rest of ETL Desk.

Every name the engine needs from other core modules comes through here, so when
those modules move (feature folders), only the imports below change.
"""
from __future__ import annotations

from ..anomalies import AnomalyThresholds
from ..generate import CancelFn, Cancelled, ProgressFn
from ..kpis import GB_PER_TB, KPI_KEYS, compute_kpis
from ..realistic import RealisticSettings, SettingsError, generate_realistic
from ..schema import (BY_NAME, COLUMN_NAMES, FAILED, NAMES_BY_LABEL, SOURCE_SYSTEMS, STATUSES, SUCCESS,
                      DataError)
from ..view import NO_NAME, ViewFilter

__all__ = ["AnomalyThresholds", "BY_NAME", "COLUMN_NAMES", "FAILED", "NAMES_BY_LABEL", "SOURCE_SYSTEMS", "STATUSES", "SUCCESS",
           "DataError", "CancelFn", "Cancelled", "ProgressFn", "GB_PER_TB", "KPI_KEYS", "compute_kpis",
           "RealisticSettings", "SettingsError", "generate_realistic", "NO_NAME", "ViewFilter"]
