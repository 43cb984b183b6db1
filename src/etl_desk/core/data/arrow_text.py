"""Fast facts about text columns, read straight from their Arrow buffers.

pandas 3 keeps text in Arrow (``str`` / ``string[pyarrow]``): per row an offset into
one byte buffer. Questions the importer asks of every text column of a 1,000,000-row
file ("is any value empty or padded with spaces?", "how long is the longest value?",
"are the run IDs unique?") can be answered from the offsets and a few bytes per value
with NumPy, without building a million Python strings or a hash table of strings.

Every function returns ``None`` when it cannot answer cheaply (not Arrow-backed, odd
layout); callers then take their general pandas path, which gives the same answer.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: A first or last byte outside 0x21-0x7F may be whitespace that ``str.strip()`` removes
#: (ASCII spaces and controls, or the lead/continuation byte of a Unicode space such as
#: U+00A0). Such values are only *maybe* padded: they send the column to the general path.
_PRINTABLE_LO = np.uint8(0x21)
_PRINTABLE_SPAN = np.uint8(0x7F - 0x21)

_MIX = np.uint64(0x9E3779B97F4A7C15)
_ALL_ONES = np.uint64(0xFFFFFFFFFFFFFFFF)
#: Strings longer than this are hashed by Arrow instead (a word loop per 8 bytes).
_MAX_WORD_HASH_BYTES = 256


@dataclass(frozen=True)
class TextFacts:
    """What a text column holds, without reading it value by value."""

    nulls: int          # missing values
    empties: int        # values that are the empty string
    padded: int         # values that may start or end with whitespace (or a non-ASCII byte)
    max_bytes: int      # longest value in UTF-8 bytes (>= its length in characters)

    @property
    def clean(self) -> bool:
        """True when stripping would change nothing and no value is the empty string."""
        return self.empties == 0 and self.padded == 0


@dataclass(frozen=True)
class _Chunk:
    offsets: np.ndarray   # int64, len + 1, relative to data
    data: np.ndarray      # uint8 bytes of this chunk's values
    valid: np.ndarray | None  # bool per value, None when no nulls


def arrow_chunks(s: pd.Series):
    """The Arrow string chunks behind *s*, or None when *s* is not Arrow-backed text."""
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        return None
    dtype = s.dtype
    if not (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"):
        return None
    try:  # the public Arrow protocol: zero-copy for Arrow-backed text
        arr = pa.array(s.array)
    except (TypeError, ValueError, pa.ArrowException):  # pragma: no cover - defensive
        return None
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    for c in chunks:
        if not (pa.types.is_string(c.type) or pa.types.is_large_string(c.type)):
            return None
    return chunks


def _chunk(c) -> _Chunk:
    import pyarrow as pa

    n = len(c)
    bufs = c.buffers()
    off_dtype = np.int64 if pa.types.is_large_string(c.type) else np.int32
    if bufs[1] is None:  # an all-null array may come without buffers
        offsets = np.zeros(n + 1, dtype=np.int64)
    else:
        offsets = np.frombuffer(bufs[1], dtype=off_dtype, count=c.offset + n + 1)[c.offset:]
        offsets = offsets.astype(np.int64, copy=False)
    base, end = (int(offsets[0]), int(offsets[-1])) if n else (0, 0)
    data = (np.frombuffer(bufs[2], dtype=np.uint8)[base:end] if bufs[2] is not None and end > base
            else np.zeros(0, dtype=np.uint8))
    if base:
        offsets = offsets - base
    valid = np.asarray(c.is_valid()) if c.null_count else None
    return _Chunk(offsets, data, valid)


def _chunks_of(s: pd.Series) -> list[_Chunk] | None:
    chunks = arrow_chunks(s)
    if chunks is None:
        return None
    return [_chunk(c) for c in chunks if len(c)]


def text_facts(s: pd.Series) -> TextFacts | None:
    """Nulls, empty values, possibly padded values and the longest value of *s* (or None)."""
    chunks = _chunks_of(s)
    if chunks is None:
        return None
    nulls = empties = padded = 0
    max_bytes = 0
    for ch in chunks:
        lengths = np.diff(ch.offsets)
        if not len(lengths):
            continue
        if ch.valid is not None:
            nulls += int(len(lengths) - ch.valid.sum())
            lengths = np.where(ch.valid, lengths, -1)  # nulls: neither empty nor padded
        longest = int(lengths.max())
        max_bytes = max(max_bytes, longest)
        if longest <= 0:  # all null or empty
            empties += int((lengths == 0).sum())
            continue
        full = None
        if int(lengths.min()) <= 0:
            empties += int((lengths == 0).sum())
            full = lengths > 0
        starts = ch.offsets[:-1] if full is None else ch.offsets[:-1][full]
        ends = ch.offsets[1:] if full is None else ch.offsets[1:][full]
        first = ch.data[starts]
        last = ch.data[ends - 1]
        first -= _PRINTABLE_LO
        last -= _PRINTABLE_LO
        np.maximum(first, last, out=first)
        padded += int(np.count_nonzero(first > _PRINTABLE_SPAN))
    return TextFacts(nulls=nulls, empties=empties, padded=padded, max_bytes=max_bytes)


def max_bytes(s: pd.Series) -> int | None:
    """The longest value of *s* in UTF-8 bytes (an upper bound of its length in characters)."""
    chunks = arrow_chunks(s)
    if chunks is None:
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    if not chunks:
        return 0
    longest = pc.max(pc.binary_length(pa.chunked_array(chunks, type=chunks[0].type))).as_py()
    return int(longest or 0)


def _half_mask(count: np.ndarray) -> np.ndarray:
    """Per value, a uint64 mask keeping its first *count* (0-8) bytes of a little-endian word."""
    shift = np.uint64(8) * np.minimum(count, 7).astype(np.uint64)
    return np.where(count >= 8, _ALL_ONES, (np.uint64(1) << shift) - np.uint64(1))


def _word_hashes(ch: _Chunk, out: np.ndarray) -> None:
    """A 64-bit hash per value, from its bytes read 16 at a time in place (equal strings,
    equal hashes).

    A value of length L >= 16 is covered by the 16-byte reads at 0, 16, 32, ... and one
    ending at its last byte (overlaps are fine: the positions depend only on L). Shorter
    values read 16 bytes once and mask those past their end. Nulls hash like empty
    strings; the caller handles them.
    """
    data = ch.data
    start = ch.offsets[:-1]
    lengths = np.diff(ch.offsets)
    n = len(lengths)
    if not n:
        return
    shortest, longest = int(lengths.min()), int(lengths.max())
    if len(data) >= 16 and start[-1] + 16 <= len(data):
        view = data  # every read stays inside the buffer: no copy
    else:  # a short value at the very end would read past it
        view = np.zeros(len(data) + 16, dtype=np.uint8)
        view[:len(data)] = data
    # 16 bytes per item at any byte offset (a complex128 is copied bit for bit)
    pairs = np.ndarray(shape=(len(view) - 15,), dtype=np.complex128, buffer=view, offset=0, strides=(1,))
    last_read = np.maximum(lengths - 16, 0) if shortest < longest or shortest < 16 else None
    lo_mask = hi_mask = None
    if shortest < 16:
        lo_mask = _half_mask(np.minimum(lengths, 8))
        hi_mask = _half_mask(np.clip(lengths - 8, 0, 8))
    np.copyto(out, lengths, casting="unsafe")
    pos = np.empty_like(start)
    with np.errstate(over="ignore"):
        for k in range(0, max(longest, 1), 16):
            if last_read is None:  # one length throughout: every value reads the same offset
                np.add(start, min(k, longest - 16), out=pos)
            else:
                np.minimum(last_read, k, out=pos)
                pos += start
            words = pairs[pos].view(np.uint64)
            lo, hi = words[0::2], words[1::2]
            if lo_mask is not None:
                lo &= lo_mask
                hi &= hi_mask
            out *= _MIX
            out += lo
            out *= _MIX
            out += hi


def _hash_all(chunks: list[_Chunk], n: int) -> tuple[np.ndarray, np.ndarray | None]:
    hashes = np.empty(n, dtype=np.uint64)
    keep = None
    i = 0
    for ch in chunks:
        m = len(ch.offsets) - 1
        _word_hashes(ch, hashes[i:i + m])
        if ch.valid is not None:
            if keep is None:
                keep = np.ones(n, dtype=bool)
            keep[i:i + m] = ch.valid
        i += m
    return hashes, keep


def _repeated_hashes(ordered: np.ndarray) -> np.ndarray:
    """The hash values that occur more than once in the sorted array *ordered*."""
    same = ordered[1:] == ordered[:-1]
    return ordered[1:][same] if same.any() else ordered[:0]


def strings_unique(s: pd.Series) -> bool | None:
    """Exactly whether the non-null values of *s* are all distinct (None: cannot tell cheaply).

    Hashes each value from its bytes (no Python strings), sorts the hashes, and compares
    as strings only the values whose hashes collide.
    """
    chunks = _chunks_of(s)
    if chunks is None:
        return None
    if any(len(ch.offsets) > 1 and int(np.diff(ch.offsets).max()) > _MAX_WORD_HASH_BYTES for ch in chunks):
        return None
    n = sum(len(ch.offsets) - 1 for ch in chunks)
    hashes, keep = _hash_all(chunks, n)
    if keep is not None:
        hashes = hashes[keep]
    hashes.sort()  # in place: the common answer (no repeats) needs nothing else
    if not len(_repeated_hashes(hashes)):
        return True
    hashes, keep = _hash_all(chunks, n)  # rare: hash again to find which values repeat
    rows = np.arange(n) if keep is None else np.flatnonzero(keep)
    if keep is not None:
        hashes = hashes[keep]
    suspects = np.isin(hashes, _repeated_hashes(np.sort(hashes)))
    # hash collisions or true duplicates: compare those values exactly
    return not bool(s.iloc[rows[suspects]].duplicated().any())


#: Rows whose distinct values seed the fast lookup of :func:`factorize_text`.
_SAMPLE_ROWS = 4096


def factorize_text(s: pd.Series) -> tuple[np.ndarray, list] | None:
    """(codes with -1 for missing, distinct values) of a low-cardinality text column, or None.

    Looks each value up among the distinct values of a sample of rows (a hash set of a
    handful of strings, ~1.5x faster than encoding the column), and encodes the whole
    column only when some value is not among them.
    """
    chunks = arrow_chunks(s)
    if chunks is None:
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.chunked_array(chunks, type=chunks[0].type) if chunks else pa.chunked_array([], pa.string())
    # rows from every chunk, i.e. spread over the whole column (files are often sorted by
    # pipeline or system); slices, so nothing is copied
    per_chunk = max(16, _SAMPLE_ROWS // max(len(chunks), 1))
    sample = pa.chunked_array([c.slice(0, per_chunk) for c in chunks], type=arr.type)
    seed = pc.unique(sample).drop_null()
    if isinstance(seed, pa.ChunkedArray):
        seed = seed.combine_chunks()
    idx = pc.index_in(arr, value_set=seed)
    if idx.null_count != arr.null_count:  # a value the first rows did not have
        enc = arr.combine_chunks().dictionary_encode()
        idx, seed = enc.indices, enc.dictionary
    if idx.null_count:
        idx = pc.fill_null(idx, -1)
    codes = idx.to_numpy()
    if isinstance(codes, np.ndarray) and codes.dtype.kind != "i":  # pragma: no cover - defensive
        codes = codes.astype(np.int64)
    return np.asarray(codes), seed.to_pylist()


def factorize(s: pd.Series) -> tuple[np.ndarray, list]:
    """(codes, distinct values) of any column: int codes per row, -1 for missing.

    :func:`factorize_text` (from the Arrow buffers) when the column is low-cardinality
    Arrow text, else :func:`pandas.factorize`; never raises on a column of any dtype.
    """
    got = factorize_text(s)
    if got is not None:
        return got
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    return codes, list(uniques)
