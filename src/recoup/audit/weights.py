"""Billable weight, exactly (audits.md, "Correct billable weight"), with fractions: no float."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

LB_PER_KG = Fraction("2.20462")
CM_PER_IN = Fraction("2.54")


def _frac(v: object) -> Fraction | None:
    if v is None or v == "" or (isinstance(v, float) and math.isnan(v)):
        return None
    return Fraction(str(v))


def convert_weight(w: Fraction, unit: str | None, to: str) -> Fraction:
    if not unit or unit == to:
        return w
    return w * LB_PER_KG if (unit, to) == ("kg", "lb") else w / LB_PER_KG


def convert_dim(d: Fraction, unit: str | None, to: str) -> Fraction:
    if not unit or unit == to:
        return d
    return d * CM_PER_IN if (unit, to) == ("in", "cm") else d / CM_PER_IN


def round_dim(d: Fraction, rounding: str) -> int:
    if rounding == "half_up":
        return math.floor(d + Fraction(1, 2))
    return math.ceil(d)


def ceil_to(w: Fraction, inc: Fraction) -> Fraction:
    return math.ceil(w / inc) * inc


def correct_billable_weight(*, weight: object, weight_unit: str | None, length: object, width: object,
                            height: object, dim_unit: str | None, contract_weight_unit: str,
                            contract_dim_unit: str, dim_divisor: Decimal, weight_increment: Decimal,
                            dim_rounding: str) -> Fraction | None:
    """The correct billable weight in the contract's unit, or None when it cannot be judged."""
    inc = Fraction(str(weight_increment))
    actual = _frac(weight)
    if actual is not None:
        actual = convert_weight(actual, weight_unit, contract_weight_unit)
    dims = [_frac(x) for x in (length, width, height)]
    dimw = None
    if all(d is not None for d in dims):
        prod = 1
        for d in dims:
            assert d is not None
            prod *= round_dim(convert_dim(d, dim_unit, contract_dim_unit), dim_rounding)
        dimw = Fraction(prod) / Fraction(str(dim_divisor))
    cands = [x for x in (actual, dimw) if x is not None]
    if not cands:
        return None
    return ceil_to(max(cands), inc)


def billed_weight_in(billed: object, unit: str | None, contract_weight_unit: str,
                     weight_increment: Decimal) -> Fraction | None:
    """The invoice's billed weight in the contract's unit; a converted one rounds up to the increment."""
    b = _frac(billed)
    if b is None:
        return None
    if unit and unit != contract_weight_unit:
        return ceil_to(convert_weight(b, unit, contract_weight_unit), Fraction(str(weight_increment)))
    return b


def as_decimal(f: Fraction) -> Decimal:
    return Decimal(f.numerator) / Decimal(f.denominator)
