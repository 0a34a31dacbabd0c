"""``charge_correction``: a shipping charge correction (UPS ``ADJ``/``SCC``: the carrier re-weighed or
re-measured the parcel and billed more) whose corrected billed weight is above the correct billable
weight of the manifest's weight and dimensions plus the contract's ``[corrections] weight_tolerance``.

Amount: the correction line (what the correction added). A correction line without a billed weight,
or a parcel whose manifest has neither a weight nor all three dimensions, is not judged. When a rate
check (``dim_weight``/``rate_overcharge``) already claims the same line, it is not reported again.
docs/rules/charge_correction.md.
"""

from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction

import numpy as np

from recoup.audit.rules.base import Facts, Judged, RuleInfo
from recoup.audit.weights import billable_increments, compare_billed, weight_text
from recoup.money import fmt
from recoup.sla.contracts import Contract

INFO = RuleInfo(
    kind="charge_correction",
    description="a shipping charge correction whose corrected weight exceeds what the manifest's weight and "
                "dimensions justify (with the contract's tolerance)",
    sources=("domain.md §3 'Weight/dimension corrections' [R145] and 'Dimensional weight' [R112]",
             "docs/decisions.md 8d (UPS SCC rows: adjustment charge_correction)",
             "UPS Billing Data 'Shipping Charge Correction' (Charge Category Code ADJ, detail SCC)"),
    contract_keys=("corrections.weight_tolerance", "dim_divisor", "weight_increment", "dim_rounding",
                   "weight_unit", "dim_unit", "claims.dispute_window_days"),
    doc="docs/rules/charge_correction.md",
)
RATE_KINDS = {"dim_weight", "rate_overcharge"}


def rule(contract: Contract, facts: Facts, as_of: dt.date) -> Judged:
    ls = facts.lines
    out = Judged(INFO.kind)
    cand = np.flatnonzero((ls.adjustment == "charge_correction") & ls.reportable) if len(ls) else \
        np.zeros(0, dtype=np.int64)
    if not len(cand):
        return out
    c = contract
    part = facts.ships.iloc[ls.sid[cand]]
    k, ok = billable_increments(
        weight=part["weight"], weight_unit=part["weight_unit"], length=part["length"], width=part["width"],
        height=part["height"], dim_unit=part["dim_unit"], contract_weight_unit=c.weight_unit,
        contract_dim_unit=c.dim_unit, dim_divisor=c.dim_divisor, weight_increment=c.weight_increment,
        dim_rounding=c.dim_rounding)
    tol = math.floor(Fraction(str(c.correction_tolerance)) / Fraction(str(c.weight_increment)))
    bw = ls.frame["billed_weight"].iloc[cand]
    bu = ls.frame["weight_unit"].iloc[cand]
    has_bw = bw.notna().to_numpy() & (bw.astype(object) != "").to_numpy()
    cmp = compare_billed(bw, bu, k + tol, contract_weight_unit=c.weight_unit, weight_increment=c.weight_increment)
    ids = ls.id[cand]
    already = np.array([bool(facts.found_kinds.get(int(i), set()) & RATE_KINDS) for i in ids.tolist()], dtype=bool)
    hit = ok & has_bw & (cmp > 0) & ~already
    rows = cand[hit]
    out.rows, out.amounts = rows, ls.amount[rows].copy()
    bw_o = bw.to_numpy(dtype=object)
    out.reasons = [f"charge correction {fmt(int(ls.amount[j]))} to {bw_o[x]} {bu.iloc[x] or c.weight_unit}; the "
                   f"manifest justifies {weight_text(int(k[x]), c.weight_increment)} {c.weight_unit}"
                   + (f" (+ tolerance {c.correction_tolerance})" if tol else "")
                   for x, j in zip(np.flatnonzero(hit).tolist(), rows.tolist(), strict=True)]
    out.evidence = [{"billed_weight": str(bw_o[x]), "correct_weight": weight_text(int(k[x]), c.weight_increment)}
                    for x in np.flatnonzero(hit).tolist()]
    if facts.trace:
        for x, i in enumerate(ids.tolist()):
            cw = weight_text(int(k[x]), c.weight_increment) if ok[x] else None
            out.verdicts[int(i)] = (
                "not judged: the manifest has neither a weight nor all three dimensions" if not ok[x] else
                "not judged: the correction gives no billed weight" if not has_bw[x] else
                "no: a rate check already claims this line" if already[x] else
                (f"yes: corrected to {bw_o[x]}, the manifest justifies {cw} {c.weight_unit}" if hit[x] else
                 f"no: corrected to {bw_o[x]}, within the manifest's {cw} {c.weight_unit} + tolerance"))
    return out
