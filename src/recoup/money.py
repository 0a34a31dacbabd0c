"""The only way to make money values.

Money is :class:`decimal.Decimal` in Python, integer minor units (cents) in DataFrames and in
the database. Never a float. Rounding is half-up to the cent, and only where a carrier rounds.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


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
    c = d * 100
    if c != c.to_integral_value():
        raise MoneyError(f"more than two decimals: {value!r}")
    return int(c)


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
