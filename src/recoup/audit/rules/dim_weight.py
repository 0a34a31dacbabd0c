"""``dim_weight``: transportation billed at a weight above the correct billable weight (actual or
dimensional, the manifest's measures in the contract's units): the difference to the rate card's price at
the correct weight. The rating is shared with the other of dim_weight / rate_overcharge
(``_rating``). shared/spec/audits.md #billing-findings, docs/rules/dim_weight.md."""

from __future__ import annotations

import datetime as dt

import numpy as np

from recoup.audit.rules._rating import rated, verdict_for
from recoup.audit.rules._service import _SPEC
from recoup.audit.rules._vector import _str_col
from recoup.audit.rules.base import Facts, Judged, RuleInfo
from recoup.audit.weights import as_decimal, billed_weight_in, weight_text
from recoup.money import fmt
from recoup.sla.contracts import Contract

INFO = RuleInfo(
    "dim_weight", "transportation billed at a weight above the correct billable (dimensional) weight",
    (f"{_SPEC} #billing-findings", "domain.md §3 'Dimensional weight' [R109][R112]"),
    ("dim_divisor", "weight_increment", "dim_rounding", "weight_unit", "dim_unit", "services.rates",
     "claims.dispute_window_days"), "docs/rules/dim_weight.md")


def rule(contract: Contract, facts: Facts, as_of: dt.date) -> Judged:
    out = Judged(INFO.kind, window_note=False)   # audits.md: the reason does not say the window closed
    r = rated(facts)
    if facts.trace:
        out.verdicts = {i: verdict_for(INFO.kind, v) for i, v in r.verdicts.items()}
    h = np.flatnonzero(r.hit)
    h = h[r.cmp[h] > 0]
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
