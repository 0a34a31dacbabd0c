"""The rating of billed transportation lines that dim_weight and rate_overcharge share (computed once
per contract, on the first of them to ask): each line's correct billable weight (actual or
dimensional, ``audit.weights``), how the billed weight compares with it, and the rate card's price at
it in the line's zone."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from recoup.audit.rules._vector import _str_col
from recoup.audit.rules.base import EMPTY_I, Facts, Judged
from recoup.audit.weights import (
    as_decimal,
    billable_increments,
    billed_weight_in,
    compare_billed,
    weight_text,
)
from recoup.money import fmt
from recoup.sla.contracts import Contract, RateCard


@dataclass
class Rated:
    """Per rated line (``rows``: positions in ``facts.lines``, reportable transportation lines whose
    service has a rate card): billable weight increments ``k`` (``ok``: the manifest has the measures),
    ``cmp`` (billed weight vs correct: -1 below, 0 equal, 1 above), ``price`` (cents, -1: unpriced),
    ``zone``; ``hit``: billed above the rate card's price; ``verdicts``: line id -> the rating in words."""

    rows: np.ndarray = field(default_factory=lambda: EMPTY_I)
    k: np.ndarray = field(default_factory=lambda: EMPTY_I)
    ok: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    cmp: np.ndarray = field(default_factory=lambda: EMPTY_I)
    price: np.ndarray = field(default_factory=lambda: EMPTY_I)
    zone: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    hit: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    verdicts: dict[int, str] = field(default_factory=dict)


def rated(facts: Facts) -> Rated:
    """The rating of ``facts``' lines, computed once (its warnings go to ``facts.warnings``)."""
    got = facts.shared.get("rating")
    if got is None:
        got = facts.shared["rating"] = _rate(facts)
    assert isinstance(got, Rated)
    return got


def verdict_for(kind: str, v: str) -> str:
    """The rating's words as the verdict of ``kind``: a "yes" of the other kind is a "no" of this one."""
    return "no: " + v.split(": ", 1)[1] if v.startswith("yes") and kind not in v else v


def priced_findings(out: Judged, facts: Facts, contract: Contract, r: Rated, h: np.ndarray) -> Judged:
    """``out`` with the rated lines ``h`` (indexes into ``r``) as findings: the amount above the rate
    card's price at the correct billable weight, and the reason dim_weight and rate_overcharge both word."""
    if not len(h):
        return out
    ls, c = facts.lines, contract
    rows = r.rows[h]
    out.rows, out.amounts = rows, ls.amount[rows] - r.price[h]
    billed_w = _str_col(ls.frame["billed_weight"])[rows]
    billed_u = _str_col(ls.frame["weight_unit"])[rows]
    for x, j, bw, bu in zip(h.tolist(), rows.tolist(), billed_w, billed_u, strict=True):
        cw = weight_text(int(r.k[x]), c.weight_increment)
        got = billed_weight_in(bw, bu, c.weight_unit, c.weight_increment)
        shown = cw if got is None else format(as_decimal(got).normalize(), "f")
        out.reasons.append(f"billed {shown} {c.weight_unit}, correct billable weight {cw}: "
                           f"{fmt(int(ls.amount[j]))} vs rate card {fmt(int(r.price[x]))} (zone {r.zone[x]})")
        out.evidence.append({"correct_weight": cw, "rate": fmt(int(r.price[x]))})
    return out


