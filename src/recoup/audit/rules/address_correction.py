"""``address_correction``: an address correction fee on an address validated before shipping
(``address_validated`` true; empty: not judged). shared/spec/audits.md #billing-findings,
docs/rules/address_correction.md."""

from __future__ import annotations

import datetime as dt

import numpy as np

from recoup.audit.rules._service import _SPEC
from recoup.audit.rules.base import Facts, Judged, RuleInfo, candidates
from recoup.sla.contracts import Contract

INFO = RuleInfo("address_correction", "an address correction fee on an address validated before shipping",
                (f"{_SPEC} #billing-findings", "domain.md §3 [R123][R124]"), ("claims.dispute_window_days",),
                "docs/rules/address_correction.md")


def rule(contract: Contract, facts: Facts, as_of: dt.date) -> Judged:
    ls = facts.lines
    out = Judged(INFO.kind, window_note=False)   # audits.md: the reason does not say the window closed
    cand = candidates(ls, ls.type == "address_correction")
    if not len(cand):
        return out
    flags = np.asarray(facts.ships["address_validated"].to_numpy(dtype=object)[ls.sid[cand]], dtype=object)
    validated = np.array([f is True for f in flags.tolist()], dtype=bool)
    out.rows = cand[validated]
    out.amounts = ls.amount[out.rows]
    out.reasons = ["address correction on an address validated before shipping"] * len(out.rows)
    if facts.trace:
        out.verdicts = {int(i): ("yes: the address was validated before shipping" if f is True else
                                 "no: the address was not validated before shipping" if f is False else
                                 "not judged: the manifest does not say whether the address was validated")
                        for i, f in zip(ls.id[cand].tolist(), flags.tolist(), strict=True)}
    return out
