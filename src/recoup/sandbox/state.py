"""What the sandbox holds: its claims, the requests it received, the fault draws."""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import json
import random
import threading
from collections.abc import Callable
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

from recoup.sandbox.faults import REQUEST_FAULTS, Faults

CLAIM_TYPES = frozenset({"damage", "loss", "theft", "late_delivery", "billing"})
ATTACHMENT_FIELDS = (
    "email_evidence_attachments", "invoice_attachments", "supporting_documentation_attachments",
)
FINAL_STATUSES = frozenset({"approved", "approved_partial", "rejected", "cancelled"})
STATUS_DETAILS = {
    "submitted": "Claim was created.",
    "in_review": "Claim is under review.",
    "approved": "Claim was approved.",
    "approved_partial": "Claim was partially approved.",
    "rejected": "Claim was rejected: the documentation does not support the claimed amount.",
    "cancelled": "Claim cancellation was requested.",
}
CENT = Decimal("0.01")


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _error(code: str, message: str, errors: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "errors": errors or []}}


class _State:
    """Everything the sandbox holds; every access under ``lock``."""

    def __init__(self, faults: Faults, api_key: str | None, now: Callable[[], dt.datetime]) -> None:
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.api_key = api_key
        self.now = now
        self.requests: list[dict[str, Any]] = []
        self.claims: dict[str, dict[str, Any]] = {}      # id -> Claim object (as answered)
        self.keys: dict[str, str | None] = {}            # id -> idempotency key
        self.by_key: dict[str, str] = {}                 # idempotency key -> id
        self.outcomes: dict[str, tuple[str, Decimal | None]] = {}   # id -> final status, approved
        self.created = 0
        self.queued: collections.deque[str | None] = collections.deque()
        self.set_faults(faults)

    def set_faults(self, faults: Faults) -> None:
        with self.lock:
            self.faults = faults
            self.rng = random.Random(faults.seed)

    def draw_fault(self) -> str | None:
        with self.lock:
            if self.queued:
                return self.queued.popleft()
            r = self.rng.random()
            edge = 0.0
            for name in REQUEST_FAULTS:
                edge += self.faults.shares.get(name, 0.0)
                if r < edge:
                    return name
            return None

    def record(self, method: str, path: str, query: str, key: str | None, status: int | None,
               fault: str | None, at: dt.datetime) -> None:
        with self.lock:
            self.requests.append({
                "method": method, "path": path, "query": query, "idempotency_key": key,
                "status": status, "fault": fault,
                "at": at.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            })

    def _hex(self, kind: str) -> str:
        return hashlib.sha256(f"{self.faults.seed}:{kind}:{self.created}".encode()).hexdigest()[:32]

    def _outcome(self, key: str, requested: Decimal) -> tuple[str, Decimal | None]:
        rng = random.Random(f"{self.faults.seed}:outcome:{key}")
        r = rng.random()
        if r < self.faults.reject:
            return "rejected", None
        if r < self.faults.reject + self.faults.partial and requested > CENT:
            share = Decimal(rng.randint(25, 90)) / 100
            approved = (requested * share).quantize(CENT, rounding=ROUND_DOWN)
            return "approved_partial", min(max(approved, CENT), requested - CENT)
        return "approved", requested

    # -- API operations (called under no lock; they take it) ----------------------------------

    def create(self, body: dict[str, Any], key: str | None) -> tuple[int, dict[str, Any], dict[str, str]]:
        if isinstance(body.get("claim"), dict):
            body = body["claim"]
        errors: list[dict[str, str]] = []
        tracking = body.get("tracking_code")
        if not isinstance(tracking, str) or not tracking.strip():
            errors.append({"field": "tracking_code", "message": "must be present and a string"})
        ctype = body.get("type")
        if not isinstance(ctype, str) or not ctype:
            errors.append({"field": "type", "message": "must be present and a string"})
        elif ctype not in CLAIM_TYPES:
            errors.append({"field": "type", "message": f"must be one of {', '.join(sorted(CLAIM_TYPES))}"})
        amount: Decimal | None = None
        raw_amount = body.get("amount")
        if raw_amount is None or raw_amount == "":
            errors.append({"field": "amount", "message": "must be present"})
        else:
            try:
                amount = Decimal(str(raw_amount))
            except InvalidOperation:
                errors.append({"field": "amount", "message": "must be a decimal amount"})
            else:
                if not amount.is_finite() or amount <= 0:
                    errors.append({"field": "amount", "message": "must be greater than 0"})
        n_attachments = 0
        for name in ATTACHMENT_FIELDS:
            items = body.get(name) or []
            if not isinstance(items, list) or not all(
                    isinstance(i, str) and i.startswith("data:") for i in items):
                errors.append({"field": name, "message": "must be a list of data URIs"})
            else:
                n_attachments += len(items)
        if errors:
            return 422, _error("PARAMETER.INVALID", "The claim could not be created.", errors), {}
        assert isinstance(tracking, str)
        assert isinstance(ctype, str)
        assert amount is not None
        requested = amount.quantize(CENT)
        with self.lock:
            if key is not None and key in self.by_key:
                claim = self.claims[self.by_key[key]]
                if (claim["tracking_code"], claim["type"], claim["requested_amount"]) != (
                        tracking, ctype, str(requested)):
                    return 409, _error(
                        "IDEMPOTENCY.MISMATCH",
                        "This Idempotency-Key was used with different parameters."), {}
                return 201, claim, {"Idempotent-Replayed": "true"}
            self.created += 1
            claim_id = "clm_" + self._hex("clm")
            now = _iso(self.now())
            claim = {
                "approved_amount": None,
                "attachments": [f"https://sandbox.invalid/claims/{claim_id}/{i + 1}"
                                for i in range(n_attachments)],
                "check_delivery_address": None,
                "contact_email": body.get("contact_email"),
                "created_at": now,
                "description": body.get("description"),
                "history": [{"status": "submitted", "status_detail": STATUS_DETAILS["submitted"],
                             "timestamp": now}],
                "id": claim_id,
                "insurance_amount": str(requested),
                "insurance_id": "ins_" + self._hex("ins"),
                "mode": "test",
                "object": "Claim",
                "payment_method": "easypost_wallet",
                "recipient_name": None,
                "requested_amount": str(requested),
                "salvage_value": None,
                "shipment_id": "shp_" + self._hex("shp"),
                "status": "submitted",
                "status_detail": STATUS_DETAILS["submitted"],
                "status_timestamp": now,
                "tracking_code": tracking,
                "type": ctype,
                "updated_at": now,
            }
            self.claims[claim_id] = claim
            self.keys[claim_id] = key
            if key is not None:
                self.by_key[key] = claim_id
            self.outcomes[claim_id] = self._outcome(key or claim_id, requested)
            return 201, claim, {}

    def _move(self, claim: dict[str, Any], status: str) -> None:
        now = _iso(self.now())
        claim["status"] = status
        claim["status_detail"] = STATUS_DETAILS[status]
        claim["status_timestamp"] = now
        claim["updated_at"] = now
        claim["history"].insert(0, {"status": status, "status_detail": STATUS_DETAILS[status],
                                    "timestamp": now})

    def retrieve(self, claim_id: str) -> tuple[int, dict[str, Any]]:
        with self.lock:
            claim = self.claims.get(claim_id)
            if claim is None:
                return 404, _error("NOT_FOUND", f"Claim {claim_id} could not be found.")
            if claim["status"] == "submitted":
                self._move(claim, "in_review")
            elif claim["status"] == "in_review":
                final, approved = self.outcomes[claim_id]
                claim["approved_amount"] = None if approved is None else str(approved)
                self._move(claim, final)
            return 200, claim

    def cancel(self, claim_id: str) -> tuple[int, dict[str, Any]]:
        with self.lock:
            claim = self.claims.get(claim_id)
            if claim is None:
                return 404, _error("NOT_FOUND", f"Claim {claim_id} could not be found.")
            if claim["status"] in ("submitted", "in_review"):
                self._move(claim, "cancelled")
            elif claim["status"] != "cancelled":
                return 422, _error("CLAIM.NOT_CANCELLABLE",
                                   f"A claim in status {claim['status']} cannot be cancelled.")
            return 200, claim

    def find(self, key: str | None) -> dict[str, Any]:
        with self.lock:
            found = [c for cid, c in self.claims.items() if key is None or self.keys[cid] == key]
            return {"claims": found, "has_more": False}

    def snapshot_requests(self) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(r) for r in self.requests]

    def snapshot_claims(self) -> list[dict[str, Any]]:
        with self.lock:
            return [{**json.loads(json.dumps(c)), "idempotency_key": self.keys[cid]}
                    for cid, c in self.claims.items()]
