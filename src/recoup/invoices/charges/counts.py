"""The number of fields on each line of a file without a quote character, counted on the bytes
(issue 17: Python's csv module took 7% of a FedEx file's ingest to count them)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

BLOCK = 16 << 20
_BOM = b"\xef\xbb\xbf"


def plain_field_counts(path: Path, sep: str) -> np.ndarray | None:
    """What ``len(record)`` of ``csv.reader`` gives for each physical line (a blank line 0), or None
    when the file has a quote character, a CR or a NUL (or ``sep`` is not one ASCII byte): there the
    csv module must read it. Without those, a record is one line and its fields are split at every
    ``sep``; a byte that is not UTF-8 is replaced by one character, never a separator or a line end,
    and the BOM that ``utf-8-sig`` drops is dropped."""
    if len(sep) != 1 or not sep.isascii() or sep in '"\r\n\0':
        return None
    s, nl = ord(sep), ord("\n")
    parts: list[np.ndarray] = []
    with open(path, "rb") as f:
        carry = f.read(len(_BOM))
        if carry[:1] == _BOM[:1] and carry != _BOM:
            return None     # what utf-8-sig makes of part of a BOM: the csv module's business
        carry = b"" if carry == _BOM else carry
        while True:
            block = f.read(BLOCK)
            data = carry + block
            if b'"' in data or b"\r" in data or b"\0" in data:
                return None
            if not block:
                data = data if data.endswith(b"\n") or not data else data + b"\n"   # a last line without its end
            end = data.rfind(b"\n") + 1
            carry = data[end:] if block else b""
            if end:
                counts = _counts(data[:end], s, nl)
                if counts is None:
                    return None
                parts.append(counts)
            if not block:
                break
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _counts(data: bytes, sep: int, nl: int) -> np.ndarray | None:
    """Field counts of the lines of ``data``, which ends with a line end; None when a field may be
    longer than the csv module takes (``csv.field_size_limit``: it refuses such a file)."""
    a = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(a == nl)
    starts = np.concatenate(([0], ends[:-1] + 1))
    if int((ends - starts).max(initial=0)) > csv.field_size_limit():
        return None         # a line, so perhaps a field, longer than the csv module takes
    n = np.add.reduceat(a == sep, starts, dtype=np.int64) + 1
    return np.where(ends > starts, n, 0)
