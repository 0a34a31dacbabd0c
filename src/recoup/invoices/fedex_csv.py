"""FedEx Billing Online invoice CSV → canonical invoice lines.

One row per tracking ID per invoice, with a header row; exports differ in column count, so
columns are matched by header name (case, spaces and punctuation ignored; the first of repeated
names wins). Columns used (formats.md, Invoices; ``samples/formats/fedex_billing_online_all_columns.tsv``):
``Bill to Account Number``, ``Invoice Date`` and ``Shipment Date`` (YYYYMMDD), ``Invoice Number``,
``Ground Tracking ID Prefix`` + ``Express or Ground Tracking ID``, ``Transportation Charge Amount``,
``Net Charge Amount``, ``Service Type`` (else ``Ground Service``), ``Rated Weight Amount`` /
``Rated Weight Units`` (``L`` lb, ``K`` kg), ``Zone Code``, ``Shipment Notes``, and every
``Tracking ID Charge Description`` / ``Tracking ID Charge Amount`` pair (the amount is the column
right after its description).

Lines of a row, in this order:

- transportation: ``Transportation Charge Amount`` plus the pairs whose description names a
  discount (``charges/fedex_charges.csv``, type ``discount``), with the rated weight, unit and
  zone as written (``"04"``). A zero result is no line (a row that only re-bills a surcharge
  carries ``0`` there).
- one line per other pair with a non-zero amount, its type from ``charges/fedex_charges.csv``;
  a description no row matches is ``other``, counted as ``fedex:<description>``.
- any line with a negative amount is a ``credit`` (FedEx credits: negative transportation and net
  amounts). Its ``reference`` is the last word of ``Shipment Notes`` when that word has a digit
  (``Billing adjustment ADJ-4138807`` → ``ADJ-4138807``); its description is the rest of the notes
  (``Guaranteed Service Refund``), else the charge's own text.

Decisions where the spec is silent:

- ``currency`` comes from a ``Currency`` (or ``Currency Code``) column when the export has one,
  else it is left empty: FedEx Billing Online has no currency column; the contract's currency
  applies.
- ``service`` is FedEx's service text (``Priority Overnight``) on every line of the row; it is
  also the transportation line's description.
- Dates: YYYYMMDD, or ISO YYYY-MM-DD. Amounts use ``.``; a comma is read as a thousands separator
  in comma-delimited files only.
- When ``Net Charge Amount`` differs from the sum of the row's charges, the lines are still the
  charges; the number of such rows is reported in the notes.
- ``line`` is the physical line (the header is line 1).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from recoup.errors import FileRefused
from recoup.ingest.base import ReadResult
from recoup.ingest.reader import Format
from recoup.invoices.charges import DISCOUNT, charge_map, norm_text
from recoup.invoices.charges.batches import Batches, Tally, rows_per_chunk, whole_invoices
from recoup.invoices.charges.columns import (
    COMPACT_DATE,
    ISO_DATE,
    NONE,
    Column,
    DateFormat,
    HeaderLayout,
    Problems,
    Ragged,
    best_delimiter,
    date_formats_text,
    drop_ragged,
    drop_ragged_lines,
    head_lines,
    invoice_frame,
    iter_columns,
    missing,
    norm_header,
    read_columns,
    read_head,
    refuse_non_text,
    split_line,
)
from recoup.money import from_cents

FORMAT = "fedex"
CARRIER = "fedex"
CHARGE_TABLE = "fedex_charges.csv"
DATE_FORMATS = (COMPACT_DATE, ISO_DATE)

__all__ = ["CARRIER", "FORMAT", "parse_columns", "read", "read_stream", "sniff"]

# role -> header names it may have (the first present wins)
_REQUIRED = {
    "invoice_number": ("Invoice Number",),
    "invoice_date": ("Invoice Date",),
    "tracking_id": ("Express or Ground Tracking ID",),
    "transportation": ("Transportation Charge Amount",),
}
_OPTIONAL = {
    "account_number": ("Bill to Account Number",),
    "prefix": ("Ground Tracking ID Prefix",),
    "net": ("Net Charge Amount",),
    "service": ("Service Type",),
    "ground_service": ("Ground Service",),
    "ship_date": ("Shipment Date",),
    "weight": ("Rated Weight Amount",),
    "weight_unit": ("Rated Weight Units",),
    "zone": ("Zone Code",),
    "notes": ("Shipment Notes",),
    "currency": ("Currency", "Currency Code", "Invoice Currency Code"),
}
_PAIR_DESCRIPTION = norm_header("Tracking ID Charge Description")
_PAIR_AMOUNT = norm_header("Tracking ID Charge Amount")
_UNITS = {"L": "lb", "LB": "lb", "LBS": "lb", "K": "kg", "KG": "kg", "KGS": "kg"}
_REFERENCE = re.compile(r"(?:^|\s)(\S*\d\S*)\s*$")


class _Layout(HeaderLayout):
    """Where the used columns are in this export."""

    def __init__(self, header: list[str]) -> None:
        super().__init__(header, _REQUIRED, _OPTIONAL)
        names = self.names
        self.pairs = [(i, i + 1) for i, n in enumerate(names[:-1])
                      if n == _PAIR_DESCRIPTION and names[i + 1] == _PAIR_AMOUNT]


def _layout(head: bytes) -> tuple[_Layout, str] | str:
    """The layout and delimiter of a FedEx Billing Online export, or why the head is not one."""
    lines = head_lines(head, limit=1)
    if not lines:
        return "no complete line of text"
    sep = best_delimiter(lines[0], (",", ";", "\t"))
    layout = _Layout(split_line(lines[0], sep))
    if layout.missing:
        return f"no {', '.join(repr(m) for m in layout.missing)} column in the header"
    return layout, sep


def sniff(head: bytes) -> bool:
    """A header row naming ``Express or Ground Tracking ID``, ``Invoice Number``, ``Invoice Date``
    and ``Transportation Charge Amount``."""
    return not isinstance(_layout(head), str)


def read(path: Path) -> ReadResult:
    """Read a FedEx Billing Online CSV. FileRefused when it is not one; bad rows in ``errors``."""
    path = Path(path)
    _, layout, sep = _opened(path)
    by_position = read_columns(path, sep=sep, width=layout.width, positions=_positions(layout),
                               what="FedEx Billing Online CSV")
    cols, pairs = _by_role(layout, by_position)
    if len(cols["invoice_number"]) <= 1:
        raise FileRefused("no invoice rows after the header")
    return drop_ragged(parse_columns(layout, cols, pairs, thousands=sep != ";"), path, sep, layout.width)


def _opened(path: Path) -> tuple[bytes, _Layout, str]:
    """The file's first bytes, its header layout and delimiter; FileRefused when it is not a FedEx
    Billing Online invoice CSV (binary, a workbook, another header)."""
    head = read_head(path)
    refuse_non_text(head)
    found = _layout(head)
    if isinstance(found, str):
        raise FileRefused(f"not a FedEx Billing Online invoice CSV: {found}")
    layout, sep = found
    return head, layout, sep


def _positions(layout: _Layout) -> list[int]:
    return [*layout.position.values(), *(p for pair in layout.pairs for p in pair)]


def _by_role(layout: _Layout, by_position: dict[int, Column]) -> tuple[dict[str, Column], list[tuple[Column, Column]]]:
    cols = {role: by_position[pos] for role, pos in layout.position.items()}
    return cols, [(by_position[d], by_position[a]) for d, a in layout.pairs]


def read_stream(path: Path, *, chunk_bytes: int) -> Batches:
    """:func:`read` in batches of whole invoices of about ``chunk_bytes`` each (bounded memory,
    issue 17; see :func:`recoup.invoices.ups_billing.read_stream`)."""
    path = Path(path)
    head, layout, sep = _opened(path)
    ragged = Ragged(path, sep)
    if len(ragged.counts) <= 1:
        raise FileRefused("no invoice rows after the header")
    chunks = iter_columns(path, sep=sep, width=layout.width, positions=_positions(layout),
                          what="FedEx Billing Online CSV", chunk_rows=rows_per_chunk(head, chunk_bytes))

    def after_header() -> Iterator[tuple[int, dict[int, Column]]]:
        for first, cols in chunks:
            if first == 1:
                cols = {pos: c.take(slice(1, len(c))) for pos, c in cols.items()}
                first = 2
            if len(next(iter(cols.values()))):
                yield first, cols

    def parts() -> Iterator[tuple[ReadResult, Tally]]:
        for first, by_position in whole_invoices(after_header(), layout.position["invoice_number"]):
            cols, pairs = _by_role(layout, by_position)
            result, tally = _parse_tallied(layout, cols, pairs, thousands=sep != ";", first_line=first)
            n = len(cols["invoice_number"])
            yield drop_ragged_lines(result, ragged, layout.width, range(first, first + n)), tally

    return Batches(FORMAT, parts(), _render_notes)


class Names(Protocol):
    def name(self, role: str) -> str: ...


def parse_columns(layout: Names, cols: dict[str, Column], pairs: list[tuple[Column, Column]], *,
                  thousands: bool, date_formats: Sequence[DateFormat] = DATE_FORMATS, fmt: str = FORMAT,
                  pair_names: Sequence[str] | None = None, stated_total_is_checked: bool = False) -> ReadResult:
    """Canonical invoice lines from the columns of a FedEx export with one row per tracking number
    (line 1 the header), by role: ``invoice_number``, ``invoice_date``, ``tracking_id`` (required),
    ``transportation``, ``net`` (the row's stated total), ``account_number``, ``prefix``,
    ``service``, ``ground_service``, ``ship_date``, ``weight``, ``weight_unit``, ``zone``,
    ``notes``, ``currency``; and the charge description/amount ``pairs``.

    The transportation line is ``transportation`` plus the pairs typed ``discount`` or
    ``transportation`` in ``charges/fedex_charges.csv`` (the freight may come as a pair). Shared by
    the US Billing Online reader and :mod:`recoup.invoices.fedex_intl`. With
    ``stated_total_is_checked``, a row whose charges do not add up to ``net`` is a row error (its
    invoice is refused); otherwise such rows are counted in the notes."""
    result, tally = _parse_tallied(layout, cols, pairs, thousands=thousands, date_formats=date_formats, fmt=fmt,
                                   pair_names=pair_names, stated_total_is_checked=stated_total_is_checked)
    result.notes = tally.render(_render_notes)
    return result


def _render_notes(tally: Tally) -> list[str]:
    notes: list[str] = []
    if tally.counts["mismatch"]:
        notes.append(f"{tally.counts['mismatch']} row(s) where Net Charge Amount is not the sum of the "
                     "row's charges (lines follow the charges)")
    if tally.counts["empty"]:
        notes.append(f"{tally.counts['empty']} row(s) with no non-zero charge")
    return notes


def _parse_tallied(layout: Names, cols: dict[str, Column], pairs: list[tuple[Column, Column]], *,
                   thousands: bool, date_formats: Sequence[DateFormat] = DATE_FORMATS, fmt: str = FORMAT,
                   pair_names: Sequence[str] | None = None, stated_total_is_checked: bool = False,
                   first_line: int = 1) -> tuple[ReadResult, Tally]:
    """:func:`parse_columns` of rows ``first_line`` on, with the counts its notes are made of."""
    n = len(cols["invoice_number"])
    lines = np.arange(first_line, first_line + n, dtype=np.int64)
    blank = np.ones(n, dtype=bool)
    for c in [*cols.values(), *(c for pair in pairs for c in pair)]:
        blank &= c.blank()
    rows = ~blank & (lines > 1)            # line 1 is the header
    invoice_numbers = cols["invoice_number"].text()
    problems = Problems(lines, invoice_numbers)

    def required(role: str) -> None:
        problems.flag(rows & cols[role].blank(), layout.name(role), "missing value")

    required("invoice_number")
    required("tracking_id")
    required("invoice_date")
    expected = f"not a date ({date_formats_text(date_formats)})"
    invoice_date, bad = cols["invoice_date"].dates(date_formats)
    problems.flag(rows & bad, layout.name("invoice_date"), expected, cols["invoice_date"].raw())
    ship_date = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    if "ship_date" in cols:
        ship_date, bad = cols["ship_date"].dates(date_formats)
        problems.flag(rows & bad, layout.name("ship_date"), expected, cols["ship_date"].raw())
    if "transportation" in cols:
        transport, bad = cols["transportation"].cents(thousands=thousands)
        problems.flag(rows & bad, layout.name("transportation"), "not an amount", cols["transportation"].raw())
        transport_blank = cols["transportation"].blank()
    else:  # the freight comes as a charge pair
        transport = np.zeros(n, dtype=np.int64)
        transport_blank = np.ones(n, dtype=bool)
    net = net_bad = None
    if "net" in cols:
        net, net_bad = cols["net"].cents(thousands=thousands)
        problems.flag(rows & net_bad, layout.name("net"), "not an amount", cols["net"].raw())

    table = charge_map(CHARGE_TABLE)
    pair_amounts: list[np.ndarray] = []
    pair_types: list[np.ndarray] = []
    pair_unknown: list[np.ndarray] = []
    for k, (desc, amount_col) in enumerate(pairs, start=1):
        amount, bad = amount_col.cents(thousands=thousands)
        label = pair_names[k - 1] if pair_names else f"Tracking ID Charge Amount (pair {k})"
        problems.flag(rows & bad, label, "not an amount", amount_col.raw())
        found = desc.apply(lambda d: table.lookup(description=d) if d else None)
        pair_amounts.append(np.where(bad, 0, amount))
        pair_types.append(np.where(missing(found), "other", found).astype(object))
        pair_unknown.append(missing(found) & ~desc.blank() & (amount != 0))

    weight = unit = None
    if "weight" in cols:
        weight, bad = cols["weight"].weights()
        problems.flag(rows & bad, layout.name("weight"), "not a weight", cols["weight"].raw())
        unit = np.full(n, None, dtype=object)
        if "weight_unit" in cols:
            unit = cols["weight_unit"].apply(lambda u: _UNITS.get(u.upper()))
            bad_unit = rows & ~cols["weight_unit"].blank() & missing(unit) & ~cols["weight"].blank()
            problems.flag(bad_unit, layout.name("weight_unit"), "unknown weight unit (L or K)",
                          cols["weight_unit"].raw())
        unit = np.where(missing(weight), NONE, unit)

    total = transport + sum(pair_amounts, np.zeros(n, dtype=np.int64))
    if stated_total_is_checked and net is not None and net_bad is not None:
        stated = rows & ~problems.bad & ~cols["net"].blank() & ~net_bad
        for i in np.flatnonzero(stated & (total != net)):
            one = np.zeros(n, dtype=bool)
            one[i] = True
            problems.flag(one, layout.name("net"), f"the row's charges add up to {from_cents(int(total[i]))}, "
                          f"not the stated {from_cents(int(net[i]))}")

    good = rows & ~problems.bad

    # the transportation line: the transportation amount plus the discount (and freight) pairs
    discount = np.zeros(n, dtype=np.int64)
    has_discount = np.zeros(n, dtype=bool)
    for amount, types in zip(pair_amounts, pair_types, strict=True):
        is_discount = (types == DISCOUNT) | (types == "transportation")
        discount += np.where(is_discount, amount, 0)
        has_discount |= is_discount & (amount != 0)
    transport_total = transport + discount
    transport_line = good & (~transport_blank | has_discount) & (transport_total != 0)

    # the long list of lines: (source row, order within the row, type, amount, description)
    notes_text = cols["notes"].raw() if "notes" in cols else np.full(n, "", dtype=object)
    service = _service(cols)
    src: list[np.ndarray] = [np.flatnonzero(transport_line)]
    order: list[np.ndarray] = [np.zeros(len(src[0]), dtype=np.int64)]
    ctype: list[np.ndarray] = [np.full(len(src[0]), "transportation", dtype=object)]
    amounts: list[np.ndarray] = [transport_total[src[0]]]
    texts: list[np.ndarray] = [service[src[0]]]
    unknown_codes: Counter[str] = Counter()
    for k, ((desc, _), amount, types, unknown) in enumerate(
            zip(pairs, pair_amounts, pair_types, pair_unknown, strict=True), start=1):
        take = np.flatnonzero(good & (amount != 0) & (types != DISCOUNT) & (types != "transportation"))
        src.append(take)
        order.append(np.full(len(take), k, dtype=np.int64))
        ctype.append(types[take])
        amounts.append(amount[take])
        texts.append(desc.text()[take])
        flagged = take[unknown[take] & (amount[take] > 0)]
        unknown_codes.update(f"fedex:{norm_text(d)}" for d in desc.raw()[flagged])
    row = np.concatenate(src)
    sequence = np.concatenate(order)
    by_line = np.lexsort((sequence, row))
    row, sequence = row[by_line], sequence[by_line]
    charge_type = np.concatenate(ctype)[by_line]
    amount_cents = np.concatenate(amounts)[by_line]
    description = np.concatenate(texts)[by_line]

    credit = amount_cents < 0
    charge_type = np.where(credit, "credit", charge_type).astype(object)
    reference, note_text = _split_notes(notes_text)
    reference = np.where(credit, reference[row], NONE)
    note_description = note_text[row]
    description = np.where(credit & (note_description != ""), note_description, description).astype(object)
    description[np.equal(description, "")] = None
    is_transport = charge_type == "transportation"

    tracking = cols["tracking_id"].text()
    if "prefix" in cols:
        prefix = cols["prefix"].raw()
        for i in np.flatnonzero(~cols["prefix"].blank() & ~cols["tracking_id"].blank()):
            tracking[i] = prefix[i] + tracking[i]
    frame = invoice_frame(
        len(row),
        invoice_number=invoice_numbers[row],
        invoice_date=invoice_date[row],
        carrier=CARRIER,
        account_number=_text_or_none(cols, "account_number", n)[row],
        currency=_text_or_none(cols, "currency", n)[row],
        tracking_number=tracking[row],
        charge_type=charge_type,
        amount_cents=amount_cents,
        billed_weight=np.where(is_transport, weight[row], NONE) if weight is not None else None,
        weight_unit=np.where(is_transport, unit[row], NONE) if unit is not None else None,
        zone=np.where(is_transport, _text_or_none(cols, "zone", n)[row], NONE),
        service=service[row],
        ship_date=ship_date[row],
        reference=reference,
        description=description,
        line=lines[row],
    )

    tally = Tally({})
    if net is not None and net_bad is not None and not stated_total_is_checked:
        tally.counts["mismatch"] = int((good & ~cols["net"].blank() & (total != net)).sum())
    tally.counts["empty"] = int((good & ~np.isin(np.arange(n), row)).sum())
    return ReadResult(format=fmt, frame=frame, read=int(rows.sum()), errors=problems.errors,
                      unknown_codes=unknown_codes, notes=[]), tally


def _text_or_none(cols: dict[str, Column], role: str, n: int) -> np.ndarray:
    return cols[role].text() if role in cols else np.full(n, None, dtype=object)


def _service(cols: dict[str, Column]) -> np.ndarray:
    n = len(cols["invoice_number"])
    service = _text_or_none(cols, "service", n)
    if "ground_service" in cols:
        ground = cols["ground_service"].text()
        service = np.where(missing(service), ground, service).astype(object)
    return service


def _split_notes(notes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(reference, the rest) of each Shipment Notes text: the reference is a last word with a digit."""
    col = Column(notes)
    refs: list[object] = []
    rests: list[str] = []
    for text in col.uniques:
        m = _REFERENCE.search(text)
        if m:
            refs.append(m.group(1))
            rests.append(text[: m.start(1)].strip(" -:;,"))
        else:
            refs.append(None)
            rests.append(text)
    return (np.array(refs, dtype=object)[col.codes], np.array(rests, dtype=object)[col.codes])


READER = Format("fedex", "invoices", sniff, read)
