"""``signature``: a signature charge for a parcel whose manifest asked for no signature, or billed above
the contract's fee for the signature option the manifest asked for.

The manifest's optional ``signature`` column (``none``, ``direct``, ``adult``; empty: not judged, the
manifest does not say). Fees: ``[surcharges.signature] direct``/``adult`` (optional; without one only
"none asked" is judged). docs/rules/signature.md.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from recoup.audit.rules._vector import _str_col
from recoup.audit.rules.base import Facts, Judged, RuleInfo, candidates
from recoup.money import fmt
from recoup.sla.contracts import Contract

INFO = RuleInfo(
    kind="signature",
    description="a signature charge (direct/adult) on a parcel whose manifest asked for none, or above the "
                "contract's fee for the option asked",
    sources=("domain.md §3 'Saturday delivery / other accessorials' (signature fees: billed accessorial with no "
             "matching manifest option)",
             "UPS Rate and Service Guide 'Delivery Confirmation Signature Required / Adult Signature Required'",
             "FedEx Service Guide 'Signature options' (Indirect, Direct, Adult)"),
    contract_keys=("surcharges.signature.direct", "surcharges.signature.adult", "claims.dispute_window_days"),
    doc="docs/rules/signature.md",
)


def rule(contract: Contract, facts: Facts, as_of: dt.date) -> Judged:
    ls = facts.lines
    out = Judged(INFO.kind)
    cand = candidates(ls, ls.type == "signature")
    if not len(cand):
        return out
    asked_all = (_str_col(facts.ships["signature"]) if "signature" in facts.ships
                 else np.full(facts.n, None, dtype=object))
    asked = asked_all[ls.sid[cand]]
    asked = np.where(asked == None, "", asked).astype(object)   # noqa: E711
    amt = ls.amount[cand]
    fee = np.array([contract.signature_fees.get(str(a), -1) for a in ("direct", "adult")], dtype=np.int64)
    exp = np.where(asked == "direct", fee[0], np.where(asked == "adult", fee[1], -1))
    none = asked == "none"
    over = (exp >= 0) & (amt - exp >= 1)
    hit = none | over
    rows = cand[hit]
    out.rows, out.amounts = rows, np.where(none, amt, amt - np.maximum(exp, 0))[hit]
    why = []
    for x in (range(len(cand)) if facts.trace else np.flatnonzero(hit).tolist()):
        a = asked[x]
        why.append(
            (x, "not judged: the manifest does not say which signature option was bought") if a == "" else
            (x, f"yes: signature {fmt(int(amt[x]))} billed; the manifest asked for no signature") if none[x] else
            (x, f"yes: signature {fmt(int(amt[x]))} billed; the contract's {a} signature fee is {fmt(int(exp[x]))}")
            if over[x] else
            (x, f"no: the manifest asked for a {a} signature" + (
                f" (the contract's fee {fmt(int(exp[x]))})" if exp[x] >= 0 else "")))
    out.reasons = [w[5:] for x, w in why if hit[x]]
    out.evidence = [{"manifest_signature": str(a)} for a in asked[hit].tolist()]
    if facts.trace:
        out.verdicts = {int(ls.id[cand[x]]): w for x, w in why}
    return out
