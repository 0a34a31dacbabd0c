"""What the monthly report reads from the store: spend, shipments, credits and their matches, the
dates that put findings and claims in a month, the leakage (see :mod:`recoup.reports.monthly`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from recoup.money import from_cents, money
from recoup.store.models import Claim, Credit, CreditMatch, Finding, Invoice, InvoiceLine, Shipment, table_of


def _dec(v: str | None) -> Decimal | None:
    return None if v is None else money(v)


def _date(v: Any) -> dt.date | None:
    if v is None or v == "":
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v)[:10])



def _carrier_currency(conn: Any) -> dict[str, str]:
    """Each carrier's billing currency: the most frequent currency of its invoice lines."""
    lt = table_of(InvoiceLine)
    it = table_of(Invoice)
    cur = func.coalesce(lt.c.currency, it.c.currency)
    counts: dict[str, tuple[int, str]] = {}
    for r in conn.execute(select(lt.c.carrier, cur.label("cur"), func.count().label("n"))
                          .select_from(lt.join(it, it.c.id == lt.c.invoice_id))
                          .group_by(lt.c.carrier, cur)):
        if r.cur and (r.carrier not in counts or (r.n, r.cur) > counts[r.carrier]):
            counts[r.carrier] = (int(r.n), r.cur)
    return {k: v[1] for k, v in counts.items()}


def _finding_dates(conn: Any) -> dict[int, dt.date | None]:
    """Finding id → the ship date of its parcel (see the module docstring for the fallbacks)."""
    ft = table_of(Finding)
    st = table_of(Shipment)
    lt = table_of(InvoiceLine)
    q = (select(ft.c.id, ft.c.first_seen, st.c.ship_date, lt.c.ship_date.label("line_ship"),
                lt.c.invoice_date.label("line_date"))
         .select_from(ft.outerjoin(st, (st.c.carrier == ft.c.carrier) & (st.c.tracking_number == ft.c.tracking_number))
                      .outerjoin(lt, lt.c.id == ft.c.invoice_line_id)))
    return {r.id: _date(r.ship_date or r.line_ship or r.line_date or r.first_seen) for r in conn.execute(q)}


def _claim_created(conn: Any) -> dict[int, dt.date]:
    ct = table_of(Claim)
    return {r.id: r.created_at.date() for r in conn.execute(select(ct.c.id, ct.c.created_at))}


def _credits(conn: Any, first: dt.date, last: dt.date) -> tuple[list[dict[str, Any]], dict[tuple[str, str], int]]:
    """Credit lines of the month with what matched them; and matched cents per claim carrier and currency."""
    crt = table_of(Credit)
    mt = table_of(CreditMatch)
    ct = table_of(Claim)
    it = table_of(Invoice)
    rows = list(conn.execute(
        select(crt, it.c.currency.label("inv_currency"))
        .select_from(crt.outerjoin(it, (it.c.carrier == crt.c.carrier) & (it.c.invoice_number == crt.c.invoice_number)))
        .where(crt.c.invoice_date >= first).where(crt.c.invoice_date <= last)
        .order_by(crt.c.invoice_date, crt.c.carrier, crt.c.invoice_number, crt.c.id)))
    matches: dict[int, list[Any]] = {}
    by_claim: dict[tuple[str, str], int] = {}
    for m in conn.execute(
            select(mt.c.credit_id, mt.c.claim_id, mt.c.amount_cents, mt.c.rule, ct.c.carrier, ct.c.currency)
            .select_from(mt.join(crt, crt.c.id == mt.c.credit_id).join(ct, ct.c.id == mt.c.claim_id))
            .where(crt.c.invoice_date >= first).where(crt.c.invoice_date <= last).order_by(mt.c.id)):
        matches.setdefault(m.credit_id, []).append(m)
        k = (m.carrier, m.currency)
        by_claim[k] = by_claim.get(k, 0) + int(m.amount_cents)
    out = []
    for r in rows:
        ms = matches.get(r.id, [])
        matched = sum(int(m.amount_cents) for m in ms)
        currency = r.currency or r.inv_currency or (ms[0].currency if ms else None) or ""
        out.append({
            "id": r.id, "invoice_date": r.invoice_date, "carrier": r.carrier, "invoice_number": r.invoice_number,
            "tracking_number": r.tracking_number, "reference": r.reference, "description": r.description,
            "amount": from_cents(int(r.amount_cents)), "matched": from_cents(matched),
            "unmatched": from_cents(int(r.amount_cents) - matched), "currency": currency,
            "claim_ids": ", ".join(str(m.claim_id) for m in ms),
            "rules": ", ".join(sorted({m.rule for m in ms})),
        })
    return out, by_claim


def _leakage(conn: Any, first: dt.date, last: dt.date, as_of: dt.date) -> list[dict[str, Any]]:
    """Recoverable findings whose window closed in the month (deadline in it, before ``as_of``)
    without a claim filed by then, with the reason (:func:`recoup.leakage.judge_all`)."""
    from recoup.leakage import judge_all

    return [{"finding_id": j.finding_id, "deadline": j.deadline, "carrier": j.carrier, "kind": j.kind,
             "tracking_number": j.tracking_number, "amount": from_cents(j.amount_cents), "currency": j.currency,
             "reason": j.reason, "claim_id": j.claim_id}
            for j in judge_all(conn, as_of, deadline_from=first, deadline_to=last) if j.state == "leaked"]



def _spend(conn: Any, first: dt.date, last: dt.date, fallback: dict[str, str]) -> dict[tuple[str, str], int]:
    lt = table_of(InvoiceLine)
    it = table_of(Invoice)
    cur = func.coalesce(lt.c.currency, it.c.currency)
    out: dict[tuple[str, str], int] = {}
    for r in conn.execute(select(lt.c.carrier, cur.label("cur"), func.sum(lt.c.amount_cents).label("cents"))
                          .select_from(lt.join(it, it.c.id == lt.c.invoice_id))
                          .where(lt.c.amount_cents > 0)
                          .where(lt.c.invoice_date >= first).where(lt.c.invoice_date <= last)
                          .group_by(lt.c.carrier, cur)):
        k = (r.carrier, r.cur or fallback.get(r.carrier, ""))
        out[k] = out.get(k, 0) + int(r.cents)
    return out


def _shipments(conn: Any, first: dt.date, last: dt.date, fallback: dict[str, str]) -> dict[tuple[str, str], int]:
    st = table_of(Shipment)
    out: dict[tuple[str, str], int] = {}
    for r in conn.execute(select(st.c.carrier, st.c.currency, func.count().label("n"))
                          .where(st.c.ship_date >= first).where(st.c.ship_date <= last)
                          .group_by(st.c.carrier, st.c.currency)):
        k = (r.carrier, fallback.get(r.carrier) or r.currency or "")
        out[k] = out.get(k, 0) + int(r.n)
    return out
