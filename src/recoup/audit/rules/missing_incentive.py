"""``missing_incentive``: transportation billed without (or short of) the incentive the contract grants
for the service: the net transportation line is above the published price times (1 - incentive).

Readers fold incentive rows into the parcel's transportation line (formats.md: net = published +
incentives), so a missing or short incentive row shows as a net price above what the incentive gives.
Reads ``[[services]] incentive_percent`` and ``published_rates`` (the carrier's list prices, a rate
card CSV) of the manifest's service; priced at the correct billable weight, in the invoice line's zone.
Precedence: a line ``rate_overcharge``/``dim_weight`` claims is not judged (they price it at the net rate
card); a line billed above the correct weight is a weight dispute, not judged here.
docs/rules/missing_incentive.md.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from recoup.audit.rules._pricing import correct_weight, half_up_share, price
from recoup.audit.rules.base import Facts, Judged, RuleInfo, candidates
from recoup.audit.weights import weight_text
from recoup.money import fmt
from recoup.sla.contracts import Contract

INFO = RuleInfo(
    kind="missing_incentive",
    description="transportation billed above the published price less the contract's incentive for the service "
                "(the incentive row missing or short)",
    sources=("shared/spec/formats.md (UPS: published FRT price followed by negative incentive rows, SIM 'Special "
             "Incentive Modifier'; FedEx: discount pairs)",
             "domain.md §3 'Wrong zone / rate / discount' [R102][R138] (incorrect discounts, a named audit category)",
             "UPS Daily Rates (published list prices): ups.com/us/en/shipping/daily-rates.page"),
    contract_keys=("services.incentive_percent", "services.published_rates", "weight_increment", "dim_divisor",
                   "claims.dispute_window_days"),
    doc="docs/rules/missing_incentive.md",
)
RATE_KINDS = {"dim_weight", "rate_overcharge"}


def rule(contract: Contract, facts: Facts, as_of: dt.date) -> Judged:
    ls = facts.lines
    out = Judged(INFO.kind)
    svcs = [code for code, s in contract.services.items()
            if s.incentive_percent is not None and s.published_rates is not None]
    if not len(ls) or not svcs:
        return out
    cand = candidates(ls, (ls.type == "transportation") & np.isin(facts.svc[ls.sid], svcs))
    if not len(cand):
        return out
    claimed = [i for i, kinds in facts.found_kinds.items() if kinds & RATE_KINDS]
    already = np.isin(ls.id[cand], np.asarray(claimed, dtype=np.int64))
    k, ok, cmp = correct_weight(facts, cand)
    zones = ls.frame["zone"].to_numpy(dtype=object)[cand]
    svc = facts.svc[ls.sid[cand]]
    expected = np.full(len(cand), -1, dtype=np.int64)
    published = np.full(len(cand), -1, dtype=np.int64)
    for code in svcs:
        s = contract.services[code]
        m = (svc == code) & ok
        if not m.any():
            continue
        assert s.published_rates is not None and s.incentive_percent is not None
        p = price(s.published_rates, zones[m], k[m], contract.weight_increment)
        published[m] = p
        expected[m] = np.where(p >= 0, p - half_up_share(np.maximum(p, 0), s.incentive_percent), -1)
    amt = ls.amount[cand]
    judged = ok & (cmp == 0) & ~already & (expected >= 0)
    hit = judged & (amt - expected >= 1)
    rows = cand[hit]
    out.rows, out.amounts = rows, (amt - expected)[hit]
    inc = contract.weight_increment
    pct = {code: contract.services[code].incentive_percent for code in svcs}

    def text(x: int) -> str:
        return (f"transportation {fmt(int(amt[x]))} vs published {fmt(int(published[x]))} less the "
                f"{pct[svc[x]]}% incentive = {fmt(int(expected[x]))} at {weight_text(int(k[x]), inc)} "
                f"{contract.weight_unit} (zone {zones[x]})")

    out.reasons = [text(x) for x in np.flatnonzero(hit).tolist()]
    out.evidence = [{"published": fmt(int(published[x])), "incentive_percent": str(pct[svc[x]]),
                     "expected": fmt(int(expected[x]))} for x in np.flatnonzero(hit).tolist()]
    if facts.trace:
        for x, j in enumerate(cand.tolist()):
            out.verdicts[int(ls.id[j])] = (
                "no: a rate check (dim_weight/rate_overcharge) already claims this line" if already[x] else
                "not judged: the manifest has neither a weight nor all three dimensions" if not ok[x] else
                "not judged: billed at a weight other than the correct billable weight" if cmp[x] != 0 else
                f"not judged: the published rates have no price in zone {zones[x]} at this weight"
                if expected[x] < 0 else ("yes: " if hit[x] else "no: ") + text(x))
    return out
