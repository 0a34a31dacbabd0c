"""Billable weight, exactly (audits.md, "Correct billable weight"), with fractions: no float."""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

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


# ----------------------------------------------------------------------------- vectorised, still exact
#
# The audit computes billable weights for every transportation line at once. The exact arithmetic is
# done once per distinct value (a weight and its unit, a dimension and its unit) with fractions; per
# row only integers remain: a weight is a whole number of the contract's ``weight_increment``.


def factorize_pairs(a: Any, b: Any) -> tuple[np.ndarray, list[tuple[Any, Any]]]:
    """Codes of each row's (a, b) and the distinct pairs, in order of first appearance. Missing
    values (None, NaN) are kept as None. Categorical columns are factorized by their codes."""
    ca, ua = pd.factorize(a if isinstance(a, pd.Series) else pd.Series(a, dtype=object), use_na_sentinel=False)
    cb, ub = pd.factorize(b if isinstance(b, pd.Series) else pd.Series(b, dtype=object), use_na_sentinel=False)
    nb = max(len(ub), 1)
    codes, combos = pd.factorize(ca.astype(np.int64) * nb + cb)
    ua_l, ub_l = _nones(ua), _nones(ub)
    return np.asarray(codes), [(ua_l[x // nb], ub_l[x % nb]) for x in combos.tolist()]


def _nones(values: Any) -> list[Any]:
    a = np.asarray(values, dtype=object)
    out: list[Any] = np.where(pd.isna(a), np.array(None, dtype=object), a).tolist()
    return out


def _distinct(values: Sequence[object] | pd.Series, units: Sequence[object] | pd.Series
              ) -> tuple[np.ndarray, list[tuple[object, str | None]]]:
    """Codes of each row's (value, unit) and the distinct pairs."""
    codes, pairs = factorize_pairs(values, units)
    return codes, [(v, u or None) for v, u in pairs]  # type: ignore[misc]


def billable_increments(*, weight: Sequence[object] | pd.Series, weight_unit: Sequence[object] | pd.Series,
                        length: Sequence[object] | pd.Series, width: Sequence[object] | pd.Series,
                        height: Sequence[object] | pd.Series, dim_unit: Sequence[object] | pd.Series,
                        contract_weight_unit: str, contract_dim_unit: str, dim_divisor: Decimal,
                        weight_increment: Decimal, dim_rounding: str) -> tuple[np.ndarray, np.ndarray]:
    """The correct billable weight of each row as a whole number of increments (int64), and whether it
    can be judged (a weight, or all three dimensions). Equal to ``correct_billable_weight / increment``."""
    inc = Fraction(str(weight_increment))
    div = Fraction(str(dim_divisor))
    n = len(weight)
    codes, uniq = _distinct(weight, weight_unit)
    per = np.array([-1 if (f := _frac(v)) is None else math.ceil(convert_weight(f, u, contract_weight_unit) / inc)
                    for v, u in uniq], dtype=np.int64)
    k_act = per[codes] if n else np.zeros(0, dtype=np.int64)
    d = np.zeros((3, n), dtype=np.int64)
    for j, col in enumerate((length, width, height)):
        codes, uniq = _distinct(col, dim_unit)
        per = np.array([-1 if (f := _frac(v)) is None else round_dim(convert_dim(f, u, contract_dim_unit), dim_rounding)
                        for v, u in uniq], dtype=np.int64)
        d[j] = per[codes] if n else d[j]
    has_dims = (d >= 0).all(axis=0)
    step = div * inc                       # dim weight / increment = prod / step
    k_dim = np.full(n, -1, dtype=np.int64)
    if has_dims.any():
        dd = d[:, has_dims]
        if int(dd.max()) ** 3 * step.denominator < 2**62 and step.numerator < 2**62:   # int64 is exact
            k_dim[has_dims] = -((-(dd[0] * dd[1] * dd[2] * step.denominator)) // step.numerator)
        else:
            prod = dd[0].astype(object) * dd[1] * dd[2] * step.denominator
            k_dim[has_dims] = np.array([-(-int(x) // step.numerator) for x in prod], dtype=np.int64)
    k = np.maximum(k_act, k_dim)
    return k, k >= 0


def compare_billed(billed: Sequence[object] | pd.Series, unit: Sequence[object] | pd.Series, k: np.ndarray, *,
                   contract_weight_unit: str,
                   weight_increment: Decimal) -> np.ndarray:
    """Sign of (billed weight - correct weight) per row, the correct one being ``k`` increments; a billed
    weight in another unit is converted and rounded up to the increment first. 0 where none is billed."""
    inc = Fraction(str(weight_increment))
    codes, uniq = _distinct(billed, unit)
    fl = np.zeros(len(uniq), dtype=np.int64)
    exact = np.zeros(len(uniq), dtype=bool)
    has = np.zeros(len(uniq), dtype=bool)
    for i, (v, u) in enumerate(uniq):
        f = _frac(v)
        if f is None:
            continue
        has[i] = True
        if u and u != contract_weight_unit:
            fl[i], exact[i] = math.ceil(convert_weight(f, u, contract_weight_unit) / inc), True
        else:
            x = f / inc
            fl[i], exact[i] = math.floor(x), x.denominator == 1
    if not len(k):
        return np.zeros(0, dtype=np.int64)
    fl_r, ex_r, has_r = fl[codes], exact[codes], has[codes]
    out = np.where(ex_r, np.sign(fl_r - k), np.where(fl_r >= k, 1, -1))
    return np.where(has_r, out, 0).astype(np.int64)


def weight_text(k: int, weight_increment: Decimal) -> str:
    """k increments as a plain decimal text: 11, 10, 5.5, 0.3."""
    return format((Decimal(int(k)) * Decimal(weight_increment)).normalize(), "f")
