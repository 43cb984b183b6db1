"""The one door from the engine to the rest of ETL Desk.

Every name the engine needs from other core modules comes through here, so when
those modules move, only the imports below change.
"""
from __future__ import annotations

from etl_desk.core.dashboard.timeline import NS_PER_DAY, Timeline
from etl_desk.core.dashboard.view import NO_NAME, WHOLE_NUMBER_ID, View, ViewFilter, ViewSpec
from etl_desk.core.data.realistic import RealisticSettings, SettingsError, generate_realistic
from etl_desk.core.data.schema import (BY_NAME, COLUMN_NAMES, FAILED, NAMES_BY_LABEL, SOURCE_SYSTEMS, STATUSES,
                                       SUCCESS)
from etl_desk.core.errors import DataError
from etl_desk.core.insights.anomalies import AnomalyThresholds
from etl_desk.core.insights.kpis import GB_PER_TB, KPI_KEYS, compute_kpis, retry_unknown_reason
from etl_desk.core.tasks import CancelFn, Cancelled, ProgressFn

__all__ = ["AnomalyThresholds", "BY_NAME", "COLUMN_NAMES", "FAILED", "NAMES_BY_LABEL", "SOURCE_SYSTEMS", "STATUSES",
           "SUCCESS", "DataError", "CancelFn", "Cancelled", "ProgressFn", "GB_PER_TB", "KPI_KEYS", "compute_kpis",
           "retry_unknown_reason",
           "RealisticSettings", "SettingsError", "generate_realistic", "NO_NAME", "ViewFilter",
           "NS_PER_DAY", "Timeline", "View", "ViewSpec", "WHOLE_NUMBER_ID"]
