"""Run statuses from raw states: outcome codes, the cancelled/skipped policies, unknown states.

The table of values is data (:mod:`etl_desk.core.data.outcomes`, from
``etl_desk/resources/run_outcomes.csv``); this module turns a column of raw states into
int8 codes in O(distinct values) and applies the policies. Used by
:func:`etl_desk.core.data.schema.to_canonical`.
"""
from __future__ import annotations

from enum import StrEnum

import numpy as np
import pandas as pd

from etl_desk.core.data import outcomes
from etl_desk.core.data.arrow_text import factorize
from etl_desk.core.errors import DataError

SUCCESS = "Success"
FAILED = "Failed"


class RunPolicy(StrEnum):
    """What to do with cancelled and skipped runs: count them as failed, as successful, or leave
    them out. The default follows FinOps practice: a cancelled run consumed compute and produced
    nothing, so it counts as failed spend; a skipped run never started and costs nothing, so it
    is left out."""

    FAILED = "failed"
    SUCCESS = "success"
    EXCLUDE = "exclude"


CANCELLED_POLICIES = tuple(RunPolicy)
DEFAULT_CANCELLED_POLICY = RunPolicy.FAILED
DEFAULT_SKIPPED_POLICY = RunPolicy.EXCLUDE


#: Codes of :func:`status_codes`: the index into STATUSES, or one of these.
CODE_EMPTY, CODE_EXCLUDED, CODE_UNKNOWN, CODE_RUNNING = -1, -2, -3, -4
#: Outcome codes of :func:`outcome_codes`: the index into ``outcomes.OUTCOMES``, or
#: CODE_EMPTY / CODE_UNKNOWN.
_OUTCOME_INDEX = {o: i for i, o in enumerate(outcomes.OUTCOMES)}


def outcome_codes(states: pd.Series, *, direct: bool = False) -> np.ndarray:
    """Raw states (any spelling, any padding) as int8 codes into ``outcomes.OUTCOMES``.

    ``CODE_EMPTY`` for missing or blank values, ``CODE_UNKNOWN`` for values not in the
    outcome table. *direct*: the values already are outcome names (``success`` ...).
    Works on the distinct values only (a handful) and broadcasts by code: O(n) in C.
    """
    codes, uniques = factorize(states)
    table = []
    for u in uniques:
        text = "" if u is None or (isinstance(u, float) and u != u) else str(u).strip()
        if not text:
            table.append(CODE_EMPTY)
        elif direct:
            table.append(_OUTCOME_INDEX.get(text.lower(), CODE_UNKNOWN))
        else:
            o = outcomes.outcome_of(text)
            table.append(_OUTCOME_INDEX[o] if o is not None else CODE_UNKNOWN)
    arr = np.array(table + [CODE_EMPTY], dtype=np.int8)
    return arr[codes]  # code -1 (missing) takes the table's last entry


def _policy_table(cancelled: str, skipped: str) -> np.ndarray:
    """Outcome code -> status code under the policies (index by outcome code)."""
    for policy in (cancelled, skipped):
        if policy not in CANCELLED_POLICIES:
            raise ValueError(f"unknown policy {policy!r}; use one of {', '.join(CANCELLED_POLICIES)}")
    as_status = {"failed": 1, "success": 0, "exclude": CODE_EXCLUDED}
    return np.array([0, 1, as_status[cancelled], as_status[skipped], CODE_RUNNING], dtype=np.int8)


def status_codes(states: pd.Series, *, cancelled: str = DEFAULT_CANCELLED_POLICY,
                 skipped: str = DEFAULT_SKIPPED_POLICY, direct: bool = False) -> np.ndarray:
    """Raw states as int8 codes into :data:`STATUSES` under the cancelled/skipped policies.

    ``CODE_EMPTY`` blank, ``CODE_EXCLUDED`` left out by a policy, ``CODE_UNKNOWN`` not in the
    outcome table, ``CODE_RUNNING`` still running.
    """
    oc = outcome_codes(states, direct=direct)
    pol = _policy_table(cancelled, skipped)
    return np.where(oc >= 0, pol[np.clip(oc, 0, None)], oc).astype(np.int8)


def status_from_state(states: pd.Series, *, cancelled: str = DEFAULT_CANCELLED_POLICY,
                      skipped: str = DEFAULT_SKIPPED_POLICY) -> pd.Series:
    """Map raw result states (any spelling) to Success / Failed / NA (= left out).

    Unknown non-empty states return the sentinel ``"?"`` so the caller can name the row.
    """
    codes = status_codes(states, cancelled=cancelled, skipped=skipped)
    labels = np.array([SUCCESS, FAILED, "?", pd.NA, pd.NA], dtype=object)
    # code -> label: 0, 1 -> status; CODE_UNKNOWN (-3) -> "?"; excluded / empty / running -> NA
    return pd.Series(labels[np.select([codes >= 0, codes == CODE_UNKNOWN], [codes, 2], 3)],
                     index=states.index, dtype="object")


def _outcome_job(states: pd.Series, direct: bool) -> np.ndarray:
    return outcome_codes(states, direct=direct)


def _unknown_states(mask, states: pd.Series, rows, file, label, strict, report, leave_out) -> None:
    """Unknown states: refuse (strict) or leave the runs out with a warning naming each value,
    the file and its first row; never counted as failed."""
    idx = np.flatnonzero(mask)
    values = states.iloc[idx].astype("string").str.strip()
    where = f"{file}, " if file else ""
    if strict:
        i = int(idx[0])
        raise DataError(f"unknown job status {str(values.iloc[0])[:40]!r}: not a run state or code Databricks "
                        f"documents (see resources/run_outcomes.csv)", file=file, row=int(rows[i]),
                        column=label)
    for v, grp in pd.Series(idx).groupby(values.to_numpy(), sort=False):
        ids = grp.to_numpy()
        shown = str(v)[:40]
        report.add(f"unknown job status {shown!r} ({where}row {int(rows[ids[0]])}, column '{label}'): "
                   f"{len(ids):,} run(s) left out, neither success nor failure")
        sub = np.zeros(len(mask), dtype=bool)
        sub[ids] = True
        leave_out(sub, f"unknown job status {shown!r}")
