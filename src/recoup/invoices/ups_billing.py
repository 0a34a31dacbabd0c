"""UPS Billing Data (v2.1: headerless CSV, 250 fixed columns) → canonical invoice lines.

One row per charge, several per tracking number (formats.md, Invoices). Positions are 0-based:
2 Account Number, 4 Invoice Date, 5 Invoice Number, 9 Invoice Currency Code, 10 Invoice Amount,
11 Transaction Date, 12 Pickup Record Number, 13 Lead Shipment Number, 20 Tracking Number,
28/29 Billed Weight and unit, 33 Zone, 34 Charge Category Code, 35 Charge Category Detail Code,
43 Charge Classification Code, 44 Charge Description Code, 45 Charge Description, 52 Net Amount,
116 Shipment Date, 174 Miscellaneous Line 1 (the adjustment or claim number on credits).

Mapping (``charges/ups_charges.csv``, by category detail, classification, description code and
text): FRT → transportation, with billed weight, unit (``L`` lb, ``K`` kg) and zone as written
(``"004"``); FSC → fuel; ACC codes → residential, delivery_area, ...; TAX/GOV/BRK → other; ADJ
rows like SHP rows, except detail ADC (address_correction). INF rows are not charges: skipped and
counted in the notes. Incentive rows (``ACC`` ``SIM`` "Special Incentive Modifier" and other rows the
table maps to ``discount``) are part of the parcel's transportation price: they are folded into the
FRT line of the same invoice and tracking number (published + incentives = the net price the rate
card holds), never credits; an incentive with no FRT line beside it stays a (negative)
transportation line of its own. Any other negative Net Amount is a ``credit``, with the carrier's
reference (column 174) and ``"<detail code> <description>"`` as its description (so ``GSR
Guaranteed Service Refund`` tells the reconciliation it pays a late delivery).

Real exports (formats.md, issue 11):

- Account-level rows have no tracking number (``MIS``/``SVCH`` "Payment Processing Fee", "Service
  Charge" and its fuel, ``ADJ``/``CADJ`` "Billing Adjustment for W/E ...", ``ADJ``/``OCG`` pickup
  charges keyed by a pickup request number): they are account charges of their invoice, stored with
  no tracking number (``tracking_number`` None), counted in the invoice's total, attached to no
  parcel; their reference is the Pickup Record Number (12) or Lead Shipment Number (13) when given.
  A file of nothing but such rows is still UPS Billing Data.
- Shipment Date (116) is usually empty: the ship date of a shipment (``SHP``) row is then its
  Transaction Date (11); on adjustment rows that date is the adjustment's, not the ship date.
- FRT description codes are zero-padded (``003``): the service is kept without the padding (``3``).
- Adjustments keep what they are in ``adjustment`` (``charges/ups_adjustments.csv``): ``SCC``
  charge_correction, ``RADJ`` residential_adjustment, ``ADC`` address_correction, ``RTN``/``RTS``
  return, ``VOID`` void, ``GSR`` refund — beside their charge type, so the audit can see them.
- When column 10 (Invoice Amount) is given and the invoice's rows do not add up to it, the run
  notes it (a file cut short, or an export split over several files); the rows are still loaded.

Dialects: comma-delimited with ISO dates, or semicolon-delimited with DD/MM/YYYY (ISO also read);
rows may be trimmed of trailing empty columns; UTF-8 with or without BOM; LF or CRLF.

Decisions where the spec is silent:

- ``service`` is the UPS service code of the parcel's FRT row (``"2"``; ``"002"`` is read as ``"2"``),
  given to every line of that tracking number on the same invoice; the carrier's service text is
  the FRT line's description.
- Billed weight, unit and zone go on transportation lines only (the canonical CSV's rule).
- A comma-delimited file's dates must be ISO: ``05/09/2026`` there could be either order and is a
  row error rather than a guess. Amounts use ``.``; a comma in an amount is refused in semicolon
  files (a decimal comma must not become a hundredfold amount), read as a thousands separator in
  comma files (``"1,234.50"``).
- ``line`` is the physical line (1-based); blank lines are skipped but counted.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from recoup.errors import ConfigError, FileRefused
from recoup.ingest.base import ReadResult, RowError
from recoup.ingest.reader import Format
from recoup.invoices.charges import DISCOUNT, charge_map, norm_code
from recoup.invoices.charges.batches import Batches, Tally, rows_per_chunk, whole_invoices
from recoup.invoices.charges.columns import (
    DMY_DATE,
    ISO_DATE,
    NONE,
    Column,
    Problems,
    apply_distinct,
    best_delimiter,
    date_formats_text,
    head_lines,
    invoice_frame,
    iter_columns,
    missing,
    read_columns,
    read_head,
    refuse_non_text,
    split_line,
)
from recoup.money import from_cents

FORMAT = "ups"
CARRIER = "ups"
N_COLUMNS = 250
MIN_COLUMNS = 53          # a row must reach Net Amount (52), however trimmed
CHARGE_TABLE = "ups_charges.csv"
ADJUSTMENT_TABLE = "ups_adjustments.csv"
# Charge Category Codes of UPS Billing Data (column 34): a row with one of these and no tracking
# number is an account-level charge (formats.md, Invoices).
_CATEGORIES = frozenset({"SHP", "ADJ", "RTN", "MIS", "INF", "SVC", "POD", "TAX"})

__all__ = ["CARRIER", "FORMAT", "read", "read_stream", "sniff"]

# role -> (0-based position, the column's name in UPS Billing Data v2.1)
_COLUMNS: dict[str, tuple[int, str]] = {
    "account_number": (2, "Account Number"),
    "invoice_date": (4, "Invoice Date"),
    "invoice_number": (5, "Invoice Number"),
    "currency": (9, "Invoice Currency Code"),
    "invoice_amount": (10, "Invoice Amount"),
    "transaction_date": (11, "Transaction Date"),
    "pickup_record": (12, "Pickup Record Number"),
    "lead_shipment": (13, "Lead Shipment Number"),
    "tracking_number": (20, "Tracking Number"),
    "billed_weight": (28, "Billed Weight"),
    "weight_unit": (29, "Billed Weight Unit of Measure"),
    "zone": (33, "Zone"),
    "category": (34, "Charge Category Code"),
    "detail": (35, "Charge Category Detail Code"),
    "classification": (43, "Charge Classification Code"),
    "code": (44, "Charge Description Code"),
    "description": (45, "Charge Description"),
    "net_amount": (52, "Net Amount"),
    "ship_date": (116, "Shipment Date"),
    "misc1": (174, "Miscellaneous Line 1"),
}
_UNITS = {"L": "lb", "LB": "lb", "LBS": "lb", "K": "kg", "KG": "kg", "KGS": "kg"}


def _name(role: str) -> str:
    pos, name = _COLUMNS[role]
    return f"{name} (col {pos})"


# ---------------------------------------------------------------- recognising the format


def sniff(head: bytes) -> bool:
    """Headerless rows of at least 53 columns, of which one at least has a date in column 4, an
    invoice number in column 5, a tracking number in column 20 and an amount in column 52."""
    return _not_ups(head) is None


def _not_ups(head: bytes) -> str | None:
    """Why the head is not UPS Billing Data, or None when it is. Rows with a bad cell still count
    as UPS rows (they become row errors); one row at least must be a whole, good charge row."""
    lines = head_lines(head)
    if not lines:
        return "no complete line of text"
    sep = best_delimiter(lines[0])
    why = None
    for number, line in enumerate(lines, start=1):
        fields = [f.strip() for f in split_line(line, sep)]
        if len(fields) < MIN_COLUMNS:
            return (f"line {number} has {len(fields)} columns; UPS Billing Data rows have {N_COLUMNS} "
                    f"(at least {MIN_COLUMNS} when trimmed) and no header")
        if not any(rx.fullmatch(fields[4]) for _, rx, _ in (ISO_DATE, DMY_DATE)):
            why = why or f"line {number}: column 4 (Invoice Date) is not a date: {fields[4][:30]!r}"
        elif not fields[5]:
            why = why or f"line {number}: no invoice number in column 5"
        elif not (len(fields[20]) >= 6 and fields[20].isalnum()) and not (
                fields[20] == "" and fields[34].upper() in _CATEGORIES):
            why = why or f"line {number}: no tracking number in column 20 and no UPS charge category in column 34"
        elif not _looks_like_amount(fields[52]):
            why = why or f"line {number}: column 52 (Net Amount) is not an amount: {fields[52][:30]!r}"
        else:
            return None
    return why


def _looks_like_amount(text: str) -> bool:
    t = text.replace(",", "").lstrip("+-")
    return bool(t) and t.replace(".", "", 1).isdigit()


# ---------------------------------------------------------------- reading


_POSITIONS = sorted(pos for pos, _ in _COLUMNS.values())


def _by_role(by_position: dict[int, Column]) -> dict[str, Column]:
    return {role: by_position[pos] for role, (pos, _) in _COLUMNS.items()}


def _dialect(path: Path) -> tuple[bytes, str, tuple]:  # type: ignore[type-arg]
    """(head, delimiter, date formats) of a UPS Billing Data file; FileRefused when it is not one."""
    head = read_head(path)
    refuse_non_text(head)
    why = _not_ups(head)
    if why is not None:
        raise FileRefused(f"not UPS Billing Data: {why}")
    sep = best_delimiter(head_lines(head)[0])
    return head, sep, (ISO_DATE,) if sep == "," else (DMY_DATE, ISO_DATE)


def read(path: Path) -> ReadResult:
    """Read a UPS Billing Data file. FileRefused when it is not one; bad rows in ``errors``."""
    path = Path(path)
    _, sep, date_formats = _dialect(path)
    by_position = read_columns(path, sep=sep, width=N_COLUMNS, positions=_POSITIONS, what="UPS Billing Data")
    result, tally = _parse(_by_role(by_position), sep, date_formats)
    result.notes = tally.render(_render_notes)
    return result


def read_stream(path: Path, *, chunk_bytes: int) -> Batches:
    """:func:`read` in batches of whole invoices of about ``chunk_bytes`` each (bounded memory,
    issue 17): the batches' frames, errors and counts add up to :func:`read`'s; ``Batches.total()``
    gives the file's count, unknown codes and notes once the batches are read. NotContiguous (from
    the iteration) when an invoice's rows are not together in the file."""
    path = Path(path)
    head, sep, date_formats = _dialect(path)
    chunks = iter_columns(path, sep=sep, width=N_COLUMNS, positions=_POSITIONS, what="UPS Billing Data",
                          chunk_rows=rows_per_chunk(head, chunk_bytes))
    return Batches(FORMAT, (_parse(_by_role(cols), sep, date_formats, first)
                            for first, cols in whole_invoices(chunks, _COLUMNS["invoice_number"][0])),
                   _render_notes)


