"""``fuel_surcharge``: fuel billed above the contract's fuel percent (the row in force for the service on
the ship date, ``fuel_percent``) of the parcel's transportation on the same invoice (every billed
transportation line, duplicates out, refunded or not), half-up to the cent: the difference.
shared/spec/audits.md #billing-findings, docs/rules/fuel_surcharge.md."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import numpy as np
import pandas as pd

from recoup.audit.rules._service import _SPEC
from recoup.audit.rules._vector import _dates
from recoup.audit.rules.base import Facts, Judged, RuleInfo
from recoup.audit.weights import factorize_pairs
from recoup.money import fmt
from recoup.sla.contracts import Contract

INFO = RuleInfo("fuel_surcharge", "fuel above the contract's fuel % of the parcel's transportation on the invoice",
                (f"{_SPEC} #billing-findings", "domain.md §3 'Fuel surcharge' [R135][R137]"),
                ("fuel.effective", "fuel.percent", "fuel.services", "claims.dispute_window_days"),
                "docs/rules/fuel_surcharge.md")


def rule(contract: Contract, facts: Facts, as_of: dt.date) -> Judged:
    ls = facts.lines
    out = Judged(INFO.kind, window_note=False)   # audits.md: the reason does not say the window closed
    kept = np.flatnonzero(ls.reportable) if len(ls) else np.zeros(0, dtype=np.int64)
    fm = ls.type[kept] == "fuel"
    if not fm.any():
        return out
    amt, why, mask, verdicts = _fuel(contract, facts, kept, fm, out.warnings)
    idx = np.flatnonzero(mask)
    out.rows, out.amounts, out.reasons = kept[idx], amt[idx], why
    out.verdicts = verdicts
    return out


def fuel_percent(c: Contract, service: str, ship_date: dt.date) -> Decimal | None:
    """The fuel row for a service on a ship date: the latest ``effective`` on or before it; on the same
    date a row naming the service wins over a row for all services, then the later row of the file."""
    best: tuple[dt.date, bool, int] | None = None
    pct = None
    for i, row in enumerate(c.fuel):
        if (row.services and service not in row.services) or row.effective > ship_date:
            continue
        rank = (row.effective, bool(row.services), i)
        if best is None or rank > best:
            best, pct = rank, row.percent
    return pct


def _fuel(c: Contract, facts: Facts, kept: np.ndarray, fm: np.ndarray,
          warnings: Counter[str]) -> tuple[np.ndarray, list[str], np.ndarray, dict[int, str]]:
    ls = facts.lines
    svc, ship_day = facts.svc, facts.ship_day
    b_sid, b_type, b_amt, all_inv = ls.sid, ls.type, ls.amount, ls.invoice
    bs, binv, ba, bid = ls.sid[kept], ls.invoice[kept], ls.amount[kept], ls.id[kept]
    verdicts: dict[int, str] = {}
    n_rows = len(bs)
    # transportation per (shipment, invoice)
    tmask = b_type == "transportation"
    fi = np.flatnonzero(fm)
    inv_codes, inv_u = pd.factorize(np.concatenate([all_inv[tmask], binv[fi]]))
    k_inv = max(len(inv_u), 1)
    t_key = b_sid[tmask] * k_inv + inv_codes[:int(tmask.sum())]
    f_key = bs[fi] * k_inv + inv_codes[int(tmask.sum()):]
    base_of = pd.Series(b_amt[tmask]).groupby(t_key).sum()
    base = np.zeros(n_rows, dtype=np.int64)
    if len(base_of):
        pos_ = pd.Index(base_of.index).get_indexer(f_key)
        vals = base_of.to_numpy(dtype=np.int64)
        base[fi] = np.where(pos_ >= 0, vals[np.maximum(pos_, 0)], 0)
    # the fuel percent of each (service, ship date)
    pairs_codes, pairs = factorize_pairs(svc[bs[fi]], ship_day[bs[fi]])
    pcts = [fuel_percent(c, s_, _dates(np.array([d]))[0]) for s_, d in pairs]
    num = np.zeros(len(pairs), dtype=np.int64)     # percent = num / 10**scale
    scale = np.zeros(len(pairs), dtype=np.int64)
    has = np.zeros(len(pairs), dtype=bool)
    for k, p in enumerate(pcts):
        if p is None:
            continue
        has[k] = True
        t = p.normalize().as_tuple()
        e = -int(t.exponent) if int(t.exponent) < 0 else 0
        num[k] = int(p.scaleb(e))
        scale[k] = e
    fuel_amt = np.zeros(n_rows, dtype=np.int64)
    why: list[str] = []
    mask = np.zeros(n_rows, dtype=bool)
    ok = has[pairs_codes]
    for s_, cnt in pd.Series(svc[bs[fi]][~ok]).value_counts(sort=False).items():
        warnings[f"{c.carrier}: no fuel table row for service {s_} on its ship date: fuel not judged"] += int(cnt)
    j = fi[ok]
    pc = pairs_codes[ok]
    denom = 100 * 10 ** scale[pc]
    # half-up: floor(base * pct / 100 + 1/2), all integers
    expected = (2 * base[j] * num[pc] + denom) // (2 * denom)
    diff = ba[j] - expected
    hit = diff >= 1
    jj = j[hit]
    fuel_amt[jj] = diff[hit]
    mask[jj] = True
    for k_, e_, jx in zip(pc[hit].tolist(), expected[hit].tolist(), jj.tolist(), strict=True):
        why.append(f"fuel {fmt(int(ba[jx]))} > {pcts[k_]}% of transportation {fmt(int(base[jx]))} = {fmt(int(e_))}")
    if facts.trace:
        for jx in fi[~ok].tolist():
            verdicts[int(bid[jx])] = f"not judged: no fuel table row for service {svc[bs[jx]]} on its ship date"
        for k_, e_, jx, h_ in zip(pc.tolist(), expected.tolist(), j.tolist(), hit.tolist(), strict=True):
            rel = ">" if h_ else "<="
            verdicts[int(bid[jx])] = ("yes: " if h_ else "no: ") + (
                f"fuel {fmt(int(ba[jx]))} {rel} {pcts[k_]}% of transportation {fmt(int(base[jx]))} "
                f"on the same invoice = {fmt(int(e_))}")
    return fuel_amt, why, mask, verdicts
