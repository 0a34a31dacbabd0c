"""PDF carrier invoices (formats.md, Invoices, PDF).

``read(path, carrier=None, max_pages=2000, timeout_s=120, workers=None) -> ReadResult``

What it reads
    A table of shipments and charges across many pages, its header row repeated on each page, with
    subtotal / total / carried-forward rows that are not charges. Columns are found by their header
    names (``pdf_layouts.toml``, ``[columns]``); where headers are not enough, a template per layout
    says more (``[[layout]]``), e.g. one row per parcel with a column per charge (Postage, Fuel,
    ...), which becomes one line per non-zero column. Rows with a blank tracking number continue the
    parcel above (its fuel, residential ... lines). Invoice number, invoice date, account number,
    currency and carrier are read from the page text by their labels; ``carrier`` overrides.
    Charge descriptions map to ``charge_type`` by a table per carrier (data); an unknown one is
    ``other`` and counted in ``unknown_codes`` as ``pdf:<description>``; a negative amount is a
    ``credit``.

The stated total (decided here; formats.md only says the charges must add up to it)
    The charges in a carrier's table are net of VAT, so they are compared with the invoice's total
    before VAT: a line labelled as a net total (Net Total, Total excl. VAT, Total HT, Totaal excl.
    BTW ...) when there is one; else, when VAT (tax) lines are shown, a Total line whose amount plus
    the VAT is a later total line (Total / VAT / Amount due), else the last total line less the VAT
    of its page; else (no VAT shown) the last total line, preferring Total / Invoice Total over
    Amount Due (which can be net of earlier payments). No stated total, or a difference of even a
    cent, refuses the file with the difference: a PDF is loaded whole or not at all. When some rows
    could not be read they are returned in ``errors`` (so the ingest service refuses the invoice
    with their lines) and the total is not checked.

How pages are read
    pdfplumber opens the file and builds each page's pdfminer layout; the reader takes the upright
    characters and straight rules from it (pdfplumber's per-character objects would double the
    cost), groups characters into lines, words and phrases (a phrase: words less than 0.75 em
    apart, i.e. one cell), and finds ruled tables with pdfplumber's table finder given those rules
    ("explicit" strategy), each word going to the cell its centre is in. A page without a ruled
    charge table is read by position: a line whose phrases are header names is the header, and
    each phrase below goes to the header column it overlaps (or the nearest).

Shipment blocks (issue 11; a layout with ``[layout.blocks]``, e.g. the UPS invoice PDF)
    Some carriers print no table but a block per shipment. The layout's regular expressions, over
    each text line with its spaces collapsed, say which line opens a block (its tracking number, and
    the ship date, service, zone and billed weight it prints; the line may carry the service's own
    charge), which lines in it are charges (a description, then amounts: when several are printed -
    published, incentive, billed - the last, billed, one is the charge) and which line closes it with
    the block's total ("Total Charges for Shipment 1Z... 14.97"); labelled lines in a block give the
    fields the opening line lacks and the reference. Lines outside blocks (summary pages, notices,
    remittance slips) are not read. A block whose charge lines do not add up to its own total, or
    that is never closed, is one error naming the shipment, so the invoice is refused with it. A
    block with no charge line and a 0.00 total (a voided shipment) gives no line. A ship date printed
    without its year is in the year that puts it on or before the invoice date. Block totals and the
    layout's section subtotals (``not_totals``) are never taken for the invoice's stated total.

Charge types
    The charge map (data) decides, with two rules in code: a line whose description is the parcel's
    own service (UPS "Ground Commercial" under a Ground Commercial shipment) is its transportation;
    a line the map calls ``discount`` (incentives, earned discounts) is added to the parcel's
    transportation line - the one before it, else after it - or, without one, is a transportation
    line itself: discounts are part of the net price and never credits (formats.md, UPS Billing Data).

Credit notes
    A document whose number is labelled as a credit note's ("Credit note number", "Credit Note No.",
    "Credit Memo Number" ...; ``[labels] credit_note_number``, searched before the invoice labels),
    or whose first page is titled "Credit Note", is a credit note: the credit note's number is the
    invoice number of its lines and its date (a "Credit note date" label first) the invoice date.
    When it prints every amount without a sign, the amounts are negated (credits); negative lines are
    credits (``charge_type`` ``credit``) whatever their description; its stated total is compared as a
    credit ("Total credit 607.45" is -607.45 when its lines are all credits).

Line numbers
    ``line`` is the 1-based number of the row among the charge tables' body rows, in reading order
    (headers not counted; skipped subtotal rows counted), and the frame has an extra ``page``
    column; messages name both. ``read`` counts the charge lines plus the rows refused as errors
    (so read = lines + errors, as with the CSV formats, also when one row gives several lines).

Dates
    Numeric dates are day/month unless the layout says otherwise, some date in the file can only be
    month/day (13/02 vs 02/13), or the currency is USD. English month names are read.

Hostile files
    Extraction runs in worker processes (multiprocessing, ``forkserver`` where available, so a
    multi-threaded caller is safe): one process for a file of up to ``SMALL_FILE_PAGES`` pages,
    else up to ``workers`` (default: the usable cores) over contiguous page ranges, each opening the
    file itself. Past ``timeout_s`` the workers are killed and the file refused; ``max_pages``
    refuses longer files before their pages are read; each worker's address space is limited to
    ``WORKER_MEMORY_BYTES``. pdfminer's warnings and log messages are caught in the workers and
    become notes. Concurrent futures are not used: a ``ProcessPoolExecutor`` cannot kill a task that
    hangs (Python 3.11), and a hostile page must not outlive its deadline. (The constants are in ``pool``.)

Golden files: ``python -m recoup.invoices.pdf --golden tests/fixtures/invoices`` rewrites
``<name>.expected.json`` beside every ``<name>.pdf`` there (tests/invoices/test_pdf.py compares).

Modules
    This package is the public entry (``read``, ``sniff``, ``READER``, and the pure helpers below).
    ``pool``: worker processes, page ranges, the time and memory limits; ``pages``: worker side, one
    page's text lines and charge tables; ``layouts``: the data of ``invoices/pdf_layouts.toml``;
    ``values``: amounts, weights, dates, tracking numbers, charge types; ``meta``: invoice number,
    date, account, currency, carrier, layout, credit notes; ``tables``: charge lines from charge
    tables, per-parcel charge columns; ``blocks``: shipment blocks (UPS); ``lines``: charge types of
    lines, discounts; ``totals``: the stated total; ``invoice``: the invoice from the pages, checked
    against its total; ``golden``: golden files.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from recoup.errors import FileRefused
from recoup.ingest.reader import Format
from recoup.invoices.pdf.golden import golden_of, golden_record, golden_text, main
from recoup.invoices.pdf.invoice import FORMAT, invoice_of
from recoup.invoices.pdf.pool import extract
from recoup.invoices.pdf.values import (
    amount_cents,
    charge_type,
    date_votes,
    money_in_text,
    parse_amount,
    parse_date,
    tracking_number,
    weight_text,
)

__all__ = ["FORMAT", "READER", "amount_cents", "charge_type", "date_votes", "golden_of", "golden_record",
           "golden_text", "main", "money_in_text", "parse_amount", "parse_date", "read", "sniff",
           "tracking_number", "weight_text"]

if TYPE_CHECKING:
    from recoup.ingest.base import ReadResult


def sniff(head: bytes) -> bool:
    return head.startswith(b"%PDF")


def read(path: Path, *, carrier: str | None = None, max_pages: int = 2000, timeout_s: float = 120,
         workers: int | None = None) -> ReadResult:
    """The charge lines of a carrier's PDF invoice; FileRefused with the reason when it cannot be read
    whole (see the package docstring)."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            head = f.read(1024)
    except OSError as e:
        raise FileRefused(f"cannot read: {e.strerror or e}") from None
    if not head:
        raise FileRefused("the file is empty")
    if not sniff(head):
        raise FileRefused("not a PDF (it does not start with %PDF)")
    ext = extract(path, max_pages=max_pages, timeout_s=timeout_s, workers=workers)
    return invoice_of(ext, carrier)


READER = Format("pdf", "invoices", sniff, read)
