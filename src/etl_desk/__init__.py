"""ETL Desk: offline analysis of Databricks ETL job runs."""
from __future__ import annotations

from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("etl-desk")
except _metadata.PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+src"

APP_NAME = "ETL Desk"
ORG_NAME = "ETL Desk"
ORG_DOMAIN = "etl-desk.example"
