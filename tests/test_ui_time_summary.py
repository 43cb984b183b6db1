"""The line above the time view: the trend in money and as a share of the mean, signs written one way."""
from __future__ import annotations

import numpy as np
import pytest

from etl_desk.core.dashboard.timeline import Timeline
from etl_desk.ui.dashboard.time_chart import summary_text


def _timeline(slope: float) -> Timeline:
    total = np.full(10, 400.0)  # a mean of $400 a day
    return Timeline("day", np.arange(10).astype("datetime64[D]").astype("datetime64[ns]"), total, total * 0.1,
                    np.full(10, 5), total + slope, slope)


@pytest.mark.parametrize("slope, want", [
    (-0.26, "trend −$0.26 a day (−0.07 % of the mean)"),   # 0.26 / 400 = 0.065 %: one minus sign, both figures
    (-0.004, "trend $0.00 a day (0.00 % of the mean)"),   # rounds to nothing: no "−$0.00", no "-0.00 %"
    (2.0, "trend +$2.00 a day (+0.50 % of the mean)"),
])
def test_trend_signs(slope, want):
    text = summary_text(_timeline(slope), "day", 0)
    assert want in text.replace("\u2060", "") and "-" not in text.split("trend")[1]
    assert "\u2212$" not in text  # the sign stays joined to the amount when the line wraps
