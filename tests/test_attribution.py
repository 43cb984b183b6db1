"""Who pays: attribution by tag, workspace, SKU, compute type; tags read from every source."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from etl_desk.core.data.loaders import load_path
from etl_desk.core.data.realistic import RealisticSettings, generate_realistic
from etl_desk.core.data.realistic_extras import TEAMS
from etl_desk.core.data.schema import to_canonical
from etl_desk.core.data.tags import parse_tags, tag_keys, tag_values
from etl_desk.core.errors import DataError, LoadReport
from etl_desk.core.insights.attribution import NOT_RECORDED, UNTAGGED, attribute, dimensions

FIX = Path(__file__).parent / "fixtures" / "system_tables_tags"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "real_exports"


def _by_key(att):
    return {r.key: r for r in att.rows}


def test_system_tables_by_team_match_the_hand_computation():
    df = load_path(FIX)
    att = attribute(df, "team")
    rows = _by_key(att)
    # see tests/fixtures/system_tables_tags/README.md for the arithmetic
    assert [r.key for r in att.rows] == ["finance", UNTAGGED, "sales", "gis"]
    assert rows["finance"].cost_usd == pytest.approx(0.30 + 0.85)
    assert (rows["finance"].runs, rows["finance"].failed_runs, rows["finance"].failed_cost_usd) == (2, 0, 0.0)
    assert rows[UNTAGGED].cost_usd == pytest.approx(0.60) and rows[UNTAGGED].untagged
    assert rows["sales"].failed_cost_usd == pytest.approx(0.35)  # job tags stand in for untagged usage
    assert rows["gis"].cost_usd == pytest.approx(0.30)  # retraction netted
    assert att.total.cost_usd == pytest.approx(2.40)
    assert sum(r.share for r in att.rows) == pytest.approx(1.0)
    comp = _by_key(attribute(df, "compute"))
    assert comp["serverless"].cost_usd == pytest.approx(0.35 + 0.85)  # 705's larger SKU is serverless
    assert comp[NOT_RECORDED].runs == 0 and comp[NOT_RECORDED].cost_usd == 0.0  # shown although empty
    cc = _by_key(attribute(df, "tag:cost_center"))
    assert cc["CC-1"].cost_usd == pytest.approx(0.85) and cc[UNTAGGED].cost_usd == pytest.approx(1.55)


def test_shared_case_export_attributes_everything_to_its_one_team():
    # the shared case as copied into the suite's fixtures (tests/fixtures/real_exports/shared-*), so a clean
    # clone runs it too
    case = FIXTURES / "shared-system-tables-sql-editor-export" / "export"
    att = attribute(load_path(case), "team")
    rows = _by_key(att)
    # expected.json: total $2.435; every usage row carries team=data-eng
    assert rows["data-eng"].cost_usd == pytest.approx(2.435)
    assert rows[UNTAGGED].runs == 0 and rows[UNTAGGED].cost_usd == 0.0


def test_unknown_cost_is_not_zero():
    df = to_canonical(pd.DataFrame({
        "run_id": ["a", "b", "c", "d"], "start_time": ["2024-01-01 00:00"] * 4, "duration_min": [1, 2, 3, 4],
        "status": ["Success", "Failed", "Success", "Success"], "cost_usd": [1.0, 2.0, 3.0, 4.0],
        "tags": ['{"team":"x"}', "team=x", "team=y", None]}))
    df["cost_usd"] = [1.0, np.nan, np.nan, 4.0]
    att = attribute(df, "team")
    rows = _by_key(att)
    assert rows["x"].cost_usd == 1.0 and rows["x"].unknown_cost_runs == 1 and rows["x"].failed_cost_usd is None
    assert rows["y"].cost_usd is None and rows["y"].share is None  # all unknown: unknown, not $0
    assert rows[UNTAGGED].share == pytest.approx(0.8)
    assert att.total.unknown_cost_runs == 2 and any("no known cost" in n for n in att.notes)
    json.dumps(att.to_dict(), allow_nan=False)


def test_tags_are_read_in_every_spelling_and_bad_ones_named():
    assert parse_tags('{"team": "gis", "n": 3}') == {"team": "gis", "n": "3"}
    assert parse_tags("team=gis; cost_center = CC-7") == {"team": "gis", "cost_center": "CC-7"}
    assert parse_tags([("team", "gis")]) == {"team": "gis"}  # a Parquet MAP as Arrow reads it
    assert parse_tags("{}") is None and parse_tags("") is None
    with pytest.raises(ValueError):
        parse_tags("finance")
    raw = pd.DataFrame({"run_id": ["a", "b"], "start_time": ["2024-01-01 00:00"] * 2, "duration_min": [1, 2],
                        "status": ["Success"] * 2, "cost_usd": [1.0, 2.0], "Tags": ["team=a", "oops"]})
    with pytest.raises(DataError) as e:
        to_canonical(raw, file="f.csv")
    assert (e.value.row, e.value.column) == (2, "Tags")
    rep = LoadReport()
    df = to_canonical(raw, strict=False, report=rep)
    assert len(df) == 2 and df["tags"].isna().tolist() == [False, True]  # kept, untagged
    assert tag_keys(df["tags"]) == ["team"] and tag_values(df["tags"], "team").tolist()[0] == "a"


def test_generator_team_tags_leave_every_other_column_alone():
    s = RealisticSettings(runs=20_000, seed=21, anomaly_rate=0.01)
    plain = generate_realistic(s)
    tagged = generate_realistic(dataclasses.replace(s, team_tags=True))
    assert plain["tags"].isna().all() and plain["workspace_id"].isna().all()
    cols = [c for c in plain.columns if c not in ("tags", "workspace_id", "sku_name")]
    pd.testing.assert_frame_equal(plain[cols], tagged[cols])
    again = generate_realistic(dataclasses.replace(s, team_tags=True))
    pd.testing.assert_series_equal(tagged["tags"], again["tags"])
    att = attribute(tagged, "team")
    untagged = att.untagged
    # two legacy pipelines have no tags, and about 5 % of the other runs lost theirs
    legacy = tagged["job_name"].isin([p for p, t in TEAMS.items() if t is None])
    lost = tagged["tags"].isna() & ~legacy
    assert lost.sum() / (~legacy).sum() == pytest.approx(0.05, abs=0.01)
    assert untagged.runs == int(legacy.sum() + lost.sum())
    assert untagged.cost_usd == pytest.approx(tagged.loc[tagged["tags"].isna(), "cost_usd"].sum())
    assert {"finance", "gis-platform", "sales"} <= {r.key for r in att.rows}
    dims = [b for b, _ in dimensions(tagged)]
    assert {"tag:team", "tag:cost_center", "workspace", "sku", "compute"} <= set(dims)
    assert {r.key for r in attribute(tagged, "compute").rows} == {"serverless", "classic", NOT_RECORDED}


REAL = Path(__file__).parent / "fixtures" / "real_exports"


@pytest.mark.parametrize("case, args, team, cost", [
    ("timeline-repaired-twice", ["job_run_timeline.csv", "jobs.csv", "usage.csv", "--usd-per-dbu", "0.25"],
     "data-eng", 2.55),  # every usage row tagged team=data-eng: all of it
    ("timeline-repair-with-hourly-slices", ["job_run_timeline.csv", "jobs.csv", "usage.csv", "--usd-per-dbu", "0.40"],
     "data-eng", 3.00),
    # custom_tags flattened into a custom_tags_team column
    ("system-tables-flattened-usage", ["underscore", "--usd-per-dbu", "0.50"], "data-eng", 3.00),
    ("system-tables-flattened-usage", ["dotted", "--usd-per-dbu", "0.50"], "data-eng", 3.00),
])
def test_real_export_shapes_attribute_by_team_by_hand(case, args, team, cost):
    from tests.conftest import run_cli

    folder = REAL / case
    if not folder.exists():
        pytest.skip("real-export fixtures not in this checkout")
    out = run_cli("analyze", *[str(folder / a) if (folder / a).exists() else a for a in args], "--by", "team",
                  "--json", "--no-drift", "--forecast-days", "0")
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    rows = {r["key"]: r for r in d["attribution"][0]["rows"]}
    assert rows[team]["cost_usd"] == pytest.approx(cost, abs=0.005)
    assert UNTAGGED in rows  # shown even at $0
    assert sum(r["cost_usd"] or 0 for r in rows.values()) == pytest.approx(d["kpis"]["total_cost_usd"], abs=1e-9)


def test_a_clicked_bar_selects_its_runs():
    from etl_desk.core.insights.attribution import attribution_mask

    df = load_path(FIX)
    fin = attribution_mask(df, "team", "finance")
    assert df.loc[fin, "run_id"].tolist() == ["701", "705"]
    assert df.loc[attribution_mask(df, "tag:team", UNTAGGED), "run_id"].tolist() == ["703"]
    assert attribution_mask(df, "compute", "serverless").sum() == 2
