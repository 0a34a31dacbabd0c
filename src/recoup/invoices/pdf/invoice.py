"""The invoice from the extracted pages: the charge lines, checked against the stated total (pure)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from recoup.errors import FileRefused
from recoup.invoices.pdf.blocks import Block, block_charges, read_blocks
from recoup.invoices.pdf.layouts import data
from recoup.invoices.pdf.lines import Build, fold_discounts
from recoup.invoices.pdf.meta import (
    ID_VALUE,
    Meta,
    carrier_in_text,
    choose_date_order,
    choose_layout,
    credit_note_title,
    find_currency,
    labelled,
    no_table_reason,
    valid_id,
    writes_comma_decimal,
)
from recoup.invoices.pdf.pool import Extraction
from recoup.invoices.pdf.tables import ColumnMap, map_header, table_charges
from recoup.invoices.pdf.totals import stated_total
from recoup.invoices.pdf.values import parse_date
from recoup.money import fmt, to_cents

if TYPE_CHECKING:  # pandas is imported where the frame is built: worker processes do not need it
    from recoup.ingest.base import ReadResult

FORMAT = "pdf"


def invoice_of(ext: Extraction, carrier: str | None) -> ReadResult:
    import pandas as pd

    from recoup.ingest.base import INVOICE_COLUMNS, ReadResult

    d = data()
    pages = ext.pages
    notes = [f"{ext.n_pages} page{'s' if ext.n_pages != 1 else ''}"]
    if not any(p["words"] for p in pages):
        raise FileRefused("the PDF has no text to read (a scanned image?): no charge table found; ask the carrier "
                          "for the invoice as a text PDF or its CSV export")
    first_text = "\n".join(pages[0]["lines"])
    layout = choose_layout(pages, carrier)
    blocks: list[Block] | None = None
    consumed: set[tuple[int, int]] = set()
    if layout and layout.blocks:
        blocks, consumed = read_blocks(pages, layout.blocks)
        if not blocks:
            raise FileRefused(f"laid out like {layout.name} but no shipment block was found (no line with a "
                              "tracking number that opens one): the layout may have changed; report it")
    elif not any(t["rows"] for p in pages for t in p["tables"]):
        raise FileRefused(no_table_reason(pages))
    notes.append(f"layout {layout.name}" if layout else "layout: columns by header names")
    m = Meta()
    m.invoice_number = labelled(pages, d.labels["credit_note_number"], ID_VALUE, valid_id)
    if m.invoice_number:
        m.credit_note = True
    else:
        m.invoice_number = labelled(pages, d.labels["invoice_number"], ID_VALUE, valid_id)
        m.credit_note = credit_note_title(pages)
    if not m.invoice_number:
        raise FileRefused("no invoice number found (no label such as Invoice Number, Invoice No., Credit Note "
                          "Number or Factuurnummer)")
    if m.credit_note:
        notes.append("a credit note: its lines are credits")
    m.currency, how = find_currency(pages, layout)
    if how:
        notes.append(how)
    if carrier:
        m.carrier = carrier.strip().lower()
    else:
        m.carrier = (layout.carrier if layout and layout.carrier else None) or carrier_in_text(first_text, m.currency)
        if not m.carrier:
            raise FileRefused("the carrier is not named on the first page: give it (--carrier)")
        notes.append(f"carrier {m.carrier} from the text")
    m.account_number = labelled(pages, d.labels["account_number"], ID_VALUE, valid_id)
    date_value = r"\d{1,4}[/.\-]\d{1,2}[/.\-]\d{2,4}|\d{1,2}(?:st|nd|rd|th)?[\s\-]+[A-Za-z]{3,9}\.?[\s\-,]+\d{2,4}" \
                 r"|[A-Za-z]{3,9}\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}"
    date_labels = [*d.labels["credit_note_date"]] if m.credit_note else []
    date_text = None
    for labels in (date_labels, d.labels["invoice_date"]):
        date_text = date_text or (labelled(pages, labels, date_value,
                                            lambda v: parse_date(v) is not None or parse_date(v, "mdy") is not None)
                                  if labels else None)
    if not date_text:
        raise FileRefused("no invoice date found (no label such as Invoice Date, Credit Note Date or Factuurdatum "
                          "with a date)")
    ship_dates: list[str] = [blk.raw["ship_date"] for blk in blocks or [] if blk.raw.get("ship_date")]
    maps: dict[tuple[str, ...], ColumnMap] = {}
    for p in pages:
        for t in p["tables"]:
            key = tuple(t["header"])
            cm = maps[key] if key in maps else maps.setdefault(key, map_header(t["header"], [], layout))
            i = cm.fields.get("ship_date")
            if i is not None:
                ship_dates.extend(r[i] for r in t["rows"] if i < len(r) and r[i])
    m.date_order, how = choose_date_order(pages, [date_text, *ship_dates], layout, m.currency)
    if how:
        notes.append(how)
    m.invoice_date = parse_date(date_text, m.date_order)
    if m.invoice_date is None:
        raise FileRefused(f"the invoice date {date_text!r} is not a date")
    b = Build(m, layout, writes_comma_decimal(pages))
    if blocks is not None:
        block_charges(blocks, b)
        empty = sum(1 for pi in range(len(pages)) if not any(blk.page == pi + 1 for blk in blocks))
        notes.append(f"{len(blocks)} shipment block{'s' if len(blocks) != 1 else ''}"
                     + (f"; {empty} page{'s' if empty != 1 else ''} without shipments (summaries, notices) not read"
                        if empty else ""))
        if b.skipped:
            notes.append(f"{b.skipped} shipment{'s' if b.skipped != 1 else ''} without charges")
    else:
        table_charges(pages, b)
        if b.skipped:
            notes.append(f"{b.skipped} subtotal/total row{'s' if b.skipped != 1 else ''} skipped")
    folded = fold_discounts(b)
    if folded:
        notes.append(f"{folded} discount line{'s' if folded != 1 else ''} added to the transportation line")
    negated = False
    if m.credit_note:
        if b.records and all(r["amount_cents"] >= 0 for r in b.records):
            negated = True                      # a credit note printing its credits as positive amounts
            notes.append("the credit note prints its amounts without a sign: taken as credits (negative)")
            for r in b.records:
                r["amount_cents"] = -r["amount_cents"]
                code = f"pdf:{r['description']}"
                if r["charge_type"] == "other" and b.unknown.get(code):   # a credit needs no charge type
                    b.unknown[code] -= 1
                    if not b.unknown[code]:
                        del b.unknown[code]
        for r in b.records:
            if r["amount_cents"] < 0:
                r["charge_type"] = "credit"
    if not b.records and not b.errors:
        raise FileRefused("the charge table has no charges")
    if b.errors:
        notes.append(f"the stated total was not checked: {len(b.errors)} row(s) could not be read")
    else:
        stated = stated_total(pages, exclude=consumed, not_totals=layout.not_totals if layout else ())
        if stated is None:
            raise FileRefused("no stated total found (no Total, Invoice Total, Net Total or Amount Due line): "
                              "the charges cannot be checked")
        total = sum(r["amount_cents"] for r in b.records)
        want = to_cents(stated.value)
        if negated or (m.credit_note and b.records and all(r["amount_cents"] <= 0 for r in b.records)):
            want = -abs(want)               # a credit note's "Total credit 607.45" is a credit of 607.45
        if total != want:
            raise FileRefused(f"charges add up to {fmt(total)}, the invoice states {fmt(want)} ({stated.how}): "
                              f"difference {fmt(abs(want - total))}")
        notes.append(f"charges add up to the stated total: {stated.how}")
    for w in ext.workers:
        notes.extend(w.get("notes", []))
    cols = [*INVOICE_COLUMNS, "page"]
    frame = pd.DataFrame.from_records(b.records, columns=cols)
    for c in cols:
        if c not in ("amount_cents", "line", "page", "invoice_date", "ship_date"):
            frame[c] = frame[c].astype(object).where(frame[c].notna(), None)
    frame["amount_cents"] = frame["amount_cents"].astype("int64")
    frame["line"] = frame["line"].astype("int64")
    frame["page"] = frame["page"].astype("int64")
    for c in ("invoice_date", "ship_date"):
        frame[c] = pd.to_datetime(frame[c].astype(object)).astype("datetime64[ns]")
    extra = {"pdf_workers": pd.DataFrame(ext.workers, columns=["pages", "seconds", "cpu_seconds", "peak_rss_kb"])}
    return ReadResult(FORMAT, frame, read=b.read, errors=b.errors, unknown_codes=b.unknown,
                      notes=list(dict.fromkeys(notes)), extra=extra)
