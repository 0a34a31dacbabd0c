"""``peak_surcharge``: a demand/peak surcharge billed for a parcel shipped outside every peak period the
contract accepts for its service, or above the period's rate.

Lines: positive lines (not transportation, fuel or credits) whose description names a peak or demand
surcharge. Periods: ``[[surcharges.peak]]`` (ship dates ``from``..``to`` inclusive, ``services``,
``max`` per parcel). A contract without ``[[surcharges.peak]]`` says nothing about peak surcharges:
not judged. docs/rules/peak_surcharge.md.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from recoup.audit.rules.base import Facts, Judged, RuleInfo, candidates, day_text, described
from recoup.audit.weights import factorize_pairs
from recoup.money import fmt
from recoup.sla.contracts import Contract

INFO = RuleInfo(
    kind="peak_surcharge",
    description="a demand/peak surcharge billed outside the contract's peak periods for the service, or above "
                "the period's rate",
    sources=("UPS 'Demand Surcharges' (ups.com/us/en/support/shipping-support/shipping-costs-rates/"
             "demand-surcharges.page): dated periods and rates per service",
             "FedEx 'Demand Surcharges' (fedex.com/en-us/shipping/demand-surcharge.html)",
             "DHL Express 'Demand Surcharge' (NX) on the surcharges page; domain.md §1 'Peak example' [R16]"),
    contract_keys=("surcharges.peak.from", "surcharges.peak.to", "surcharges.peak.services", "surcharges.peak.max",
                   "claims.dispute_window_days"),
    doc="docs/rules/peak_surcharge.md",
)
PATTERN = r"\b(?:peak|demand)\b"
NOT_PEAK = ("transportation", "fuel", "credit")


def rule(contract: Contract, facts: Facts, as_of: dt.date) -> Judged:
    ls = facts.lines
    out = Judged(INFO.kind)
    if not len(ls):
        return out
    cand = candidates(ls, described(ls, PATTERN) & ~np.isin(ls.type, NOT_PEAK))
    if not len(cand):
        return out
    if contract.peak is None:
        if facts.trace:
            out.verdicts = {int(ls.id[j]): "not judged: the contract has no [[surcharges.peak]] periods"
                            for j in cand.tolist()}
        return out
    sid = ls.sid[cand]
    codes, pairs = factorize_pairs(facts.svc[sid], facts.ship_day[sid])
    # per distinct (service, ship date): -2 no period covers it, -1 a period with no rate, else the rate
    cap = np.full(len(pairs), -2, dtype=np.int64)
    for k, (svc, day) in enumerate(pairs):
        d = dt.date(1970, 1, 1) + dt.timedelta(days=int(day))
        rates = [p.max_cents for p in contract.peak if p.covers(str(svc), d)]
        if rates:
            cap[k] = -1 if any(r is None for r in rates) else max(r for r in rates if r is not None)
    c = cap[codes]
    amt = ls.amount[cand]
    outside = c == -2
    above = (c >= 0) & (amt - c >= 1)
    hit = outside | above
    out.rows = cand[hit]
    out.amounts = np.where(outside, amt, amt - np.maximum(c, 0))[hit]
    ship = facts.ship_day[sid]
    svc = facts.svc[sid]
    why = []
    for x in range(len(cand)):
        head = f"peak surcharge {fmt(int(amt[x]))} on a {svc[x]} parcel shipped {day_text(int(ship[x]))}"
        if outside[x]:
            why.append(f"yes: {head}, outside every peak period of the contract")
        elif above[x]:
            why.append(f"yes: {head}, above the period's rate {fmt(int(c[x]))}")
        elif c[x] == -1:
            why.append(f"no: {head}, in a peak period (the contract sets no rate)")
        else:
            why.append(f"no: {head}, in a peak period at its rate {fmt(int(c[x]))} or less")
    out.reasons = [w[5:] for w, h in zip(why, hit.tolist(), strict=True) if h]
    out.evidence = [{"ship_date": day_text(int(d)), "rate": None if cc < 0 else fmt(int(cc))}
                    for d, cc in zip(ship[hit].tolist(), c[hit].tolist(), strict=True)]
    if facts.trace:
        out.verdicts = {int(ls.id[j]): w for j, w in zip(cand.tolist(), why, strict=True)}
    return out
