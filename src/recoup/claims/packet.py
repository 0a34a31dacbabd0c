"""The claim packet a channel files: the claim, its finding's reason and evidence, and the parcel's
invoice lines and scans as attachments (finding.json, charges.csv, tracking.csv)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from sqlalchemy import Connection, select

from recoup.channels.base import Attachment, ClaimPacket
from recoup.money import from_cents
from recoup.store.models import Finding, InvoiceLine, ScanEvent, Shipment, table_of


def build_packet(conn: Connection, claim: Any, contact_email: str | None) -> ClaimPacket:
    ft = table_of(Finding)
    st = table_of(Shipment)
    f = conn.execute(select(ft).where(ft.c.id == claim.finding_id)).one()
    sh = conn.execute(select(st).where(st.c.carrier == claim.carrier)
                      .where(st.c.tracking_number == claim.tracking_number)).first()
    evidence = json.loads(f.evidence or "{}")
    lt = table_of(InvoiceLine)
    lines = list(conn.execute(select(lt).where(lt.c.carrier == claim.carrier)
                              .where(lt.c.tracking_number == claim.tracking_number).order_by(lt.c.invoice_date, lt.c.id)))
    et = table_of(ScanEvent)
    scans = list(conn.execute(select(et).where(et.c.carrier == claim.carrier)
                              .where(et.c.tracking_number == claim.tracking_number).order_by(et.c.occurred_at)))
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["invoice_number", "invoice_date", "charge_type", "amount", "billed_weight", "zone", "description"])
    for ln in lines:
        w.writerow([ln.invoice_number, ln.invoice_date, ln.charge_type, from_cents(ln.amount_cents),
                    ln.billed_weight or "", ln.zone or "", ln.description or ""])
    charges = buf.getvalue().encode()
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["occurred_at_utc", "utc_offset_min", "status", "carrier_status_code", "description", "exception_reason"])
    for e in scans:
        w.writerow([e.occurred_at.isoformat(), e.utc_offset_min if e.utc_offset_min is not None else "", e.status,
                    e.carrier_status_code or "", e.description or "", e.exception_reason or ""])
    tracking = buf.getvalue().encode()
    finding = json.dumps({"kind": f.kind, "reason": f.reason, "amount": str(from_cents(f.amount_cents)),
                          "currency": f.currency, "deadline": str(f.deadline), "evidence": evidence},
                         indent=1).encode()
    attachments = (
        Attachment("finding.json", "application/json", finding, "supporting_documentation"),
        Attachment("charges.csv", "text/csv", charges, "invoice"),
        Attachment("tracking.csv", "text/csv", tracking, "supporting_documentation"),
    )
    return ClaimPacket(
        claim_id=claim.id, idempotency_key=claim.idempotency_key, carrier=claim.carrier, kind=claim.kind,
        tracking_number=claim.tracking_number, amount=from_cents(claim.claimed_cents), currency=claim.currency,
        description=f.reason, deadline=claim.deadline, ship_date=sh.ship_date if sh else None,
        invoice_number=f.invoice_number, account_number=sh.account_number if sh else None,
        service=sh.service if sh else None, contact_email=contact_email, evidence=attachments,
    )


def packet_dict(p: ClaimPacket, channel: str) -> dict[str, Any]:
    """What ``recoup claims submit --dry-run`` prints of a packet (the attachments by name and size)."""
    return {"claim_id": p.claim_id, "channel": channel, "idempotency_key": p.idempotency_key,
            "carrier": p.carrier, "kind": p.kind, "tracking_number": p.tracking_number, "amount": str(p.amount),
            "currency": p.currency, "deadline": p.deadline.isoformat() if p.deadline else None,
            "description": p.description, "invoice_number": p.invoice_number,
            "attachments": [{"filename": a.filename, "content_type": a.content_type, "bytes": len(a.data)}
                            for a in p.evidence]}
