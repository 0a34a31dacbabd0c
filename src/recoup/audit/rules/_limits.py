"""What additional_handling and large_package share: a billed surcharge for a parcel whose manifest
measures are all within the carrier's published thresholds (``PackageLimits`` in the contract)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np

from recoup.audit.rules.base import Facts, Judged, measures
from recoup.money import fmt
from recoup.sla.contracts import PackageLimits


def judge(kind: str, charge_type: str, limits: PackageLimits | None, facts: Facts) -> Judged:
    ls = facts.lines
    out = Judged(kind)
    cand = np.flatnonzero((ls.type == charge_type) & ls.reportable) if len(ls) else np.zeros(0, dtype=np.int64)
    if not len(cand):
        return out
    if limits is None:
        if facts.trace:
            out.verdicts = {int(ls.id[j]): f"not judged: the contract has no [surcharges.{kind}] thresholds"
                            for j in cand.tolist()}
        return out
    c = facts.contract
    m = measures(facts, ls.sid[cand])
    need_dims = any(x is not None for x in (limits.longest, limits.second_longest, limits.length_plus_girth))
    hit = np.zeros(len(cand), dtype=bool)
    why: list[str] = []
    for x in range(len(cand)):
        d = m.dims[x]
        w = m.weight[x]
        over: list[str] = []
        missing = (need_dims and d[0] < 0) or (limits.weight is not None and w is None)
        if not missing:
            if limits.longest is not None and d[0] > limits.longest:
                over.append(f"longest side {d[0]} {c.dim_unit} > {limits.longest}")
            if limits.second_longest is not None and d[1] > limits.second_longest:
                over.append(f"second-longest side {d[1]} {c.dim_unit} > {limits.second_longest}")
            if limits.length_plus_girth is not None and int(m.girth[x]) > limits.length_plus_girth:
                over.append(f"length + girth {int(m.girth[x])} {c.dim_unit} > {limits.length_plus_girth}")
            if limits.weight is not None and w is not None and w > Fraction(str(limits.weight)):
                over.append(f"weight {_num(w)} {c.weight_unit} > {limits.weight}")
        shown = (f"{d[0]}x{d[1]}x{d[2]} {c.dim_unit}" if d[0] >= 0 else "no dimensions") + (
            f", {_num(w)} {c.weight_unit}" if w is not None else ", no weight")
        if missing:
            why.append(f"not judged: the manifest lacks a measure the thresholds need ({shown})")
        elif over:
            why.append(f"no: {'; '.join(over)}")
        else:
            hit[x] = True
            why.append(f"yes: the manifest's {shown} is within every threshold")
    rows = cand[hit]
    out.rows, out.amounts = rows, ls.amount[rows].copy()
    out.reasons = [f"{kind.replace('_', ' ')} {fmt(int(ls.amount[j]))} billed; {w_[5:]}"
                   for j, w_ in zip(rows.tolist(), [w for w, h in zip(why, hit.tolist(), strict=True) if h],
                                    strict=True)]
    out.evidence = [{"dims": [int(v) for v in m.dims[x]], "weight": None if m.weight[x] is None else _num(m.weight[x])}
                    for x in np.flatnonzero(hit).tolist()]
    if facts.trace:
        out.verdicts = {int(ls.id[j]): w for j, w in zip(cand.tolist(), why, strict=True)}
    return out


def _num(f: Fraction) -> str:
    """A weight for people: exact when whole, else to 3 decimals (no float)."""
    if f.denominator == 1:
        return str(f.numerator)
    d = (Decimal(f.numerator) / Decimal(f.denominator)).quantize(Decimal("0.001"))
    return format(d.normalize(), "f")
