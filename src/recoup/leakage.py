"""Where recoverable money went: filed in time, credited without a claim, still claimable, or leaked
to a closed window -- and why it leaked. One judgement, from what the store holds, shared by the
backtest (:mod:`recoup.backtest`) and the monthly report's leakage section.

A finding is *recoverable* when it is open (not withdrawn) and either claimable or real but past its
window (:func:`recoup.reports.monthly.missed_window`); findings the contract excludes (``not
claimable: excluded ...`` / ``... suspended``) never were. Its money is the finding's amount as known
now (a late delivery's refund is known once its invoice came, even after the window closed).

A recoverable finding is exactly one of:

``filed_in_time``     its claim left for the carrier on or before the deadline (``claim.filed_at``)
``filed_late``        its claim left after the deadline (only by hand: recoup never files late)
``credited_unfiled``  the carrier paid it before recoup filed (an automatic refund)
``still_claimable``   not filed, and the window is still open on the day judged
``leaked``            not filed, and the window closed; with one reason (``REASONS``)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from recoup.store.models import Claim, Finding, table_of

DATA_LATE = "data arrived after the window"
AMOUNT_UNKNOWN = "amount unknown until the invoice came"
APPROVAL = "approval pending"
CHANNEL = "channel not configured"
REFUSED = "carrier refused it (needs attention)"
CANCELLED = "cancelled by a person"
NOT_FILED = "not filed before the window closed (channel not configured, or no worker run)"
FILED_LATE = "filed after the window closed"
REASONS = (DATA_LATE, AMOUNT_UNKNOWN, APPROVAL, CHANNEL, REFUSED, CANCELLED, NOT_FILED, FILED_LATE)

STATES = ("filed_in_time", "credited_unfiled", "still_claimable", "leaked")


@dataclass(frozen=True)
class Judged:
    finding_id: int
    carrier: str
    kind: str
    currency: str
    tracking_number: str
    amount_cents: int
    deadline: dt.date | None
    state: str                  # one of STATES
    reason: str | None          # leaked: why; still_claimable: what holds it (None: nothing)
    claim_id: int | None


def recoverable(claimable: bool, deadline: dt.date | None, reason: str | None) -> bool:
    """Claimable, or real but past its window (not excluded by the contract)."""
    return bool(claimable) or (deadline is not None and "not claimable:" not in (reason or ""))


def _day(v: Any) -> dt.date | None:
    if v is None:
        return None
    return v.date() if isinstance(v, dt.datetime) else v  # type: ignore[no-any-return]


def blocker(c: Any, *, dead_channels: Iterable[str] = ()) -> str | None:
    """Why an unfiled claim is not filed: the reason it leaks if its window closes so."""
    if c is None:
        return DATA_LATE
    if c.status == "cancelled":
        return CANCELLED
    if c.status == "needs_attention":
        return REFUSED
    if int(c.claimed_cents or 0) <= 0:
        return AMOUNT_UNKNOWN
    if c.needs_approval and not c.approved_by:
        return APPROVAL
    if c.carrier in set(dead_channels):
        return CHANNEL
    return None


def judge(f: Any, c: Any, day: dt.date, *, dead_channels: Iterable[str] = (),
          unfiled: str = NOT_FILED) -> Judged | None:
    """One finding (row with the finding's columns) and its claim (row or None), as of ``day``
    (a window whose deadline is ``day`` is still open). None: not recoverable money."""
    if f.status != "open" or not recoverable(f.claimable, f.deadline, f.reason):
        return None
    deadline = f.deadline
    filed = _day(c.filed_at) if c is not None else None
    state: str
    reason: str | None = None
    if filed is not None and filed <= day:
        if deadline is None or filed <= deadline:
            state = "filed_in_time"
        else:
            state, reason = "leaked", FILED_LATE
    elif c is not None and c.status == "credited":
        state = "credited_unfiled"
    elif f.claimable and (deadline is None or deadline >= day):
        state, reason = "still_claimable", blocker(c, dead_channels=dead_channels)
    else:
        state = "leaked"
        opened = _day(c.created_at) if c is not None else None
        if c is None or (deadline is not None and opened is not None and opened > deadline):
            reason = DATA_LATE
        else:
            reason = blocker(c, dead_channels=dead_channels) or unfiled
    return Judged(int(f.id), f.carrier, f.kind, f.currency, f.tracking_number, int(f.amount_cents), deadline, state,
                  reason, int(c.id) if c is not None else None)


def judge_all(conn: Connection, day: dt.date, *, dead_channels: Iterable[str] = (), unfiled: str = NOT_FILED,
              deadline_from: dt.date | None = None, deadline_to: dt.date | None = None) -> list[Judged]:
    """Every open finding of the store, judged as of ``day``; optionally only those whose deadline
    is in [deadline_from, deadline_to] (findings without a deadline pass a ``deadline_from`` filter
    but not a ``deadline_to`` one)."""
    ft = table_of(Finding)
    ct = table_of(Claim)
    q = (select(ft.c.id, ft.c.kind, ft.c.carrier, ft.c.tracking_number, ft.c.amount_cents, ft.c.currency,
                ft.c.deadline, ft.c.claimable, ft.c.reason, ft.c.status,
                ct.c.id.label("claim_id"), ct.c.status.label("claim_status"), ct.c.filed_at, ct.c.claimed_cents,
                ct.c.needs_approval, ct.c.approved_by, ct.c.created_at)
         .select_from(ft.outerjoin(ct, ct.c.finding_id == ft.c.id))
         .where(ft.c.status == "open").order_by(ft.c.id))
    if deadline_from is not None:
        q = q.where((ft.c.deadline >= deadline_from) | ft.c.deadline.is_(None))
    if deadline_to is not None:
        q = q.where(ft.c.deadline <= deadline_to)
    out = []
    dead = set(dead_channels)
    for r in conn.execute(q):
        c = None
        if r.claim_id is not None:
            c = _ClaimView(r.claim_id, r.claim_status, r.carrier, r.filed_at, r.claimed_cents, r.needs_approval,
                           r.approved_by, r.created_at)
        j = judge(r, c, day, dead_channels=dead, unfiled=unfiled)
        if j is not None:
            out.append(j)
    return out


@dataclass(frozen=True)
class _ClaimView:
    id: int
    status: str
    carrier: str
    filed_at: dt.datetime | None
    claimed_cents: int
    needs_approval: bool
    approved_by: str | None
    created_at: dt.datetime
