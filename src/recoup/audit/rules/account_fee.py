"""``account_fee``: an account-level fee (no tracking number: payment processing, paper invoice, service
charges) that the contract waives, or bills above the contract's amount.

Each ``[[account_fees]]`` row of the contract names text the fee's description contains (case
insensitive) and the most it may cost (``max``, "0.00" = waived); the first row that matches a line
decides. Lines no row matches are not judged. docs/rules/account_fee.md.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from recoup.audit.rules.base import Facts, Judged, RuleInfo
from recoup.money import fmt
from recoup.sla.contracts import Contract

INFO = RuleInfo(
    kind="account_fee",
    description="an account-level fee the contract waives, or billed above the contract's amount",
    sources=("domain.md §3 'Late-payment fees' [R143][R144] (UPS: $5 printed-invoice fee, 2% payment "
             "processing fee from 18 May 2025)", "docs/decisions.md 8a (UPS account-level rows)"),
    contract_keys=("account_fees.match", "account_fees.max", "claims.dispute_window_days"),
    doc="docs/rules/account_fee.md",
)


def rule(contract: Contract, facts: Facts, as_of: dt.date) -> Judged:
    ls = facts.account
    out = Judged(INFO.kind, "account")
    if not len(ls) or not contract.account_fees:
        if facts.trace:
            out.verdicts = {int(i): "not judged: the contract has no [[account_fees]] rows" for i in ls.id.tolist()}
        return out
    desc = np.array([str(d or "").lower() for d in ls.description.tolist()], dtype=object)
    codes, uniq = pd.factorize(desc)
    fee_of_u = np.array([next((k for k, f in enumerate(contract.account_fees) if f.match in d), -1) for d in uniq],
                        dtype=np.int64)
    fee = fee_of_u[codes] if len(codes) else np.zeros(0, dtype=np.int64)
    cap = np.array([f.max_cents for f in contract.account_fees], dtype=np.int64)
    limit = np.where(fee >= 0, cap[np.maximum(fee, 0)], 0)
    over = ls.amount - limit
    hit = (fee >= 0) & (over >= 1)
    rows = np.flatnonzero(hit)
    reasons = []
    for j in rows.tolist():
        f = contract.account_fees[fee[j]]
        what = "waived by the contract" if f.max_cents == 0 else f"the contract's amount is {fmt(f.max_cents)}"
        reasons.append(f"account fee {ls.description[j] or ls.type[j]!s} {fmt(int(ls.amount[j]))}: {what}")
    out.rows, out.amounts, out.reasons = rows, over[rows], reasons
    out.evidence = [{"fee": contract.account_fees[fee[j]].match, "max": fmt(int(limit[j]))} for j in rows.tolist()]
    if facts.trace:
        for j, i in enumerate(ls.id.tolist()):
            if fee[j] < 0:
                out.verdicts[int(i)] = f"not judged: no [[account_fees]] row matches {ls.description[j]!r}"
            else:
                f = contract.account_fees[fee[j]]
                out.verdicts[int(i)] = (("yes: " if hit[j] else "no: ") + f"{fmt(int(ls.amount[j]))} against "
                                        f"the contract's {fmt(f.max_cents)} for '{f.match}'")
    return out
