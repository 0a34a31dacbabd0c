"""The claim state machine of spec/claims.md, with its append-only history.

::

    ready ──submit──> submitting ──ok──> submitted ──> in_review ──> approved ──credit──> credited
      │                   │                  │                   ├──> approved_partial ──> credited
      │                   │                  │                   └──> rejected
      │                   └─fail─> ready (retry later) / needs_attention (permanent error)
      ├──> prepared   (file or email channel: packet written / sent, awaiting the carrier)
      ├──> expired    (deadline passed before it was filed)
      └──> cancelled  (by a person, with a reason)

    any state but cancelled ──a matching credit──> credited
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib

from sqlalchemy import Connection, insert, update

from recoup.claims.states import ALL, FILED, FINAL, UNFILED  # noqa: F401  (the names, light for the CLI)
from recoup.errors import RecoupError
from recoup.store.models import Claim, ClaimEvent, table_of

TRANSITIONS: dict[str, set[str]] = {
    "ready": {"submitting", "prepared", "expired", "cancelled", "needs_attention", "credited", "submitted"},
    "submitting": {"submitted", "ready", "needs_attention", "in_review", "approved", "approved_partial",
                   "rejected", "credited", "prepared", "cancelled"},
    "submitted": {"in_review", "approved", "approved_partial", "rejected", "credited", "cancelled"},
    "in_review": {"approved", "approved_partial", "rejected", "credited", "cancelled"},
    "approved": {"credited", "approved_partial"},
    "approved_partial": {"credited"},
    "rejected": {"credited", "ready"},
    "prepared": {"submitted", "in_review", "approved", "approved_partial", "rejected", "credited", "cancelled"},
    "needs_attention": {"ready", "submitting", "expired", "cancelled", "credited", "prepared"},
    "expired": {"credited", "ready"},
    "credited": {"credited"},
    "cancelled": set(),
}


class TransitionError(RecoupError):
    pass


def actor_cli() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def idempotency_key(finding_key: str) -> str:
    """Stable per finding: the same finding can never be filed under two keys."""
    return "recoup-" + hashlib.sha256(finding_key.encode()).hexdigest()[:32]


def record(conn: Connection, claim_id: int, from_status: str | None, to_status: str, actor: str,
           detail: str = "", *, now: dt.datetime) -> None:
    """Append a history entry at ``now`` (the caller's clock)."""
    conn.execute(insert(ClaimEvent).values(claim_id=claim_id, from_status=from_status, to_status=to_status,
                                           actor=actor, detail=detail, at=now))


def move(conn: Connection, claim_id: int, current: str, to: str, actor: str, detail: str = "", *,
         now: dt.datetime, **values: object) -> None:
    """Transition a claim at ``now`` (guarded by its current status, so two workers cannot both move it)."""
    if to != current and to not in TRANSITIONS.get(current, set()):
        raise TransitionError(f"claim {claim_id}: cannot go from {current} to {to}")
    t = table_of(Claim)
    res = conn.execute(update(t).where(t.c.id == claim_id).where(t.c.status == current)
                       .values(status=to, updated_at=now, **values))
    if res.rowcount != 1:
        raise TransitionError(f"claim {claim_id} changed under us (expected {current})")
    record(conn, claim_id, current, to, actor, detail, now=now)
