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
    hangs (Python 3.11), and a hostile page must not outlive its deadline.

Golden files: ``python -m recoup.invoices.pdf --golden tests/fixtures/invoices`` rewrites
``<name>.expected.json`` beside every ``<name>.pdf`` there (tests/invoices/test_pdf.py compares).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import logging
import math
import multiprocessing as mp
import os
import re
import sys
import time
import tomllib
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recoup.errors import FileRefused
from recoup.ingest.reader import Format
from recoup.money import MoneyError, fmt, to_cents

if TYPE_CHECKING:  # pandas is imported where the frame is built: worker processes do not need it
    from recoup.ingest.base import ReadResult, RowError

FORMAT = "pdf"
SMALL_FILE_PAGES = 8            # up to this many pages: one worker process reads them all
MIN_PAGES_PER_WORKER = 16       # more workers than pages / this is not worth their start-up
WORKER_MEMORY_BYTES = 3 * 1024**3
MAX_NOTES_FROM_PDFMINER = 5

# ------------------------------------------------------------------------------------------------
# Data (pdf_layouts.toml)


_PARENS = re.compile(r"\([^)]*\)")
_PUNCT = re.compile(r"[^\w%/&°@]+")


@lru_cache(maxsize=65536)
def _norm(text: str) -> str:
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
    lines (spaces collapsed). See the module docstring, "Shipment blocks"."""

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
    columns = {f: tuple(_norm(n) for n in names) for f, names in raw["columns"].items() if f != "ignored"}
    layouts = []
    for lay in raw.get("layout", []):
        blk = lay.get("blocks")
        blocks = None
        if blk:
            blocks = Blocks(
                start=re.compile(blk["start"]), charge=re.compile(blk["charge"]), end=re.compile(blk["end"]),
                fields={f: re.compile(rx) for f, rx in blk.get("fields", {}).items()},
                not_charges=_starts_with_any(_norm(x) for x in blk["not_charges"]) if blk.get("not_charges") else None)
        layouts.append(Layout(
            name=lay["name"], carrier=lay.get("carrier"), detect=tuple(d.lower() for d in lay.get("detect", [])),
            columns={f: tuple(_norm(n) for n in ns) for f, ns in lay.get("columns", {}).items()},
            charge_columns={_norm(k): v for k, v in lay.get("charge_columns", {}).items()},
            row_total=tuple(_norm(n) for n in lay.get("row_total", [])),
            date_order=lay.get("date_order"), currency=lay.get("currency"),
            detect_anywhere=tuple(d.lower() for d in lay.get("detect_anywhere", [])), blocks=blocks,
            not_totals=tuple(_norm(x) for x in lay.get("not_totals", []))))
    carriers = tuple(
        (re.compile(c["pattern"], 0 if c.get("case") else re.IGNORECASE), c["code"], c.get("currency"))
        for c in raw["carrier"])
    charges = {
        carrier: tuple((re.compile(r"(?<![\w])" + re.escape(_norm(pat))), ctype) for pat, ctype in rules)
        for carrier, rules in raw["charges"].items()}
    ignored = frozenset(_norm(n) for n in raw["columns"]["ignored"])
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
    totals = {_norm(x): kind for kind in ("due", "gross", "vat", "net") for x in raw["totals"][kind]}
    return Data(
        columns=columns, ignored=ignored, skip_rows=_starts_with_any(_norm(s) for s in raw["rows"]["skip"]),
        labels={k: tuple(v) for k, v in raw["labels"].items()},
        totals=totals, totals_rx=_starts_with_any(totals),
        not_money=frozenset(raw["totals"]["not_money"]), running=tuple(raw["totals"]["running"]),
        carriers=carriers, charges=charges, layouts=tuple(layouts), known_headers=frozenset(known),
        tracking_headers=frozenset(tracking), amount_headers=frozenset(amount))


# ------------------------------------------------------------------------------------------------
# Amounts, weights, dates, tracking numbers (pure)

CURRENCY_CODES = ("GBP", "EUR", "USD", "CAD", "AUD", "NZD", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF",
                  "RON", "BGN", "JPY", "CNY", "HKD", "SGD", "ZAR", "AED", "MXN", "BRL", "INR")
SYMBOLS = {"£": "GBP", "€": "EUR", "$": "USD"}
_CODE_RE = "|".join(CURRENCY_CODES)
_NUMBER_FORMS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\d+"), "int"),
    (re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?"), "comma_thousands"),    # 1,234.56
    (re.compile(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?"), "dot_thousands"),      # 1.234,56
    (re.compile(r"\d{1,3}(?:[ '\u00a0\u202f]\d{3})+(?:[.,]\d+)?"), "space_thousands"),  # 1 234,56
    (re.compile(r"\d*\.\d+"), "dot"),                                    # 12.30
    (re.compile(r"\d+,\d+"), "comma"),                                   # 12,30
)


def _number_text(s: str) -> str | None:
    """A plain decimal text ("1234.56") from one of the number forms carriers print, else None."""
    for rx, form in _NUMBER_FORMS:
        if rx.fullmatch(s):
            if form == "comma_thousands":
                return s.replace(",", "")
            if form == "dot_thousands":
                return s.replace(".", "").replace(",", ".")
            if form == "space_thousands":
                return re.sub(r"[ '\u00a0\u202f]", "", s).replace(",", ".")
            if form == "comma":
                return s.replace(",", ".")
            return s
    return None


_CREDIT_MARK = re.compile(r"(.*?)\s*\b(?:CR|Cr|cr)\.?")
_CODE_ENDS = re.compile(rf"^(?:{_CODE_RE})\s*|\s*(?:{_CODE_RE})$")


def parse_amount(text: str | None) -> Decimal | None:
    """An exact amount from a cell: "1,234.56", "1.234,56", "£12.30", "12.30 GBP", "(12.30)", "-12.30",
    "12.30-", "12.30 CR". None when the text is not an amount."""
    if text is None:
        return None
    s = text.strip().replace("\u2212", "-").replace("\u2013", "-")
    if not s:
        return None
    neg = False
    m = _CREDIT_MARK.fullmatch(s)
    if m:
        neg, s = True, m.group(1)
    for _ in range(6):  # peel signs, brackets and currency marks in any order: "-£12.30", "(£12.30)", "£(12.30)"
        before = s
        s = _CODE_ENDS.sub("", s.strip()).strip()
        if s[:1] in SYMBOLS:
            s = s[1:]
        elif s[-1:] in SYMBOLS:
            s = s[:-1]
        elif s.startswith("(") and s.endswith(")"):
            neg, s = True, s[1:-1]
        elif s.startswith("-") or s.endswith("-"):
            neg, s = True, s.strip("-")
        elif s.startswith("+"):
            s = s[1:]
        if s == before:
            break
    number = _number_text(s.strip())
    if number is None:
        return None
    d = Decimal(number)
    return -d if neg and d else d


def amount_cents(text: str | None) -> int | None:
    """Integer cents of a cell, None when it is not an amount; more than two decimals raises MoneyError."""
    d = parse_amount(text)
    return None if d is None else to_cents(d)


# money in running text must have two decimals; it may carry a sign, brackets, a symbol or a code
_MONEY_IN_TEXT = re.compile(
    r"(?<![\w.,/])(?P<tok>\(?-?\s?(?:[£$€]\s?)?-?\d{1,3}(?:(?:[,.'\u00a0\u202f]|\s(?=\d{3}[.,\s]))\d{3})*[.,]\d{2}"
    r"(?:\s?[£$€])?\)?-?)(?![\w%]|[.,/]\d)(?!\s*(?:kg|kgs|lb|lbs|g)\b)")


def money_in_text(text: str) -> list[tuple[int, Decimal]]:
    """The amounts with two decimals in a text, with where each starts."""
    out = []
    for m in _MONEY_IN_TEXT.finditer(text):
        d = parse_amount(m.group("tok"))
        if d is not None:
            out.append((m.start(), d))
    return out


def weight_text(text: str, *, comma_decimal: bool) -> tuple[str | None, str | None]:
    """(decimal text, unit) of a weight cell such as "2.50", "2,5 kg", "5 lb"; (None, None) if empty.
    Raises ValueError when the text is not a weight."""
    s = text.strip().lower()
    if not s:
        return None, None
    unit = None
    m = re.fullmatch(r"(.*?)\s*(kgs?|lbs?)\.?", s)
    if m:
        s, unit = m.group(1), ("kg" if m.group(2).startswith("k") else "lb")
    if comma_decimal:
        s = s.replace(".", "").replace(",", ".") if "," in s else s
    else:
        s = s.replace(",", "")
    if not re.fullmatch(r"\d+(?:\.\d+)?", s):
        raise ValueError(f"not a weight: {text!r}")
    return s, unit


_MONTHS = {m: i + 1 for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])}
_NUMERIC_DATE = re.compile(r"(?<!\d)(\d{1,4})[/.\-](\d{1,2})[/.\-](\d{2,4})(?!\d)")
_DMY_TEXT = re.compile(r"(?<!\d)(\d{1,2})(?:st|nd|rd|th)?[\s\-]+([A-Za-z]{3,9})\.?[\s\-,]+(\d{4}|\d{2})(?!\d)")
_MDY_TEXT = re.compile(r"\b([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})(?!\d)")
DATE_IN_TEXT = re.compile(f"{_NUMERIC_DATE.pattern}|{_DMY_TEXT.pattern}|{_MDY_TEXT.pattern}")


def _year(y: str) -> int:
    return 2000 + int(y) if len(y) == 2 else int(y)


def date_votes(text: str) -> tuple[bool, bool]:
    """(can only be day/month, can only be month/day) for a numeric date text."""
    m = _NUMERIC_DATE.search(text)
    if not m or len(m.group(1)) == 4:
        return False, False
    a, b = int(m.group(1)), int(m.group(2))
    return a > 12 >= b, b > 12 >= a


def parse_date(text: str, order: str = "dmy") -> dt.date | None:
    """A date from "02/03/2026", "2026-03-02", "02.03.26", "2 Mar 2026", "March 2, 2026"; None if none."""
    s = text.strip()
    try:
        m = _NUMERIC_DATE.search(s)
        if m:
            a, b, c = m.groups()
            if len(a) == 4:
                return dt.date(int(a), int(b), int(c))
            if len(c) not in (2, 4):
                return None
            day, month = (int(a), int(b)) if order == "dmy" else (int(b), int(a))
            return dt.date(_year(c), month, day)
        m = _DMY_TEXT.search(s)
        if m and m.group(2)[:3].lower() in _MONTHS:
            return dt.date(_year(m.group(3)), _MONTHS[m.group(2)[:3].lower()], int(m.group(1)))
        m = _MDY_TEXT.search(s)
        if m and m.group(1)[:3].lower() in _MONTHS:
            return dt.date(int(m.group(3)), _MONTHS[m.group(1)[:3].lower()], int(m.group(2)))
    except ValueError:
        return None
    return None


def tracking_number(text: str) -> str | None:
    """The tracking number of a cell (spaces taken out, upper case), or None if it does not look like one:
    8 to 40 letters, digits or hyphens, at least 6 of them digits."""
    t = re.sub(r"\s+", "", text).upper()
    if re.fullmatch(r"[A-Z0-9][A-Z0-9\-]{7,39}", t) and sum(c.isdigit() for c in t) >= 6:
        return t
    return None


@lru_cache(maxsize=4096)
def charge_type(description: str, carrier: str | None) -> str | None:
    """The charge_type of a positive charge's description by the carrier's table, then the default one;
    None when no rule matches."""
    d = data()
    n = _norm(description)
    for table in (d.charges.get(carrier or "", ()), d.charges["default"]):
        for rx, ctype in table:
            if rx.search(n):
                return ctype
    return None


# ------------------------------------------------------------------------------------------------
# Worker side: one page -> its text lines and the charge tables on it


@dataclass
class _Word:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float


@dataclass
class _Phrase:
    words: list[_Word]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def x0(self) -> float:
        return self.words[0].x0

    @property
    def x1(self) -> float:
        return self.words[-1].x1


@dataclass
class _Column:
    text: str
    x0: float
    x1: float


def _layout_objects(page: Any) -> tuple[list[tuple[str, float, float, float, float]], list[dict[str, Any]]]:
    """The upright characters (text, x0, x1, top, bottom) and the straight edges (rules, box sides) of a
    page, straight from the pdfminer layout pdfplumber builds. pdfplumber's own per-character objects
    cost about as much again as the parsing itself, and this reader needs only the positions."""
    from pdfminer.layout import LTChar, LTContainer, LTCurve

    height = float(page.height)
    mx, mtop = float(page.mediabox[0]), float(page.mediabox[1])
    chars: list[tuple[str, float, float, float, float]] = []
    edges: list[dict[str, Any]] = []
    stack = list(reversed(page.layout._objs))
    while stack:
        obj = stack.pop()
        if isinstance(obj, LTChar):
            if obj.upright:
                chars.append((obj.get_text(), obj.x0 + mx, obj.x1 + mx, height - obj.y1 + mtop, height - obj.y0 + mtop))
        elif isinstance(obj, LTContainer):
            stack.extend(reversed(obj._objs))
        elif isinstance(obj, LTCurve):
            pts = [(x + mx, height - y + mtop) for x, y in obj.pts]
            if len(pts) == 4 and obj.__class__.__name__ == "LTRect":
                pts.append(pts[0])
            for (x0, y0), (x1, y1) in itertools.pairwise(pts):
                if x0 == x1 or y0 == y1:
                    top, bottom = min(y0, y1), max(y0, y1)
                    edges.append({"object_type": "line_edge", "x0": min(x0, x1), "x1": max(x0, x1),
                                  "top": top, "bottom": bottom, "doctop": top, "width": abs(x1 - x0),
                                  "height": bottom - top, "orientation": "v" if x0 == x1 else "h"})
    return chars, edges


def _phrase_lines(chars: list[tuple[str, float, float, float, float]]) -> list[list[_Phrase]]:
    """Characters grouped into lines (centre within the first character's band), words (a space, or a gap of more than 0.2 em:
    a space is about 0.25 em, kerning far less) and phrases (words less than 0.75 em apart: one cell;
    a column gap is wider)."""
    rows: list[list[tuple[str, float, float, float, float]]] = []
    top = bottom = -1.0
    for c in sorted(chars, key=lambda c: (c[3], c[1])):
        mid = (c[3] + c[4]) / 2
        if rows and top - 1 <= mid <= bottom + 1:  # the band of the line's first character: not grown, so
            rows[-1].append(c)                      # a centred cell cannot bridge a wrapped cell's lines
        else:
            rows.append([c])
            top, bottom = c[3], c[4]
    lines = []
    for row in rows:
        row.sort(key=lambda c: c[1])
        words: list[_Word] = []
        cur: _Word | None = None
        last: tuple[str, float, float, float, float] | None = None
        for c in row:
            text, x0, x1, t, b = c
            if last is not None and text == last[0] and abs(x0 - last[1]) < 0.5 and abs(t - last[3]) < 0.5:
                continue                                     # overprinted (fake bold) duplicate
            last = c
            if text.isspace():
                cur = None
                continue
            size = max(b - t, 1.0)
            if cur is not None and x0 - cur.x1 <= 0.2 * size and x0 >= cur.x0:
                cur.text += text
                cur.x1 = max(cur.x1, x1)
                cur.top, cur.bottom = min(cur.top, t), max(cur.bottom, b)
            else:
                cur = _Word(text, x0, x1, t, b)
                words.append(cur)
        if not words:
            continue
        phrases = [_Phrase([words[0]])]
        for prev, w in itertools.pairwise(words):
            size = max(prev.bottom - prev.top, w.bottom - w.top, 1.0)
            if w.x0 - prev.x1 <= 0.75 * size:
                phrases[-1].words.append(w)
            else:
                phrases.append(_Phrase([w]))
        lines.append(phrases)
    return lines


def _header_columns(phrases: list[_Phrase]) -> list[_Column] | None:
    """The columns of a header line, or None if the line is not a charge-table header (it must name a
    tracking number column and an amount or charge column). A phrase that is not one known header name
    is split into known names where it can be (closely set headers)."""
    d = data()
    cols: list[_Column] = []
    for ph in phrases:
        if _norm(ph.text) in d.known_headers:
            cols.append(_Column(ph.text, ph.x0, ph.x1))
            continue
        ws, i, unknown = ph.words, 0, None
        while i < len(ws):
            for k in range(min(5, len(ws) - i), 0, -1):
                t = " ".join(w.text for w in ws[i:i + k])
                if _norm(t) in d.known_headers:
                    cols.append(_Column(t, ws[i].x0, ws[i + k - 1].x1))
                    unknown = None
                    i += k
                    break
            else:
                if unknown is not None:
                    unknown.text += " " + ws[i].text
                    unknown.x1 = ws[i].x1
                else:
                    unknown = _Column(ws[i].text, ws[i].x0, ws[i].x1)
                    cols.append(unknown)
                i += 1
    return cols if _is_header_cells([c.text for c in cols]) else None


def _is_header_cells(cells: Sequence[str | None]) -> bool:
    """A charge-table header: it names a tracking number column and an amount (or charge) column, and at
    least three of its cells, and no fewer than it has unknown ones, are header names (not a title line
    such as "Consignment charges for March")."""
    d = data()
    names = [_norm(c or "") for c in cells]
    names = [n for n in names if n]
    known = [n for n in names if n in d.known_headers]
    return (bool(set(known) & d.tracking_headers) and bool(set(known) & d.amount_headers)
            and len(known) >= 3 and len(known) >= len(names) - len(known))


def _best_column(x0: float, x1: float, cols: list[_Column]) -> tuple[int, bool]:
    """(index of the column a span belongs to, whether it overlaps that column's header)."""
    best, best_ov = -1, 0.0
    for i, c in enumerate(cols):
        ov = min(x1, c.x1) - max(x0, c.x0)
        if ov > best_ov:
            best, best_ov = i, ov
    if best >= 0:
        return best, True
    dist = [max(c.x0 - x1, x0 - c.x1, 0.0) for c in cols]
    return dist.index(min(dist)), False


def _assign(phrases: list[_Phrase], cols: list[_Column]) -> list[str]:
    """The cells of a body line under the header's columns. A phrase goes whole to the column it overlaps
    (or the nearest); one that overlaps two columns' headers word by word is split between them."""
    cells: list[list[str]] = [[] for _ in cols]
    for ph in phrases:
        targets = [_best_column(w.x0, w.x1, cols) for w in ph.words]
        strong = {i for i, ov in targets if ov}
        if len(strong) <= 1:
            idx = strong.pop() if strong else _best_column(ph.x0, ph.x1, cols)[0]
            cells[idx].append(ph.text)
            continue
        prev: int | None = None
        for w, (i, ov) in zip(ph.words, targets, strict=True):
            j = i if ov or prev is None else prev
            cells[j].append(w.text)
            prev = j
    return [" ".join(c) for c in cells]


def _cell_rows(table: Any, words: list[_Word]) -> list[list[str]]:
    """The text of a ruled table's cells: each word goes to the cell its centre lies in."""
    rows = [[c for c in row.cells] for row in table.rows]
    texts: list[list[list[str]]] = [[[] for _ in row] for row in rows]
    for w in words:
        cx, cy = (w.x0 + w.x1) / 2, (w.top + w.bottom) / 2
        for r, row in enumerate(rows):
            hit = next((i for i, c in enumerate(row) if c and c[0] <= cx <= c[2] and c[1] <= cy <= c[3]), None)
            if hit is not None:
                texts[r][hit].append(w.text)
                break
    return [[" ".join(t) for t in row] for row in texts]


def _page_data(page: Any, *, positions: bool) -> dict[str, Any]:
    """What the parent needs of one page: its text lines (phrases joined by two spaces), the phrases
    with their positions (first page only: boxed labels), and its charge tables as
    {"kind", "header": [cell], "rows": [[cell]]}."""
    chars, edges = _layout_objects(page)
    lines = _phrase_lines(chars)
    out: dict[str, Any] = {
        "words": len(chars),
        "lines": ["  ".join(p.text for p in line) for line in lines],
        "pos": [[(p.text, p.x0, p.x1) for p in line] for line in lines] if positions else None,
        "tables": [],
    }
    v = [e for e in edges if e["orientation"] == "v" and e["height"] >= 1]
    h = [e for e in edges if e["orientation"] == "h" and e["width"] >= 1]
    if len(v) >= 2 and len(h) >= 2:  # ruled tables: pdfplumber's lattice finder, given these edges
        words = [w for line in lines for ph in line for w in ph.words]
        found = page.find_tables({"vertical_strategy": "explicit", "horizontal_strategy": "explicit",
                                  "explicit_vertical_lines": v, "explicit_horizontal_lines": h})
        for table in found:
            rows = _cell_rows(table, words)
            for i, row in enumerate(rows[:3]):
                if _is_header_cells(row):
                    out["tables"].append({"kind": "ruled", "header": row, "rows": rows[i + 1:]})
                    break
        if any(t["rows"] for t in out["tables"]):
            return out
        out["tables"] = []  # e.g. only the header row is boxed: read the page by position
    cols: list[_Column] | None = None
    for line in lines:  # unruled: columns from the header line's words, rows by position
        hdr = _header_columns(line)
        if hdr is not None:
            cols = hdr
            out["tables"].append({"kind": "words", "header": [c.text for c in cols], "rows": []})
        elif cols is not None:
            out["tables"][-1]["rows"].append(_assign(line, cols))
    return out


class _Refuse(Exception):
    """Raised in a worker: the reason the file is refused."""


def _open_error(e: BaseException) -> str:
    cause = e
    for _ in range(10):  # pdfplumber wraps pdfminer's errors
        nxt = cause.__cause__ or cause.__context__
        if nxt is None:
            break
        cause = nxt
    name = type(cause).__name__
    text = f"{name}: {cause}"[:200]
    if name in ("PDFPasswordIncorrect", "PDFEncryptionError") or "password" in text.lower():
        return "the PDF is encrypted and needs a password to be read"
    if name in ("PSEOF", "PDFNoValidXRef") or "EOF" in text:
        return f"the PDF is truncated or corrupt ({text})"
    return f"not a readable PDF ({text})"


@contextmanager
def _captured(notes: list[str]) -> Iterator[None]:
    """pdfminer's warnings and log messages become notes instead of output or test errors."""

    class _Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            notes.append(f"pdfminer: {record.getMessage()}"[:200])

    log = logging.getLogger("pdfminer")
    handler, propagate, level = _Keep(logging.WARNING), log.propagate, log.level
    log.addHandler(handler)
    log.propagate = False
    log.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
        for w in caught:
            notes.append(f"pdfminer: {w.category.__name__}: {w.message}"[:200])
    finally:
        log.removeHandler(handler)
        log.propagate, log.level = propagate, level


def _limit_memory() -> None:
    try:
        import resource
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = WORKER_MEMORY_BYTES if hard == resource.RLIM_INFINITY else min(hard, WORKER_MEMORY_BYTES)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, ValueError, OSError):  # not on this platform: the time limit still holds
        pass


