"""What the pages say about the document as a whole: invoice number, date, account, currency,
carrier, the layout, the date order, whether it is a credit note (pure)."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from recoup.errors import FileRefused
from recoup.invoices.pdf.layouts import Layout, data, norm
from recoup.invoices.pdf.values import CODE_RE, CURRENCY_CODES, DATE_IN_TEXT, SYMBOLS, date_votes


@dataclass
class Meta:
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


ID_VALUE = r"[A-Za-z0-9][A-Za-z0-9\-/._]*"


def valid_id(v: str) -> bool:
    return any(c.isdigit() for c in v) and not DATE_IN_TEXT.fullmatch(v.strip(".")) and len(v) <= 40


def labelled(pages: list[dict[str, Any]], labels: Sequence[str], value: str,
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
    names = {norm(lb) for lb in labels}
    only = re.compile(rf"(?P<v>{value})")
    for li, line in enumerate(pos):
        for text, x0, x1 in line:
            if norm(text) not in names:
                continue
            for below in pos[li + 1:li + 3]:
                for t2, a, b in below:
                    if min(b, x1) - max(a, x0) > 0:
                        under = only.match(t2.strip())
                        if under and ok(under.group("v")):
                            return under.group("v")
    return None


def find_currency(pages: list[dict[str, Any]], layout: Layout | None) -> tuple[str | None, str | None]:
    """(currency, how): a "Currency" label, else the code or symbol printed most often, else the layout's."""
    d = data()
    v = labelled(pages, d.labels["currency"], CODE_RE, lambda v: v.upper() in CURRENCY_CODES)
    if v:
        return v.upper(), None
    counts: Counter[str] = Counter()
    code_rx = re.compile(rf"(?<![A-Za-z])({CODE_RE})(?![A-Za-z])")
    for page in pages:
        for line in page["lines"]:
            counts.update(code_rx.findall(line))
            counts.update(SYMBOLS[c] for c in line if c in SYMBOLS)
    if counts:
        return counts.most_common(1)[0][0], None
    if layout and layout.currency:
        return layout.currency, f"currency {layout.currency} from the layout"
    return None, None


def carrier_in_text(text: str, currency: str | None) -> str | None:
    best: tuple[int, str] | None = None
    for rx, code, cur in data().carriers:
        if cur and cur != currency:
            continue
        m = rx.search(text)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), code)
    return best[1] if best else None


def choose_layout(pages: list[dict[str, Any]], carrier: str | None) -> Layout | None:
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


def choose_date_order(pages: list[dict[str, Any]], dates: list[str], layout: Layout | None,
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


def credit_note_title(pages: list[dict[str, Any]]) -> bool:
    titles = {norm(t) for t in data().labels.get("credit_note_title", ())}
    return any(norm(line) in titles for line in pages[0]["lines"][:40])


_INVOICE_WORDS = re.compile(r"\b(?:invoice|bill|rechnung|facture|factuur|fattura|factura|receipt)\b", re.IGNORECASE)


def no_table_reason(pages: list[dict[str, Any]]) -> str:
    """One line for a PDF with text but no charges: what it looks like and what to do."""
    text = "\n".join(line for p in pages[:3] for line in p["lines"])
    carrier = carrier_in_text(text, None)
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


def writes_comma_decimal(pages: list[dict[str, Any]]) -> bool:
    """Whether the file writes 12,30 rather than 12.30 (it decides weights such as 1,250)."""
    comma = dot = 0
    for page in pages:
        for line in page["lines"]:
            comma += len(re.findall(r"(?<![\d.,])\d{1,3}(?:\.\d{3})*,\d{2}(?![\d.,])", line))
            dot += len(re.findall(r"(?<![\d.,])\d{1,3}(?:,\d{3})*\.\d{2}(?![\d.,])", line))
    return comma > dot