def _render_notes(tally: Tally) -> list[str]:
    c = tally.counts
    notes: list[str] = []
    if c["info"]:
        notes.append(f"{c['info']} informational (INF) row(s) skipped: not charges")
    if c["account"]:
        notes.append(f"{c['account']} account-level row(s) (no tracking number: fees, service "
                     "and pickup charges) stored as account charges of their invoice")
    if c["discount"]:
        notes.append(f"{c['discount']} incentive row(s) folded into their parcel's transportation "
                     "line (net price)")
    notes += tally.invoice_notes
    if c["blank"]:
        notes.append(f"{c['blank']} blank line(s) skipped")
    return notes


def _parse(cols: dict[str, Column], sep: str, date_formats: tuple,  # type: ignore[type-arg]
           first_line: int = 1) -> tuple[ReadResult, Tally]:
    """The rows of ``cols`` (row i: line ``first_line + i``) as canonical lines, and the counts and
    per-invoice notes the file's notes are made of (:func:`_render_notes`)."""
    n = len(cols["invoice_number"])
    lines = np.arange(first_line, first_line + n, dtype=np.int64)
    blank = np.ones(n, dtype=bool)
    for c in cols.values():
        blank &= c.blank()
    classification = cols["classification"].code()
    category = cols["category"].code()
    info = ~blank & ((classification == "INF") | (category == "INF"))
    rows = ~blank & ~info
    account = rows & cols["tracking_number"].blank()      # account-level: no parcel

    invoice_numbers = cols["invoice_number"].text()
    problems = Problems(lines, invoice_numbers)
    problems.flag(rows & cols["invoice_number"].blank(), _name("invoice_number"), "missing value")
    invoice_date, bad = cols["invoice_date"].dates(date_formats)
    problems.flag(rows & cols["invoice_date"].blank(), _name("invoice_date"), "missing value")
    expected = f"not a date ({date_formats_text(date_formats)})"
    problems.flag(rows & bad, _name("invoice_date"), expected, cols["invoice_date"].raw())
    ship_date, bad = cols["ship_date"].dates(date_formats)
    problems.flag(rows & bad, _name("ship_date"), expected, cols["ship_date"].raw())
    transaction_date, bad_tx = cols["transaction_date"].dates(date_formats)
    no_ship = np.isnat(ship_date) & (category == "SHP")   # on other rows it is the adjustment's date
    problems.flag(rows & no_ship & ~account & bad_tx, _name("transaction_date"), expected,
                  cols["transaction_date"].raw())
    ship_date = np.where(no_ship & ~account, transaction_date, ship_date)
    amount, bad = cols["net_amount"].cents(thousands=sep == ",")
    problems.flag(rows & cols["net_amount"].blank(), _name("net_amount"), "missing value")
    problems.flag(rows & bad, _name("net_amount"), "not an amount", cols["net_amount"].raw())

    charge_type, unknown = _charge_types(cols)
    discount = rows & ~account & (charge_type == DISCOUNT)
    credit = (amount < 0) & ~discount
    charge_type = np.where(credit, "credit", np.where(discount, "transportation", charge_type))
    frt = ~discount & (charge_type == "transportation")

    weight, bad = cols["billed_weight"].weights()
    problems.flag(rows & frt & bad, _name("billed_weight"), "not a weight", cols["billed_weight"].raw())
    has_weight = ~cols["billed_weight"].blank() & ~bad
    unit_code = cols["weight_unit"].code()
    unit = cols["weight_unit"].apply(lambda u: _UNITS.get(u.upper()))
    bad_unit = rows & frt & (unit_code != "") & missing(unit)
    problems.flag(bad_unit, _name("weight_unit"), "unknown weight unit (L or K)", cols["weight_unit"].raw())

    good = rows & ~problems.bad
    unknown_codes: Counter[str] = Counter()
    flagged = good & unknown & ~credit
    if flagged.any():
        keys = np.where(cols["code"].blank(), classification, cols["code"].code())[flagged]
        unknown_codes.update(f"ups:{k}" for k in keys)

    service = _service_per_parcel(cols, frt & good & ~account)
    description = _descriptions(cols, credit)
    reference = np.where(credit, cols["misc1"].text(), NONE)
    pickup = np.where(cols["pickup_record"].blank(), cols["lead_shipment"].text(), cols["pickup_record"].text())
    reference = np.where(account & (reference == NONE), pickup, reference)
    adjustment = _adjustments(cols)
    raw_amount = amount.copy()
    keep = _fold_discounts(cols, amount, good & ~account, frt, discount)

    idx = np.flatnonzero(good & keep)
    weight_out = np.where(frt, weight, NONE)[idx]
    frame = invoice_frame(
        len(idx),
        invoice_number=invoice_numbers[idx],
        invoice_date=invoice_date[idx],
        carrier=CARRIER,
        account_number=cols["account_number"].text()[idx],
        currency=cols["currency"].text()[idx],
        tracking_number=cols["tracking_number"].text()[idx],
        charge_type=charge_type[idx],
        amount_cents=amount[idx],
        billed_weight=weight_out,
        weight_unit=np.where(frt & has_weight, unit, NONE)[idx],
        zone=np.where(frt, cols["zone"].text(), NONE)[idx],
        service=service[idx],
        ship_date=ship_date[idx],
        reference=reference[idx],
        description=description[idx],
        adjustment=adjustment[idx],
        line=lines[idx],
    )
    tally = Tally({"info": int(info.sum()), "account": int((good & account).sum()),
                   "discount": int((good & discount).sum()), "blank": int(blank.sum())},
                  _total_notes(cols, rows, raw_amount, sep, invoice_numbers))
    errors: list[RowError] = problems.errors
    return ReadResult(format=FORMAT, frame=frame, read=int((~blank).sum()), errors=errors,
                      unknown_codes=unknown_codes, notes=[]), tally


