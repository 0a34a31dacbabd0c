"""``dim_weight``: transportation billed at a weight above the correct billable weight (actual or
dimensional, the manifest's measures in the contract's units): the difference to the rate card's price at
the correct weight. The rating is shared with the other of dim_weight / rate_overcharge
(``_rating``). shared/spec/audits.md #billing-findings, docs/rules/dim_weight.md."""

from __future__ import annotations

import datetime as dt

import numpy as np

from recoup.audit.rules._rating import priced_findings, rated, verdict_for
from recoup.audit.rules._service import _SPEC
from recoup.audit.rules.base import Facts, Judged, RuleInfo
from recoup.sla.contracts import Contract

INFO = RuleInfo(
    "dim_weight", "transportation billed at a weight above the correct billable (dimensional) weight",
    (f"{_SPEC} #billing-findings", "domain.md §3 'Dimensional weight' [R109][R112]"),
    ("dim_divisor", "weight_increment", "dim_rounding", "weight_unit", "dim_unit", "services.rates",
     "claims.dispute_window_days"), "docs/rules/dim_weight.md")


def rule(contract: Contract, facts: Facts, as_of: dt.date) -> Judged:
    out = Judged(INFO.kind, window_note=False)   # audits.md: the reason does not say the window closed
    r = rated(facts)
    if facts.trace:
        out.verdicts = {i: verdict_for(INFO.kind, v) for i, v in r.verdicts.items()}
    h = np.flatnonzero(r.hit)
    h = h[r.cmp[h] > 0]
    return priced_findings(out, facts, contract, r, h)
