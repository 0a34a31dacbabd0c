"""What missing_incentive, zone_mismatch and minimum_charge share: the correct billable weight of
transportation lines and a rate card's price for it, per line, vectorised (grouped by zone)."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pandas as pd

from recoup.audit.rules.base import Facts
from recoup.audit.weights import billable_increments, compare_billed
from recoup.sla.contracts import RateCard


def correct_weight(facts: Facts, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per line of ``facts.lines[rows]``: the correct billable weight in weight increments, whether the
    manifest gives one, and how the billed weight compares with it (-1 below, 0 equal or absent, 1 above)."""
    c = facts.contract
    ls = facts.lines
    part = facts.ships.iloc[ls.sid[rows]]
    k, ok = billable_increments(
        weight=part["weight"], weight_unit=part["weight_unit"], length=part["length"], width=part["width"],
        height=part["height"], dim_unit=part["dim_unit"], contract_weight_unit=c.weight_unit,
        contract_dim_unit=c.dim_unit, dim_divisor=c.dim_divisor, weight_increment=c.weight_increment,
        dim_rounding=c.dim_rounding)
    cmp = compare_billed(ls.frame["billed_weight"].iloc[rows], ls.frame["weight_unit"].iloc[rows], k,
                         contract_weight_unit=c.weight_unit, weight_increment=c.weight_increment)
    return np.asarray(k, dtype=np.int64), np.asarray(ok, dtype=bool), np.asarray(cmp)


def price(card: RateCard, zones: np.ndarray, k: np.ndarray, increment: Decimal) -> np.ndarray:
    """The card's price (cents) for each (zone, weight in increments); -1 where it has none."""
    out = np.full(len(k), -1, dtype=np.int64)
    if not len(k):
        return out
    inc = Fraction(str(increment))
    bounds = np.array([math.floor(Fraction(str(w)) / inc) for w in card.weights], dtype=np.int64)
    z_codes, z_u = _factorize(zones)
    for i, z in enumerate(z_u):
        col = card.zone_column(None if z is None else str(z))
        if col is None:
            continue
        m = z_codes == i
        band = np.searchsorted(bounds, k[m], side="left")
        cells = np.array([-1 if v is None else v for v in col] + [-1], dtype=np.int64)
        out[m] = cells[np.minimum(band, len(bounds))]
    return out


def _factorize(values: np.ndarray) -> tuple[np.ndarray, list[object]]:
    codes, uniq = pd.factorize(pd.Series(np.asarray(values, dtype=object), dtype=object), use_na_sentinel=False)
    return np.asarray(codes, dtype=np.int64), [None if u is None or u != u else u for u in uniq.tolist()]


def half_up_share(cents: np.ndarray, percent: Decimal) -> np.ndarray:
    """``percent`` % of each amount, rounded half-up to the cent, in integers."""
    t = percent.normalize().as_tuple()
    e = -int(t.exponent) if int(t.exponent) < 0 else 0
    num = int(percent.scaleb(e))
    denom = 100 * 10 ** e
    return (2 * np.asarray(cents, dtype=np.int64) * num + denom) // (2 * denom)


def same_zone(a: object, b: object) -> bool:
    """Zones compare as numbers when both are numeric (``004`` = ``4``), else as upper-case text."""
    x, y = str(a).strip().upper(), str(b).strip().upper()
    if x.isdigit() and y.isdigit():
        return int(x) == int(y)
    return x == y
