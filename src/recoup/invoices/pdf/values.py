"""Amounts, weights, dates, tracking numbers and charge types of single cells or texts (pure)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from functools import lru_cache

from recoup.invoices.pdf.layouts import data, norm
from recoup.money import to_cents

CURRENCY_CODES = ("GBP", "EUR", "USD", "CAD", "AUD", "NZD", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF",
                  "RON", "BGN", "JPY", "CNY", "HKD", "SGD", "ZAR", "AED", "MXN", "BRL", "INR")
SYMBOLS = {"£": "GBP", "€": "EUR", "$": "USD"}
CODE_RE = "|".join(CURRENCY_CODES)
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
_CODE_ENDS = re.compile(rf"^(?:{CODE_RE})\s*|\s*(?:{CODE_RE})$")


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


MONTHS = {m: i + 1 for i, m in enumerate(
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
        if m and m.group(2)[:3].lower() in MONTHS:
            return dt.date(_year(m.group(3)), MONTHS[m.group(2)[:3].lower()], int(m.group(1)))
        m = _MDY_TEXT.search(s)
        if m and m.group(1)[:3].lower() in MONTHS:
            return dt.date(int(m.group(3)), MONTHS[m.group(1)[:3].lower()], int(m.group(2)))
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
    n = norm(description)
    for table in (d.charges.get(carrier or "", ()), d.charges["default"]):
        for rx, ctype in table:
            if rx.search(n):
                return ctype
    return None
