"""The only way to make money values.

Money is :class:`decimal.Decimal` in Python, integer minor units (cents) in DataFrames and in
the database. Never a float. Rounding is half-up to the cent, and only where a carrier rounds.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

# Bounds (docs/decisions.md, "Amounts"). Any amount: |x| <= 10,000,000,000,000.00 (10**15 cents), far
# inside int64 and BIGINT, so nothing wraps. Per field, what a parcel can plausibly carry:
MAX_CENTS = 10**15
LINE_LIMIT_CENTS = 10**9       # one invoice line: |amount| <= 10,000,000.00 (in any currency, JPY too)
VALUE_LIMIT_CENTS = 10**10     # a declared or item value: 0 <= value <= 100,000,000.00


class MoneyError(ValueError):
    """A text that is not an amount."""


def money(value: str | int | Decimal) -> Decimal:
    """An exact amount from text, an int or a Decimal. Floats are refused."""
    if isinstance(value, float):  # pragma: no cover - a programming error, not input
        raise TypeError("money from float is refused: pass the text")
    if isinstance(value, Decimal):
        d = value
    else:
        text = str(value).strip().replace(",", "") if isinstance(value, str) else str(value)
        try:
            d = Decimal(text)
        except InvalidOperation:
            raise MoneyError(f"not an amount: {value!r}") from None
    if not d.is_finite():
        raise MoneyError(f"not an amount: {value!r}")
    return d


def round_cents(d: Decimal) -> Decimal:
    """Half-up to the cent."""
    return d.quantize(CENT, rounding=ROUND_HALF_UP)


def to_cents(value: str | int | Decimal) -> int:
    """Integer cents of an amount; more than two decimals is refused (carriers bill to the cent)."""
    d = money(value)
    if d.adjusted() > 15:      # cheap refusal before any arithmetic on a 5,000-digit number
        raise MoneyError(f"amount out of range: {str(value)[:30]!r}")
    c = d * 100
    if c != c.to_integral_value():
        raise MoneyError(f"more than two decimals: {value!r}")
    if abs(c) > MAX_CENTS:
        raise MoneyError(f"amount out of range: {str(value)[:30]!r}")
    return int(c)


def limit_text(cents: int) -> str:
    """A bound as people read it: ``10,000,000.00``."""
    return f"{from_cents(cents):,}"


def from_cents(cents: int) -> Decimal:
    return (Decimal(int(cents)) / 100).quantize(CENT)


def fmt(cents_or_amount: int | Decimal) -> str:
    """An amount as the text the CLI prints: exactly two decimals."""
    if isinstance(cents_or_amount, Decimal):
        return str(round_cents(cents_or_amount))
    return str(from_cents(cents_or_amount))


def ceil_to(value: Decimal, increment: Decimal) -> Decimal:
    """Round up to a multiple of `increment` (billable weights)."""
    if increment <= 0:
        raise ValueError("increment must be positive")
    return (value / increment).to_integral_value(rounding=ROUND_CEILING) * increment