def _count_pages(path: str, max_pages: int) -> int:
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser

    with open(path, "rb") as f:
        try:
            doc = PDFDocument(PDFParser(f), password="")
        except Exception as e:
            raise _Refuse(_open_error(e)) from None
        n = 0
        try:
            for _ in PDFPage.create_pages(doc):
                n += 1
                if n > max_pages:
                    raise _Refuse(f"the PDF has more than {max_pages} pages (the limit)")
        except _Refuse:
            raise
        except Exception as e:
            raise _Refuse(_open_error(e)) from None
    if n == 0:
        raise _Refuse("the PDF has no pages")
    return n


def _worker(conn: Connection, path: str, first: int, last: int, max_pages: int, probe: bool) -> None:
    """A worker process: reads pages [first, last) and sends ("page", index, data) for each. The probe
    (first worker) counts the pages first and sends ("meta", n); it reads them all when there are at most
    SMALL_FILE_PAGES, else it stops there. Ends with ("done", stats) or ("refuse", reason)."""
    _limit_memory()
    notes: list[str] = []
    t0 = time.monotonic()
    done = 0
    try:
        with _captured(notes):
            if probe:
                n = _count_pages(path, max_pages)
                conn.send(("meta", n))
                if n > SMALL_FILE_PAGES:
                    last = first
                else:
                    first, last = 0, n
            if last > first:
                import pdfplumber
                try:
                    pdf = pdfplumber.open(path, pages=list(range(first + 1, last + 1)), raise_unicode_errors=False)
                except Exception as e:
                    raise _Refuse(_open_error(e)) from None
                with pdf:
                    for page in pdf.pages:
                        try:
                            item = _page_data(page, positions=page.page_number == 1)
                        except MemoryError:
                            raise
                        except Exception as e:
                            raise _Refuse(f"page {page.page_number} cannot be read ({type(e).__name__}: {e})"[:250]) from None
                        page.close()
                        conn.send(("page", page.page_number - 1, item))
                        done += 1
        import resource
        use = resource.getrusage(resource.RUSAGE_SELF)
        conn.send(("done", {"pages": done, "seconds": round(time.monotonic() - t0, 3),
                            "cpu_seconds": round(use.ru_utime + use.ru_stime, 3), "peak_rss_kb": use.ru_maxrss,
                            "notes": list(dict.fromkeys(notes))[:MAX_NOTES_FROM_PDFMINER]}))
    except _Refuse as e:
        conn.send(("refuse", str(e)))
    except MemoryError:
        conn.send(("refuse", f"reading the PDF needed more than {WORKER_MEMORY_BYTES // 1024**2} MiB of memory"))
    except RecursionError:
        conn.send(("refuse", "the PDF's structure is nested too deeply to be read"))
    except Exception as e:  # anything else pdfminer raises on a broken file
        conn.send(("refuse", _open_error(e)))
    finally:
        conn.close()


