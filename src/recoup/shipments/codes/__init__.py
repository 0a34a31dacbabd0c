"""Carrier code tables, as data.

Each ``*.csv`` here maps one source's codes onto the canonical scan statuses and exception reasons
(formats.md), one row per code with the carrier's text and a ``source`` column naming the sample
table (``shared/samples/tracking_codes/*.tsv``) or spec section it comes from.

Conventions shared by every table:

- ``status`` is a canonical status, ``-`` for "not a scan" (the event is counted in the run's
  notes, not stored), or empty for "no refinement" (status_detail / status-code tables).
- A row whose code is ``*`` says what an *unknown* code becomes. A table without such a row drops
  events with unknown codes (as row errors). Either way the unknown code is counted in
  ``ReadResult.unknown_codes`` as ``"source:code"``: never silently mapped.
- Codes are matched with surrounding spaces removed and case ignored; all-digit codes also ignore
  leading zeros (UPS ``"003"`` is status code ``3``).

Tables are read once (:func:`table`) and checked when read: an unknown status or reason, a
duplicate code or a row without a source is a :class:`recoup.errors.ConfigError`.

``exception_keywords.csv`` holds the ordered keyword rules that derived the UPS exception reasons
from UPS's own texts (``basis`` column of ``ups_exceptions.csv``); readers apply the same rules to
the carrier's text of an exception code that no table knows (:func:`reason_from_text`).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

from recoup.errors import ConfigError
from recoup.vocabulary import EXCEPTION_REASONS, SCAN_STATUSES

NOT_A_SCAN = "-"
UNKNOWN = "*"

__all__ = ["NOT_A_SCAN", "UNKNOWN", "CodeTable", "norm_code", "reason_from_text", "table"]


def norm_code(value: object) -> str:
    """The lookup form of a code: trimmed, upper case, leading zeros dropped from digit-only codes."""
    text = str(value).strip().upper()
    if text.isdigit():
        return str(int(text))
    return text


@dataclass(frozen=True)
class CodeTable:
    name: str
    rows: Mapping[str, Mapping[str, str]]   # normalised key -> the row

    def get(self, *key: object) -> Mapping[str, str] | None:
        """The row for a code (key columns in order), or None when the table does not know it."""
        return self.rows.get(_key(key))


def _key(parts: tuple[object, ...]) -> str:
    return "|".join(norm_code(p) for p in parts)


_KEY_COLUMNS = {
    "easypost_status.csv": ("field", "value"),
    "easypost_carriers.csv": ("name",),
    "exception_keywords.csv": ("pattern",),
    "location_zones.csv": ("country", "region", "postal_prefix"),
    "usps_event_types.csv": ("pattern",),
}


@cache
def table(name: str) -> CodeTable:
    """Read and check ``codes/<name>`` once."""
    try:
        text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"code table {name} is missing from the recoup package") from exc
    key_columns = _KEY_COLUMNS.get(name, ("code",))
    rows: dict[str, Mapping[str, str]] = {}
    for lineno, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        clean = {k: (v or "").strip() for k, v in row.items() if k is not None}
        where = f"codes/{name} line {lineno}"
        if not clean.get("source"):
            raise ConfigError(f"{where}: no source")
        status = clean.get("status", "")
        if status and status != NOT_A_SCAN and status not in SCAN_STATUSES:
            raise ConfigError(f"{where}: unknown status {status!r}")
        reason = clean.get("exception_reason", "")
        if reason and reason not in EXCEPTION_REASONS:
            raise ConfigError(f"{where}: unknown exception_reason {reason!r}")
        if name == "easypost_carriers.csv":
            key = _carrier_key(clean["name"])
        elif name in ("exception_keywords.csv", "usps_event_types.csv"):
            key = clean["pattern"]
        else:
            key = _key(tuple(clean[c] for c in key_columns))
        if not key or key in rows:
            raise ConfigError(f"{where}: empty or duplicate code {key!r}")
        rows[key] = clean
    return CodeTable(name, rows)


def _carrier_key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name).casefold()


def easypost_carrier(name: str) -> str | None:
    """The contract code for an EasyPost carrier name (``DPD UK`` and ``DPDUK`` alike), or None."""
    row = table("easypost_carriers.csv").rows.get(_carrier_key(name))
    return row["carrier"] if row else None


@cache
def _keyword_rules() -> tuple[tuple[re.Pattern[str], str], ...]:
    rules = table("exception_keywords.csv").rows.values()
    return tuple((re.compile(r["pattern"], re.IGNORECASE), r["exception_reason"]) for r in rules)


def reason_from_text(text: str | None) -> str | None:
    """The exception reason a carrier's text names, by the first matching keyword rule; else None."""
    if not text:
        return None
    for pattern, reason in _keyword_rules():
        if pattern.search(text):
            return reason or None
    return None
