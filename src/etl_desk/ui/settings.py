"""Every setting the window persists: one table of keys with their types and defaults, a version, migrations.

The window, the analysis job, the assumptions model, the generator panel and the
import dialog read and write their settings only through :class:`Settings` and
the :class:`Key` objects below, so this file is the complete list of what is
stored (QSettings in an .ini file: the user's, or ``$ETL_DESK_SETTINGS``).

A stored value of the wrong type, or JSON that does not parse, reads as the key's
default: damaged settings never stop the window from opening. Each value is
stored with :data:`SETTINGS_VERSION` under ``settingsVersion``; an older store is
upgraded by :data:`MIGRATIONS`, in order, when it is opened, and one that cannot
be upgraded is reset (the same policy as Orange's ``migrate_settings``).
Versions (bump on any rename, removal or change of meaning of a key):

1. everything before this module (no ``settingsVersion`` key);
2. file locations under ``files/``, the business-case keys under ``business_case/``;
3. the window became pages: the dashboard's docks are ``pages/dashboard/layout``, each
   page remembers its layout, the window its page; the old whole-window dock layout
   (``window/state``) no longer applies and is dropped.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtCore import QByteArray, QSettings

log = logging.getLogger(__name__)

SETTINGS_VERSION = 3
VERSION_KEY = "settingsVersion"


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one object per key
class Key:
    """One persisted setting. *kind*: ``bytes`` (Qt geometry/layout blobs), ``str``, ``int``,
    ``str_list`` or ``json`` (a dict or list stored as JSON text)."""

    name: str
    kind: str
    default: Any
    doc: str


GEOMETRY = Key("window/geometry", "bytes", None, "Main window position and size (QMainWindow.saveGeometry)")
PAGE = Key("window/page", "str", "dashboard", "The page shown when the window closed")
GENERATOR_VISIBLE = Key("window/generatorVisible", "int", 0, "1 when the generator panel was open")
DASHBOARD_LAYOUT = Key("pages/dashboard/layout", "bytes", None,
                       "Dock layout of the Dashboard page (its QMainWindow.saveState)")
INSIGHTS_LAYOUT = Key("pages/insights/layout", "bytes", None, "Cards / anomalies splitter of the Insights page")
BUSINESS_CASE_LAYOUT = Key("pages/business_case/layout", "json", None,
                           "Splitter states (base64) and the audience tab of the Business case page")
SOURCES_LAYOUT = Key("pages/sources/layout", "bytes", None, "Files / details splitter of the Sources page")
GENERATOR = Key("generator/state", "json", None, "Generator preset and realistic settings")
THRESHOLDS = Key("insights/thresholds", "json", None, "Anomaly thresholds (AnomalyThresholds fields)")
FORECAST_DAYS = Key("dashboard/forecastDays", "int", 30, "Days ahead the cost-over-time view forecasts (7-90)")
BUDGET = Key("dashboard/budget", "str", "",
             "Monthly budget as typed (core.insights.budget.parse_budget: '25000', '25k/month:team=finance'); "
             "empty = none")
ASSUMPTIONS = Key("business_case/assumptions", "json", None, "Business-case assumptions (global + per solution)")
ASSUMPTIONS_DIR = Key("business_case/lastDir", "str", "", "Folder of the last assumptions file saved or loaded")
OPEN_DIR = Key("files/lastDir", "str", "", "Folder of the last run history opened")
EXPORT_DIR = Key("files/lastExportDir", "str", "", "Folder of the last workbook exported")
RECENT = Key("files/recent", "str_list", [], "Recently opened files, newest first")
BIG_HISTORY_RUNS = Key("files/bigHistoryRuns", "int", 5_000_000,
                       "Parquet files or folders with more runs than this open through the engine (big-history mode)")

#: Every key (the per-header-set column mappings live under :data:`MAPPING_PREFIX`).
KEYS: tuple[Key, ...] = (GEOMETRY, PAGE, GENERATOR_VISIBLE, DASHBOARD_LAYOUT, INSIGHTS_LAYOUT, BUSINESS_CASE_LAYOUT,
                         SOURCES_LAYOUT, GENERATOR, THRESHOLDS, FORECAST_DAYS, BUDGET, ASSUMPTIONS, ASSUMPTIONS_DIR,
                         OPEN_DIR, EXPORT_DIR, RECENT, BIG_HISTORY_RUNS)
#: Column mappings remembered per header set (``mappings/<header key>``: Mapping JSON), like Orange's
#: context settings: the mapping chosen for a file applies to the next file with the same columns.
MAPPING_PREFIX = "mappings/"
MAX_RECENT = 8


# --------------------------------------------------------------------------------- migrations
def _rename(store: QSettings, old: str, new: str) -> None:
    if store.contains(old):
        if not store.contains(new):
            store.setValue(new, store.value(old))
        store.remove(old)


def _v1_to_v2(store: QSettings) -> None:
    for old, new in (("lastDir", OPEN_DIR.name), ("lastExportDir", EXPORT_DIR.name), ("recentFiles", RECENT.name),
                     ("solutions/assumptions", ASSUMPTIONS.name), ("solutions/lastDir", ASSUMPTIONS_DIR.name)):
        _rename(store, old, new)


def _v2_to_v3(store: QSettings) -> None:
    store.remove("window/state")  # the whole-window dock layout: the docks now live on the Dashboard page


#: (from version, upgrade to from version + 1), in order.
MIGRATIONS: list[tuple[int, Callable[[QSettings], None]]] = [(1, _v1_to_v2), (2, _v2_to_v3)]


def stored_version(store: QSettings) -> int | None:
    """The version the store was written with (1 for a store from before versions; None when empty)."""
    if store.contains(VERSION_KEY):
        try:
            return int(store.value(VERSION_KEY))
        except (TypeError, ValueError):
            return 0  # damaged: reset
    return 1 if store.allKeys() else None


def migrate(store: QSettings, migrations=None) -> int:
    """Bring *store* to :data:`SETTINGS_VERSION`; returns the version found (0 = unreadable).

    A store from a newer ETL Desk is left as it is (each read falls back to the
    default on a value it cannot use). A migration that raises, or an unreadable
    version, resets the store: the window opens with defaults rather than not at all.
    """
    migrations = MIGRATIONS if migrations is None else migrations
    found = stored_version(store)
    if found is None:
        store.setValue(VERSION_KEY, SETTINGS_VERSION)
        return SETTINGS_VERSION
    if found > SETTINGS_VERSION:
        return found
    try:
        if found < 1:
            raise ValueError(f"unreadable settings version {store.value(VERSION_KEY)!r}")
        for frm, step in migrations:
            if frm >= found:
                step(store)
    except Exception:  # noqa: BLE001 - any failure to upgrade resets, never stops the window
        log.warning("settings in %s could not be upgraded from version %s; reset to defaults",
                    store.fileName(), found, exc_info=True)
        store.clear()
    store.setValue(VERSION_KEY, SETTINGS_VERSION)
    return found


# --------------------------------------------------------------------------------- access
class Settings:
    """Typed access to the window's QSettings (migrated when wrapped)."""

    def __init__(self, store: QSettings):
        self.store = store
        self.found_version = migrate(store)

    def get(self, key: Key) -> Any:
        """The stored value of *key*, or its default when absent or unusable."""
        raw = self.store.value(key.name)
        if raw is None:
            return _copy(key.default)
        try:
            return _read(key, raw)
        except (TypeError, ValueError):
            log.info("setting %s: unusable stored value %r; using the default", key.name, raw)
            return _copy(key.default)

    def set(self, key: Key, value: Any) -> None:
        if value is None:
            self.store.remove(key.name)
            return
        self.store.setValue(key.name, _write(key, value))

    def remove(self, key: Key) -> None:
        self.store.remove(key.name)

    def sync(self) -> None:
        self.store.sync()

    # --- context settings: column mappings per header set ---------------------------------------
    def mapping_json(self, header_key: str) -> str | None:
        v = self.store.value(MAPPING_PREFIX + header_key)
        return str(v) if v else None

    def set_mapping_json(self, header_key: str, text: str) -> None:
        self.store.setValue(MAPPING_PREFIX + header_key, text)

    # --- recent files -------------------------------------------------------------------------
    def add_recent(self, path: str) -> list[str]:
        files = [p for p in self.get(RECENT) if p != path]
        files.insert(0, path)
        self.set(RECENT, files[:MAX_RECENT])
        return self.get(RECENT)


def _copy(v):
    return list(v) if isinstance(v, list) else v


def _read(key: Key, raw):
    k = key.kind
    if k == "bytes":
        if isinstance(raw, QByteArray) and not raw.isEmpty():
            return raw
        raise TypeError("not a Qt byte array")
    if k == "str":
        if isinstance(raw, (list, tuple)):
            raise TypeError("a list, not text")
        return str(raw)
    if k == "int":
        return int(raw)
    if k == "str_list":
        if isinstance(raw, str):
            return [raw] if raw else []
        if isinstance(raw, (list, tuple)):
            return [str(x) for x in raw]
        raise TypeError("not a list")
    if k == "json":
        v = json.loads(raw) if isinstance(raw, str) else raw
        if not isinstance(v, (dict, list)):
            raise TypeError("not a JSON object or list")
        return v
    raise ValueError(f"unknown kind {k!r}")


def _write(key: Key, value):
    k = key.kind
    if k == "bytes":
        return value if isinstance(value, QByteArray) else QByteArray(bytes(value))
    if k == "str":
        return str(value)
    if k == "int":
        return int(value)
    if k == "str_list":
        return [str(x) for x in value]
    if k == "json":
        return json.dumps(value)
    raise ValueError(f"unknown kind {k!r}")
