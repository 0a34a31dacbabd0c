"""``unmanifested_charge``: a charge for a tracking number no shipments manifest names.

Either the merchant's manifest has not been loaded yet, someone else shipped on the account, or the
carrier billed the wrong account. recoup cannot tell which, so the finding is never claimable: it is
reported for a person (who disputes it in the carrier's billing centre, or loads the missing
manifest, which withdraws the finding). docs/rules/unmanifested_charge.md.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from recoup.audit.rules.base import Facts, Judged, RuleInfo
from recoup.money import fmt
from recoup.sla.contracts import Contract

INFO = RuleInfo(
    kind="unmanifested_charge",
    description="a charge for a tracking number no shipments manifest names: reported for a person, never filed",
    sources=("domain.md §3 'Wrong zone / rate / discount' and 'Dispute channels' [R102][R146][R147]",
             "UPS Billing Center dispute: ups.com/us/en/help-center/sri/bill-center-adjustment-dispute-support.page"),
    contract_keys=("account_numbers", "claims.dispute_window_days"),
    doc="docs/rules/unmanifested_charge.md",
    automatic=False,
)
WHY = "a person checks it: the manifest may not be loaded yet, or the account was used by someone else"


def rule(contract: Contract, facts: Facts, as_of: dt.date) -> Judged:
    ls = facts.orphans
    rows = np.arange(len(ls), dtype=np.int64)
    reasons = [f"{t} {fmt(int(a))} billed for {tn}, which no shipments manifest names"
               for t, a, tn in zip(ls.type.tolist(), ls.amount.tolist(), ls.tn.tolist(), strict=True)]
    verdicts = {int(i): "yes: the tracking number is in no shipments manifest" for i in ls.id.tolist()} \
        if facts.trace else {}
    return Judged(INFO.kind, "orphans", rows, ls.amount.copy(), reasons, [{}] * len(rows), [WHY] * len(rows),
                  verdicts)