def _fold_discounts(cols: dict[str, Column], amount: np.ndarray, parcel: np.ndarray, frt: np.ndarray,
                    discount: np.ndarray) -> np.ndarray:
    """Add each incentive row to the first FRT row of its invoice and tracking number (in place, on
    ``amount``); return the rows to keep (folded incentives out)."""
    keep = np.ones(len(amount), dtype=bool)
    disc = np.flatnonzero(parcel & discount)
    if not len(disc):
        return keep
    key = _parcel_key(cols)
    targets = np.flatnonzero(parcel & frt)
    first = pd.Series(targets, index=key[targets])
    first = first[~first.index.duplicated(keep="first")]
    where = first.reindex(key[disc]).to_numpy()
    has = ~pd.isna(where)
    if has.any():
        np.add.at(amount, where[has].astype(np.int64), amount[disc[has]])
        keep[disc[has]] = False
    return keep


def _total_notes(cols: dict[str, Column], rows: np.ndarray, amount_raw: np.ndarray, sep: str,
                 invoice_numbers: np.ndarray) -> list[str]:
    """A note per invoice whose rows do not add up to its Invoice Amount (column 10), when given."""
    stated, bad = cols["invoice_amount"].cents(thousands=sep == ",")
    given = rows & ~cols["invoice_amount"].blank() & ~bad
    if not given.any():
        return []
    frame = pd.DataFrame({"inv": invoice_numbers[rows], "amount": amount_raw[rows]})
    sums = frame.groupby("inv", sort=False)["amount"].sum()
    claimed = pd.Series(stated[given], index=invoice_numbers[given])
    claimed = claimed[~claimed.index.duplicated(keep="first")]
    out = []
    for inv, want in claimed.items():
        got = int(sums.get(inv, 0))
        if got != int(want):
            out.append(f"invoice {inv}: its rows add up to {from_cents(got)} but its Invoice Amount (column 10) "
                       f"says {from_cents(int(want))}: the file may be cut short or the invoice split over files")
    return out