def _rate(facts: Facts) -> Rated:
    c = facts.contract
    ls = facts.lines
    warnings = facts.warnings
    rated_cards = {code: s.rates for code, s in c.services.items() if s.rates is not None}
    svc = facts.svc
    tm = (ls.type == "transportation") & ls.reportable if len(ls) else np.zeros(0, dtype=bool)
    if not tm.any():
        return Rated()
    with_card = np.isin(svc[ls.sid], list(rated_cards))
    ti = np.flatnonzero(tm & with_card)
    out = Rated(rows=ti)
    if facts.trace:
        for j in np.flatnonzero(tm & ~with_card).tolist():
            out.verdicts[int(ls.id[j])] = f"not judged: no rate card for service {svc[ls.sid[j]]}"
    if not len(ti):
        return out
    si = ls.sid[ti]
    part = facts.ships.iloc[si]
    k, ok = billable_increments(
        weight=part["weight"], weight_unit=part["weight_unit"], length=part["length"], width=part["width"],
        height=part["height"], dim_unit=part["dim_unit"],
        contract_weight_unit=c.weight_unit, contract_dim_unit=c.dim_unit, dim_divisor=c.dim_divisor,
        weight_increment=c.weight_increment, dim_rounding=c.dim_rounding)
    b = ls.frame
    cmp = compare_billed(b["billed_weight"].iloc[ti], b["weight_unit"].iloc[ti], k,
                         contract_weight_unit=c.weight_unit, weight_increment=c.weight_increment)
    judged = ok & (cmp >= 0)             # billed below the correct weight: not judged
    zones = _str_col(b["zone"])[ti]
    price = np.full(len(ti), -1, dtype=np.int64)
    inc = Fraction(str(c.weight_increment))
    groups = pd.DataFrame({"svc": svc[si], "zone": np.where(zones == None, "\x00", zones)})  # noqa: E711
    for key, grp in groups[judged].groupby(["svc", "zone"], sort=True).groups.items():
        pair: tuple[Any, Any] = tuple(key)  # type: ignore[arg-type,assignment]
        svc_code, zone_v = pair
        card = rated_cards[str(svc_code)]
        rows_j: np.ndarray = np.asarray(grp)
        z = None if zone_v == "\x00" else str(zone_v)
        col = card.zone_column(z)
        kk = k[rows_j]
        if col is None:
            warnings[unpriced(c, card, z, Decimal(0))] += len(rows_j)
            continue
        bounds = np.array([math.floor(Fraction(str(w)) / inc) for w in card.weights], dtype=np.int64)
        band = np.searchsorted(bounds, kk, side="left")
        cells = np.array([-1 if v is None else v for v in col] + [-1], dtype=np.int64)
        p = cells[np.minimum(band, len(bounds))]
        for kb in np.unique(kk[p < 0]).tolist():
            warnings[unpriced(c, card, z, Decimal(kb) * c.weight_increment)] += int((kk[p < 0] == kb).sum())
        price[rows_j] = p
    ba = ls.amount[ti]
    hit = judged & (price >= 0) & (ba - price >= 1)
    out.k, out.ok, out.cmp, out.price, out.zone, out.hit = k, ok, cmp, price, zones, hit
    if facts.trace:
        for x in range(len(ti)):
            cw = weight_text(int(k[x]), c.weight_increment) if ok[x] else None
            if not ok[x]:
                v = "not judged: the manifest has neither a weight nor all three dimensions"
            elif cmp[x] < 0:
                v = f"not judged: billed below the correct billable weight {cw} {c.weight_unit}"
            elif price[x] < 0:
                v = "not judged: " + unpriced(c, rated_cards[svc[si[x]]], zones[x],
                                              Decimal(int(k[x])) * c.weight_increment)
            elif hit[x]:
                v = (f"yes ({'dim_weight' if cmp[x] > 0 else 'rate_overcharge'}): {fmt(int(ba[x]))} vs "
                     f"rate card {fmt(int(price[x]))} at {cw} {c.weight_unit} (zone {zones[x]})")
            else:
                v = (f"no: {fmt(int(ba[x]))} is not above the rate card's {fmt(int(price[x]))} at {cw} "
                     f"{c.weight_unit} (zone {zones[x]})")
            out.verdicts[int(ls.id[ti[x]])] = v
    return out


def unpriced(c: Contract, card: RateCard, zone: str | None, weight: Decimal) -> str:
    """The cause a rate card cannot price a line: one warning per cause (contracts.md)."""
    where = f"{c.carrier}: rate card {card.path.name}"
    if card.zone_column(zone) is None:
        return f"{where}: no column for zone {zone}: not judged"
    if not card.weights or weight > card.weights[-1]:
        last = card.weights[-1] if card.weights else 0
        return f"{where}: weights above {last} {c.weight_unit} are beyond the last row: not judged"
    return f"{where}: no price in zone {zone} at {weight} {c.weight_unit}: not judged"
