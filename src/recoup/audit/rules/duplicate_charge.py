"""``duplicate_charge``: a positive line repeating the charge type and amount of an earlier line of the
same parcel (``facts.dups``, in billed order): its amount back. shared/spec/audits.md #terms,
docs/rules/duplicate_charge.md."""

from __future__ import annotations

import datetime as dt

import numpy as np

from recoup.audit.rules._service import _SPEC
from recoup.audit.rules.base import Facts, Judged, RuleInfo
from recoup.money import fmt
from recoup.sla.contracts import Contract

INFO = RuleInfo("duplicate_charge", "the same charge type and amount billed again for one parcel",
                (f"{_SPEC} #terms", "domain.md §3 'Duplicate billing' [R102][R103]"), ("claims.dispute_window_days",),
                "docs/rules/duplicate_charge.md")


def rule(contract: Contract, facts: Facts, as_of: dt.date) -> Judged:
    d = facts.dups
    out = Judged(INFO.kind, on="dups", window_note=False, rows=np.arange(len(d), dtype=np.int64), amounts=d.amount.copy())
    out.reasons = [f"{t} {fmt(a)} billed again on {v}" for t, a, v in zip(d.type, d.amount.tolist(), d.invoice,
                                                                          strict=True)]
    if facts.trace:
        out.verdicts = dict.fromkeys(facts.lines.id.tolist(), "no: the first line with this charge type and amount")
        out.verdicts.update(dict.fromkeys(d.id.tolist(), "yes: the same charge type and amount was billed earlier"))
    return out