def _adjustments(cols: dict[str, Column]) -> np.ndarray:
    """What an adjustment row is (``charges/ups_adjustments.csv``), None for plain charges."""
    table = _adjustment_table()
    return apply_distinct([cols["category"], cols["detail"]],
                          lambda category, detail: table.get((category.upper(), "")) or
                          table.get(("", detail.upper())))


@cache
def _adjustment_table() -> dict[tuple[str, str], str]:
    text = resources.files("recoup.invoices.charges").joinpath(ADJUSTMENT_TABLE).read_text(encoding="utf-8")
    out: dict[tuple[str, str], str] = {}
    for row in csv.DictReader(io.StringIO(text)):
        if not (row.get("source") or "").strip():
            raise ConfigError(f"{ADJUSTMENT_TABLE}: a row without a source")
        out[(row["category"].strip().upper(), row["detail"].strip().upper())] = row["adjustment"].strip()
    return out


def _charge_types(cols: dict[str, Column]) -> tuple[np.ndarray, np.ndarray]:
    """(charge type per row, unknown per row) from the charge table, one lookup per distinct key."""
    table = charge_map(CHARGE_TABLE)
    found = apply_distinct(
        [cols["detail"], cols["classification"], cols["code"], cols["description"]],
        lambda detail, classification, code, text: table.lookup(
            detail=detail, classification=classification, code=code, description=text))
    unknown = missing(found)
    return np.where(unknown, "other", found).astype(object), unknown


