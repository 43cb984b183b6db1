"""The one form builder: the generator, the anomaly thresholds and the assumptions look and read alike."""
from __future__ import annotations

import pytest

from etl_desk.core.fields import FieldSpec
from etl_desk.ui.widgets.spec_form import FormField, SpecForm


def test_fractions_money_and_multipliers_everywhere(window, qtbot):
    win = window()
    gen = win.generator
    share = gen.editors["sap_share"]
    assert (share.suffix(), share.value(), share.decimals()) == (" %", 60.0, 0)  # 0.6 shown as 60 %
    share.setValue(80)
    assert gen.settings().sap_share == pytest.approx(0.8)
    dbu = gen.editors["usd_per_dbu"]
    assert (dbu.prefix(), dbu.suffix(), dbu.decimals()) == ("$", "/DBU", 2)
    assert gen.editors["failure_rate_scale"].suffix() == " ×"
    th = win.insights_page.threshold_editors
    assert th["failure_jump_pp"].suffix() == " pp" and th["spike_factor"].suffix() == " ×"
    assert th["z_threshold"].decimals() == 2  # step 0.25
    ed = win.business_case_page.editors
    effect = ed[("solutions", "data-lifecycle", "effect")]
    assert effect.suffix() == " % of target" and effect.prefix() == ""
    rate = ed[("solutions", "data-lifecycle", "weekly_rate_usd")]
    assert rate.prefix() == "$" and rate.suffix() == " per person-week"
    # the tooltips carry the help and the range in shown units
    assert "Range 0 – 100 %" in share.toolTip()


def test_values_shown_silently_and_edits_reported_in_stored_units(qtbot):
    form = SpecForm([FormField("share", FieldSpec("Share", "fraction", 0.0, 1.0, 0.05), "float"),
                     FormField("n", FieldSpec("Runs", "runs", 1, 100, 1), "int"),
                     FormField("on", FieldSpec("On"), "bool"),
                     FormField("pick", FieldSpec("Pick", choices=("a", "b")), "choice", choice_labels={"b": "Bee"})])
    qtbot.addWidget(form)
    edits = []
    form.edited.connect(lambda k, v: edits.append((k, v)))
    form.set_values({"share": 0.25, "n": 7, "on": True, "pick": "b"})
    assert edits == []
    assert form.values() == {"share": 0.25, "n": 7, "on": True, "pick": "b"}
    assert form.editors["pick"].currentText() == "Bee"
    form.editors["share"].setValue(40)
    form.editors["n"].setValue(9)
    assert edits == [("share", 0.4), ("n", 9)]
