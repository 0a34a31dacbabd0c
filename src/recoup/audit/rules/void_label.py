"""``void_label``: billed, but never scanned by the carrier ``claims.void_after_days`` after the ship
date (lost and damaged come first): the billed charges back. shared/spec/audits.md #void_label,
docs/rules/void_label.md."""

from __future__ import annotations

import datetime as dt

import numpy as np

from recoup.audit.rules._service import _SPEC, d, evidence, others
from recoup.audit.rules._vector import _dates
from recoup.audit.rules.base import Facts, Judged, RuleInfo
from recoup.money import fmt
from recoup.sla.contracts import Contract

INFO = RuleInfo(
    "void_label", "billed, but never scanned by the carrier claims.void_after_days after the ship date",
    (f"{_SPEC} #void_label", "domain.md §3 'Manifested but not shipped' [R104][R106]"),
    ("claims.void_after_days", "claims.dispute_window_days"), "docs/rules/void_label.md")


def rule(contract: Contract, facts: Facts, as_of: dt.date) -> Judged:
    out = Judged(INFO.kind, on="ships")
    if not facts.n:
        return out
    k = contract.claims
    vi = np.flatnonzero(facts.service_kind == "void_label")
    bsum = facts.billed_cents
    out.rows, out.amounts = vi, bsum[vi]
    out.deadline = facts.first_inv_day[vi] + k.dispute_window_days
    out.reasons = [f"billed {fmt(int(bsum[i]))} but no carrier scan since the ship date {day} "
                   f"(void after {k.void_after_days} days)" for i, day in zip(vi.tolist(), _dates(facts.ship_day[vi]),
                                                                              strict=True)]
    out.evidence = [evidence(facts, i) for i in vi.tolist()]
    for i in others(facts, vi):
        other = facts.service_kind[i]
        out.parcel_verdicts[i] = (
            "no: not billed" if not facts.billed[i] else
            "no: it has carrier scans" if facts.carrier_scan[i] else
            f"no: {other} comes first" if other in ("lost", "damaged") else
            f"no: billed, no carrier scan yet; void from {d(facts.onset[i])} ({k.void_after_days} days after "
            f"the ship date {d(facts.ship_day[i])})")
    return out