def _parcel_key(cols: dict[str, Column]) -> np.ndarray:
    """One int64 per row, equal for the rows of the same invoice and tracking number."""
    inv, trk = cols["invoice_number"].codes.astype(np.int64), cols["tracking_number"].codes.astype(np.int64)
    return inv * (len(cols["tracking_number"].uniques) + 1) + trk


def _service_per_parcel(cols: dict[str, Column], frt: np.ndarray) -> np.ndarray:
    """The FRT row's service code for every row of the same invoice and tracking number."""
    key = _parcel_key(cols)
    code = cols["code"].raw()
    chosen = frt & (code != "")
    if not chosen.any():
        return np.full(len(key), None, dtype=object)
    services = pd.Series([norm_code(c) for c in code[chosen]], index=key[chosen], dtype=object)
    services = services[~services.index.duplicated(keep="first")]
    return services.reindex(key).astype(object).where(lambda s: s.notna(), None).to_numpy(dtype=object)


def _descriptions(cols: dict[str, Column], credit: np.ndarray) -> np.ndarray:
    """The carrier's charge text (its code when there is none); credits lead with the detail code."""
    text = cols["description"].raw()
    out = np.where(text != "", text, cols["code"].raw()).astype(object)
    detail = cols["detail"].raw()
    for i in np.flatnonzero(credit & (detail != "")):
        out[i] = f"{detail[i]} {out[i]}".strip()
    out[out == ""] = None
    return out


READER = Format("ups", "invoices", sniff, read)
