"""Read-side queries shared by the CLI and reports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.engine import Engine

from recoup.money import fmt
from recoup.store.models import Claim, Finding, table_of

#: the columns a listing's ``--sort`` is pushed down to SQL for (any other is sorted in Python, over every row)
FINDING_SORT = frozenset({"id", "kind", "carrier", "tracking_number", "amount", "deadline", "claim_id"})
CLAIM_SORT = frozenset({"id", "kind", "carrier", "tracking_number", "status", "amount", "credited", "deadline"})


@dataclass
class Page:
    """What a listing asked the database for: at most ``limit`` rows (None: all) in the order of ``sort``
    (``COL`` or ``-COL``, None: by id), pushed down to SQL so that ``--limit 20`` on a million rows reads
    twenty. ``total`` is filled in with the count of every matching row when rows were left out."""

    limit: int | None = None
    sort: str | None = None
    total: int | None = None


def _page(q: Select[Any], page: Page | None, cols: dict[str, Any], id_col: Any, conn: Any) -> Select[Any]:
    """Order (empty values last, ties by id, as :func:`recoup.tables.sort_rows` orders) and limit ``q``;
    count the rows first when a limit may leave some out."""
    if page is None:
        return q.order_by(id_col)
    order: list[Any] = []
    if page.sort:
        desc = page.sort.startswith("-")
        col = cols[page.sort.lstrip("-+").strip().lower()]
        order += [col.is_(None), col.desc() if desc else col.asc()]
    q = q.order_by(*order, id_col)
    if page.limit:
        page.total = int(conn.execute(select(func.count()).select_from(q.order_by(None).subquery())).scalar_one())
        q = q.limit(page.limit)
    return q


def list_findings(engine: Engine, *, kind: str | None = None, carrier: str | None = None,
                  claimable: bool | None = None, include_withdrawn: bool = False,
                  page: Page | None = None) -> list[dict[str, Any]]:
    """Findings by id; ``page`` pushes a sort on a column of :data:`FINDING_SORT` and a limit down to SQL."""
    ft = table_of(Finding)
    ct = table_of(Claim)
    q = select(ft, ct.c.id.label("claim_id"), ct.c.status.label("claim_status")).outerjoin(ct, ct.c.finding_id == ft.c.id)
    if not include_withdrawn:
        q = q.where(ft.c.status == "open")
    if kind:
        q = q.where(ft.c.kind == kind)
    if carrier:
        q = q.where(ft.c.carrier == carrier)
    if claimable is not None:
        q = q.where(ft.c.claimable == claimable)
    cols = {"id": ft.c.id, "kind": ft.c.kind, "carrier": ft.c.carrier, "tracking_number": ft.c.tracking_number,
            "amount": ft.c.amount_cents, "deadline": ft.c.deadline, "claim_id": ct.c.id}
    out = []
    with engine.connect() as conn:
        q = _page(q, page, cols, ft.c.id, conn)
        for r in conn.execute(q):
            out.append({
                "id": r.id, "kind": r.kind, "carrier": r.carrier, "tracking_number": r.tracking_number,
                "invoice_number": r.invoice_number, "amount": fmt(int(r.amount_cents)), "currency": r.currency,
                "claimable": bool(r.claimable), "reason": r.reason,
                "deadline": r.deadline.isoformat() if r.deadline else None, "claim_id": r.claim_id,
                "claim_status": r.claim_status, "status": r.status,
            })
    return out


def list_claims(engine: Engine, *, status: str | None = None, carrier: str | None = None,
                claim_id: int | None = None, page: Page | None = None) -> list[dict[str, Any]]:
    """Claims by id; ``page`` pushes a sort on a column of :data:`CLAIM_SORT` and a limit down to SQL."""
    ct = table_of(Claim)
    q = select(ct)
    if status:
        q = q.where(ct.c.status == status)
    if carrier:
        q = q.where(ct.c.carrier == carrier)
    if claim_id is not None:
        q = q.where(ct.c.id == claim_id)
    cols = {"id": ct.c.id, "kind": ct.c.kind, "carrier": ct.c.carrier, "tracking_number": ct.c.tracking_number,
            "status": ct.c.status, "amount": ct.c.claimed_cents, "credited": ct.c.credited_cents,
            "deadline": ct.c.deadline}
    with engine.connect() as conn:
        q = _page(q, page, cols, ct.c.id, conn)
        return [{
            "id": r.id, "finding_id": r.finding_id, "kind": r.kind, "carrier": r.carrier,
            "tracking_number": r.tracking_number, "status": r.status, "channel": r.channel,
            "amount": fmt(int(r.claimed_cents)),
            "approved": fmt(int(r.approved_cents)) if r.approved_cents is not None else None,
            "credited": fmt(int(r.credited_cents)), "currency": r.currency,
            "deadline": r.deadline.isoformat() if r.deadline else None,
            "filed_at": r.filed_at.isoformat() if r.filed_at else None,
            "carrier_reference": r.carrier_reference, "needs_approval": bool(r.needs_approval and not r.approved_by),
            "message": r.message,
        } for r in conn.execute(q)]


def stored_carriers(engine: Engine) -> set[str]:
    """The carrier codes of the shipments in the store (a carrier no module describes included)."""
    from recoup.store.models import Shipment

    return _distinct(engine, table_of(Shipment).c.carrier)


def stored_kinds(engine: Engine) -> set[str]:
    """The finding kinds in the store."""
    return _distinct(engine, table_of(Finding).c.kind)


def _distinct(engine: Engine, column: Any) -> set[str]:
    with engine.connect() as conn:
        return {str(r[0]) for r in conn.execute(select(column).distinct()) if r[0]}


def claim_history(engine: Engine, claim_id: int) -> list[dict[str, Any]]:
    from recoup.store.models import ClaimEvent

    et = table_of(ClaimEvent)
    with engine.connect() as conn:
        return [{"at": r.at.isoformat(), "from": r.from_status, "to": r.to_status, "actor": r.actor,
                 "detail": r.detail} for r in conn.execute(select(et).where(et.c.claim_id == claim_id)
                                                           .order_by(et.c.id))]


def recovered(engine: Engine, *, by: str = "carrier", date_from: Any = None, date_to: Any = None) -> list[dict[str, Any]]:
    """Claimed, approved and credited per carrier / month / kind, and per currency (never added across).

    ``claimed`` and ``approved`` count claims (not cancelled) by the month of their finding's
    deadline-independent creation; ``credited`` counts matched credits by their invoice date.
    --from/--to filter claims by creation date and credits by invoice date.
    """
    from recoup.store.models import Credit, CreditMatch

    ct = table_of(Claim)
    mt = table_of(CreditMatch)
    crt = table_of(Credit)
    rows: dict[tuple[str, str], dict[str, Any]] = {}

    def key_of(carrier: str, kind: str, day: Any) -> str:
        if by == "carrier":
            return carrier
        if by == "kind":
            return kind
        return day.strftime("%Y-%m") if day else "-"

    def slot(k: str, cur: str) -> dict[str, Any]:
        return rows.setdefault((k, cur), {by: k, "claimed": 0, "approved": 0, "credited": 0, "currency": cur,
                                          "claims": 0})

    with engine.connect() as conn:
        for r in conn.execute(select(ct).where(ct.c.status != "cancelled")):
            day = r.created_at.date()
            if (date_from and day < date_from) or (date_to and day > date_to):
                continue
            s = slot(key_of(r.carrier, r.kind, day), r.currency)
            s["claimed"] += int(r.claimed_cents)
            s["approved"] += int(r.approved_cents or 0)
            s["claims"] += 1
        q = select(mt.c.amount_cents, crt.c.invoice_date, ct.c.carrier, ct.c.kind, ct.c.currency).select_from(
            mt.join(crt, crt.c.id == mt.c.credit_id).join(ct, ct.c.id == mt.c.claim_id))
        for r in conn.execute(q):
            day = r.invoice_date
            if (date_from and day < date_from) or (date_to and day > date_to):
                continue
            s = slot(key_of(r.carrier, r.kind, day), r.currency)
            s["credited"] += int(r.amount_cents)
    out = []
    for (_k, _cur), s in sorted(rows.items()):
        out.append({**s, "claimed": fmt(s["claimed"]), "approved": fmt(s["approved"]), "credited": fmt(s["credited"])})
    return out
