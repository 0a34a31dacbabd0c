"""``declared_value``: a declared value charge on a parcel that declared no value above the free cover,
or billed above the contract's fee for the value declared.

Free cover: ``[surcharges.declared_value] free_up_to`` (default: ``claims.default_liability``, the
carrier's liability without a declaration). The fee, when ``per_100`` is set: ``per_100`` for each
100.00 (or part) declared above the free cover, at least ``minimum``. A manifest without a
``declared_value`` (empty, not 0) is not judged. docs/rules/declared_value.md.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from recoup.audit.rules.base import Facts, Judged, RuleInfo
from recoup.money import fmt
from recoup.sla.contracts import Contract

INFO = RuleInfo(
    kind="declared_value",
    description="a declared value charge with no value declared above the free cover, or above the contract's fee",
    sources=("domain.md §3 'Declared value charges' [R139][R140] (fee about $1 per $100 above $100, DATED)",
             "domain.md §2.1 [R52] UPS Pressroom 'Declared Value Q&A' ($100 liability without a declaration)",
             "domain.md §2.2 [R63][R64] (FedEx $100 default liability)"),
    contract_keys=("surcharges.declared_value.free_up_to", "surcharges.declared_value.per_100",
                   "surcharges.declared_value.minimum", "claims.default_liability", "claims.dispute_window_days"),
    doc="docs/rules/declared_value.md",
)


def rule(contract: Contract, facts: Facts, as_of: dt.date) -> Judged:
    ls = facts.lines
    out = Judged(INFO.kind)
    cand = np.flatnonzero((ls.type == "declared_value") & ls.reportable) if len(ls) else np.zeros(0, dtype=np.int64)
    if not len(cand):
        return out
    fee = contract.declared_value_fee
    free = fee.free_up_to_cents if fee is not None else contract.claims.default_liability_cents
    dv = pd.to_numeric(facts.ships["declared_value_cents"], errors="coerce").to_numpy(dtype="float64")
    decl_f = dv[ls.sid[cand]]
    known = ~np.isnan(decl_f)
    decl = np.where(known, decl_f, 0).astype(np.int64)     # cents, exact (integers below 2**53)
    amt = ls.amount[cand]
    under = known & (decl <= free)
    expected = np.full(len(cand), -1, dtype=np.int64)
    if fee is not None and fee.per_100_cents is not None:
        above = np.maximum(decl - free, 0)
        units = -(-above // 10_000)
        expected = np.where(known & ~under, np.maximum(units * fee.per_100_cents, fee.minimum_cents), -1)
    over = (expected >= 0) & (amt - expected >= 1)
    hit = under | over
    rows = cand[hit]
    out.rows = rows
    out.amounts = np.where(under, amt, amt - expected)[hit]
    reasons, verdicts = [], {}
    for x, j in enumerate(cand.tolist()):
        d = int(decl[x])
        if not known[x]:
            v = "not judged: the manifest does not give a declared value"
        elif under[x]:
            v = (f"yes: declared value charge {fmt(int(amt[x]))} with "
                 + ("no value declared" if d == 0 else f"{fmt(d)} declared") + f", within the free cover {fmt(free)}")
        elif expected[x] < 0:
            v = f"no: {fmt(d)} declared, above the free cover {fmt(free)} (the contract sets no fee to compare)"
        else:
            v = (("yes: " if over[x] else "no: ") + f"declared value charge {fmt(int(amt[x]))} for {fmt(d)} declared; "
                 f"the contract's fee is {fmt(int(expected[x]))}")
        if hit[x]:
            reasons.append(v[5:])
        verdicts[int(ls.id[j])] = v
    out.reasons = reasons
    out.evidence = [{"declared_value": fmt(int(d)), "free_cover": fmt(free)} for d in decl[hit].tolist()]
    if facts.trace:
        out.verdicts = verdicts
    return out
