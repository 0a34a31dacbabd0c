"""``service_mismatch``: a transportation line billing a faster service than the manifest shipped.

The invoice line's ``service`` is read as a contract service: its ``code`` or one of its
``invoice_codes`` (UPS invoices say ``1`` for Next Day Air). Faster = fewer ``transit_days``. When the
manifest's service has a rate card, the rate checks (``rate_overcharge``/``dim_weight``) already price
the line at the manifest's service and claim the difference: this rule then stays silent. Without a
rate card the difference cannot be priced: the finding is reported with amount 0.00 and not claimable,
for a person. docs/rules/service_mismatch.md.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from recoup.audit.rules.base import Facts, Judged, RuleInfo
from recoup.audit.weights import factorize_pairs
from recoup.sla.contracts import Contract

INFO = RuleInfo(
    kind="service_mismatch",
    description="transportation billed as a faster service than the manifest shipped (priced by the rate "
                "checks when the contract has a rate card; else reported for a person)",
    sources=("domain.md §3 'Wrong zone / rate / discount' [R102][R138]",
             "shared/spec/formats.md (invoice line `service`)"),
    contract_keys=("services.code", "services.invoice_codes", "services.transit_days", "services.rates",
                   "claims.dispute_window_days"),
    doc="docs/rules/service_mismatch.md",
    automatic=False,
)
WHY = "no rate card for the manifest's service prices the difference: a person checks it"


def rule(contract: Contract, facts: Facts, as_of: dt.date) -> Judged:
    ls = facts.lines
    out = Judged(INFO.kind)
    if not len(ls):
        return out
    has_svc = pd.notna(ls.service) & (ls.service != "")
    cand = np.flatnonzero((ls.type == "transportation") & ls.reportable & has_svc)
    if not len(cand):
        return out
    alias: dict[str, str] = {}
    for code, s in contract.services.items():
        for a in (code, *s.invoice_codes):
            alias.setdefault(_norm(a), code)
    # decided once per distinct (billed service, shipped service)
    codes, pairs = factorize_pairs(ls.service[cand], facts.svc[ls.sid[cand]])
    verdict: list[str] = []
    found = np.zeros(len(pairs), dtype=bool)
    for k, (billed_raw, shipped) in enumerate(pairs):
        b = alias.get(_norm(str(billed_raw)), "")
        s_m, s_b = contract.services.get(str(shipped)), contract.services.get(b) if b else None
        if not b:
            out.warnings[f"{contract.carrier}: invoice service {billed_raw} is not a contract service code or "
                         "invoice_codes: service_mismatch not judged"] += int((codes == k).sum())
            v = f"not judged: the invoice's service {billed_raw} is not in the contract"
        elif b == shipped:
            v = f"no: billed as {b}, the manifest's service"
        elif s_m is None or s_m.transit_days is None or s_b is None or s_b.transit_days is None:
            v = f"not judged: billed {b}, shipped {shipped}; the contract gives no transit_days to compare"
        elif s_b.transit_days >= s_m.transit_days:
            v = f"no: billed {b} ({s_b.transit_days} days) is not faster than {shipped} ({s_m.transit_days} days)"
        elif s_m.rates is not None:
            v = f"no: billed {b} for a {shipped} parcel; the rate checks price the line at {shipped}'s rate card"
        else:
            found[k] = True
            v = (f"yes: transportation billed as {b} ({s_b.transit_days} days), the manifest shipped {shipped} "
                 f"({s_m.transit_days} days)")
        verdict.append(v)
    hit = found[codes]
    rows = cand[hit]
    out.rows = rows
    out.amounts = np.zeros(len(rows), dtype=np.int64)
    out.reasons = [verdict[k][5:] for k in codes[hit].tolist()]
    out.evidence = [{"billed_service": str(pairs[k][0]), "shipped_service": str(pairs[k][1])}
                    for k in codes[hit].tolist()]
    out.not_claimable = [WHY] * len(rows)
    if facts.trace:
        out.verdicts = {int(ls.id[j]): verdict[k] for j, k in zip(cand.tolist(), codes.tolist(), strict=True)}
    return out


def _norm(code: str) -> str:
    """Service codes compare upper case, without spaces, numbers without zero padding (``003`` = ``3``)."""
    c = "".join(str(code).split()).upper()
    return str(int(c)) if c.isdigit() else c
