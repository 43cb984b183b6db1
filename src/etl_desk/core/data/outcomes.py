"""Run outcomes: every state and code Databricks documents, as data.

The table is ``resources/run_outcomes.csv`` (shipped as the package
``etl_desk.resources``, loaded with :mod:`importlib.resources`): one row per
``(source, value)`` with the outcome and the Databricks page it comes from.

Sources (the field a value was read from):

* ``result_state`` — Jobs API ``state.result_state`` (RunResultState)
* ``life_cycle_state`` — Jobs API ``state.life_cycle_state`` (RunLifeCycleState)
* ``status_state`` — Jobs API 2.2 ``status.state`` (RunLifecycleStateV2State)
* ``termination_code`` / ``termination_type`` — Jobs API 2.2 ``status.termination_details``
* ``timeline_result_state`` / ``timeline_termination_code`` — ``system.lakeflow.job_run_timeline``
* ``free_text`` — what people and other tools type in a status column

Docs: https://docs.databricks.com/api/workspace/jobs/listruns ,
https://docs.databricks.com/aws/en/admin/system-tables/jobs .

Outcomes (:data:`OUTCOMES`): ``success``; ``failed``; ``cancelled`` (follows the
cancelled policy, default: counted as failed); ``never_ran`` (skipped, excluded,
disabled, concurrency or queue limits: follows the skipped policy, default: left
out); ``still_running`` (left out and counted in a note). A value in none of the
rows is *unknown*: the run is left out with a warning naming it (``--strict``
refuses), never silently counted as failed.

Values are matched case-insensitively, with spaces and hyphens read as ``_``
(``Timed out`` = ``TIMED_OUT``).
"""
from __future__ import annotations

import csv
import io
import re
from functools import lru_cache
from importlib import resources

SUCCESS, FAILED, CANCELLED, NEVER_RAN, STILL_RUNNING = OUTCOMES = (
    "success", "failed", "cancelled", "never_ran", "still_running")
SOURCES = ("result_state", "life_cycle_state", "status_state", "termination_code", "termination_type",
           "timeline_result_state", "timeline_termination_code", "free_text")

#: Order in which a free-typed status column is looked up: people's spellings, then the
#: Databricks run states (which agree with them), then the termination codes.
FREE_TEXT_ORDER = ("free_text", "result_state", "timeline_result_state", "life_cycle_state", "status_state",
                   "termination_code")

RESOURCE_PACKAGE = "etl_desk.resources"
RESOURCE = "run_outcomes.csv"


def key(value: object) -> str:
    """The lookup key of a raw value: stripped, upper case, spaces/hyphens as ``_``."""
    return re.sub(r"[\s\-]+", "_", str(value).strip().upper())


@lru_cache(maxsize=1)
def table() -> tuple[dict, ...]:
    """The rows of the outcome table: dicts with source, value, outcome, doc, meaning.

    Raises:
        ValueError: when a row of the shipped table names an unknown source or outcome (a
            packaging bug, not user input).
    """
    text = resources.files(RESOURCE_PACKAGE).joinpath(RESOURCE).read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    rows = tuple(csv.DictReader(io.StringIO("\n".join(lines))))
    for r in rows:
        if r["source"] not in SOURCES or r["outcome"] not in OUTCOMES:
            raise ValueError(f"{RESOURCE}: bad row {r}")
    return rows


@lru_cache(maxsize=None)
def by_source(source: str) -> dict[str, str]:
    """``{value: outcome}`` for one source field.

    Raises:
        KeyError: for a *source* not in :data:`SOURCES`.
    """
    if source not in SOURCES:
        raise KeyError(source)
    return {r["value"]: r["outcome"] for r in table() if r["source"] == source}


@lru_cache(maxsize=1)
def free_text() -> dict[str, str]:
    """``{value: outcome}`` for a status column typed by anyone: the sources of
    :data:`FREE_TEXT_ORDER` merged, earlier sources winning."""
    out: dict[str, str] = {}
    for src in reversed(FREE_TEXT_ORDER):
        out.update(by_source(src))
    return out


def outcome_of(value: object, source: str = "free_text") -> str | None:
    """The outcome of *value* read from *source* (``free_text``: any spelling), or None
    when the value is not in the table (unknown) or blank."""
    if value is None:
        return None
    k = key(value)
    if not k or k in ("NAN", "NONE", "NULL", "<NA>"):
        return None
    table_ = free_text() if source == "free_text" else by_source(source)
    return table_.get(k)


def combine(state: str | None, code: str | None) -> str | None:
    """One outcome from a run's state outcome and its termination-code outcome.

    The state decides; the code only refines it: a cancel that the code shows was the
    platform's (``CANCELED``, e.g. the maximum run duration) is a failure, and a code
    decides alone when there is no state.
    """
    if state is None:
        return code
    if state == CANCELLED and code == FAILED:
        return FAILED
    return state


def doc_of(value: object, source: str) -> str | None:
    """The Databricks page that documents *value* in *source* (for messages and provenance)."""
    k = key(value)
    return next((r["doc"] for r in table() if r["source"] == source and r["value"] == k), None)
