"""``return_charge``: an undeliverable-return charge for a parcel whose failed delivery the carrier
caused.

Lines: positive lines with ``adjustment`` ``return`` (UPS ``RTN``/``RTS``), or whose description names an
undeliverable return. Cause: the last event with an ``exception_reason`` before the parcel's first
``returned_to_sender`` event (all its events when there is none). It is the carrier's when that reason
is in ``claims.carrier_caused_reasons`` (default ``carrier``); weather, address, customer and customs
are not. docs/rules/return_charge.md.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from recoup.audit.rules.base import Facts, Judged, RuleInfo, candidates, described
from recoup.money import fmt
from recoup.sla.contracts import Contract

INFO = RuleInfo(
    kind="return_charge",
    description="an undeliverable-return charge where the scans show the carrier's own exception caused the "
                "failed delivery",
    sources=("shared/spec/formats.md (UPS RTN/RTS rows charge an undeliverable return)",
             "UPS Tariff/Terms 'Undeliverable Shipments' (the shipper pays the return when the receiver refuses "
             "or cannot be found): ups.com/assets/resources/webcontent/en_US/tariff-guide-us.pdf",
             "domain.md §1 exclusions [R14][R15] (carrier vs shipper/consignee causes)"),
    contract_keys=("claims.carrier_caused_reasons", "claims.dispute_window_days"),
    doc="docs/rules/return_charge.md",
)
PATTERN = r"\bundeliverable\b|\breturn(?:ed)?\s+to\s+sender\b|\bRTS\b|\breturn\s+(?:charge|fee|shipment)\b"


def rule(contract: Contract, facts: Facts, as_of: dt.date) -> Judged:
    ls = facts.lines
    out = Judged(INFO.kind)
    if not len(ls):
        return out
    cand = candidates(ls, ((ls.adjustment == "return") | described(ls, PATTERN)) & (ls.type != "credit"))
    if not len(cand):
        return out
    cause = _cause(facts, np.unique(ls.sid[cand]))
    reason = cause[ls.sid[cand]]
    carrier = np.isin(reason, list(contract.carrier_caused_reasons))
    rows = cand[carrier]
    out.rows, out.amounts = rows, ls.amount[rows].copy()
    out.reasons = [f"return charge {fmt(int(ls.amount[j]))}; the failed delivery was the carrier's: last "
                   f"exception before the return is '{r}'" for j, r in zip(rows.tolist(), reason[carrier].tolist(),
                                                                             strict=True)]
    out.evidence = [{"exception_reason": str(r)} for r in reason[carrier].tolist()]
    if facts.trace:
        for j, r, h in zip(cand.tolist(), reason.tolist(), carrier.tolist(), strict=True):
            out.verdicts[int(ls.id[j])] = (
                f"yes: the last exception before the return is '{r}' (carrier-caused)" if h else
                "no: the scans show no exception reason for the failed delivery" if r is None else
                f"no: the last exception before the return is '{r}', not the carrier's")
    return out


def _cause(facts: Facts, sids: np.ndarray) -> np.ndarray:
    """Per shipment (of ``sids``; None for the others): the exception reason of its last event with one
    before its first return (None)."""
    from recoup.audit.rules._vector import _first_per, _last_per, _take

    n = facts.n
    out = np.full(n, None, dtype=object)
    e_sid = facts.e_sid
    if not len(e_sid):
        return out
    pos = np.arange(len(e_sid), dtype=np.int64)
    mine = np.isin(e_sid, sids)
    rts = np.flatnonzero(facts.e_status == "returned_to_sender")
    first_rts = _take(rts, _first_per(e_sid[rts], n), len(e_sid))
    before = pos < first_rts[e_sid]
    r = facts.e_reason
    has = mine & before & pd.notna(r) & (r != "")
    rows = np.flatnonzero(has)
    last = _last_per(e_sid[rows], n)
    m = last >= 0
    out[m] = facts.e_reason[rows[last[m]]]
    return out
