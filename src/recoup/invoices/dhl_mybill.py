"""DHL Express MyBill invoice CSV → canonical invoice lines (carrier ``dhl_express``).

A header row, then ``Line Type`` ``I`` rows (one per invoice: totals, not charges) and ``S`` rows
(one per shipment). Columns are matched by header name, case, spaces and punctuation ignored
(``Weight(kg)`` is ``Weight (kg)``); the full list is ``samples/formats/dhl_express_mybill_csv_columns.tsv``.
Comma- or semicolon-delimited.

Lines of an S row (``Shipment Number`` is the tracking number), in this order:

- transportation: ``Weight Charge`` less the ``Discount n Amount`` discounts (a discount reduces
  the charge whatever sign the file gives it), with ``Weight (kg)`` as the billed weight (kg);
  service ``Product`` (else ``Product Name``), no zone (MyBill has none);
- ``Other Charges 1/2`` (name and amount) and ``Invoice Fee``, each when not zero;
- one line per ``XCn Code / Name / Charge`` group (nine in the export, any number read), the
  amount being ``XCn Charge`` less ``XCn Discount``; its type by code, then by name, from
  ``charges/dhl_charges.csv`` (FF fuel, OO remote area delivery → delivery_area, MA address
  correction, YY/YB overweight/oversize piece, II/IB insurance → declared_value, AA Saturday
  delivery, customs pass-through codes → other ...); unknown → ``other``, counted ``dhl:<code>``;
- ``Total Tax`` when not zero, as ``other`` (as UPS TAX rows).

A negative line is a ``credit``; its reference is ``Original Invoice Number`` when given.

Decisions where the spec is silent (no real MyBill file was available; the fixtures in the tests
are generated from the column list):

- Invoice-level values missing on an S row (``Invoice Date``, ``Billing Account``, ``Currency``)
  are taken from the I row of the same invoice number.
- A row whose ``Line Type`` is neither I nor S is a row error (it may carry charges we would
  otherwise drop), as is a positive amount on a credit note (``Invoice Type`` starting ``CN``):
  the sign convention of MyBill credit notes is not documented, and a guess could load a refund
  as a second charge.
- Dates: YYYYMMDD or ISO; DD/MM/YYYY also in semicolon-delimited files. Amounts use ``.``; a
  comma is a thousands separator in comma-delimited files only.
- ``line`` is the physical line (the header is line 1).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np

from recoup.errors import FileRefused
from recoup.ingest.base import ReadResult
from recoup.ingest.reader import Format
from recoup.invoices.charges import DISCOUNT, charge_map, norm_text
from recoup.invoices.charges.columns import (
    COMPACT_DATE,
    DMY_DATE,
    ISO_DATE,
    NONE,
    Column,
    HeaderLayout,
    Problems,
    apply_distinct,
    best_delimiter,
    date_formats_text,
    drop_ragged,
    head_lines,
    invoice_frame,
    missing,
    read_columns,
    read_head,
    refuse_non_text,
    split_line,
)

FORMAT = "dhl"
CARRIER = "dhl_express"
CHARGE_TABLE = "dhl_charges.csv"

__all__ = ["CARRIER", "FORMAT", "read", "sniff"]

_REQUIRED = {
    "line_type": ("Line Type",),
    "invoice_number": ("Invoice Number",),
    "shipment_number": ("Shipment Number",),
    "weight_charge": ("Weight Charge",),
}
_OPTIONAL = {
    "invoice_date": ("Invoice Date",),
    "invoice_type": ("Invoice Type",),
    "original_invoice": ("Original Invoice Number",),
    "account_number": ("Billing Account", "Parent Account"),
    "ship_date": ("Shipment Date",),
    "product": ("Product",),
    "product_name": ("Product Name",),
    "weight": ("Weight (kg)",),
    "currency": ("Currency",),
    "total_tax": ("Total Tax",),
    "tax_code": ("Tax Code",),
    "invoice_fee": ("Invoice Fee",),
    "discount1": ("Discount 1 Amount",),
    "discount2": ("Discount 2 Amount",),
    "discount3": ("Discount 3 Amount",),
    "other1": ("Other Charges 1",),
    "other1_amount": ("Other Charges 1 Amount",),
    "other2": ("Other Charges 2",),
    "other2_amount": ("Other Charges 2 Amount",),
}
_XC = re.compile(r"xc(\d+)(code|name|charge|discount)")


class _Layout(HeaderLayout):
    def __init__(self, header: list[str]) -> None:
        super().__init__(header, _REQUIRED, _OPTIONAL)
        names = self.names
        groups: dict[int, dict[str, int]] = {}
        for i, n in enumerate(names):
            m = _XC.fullmatch(n)
            if m:
                groups.setdefault(int(m.group(1)), {}).setdefault(m.group(2), i)
        # a group needs a charge and a code or a name
        self.extra = {k: g for k, g in sorted(groups.items()) if "charge" in g and ({"code", "name"} & set(g))}


def _layout(head: bytes) -> tuple[_Layout, str] | str:
    lines = head_lines(head, limit=1)
    if not lines:
        return "no complete line of text"
    sep = best_delimiter(lines[0], (",", ";", "\t"))
    layout = _Layout(split_line(lines[0], sep))
    if layout.missing:
        return f"no {', '.join(repr(m) for m in layout.missing)} column in the header"
    return layout, sep


def sniff(head: bytes) -> bool:
    """A header row naming ``Line Type``, ``Invoice Number``, ``Shipment Number`` and ``Weight Charge``."""
    return not isinstance(_layout(head), str)


def read(path: Path) -> ReadResult:
    """Read a DHL Express MyBill CSV. FileRefused when it is not one; bad rows in ``errors``."""
    path = Path(path)
    head = read_head(path)
    refuse_non_text(head)
    found = _layout(head)
    if isinstance(found, str):
        raise FileRefused(f"not a DHL Express MyBill CSV: {found}")
    layout, sep = found
    positions = [*layout.position.values(), *(p for g in layout.extra.values() for p in g.values())]
    by_position = read_columns(path, sep=sep, width=layout.width, positions=positions,
                               what="DHL Express MyBill CSV")
    cols = {role: by_position[pos] for role, pos in layout.position.items()}
    extra = {k: {part: by_position[pos] for part, pos in g.items()} for k, g in layout.extra.items()}
    if len(cols["line_type"]) <= 1:
        raise FileRefused("no rows after the header")
    date_formats = (COMPACT_DATE, ISO_DATE) if sep != ";" else (COMPACT_DATE, ISO_DATE, DMY_DATE)
    return drop_ragged(_parse(layout, cols, extra, date_formats, thousands=sep != ";"), path, sep, layout.width)


class _Lines:
    """The long list of lines being built: source row, order in the row, type, cents, text."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, int, np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, rows: np.ndarray, order: int, types: np.ndarray, cents: np.ndarray, text: np.ndarray) -> None:
        self.parts.append((rows, order, types[rows], cents[rows], text[rows]))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        rows = np.concatenate([p[0] for p in self.parts])
        order = np.concatenate([np.full(len(p[0]), p[1], dtype=np.int64) for p in self.parts])
        sort = np.lexsort((order, rows))
        return (rows[sort], np.concatenate([p[2] for p in self.parts]).astype(object)[sort],
                np.concatenate([p[3] for p in self.parts]).astype(np.int64)[sort],
                np.concatenate([p[4] for p in self.parts]).astype(object)[sort])


