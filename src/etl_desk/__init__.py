"""ETL Desk: offline analysis of Databricks ETL job runs."""
from __future__ import annotations

from etl_desk._version import __version__

__all__ = ["__version__", "APP_NAME", "ORG_NAME", "ORG_DOMAIN"]

APP_NAME = "ETL Desk"
ORG_NAME = "ETL Desk"
ORG_DOMAIN = "etl-desk.example"