# ------------------------------------------------------------------------------------------------
# Parent side: worker processes under a deadline

_preloaded = False


def _context() -> Any:
    """forkserver (POSIX): children forked from a clean single-threaded server with pdfplumber preloaded,
    so a worker starts quickly and a multi-threaded caller cannot deadlock it; spawn elsewhere. (This
    module is not preloaded: it is light, and `python -m recoup.invoices.pdf` would then warn.)"""
    global _preloaded
    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    if not _preloaded:
        ctx.set_forkserver_preload(["pdfplumber"])
        _preloaded = True
    return ctx


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@dataclass
class _Extraction:
    n_pages: int
    pages: list[dict[str, Any]]
    workers: list[dict[str, Any]] = field(default_factory=list)


def _extract(path: Path, *, max_pages: int, timeout_s: float, workers: int | None) -> _Extraction:
    ctx = _context()
    deadline = time.monotonic() + timeout_s
    procs: dict[Connection, Any] = {}
    pages: dict[int, dict[str, Any]] = {}
    stats: list[dict[str, Any]] = []
    n_pages: int | None = None

    def start(first: int, last: int, probe: bool) -> None:
        r, w = ctx.Pipe(duplex=False)
        p = ctx.Process(target=_worker, args=(w, str(path), first, last, max_pages, probe), daemon=True)
        p.start()
        w.close()
        procs[r] = p

    try:
        start(0, 0, True)
        while procs:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                done = f"{len(pages)} of {n_pages} pages" if n_pages else "before the pages were counted"
                raise FileRefused(f"gave up reading the PDF after {timeout_s:g} s (the time limit; {done} read)")
            for conn in wait(list(procs), timeout=remaining):
                assert isinstance(conn, Connection)
                try:
                    msg = conn.recv()
                except EOFError:
                    p = procs.pop(conn)
                    p.join(5)
                    conn.close()
                    raise FileRefused(f"the PDF reader stopped on this file (exit code {p.exitcode})") from None
                if msg[0] == "page":
                    pages[msg[1]] = msg[2]
                elif msg[0] == "meta":
                    n_pages = int(msg[1])
                    if n_pages > SMALL_FILE_PAGES:
                        k = max(1, min(workers or _cpus(), math.ceil(n_pages / MIN_PAGES_PER_WORKER)))
                        bounds = [round(i * n_pages / k) for i in range(k + 1)]
                        for a, b in itertools.pairwise(bounds):
                            start(a, b, False)
                elif msg[0] == "refuse":
                    raise FileRefused(str(msg[1]))
                elif msg[0] == "done":
                    stats.append(msg[1])
                    procs.pop(conn).join(5)
                    conn.close()
    finally:
        for conn, p in procs.items():
            if p.is_alive():
                p.kill()
            p.join(5)
            conn.close()
    assert n_pages is not None
    missing = [i + 1 for i in range(n_pages) if i not in pages]
    if missing:  # pragma: no cover - a worker said done without sending a page
        raise FileRefused(f"pages {missing[:5]} could not be read")
    return _Extraction(n_pages, [pages[i] for i in range(n_pages)], stats)


