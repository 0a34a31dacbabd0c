"""Run the audit over the store: load frames, apply the rules, persist findings and their claims.

Findings are identified by their key (kind, carrier, tracking number, invoice line). Auditing again
updates a finding in place; one that no longer holds is withdrawn with a history entry and its
unfiled claim cancelled. Claimable findings open claims in ``ready``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

import pandas as pd
from sqlalchemy import insert, select, text, update
from sqlalchemy.engine import Engine

from recoup.audit.rules import FINDING_COLUMNS, AuditFrames, prepare_frames, run_audit
from recoup.claims.lifecycle import UNFILED, idempotency_key, move, record
from recoup.claims.reconcile import reconcile_conn
from recoup.money import to_cents
from recoup.sla.contracts import ContractSet
from recoup.store.models import AuditState, Claim, Finding, FindingHistory, utcnow


@dataclass
class AuditSummary:
    as_of: dt.date
    shipments: int = 0
    findings: int = 0
    new: int = 0
    updated: int = 0
    withdrawn: int = 0
    claims_opened: int = 0
    claims_cancelled: int = 0
    claims_updated: int = 0
    reconciled: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    warnings: Counter[str] = field(default_factory=Counter)


def load_frames(engine: Engine) -> AuditFrames:
    with engine.connect() as conn:
        ships = pd.read_sql_query(text(
            "SELECT carrier, tracking_number, service, account_number, ship_date, promised_delivery, dest_postal, "
            "dest_country, dest_residential, address_validated, weight, weight_unit, length, width, height, "
            "dim_unit, declared_value_cents, item_value_cents, currency, dest_timezone "
            "FROM shipment WHERE manifested = :t AND ship_date IS NOT NULL"), conn, params={"t": True})
        scans = pd.read_sql_query(
            "SELECT id, carrier, tracking_number, occurred_at, utc_offset_min, status, exception_reason "
            "FROM scan_event", conn)
        lines = pd.read_sql_query(
            "SELECT id, carrier, tracking_number, invoice_number, invoice_date, line_no, charge_type, amount_cents, "
            "billed_weight, weight_unit, zone, currency FROM invoice_line", conn)
    return prepare_frames(ships, scans, lines)


def audit(engine: Engine, contracts: ContractSet, as_of: dt.date, *, approval_threshold: Decimal | None = None,
          actor: str = "worker") -> AuditSummary:
    frames = load_frames(engine)
    result = run_audit(frames, contracts, as_of)
    summary = AuditSummary(as_of=as_of, shipments=result.audited, warnings=result.warnings)
    for e in contracts.errors:
        summary.warnings[f"contract not loaded: {e}"] += 1
    found = result.findings
    summary.findings = len(found)
    summary.by_kind = Counter(found["kind"]) if len(found) else Counter()
    threshold = to_cents(approval_threshold) if approval_threshold is not None else None
    audited_carriers = {c.carrier for c in contracts.contracts}
    with engine.begin() as conn:
        ft = Finding.__table__  # type: ignore[attr-defined]
        ct = Claim.__table__  # type: ignore[attr-defined]
        existing = {r.key: r for r in conn.execute(select(ft))}
        claims = {r.finding_id: r for r in conn.execute(select(ct))}
        now = utcnow()
        seen = set()
        for row in found[FINDING_COLUMNS].itertuples(index=False):
            f = row._asdict()
            seen.add(f["key"])
            old = existing.get(f["key"])
            vals = {k: f[k] for k in ("kind", "carrier", "tracking_number", "invoice_number", "invoice_line_id",
                                      "amount_cents", "currency", "deadline", "claimable", "reason", "evidence")}
            vals["invoice_line_id"] = None if pd.isna(vals["invoice_line_id"]) else int(vals["invoice_line_id"])
            vals["invoice_number"] = None if pd.isna(vals["invoice_number"]) else vals["invoice_number"]
            if old is None:
                fid = int(conn.execute(insert(ft).values(key=f["key"], status="open", first_seen=now, updated_at=now,
                                                         **vals)).inserted_primary_key[0])
                conn.execute(insert(FindingHistory).values(finding_id=fid, at=now, change="opened",
                                                           detail=_detail(vals)))
                summary.new += 1
            else:
                fid = old.id
                changed = {k: v for k, v in vals.items() if k not in ("reason", "evidence") and getattr(old, k) != v}
                if changed or old.status != "open" or old.reason != vals["reason"] or old.evidence != vals["evidence"]:
                    conn.execute(update(ft).where(ft.c.id == fid).values(status="open", updated_at=now, **vals))
                    if changed or old.status != "open":
                        conn.execute(insert(FindingHistory).values(
                            finding_id=fid, at=now, change="reopened" if old.status != "open" else "updated",
                            detail=json.dumps({k: str(v) for k, v in changed.items()})))
                        summary.updated += 1
            claim = claims.get(fid)
            if vals["claimable"] and claim is None:
                needs = threshold is not None and vals["amount_cents"] > threshold
                cid = int(conn.execute(insert(ct).values(
                    finding_id=fid, kind=vals["kind"], carrier=vals["carrier"],
                    tracking_number=vals["tracking_number"], status="ready", claimed_cents=vals["amount_cents"],
                    credited_cents=0, currency=vals["currency"], deadline=vals["deadline"],
                    idempotency_key=idempotency_key(f["key"]), needs_approval=needs, created_at=now,
                    updated_at=now)).inserted_primary_key[0])
                record(conn, cid, None, "ready", actor, "opened for a claimable finding"
                       + ("; waits for approval (above the approval threshold)" if needs else ""))
                summary.claims_opened += 1
            elif claim is not None and claim.status in UNFILED and (
                    claim.claimed_cents != vals["amount_cents"] or claim.deadline != vals["deadline"]):
                conn.execute(update(ct).where(ct.c.id == claim.id).values(
                    claimed_cents=vals["amount_cents"], deadline=vals["deadline"], updated_at=now))
                record(conn, claim.id, claim.status, claim.status, actor,
                       f"finding updated: amount {vals['amount_cents']} cents, deadline {vals['deadline']}")
                summary.claims_updated += 1
        for key, old in existing.items():
            if key in seen or old.status != "open" or old.carrier not in audited_carriers:
                continue
            conn.execute(update(ft).where(ft.c.id == old.id).values(status="withdrawn", updated_at=now))
            conn.execute(insert(FindingHistory).values(finding_id=old.id, at=now, change="withdrawn",
                                                       detail="no longer holds on the current data"))
            summary.withdrawn += 1
            claim = claims.get(old.id)
            if claim is not None and claim.status in UNFILED:
                move(conn, claim.id, claim.status, "cancelled", actor, "finding withdrawn: it no longer holds")
                summary.claims_cancelled += 1
        state = {"last_as_of": as_of.isoformat(), "last_run": now.isoformat()}
        for k, v in state.items():
            t = AuditState.__table__  # type: ignore[attr-defined]
            if conn.execute(select(t.c.key).where(t.c.key == k)).first():
                conn.execute(update(t).where(t.c.key == k).values(value=v))
            else:
                conn.execute(insert(t).values(key=k, value=v))
        # credits loaded before their claims existed are matched now
        summary.reconciled = reconcile_conn(conn, actor).matched
    return summary


def _detail(vals: dict[str, object]) -> str:
    return json.dumps({k: str(vals[k]) for k in ("amount_cents", "deadline", "claimable")})
