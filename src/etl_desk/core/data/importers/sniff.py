"""Sniffing text tables: encoding, delimiter, decimal comma, and what kind of file this is.

Everything here reads a bounded head of the file (``SNIFF_BYTES``) so that a
hostile file costs no more than that to classify.
"""
from __future__ import annotations

import codecs
import csv
import io
import os
import re
from dataclasses import dataclass

from etl_desk.core.errors import DataError

SNIFF_BYTES = 256 * 1024
DELIMITERS = (",", ";", "\t", "|")

MAGIC_ZIP = b"PK\x03\x04"
MAGIC_ZIP_EMPTY = b"PK\x05\x06"
MAGIC_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAGIC_PARQUET = b"PAR1"


@dataclass(frozen=True)
class TextDialect:
    """How to read a delimited text file with pandas."""

    encoding: str
    delimiter: str
    decimal: str = "."

    def read_csv_kwargs(self) -> dict:
        """Arguments for pandas.read_csv. The decimal mark is *not* passed: numbers that are
        not plain stay text and :mod:`etl_desk.core.data.locale_numbers` reads each column
        from its own evidence (``decimal`` is the sniffer's guess, kept for callers)."""
        return {"sep": self.delimiter, "encoding": self.encoding}


def read_head(path: str | os.PathLike, n: int = SNIFF_BYTES) -> bytes:
    """The first *n* bytes of the file (fewer when it is shorter), for sniffing.

    Raises:
        DataError: naming the file, when it cannot be opened (the OS reason in the message).
    """
    try:
        with open(path, "rb") as fh:
            return fh.read(n)
    except OSError as exc:
        raise DataError(f"cannot open the file ({exc.strerror or exc})", file=str(path)) from None


def file_kind(head: bytes) -> str:
    """'zip', 'ole', 'parquet', 'json', 'text', 'empty' or 'binary' from the first bytes."""
    if not head:
        return "empty"
    if head.startswith(MAGIC_ZIP) or head.startswith(MAGIC_ZIP_EMPTY):
        return "zip"
    if head.startswith(MAGIC_OLE):
        return "ole"
    if head.startswith(MAGIC_PARQUET):
        return "parquet"
    try:
        enc = detect_encoding(head)
    except DataError:
        return "binary"
    text = _decode_head(head, enc)
    stripped = text.lstrip("\ufeff \t\r\n")
    if not stripped:
        return "empty"
    if stripped[0] in "{[":
        return "json"
    return "text"


def _looks_utf16(head: bytes) -> str | None:
    """BOM-less UTF-16: every other byte is NUL in mostly-ASCII text."""
    sample = head[: 4096 - (len(head[:4096]) % 2)]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


def detect_encoding(head: bytes) -> str:
    """The encoding of a text file from its first bytes.

    UTF-8 with BOM -> ``utf-8-sig``; UTF-16 with a BOM (LE or BE) -> ``utf-16``;
    BOM-less UTF-16 (NUL every other byte) -> ``utf-16-le``/``utf-16-be``; valid
    UTF-8 -> ``utf-8``; otherwise Windows-1252, and Latin-1 as the last resort
    (Latin-1 decodes any byte). Raises DataError for binary content.
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    guess = _looks_utf16(head)
    if guess:
        return guess
    if b"\x00" in head:
        raise DataError("this is not a text table (binary content)")
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # a multi-byte character cut at the end of the sniffed head is fine
        if exc.start >= len(head) - 3 and exc.reason in ("unexpected end of data",):
            return "utf-8"
    # control characters other than tab/CR/LF/FF point to binary junk
    ctrl = sum(1 for b in head[:65536] if b < 32 and b not in (9, 10, 12, 13))
    if ctrl > 0.01 * min(len(head), 65536):
        raise DataError("this is not a text table (binary content)")
    try:
        head.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _decode_head(head: bytes, encoding: str) -> str:
    dec = codecs.getincrementaldecoder(encoding)(errors="replace")
    return dec.decode(head, final=False)


_NUM_COMMA = re.compile(r"^-?\d{1,3}(?:\.\d{3})*,\d+$|^-?\d+,\d+$")
_NUM_DOT = re.compile(r"^-?\d+\.\d+$")


def detect_dialect(head: bytes, *, encoding: str | None = None) -> TextDialect:
    """Encoding, delimiter (, ; tab |) and decimal separator of a delimited text head.

    Raises:
        DataError: without a file (the caller adds it), when the head holds no non-blank line.
    """
    enc = encoding or detect_encoding(head)
    text = _decode_head(head, enc).lstrip("\ufeff")
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    if len(text) >= len(head) // 4 and len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the last line may be cut by the sniff limit
    if not lines:
        raise DataError("the file holds no table")
    best, best_score = ",", -1.0
    # a first line with no delimiter at all is a title above the table: judge by the lines below
    titled = not any(_count_outside_quotes(lines[0], d) for d in DELIMITERS)
    for d in DELIMITERS:
        counts = [_count_outside_quotes(ln, d) for ln in lines[:30]]
        nonzero = [c for c in counts if c]
        if not nonzero or (counts[0] == 0 and not titled):
            continue
        mode = counts[0] if counts[0] else max(set(nonzero), key=lambda c: (nonzero.count(c), c))
        same = sum(1 for c in counts if c == mode)
        score = same / len(counts) * 1000 + mode
        if score > best_score:
            best, best_score = d, score
    decimal = "."
    if best != ",":
        comma = dot = 0
        for ln in lines[1:30]:
            for cell in _split(ln, best):
                cell = cell.strip().strip('"')
                if _NUM_COMMA.match(cell):
                    comma += 1
                elif _NUM_DOT.match(cell):
                    dot += 1
        if comma > dot:
            decimal = ","
    return TextDialect(enc, best, decimal)


def _count_outside_quotes(line: str, d: str) -> int:
    if '"' not in line:
        return line.count(d)
    n, quoted = 0, False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif ch == d and not quoted:
            n += 1
    return n


def head_rows(head: bytes, dialect: TextDialect, n: int = 60) -> list[list[str]]:
    """The first *n* physical lines of a text head split into cells (blank lines as [])."""
    text = _decode_head(head, dialect.encoding).lstrip("\ufeff")
    return [(_split(ln, dialect.delimiter) if ln.strip() else []) for ln in text.splitlines()[:n]]


def _split(line: str, d: str) -> list[str]:
    try:
        return next(csv.reader(io.StringIO(line), delimiter=d))
    except (csv.Error, StopIteration):
        return line.split(d)
