"""``residential_surcharge``: a residential surcharge on an address the manifest says is commercial
(``dest_residential`` false; empty: not judged). shared/spec/audits.md #billing-findings,
docs/rules/residential_surcharge.md."""

from __future__ import annotations

import datetime as dt

import numpy as np

from recoup.audit.rules._service import _SPEC
from recoup.audit.rules.base import Facts, Judged, RuleInfo, candidates
from recoup.sla.contracts import Contract

INFO = RuleInfo("residential_surcharge", "a residential surcharge on an address the manifest says is commercial",
                (f"{_SPEC} #billing-findings", "domain.md §3 [R120][R121][R122]"), ("claims.dispute_window_days",),
                "docs/rules/residential_surcharge.md")


def rule(contract: Contract, facts: Facts, as_of: dt.date) -> Judged:
    ls = facts.lines
    out = Judged(INFO.kind, window_note=False)   # audits.md: the reason does not say the window closed
    cand = candidates(ls, ls.type == "residential")
    if not len(cand):
        return out
    flags = np.asarray(facts.ships["dest_residential"].to_numpy(dtype=object)[ls.sid[cand]], dtype=object)
    commercial = np.array([f is False for f in flags.tolist()], dtype=bool)
    out.rows = cand[commercial]
    out.amounts = ls.amount[out.rows]
    out.reasons = ["residential surcharge on an address the manifest says is commercial"] * len(out.rows)
    if facts.trace:
        out.verdicts = {int(i): ("yes: the manifest says the address is commercial" if f is False else
                                 "no: the manifest says the address is residential" if f is True else
                                 "not judged: the manifest does not say whether the address is residential")
                        for i, f in zip(ls.id[cand].tolist(), flags.tolist(), strict=True)}
    return out
