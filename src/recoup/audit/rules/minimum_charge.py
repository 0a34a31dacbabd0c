"""``minimum_charge``: a minimum charge (a line whose description names a minimum) applied where the
parcel's computed transportation is already at or above the contract's minimum, or topping up above it.

The contract's minimum net transportation charge is ``[[services]] minimum_charge`` of the manifest's
service. The computed charge is the parcel's other transportation lines on the same invoice (the
minimum line excluded). Due: ``max(0, minimum - computed)``; the finding is the line less what is due.
A service without ``minimum_charge`` is not judged. docs/rules/minimum_charge.md.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from recoup.audit.rules.base import Facts, Judged, RuleInfo, candidates, described
from recoup.money import fmt
from recoup.sla.contracts import Contract

INFO = RuleInfo(
    kind="minimum_charge",
    description="a minimum charge applied where the computed transportation is at or above the contract's "
                "minimum, or above the minimum",
    sources=("UPS/FedEx agreements: 'minimum net charge' per service (the incentive may not take the net price "
             "below it); UPS Rate and Service Guide, 'Minimum Charges'",
             "domain.md §3 'Wrong zone / rate / discount' [R102][R138]"),
    contract_keys=("services.minimum_charge", "claims.dispute_window_days"),
    doc="docs/rules/minimum_charge.md",
)
PATTERN = r"\bminimum\b"


def rule(contract: Contract, facts: Facts, as_of: dt.date) -> Judged:
    ls = facts.lines
    out = Judged(INFO.kind)
    mins = {code: s.minimum_charge_cents for code, s in contract.services.items() if s.minimum_charge_cents is not None}
    if not len(ls):
        return out
    is_min = described(ls, PATTERN) & np.isin(ls.type, ("transportation", "other"))
    cand = candidates(ls, is_min)
    if not len(cand):
        return out
    svc = facts.svc[ls.sid[cand]]
    minimum = np.array([mins.get(str(s), -1) for s in pd.unique(svc).tolist()], dtype=np.int64)[
        pd.Index(pd.unique(svc)).get_indexer(svc)]
    # the computed charge: the parcel's other transportation lines on the same invoice
    t = np.flatnonzero((ls.type == "transportation") & ~is_min)
    base_of = pd.Series(ls.amount[t]).groupby([ls.sid[t], ls.invoice[t]]).sum()
    key = pd.MultiIndex.from_arrays([ls.sid[cand], ls.invoice[cand]])
    pos = base_of.index.get_indexer(key) if len(base_of) else np.full(len(cand), -1)
    base = np.where(pos >= 0, base_of.to_numpy(dtype=np.int64)[np.maximum(pos, 0)], 0) if len(base_of) else \
        np.zeros(len(cand), dtype=np.int64)
    due = np.maximum(minimum - base, 0)
    amt = ls.amount[cand]
    judged = minimum >= 0
    hit = judged & (amt - due >= 1)
    rows = cand[hit]
    out.rows, out.amounts = rows, (amt - due)[hit]
    why = []
    for x in range(len(cand)):
        if not judged[x]:
            why.append(f"not judged: the contract sets no minimum_charge for service {svc[x]}")
            continue
        head = (f"minimum charge {fmt(int(amt[x]))}; transportation {fmt(int(base[x]))} on the invoice, contract "
                f"minimum {fmt(int(minimum[x]))}, due {fmt(int(due[x]))}")
        why.append(("yes: " if hit[x] else "no: ") + head)
    out.reasons = [w[5:] for w, h in zip(why, hit.tolist(), strict=True) if h]
    out.evidence = [{"computed": fmt(int(b)), "minimum": fmt(int(m))}
                    for b, m in zip(base[hit].tolist(), minimum[hit].tolist(), strict=True)]
    if facts.trace:
        out.verdicts = {int(ls.id[j]): w for j, w in zip(cand.tolist(), why, strict=True)}
    return out