# ------------------------------------------------------------------------------------------------
# Parent side: the invoice from the pages (pure)


@dataclass
class _Meta:
    invoice_number: str | None = None
    invoice_date: dt.date | None = None
    account_number: str | None = None
    currency: str | None = None
    carrier: str | None = None
    date_order: str = "dmy"
    credit_note: bool = False


def _label_regex(labels: Iterable[str], value: str) -> re.Pattern[str]:
    alts = "|".join(sorted((re.escape(lb).replace(r"\ ", r"\s+") for lb in labels), key=len, reverse=True))
    return re.compile(rf"(?<![\w])(?:{alts})(?![\w])\s*(?:[:#.]\s*)*(?P<v>{value})", re.IGNORECASE)


_ID_VALUE = r"[A-Za-z0-9][A-Za-z0-9\-/._]*"


def _valid_id(v: str) -> bool:
    return any(c.isdigit() for c in v) and not DATE_IN_TEXT.fullmatch(v.strip(".")) and len(v) <= 40


def _labelled(pages: list[dict[str, Any]], labels: Sequence[str], value: str,
              ok: Any = lambda v: True) -> str | None:
    """The value printed after one of the labels (first page first), or under it on the first page."""
    rx = _label_regex(labels, value)
    for page in pages:
        for line in page["lines"]:
            for m in rx.finditer(line):
                v = m.group("v").strip().rstrip(".")
                if ok(v):
                    return v
    pos = pages[0]["pos"] or []
    names = {_norm(lb) for lb in labels}
    only = re.compile(rf"(?P<v>{value})")
    for li, line in enumerate(pos):
        for text, x0, x1 in line:
            if _norm(text) not in names:
                continue
            for below in pos[li + 1:li + 3]:
                for t2, a, b in below:
                    if min(b, x1) - max(a, x0) > 0:
                        under = only.match(t2.strip())
                        if under and ok(under.group("v")):
                            return under.group("v")
    return None


def _currency(pages: list[dict[str, Any]], layout: Layout | None) -> tuple[str | None, str | None]:
    """(currency, how): a "Currency" label, else the code or symbol printed most often, else the layout's."""
    d = data()
    v = _labelled(pages, d.labels["currency"], _CODE_RE, lambda v: v.upper() in CURRENCY_CODES)
    if v:
        return v.upper(), None
    counts: Counter[str] = Counter()
    code_rx = re.compile(rf"(?<![A-Za-z])({_CODE_RE})(?![A-Za-z])")
    for page in pages:
        for line in page["lines"]:
            counts.update(code_rx.findall(line))
            counts.update(SYMBOLS[c] for c in line if c in SYMBOLS)
    if counts:
        return counts.most_common(1)[0][0], None
    if layout and layout.currency:
        return layout.currency, f"currency {layout.currency} from the layout"
    return None, None


