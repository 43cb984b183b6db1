"""ui/settings.py: every persisted key round-trips, damaged values read as defaults, old stores upgrade
(or reset) cleanly, and the window fixture fails a test that leaks a top-level widget."""
from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QByteArray, QSettings

from etl_desk.ui import settings as keys
from etl_desk.ui.settings import KEYS, SETTINGS_VERSION, VERSION_KEY, Settings, migrate

#: A value other than the default for every key (the round trip must not be a no-op).
SAMPLES = {
    keys.GEOMETRY: QByteArray(b"\x01\xd9\xd0\xcb\x00\x03geometry"),
    keys.PAGE: "business_case",
    keys.GENERATOR_VISIBLE: 1,
    keys.DASHBOARD_LAYOUT: QByteArray(b"\x00\x00\x00\xffdock state"),
    keys.INSIGHTS_LAYOUT: QByteArray(b"\x00\x00\x00\xffsplitter"),
    keys.BUSINESS_CASE_LAYOUT: {"outer": "AAAA/w==", "right": "AAAA/w==", "tab": 2},
    keys.SOURCES_LAYOUT: QByteArray(b"\x00\x00\x00\xffsources"),
    keys.GENERATOR: {"preset": "Realistic: month-end crunch", "settings": {"runs": 12345, "sap_share": 0.8}},
    keys.THRESHOLDS: {"z_threshold": 3.0, "use_volume": False},
    keys.FORECAST_DAYS: 45,
    keys.BUDGET: "25k/month:team=finance",
    keys.ASSUMPTIONS: {"global": {"horizon_years": 5}, "solutions": {"data-lifecycle": {"enabled": False}}},
    keys.ASSUMPTIONS_DIR: "/home/finance/assumptions",
    keys.OPEN_DIR: "/data/exports",
    keys.EXPORT_DIR: "/data/reports",
    keys.RECENT: ["/data/a.csv", "/data/b.parquet"],
    keys.BIG_HISTORY_RUNS: 20_000_000,
}


def _store(tmp_path, name="s.ini") -> QSettings:
    return QSettings(str(tmp_path / name), QSettings.Format.IniFormat)


def test_every_key_is_listed_once_with_a_sample():
    assert set(SAMPLES) == set(KEYS)
    assert len({k.name for k in KEYS}) == len(KEYS)
    assert all(k.doc for k in KEYS)


@pytest.mark.parametrize("key", KEYS, ids=lambda k: k.name)
def test_round_trip_per_key(tmp_path, key):
    s = Settings(_store(tmp_path))
    assert s.get(key) == key.default  # a fresh store: the default
    s.set(key, SAMPLES[key])
    s.sync()
    again = Settings(_store(tmp_path))  # a new QSettings on the same file, as after a restart
    assert again.get(key) == SAMPLES[key]
    assert again.found_version == SETTINGS_VERSION
    again.remove(key)
    assert again.get(key) == key.default


@pytest.mark.parametrize("key, damaged", [
    (keys.GEOMETRY, "not bytes"), (keys.DASHBOARD_LAYOUT, 42), (keys.GENERATOR_VISIBLE, "yes"), (keys.GENERATOR, "{not json"), (keys.THRESHOLDS, "[1, 2"),
    (keys.ASSUMPTIONS, "17"), (keys.RECENT, 3.5), (keys.OPEN_DIR, ["a", "b"]),
])
def test_damaged_values_read_as_the_default(tmp_path, key, damaged):
    store = _store(tmp_path)
    store.setValue(VERSION_KEY, SETTINGS_VERSION)
    store.setValue(key.name, damaged)
    store.sync()
    assert Settings(_store(tmp_path)).get(key) == key.default


def test_recent_files_keep_the_newest_eight_without_duplicates(tmp_path):
    s = Settings(_store(tmp_path))
    for i in range(10):
        s.add_recent(f"/d/{i}.csv")
    s.add_recent("/d/5.csv")
    assert s.get(keys.RECENT) == ["/d/5.csv", "/d/9.csv", "/d/8.csv", "/d/7.csv", "/d/6.csv", "/d/4.csv",
                                  "/d/3.csv", "/d/2.csv"]


def _version_1_store(tmp_path) -> QSettings:
    """Settings as ETL Desk wrote them before settings had a version."""
    old = _store(tmp_path)
    old.setValue("lastDir", "/old/open")
    old.setValue("lastExportDir", "/old/export")
    old.setValue("recentFiles", ["/old/a.csv", "/old/b.csv"])
    old.setValue("solutions/assumptions", json.dumps({"global": {"horizon_years": 4}}))
    old.setValue("solutions/lastDir", "/old/assumptions")
    old.setValue("insights/thresholds", json.dumps({"z_threshold": 2.5}))
    old.setValue("mappings/abc", '{"columns": {}}')
    old.sync()
    return old


def test_version_1_settings_are_upgraded(tmp_path):
    _version_1_store(tmp_path)
    s = Settings(_store(tmp_path))
    assert s.found_version == 1
    assert s.get(keys.OPEN_DIR) == "/old/open" and s.get(keys.EXPORT_DIR) == "/old/export"
    assert s.get(keys.RECENT) == ["/old/a.csv", "/old/b.csv"]
    assert s.get(keys.ASSUMPTIONS) == {"global": {"horizon_years": 4}}
    assert s.get(keys.ASSUMPTIONS_DIR) == "/old/assumptions"
    assert s.get(keys.THRESHOLDS) == {"z_threshold": 2.5}
    assert s.mapping_json("abc") == '{"columns": {}}'
    raw = _store(tmp_path)
    assert int(raw.value(VERSION_KEY)) == SETTINGS_VERSION
    assert not raw.contains("lastDir") and not raw.contains("solutions/assumptions")


