"""The solutions catalogue: shipped as data, complete, valid, with diagrams."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from etl_desk.core.business_case import catalogue as S


def test_five_solutions_in_case_study_order():
    sols = S.load_catalogue()
    assert [s.id for s in sols] == ["error-monitoring", "cost-optimisation", "parallel-processing",
                                    "data-lifecycle", "performance-monitoring"]
    assert [s.number for s in sols] == [1, 2, 3, 4, 5]
    assert [s.target for s in sols] == ["failed_cost", "on_demand_cost", "large_volume_cost", "storage_cost",
                                        "anomaly_excess_cost"]


@pytest.mark.parametrize("sol", S.load_catalogue(), ids=lambda s: s.id)
def test_each_solution_is_complete(sol):
    assert tuple(sol.assumptions) == S.SOLUTION_KEYS
    for a in sol.assumptions.values():
        assert isinstance(a, S.Assumption)
        assert a.label and a.rationale.strip()
        if a.kind in ("int", "float"):
            assert a.min <= a.value <= a.max and a.step > 0 and a.unit
    assert sol.assumptions["target"].value == sol.target
    assert sol.personnel and sol.technology and sol.timeline and sol.feasibility and sol.summary
    assert 0 < sol.assumptions["effect"].value < 1 and sol.assumptions["effect"].max == 1


@pytest.mark.parametrize("sol", S.load_catalogue(), ids=lambda s: s.id)
def test_each_diagram_ships_and_is_valid_svg(sol):
    p = S.diagram_path(sol)
    assert p.name == f"solution-{sol.number}.svg" and p.is_file()
    root = ET.parse(p).getroot()
    assert root.tag.endswith("svg")
    assert root.get("viewBox") == "0 0 640 360"
    text = p.read_text()
    assert "#F28E2B" in text and "#4E79A7" in text
    assert "<script" not in text


def test_globals():
    g = S.global_assumptions()
    assert tuple(g) == S.GLOBAL_KEYS
    assert g["horizon_years"].value == 3 and g["discount_rate"].value == 0.08 and g["growth_rate"].value == 0
    assert g["annualisation"].choices == ("span", "active_days")
    assert g["storage_usd_per_month"].unit == "USD per month"


def test_targets_have_labels():
    t = S.targets()
    for k in ("failed_cost", "retry_cost", "on_demand_cost", "large_volume_cost", "storage_cost",
              "anomaly_excess_cost", "total_cost"):
        assert t[k].label and t[k].description


def test_malformed_catalogue_is_rejected():
    import copy
    import tomllib
    from importlib import resources

    data = tomllib.loads(resources.files("etl_desk.resources").joinpath("solutions.toml").read_text())
    S.parse_catalogue(copy.deepcopy(data))
    bad = copy.deepcopy(data)
    bad["solution"][0]["assumptions"]["effect"]["value"] = 2.0
    with pytest.raises(S.CatalogueError, match="effect"):
        S.parse_catalogue(bad)
    bad = copy.deepcopy(data)
    del bad["solution"][1]["assumptions"]["people"]["rationale"]
    with pytest.raises(S.CatalogueError, match="rationale|keys"):
        S.parse_catalogue(bad)
    bad = copy.deepcopy(data)
    bad["solution"][1]["id"] = bad["solution"][0]["id"]
    with pytest.raises(S.CatalogueError, match="duplicate"):
        S.parse_catalogue(bad)