def _carrier_in_text(text: str, currency: str | None) -> str | None:
    best: tuple[int, str] | None = None
    for rx, code, cur in data().carriers:
        if cur and cur != currency:
            continue
        m = rx.search(text)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), code)
    return best[1] if best else None


def _choose_layout(pages: list[dict[str, Any]], carrier: str | None) -> Layout | None:
    text = "\n".join(pages[0]["lines"]).lower()
    every: str | None = None
    for lay in data().layouts:
        if carrier and lay.carrier and lay.carrier != carrier:
            continue
        if not all(k in text for k in lay.detect):
            continue
        if lay.detect_anywhere:
            if every is None:
                every = "\n".join(" ".join(ln.split()) for p in pages for ln in p["lines"]).lower()
            if not all(k in every for k in lay.detect_anywhere):
                continue
        return lay
    return None


@dataclass
class _Map:
    """A charge table's columns: field -> index, and for a per-parcel table its charge columns."""

    fields: dict[str, int]
    weight_unit: str | None
    charge_cols: list[tuple[int, str, str]]   # (index, charge_type, header text)
    row_total: int | None


def _map_header(header: list[str], rows: list[list[str]], layout: Layout | None) -> _Map:
    d = data()
    norms = [_norm(h) for h in header]
    field_names = dict(d.columns)
    if layout:
        field_names = {f: layout.columns.get(f, ()) + names for f, names in d.columns.items()}
    charge_cols: list[tuple[int, str, str]] = []
    row_total = None
    taken: set[int] = set()
    if layout and layout.charge_columns:
        for i, n in enumerate(norms):
            if n in layout.charge_columns:
                charge_cols.append((i, layout.charge_columns[n], header[i].strip()))
                taken.add(i)
            elif n in layout.row_total and row_total is None:
                row_total = i
                taken.add(i)
    fields: dict[str, int] = {}
    ambiguous = set(field_names["description"]) & set(field_names["amount"])
    for f, names in field_names.items():
        best: tuple[int, int] | None = None   # (preference rank, column)
        for i, n in enumerate(norms):
            if i in taken or n not in names or n in ambiguous:
                continue
            rank = names.index(n)
            if best is None or rank < best[0]:
                best = (rank, i)
        if best is not None:
            fields[f] = best[1]
            taken.add(best[1])
    for i, n in enumerate(norms):  # "Charge": an amount column if its cells are amounts, else descriptions
        if i in taken or n not in ambiguous:
            continue
        cells = [r[i] for r in rows if i < len(r) and r[i].strip()]
        amounts = sum(1 for c in cells if parse_amount(c) is not None)
        f = "amount" if cells and amounts >= 0.6 * len(cells) else "description"
        if f not in fields:
            fields[f] = i
            taken.add(i)
    unit = None
    if "billed_weight" in fields:
        h = header[fields["billed_weight"]].lower()
        unit = "kg" if re.search(r"\bkgs?\b", h) else "lb" if re.search(r"\blbs?\b", h) else None
    return _Map(fields, unit, charge_cols, row_total)


@dataclass
class _Stated:
    value: Decimal
    how: str


def _stated_total(pages: list[dict[str, Any]], *, exclude: Iterable[tuple[int, int]] = (),
                  not_totals: Sequence[str] = ()) -> _Stated | None:
    """The invoice's total before VAT, as the module docstring says. ``exclude``: (page, line) indexes
    that are not the invoice's (a shipment block's total); ``not_totals``: normalised line starts of the
    layout's section subtotals."""
    d = data()
    skip = set(exclude)
    found: dict[str, list[tuple[int, int, Decimal, str]]] = {"net": [], "vat": [], "gross": [], "due": []}
    for pi, page in enumerate(pages):
        for li, line in enumerate(page["lines"]):
            if not _TWO_DECIMALS.search(line) or (pi, li) in skip:
                continue
            low = line.lower()
            if any(r in low for r in d.running):
                continue
            if not_totals and _norm(line).startswith(tuple(not_totals)):
                continue
            phrases = line.split("  ")
            for k, ph in enumerate(phrases):
                if not ph[:1].isalpha():
                    continue
                hit = d.totals_rx.match(_norm(ph))
                if hit is None:
                    continue
                rest = "  ".join(phrases[k:])
                found_money = money_in_text(rest)
                if not found_money:
                    break
                if set(_norm(rest[:found_money[0][0]]).split()) & d.not_money:
                    break
                amounts = [a for _, a in found_money]
                kind = d.totals[hit.group(0).strip()]
                if kind in ("gross", "due") and len(amounts) >= 3 and amounts[-3] + amounts[-2] == amounts[-1]:
                    found["net"].append((pi, li, amounts[-3], f"{ph.strip()} (net of VAT {fmt(amounts[-2])})"))
                else:
                    found[kind].append((pi, li, amounts[-1], ph.strip()))
                break
    if found["net"]:
        _, _, v, label = found["net"][-1]
        return _Stated(v, f'"{label}" {fmt(v)}')
    totals = found["gross"] or found["due"]
    if not totals:
        return None
    if not found["vat"]:
        _, _, v, label = totals[-1]
        return _Stated(v, f'"{label}" {fmt(v)}, no VAT shown')
    every = sorted(found["gross"] + found["due"])
    last_page = totals[-1][0]
    vat = sum((v for p, _, v, _ in found["vat"] if p == last_page), Decimal(0))
    for i, (_, _, t, label) in enumerate(every):
        if any(u == t + vat for _, _, u, _ in every[i + 1:]):
            return _Stated(t, f'"{label}" {fmt(t)}, before VAT {fmt(vat)}')
    _, _, g, label = totals[-1]
    return _Stated(g - vat, f'"{label}" {fmt(g)} less VAT {fmt(vat)}')


def _date_order(pages: list[dict[str, Any]], dates: list[str], layout: Layout | None,
                currency: str | None) -> tuple[str, str | None]:
    if layout and layout.date_order:
        return layout.date_order, None
    dmy = mdy = False
    for s in dates:
        a, b = date_votes(s)
        dmy, mdy = dmy or a, mdy or b
    if dmy and mdy:
        raise FileRefused("the dates in the PDF are neither all day/month nor all month/day")
    if dmy or mdy:
        return ("dmy" if dmy else "mdy"), None
    if currency == "USD":
        return "mdy", "numeric dates read as month/day (USD invoice)"
    return "dmy", None


def _skip_row(cells: Iterable[str]) -> bool:
    rx = data().skip_rows
    return any(c[:1].isalpha() and rx.match(_norm(c)) for c in cells)


@dataclass
class _Build:
    meta: _Meta
    layout: Layout | None
    comma_decimal: bool
    records: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    unknown: Counter[str] = field(default_factory=Counter)
    read: int = 0
    skipped: int = 0


