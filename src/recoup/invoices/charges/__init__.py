"""Carrier charge maps, as data: a carrier's charge code or text → canonical ``charge_type``.

One table per carrier format (``ups_charges.csv``, ``fedex_charges.csv``, ``dhl_charges.csv``).
Each row has one or more *match* columns, the ``charge_type`` it gives, a ``comment`` (what the
charge is) and a ``source`` (where the code comes from). Conventions:

- Rows are tried in file order; the first row whose every match column matches wins, so specific
  rows come before general ones.
- An empty match cell (or ``*``) matches anything. A column whose name ends in ``_pattern`` holds
  a regular expression matched against the whole text (case ignored, runs of spaces read as one);
  any other match column is a code compared trimmed and case-insensitively (digit-only codes also
  ignore leading zeros: UPS ``"003"`` is ``"3"``). Lookups name a pattern column without its
  suffix: ``lookup(description=...)`` for ``description_pattern``.
- ``charge_type`` is one of :data:`recoup.vocabulary.CHARGE_TYPES`, or ``discount``: a discount
  that readers fold into the transportation line (rate cards hold net prices, formats.md).
- Nothing matches → the reader keeps the charge as ``other`` with the carrier's text in
  ``description`` and counts it in ``ReadResult.unknown_codes`` (``"ups:XYZ"``): never silently
  mapped. A row with ``charge_type`` ``other`` marks a code as *known* and not audited.

Tables are read and checked once (:func:`charge_map`): an unknown charge type, a bad regular
expression, a row without a source or a missing column is a :class:`recoup.errors.ConfigError`.

:mod:`recoup.invoices.charges.columns` holds the vectorised column helpers the carrier readers
(``ups_billing``, ``fedex_csv``, ``dhl_mybill``) share: reading selected columns of big CSVs,
checking and converting each distinct text once (amounts to int cents), and collecting row errors.
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
from recoup.vocabulary import CHARGE_TYPES

DISCOUNT = "discount"
_WILDCARDS = frozenset({"", "*"})
_INFO_COLUMNS = ("charge_type", "comment", "source")

__all__ = ["DISCOUNT", "ChargeMap", "charge_map", "norm_code", "norm_text"]


def norm_code(value: object) -> str:
    """The lookup form of a code: trimmed, upper case, leading zeros dropped from digit-only codes."""
    text = "" if value is None else str(value).strip().upper()
    if text.isdigit():
        return str(int(text))
    return text


def norm_text(value: object) -> str:
    """The lookup form of a text: trimmed, runs of white space as one space."""
    return " ".join(("" if value is None else str(value)).split())


@dataclass(frozen=True)
class _Rule:
    codes: tuple[tuple[str, str], ...]                   # (column, normalised code)
    patterns: tuple[tuple[str, re.Pattern[str]], ...]    # (column, compiled regex)
    charge_type: str

    def matches(self, values: Mapping[str, object]) -> bool:
        for col, code in self.codes:
            if norm_code(values.get(col)) != code:
                return False
        return all(rx.fullmatch(norm_text(values.get(col))) for col, rx in self.patterns)


@dataclass(frozen=True)
class ChargeMap:
    name: str
    match_columns: tuple[str, ...]   # lookup keys: the match columns, "_pattern" left off
    rules: tuple[_Rule, ...]

    def lookup(self, **values: object) -> str | None:
        """The charge type of the first matching row, or None when no row matches."""
        unknown = set(values) - set(self.match_columns)
        if unknown:  # pragma: no cover - a programming error
            raise TypeError(f"{self.name} has no match column(s) {sorted(unknown)}")
        for rule in self.rules:
            if rule.matches(values):
                return rule.charge_type
        return None


@cache
def charge_map(name: str) -> ChargeMap:
    """Read and check ``charges/<name>`` once."""
    try:
        text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"charge table {name} is missing from the recoup package") from exc
    reader = csv.DictReader(io.StringIO(text))
    columns = tuple(c.strip() for c in (reader.fieldnames or ()))
    missing = [c for c in _INFO_COLUMNS if c not in columns]
    if missing:
        raise ConfigError(f"charge table {name}: missing column(s) {', '.join(missing)}")
    match_columns = tuple(c for c in columns if c not in _INFO_COLUMNS)
    keys = tuple(c.removesuffix("_pattern") for c in match_columns)
    if not match_columns:
        raise ConfigError(f"charge table {name}: no match column")
    allowed = CHARGE_TYPES | {DISCOUNT}
    rules: list[_Rule] = []
    for number, row in enumerate(reader, start=2):
        row = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
        where = f"charge table {name}, line {number}"
        if row["charge_type"] not in allowed:
            raise ConfigError(f"{where}: unknown charge_type {row['charge_type']!r}")
        if not row["source"]:
            raise ConfigError(f"{where}: every row needs a source")
        codes: list[tuple[str, str]] = []
        patterns: list[tuple[str, re.Pattern[str]]] = []
        for col in match_columns:
            cell = row.get(col, "")
            if cell in _WILDCARDS:
                continue
            if col.endswith("_pattern"):
                try:
                    patterns.append((col.removesuffix("_pattern"), re.compile(cell, re.IGNORECASE)))
                except re.error as exc:
                    raise ConfigError(f"{where}: bad pattern {cell!r}: {exc}") from None
            else:
                codes.append((col, norm_code(cell)))
        rules.append(_Rule(tuple(codes), tuple(patterns), row["charge_type"]))
    if not rules:
        raise ConfigError(f"charge table {name} has no rows")
    return ChargeMap(name, keys, tuple(rules))
