"""One entry point for every generator preset."""
from __future__ import annotations

import pandas as pd

from etl_desk.core.data.case_study import RUNS, SEED, generate_case_study
from etl_desk.core.data.realistic import RealisticSettings, generate_realistic
from etl_desk.core.tasks import CancelFn, ProgressFn

PRESETS = ("case-study", "realistic")


def generate(preset: str = "case-study", *, runs: int | None = None, seed: int | None = None,
             anomaly_rate: float | None = None, settings=None,
             progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> pd.DataFrame:
    """Generate a canonical table with the named preset.

    ``case-study`` ignores *anomaly_rate*; ``realistic`` takes a
    :class:`etl_desk.core.data.realistic.RealisticSettings` (``settings``) whose
    runs / seed / anomaly rate the keyword arguments override.

    Raises:
        ValueError: for a preset not in :data:`PRESETS`, or case-study *runs* < 1 (0 is not "the default").
        SettingsError: (a DataError) when the realistic settings are out of range, listing every problem.
        Cancelled: (:class:`etl_desk.core.tasks.Cancelled`) when ``cancel()`` returns True (realistic only).
    """
    if preset == "case-study":

        df = generate_case_study(runs=RUNS if runs is None else runs, seed=SEED if seed is None else seed)
        if progress:
            progress(1.0)
        return df
    if preset == "realistic":
        from dataclasses import replace


        s = settings or RealisticSettings()
        over = {k: v for k, v in (("runs", runs), ("seed", seed), ("anomaly_rate", anomaly_rate))
                if v is not None}
        if over:
            s = replace(s, **over)
        return generate_realistic(s, progress=progress, cancel=cancel)
    raise ValueError(f"unknown preset {preset!r}; use one of: {', '.join(PRESETS)}")
