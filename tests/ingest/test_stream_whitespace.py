"""The whitespace list of the streaming reader is written out (computing it cost every import 0.3 s);
it must be exactly what Python's str.strip() strips."""

import sys

from recoup.ingest.stream import _WHITESPACE


def test_whitespace_is_what_python_strips() -> None:
    assert "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()) == _WHITESPACE
