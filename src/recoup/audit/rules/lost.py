"""``lost``: no delivery and no news for ``claims.lost_after_days`` (or a lost scan), for a parcel the
carrier scanned; no final event. Value due, plus the shipping when the contract refunds it.
shared/spec/audits.md #lost, docs/rules/lost.md."""

from __future__ import annotations

import datetime as dt

import numpy as np

from recoup.audit.rules._service import _SPEC, NAT, d, event_at, evidence, others, value_amount, value_reason
from recoup.audit.rules._vector import _dates
from recoup.audit.rules.base import Facts, Judged, RuleInfo
from recoup.sla.contracts import Contract

INFO = RuleInfo(
    "lost", "no delivery and no news for claims.lost_after_days (or a lost scan): value due, plus the shipping "
    "when the contract refunds it", (f"{_SPEC} #lost", "domain.md §2 [R3][R57][R58][R64][R76]"),
    ("claims.lost_after_days", "claims.loss_window_days", "claims.loss_window_from", "claims.default_liability",
     "claims.liability_per_kg", "claims.value_claims_refund_shipping"), "docs/rules/lost.md")


def rule(contract: Contract, facts: Facts, as_of: dt.date) -> Judged:
    out = Judged(INFO.kind, on="ships")
    if not facts.n:
        return out
    k = contract.claims
    li = np.flatnonzero(facts.service_kind == "lost")
    out.rows, out.amounts = li, value_amount(facts)[li]
    out.reasons = [("lost: a lost scan" if facts.lost_event[i] else
                    f"lost: no delivery; last event on {day}, {k.lost_after_days} days or more before the audit date")
                   + f"; {value_reason(facts, i)}" for i, day in zip(li.tolist(), _dates(facts.last_day[li]), strict=True)]
    fi = facts.first_inv_day
    base = np.where(fi != NAT, fi, facts.ship_day) if k.loss_window_from == "invoice" \
        else facts.ship_day
    out.deadline = (base + k.loss_window_days)[li]
    out.evidence = [evidence(facts, i) for i in li.tolist()]
    for i in others(facts, li):
        r = int(facts.final_row[i])
        if r >= 0:
            v = f"no: {facts.e_status[r].replace('_', ' ')} on {event_at(facts, np.array([r]), np.array([i]))[0]}"
        elif not facts.carrier_scan[i]:
            v = "no: no carrier scan yet" + (" (a label only)" if facts.has_events[i] else " (no events)")
        elif facts.onset[i] != NAT:
            v = (f"no: last event on {d(facts.last_day[i])}; lost after {k.lost_after_days} days without news, "
                 f"from {d(facts.onset[i])}")
        else:
            v = "no"
        out.parcel_verdicts[i] = v
    return out
