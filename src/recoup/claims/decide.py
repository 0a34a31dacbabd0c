"""What a person decides about a claim (``recoup claims approve|cancel|retry|update``): each a guarded
move of the claim's state (:mod:`recoup.claims.lifecycle`) with its history entry, stamped by the
command's clock."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.engine import Engine

from recoup.claims.lifecycle import UNFILED, TransitionError, move, record
from recoup.clock import Clock
from recoup.errors import RecoupError
from recoup.money import to_cents
from recoup.store.models import Claim, table_of


def _claims_table() -> Any:
    return table_of(Claim)


def _one(conn: Connection, claim_id: int) -> Any:
    ct = _claims_table()
    c = conn.execute(select(ct).where(ct.c.id == claim_id)).first()
    if c is None:
        raise RecoupError(f"no claim {claim_id}")
    return c


def approve(engine: Engine, claim_id: int, actor: str, *, clock: Clock) -> None:
    ct = _claims_table()
    now = clock.now()
    with engine.begin() as conn:
        c = _one(conn, claim_id)
        if c.status not in UNFILED:
            raise RecoupError(f"claim {claim_id} is {c.status}: only ready claims wait for approval")
        conn.execute(update(ct).where(ct.c.id == claim_id).values(approved_by=actor, updated_at=now))
        record(conn, claim_id, c.status, c.status, actor, "approved for filing", now=now)


def cancel(engine: Engine, claim_id: int, actor: str, reason: str, *, clock: Clock) -> None:
    with engine.begin() as conn:
        c = _one(conn, claim_id)
        try:
            move(conn, claim_id, c.status, "cancelled", actor, reason or "cancelled by a person", now=clock.now())
        except TransitionError:
            raise RecoupError(f"claim {claim_id} is {c.status}: it cannot be cancelled") from None


def retry(engine: Engine, claim_id: int, actor: str, *, clock: Clock) -> None:
    with engine.begin() as conn:
        c = _one(conn, claim_id)
        if c.status not in ("needs_attention", "rejected", "expired"):
            raise RecoupError(f"claim {claim_id} is {c.status}: only needs_attention, rejected or expired claims are retried")
        move(conn, claim_id, c.status, "ready", actor, "retry asked by a person", now=clock.now(), message=None)


def update_claim(engine: Engine, claim_id: int, actor: str, *, status: str, amount: Decimal | None,
                 reference: str | None, clock: Clock) -> None:
    now = clock.now()
    with engine.begin() as conn:
        c = _one(conn, claim_id)
        vals: dict[str, Any] = {}
        if amount is not None:
            vals["approved_cents"] = to_cents(amount)
        if reference:
            vals["carrier_reference"] = reference
        if status in ("submitted", "prepared") and c.filed_at is None:
            vals["filed_at"] = now
        detail = f"recorded by hand: {status}" + (f" {amount}" if amount is not None else "") + (
            f" ref {reference}" if reference else "")
        try:
            move(conn, claim_id, c.status, status, actor, detail, now=now, **vals)
        except TransitionError as e:
            raise RecoupError(str(e)) from None
