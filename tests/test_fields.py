"""One field spec (generator settings, anomaly thresholds, business-case assumptions) and unit formatting."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from etl_desk.core import fmt
from etl_desk.core.business_case.catalogue import global_assumptions, load_catalogue
from etl_desk.core.data.realistic import RealisticSettings
from etl_desk.core.fields import FieldSpec, field_specs, value_kind
from etl_desk.core.insights.anomalies import AnomalyThresholds


def test_the_three_dialects_are_one_spec():
    gen, th = field_specs(RealisticSettings), field_specs(AnomalyThresholds)
    assert isinstance(gen["spot_share"], FieldSpec) and isinstance(th["z_threshold"], FieldSpec)
    a = global_assumptions()["discount_rate"]
    assert isinstance(a.spec, FieldSpec) and a.label == a.spec.label and a.rationale == a.spec.help
    for s in load_catalogue():
        for k, asm in s.assumptions.items():
            assert asm.kind == value_kind(asm.value, asm.spec), (s.id, k)


@pytest.mark.parametrize("unit, affixes, shown_step, decimals", [
    ("fraction", ("", " %"), 5.0, 0),  # 0.05 shown as 5 %
    ("fraction of target", ("", " % of target"), 5.0, 0),
    ("USD per year", ("$", " per year"), 500.0, 0),
    ("USD/DBU", ("$", "/DBU"), 0.01, 2),
    ("x", ("", " ×"), 0.1, 1),
    ("percentage points", ("", " pp"), 0.5, 1),
    ("runs", ("", " runs"), 1000, 0),
    ("", ("", ""), 0.25, 2),
])
def test_affixes_and_decimals(unit, affixes, shown_step, decimals):
    step = {"fraction": 0.05, "fraction of target": 0.05}.get(unit, shown_step)
    spec = FieldSpec("X", unit, 0, 10, step)
    assert spec.affixes() == affixes
    assert spec.display_decimals() == decimals
    assert FieldSpec("X", unit, 0, 10, step, decimals=3).display_decimals() == 3


def test_range_text_and_problems():
    assert FieldSpec("Share", "fraction", 0.0, 0.95, 0.05).range_text() == "Range 0 – 95 %"
    assert FieldSpec("Runs", "runs", 1, 5_000_000, 1).range_text() == "Range 1 – 5,000,000 runs"
    assert FieldSpec("Start", "ISO date").range_text() == ""
    runs = FieldSpec("Runs", "runs", 1, 10, 1)
    assert runs.problem(5, "int") is None
    assert "whole number" in runs.problem(2.5, "int") and "whole number" in runs.problem(5.0, "int")
    assert runs.problem(11, "int") == "Runs: 11 is outside 1–10 runs"
    assert "finite" in FieldSpec("Z", "", 0, 1, 0.1).problem(float("nan"), "float")
    assert "true/false" in FieldSpec("On").problem(1, "bool")
    assert "one of a, b" in FieldSpec("C", choices=("a", "b")).problem("c", "choice")


@pytest.mark.parametrize("v, unit, text", [
    (1315.095, "usd", "$1,315.10"),  # the spreadsheet's rounding
    (4.76, "percent", "4.76 %"),
    (0.0476, "fraction", "4.76 %"),
    (441.57, "gb", "441.57 GB"),
    (12.5, "min", "12.5 min"),
    (3, "count", "3"),
    (2.345, "ratio", "2.35x"),
    (1.234, "gb_per_min", "1.234 GB/min"),
    (None, "usd", "—"),
    (float("nan"), "usd", "—"),
    (pd.NA, None, "—"),
    (pd.NaT, "date", "—"),
    (np.True_, None, "yes"),
    (pd.Timestamp("2024-04-14"), "date", "14 Apr 2024"),
    (pd.Timestamp("2024-04-14 04:38:37"), "datetime", "14 Apr 2024 04:38"),
    (pd.Timestamp("2024-04-14 04:38:37"), "date", "14 Apr 2024"),
    (dt.date(2024, 1, 2), "date", "02 Jan 2024"),
    ("SAP", "usd", "SAP"),
])
def test_by_unit(v, unit, text):
    assert fmt.by_unit(v, unit) == text


@pytest.mark.parametrize("v", [None, float("nan"), np.float32("nan"), np.float64("inf"), pd.NA, pd.NaT])
def test_unknown_of_any_type_reads_as_unknown_in_every_formatter(v):
    """NumPy float32 NaN (Arrow float columns) and pandas NA used to raise inside fmt.usd / fmt.gb."""
    assert fmt.usd(v) == "—" and fmt.usd_short(v) == "—" and fmt.gb(v) == "—" and fmt.by_unit(v, "usd") == "—"


def test_numpy_numbers_format_like_floats():
    assert fmt.usd(np.float32(2.5)) == "$2.50" and fmt.usd(np.int64(3)) == "$3.00" and fmt.gb(np.float64(1.5)) == "1.50 GB"
