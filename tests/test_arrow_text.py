"""The fast import checks read from Arrow buffers must give exactly the answers of the slow ones.

A user never sees these functions; they see their consequences: a 1M-row import that
takes a third of the time, and, if any of them were wrong, a duplicate run ID let
through, a padded ID kept with its spaces, or a status read as the wrong one. Each
test compares the fast answer with plain pandas / Python on the same values.
"""
from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from etl_desk.core.data import arrow_text, schema
from etl_desk.core.data.arrow_text import factorize_text, max_bytes, strings_unique, text_facts
from etl_desk.core.errors import DataError, LoadReport
from etl_desk.core.data.schema import to_canonical

PIECES = ["a", "b", "Z", "0", "-", " ", "\t", "\u00a0", "\u3000", "é", "€", "x" * 7, "y" * 8, "z" * 9]


def random_values(rng: random.Random, n: int) -> list:
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.08:
            out.append(None)
        elif r < 0.12:
            out.append("")
        else:
            out.append("".join(rng.choice(PIECES) for _ in range(rng.randint(1, 6))))
    return out


def arrow_series(values: list, chunks: int = 1, offset: int = 0) -> pd.Series:
    """Arrow-backed text in several chunks, optionally a slice (non-zero array offset)."""
    padded = ["pad"] * offset + values
    size = max(1, len(padded) // max(chunks, 1))
    parts = [pa.array(padded[i:i + size], type=pa.large_string()) for i in range(0, len(padded), size)] or \
        [pa.array([], type=pa.large_string())]
    chunked = pa.chunked_array(parts, type=pa.large_string()).slice(offset)
    s = pd.Series(pd.arrays.ArrowStringArray(chunked))
    assert arrow_text.arrow_chunks(s) is not None
    return s


@pytest.mark.parametrize("seed", range(6))
def test_text_facts_agree_with_python(seed):
    rng = random.Random(seed)
    values = random_values(rng, rng.randint(0, 400))
    facts = text_facts(arrow_series(values, chunks=rng.randint(1, 5), offset=rng.randint(0, 3)))
    present = [v for v in values if v is not None]
    assert facts.nulls == len(values) - len(present)
    assert facts.empties == sum(v == "" for v in present)
    truly_padded = sum(v != v.strip() for v in present if v)
    # "maybe padded" may over-count (non-ASCII edges) but never miss a value strip() changes
    assert facts.padded >= truly_padded
    assert facts.max_bytes == max((len(v.encode()) for v in present), default=0)
    assert facts.clean == (facts.empties == 0 and truly_padded == 0 and facts.padded == 0)
    if not any(v and (v[0] > "\x7f" or v[-1] > "\x7f") for v in present):
        assert facts.padded == truly_padded


def test_text_facts_refuse_non_arrow_text():
    assert text_facts(pd.Series(["a", " b"], dtype=object)) is None
    assert max_bytes(pd.Series([1, 2])) is None


@pytest.mark.parametrize("seed", range(8))
def test_strings_unique_agrees_with_pandas(seed):
    rng = random.Random(100 + seed)
    values = random_values(rng, rng.randint(0, 300))
    if seed % 2 and values:
        values.append(rng.choice([v for v in values if v is not None] or ["dup"]))
        values.append(values[-1])
    s = arrow_series(values, chunks=rng.randint(1, 4), offset=rng.randint(0, 2))
    assert strings_unique(s) == pd.Series(values, dtype=object).dropna().is_unique


def test_ids_that_differ_only_in_the_middle_or_by_length():
    ids = [f"sap-fi-gl-extract-{i:06d}-a1" for i in range(20_000)] + ["abc", "abc\x00", "abcdefgh", "abcdefghi"]
    assert strings_unique(arrow_series(ids, chunks=7)) is True
    assert strings_unique(arrow_series(ids + ["sap-fi-gl-extract-000123-a1"], chunks=7)) is False


def test_hash_collisions_are_settled_by_comparing_the_strings(monkeypatch):
    # every value hashes alike: the answer must still be exact
    monkeypatch.setattr(arrow_text, "_word_hashes", lambda ch, out: out.fill(7))
    assert strings_unique(arrow_series(["a", "b", "c"])) is True
    assert strings_unique(arrow_series(["a", "b", "a"])) is False


def test_very_long_values_are_left_to_pandas():
    assert strings_unique(arrow_series(["x" * 300, "y"])) is None


@pytest.mark.parametrize("seed", range(5))
def test_factorize_text_agrees_with_pandas(seed):
    rng = random.Random(200 + seed)
    common = ["Success", "Failed", " SUCCEEDED ", "", "TIMED_OUT"]
    values = [None if rng.random() < 0.05 else rng.choice(common) for _ in range(20_000)]
    values[rng.randrange(len(values))] = "a rare state the sample misses"
    codes, uniques = factorize_text(arrow_series(values, chunks=3))
    decoded = [None if c < 0 else uniques[c] for c in codes]
    assert decoded == values


# ------------------------------------------------------------------ to_canonical, fast == general

def messy_frame(rng: random.Random, n: int, blanks: bool = True) -> pd.DataFrame:
    """Runs with every fixable problem; without *blanks* the text is padded but never empty
    (so the checks that look for padding alone decide which path runs)."""
    blank = [""] if blanks else []
    ids = [f"run-{i:05d}" for i in range(n)]
    for _ in range(3):
        ids[rng.randrange(n)] = ids[rng.randrange(n)]        # duplicates
    ids[rng.randrange(n)] = f"  {ids[rng.randrange(n)]} "     # padding
    if blanks:
        ids[rng.randrange(n)] = ""                            # blank
    base = pd.Timestamp("2024-03-01")
    start = [(base + pd.Timedelta(minutes=7 * i)).strftime("%Y-%m-%d %H:%M:%S") for i in range(n)]
    start[rng.randrange(n)] = " " + start[0]
    status = [rng.choice(["SUCCEEDED", "FAILED", "CANCELED", "SKIPPED", " timed out", "Success"] + blank)
              for _ in range(n)]
    status[rng.randrange(n)] = "WEIRD"
    return pd.DataFrame({
        "Job ID": ids,
        "Job Name": [rng.choice(["a", " b ", "\u00a0c"] + blank) for _ in range(n)],
        "Source System": [rng.choice(["sap", "GIS ", "Other", "x"] + blank) for _ in range(n)],
        "Start Time": start,
        "Duration (min)": [rng.choice([1.0, 2.5, -1.0, float("nan"), 30.0]) for _ in range(n)],
        "Result State": status,
        "Termination Code": [rng.choice(["SUCCESS", " RUN_ERROR"] + blank) for _ in range(n)],
        "Cost (USD)": [rng.choice([0.5, 1.25, float("nan"), 3.0]) for _ in range(n)],
        "Attempt": [rng.choice([1, 1, 2, 0]) for _ in range(n)],
    })


def as_object(df: pd.DataFrame) -> pd.DataFrame:
    """The same table with Python-object text: no Arrow buffers, so the general path runs."""
    return df.astype({c: object for c in df.columns if df[c].dtype != np.float64 and df[c].dtype != np.int64})


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("threads", [False, True])
def test_fast_and_general_paths_load_the_same_table(seed, threads, monkeypatch):
    monkeypatch.setattr(schema, "PARALLEL_ROWS", 0 if threads else 10 ** 9)
    raw = messy_frame(random.Random(seed), 400, blanks=seed % 2 == 0)
    assert arrow_text.arrow_chunks(raw["Job ID"]) is not None  # pandas' default text is Arrow here
    fast_report, slow_report = LoadReport(), LoadReport()
    fast = to_canonical(raw, strict=False, report=fast_report, file="f.csv")
    slow = to_canonical(as_object(raw), strict=False, report=slow_report, file="f.csv")
    pd.testing.assert_frame_equal(fast, slow)
    assert fast_report.warnings == slow_report.warnings
    with pytest.raises(DataError) as fast_err:
        to_canonical(raw, strict=True, file="f.csv")
    with pytest.raises(DataError) as slow_err:
        to_canonical(as_object(raw), strict=True, file="f.csv")
    assert fast_err.value.message == slow_err.value.message


def test_clean_table_loads_identically_on_both_paths(monkeypatch, case_study):
    monkeypatch.setattr(schema, "PARALLEL_ROWS", 0)
    raw = schema.to_labels(case_study).astype({"Start Time": str, "End Time": str})
    raw = raw.assign(**{c: raw[c].astype("str") for c in ("Job ID", "Job Status", "Start Time", "End Time")})
    fast = to_canonical(raw)
    slow = to_canonical(as_object(raw))
    pd.testing.assert_frame_equal(fast, slow)
    assert fast["cost_usd"].sum() == pytest.approx(1315.095)


@pytest.mark.parametrize("ids, unique", [
    ([f"{i:012d}" for i in range(5000)], True),                       # one length throughout
    ([f"{i:012d}" for i in range(5000)] + ["000000004999"], False),
    (["abcdefghij", "abcdefghik", "x"], True),                        # a short value ends the buffer
    (["x", "abcdefghij", "x"], False),
])
def test_strings_unique_on_fixed_lengths_and_short_tails(ids, unique):
    for chunks in (1, 3):
        assert strings_unique(arrow_series(ids, chunks=chunks)) is unique
