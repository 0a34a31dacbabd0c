"""``saturday_delivery``: a Saturday delivery charge for a parcel delivered on another day.

The delivery day is the local date of the first ``delivered`` event (audits.md "Dates"). A parcel not
delivered (yet) is not judged. docs/rules/saturday_delivery.md.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from recoup.audit.rules._vector import NAT
from recoup.audit.rules.base import Facts, Judged, RuleInfo, day_text, weekday
from recoup.money import fmt
from recoup.sla.contracts import Contract

INFO = RuleInfo(
    kind="saturday_delivery",
    description="a Saturday delivery charge for a parcel the scans show delivered on another day",
    sources=("domain.md §3 'Saturday delivery / other accessorials' (audit practice, UNVERIFIED in a carrier "
             "document)", "UPS Rate and Service Guide (yearly), 'Saturday Delivery'"),
    contract_keys=("claims.dispute_window_days",),
    doc="docs/rules/saturday_delivery.md",
)
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def rule(contract: Contract, facts: Facts, as_of: dt.date) -> Judged:
    ls = facts.lines
    out = Judged(INFO.kind)
    cand = np.flatnonzero((ls.type == "saturday") & ls.reportable) if len(ls) else np.zeros(0, dtype=np.int64)
    if not len(cand):
        return out
    day = facts.deliv_day[ls.sid[cand]]
    known = day != NAT
    wd = np.where(known, weekday(np.where(known, day, 0)), -1)
    hit = known & (wd != 5)
    rows = cand[hit]
    out.rows, out.amounts = rows, ls.amount[rows].copy()
    out.reasons = [f"Saturday delivery {fmt(int(ls.amount[j]))} billed; delivered on {DAYS[w]} {day_text(d)}"
                   for j, w, d in zip(rows.tolist(), wd[hit].tolist(), day[hit].tolist(), strict=True)]
    out.evidence = [{"delivered": day_text(d)} for d in day[hit].tolist()]
    if facts.trace:
        for j, k, w, d in zip(cand.tolist(), known.tolist(), wd.tolist(), day.tolist(), strict=True):
            out.verdicts[int(ls.id[j])] = ("not judged: not delivered (yet)" if not k else
                                           f"{'yes' if w != 5 else 'no'}: delivered on {DAYS[w]} {day_text(d)}")
    return out
