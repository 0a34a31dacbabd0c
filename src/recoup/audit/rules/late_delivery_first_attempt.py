"""``late_delivery_first_attempt``: for a service whose contract says a first delivery attempt by the
deadline meets the guarantee (``[[services]] first_attempt_meets_guarantee``, e.g. USPS Priority Mail
Express: "delivered or attempted"), a parcel delivered after its deadline whose first attempt, by the
deadline, failed for a carrier-caused reason (``claims.carrier_caused_reasons``) is late; a
customer-caused (or unexplained) missed attempt meets the guarantee.

Where ``late_delivery`` already claims the parcel (claimable) this rule is silent. It finds what
``late_delivery`` leaves unclaimable because a customer exception came *after* the carrier's missed
attempt had already broken the guarantee (``late_delivery`` excludes on any excluded exception before
the delivery). The late_delivery deadline and refunded charge types apply: one finding per refunded
line (``claims.late_refund_charges``), deadline ``claims.late_window_days`` after ``late_window_from``.
docs/rules/late_delivery_first_attempt.md.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from recoup.audit.rules._vector import NAT, _first_per, _take
from recoup.audit.rules.base import Facts, Judged, RuleInfo
from recoup.money import fmt
from recoup.sla.contracts import Contract

INFO = RuleInfo(
    kind="late_delivery_first_attempt",
    description="a guaranteed service met by a first attempt: delivered late after a carrier-caused missed first "
                "attempt (late_delivery left it unclaimable)",
    sources=("domain.md §1 USPS Priority Mail Express [R30][R31][R32] (refund if not delivered *or attempted* "
             "by the guaranteed time)",
             "USPS DMM 113 / 604.9 'Priority Mail Express refunds': pe.usps.com/text/dmm300/604.htm",
             "shared/spec/audits.md #late_delivery (deadline, refunded charges, window)"),
    contract_keys=("services.first_attempt_meets_guarantee", "claims.carrier_caused_reasons",
                   "claims.late_refund_charges", "claims.late_window_days", "claims.late_window_from",
                   "gsr_suspensions"),
    doc="docs/rules/late_delivery_first_attempt.md",
)


def rule(contract: Contract, facts: Facts, as_of: dt.date) -> Judged:
    ls = facts.lines
    out = Judged(INFO.kind)
    svcs = [code for code, s in contract.services.items() if s.first_attempt_meets_guarantee and s.guaranteed]
    if not len(ls) or not svcs or not len(facts.deadline_ns):
        return out
    sid_l = ls.sid
    late = (facts.deadline_ns != NAT) & facts.delivered & (facts.deliv_ns > facts.deadline_ns)
    late &= np.isin(facts.svc, svcs) & (facts.service_kind != "lost") & (facts.service_kind != "damaged") & (
        facts.service_kind != "void_label")
    cand = np.flatnonzero(ls.reportable & late[sid_l] & np.isin(ls.type, list(contract.claims.late_refund_charges)))
    if not len(cand):
        return out
    n = facts.n
    att = np.flatnonzero(facts.e_status == "delivery_attempted")
    first = _take(att, _first_per(facts.e_sid[att], n), -1)
    sid = sid_l[cand]
    a_row = first[sid]
    has = a_row >= 0
    a_ns = np.where(has, facts.e_occ[np.maximum(a_row, 0)], NAT) if len(facts.e_occ) else np.full(len(sid), NAT)
    a_reason = np.where(has, facts.e_reason[np.maximum(a_row, 0)] if len(facts.e_reason) else None, None)
    in_time = has & (a_ns <= facts.deadline_ns[sid])
    carrier = in_time & np.isin(a_reason, list(contract.carrier_caused_reasons))
    rows = cand[carrier]
    out.rows, out.amounts = rows, ls.amount[rows].copy()
    out.deadline = facts.late_file_by[sid[carrier]]
    ship = facts.ship_day[sid[carrier]]
    susp = [contract.suspended(str(s_), dt.date(1970, 1, 1) + dt.timedelta(days=int(d)))
            for s_, d in zip(facts.svc[sid[carrier]].tolist(), ship.tolist(), strict=True)]
    out.not_claimable = [None if sp is None else f"guarantee suspended {sp.start}..{sp.end}" for sp in susp]
    out.reasons = [f"{ls.type[j]} {fmt(int(ls.amount[j]))} refundable: delivered after the deadline; the first "
                   f"attempt by the deadline failed for a carrier-caused reason ('{r}')"
                   for j, r in zip(rows.tolist(), a_reason[carrier].tolist(), strict=True)]
    out.evidence = [{"attempt_reason": str(r)} for r in a_reason[carrier].tolist()]
    if facts.trace:
        for x, j in enumerate(cand.tolist()):
            out.verdicts[int(ls.id[j])] = (
                f"yes: delivered late; the first attempt by the deadline failed for '{a_reason[x]}' (carrier-caused)"
                if carrier[x] else
                "no: no delivery attempt by the deadline (late_delivery judges it)" if not in_time[x] else
                f"no: the first attempt by the deadline ('{a_reason[x]}') meets the guarantee")
    return out