def test_version_1_settings_open_the_window_with_the_old_values(window, tmp_path, qtbot):
    _version_1_store(tmp_path)
    win = window(tmp_path / "s.ini")
    assert win.recent_files() == ["/old/a.csv", "/old/b.csv"]
    assert win.assumptions.assumptions["global"]["horizon_years"] == 4
    assert win.analysis_job.thresholds.z_threshold == 2.5


def test_a_failing_migration_resets_instead_of_crashing(tmp_path):
    _version_1_store(tmp_path)
    store = _store(tmp_path)

    def broken(_store):
        raise RuntimeError("a bug in a migration")

    assert migrate(store, migrations=[(1, broken)]) == 1
    assert store.allKeys() == [VERSION_KEY] and int(store.value(VERSION_KEY)) == SETTINGS_VERSION


def test_an_unreadable_version_resets_and_a_newer_one_is_left_alone(tmp_path):
    store = _store(tmp_path, "a.ini")
    store.setValue(VERSION_KEY, "banana")
    store.setValue(keys.OPEN_DIR.name, "/x")
    assert migrate(store) == 0
    assert store.allKeys() == [VERSION_KEY]
    newer = _store(tmp_path, "b.ini")
    newer.setValue(VERSION_KEY, SETTINGS_VERSION + 5)
    newer.setValue(keys.OPEN_DIR.name, "/y")
    assert migrate(newer) == SETTINGS_VERSION + 5
    assert Settings(newer).get(keys.OPEN_DIR) == "/y"
    assert int(newer.value(VERSION_KEY)) == SETTINGS_VERSION + 5  # not downgraded


def test_window_settings_survive_close_and_reopen_per_key(window, tmp_path, qtbot):
    """The window writes what it restores: geometry, layout, generator, thresholds, assumptions, recent."""
    ini = tmp_path / "w.ini"
    w1 = window(ini)
    w1.generator.preset.setCurrentIndex(2)
    w1.generator.editors["days"].setValue(45)
    w1.assumptions.set(("global", "discount_rate"), 0.12)
    from dataclasses import replace

    w1.analysis_job.set_thresholds(replace(w1.analysis_job.thresholds, spike_factor=4.5))
    w1.add_recent(str(tmp_path / "x.csv"))
    w1.chart_docks["data_processed_gb"].hide()
    w1.close()  # a real close saves
    w2 = window(ini)
    assert w2.generator.preset.currentIndex() == 2 and w2.generator.editors["days"].value() == 45
    assert w2.assumptions.assumptions["global"]["discount_rate"] == 0.12
    assert w2.analysis_job.thresholds.spike_factor == 4.5
    assert w2.recent_files()[0].endswith("x.csv")
    assert w2.chart_docks["data_processed_gb"].isHidden()


def test_close_without_saving_keeps_the_stored_settings(window, tmp_path):
    ini = tmp_path / "n.ini"
    w1 = window(ini)
    w1.generator.editors["days"].setValue(77)
    w1.close_without_saving()
    assert Settings(_store(tmp_path, "n.ini")).get(keys.GENERATOR) is None


def test_the_leak_check_fails_on_a_leaked_top_level_widget(qtbot):
    from PySide6.QtWidgets import QDialog

    from tests.conftest import _alive_top_levels, assert_no_leaked_top_levels

    before = _alive_top_levels()
    leaked = QDialog()
    leaked.setObjectName("forgottenDialog")
    leaked.show()
    with pytest.raises(AssertionError, match=r"QDialog\('forgottenDialog'\)"):
        assert_no_leaked_top_levels(before)
    assert_no_leaked_top_levels(before)  # the check closed it: nothing left


def test_version_2_settings_drop_the_whole_window_dock_layout(tmp_path):
    """Version 3 made the window pages: the old dock layout of the whole window no longer applies."""
    old = _store(tmp_path)
    old.setValue(VERSION_KEY, 2)
    old.setValue("window/state", QByteArray(b"\x00\x00\x00\xffold docks"))
    old.setValue(keys.OPEN_DIR.name, "/kept")
    old.sync()
    s = Settings(_store(tmp_path))
    assert s.found_version == 2
    assert not s.store.contains("window/state") and s.get(keys.OPEN_DIR) == "/kept"
    assert s.get(keys.DASHBOARD_LAYOUT) is None  # the dashboard starts from its default layout


def test_forecast_keys_are_new_keys_of_version_3(tmp_path):
    """Forecast days and the budget were added without a version bump: a version-3 store without them
    opens with the defaults, and a damaged value reads as the default."""
    st = _store(tmp_path)
    st.setValue(keys.VERSION_KEY, 3)
    st.setValue(keys.PAGE.name, "insights")
    st.sync()
    s = Settings(_store(tmp_path))
    assert s.found_version == 3 and s.get(keys.PAGE) == "insights"
    assert s.get(keys.FORECAST_DAYS) == 30 and s.get(keys.BUDGET) == ""
    s.store.setValue(keys.FORECAST_DAYS.name, "ninety")
    assert s.get(keys.FORECAST_DAYS) == 30