def _charges(ext: _Extraction, b: _Build) -> None:
    """The charge lines of every table, in page order."""
    from recoup.ingest.base import RowError

    m = b.meta
    line_no = 0
    ctx: dict[str, Any] | None = None          # the parcel the following blank-tracking rows belong to
    maps: dict[tuple[str, ...], _Map] = {}
    last_row_line = -1

    def err(page: int, line: int, column: str | None, reason: str) -> None:
        b.errors.append(RowError(line, column, f"page {page}: {reason}", m.invoice_number))

    for pi, page in enumerate(ext.pages):
        for table in page["tables"]:
            header = [h or "" for h in table["header"]]
            key = tuple(header)
            if key not in maps:
                maps[key] = _map_header(header, table["rows"], b.layout)
            cm = maps[key]
            f = cm.fields
            hstrip = [h.strip() for h in header]

            def cell(row: list[str], name: str, f: dict[str, int] = f) -> str:
                i = f.get(name)
                return (row[i] or "").strip() if i is not None and i < len(row) else ""

            for row in table["rows"]:
                row = [(c or "").strip() for c in row]
                if not any(row) or row == hstrip:
                    continue
                line_no += 1
                pno = pi + 1
                if _skip_row(row):
                    b.skipped += 1
                    continue
                raw_tn = cell(row, "tracking_number")
                tn = tracking_number(raw_tn) if raw_tn else None
                service, date_s = cell(row, "service"), cell(row, "ship_date")
                service = "" if service in ("-", "\u2013", "\u2014") else service   # a dash: no service
                ship = parse_date(date_s, m.date_order) if date_s else None
                if date_s and ship is None and tn:
                    err(pno, line_no, "ship_date", f"not a date: {date_s!r}")
                    b.read += 1
                    continue
                try:
                    weight, unit = weight_text(cell(row, "billed_weight"), comma_decimal=b.comma_decimal)
                except ValueError as e:
                    weight, unit = None, None
                    if tn:
                        err(pno, line_no, "billed_weight", str(e))
                        b.read += 1
                        continue
                base = {
                    "invoice_number": m.invoice_number, "invoice_date": m.invoice_date, "carrier": m.carrier,
                    "account_number": m.account_number, "currency": m.currency,
                    "reference": cell(row, "reference") or None, "line": line_no, "page": pno,
                }
                if cm.charge_cols:
                    if not tn:
                        if raw_tn and any(_money_cell(row[i]) for i, _, _ in cm.charge_cols if i < len(row)):
                            err(pno, line_no, "tracking_number", f"not a tracking number: {raw_tn!r}")
                            b.read += 1
                        continue
                    _wide_row(b, cm, row, tn, service, ship, weight, unit or cm.weight_unit,
                              cell(row, "zone"), base, err, pno, line_no)
                    continue
                amt_s = cell(row, "amount")
                desc = cell(row, "description")
                if raw_tn and not tn:
                    if _money_cell(amt_s):
                        err(pno, line_no, "tracking_number", f"not a tracking number: {raw_tn!r}")
                        b.read += 1
                    continue                       # text under the table (addresses, notes)
                if tn:
                    ctx = {"tn": tn, "service": service or None, "ship": ship}
                if not amt_s:
                    if not tn and desc and not any(c for i, c in enumerate(row) if i != f.get("description")) \
                            and b.records and last_row_line == line_no - 1:
                        b.records[-1]["description"] = f"{b.records[-1]['description'] or ''} {desc}".strip()
                        last_row_line = line_no
                    continue                       # a parcel row whose charges follow, or a wrapped text
                try:
                    cents = amount_cents(amt_s)
                except MoneyError:
                    cents = None
                if cents is None:
                    if tn or _money_cell(amt_s):
                        err(pno, line_no, "amount", f"not an amount: {amt_s!r}")
                        b.read += 1
                    continue
                if not tn and not _money_cell(amt_s):
                    continue                       # a bare number under the table: not a charge
                if ctx is None:
                    err(pno, line_no, "tracking_number", "a charge with no tracking number (and none above it)")
                    b.read += 1
                    continue
                if not desc:
                    err(pno, line_no, "description", "a charge with no description")
                    b.read += 1
                    continue
                b.read += 1
                ctype = _type_of(b, desc, cents)
                b.records.append({**base, "tracking_number": ctx["tn"], "charge_type": ctype, "amount_cents": cents,
                                  "billed_weight": weight, "weight_unit": (unit or cm.weight_unit) if weight else None,
                                  "zone": cell(row, "zone") or None, "service": service or ctx["service"],
                                  "ship_date": ship or ctx["ship"], "description": desc})
                last_row_line = line_no


_TWO_DECIMALS = re.compile(r"\d[.,]\d{2}(?!\d)")


def _money_cell(s: str) -> bool:
    """A cell that prints money (two decimals), as opposed to a bare number or text."""
    return bool(s) and bool(_TWO_DECIMALS.search(s)) and parse_amount(s) is not None


def _type_of(b: _Build, desc: str, cents: int) -> str:
    ctype = charge_type(desc, b.meta.carrier)
    if ctype == "discount":                     # part of the transportation price, never a credit
        return ctype
    if cents < 0:
        return "credit"
    if ctype is None:
        b.unknown[f"pdf:{desc}"] += 1
        return "other"
    return ctype


def _wide_row(b: _Build, cm: _Map, row: list[str], tn: str, service: str, ship: dt.date | None,
              weight: str | None, unit: str | None, zone: str, base: dict[str, Any], err: Any,
              pno: int, line_no: int) -> None:
    """One row per parcel with a column per charge: a line per non-zero charge column."""
    lines, total = [], 0
    for i, ctype, head in cm.charge_cols:
        s = row[i] if i < len(row) else ""
        if not s:
            continue
        try:
            cents = amount_cents(s)
        except MoneyError:
            cents = None
        if cents is None:
            err(pno, line_no, head, f"not an amount: {s!r}")
            b.read += 1
            return
        total += cents
        if cents:
            lines.append((ctype if cents > 0 else "credit", cents, head))
    if cm.row_total is not None and cm.row_total < len(row) and row[cm.row_total]:
        try:
            stated = amount_cents(row[cm.row_total])
        except MoneyError:
            stated = None
        if stated is None or stated != total:
            err(pno, line_no, "amount", f"the charge columns add up to {fmt(total)}, the row's total is "
                                        f"{row[cm.row_total]!r}")
            b.read += 1
            return
    b.read += len(lines)
    first_transport = True
    for ctype, cents, head in lines:
        on_transport = ctype == "transportation" and first_transport
        first_transport = first_transport and not on_transport
        b.records.append({**base, "tracking_number": tn, "charge_type": ctype, "amount_cents": cents,
                          "billed_weight": weight if on_transport else None,
                          "weight_unit": unit if on_transport and weight else None,
                          "zone": (zone or None) if on_transport else None, "service": service or None,
                          "ship_date": ship, "description": head})


# ------------------------------------------------------------------------------------------------
# Shipment blocks (a layout with [layout.blocks]; pure)


@dataclass
class _Block:
    page: int                                   # 1-based page of the block's first line
    tn: str
    raw: dict[str, str]                         # ship_date, service, zone, billed_weight, weight_unit, reference
    charges: list[tuple[int, str, Decimal]] = field(default_factory=list)   # (page, description, amount)
    total: Decimal | None = None
    end_tn: str | None = None
    problem: str | None = None


def _last_amount(text: str | None) -> Decimal | None:
    """The last amount of a text that may print several (published, incentive, billed): the billed one."""
    found = money_in_text(text or "")
    return found[-1][1] if found else None


def _read_blocks(pages: list[dict[str, Any]], spec: Blocks) -> tuple[list[_Block], set[tuple[int, int]]]:
    """The shipment blocks of the text lines (spaces collapsed), and the (page, line) indexes of their
    total lines. Lines outside blocks (summaries, notices, remittance slips) are not read."""
    blocks: list[_Block] = []
    consumed: set[tuple[int, int]] = set()
    cur: _Block | None = None
    for pi, page in enumerate(pages):
        for li, line in enumerate(page["lines"]):
            s = " ".join(line.split())
            me = spec.end.search(s)
            if me:
                consumed.add((pi, li))
                g = me.groupdict()
                end_tn = tracking_number(g["tracking_number"]) if g.get("tracking_number") else None
                total = _last_amount(g.get("amounts"))
                if cur is None:
                    blocks.append(_Block(pi + 1, end_tn or "", {}, total=total, end_tn=end_tn,
                                         problem=f"a shipment total line with no shipment above it: {s!r}"))
                else:
                    cur.total, cur.end_tn = total, end_tn
                    blocks.append(cur)
                    cur = None
                continue
            ms = spec.start.search(s)
            tn = tracking_number(ms.group("tracking_number")) if ms else None
            if ms and tn:
                if cur is not None:
                    cur.problem = f"no shipment total line before the next shipment ({tn})"
                    blocks.append(cur)
                raw = {k: v.strip() for k, v in ms.groupdict().items() if v and k != "tracking_number"}
                cur = _Block(pi + 1, tn, raw)
                amount = _last_amount(raw.pop("amounts", None))
                if amount is not None:               # the opening line carries the shipment's own charge
                    cur.charges.append((pi + 1, raw.get("service") or "Transportation", amount))
                continue
            if cur is None:
                continue
            mc = spec.charge.search(s)
            if mc and not (spec.not_charges and any(spec.not_charges.match(_norm(ph)) for ph in line.split("  "))):
                amount = _last_amount(mc.group("amounts"))
                if amount is not None:
                    cur.charges.append((pi + 1, " ".join(mc.group("description").split()), amount))
                    continue
            for f, rx in spec.fields.items():
                mf = rx.search(s)
                if mf and f not in cur.raw:
                    cur.raw[f] = mf.group("v").strip()
    if cur is not None:
        cur.problem = "no shipment total line (the file ends inside the shipment)"
        blocks.append(cur)
    return blocks, consumed