class _Item:
    """One charge of an S row other than the weight charge: its order, type, cents, text, unknown key."""

    def __init__(self, order: int, found: np.ndarray, cents: np.ndarray, text: np.ndarray,
                 key: np.ndarray | None = None) -> None:
        self.order, self.found, self.cents, self.text, self.key = order, found, cents, text, key

    @property
    def discount(self) -> np.ndarray:
        return self.found == DISCOUNT


def _parse(layout: _Layout, cols: dict[str, Column], extra: dict[int, dict[str, Column]],
           date_formats: tuple, *, thousands: bool) -> ReadResult:  # type: ignore[type-arg]
    n = len(cols["line_type"])
    lines = np.arange(1, n + 1, dtype=np.int64)
    blank = np.ones(n, dtype=bool)
    for c in [*cols.values(), *(c for g in extra.values() for c in g.values())]:
        blank &= c.blank()
    data = ~blank & (lines > 1)
    line_type = cols["line_type"].code()
    invoice_rows = data & (line_type == "I")
    rows = data & (line_type == "S")
    invoice_numbers = cols["invoice_number"].text()
    problems = Problems(lines, invoice_numbers)
    empty = Column(np.full(n, "", dtype=object))

    def col(role: str) -> Column:
        return cols.get(role, empty)

    problems.flag(data & (line_type == ""), layout.name("line_type"), "missing value")
    problems.flag(data & (line_type != "") & ~invoice_rows & ~rows, layout.name("line_type"),
                  "unknown line type (I invoice, S shipment)", cols["line_type"].raw())
    for role in ("invoice_number", "shipment_number"):
        problems.flag(rows & cols[role].blank(), layout.name(role), "missing value")

    def from_invoice_row(values: np.ndarray, missing: np.ndarray) -> np.ndarray:
        """The S row's value, else the value on the I row of the same invoice number."""
        known = {invoice_numbers[i]: values[i] for i in np.flatnonzero(invoice_rows & ~missing)}
        values = values.copy()
        for i in np.flatnonzero(rows & missing):
            values[i] = known.get(invoice_numbers[i], values[i])
        return values

    expected = f"not a date ({date_formats_text(date_formats)})"
    invoice_date, bad = col("invoice_date").dates(date_formats)
    problems.flag((rows | invoice_rows) & bad, "Invoice Date", expected, col("invoice_date").raw())
    invoice_date = from_invoice_row(invoice_date, np.isnat(invoice_date))
    problems.flag(rows & ~bad & np.isnat(invoice_date), "Invoice Date",
                  "missing value (on the S row and on its invoice's I row)")
    ship_date, bad = col("ship_date").dates(date_formats)
    problems.flag(rows & bad, "Shipment Date", expected, col("ship_date").raw())
    weight, bad = col("weight").weights()
    problems.flag(rows & bad, "Weight (kg)", "not a weight", col("weight").raw())

    def cents(column: Column, label: str) -> np.ndarray:
        amount, bad = column.cents(thousands=thousands)
        problems.flag(rows & bad, label, "not an amount", column.raw())
        return np.where(bad, 0, amount)

    table = charge_map(CHARGE_TABLE)
    transport = cents(cols["weight_charge"], layout.name("weight_charge"))
    for k in (1, 2, 3):
        transport = transport - np.abs(cents(col(f"discount{k}"), f"Discount {k} Amount"))
    items: list[_Item] = []
    for k in (1, 2):
        name = col(f"other{k}")
        found = apply_distinct([name], lambda t: table.lookup(code="", name=t) if t else None)
        items.append(_Item(k, found, cents(col(f"other{k}_amount"), f"Other Charges {k} Amount"),
                           name.text(), name.raw()))
    items.append(_Item(3, np.full(n, "other", dtype=object), cents(col("invoice_fee"), "Invoice Fee"),
                       np.full(n, "Invoice Fee", dtype=object)))
    for k, group in extra.items():
        charge = cents(group["charge"], f"XC{k} Charge")
        charge = charge - np.abs(cents(group.get("discount", empty), f"XC{k} Discount"))
        code, name = group.get("code", empty), group.get("name", empty)
        found = apply_distinct([code, name], lambda c, t: table.lookup(code=c, name=t) if c or t else None)
        items.append(_Item(10 + k, found, charge, np.where(name.blank(), code.text(), name.text()),
                           np.where(code.blank(), name.raw(), code.raw())))
    tax_text = np.array([f"Tax {c}".strip() for c in col("tax_code").raw()], dtype=object)
    items.append(_Item(999, np.full(n, "other", dtype=object), cents(col("total_tax"), "Total Tax"), tax_text))
    for item in items:  # discounts named among the items fold into the transportation line
        transport = transport + np.where(item.discount, -np.abs(item.cents), 0)

    credit_note = col("invoice_type").apply(lambda t: t.upper().startswith("CN"), dtype=bool)
    positive = (transport > 0) | np.logical_or.reduce([(i.cents > 0) & ~i.discount for i in items])
    problems.flag(rows & credit_note & positive, "Invoice Type", "a positive amount on a credit note: the "
                  "sign convention of MyBill credit notes is unknown", col("invoice_type").raw())

    good = rows & ~problems.bad
    product, product_name = col("product").text(), col("product_name").text()
    service = np.where(missing(product), product_name, product).astype(object)
    built = _Lines()
    built.add(np.flatnonzero(good & (transport != 0)), 0, np.full(n, "transportation", dtype=object),
              transport, np.where(missing(product_name), product, product_name).astype(object))
    unknown_codes: Counter[str] = Counter()
    for item in items:
        take = np.flatnonzero(good & (item.cents != 0) & ~item.discount)
        unknown = missing(item.found)
        built.add(take, item.order, np.where(unknown, "other", item.found).astype(object), item.cents, item.text)
        if item.key is not None:
            flagged = take[unknown[take] & (item.cents[take] > 0)]
            unknown_codes.update(f"dhl:{norm_text(item.key[i]) or '(blank)'}" for i in flagged)

    row, charge_type, amount_cents, description = built.arrays()
    credit = amount_cents < 0
    charge_type = np.where(credit, "credit", charge_type).astype(object)
    is_transport = charge_type == "transportation"
    frame = invoice_frame(
        len(row),
        invoice_number=invoice_numbers[row],
        invoice_date=invoice_date[row],
        carrier=CARRIER,
        account_number=from_invoice_row(col("account_number").text(), col("account_number").blank())[row],
        currency=from_invoice_row(col("currency").text(), col("currency").blank())[row],
        tracking_number=cols["shipment_number"].text()[row],
        charge_type=charge_type,
        amount_cents=amount_cents,
        billed_weight=np.where(is_transport, weight[row], NONE),
        weight_unit=np.where(is_transport & ~missing(weight[row]), "kg", NONE),
        zone=None,
        service=service[row],
        ship_date=ship_date[row],
        reference=np.where(credit, col("original_invoice").text()[row], NONE),
        description=description,
        line=lines[row],
    )
    notes: list[str] = []
    if invoice_rows.any():
        notes.append(f"{int(invoice_rows.sum())} invoice (I) row(s) read for invoice values: not charges")
    return ReadResult(format=FORMAT, frame=frame, read=int(data.sum()), errors=problems.errors,
                      unknown_codes=unknown_codes, notes=notes)


READER = Format("dhl", "invoices", sniff, read)
