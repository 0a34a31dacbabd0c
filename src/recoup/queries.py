"""Read-side queries shared by the CLI and reports."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from recoup.money import fmt
from recoup.store.models import Claim, Finding


def list_findings(engine: Engine, *, kind: str | None = None, carrier: str | None = None,
                  claimable: bool | None = None, include_withdrawn: bool = False) -> list[dict[str, Any]]:
    ft = Finding.__table__  # type: ignore[attr-defined]
    ct = Claim.__table__  # type: ignore[attr-defined]
    q = select(ft, ct.c.id.label("claim_id"), ct.c.status.label("claim_status")).outerjoin(ct, ct.c.finding_id == ft.c.id)
    if not include_withdrawn:
        q = q.where(ft.c.status == "open")
    if kind:
        q = q.where(ft.c.kind == kind)
    if carrier:
        q = q.where(ft.c.carrier == carrier)
    if claimable is not None:
        q = q.where(ft.c.claimable == claimable)
    q = q.order_by(ft.c.id)
    out = []
    with engine.connect() as conn:
        for r in conn.execute(q):
            out.append({
                "id": r.id, "kind": r.kind, "carrier": r.carrier, "tracking_number": r.tracking_number,
                "invoice_number": r.invoice_number, "amount": fmt(int(r.amount_cents)), "currency": r.currency,
                "claimable": bool(r.claimable), "reason": r.reason,
                "deadline": r.deadline.isoformat() if r.deadline else None, "claim_id": r.claim_id,
                "claim_status": r.claim_status, "status": r.status,
            })
    return out