_SHORT_DATE = re.compile(r"(\d{1,2})[/.\-](\d{1,2})|([A-Za-z]{3,9})\.?\s+(\d{1,2})")


def _block_date(text: str, order: str, invoice_date: dt.date | None) -> dt.date | None:
    """A ship date; one printed without its year ("03/09", "Mar 9") is in the year that puts it on or
    before the invoice date."""
    full = parse_date(text, order)
    if full is not None or invoice_date is None:
        return full
    m = _SHORT_DATE.fullmatch(text.strip())
    if not m:
        return None
    try:
        if m.group(1):
            a, b = int(m.group(1)), int(m.group(2))
            day, month = (a, b) if order == "dmy" else (b, a)
        else:
            month, day = _MONTHS.get(m.group(3)[:3].lower(), 0), int(m.group(4))
        d = dt.date(invoice_date.year, month, day)
        return d if d <= invoice_date else dt.date(invoice_date.year - 1, month, day)
    except ValueError:
        return None


def _block_charges(blocks: list[_Block], b: _Build) -> None:
    """The charge lines of the shipment blocks. A block whose lines do not add up to its own total is
    one error (its lines are not loaded), as is a block without its total line."""
    from recoup.ingest.base import RowError

    m = b.meta
    line_no = 0
    for blk in blocks:
        first = line_no + 1
        line_no += max(len(blk.charges), 1)

        def err(reason: str, column: str | None = "amount", blk: _Block = blk, first: int = first) -> None:
            b.errors.append(RowError(first, column, f"page {blk.page}: shipment {blk.tn or '?'}: {reason}",
                                     m.invoice_number))
            b.read += 1

        if blk.problem:
            err(blk.problem, None)
            continue
        if blk.end_tn and blk.end_tn != blk.tn:
            err(f"its total line names {blk.end_tn}", "tracking_number")
            continue
        total = sum((a for _, _, a in blk.charges), Decimal(0))
        if blk.total is None:
            err("its total line has no amount")
            continue
        if total != blk.total:
            err(f"the charge lines add up to {fmt(total)}, its total line states {fmt(blk.total)} "
                f"(difference {fmt(abs(blk.total - total))})")
            continue
        if not blk.charges:
            b.skipped += 1                      # a shipment with no charge (total 0.00), e.g. voided
            continue
        raw = blk.raw
        ship = None
        if raw.get("ship_date"):
            ship = _block_date(raw["ship_date"], m.date_order, m.invoice_date)
            if ship is None:
                err(f"not a date: {raw['ship_date']!r}", "ship_date")
                continue
        weight = unit = None
        if raw.get("billed_weight"):
            try:
                weight, unit = weight_text(f"{raw['billed_weight']} {raw.get('weight_unit', '')}".strip(),
                                           comma_decimal=b.comma_decimal)
            except ValueError as e:
                err(str(e), "billed_weight")
                continue
        service = raw.get("service")
        own = _norm(service) if service else None
        first_transport = True
        for k, (pno, desc, amount) in enumerate(blk.charges):
            cents = to_cents(amount)
            if own and _norm(desc) == own and cents >= 0:
                ctype = "transportation"        # the line that names the shipment's service is its postage
            else:
                ctype = _type_of(b, desc, cents)
            on_transport = ctype == "transportation" and first_transport
            first_transport = first_transport and not on_transport
            b.read += 1
            b.records.append({
                "invoice_number": m.invoice_number, "invoice_date": m.invoice_date, "carrier": m.carrier,
                "account_number": m.account_number, "currency": m.currency, "tracking_number": blk.tn,
                "charge_type": ctype, "amount_cents": cents,
                "billed_weight": weight if on_transport else None,
                "weight_unit": unit if on_transport and weight else None,
                "zone": raw.get("zone") if on_transport else None, "service": service,
                "ship_date": ship, "reference": raw.get("reference"), "description": desc,
                "line": first + k, "page": pno})


# ------------------------------------------------------------------------------------------------
# Discounts and credit notes (pure)


def _fold_discounts(b: _Build) -> int:
    """A discount line (charge map: ``discount``) is added to its parcel's transportation line, the last
    one before it (else the first after it); without one it is a transportation line itself. Returns
    the number of lines folded."""
    folded = 0
    keep: list[dict[str, Any]] = []
    pending: list[dict[str, Any]] = []
    last_transport: dict[tuple[str, str], dict[str, Any]] = {}
    for r in b.records:
        key = (r["invoice_number"] or "", r["tracking_number"])
        if r["charge_type"] == "discount":
            t = last_transport.get(key)
            if t is not None:
                t["amount_cents"] += r["amount_cents"]
                folded += 1
            else:
                pending.append(r)
            continue
        if r["charge_type"] == "transportation":
            last_transport[key] = r
        keep.append(r)
    for r in pending:
        t = last_transport.get((r["invoice_number"] or "", r["tracking_number"]))
        if t is not None:
            t["amount_cents"] += r["amount_cents"]
            folded += 1
        else:
            keep.append({**r, "charge_type": "transportation"})
    keep.sort(key=lambda r: r["line"])
    b.records[:] = keep
    b.read -= folded
    return folded


def _credit_note_title(pages: list[dict[str, Any]]) -> bool:
    titles = {_norm(t) for t in data().labels.get("credit_note_title", ())}
    return any(_norm(line) in titles for line in pages[0]["lines"][:40])


_INVOICE_WORDS = re.compile(r"\b(?:invoice|bill|rechnung|facture|factuur|fattura|factura|receipt)\b", re.IGNORECASE)


def _no_table_reason(pages: list[dict[str, Any]]) -> str:
    """One line for a PDF with text but no charges: what it looks like and what to do."""
    text = "\n".join(line for p in pages[:3] for line in p["lines"])
    carrier = _carrier_in_text(text, None)
    what = "no table whose header names a tracking, consignment, parcel or waybill number and an amount"
    if carrier:
        looks = (f"it names a carrier ({carrier}) but holds no parcel charges recoup can read (a statement, "
                 "summary or notice?)")
        todo = "load the carrier's invoice with its shipment detail, or its CSV billing export"
    elif _INVOICE_WORDS.search(text):
        looks = "it looks like an invoice, but not a parcel carrier's (no line names a parcel)"
        todo = "recoup reads carriers' invoices only; if this is one, load the carrier's CSV export instead"
    else:
        looks = "it does not look like an invoice"
        todo = "give recoup a carrier's invoice (PDF or CSV export)"
    return f"no charge table found: {what}; {looks}: {todo}"


def _comma_decimal(pages: list[dict[str, Any]]) -> bool:
    """Whether the file writes 12,30 rather than 12.30 (it decides weights such as 1,250)."""
    comma = dot = 0
    for page in pages:
        for line in page["lines"]:
            comma += len(re.findall(r"(?<![\d.,])\d{1,3}(?:\.\d{3})*,\d{2}(?![\d.,])", line))
            dot += len(re.findall(r"(?<![\d.,])\d{1,3}(?:,\d{3})*\.\d{2}(?![\d.,])", line))
    return comma > dot


