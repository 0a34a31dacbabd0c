"""``damaged``: a damaged event or a damage exception (lost comes first). Value due, plus the shipping
when the contract refunds it. shared/spec/audits.md #damaged, docs/rules/damaged.md."""

from __future__ import annotations

import datetime as dt

import numpy as np

from recoup.audit.rules._service import _SPEC, NAT, d, evidence, others, value_amount, value_reason
from recoup.audit.rules._vector import _dates
from recoup.audit.rules.base import Facts, Judged, RuleInfo
from recoup.sla.contracts import Contract

INFO = RuleInfo(
    "damaged", "a damaged event or a damage exception: value due, plus the shipping when refunded",
    (f"{_SPEC} #damaged", "domain.md §2 [R58][R64]"),
    ("claims.damage_window_days", "claims.damage_window_from", "claims.default_liability",
     "claims.liability_per_kg", "claims.value_claims_refund_shipping"), "docs/rules/damaged.md")


def rule(contract: Contract, facts: Facts, as_of: dt.date) -> Judged:
    out = Judged(INFO.kind, on="ships")
    if not facts.n:
        return out
    k = contract.claims
    di = np.flatnonzero(facts.service_kind == "damaged")
    base = np.where(facts.delivered, facts.deliv_day, facts.dmg_day)
    if k.damage_window_from == "ship":
        base = facts.ship_day
    elif k.damage_window_from == "invoice":
        base = np.where(facts.first_inv_day != NAT, facts.first_inv_day, base)
    out.rows, out.amounts, out.deadline = di, value_amount(facts)[di], (base + k.damage_window_days)[di]
    out.reasons = [f"damaged ({facts.e_status[facts.dmg_row[i]]} event on {day}); {value_reason(facts, i)}"
                   for i, day in zip(di.tolist(), _dates(facts.dmg_day[di]), strict=True)]
    out.evidence = [evidence(facts, i) for i in di.tolist()]
    for i in others(facts, di):
        r = int(facts.dmg_row[i])
        out.parcel_verdicts[i] = (f"no: lost comes first (a {facts.e_status[r]} event on {d(facts.dmg_day[i])})"
                                  if r >= 0 and facts.service_kind[i] == "lost"
                                  else "no: no damaged event and no exception for damage")
    return out
