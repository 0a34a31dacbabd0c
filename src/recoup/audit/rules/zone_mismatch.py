"""``zone_mismatch``: transportation billed in a zone other than the one the contract's zone chart gives
for the parcel's origin and destination postal codes.

Chart: the service's ``zone_chart`` or the contract's (CSV ``origin,dest,zone`` of postal prefixes, beside
the contract as rate cards are). Amount: the rate card's price at the correct billable weight in the
billed zone (or the line, when smaller or unpriced) less the price in the chart's zone: what the wrong
zone cost beyond what ``rate_overcharge``/``dim_weight`` already claim (they price the billed zone), so
nothing is counted twice. A zone the chart makes no dearer is no finding. Without a rate card price for
the chart's zone the finding is reported at 0.00 for a person (not claimable).
docs/rules/zone_mismatch.md.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from recoup.audit.rules._pricing import correct_weight, price, same_zone
from recoup.audit.rules._vector import _str_col
from recoup.audit.rules.base import Facts, Judged, RuleInfo, candidates
from recoup.audit.weights import factorize_pairs
from recoup.money import fmt
from recoup.sla.contracts import Contract, ZoneChart

INFO = RuleInfo(
    kind="zone_mismatch",
    description="transportation billed in a zone other than the contract's zone chart gives for the origin and "
                "destination postal codes",
    sources=("UPS zone charts by origin ZIP prefix: ups.com/us/en/support/shipping-support/shipping-costs-rates/"
             "retail-rates.page (Zone Charts)",
             "FedEx zone locator / zone charts: fedex.com/en-us/shipping/zones.html",
             "domain.md §3 'Wrong zone / rate / discount' [R102][R138] (rerate from the origin/destination zone chart)"),
    contract_keys=("zone_chart", "services.zone_chart", "services.rates", "claims.dispute_window_days"),
    doc="docs/rules/zone_mismatch.md",
)
WHY = "no rate card price for the chart's zone prices the difference: a person checks it"


def rule(contract: Contract, facts: Facts, as_of: dt.date) -> Judged:
    ls = facts.lines
    out = Judged(INFO.kind)
    charts: dict[str, ZoneChart] = {code: chart for code, s in contract.services.items()
                                    if (chart := s.zone_chart or contract.zone_chart) is not None}
    if not len(ls) or not (charts or contract.zone_chart):
        return out
    zone_all = _str_col(ls.frame["zone"])
    has_zone = pd.notna(zone_all) & (zone_all != "")
    cand = candidates(ls, (ls.type == "transportation") & has_zone)
    if not len(cand):
        return out
    sid = ls.sid[cand]
    svc = facts.svc[sid]
    origin = _str_col(facts.ships["origin_postal"])[sid] if "origin_postal" in facts.ships else \
        np.full(len(cand), None, dtype=object)
    dest = _str_col(facts.ships["dest_postal"])[sid]
    billed = zone_all[cand]
    # the chart's zone per distinct (service, origin, destination)
    key = pd.MultiIndex.from_arrays([pd.Series(svc, dtype=object), pd.Series(origin, dtype=object),
                                     pd.Series(dest, dtype=object)])
    codes, uniq = pd.factorize(key)
    chart_u = []
    for s_, o_, d_ in uniq.tolist():
        ch = charts.get(str(s_), contract.zone_chart)
        chart_u.append(None if ch is None or not isinstance(o_, str) or not isinstance(d_, str) else ch.zone(o_, d_))
    chart_zone = np.array(chart_u, dtype=object)[codes] if len(chart_u) else np.full(len(cand), None, dtype=object)
    known = pd.notna(chart_zone)
    pc, pairs = factorize_pairs(billed, chart_zone)
    same = np.array([z is not None and z == z and same_zone(b, z) for b, z in pairs], dtype=bool)
    differs = known & ~same[pc] if len(pairs) else np.zeros(len(cand), dtype=bool)
    amt = ls.amount[cand]
    p_bill = np.full(len(cand), -1, dtype=np.int64)
    p_chart = np.full(len(cand), -1, dtype=np.int64)
    d_idx = np.flatnonzero(differs)
    if len(d_idx):
        k, ok, _ = correct_weight(facts, cand[d_idx])
        for code in sorted(set(svc[d_idx].tolist())):
            card = contract.services[code].rates if code in contract.services else None
            m = (svc[d_idx] == code) & ok
            if card is None or not m.any():
                continue
            p_bill[d_idx[m]] = price(card, billed[d_idx[m]], k[m], contract.weight_increment)
            p_chart[d_idx[m]] = price(card, chart_zone[d_idx[m]], k[m], contract.weight_increment)
    cap = np.where(p_bill >= 0, np.minimum(amt, p_bill), amt)
    diff = cap - p_chart
    priced = differs & (p_chart >= 0)
    claim = priced & (diff >= 1)
    person = differs & ~priced
    hit = claim | person
    rows = cand[hit]
    out.rows = rows
    out.amounts = np.where(claim, diff, 0)[hit]
    reasons, verdicts = [], {}
    for x in (range(len(cand)) if facts.trace else np.flatnonzero(hit).tolist()):
        head = f"billed zone {billed[x]}, the zone chart gives {chart_zone[x]} for {origin[x]} → {dest[x]}"
        if not known[x]:
            v = ("not judged: the manifest gives no origin postal code" if not isinstance(origin[x], str) else
                 f"not judged: the zone chart has no zone for {origin[x]} → {dest[x]}")
        elif not differs[x]:
            v = f"no: billed zone {billed[x]} is the chart's zone"
        elif person[x]:
            v = f"yes: {head}; no rate card price for the chart's zone"
        elif claim[x]:
            v = f"yes: {head}; {fmt(int(cap[x]))} in zone {billed[x]} vs {fmt(int(p_chart[x]))} in zone {chart_zone[x]}"
        else:
            v = f"no: {head}, which is not cheaper"
        if hit[x]:
            reasons.append(v[5:])
        verdicts[int(ls.id[cand[x]])] = v
    out.reasons = reasons
    out.evidence = [{"billed_zone": str(b), "chart_zone": str(z)}
                    for b, z in zip(billed[hit].tolist(), chart_zone[hit].tolist(), strict=True)]
    out.not_claimable = [None if c_ else WHY for c_ in claim[hit].tolist()]
    if facts.trace:
        out.verdicts = verdicts
    return out