def _invoice(ext: _Extraction, carrier: str | None) -> ReadResult:
    import pandas as pd

    from recoup.ingest.base import INVOICE_COLUMNS, ReadResult

    d = data()
    pages = ext.pages
    notes = [f"{ext.n_pages} page{'s' if ext.n_pages != 1 else ''}"]
    if not any(p["words"] for p in pages):
        raise FileRefused("the PDF has no text to read (a scanned image?): no charge table found; ask the carrier "
                          "for the invoice as a text PDF or its CSV export")
    first_text = "\n".join(pages[0]["lines"])
    layout = _choose_layout(pages, carrier)
    blocks: list[_Block] | None = None
    consumed: set[tuple[int, int]] = set()
    if layout and layout.blocks:
        blocks, consumed = _read_blocks(pages, layout.blocks)
        if not blocks:
            raise FileRefused(f"laid out like {layout.name} but no shipment block was found (no line with a "
                              "tracking number that opens one): the layout may have changed; report it")
    elif not any(t["rows"] for p in pages for t in p["tables"]):
        raise FileRefused(_no_table_reason(pages))
    notes.append(f"layout {layout.name}" if layout else "layout: columns by header names")
    m = _Meta()
    m.invoice_number = _labelled(pages, d.labels["credit_note_number"], _ID_VALUE, _valid_id)
    if m.invoice_number:
        m.credit_note = True
    else:
        m.invoice_number = _labelled(pages, d.labels["invoice_number"], _ID_VALUE, _valid_id)
        m.credit_note = _credit_note_title(pages)
    if not m.invoice_number:
        raise FileRefused("no invoice number found (no label such as Invoice Number, Invoice No., Credit Note "
                          "Number or Factuurnummer)")
    if m.credit_note:
        notes.append("a credit note: its lines are credits")
    m.currency, how = _currency(pages, layout)
    if how:
        notes.append(how)
    if carrier:
        m.carrier = carrier.strip().lower()
    else:
        m.carrier = (layout.carrier if layout and layout.carrier else None) or _carrier_in_text(first_text, m.currency)
        if not m.carrier:
            raise FileRefused("the carrier is not named on the first page: give it (--carrier)")
        notes.append(f"carrier {m.carrier} from the text")
    m.account_number = _labelled(pages, d.labels["account_number"], _ID_VALUE, _valid_id)
    date_value = r"\d{1,4}[/.\-]\d{1,2}[/.\-]\d{2,4}|\d{1,2}(?:st|nd|rd|th)?[\s\-]+[A-Za-z]{3,9}\.?[\s\-,]+\d{2,4}" \
                 r"|[A-Za-z]{3,9}\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}"
    date_labels = [*d.labels["credit_note_date"]] if m.credit_note else []
    date_text = None
    for labels in (date_labels, d.labels["invoice_date"]):
        date_text = date_text or (_labelled(pages, labels, date_value,
                                            lambda v: parse_date(v) is not None or parse_date(v, "mdy") is not None)
                                  if labels else None)
    if not date_text:
        raise FileRefused("no invoice date found (no label such as Invoice Date, Credit Note Date or Factuurdatum "
                          "with a date)")
    ship_dates: list[str] = [blk.raw["ship_date"] for blk in blocks or [] if blk.raw.get("ship_date")]
    maps: dict[tuple[str, ...], _Map] = {}
    for p in pages:
        for t in p["tables"]:
            key = tuple(t["header"])
            cm = maps[key] if key in maps else maps.setdefault(key, _map_header(t["header"], [], layout))
            i = cm.fields.get("ship_date")
            if i is not None:
                ship_dates.extend(r[i] for r in t["rows"] if i < len(r) and r[i])
    m.date_order, how = _date_order(pages, [date_text, *ship_dates], layout, m.currency)
    if how:
        notes.append(how)
    m.invoice_date = parse_date(date_text, m.date_order)
    if m.invoice_date is None:
        raise FileRefused(f"the invoice date {date_text!r} is not a date")
    b = _Build(m, layout, _comma_decimal(pages))
    if blocks is not None:
        _block_charges(blocks, b)
        empty = sum(1 for pi in range(len(pages)) if not any(blk.page == pi + 1 for blk in blocks))
        notes.append(f"{len(blocks)} shipment block{'s' if len(blocks) != 1 else ''}"
                     + (f"; {empty} page{'s' if empty != 1 else ''} without shipments (summaries, notices) not read"
                        if empty else ""))
        if b.skipped:
            notes.append(f"{b.skipped} shipment{'s' if b.skipped != 1 else ''} without charges")
    else:
        _charges(ext, b)
        if b.skipped:
            notes.append(f"{b.skipped} subtotal/total row{'s' if b.skipped != 1 else ''} skipped")
    folded = _fold_discounts(b)
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
        stated = _stated_total(pages, exclude=consumed, not_totals=layout.not_totals if layout else ())
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


# ------------------------------------------------------------------------------------------------
# The reader interface


def sniff(head: bytes) -> bool:
    return head.startswith(b"%PDF")


def read(path: Path, *, carrier: str | None = None, max_pages: int = 2000, timeout_s: float = 120,
         workers: int | None = None) -> ReadResult:
    """The charge lines of a carrier's PDF invoice; FileRefused with the reason when it cannot be read
    whole (see the module docstring)."""
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
    ext = _extract(path, max_pages=max_pages, timeout_s=timeout_s, workers=workers)
    return _invoice(ext, carrier)


# ------------------------------------------------------------------------------------------------
# Golden files


def golden_record(path: Path, **kw: Any) -> dict[str, Any]:
    """What a golden file holds for a PDF: its lines, notes, errors and unknown codes, or the refusal."""
    try:
        res = read(path, **kw)
    except FileRefused as e:
        return {"file": path.name, "refused": str(e)}
    return golden_of(res, path.name)


def golden_of(res: ReadResult, name: str) -> dict[str, Any]:
    """The golden record of a result: plain JSON values, dates as YYYY-MM-DD."""
    import pandas as pd

    from recoup.ingest.base import INVOICE_COLUMNS

    lines = []
    for r in res.frame.to_dict("records"):
        out = {}
        for c in [*INVOICE_COLUMNS, "page"]:
            v = r[c]
            if c in ("invoice_date", "ship_date"):
                v = None if pd.isna(v) else v.date().isoformat()
            elif c in ("amount_cents", "line", "page"):
                v = int(v)
            out[c] = v
        lines.append(out)
    return {"file": name, "refused": None, "read": res.read, "notes": res.notes,
            "unknown_codes": dict(sorted(res.unknown_codes.items())),
            "errors": [e.as_dict() for e in res.errors], "lines": lines}


def golden_text(rec: dict[str, Any]) -> str:
    """JSON with one line per charge, so that a change reads as a diff."""
    lines = rec.get("lines")
    text = json.dumps({k: v for k, v in rec.items() if k != "lines"}, indent=2, ensure_ascii=False)
    if lines is None:
        return text + "\n"
    body = ",\n".join("    " + json.dumps(r, ensure_ascii=False) for r in lines)
    block = '"lines": [\n' + body + "\n  ]" if lines else '"lines": []'
    return text[:-2] + ",\n  " + block + "\n}\n"


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m recoup.invoices.pdf", description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="*", type=Path, help="PDF files to read (the golden record is printed)")
    ap.add_argument("--golden", type=Path, help="rewrite <name>.expected.json beside every PDF in this folder")
    ap.add_argument("--carrier")
    args = ap.parse_args(argv)
    if args.golden:
        for pdf in sorted(args.golden.glob("*.pdf")):
            out = pdf.with_name(pdf.stem + ".expected.json")
            out.write_text(golden_text(golden_record(pdf, carrier=args.carrier)), encoding="utf-8")
            print(f"wrote {out}")
    for p in args.paths:
        sys.stdout.write(golden_text(golden_record(p, carrier=args.carrier)))
    return 0


if __name__ == "__main__":
    # run the imported module's main, so that workers pickle recoup.invoices.pdf._worker, not __main__'s
    from recoup.invoices import pdf as _module

    raise SystemExit(_module.main())


READER = Format("pdf", "invoices", sniff, read)
