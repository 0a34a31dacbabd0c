"""Reconciliation of credits with claims (spec/claims.md, Reconciliation).

Each credit line is matched to the claim it pays, whatever the claim's state but cancelled:
by the carrier's reference when a claim has it; else by carrier and tracking number, and where that
tracking number has several open claims, by the kind the credit's code or description names
(``claims/data/credit_kinds.csv``), then the claim whose remaining amount equals the credit, then
the oldest. A claim's credited total never exceeds its claimed amount: the excess, and any credit
that matches no claim, stays an *unmatched credit*. Deterministic: credits in order of invoice
date, invoice number and line.

:func:`reconcile` is the one way in, and only the claims flow takes it: the CLI commands and worker jobs
that load invoices (``recoup ingest invoices|inbox``, the ``ingest_inbox`` job) or open claims
(``recoup audit``, the ``audit`` job) call it after their service returned, and the status sync
(:func:`recoup.claims.service.sync`) ends with it. Ingest and the audit never reconcile (data flows one
way: docs/decisions.md, "Reconciliation started from one place").
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.engine import Engine

from recoup.claims.lifecycle import record
from recoup.clock import Clock
from recoup.money import fmt
from recoup.store.models import Claim, Credit, CreditMatch, table_of

KIND_TABLE = Path(__file__).parent / "data" / "credit_kinds.csv"


@dataclass
class ReconcileSummary:
    credits: int = 0
    matched: int = 0
    unmatched: int = 0
    credited_cents: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"credits": self.credits, "matched": self.matched, "unmatched": self.unmatched,
                "credited_cents": self.credited_cents}


@lru_cache(maxsize=1)
def _kind_rules() -> tuple[tuple[str, str, str, str], ...]:
    with open(KIND_TABLE, encoding="utf-8") as f:
        return tuple((r["carrier"], r["match"], r["pattern"].lower(), r["kind"]) for r in csv.DictReader(f))


def kind_named(carrier: str, description: str | None) -> str | None:
    """The claim kind a credit's code or description names, if any."""
    text = (description or "").lower()
    tokens = set(text.replace("/", " ").replace("-", " ").split())
    for c, match, pattern, kind in _kind_rules():
        if c not in ("*", carrier):
            continue
        if match == "code" and pattern in tokens:
            return kind
        if match == "text" and pattern in text:
            return kind
    return None


def reconcile(engine: Engine, *, clock: Clock) -> ReconcileSummary:
    """Match open credits to claims, in one transaction; matches and history are stamped ``clock.now()``."""
    with engine.begin() as conn:
        return _reconcile(conn, now=clock.now())


def _reconcile(conn: Connection, *, now: dt.datetime) -> ReconcileSummary:
    s = ReconcileSummary()
    crt = table_of(Credit)
    ct = table_of(Claim)
    credits = list(conn.execute(select(crt).where(crt.c.matched_cents < crt.c.amount_cents)
                                .order_by(crt.c.invoice_date, crt.c.invoice_number, crt.c.id)))
    if not credits:
        return s
    tns = sorted({c.tracking_number for c in credits})
    refs = sorted({c.reference for c in credits if c.reference})
    claims: dict[int, dict[str, object]] = {}
    for i in range(0, len(tns), 5000):
        for r in conn.execute(select(ct).where(ct.c.tracking_number.in_(tns[i:i + 5000]))):
            claims[r.id] = dict(r._mapping)
    for i in range(0, len(refs), 5000):
        for r in conn.execute(select(ct).where(ct.c.carrier_reference.in_(refs[i:i + 5000]))):
            claims[r.id] = dict(r._mapping)
    by_ref = {(c["carrier"], c["carrier_reference"]): c for c in claims.values() if c["carrier_reference"]}
    by_tn: dict[tuple[object, object], list[dict[str, object]]] = {}
    for c in sorted(claims.values(), key=lambda c: (c["created_at"], c["id"])):  # type: ignore[return-value]
        by_tn.setdefault((c["carrier"], c["tracking_number"]), []).append(c)
    for cr in credits:
        s.credits += 1
        left = int(cr.amount_cents) - int(cr.matched_cents)
        claim, rule = None, ""
        if cr.reference and (cr.carrier, cr.reference) in by_ref:
            cand = by_ref[(cr.carrier, cr.reference)]
            if cand["status"] != "cancelled" and _remaining(cand) > 0:
                claim, rule = cand, "reference"
        if claim is None:
            open_ = [c for c in by_tn.get((cr.carrier, cr.tracking_number), [])
                     if c["status"] != "cancelled" and _remaining(c) > 0]
            if len(open_) == 1:
                claim, rule = open_[0], "tracking"
            elif open_:
                kind = kind_named(cr.carrier, " ".join(x for x in (cr.description, cr.reference) if x))
                narrowed = [c for c in open_ if c["kind"] == kind] if kind else []
                if len(narrowed) == 1:
                    claim, rule = narrowed[0], "kind"
                else:
                    pool = narrowed or open_
                    equal = [c for c in pool if _remaining(c) == left]
                    if equal:
                        claim, rule = equal[0], "amount"
                    else:
                        claim, rule = pool[0], "oldest"
        if claim is None:
            s.unmatched += 1
            continue
        take = min(left, _remaining(claim))
        conn.execute(insert(CreditMatch).values(credit_id=cr.id, claim_id=claim["id"], amount_cents=take,
                                                rule=rule, at=now))
        conn.execute(update(crt).where(crt.c.id == cr.id).values(matched_cents=int(cr.matched_cents) + take))
        new_credited = int(claim["credited_cents"]) + take  # type: ignore[call-overload]
        before = str(claim["status"])
        conn.execute(update(ct).where(ct.c.id == claim["id"]).values(
            credited_cents=new_credited, status="credited", updated_at=now))
        record(conn, int(claim["id"]), before, "credited", "carrier",  # type: ignore[call-overload]
               f"credit {cr.invoice_number} {cr.reference or ''} of {fmt(take)} matched by {rule}".replace("  ", " "),
               now=now)
        claim["credited_cents"] = new_credited
        claim["status"] = "credited"
        s.matched += 1
        s.credited_cents += take
        if take < left:
            s.unmatched += 1
    return s


def _remaining(c: dict[str, object]) -> int:
    return int(c["claimed_cents"]) - int(c["credited_cents"])  # type: ignore[call-overload]
