"""What `recoup explain TRACKING` shows (the command and its printing are in :mod:`recoup.commands.explain`): everything
recoup knows about one parcel, and why each finding kind was or was not made.

The verdicts are the rules' own: the parcel's frames are audited with ``run_audit(..., trace=True)``,
and each rule of ``RULES`` returns, beside its findings, a verdict ("yes: ...", "no: ...", "not
judged: ...") per parcel (the kinds judged per parcel) or per invoice line it looked at
(``AuditResult.parcel_verdicts``, ``line_verdicts``); this module gathers the parcel's records from the
store and lays the verdicts out, kind by kind in ``RULES`` order and line by line.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Engine

from recoup.errors import RecoupError
from recoup.money import fmt
from recoup.sla.contracts import Contract, ContractSet
from recoup.store.models import (
    Claim,
    ClaimEvent,
    Finding,
    FindingHistory,
    InvoiceLine,
    ScanEvent,
    Shipment,
    table_of,
)

# the charge type each billing kind of audits.md judges (None: every charge), for "no: no ... charge billed"
_CHARGE = {"duplicate_charge": None, "residential_surcharge": "residential",
           "address_correction": "address_correction", "delivery_area_surcharge": "delivery_area",
           "dim_weight": "transportation", "rate_overcharge": "transportation", "fuel_surcharge": "fuel"}


# ----------------------------------------------------------------------------- gathering

def last_audit_date(engine: Engine) -> dt.date | None:
    """The ``as_of`` of the latest audit run: every parcel's findings in the store were judged as of
    it (an incremental run re-judges what changed and equals a full run), so ``explain`` re-derives
    them on that day, not on today."""
    from recoup.store.models import AuditState

    t = table_of(AuditState)
    with engine.connect() as conn:
        v = conn.execute(select(t.c.value).where(t.c.key == "last_as_of")).scalar()
    try:
        return dt.date.fromisoformat(str(v)) if v else None
    except ValueError:
        return None


def _rows(engine: Engine, table: Any, carrier: str, tn: str, *order: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        q = select(table).where(table.c.carrier == carrier).where(table.c.tracking_number == tn)
        return [dict(r._mapping) for r in conn.execute(q.order_by(*order))]


def _carriers_of(engine: Engine, tn: str) -> list[str]:
    found: set[str] = set()
    with engine.connect() as conn:
        for t in (table_of(Shipment), table_of(ScanEvent), table_of(InvoiceLine),
                  table_of(Finding)):
            found |= {r[0] for r in conn.execute(select(t.c.carrier).where(t.c.tracking_number == tn).distinct())}
    return sorted(found)


def build_report(engine: Engine, contracts: ContractSet, tn: str, carrier: str | None,
                 as_of: dt.date) -> dict[str, Any]:
    """The explanation as data (what ``--format json`` prints)."""
    from recoup.audit.rules import format_local, run_audit
    from recoup.audit.service import load_frames

    known = _carriers_of(engine, tn)
    if not known:    # typed in lower case, or with spaces: carriers print them in capitals, without
        typed = "".join(tn.split()).upper()
        if typed != tn and _carriers_of(engine, typed):
            tn, known = typed, _carriers_of(engine, typed)
    if carrier is not None:
        if carrier not in known:
            raise RecoupError(f"no parcel {tn} of carrier {carrier} in the store"
                              + (f" (known for: {', '.join(known)})" if known else ""))
    elif not known:
        raise RecoupError(f"no parcel with tracking number {tn} in the store")
    elif len(known) > 1:
        raise RecoupError(f"tracking number {tn} is known for {', '.join(known)}: choose one with --carrier")
    else:
        carrier = known[0]
    assert carrier is not None
    ships = _rows(engine, table_of(Shipment), carrier, tn)
    ship = ships[0] if ships else None
    manifested = bool(ship and ship["manifested"] and ship["ship_date"] is not None)
    contract = contracts.match(carrier, ship["account_number"] if ship else None)
    tz = (ship or {}).get("dest_timezone") or (contract.calendar.timezone if contract else "UTC")

    scans = _rows(engine, table_of(ScanEvent), carrier, tn, ScanEvent.occurred_at, ScanEvent.id)
    local = format_local(np.array([pd.Timestamp(s["occurred_at"]).value for s in scans], dtype=np.int64),
                         [s["utc_offset_min"] for s in scans], tz)
    events = [{"at": at, "status": s["status"], "code": s["carrier_status_code"], "description": s["description"],
               "city": s["city"], "exception_reason": s["exception_reason"], "source": s["source"], "id": s["id"]}
              for s, at in zip(scans, local, strict=True)]
    lines = _rows(engine, table_of(InvoiceLine), carrier, tn, InvoiceLine.invoice_date,
                  InvoiceLine.invoice_number, InvoiceLine.line_no)

    result = None
    if manifested and contract is not None:
        frames = load_frames(engine, {(carrier, tn)}, all_scans=True)
        result = run_audit(frames, contracts, as_of, trace=True)
    now: list[dict[str, Any]] = [] if result is None else [
        {str(k): v for k, v in r.items()} for r in result.findings.to_dict("records")]
    parcel = {} if result is None else result.parcel_verdicts.get((carrier, tn), {})
    line_verdicts = {} if result is None else result.line_verdicts

    verdicts = _verdicts(contract, manifested, carrier, lines, now, parcel, line_verdicts)
    stored = _stored(engine, carrier, tn)
    return {
        "carrier": carrier, "tracking_number": tn, "as_of": as_of.isoformat(),
        "manifest": _manifest(ship) if ship is not None and manifested else None,
        "contract": _contract(contract, ship, contracts, carrier),
        "events": events,
        "invoice_lines": [{
            "id": ln["id"], "invoice_number": ln["invoice_number"], "invoice_date": ln["invoice_date"].isoformat(),
            "charge_type": ln["charge_type"], "amount": fmt(int(ln["amount_cents"])), "currency": ln["currency"],
            "billed_weight": ln["billed_weight"], "weight_unit": ln["weight_unit"], "zone": ln["zone"],
            "audit": _line_verdict(ln, line_verdicts.get(int(ln["id"]), {})),
        } for ln in lines],
        "verdicts": verdicts,
        "findings_now": [{"kind": f["kind"], "invoice_line_id": f["invoice_line_id"],
                          "amount": fmt(int(f["amount_cents"])), "currency": f["currency"],
                          "deadline": f["deadline"].isoformat(), "claimable": bool(f["claimable"]),
                          "reason": f["reason"]} for f in now],
        **stored,
    }


def _manifest(ship: dict[str, Any]) -> dict[str, Any]:
    keep = ("service", "account_number", "ship_date", "promised_delivery", "origin_postal", "origin_country",
            "dest_postal", "dest_country", "dest_residential", "address_validated", "weight", "weight_unit",
            "length", "width", "height", "dim_unit", "declared_value_cents", "item_value_cents", "currency",
            "dest_timezone", "order_id")
    out: dict[str, Any] = {}
    for k in keep:
        v = ship.get(k)
        if k.endswith("_cents"):
            out[k.removesuffix("_cents")] = None if v is None else fmt(int(v))
        else:
            out[k] = v.isoformat() if isinstance(v, dt.date) else v
    return out


def _contract(c: Contract | None, ship: dict[str, Any] | None, contracts: ContractSet, carrier: str) -> dict[str, Any]:
    if c is None:
        errors = [e for e in contracts.errors if carrier in e]
        return {"file": None, "note": f"no contract loaded for {carrier}"
                + (f" account {ship['account_number']}" if ship and ship.get("account_number") else "")
                + ": its parcels are not audited", "errors": errors}
    svc = c.services.get(str(ship["service"])) if ship else None
    k = c.claims
    return {
        "file": c.path.name, "name": c.name, "accounts": list(c.account_numbers) or "all", "currency": c.currency,
        "units": f"{c.weight_unit}/{c.dim_unit}, dim divisor {c.dim_divisor}, weight increment {c.weight_increment}, "
                 f"dims rounded {c.dim_rounding}",
        "calendar": {"country": c.calendar.country, "subdivision": c.calendar.subdivision,
                     "carrier_holidays": len(c.calendar.holidays), "extra_holidays": len(c.calendar.extra_holidays),
                     "timezone": c.calendar.timezone},
        "claims": {"late_window": f"{k.late_window_days} days after the {k.late_window_from} date",
                   "loss_window_days": k.loss_window_days, "damage_window_days": k.damage_window_days,
                   "dispute_window_days": k.dispute_window_days, "lost_after_days": k.lost_after_days,
                   "void_after_days": k.void_after_days, "default_liability": fmt(k.default_liability_cents),
                   "value_claims_refund_shipping": k.value_claims_refund_shipping,
                   "late_refund_charges": list(k.late_refund_charges),
                   "excluded_exception_reasons": list(k.excluded_exception_reasons)},
        "service": None if svc is None else {
            "code": svc.code, "name": svc.name, "guaranteed": svc.guaranteed, "transit_days": svc.transit_days,
            "commit_time": svc.commit_time.strftime("%H:%M") if svc.commit_time else None,
            "rate_card": svc.rates.path.name if svc.rates else None},
        "service_note": None if svc is not None or ship is None else f"service {ship['service']} is not in the contract",
        "suspensions": [f"{s.start}..{s.end} for {', '.join(s.services)}" for s in c.suspensions],
        **_terms(c),
    }


def _terms(c: Any) -> dict[str, Any]:
    """The optional claim terms of issue 13 (third part), shown only where a contract sets them."""
    k = c.claims
    out: dict[str, Any] = {}
    if k.liability_per_kg is not None:
        out["liability_per_kg"] = f"{k.liability_per_kg} per kg, capped at {fmt(k.default_liability_cents)} a parcel"
    if k.loss_window_from != "ship":
        out["loss_window_from"] = k.loss_window_from
    if k.damage_window_from != "delivered":
        out["damage_window_from"] = k.damage_window_from
    if c.relaxations:
        out["relaxations"] = [f"{x.start}..{x.end} for {', '.join(x.services)}: +{x.extra_days} business days"
                              for x in c.relaxations]
    return out


def _stored(engine: Engine, carrier: str, tn: str) -> dict[str, Any]:
    findings = _rows(engine, table_of(Finding), carrier, tn, Finding.id)
    claims = _rows(engine, table_of(Claim), carrier, tn, Claim.id)
    ht = table_of(FindingHistory)
    et = table_of(ClaimEvent)
    with engine.connect() as conn:
        hist: dict[int, list[dict[str, Any]]] = {}
        for r in conn.execute(select(ht).where(ht.c.finding_id.in_([f["id"] for f in findings])).order_by(ht.c.id)):
            hist.setdefault(r.finding_id, []).append({"at": r.at.isoformat(), "change": r.change, "detail": r.detail})
        ev: dict[int, list[dict[str, Any]]] = {}
        for r in conn.execute(select(et).where(et.c.claim_id.in_([c["id"] for c in claims])).order_by(et.c.id)):
            ev.setdefault(r.claim_id, []).append({"at": r.at.isoformat(), "from": r.from_status, "to": r.to_status,
                                                  "actor": r.actor, "detail": r.detail})
    claim_of = {c["finding_id"]: c["id"] for c in claims}
    return {
        "findings": [{"id": f["id"], "kind": f["kind"], "status": f["status"], "invoice_number": f["invoice_number"],
                      "invoice_line_id": f["invoice_line_id"], "amount": fmt(int(f["amount_cents"])),
                      "currency": f["currency"], "claimable": bool(f["claimable"]),
                      "deadline": f["deadline"].isoformat() if f["deadline"] else None, "reason": f["reason"],
                      "claim_id": claim_of.get(f["id"]), "history": hist.get(f["id"], [])} for f in findings],
        "claims": [{"id": c["id"], "kind": c["kind"], "status": c["status"], "claimed": fmt(int(c["claimed_cents"])),
                    "approved": None if c["approved_cents"] is None else fmt(int(c["approved_cents"])),
                    "credited": fmt(int(c["credited_cents"])), "currency": c["currency"],
                    "deadline": c["deadline"].isoformat() if c["deadline"] else None,
                    "carrier_reference": c["carrier_reference"], "needs_approval": bool(c["needs_approval"]),
                    "events": ev.get(c["id"], [])} for c in claims],
    }


# ----------------------------------------------------------------------------- the verdicts

def _d(v: Any) -> str:
    return v.isoformat() if isinstance(v, dt.date) else str(v)


def _verdicts(c: Contract | None, manifested: bool, carrier: str, lines: list[dict[str, Any]],
              now: list[dict[str, Any]], parcel: dict[str, str], lt: dict[int, dict[str, Any]]) -> list[dict[str, str]]:
    """One verdict per kind of ``RULES``: the findings made, else the rule's verdict for the parcel or
    for each of its lines."""
    from recoup.audit.rules import BILLING_KINDS, REFUNDED, RULES, SERVICE_KINDS

    if not manifested or c is None:
        unjudged = ("not judged: the parcel is in no shipments manifest (with a ship date); a finding of its own "
                    "(unknown_shipment) is reserved for it") if not manifested else \
            f"not judged: no contract loaded for {carrier}"
        return [{"kind": m.INFO.kind, "made": "not judged", "why": unjudged} for m in RULES
                if m.INFO.kind in (*SERVICE_KINDS, *BILLING_KINDS)]
    found: dict[str, list[dict[str, Any]]] = {}
    for f in now:
        found.setdefault(f["kind"], []).append(f)
    out: list[dict[str, str]] = []
    for mod in RULES:
        kind = mod.INFO.kind
        why = _made(found.get(kind))
        if why is None and kind in SERVICE_KINDS:
            why = parcel.get(kind, "no")
        elif why is None and kind in _CHARGE:
            why = _billing_verdict(kind, lines, lt, REFUNDED)
        elif why is None:
            texts = [f"line {ln['id']} ({ln['invoice_number']}): {lt[int(ln['id'])][kind]}" for ln in lines
                     if kind in lt.get(int(ln["id"]), {})]
            why = "; ".join(texts) or "no: no line this rule judges"
        made = "yes" if why.startswith("yes") else ("not judged" if why.startswith("not judged") else "no")
        out.append({"kind": kind, "made": made, "why": why})
    return out


def _made(fs: list[dict[str, Any]] | None) -> str | None:
    """The findings of a kind in words ("yes: ..."), None when none was made."""
    if not fs:
        return None
    parts = []
    for f in fs:
        state = (f"claimable until {_d(f['deadline'])}" if f["claimable"]
                 else f"not claimable (deadline {_d(f['deadline'])})")
        where = f" on line {f['invoice_line_id']}" if f.get("invoice_line_id") is not None else ""
        parts.append(f"{fmt(int(f['amount_cents']))} {f['currency']}{where}, {state}: {f['reason']}")
    return "yes: " + "; ".join(parts)


def _billing_verdict(kind: str, lines: list[dict[str, Any]], lt: dict[int, dict[str, Any]], refunded: str) -> str:
    """A billing kind of audits.md not found: each line's verdict (or why it was not reported)."""
    if kind == "duplicate_charge":
        return "no: no charge billed twice" if lines else "no: not billed"
    charge = _CHARGE[kind]
    rel = [ln for ln in lines if ln["amount_cents"] > 0 and ln["charge_type"] == charge]
    if not rel:
        return f"no: no {charge} charge billed"
    texts = []
    for ln in rel:
        v = lt.get(int(ln["id"]), {})
        why = f"not reported: {v[refunded]}" if v.get(refunded) else v.get(kind)
        if why is not None:
            texts.append(f"line {ln['id']} ({ln['invoice_number']}): {why}")
    return "; ".join(texts) or "no"


def _line_verdict(ln: dict[str, Any], v: dict[str, Any]) -> str:
    """What the rules said of one invoice line."""
    from recoup.audit.rules import REFUNDED, RULES, SERVICE_KINDS

    if ln["amount_cents"] <= 0:
        return "a credit: not a billed charge"
    if v.get("duplicate_charge", "").startswith("yes"):
        return "duplicate_charge: " + v["duplicate_charge"]
    parts = [v[REFUNDED]] if v.get(REFUNDED) else []
    for mod in RULES:
        kind = mod.INFO.kind
        if kind in (*SERVICE_KINDS, "duplicate_charge", "rate_overcharge") or kind not in v:
            continue
        if kind == "dim_weight":     # one rating, two kinds: the one it found, else the rating
            rate = next((x for x in (v[kind], v.get("rate_overcharge", "")) if x.startswith("yes")), v[kind])
            parts.append(f"dim_weight/rate_overcharge: {rate}")
        else:
            parts.append(f"{kind}: {v[kind]}")
    return "; ".join(parts) or "no rule judges this charge type (it counts for duplicates and refunds)"
