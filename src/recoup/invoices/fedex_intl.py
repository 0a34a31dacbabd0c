"""The FedEx invoice download used outside the US → canonical invoice lines.

FedEx customers outside the US (Europe, UK, Türkiye, Poland ...) download their invoice data as a
CSV or Excel sheet that differs from the US Billing Online export (:mod:`recoup.invoices.fedex_csv`):
one header row, about 170 columns, one row per air waybill (a waybill may have several rows),
``FedEx Invoice Number`` (or ``Invoice Number``), ``Invoice Date``, ``Air Waybill Number`` (the
tracking number; column Q in real files), ``Rated Weight Amount`` (column BK), ``Air Waybill Total
Amount`` (column BN, the waybill's stated total), the charges as label/amount pairs (``Air Waybill
Charge Label`` ...), decimal commas (``1.004,12``) in local exports, and the local currency. Where
the shape comes from: ``tests/invoices/fixtures/fedex_intl/README.md``.

Columns are matched by header name (case, spaces and punctuation ignored; the first of several
names that is present wins; see ``_REQUIRED`` and ``_OPTIONAL``). Charge pairs are a label column
(``Air Waybill Charge Label``, ``Charge Description``, ``Charge Label`` ...) followed by its amount
column (``... Charge Amount``), repeated; or numbered (``Charge Description 1`` / ``Charge Amount 1``),
matched by number wherever they are.

Lines are made by :func:`recoup.invoices.fedex_csv.parse_columns`, the same rule as the US reader:
the transportation line is the freight (a ``Freight Charge`` column, or the pairs whose label
``charges/fedex_charges.csv`` types ``transportation``) plus the discount pairs, since rate cards
hold net prices; one line per other non-zero pair, typed by the same table (unknown labels are
``other``, counted as ``fedex:<label>``); negative lines are credits. A row whose charges do not
add up to its ``Air Waybill Total Amount`` is a row error (its invoice is refused whole): lines that
do not make up the carrier's own total were misread.

Numbers: the file's decimal separator is decided once, from its amount and weight cells (``12,34``
and ``1.004,12`` vote for a comma, ``12.34`` and ``1,004.12`` for a point; a tie goes to the comma
in a semicolon-delimited file); thousands separators (``.``, ``,``, spaces) are dropped only where
they group digits by three. A cell that does not fit the file's convention is a row error, never a
guess. Tracking numbers in scientific notation (``8.90E+11``: a CSV saved from Excel) are row
errors: their digits are lost. Dates: ``YYYY-MM-DD``, ``DD/MM/YYYY``, ``DD.MM.YYYY``,
``DD-MM-YYYY``, ``DD-Mon-YY``, ``DD-Mon-YYYY`` or ``YYYYMMDD`` (never month first: these exports
come from outside the US).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from recoup.errors import FileRefused
from recoup.ingest.base import ReadResult, RowError
from recoup.ingest.reader import Format
from recoup.invoices.charges.columns import (
    COMPACT_DATE,
    DMY_DATE,
    ISO_DATE,
    Column,
    DateFormat,
    HeaderLayout,
    best_delimiter,
    drop_ragged,
    head_lines,
    norm_header,
    read_columns,
    read_head,
    refuse_non_text,
    split_line,
)
from recoup.invoices.fedex_csv import CARRIER, parse_columns
from recoup.money import from_cents

FORMAT = "fedex_intl"

__all__ = ["CARRIER", "FORMAT", "read", "sniff"]

DATE_FORMATS: tuple[DateFormat, ...] = (
    ISO_DATE,
    DMY_DATE,
    ("DD.MM.YYYY", re.compile(r"\d{1,2}\.\d{1,2}\.\d{4}"), "%d.%m.%Y"),
    ("DD-MM-YYYY", re.compile(r"\d{1,2}-\d{1,2}-\d{4}"), "%d-%m-%Y"),
    ("DD-Mon-YY", re.compile(r"\d{1,2}-[A-Za-z]{3}-\d{2}"), "%d-%b-%y"),
    ("DD-Mon-YYYY", re.compile(r"\d{1,2}-[A-Za-z]{3}-\d{4}"), "%d-%b-%Y"),
    COMPACT_DATE,
)

# role -> header names it may have (the first present wins)
_REQUIRED = {
    "invoice_number": ("FedEx Invoice Number", "Invoice Number", "Invoice No"),
    "invoice_date": ("Invoice Date",),
    "tracking_id": ("Air Waybill Number", "Air Waybill No", "AWB Number", "AWB No", "Air Waybill"),
}
_OPTIONAL = {
    "transportation": ("Freight Charge", "Freight Charge Amount", "Freight Amount", "Freight"),
    "net": ("Air Waybill Total Amount", "AWB Total Amount", "Air Waybill Total", "Total Amount"),
    "account_number": ("Bill to Account Number", "Bill-to Account", "Billing Account Number",
                       "Payer Account Number", "Account Number"),
    "currency": ("Currency", "Currency Code", "Invoice Currency", "Invoice Currency Code",
                 "Air Waybill Currency", "Billing Currency"),
    "service": ("Service Type", "Service", "Service Description"),
    "ship_date": ("Shipment Date", "Ship Date", "Shipping Date", "Pickup Date"),
    "weight": ("Rated Weight Amount", "Rated Weight", "Chargeable Weight", "Billed Weight",
               *(f"{name} ({unit})" for name in ("Rated Weight", "Chargeable Weight") for unit in ("kg", "lb"))),
    "weight_unit": ("Rated Weight Units", "Rated Weight Unit", "Rated Weight UOM", "Weight Units",
                    "Weight Unit"),
    "zone": ("Zone", "Zone Code", "Rate Zone", "Pricing Zone"),
    "notes": ("Shipment Notes",),
    "invoice_total": ("Invoice Amount", "Invoice Total Amount", "Total Invoice Amount", "Invoice Total",
                      "Original Amount Due"),
}
# charge pairs: header stems (digits taken out) of the label and the amount columns
_LABELS = frozenset(norm_header(h) for h in (
    "Air Waybill Charge Label", "Air Waybill Charge Description", "Charge Label", "Charge Description",
    "Charge Name", "Charge Type Description", "Tracking ID Charge Description"))
_AMOUNTS = frozenset(norm_header(h) for h in (
    "Air Waybill Charge Amount", "Charge Amount", "Charge Value", "Tracking ID Charge Amount"))
_AMOUNT_ROLES = ("transportation", "net", "invoice_total")
_SCIENTIFIC = re.compile(r"[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+")
_DIGITS = re.compile(r"\d+")


class _Layout(HeaderLayout):
    """Where the used columns are in this download."""

    def __init__(self, header: list[str]) -> None:
        super().__init__(header, _REQUIRED, _OPTIONAL)
        names = self.names
        self.pairs = _pairs(names)
        self.unit_from_header: str | None = None
        if "weight" in self.position and "weight_unit" not in self.position:
            text = header[self.position["weight"]].lower()
            self.unit_from_header = "K" if re.search(r"\bkgs?\b", text) else \
                "L" if re.search(r"\blbs?\b", text) else None

    def pair_names(self) -> list[str]:
        return [f"{self.header[a].strip()} (pair {k})" for k, (_, a) in enumerate(self.pairs, start=1)]


def _pairs(names: list[str]) -> list[tuple[int, int]]:
    """(label position, amount position) of every charge pair, in column order."""
    numbered_labels: dict[str, int] = {}
    numbered_amounts: dict[str, int] = {}
    pairs: list[tuple[int, int]] = []
    for i, name in enumerate(names):
        stem, number = _DIGITS.sub("", name), "".join(_DIGITS.findall(name))
        if stem in _LABELS:
            if number:
                numbered_labels.setdefault(number, i)
            elif i + 1 < len(names) and names[i + 1] in _AMOUNTS:
                pairs.append((i, i + 1))
        elif stem in _AMOUNTS and number:
            numbered_amounts.setdefault(number, i)
    pairs += [(i, numbered_amounts[k]) for k, i in numbered_labels.items() if k in numbered_amounts]
    return sorted(pairs)


def _layout(head: bytes) -> tuple[_Layout, str] | str:
    """The layout and delimiter of a FedEx invoice download, or why the head is not one."""
    lines = head_lines(head, limit=1)
    if not lines:
        return "no complete line of text"
    sep = best_delimiter(lines[0], (",", ";", "\t"))
    layout = _Layout(split_line(lines[0], sep))
    if layout.missing:
        return f"no {', '.join(repr(m) for m in layout.missing)} column in the header"
    if not layout.pairs and "net" not in layout.position and "transportation" not in layout.position:
        return "no charge columns (label/amount pairs, a freight column or 'Air Waybill Total Amount')"
    return layout, sep


def sniff(head: bytes) -> bool:
    """A header row naming an invoice number, ``Invoice Date`` and ``Air Waybill Number``, with charge
    columns (label/amount pairs, a freight column or ``Air Waybill Total Amount``)."""
    return not isinstance(_layout(head), str)


def read(path: Path) -> ReadResult:
    """Read a FedEx invoice download (CSV, or .xlsx through its sheet's text). FileRefused when it is
    not one; bad rows in ``errors``."""
    path = Path(path)
    head = read_head(path)
    refuse_non_text(head)
    found = _layout(head)
    if isinstance(found, str):
        raise FileRefused(f"not a FedEx invoice download: {found}")
    layout, sep = found
    positions = [*layout.position.values(), *(p for pair in layout.pairs for p in pair)]
    by_position = read_columns(path, sep=sep, width=layout.width, positions=positions,
                               what="FedEx invoice download")
    cols = {role: by_position[pos] for role, pos in layout.position.items()}
    pairs = [(by_position[d], by_position[a]) for d, a in layout.pairs]
    if len(cols["invoice_number"]) <= 1:
        raise FileRefused("no invoice rows after the header")

    numbers = [cols[r] for r in (*_AMOUNT_ROLES, "weight") if r in cols] + [a for _, a in pairs]
    comma = _decimal_comma(numbers, sep)
    for role in (*_AMOUNT_ROLES, "weight"):
        if role in cols:
            cols[role] = _Numbers(cols[role], comma)
    pairs = [(d, _Numbers(a, comma)) for d, a in pairs]
    if layout.unit_from_header:
        cols["weight_unit"] = Column(np.full(len(cols["invoice_number"]), layout.unit_from_header, dtype=object))
        layout.position.setdefault("weight_unit", layout.position["weight"])
    tracking_text = cols["tracking_id"].raw()
    scientific = cols["tracking_id"].apply(lambda u: bool(_SCIENTIFIC.fullmatch(u)), dtype=bool)

    result = parse_columns(layout, cols, pairs, thousands=False, date_formats=DATE_FORMATS, fmt=FORMAT,
                           pair_names=layout.pair_names(), stated_total_is_checked=True)
    _refuse_scientific(result, scientific, tracking_text, layout.name("tracking_id"), cols)
    if "invoice_total" in cols:
        _check_invoice_totals(result, cols, layout)
    return drop_ragged(result, path, sep, layout.width)


def _decimal_comma(columns: Sequence[Column], sep: str) -> bool:
    """Whether the file writes decimals with a comma (see the module's docstring)."""
    comma = point = 0
    for col in columns:
        for u in col.uniques:
            t = _strip_spaces(u).lstrip("+-")
            if re.fullmatch(r"\d+,\d{1,2}|\d{1,3}(?:\.\d{3})+,\d+", t):
                comma += 1
            elif re.fullmatch(r"\d+\.\d{1,2}|\d{1,3}(?:,\d{3})+\.\d+", t):
                point += 1
    if comma != point:
        return comma > point
    return sep == ";"


def _strip_spaces(text: str) -> str:
    return re.sub(r"[\s\u00a0\u202f']", "", text)


class _Numbers(Column):
    """A column of numbers rewritten with ``.`` as the decimal point and no thousands separators;
    ``raw()`` still gives the cells as written, for messages. A cell that does not fit the file's
    convention is rewritten as no number at all, so the caller reports it."""

    def __init__(self, col: Column, comma: bool) -> None:
        self.codes = col.codes
        self.uniques = np.array([_number(u, comma) for u in col.uniques], dtype=object)
        self._written = col.uniques

    def raw(self) -> np.ndarray:
        return self._written[self.codes]


def _number(text: str, comma: bool) -> str:
    if not text:
        return text
    t = _strip_spaces(text)
    sign = "-" if t.startswith("-") else ""
    t = t.lstrip("+-")
    if comma:
        if re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?", t):
            t = t.replace(".", "")
        if re.fullmatch(r"\d+(?:,\d+)?", t):
            return sign + t.replace(",", ".")
    else:
        if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", t):
            t = t.replace(",", "")
        if re.fullmatch(r"\d+(?:\.\d+)?", t):
            return sign + t
    return "!" + text


def _refuse_scientific(result: ReadResult, scientific: np.ndarray, tracking: np.ndarray, column: str,
                       cols: dict[str, Column]) -> None:
    """Rows whose tracking number Excel turned into scientific notation: their lines are left out and
    their invoices refused (the digits are lost)."""
    bad = np.flatnonzero(scientific)
    if not len(bad):
        return
    invoices = cols["invoice_number"].raw()
    lines = set()
    for i in bad:
        line = int(i) + 1
        if line == 1:
            continue
        lines.add(line)
        result.errors.append(RowError(line, column, f"a number in scientific notation, its digits lost: "
                                      f"{tracking[i]!r} (format the column as text in Excel and export again)",
                                      invoices[i] or None))
    result.errors.sort(key=lambda e: (e.line or 0))
    result.frame = result.frame.loc[~result.frame["line"].isin(lines)].reset_index(drop=True)


def _check_invoice_totals(result: ReadResult, cols: dict[str, Column], layout: _Layout) -> None:
    """A note for each invoice whose lines do not add up to the invoice amount the file states."""
    frame = result.frame
    if frame.empty:
        return
    invoices = cols["invoice_number"].raw()
    stated_cents, bad = cols["invoice_total"].cents()
    stated: dict[str, int] = {}
    for i in np.flatnonzero(~cols["invoice_total"].blank() & ~bad):
        if i > 0:
            stated.setdefault(str(invoices[i]), int(stated_cents[i]))
    sums = frame.groupby("invoice_number")["amount_cents"].sum()
    bad_rows = {e.invoice_number for e in result.errors}
    for number, cents in sums.items():
        want = stated.get(str(number))
        if want is not None and int(cents) != want and number not in bad_rows:
            result.notes.append(f"invoice {number}: the lines add up to {from_cents(int(cents))}, the "
                                f"{layout.name('invoice_total')} column says {from_cents(want)}")


READER = Format("fedex_intl", "invoices", sniff, read)
