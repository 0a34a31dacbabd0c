"""The PDF reader's data: column names, labels, totals, carriers, charge maps and per-carrier
layouts, from ``invoices/pdf_layouts.toml`` (see the package docstring)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

_PARENS = re.compile(r"\([^)]*\)")
_PUNCT = re.compile(r"[^\w%/&°@]+")


@lru_cache(maxsize=65536)
def norm(text: str) -> str:
    """Header/label text for matching: lower case, parenthesised units dropped, punctuation spaced."""
    s = _PARENS.sub(" ", text.lower())
    return " ".join(_PUNCT.sub(" ", s).split())


def _starts_with_any(phrases: Iterable[str]) -> re.Pattern[str]:
    """A pattern matching a normalised text that is one of the phrases or starts with one and a space."""
    alts = "|".join(re.escape(p) for p in sorted(set(phrases), key=len, reverse=True))
    return re.compile(rf"(?:{alts})(?: |$)")


@dataclass(frozen=True)
class Blocks:
    """A layout of one block per shipment (``[layout.blocks]``): regular expressions over the text
    lines (spaces collapsed). See the package docstring, "Shipment blocks"."""

    start: re.Pattern[str]                  # opens a block: tracking_number, and ship_date, service ...
    charge: re.Pattern[str]                 # a charge line in a block: description, amounts
    end: re.Pattern[str]                    # closes it: amounts, optionally tracking_number
    fields: dict[str, re.Pattern[str]]      # labelled fields on other lines of a block (group v)
    not_charges: re.Pattern[str] | None     # lines in a block that are never charges (page headers)


@dataclass(frozen=True)
class Layout:
    name: str
    carrier: str | None
    detect: tuple[str, ...]
    columns: dict[str, tuple[str, ...]]
    charge_columns: dict[str, str]          # normalised header -> charge_type
    row_total: tuple[str, ...]
    date_order: str | None
    currency: str | None
    detect_anywhere: tuple[str, ...] = ()   # phrases that must occur on some page (any page)
    blocks: Blocks | None = None
    not_totals: tuple[str, ...] = ()        # normalised line starts that never state the invoice total


@dataclass(frozen=True)
class Data:
    columns: dict[str, tuple[str, ...]]     # field -> normalised header names, preferred first
    ignored: frozenset[str]
    skip_rows: re.Pattern[str]              # (normalised) cell texts of rows that are not charges
    labels: dict[str, tuple[str, ...]]
    totals: dict[str, str]                  # normalised summary label -> net / vat / gross / due
    totals_rx: re.Pattern[str]
    not_money: frozenset[str]
    running: tuple[str, ...]
    carriers: tuple[tuple[re.Pattern[str], str, str | None], ...]
    charges: dict[str, tuple[tuple[re.Pattern[str], str], ...]]
    layouts: tuple[Layout, ...]
    known_headers: frozenset[str]           # every header name of any field, layout or ignore list
    tracking_headers: frozenset[str]
    amount_headers: frozenset[str]          # amount names, charge columns of layouts


@lru_cache(maxsize=1)
def data() -> Data:
    raw = tomllib.loads(resources.files("recoup.invoices").joinpath("pdf_layouts.toml").read_text("utf-8"))
    columns = {f: tuple(norm(n) for n in names) for f, names in raw["columns"].items() if f != "ignored"}
    layouts = []
    for lay in raw.get("layout", []):
        blk = lay.get("blocks")
        blocks = None
        if blk:
            blocks = Blocks(
                start=re.compile(blk["start"]), charge=re.compile(blk["charge"]), end=re.compile(blk["end"]),
                fields={f: re.compile(rx) for f, rx in blk.get("fields", {}).items()},
                not_charges=_starts_with_any(norm(x) for x in blk["not_charges"]) if blk.get("not_charges") else None)
        layouts.append(Layout(
            name=lay["name"], carrier=lay.get("carrier"), detect=tuple(d.lower() for d in lay.get("detect", [])),
            columns={f: tuple(norm(n) for n in ns) for f, ns in lay.get("columns", {}).items()},
            charge_columns={norm(k): v for k, v in lay.get("charge_columns", {}).items()},
            row_total=tuple(norm(n) for n in lay.get("row_total", [])),
            date_order=lay.get("date_order"), currency=lay.get("currency"),
            detect_anywhere=tuple(d.lower() for d in lay.get("detect_anywhere", [])), blocks=blocks,
            not_totals=tuple(norm(x) for x in lay.get("not_totals", []))))
    carriers = tuple(
        (re.compile(c["pattern"], 0 if c.get("case") else re.IGNORECASE), c["code"], c.get("currency"))
        for c in raw["carrier"])
    charges = {
        carrier: tuple((re.compile(r"(?<![\w])" + re.escape(norm(pat))), ctype) for pat, ctype in rules)
        for carrier, rules in raw["charges"].items()}
    ignored = frozenset(norm(n) for n in raw["columns"]["ignored"])
    known = set(ignored)
    for names in columns.values():
        known.update(names)
    tracking = set(columns["tracking_number"])
    amount = set(columns["amount"])
    for lay_ in layouts:
        for names in lay_.columns.values():
            known.update(names)
        known.update(lay_.charge_columns)
        known.update(lay_.row_total)
        tracking.update(lay_.columns.get("tracking_number", ()))
        amount.update(lay_.charge_columns)
    totals = {norm(x): kind for kind in ("due", "gross", "vat", "net") for x in raw["totals"][kind]}
    return Data(
        columns=columns, ignored=ignored, skip_rows=_starts_with_any(norm(s) for s in raw["rows"]["skip"]),
        labels={k: tuple(v) for k, v in raw["labels"].items()},
        totals=totals, totals_rx=_starts_with_any(totals),
        not_money=frozenset(raw["totals"]["not_money"]), running=tuple(raw["totals"]["running"]),
        carriers=carriers, charges=charges, layouts=tuple(layouts), known_headers=frozenset(known),
        tracking_headers=frozenset(tracking), amount_headers=frozenset(amount))
