"""The sandbox carrier server: an EasyPost-style Claims API with injectable faults.

A test and demo double, not a carrier: it lives outside ``recoup.carriers`` and production code
never imports it (``recoup sandbox`` serves it, ``recoup demo`` and the tests file claims to it).

Its contract (spec/claims.md "Its contract, so that anything can drive it"):

- ``POST /v2/claims`` (HTTP basic auth, the API key as user name; none: ``401``) creates a claim
  from ``tracking_code``, ``type``, ``amount`` (> 0), ``description``, ``contact_email`` and the
  ``*_attachments`` data-URI arrays, answering ``201`` with the Claim. Missing or bad fields:
  ``422`` with an EasyPost-style error body ``{"error": {"code", "message", "errors": [{"field",
  "message"}]}}``. An ``Idempotency-Key`` already seen answers the same claim (``201``, header
  ``Idempotent-Replayed: true``), never a second one; the same key with another tracking code,
  type or amount: ``409``.
- ``GET /v2/claims/{id}`` answers the Claim; each GET moves it one step: ``submitted`` →
  ``in_review`` → final (``approved``, ``approved_partial`` with ``approved_amount`` below the
  requested amount, or ``rejected``, drawn per claim from the ``reject``/``partial`` shares).
- ``GET /v2/claims?idempotency_key=K`` answers ``{"claims": [...], "has_more": false}``.
- ``POST /v2/claims/{id}/cancel`` cancels a claim not yet final (a final one: ``422``).
- ``GET /_sandbox/requests``: every API request received, ``[{"method", "path", "query",
  "idempotency_key", "status", "fault", "at"}]`` (``status`` null when no answer was sent);
  ``GET /_sandbox/claims``: the claims held, each with its ``idempotency_key``. These two need no
  key, get no faults and are not recorded.

Faults, e.g. ``"429=0.2,500=0.1,502=0.05,503=0.05,504=0,timeout=0.05,reset=0.02,malformed=0.02,
latency=0.2s,reject=0.1,partial=0.1,seed=7"``: each share is the probability that one API request
gets that fault (one draw per request from a generator seeded with ``seed``, so a sequential
client sees the same faults every run). ``429``/``5xx`` refuse the request before it is handled
(``429`` with ``Retry-After``, ``retry_after=1`` seconds by default). ``timeout``, ``reset`` and
``malformed`` happen *after* the request was handled, the worst case for a client: the claim was
created but the answer is lost. ``timeout`` holds the connection ``hold`` seconds (default 30)
then closes it without an answer; ``reset`` closes it abruptly (TCP RST); ``malformed`` answers
broken JSON. ``latency`` delays every API request. ``reject`` and ``partial`` decide each
claim's final status, from the seed and the claim's idempotency key.
"""

from __future__ import annotations

import base64
import binascii
import collections
import datetime as dt
import hashlib
import json
import logging
import random
import re
import socket
import struct
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO
from urllib.parse import parse_qs, urlsplit

from recoup.clock import wall_now
from recoup.errors import ConfigError

log = logging.getLogger(__name__)

REQUEST_FAULTS = ("429", "500", "502", "503", "504", "timeout", "reset", "malformed")
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


# ---------------------------------------------------------------------------------------------
# Fault spec
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Faults:
    shares: Mapping[str, float] = field(default_factory=dict)   # request fault -> probability
    latency_s: float = 0.0
    reject: float = 0.0
    partial: float = 0.0
    seed: int = 0
    retry_after_s: int = 1
    hold_s: float = 30.0


_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(ms|s)?\s*$")


def _duration(key: str, text: str) -> float:
    m = _DURATION.match(text)
    if not m:
        raise ConfigError(f"sandbox faults: {key}={text!r} is not a duration (e.g. 0.2s, 200ms)")
    value = float(m.group(1))
    return value / 1000 if m.group(2) == "ms" else value


def _share(key: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"sandbox faults: {key}={text!r} is not a share between 0 and 1") from None
    if not 0 <= value <= 1:
        raise ConfigError(f"sandbox faults: {key}={text!r} is not a share between 0 and 1")
    return value


def parse_faults(spec: str | None) -> Faults:
    """Parse ``"429=0.2,500=0.1,timeout=0.05,latency=0.2s,reject=0.1,partial=0.1,seed=7"``.

    Keys: the request faults ``429 500 502 503 504 timeout reset malformed`` (shares, summing to
    at most 1), ``latency`` and ``hold`` (durations: ``0.2``, ``0.2s``, ``200ms``), ``reject`` and
    ``partial`` (shares, summing to at most 1), ``seed`` and ``retry_after`` (whole numbers).
    Raises ConfigError naming the bad item.
    """
    shares: dict[str, float] = {}
    kw: dict[str, Any] = {}
    for raw in (spec or "").split(","):
        item = raw.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not sep or not value:
            raise ConfigError(f"sandbox faults: {item!r} is not key=value")
        if key in REQUEST_FAULTS:
            shares[key] = _share(key, value)
        elif key in ("reject", "partial"):
            kw[key] = _share(key, value)
        elif key in ("latency", "hold"):
            kw[f"{key}_s"] = _duration(key, value)
        elif key in ("seed", "retry_after"):
            try:
                number = int(value.removesuffix("s"))
            except ValueError:
                raise ConfigError(f"sandbox faults: {key}={value!r} is not a whole number") from None
            kw["seed" if key == "seed" else "retry_after_s"] = number
        else:
            known = ", ".join((*REQUEST_FAULTS, "latency", "hold", "reject", "partial", "seed", "retry_after"))
            raise ConfigError(f"sandbox faults: unknown key {key!r} (known: {known})")
    if sum(shares.values()) > 1 + 1e-9:
        raise ConfigError("sandbox faults: the request fault shares add up to more than 1")
    if kw.get("reject", 0) + kw.get("partial", 0) > 1 + 1e-9:
        raise ConfigError("sandbox faults: reject + partial add up to more than 1")
    return Faults(shares=shares, **kw)


# ---------------------------------------------------------------------------------------------
# State
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------------------------

_CLAIM_PATH = re.compile(r"^/v2/claims/([A-Za-z0-9_]+)$")
_CANCEL_PATH = re.compile(r"^/v2/claims/([A-Za-z0-9_]+)/cancel$")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: _State

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("sandbox: error while serving %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "recoup-sandbox/1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("sandbox: " + format, *args)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    # -- plumbing -----------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status: int, payload: Any, headers: Mapping[str, str] | None = None,
              raw: bytes | None = None) -> None:
        body = raw if raw is not None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _authorised(self) -> tuple[bool, dict[str, Any]]:
        header = self.headers.get("Authorization") or ""
        scheme, _, value = header.partition(" ")
        user = ""
        if scheme.lower() == "basic" and value:
            try:
                user = base64.b64decode(value.strip(), validate=True).decode().partition(":")[0]
            except (binascii.Error, UnicodeDecodeError):
                user = ""
        if not user:
            return False, _error("APIKEY.REQUIRED",
                                 "No API key was provided: use HTTP basic auth with the key as user name.")
        expected = self.server.state.api_key
        if expected is not None and user != expected:
            return False, _error("APIKEY.INACTIVE", "The API key provided is not valid.")
        return True, {}

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: bytes,
               key: str | None) -> tuple[int, Any, dict[str, str]]:
        state = self.server.state
        ok, err = self._authorised()
        if not ok:
            return 401, err, {}
        if path == "/v2/claims" and method == "POST":
            try:
                data = json.loads(body or b"{}")
            except (ValueError, UnicodeDecodeError):
                return 400, _error("PARAMETER.INVALID_JSON", "The request body is not valid JSON."), {}
            if not isinstance(data, dict):
                return 400, _error("PARAMETER.INVALID_JSON", "The request body must be a JSON object."), {}
            return state.create(data, key)
        if path == "/v2/claims" and method == "GET":
            wanted = query.get("idempotency_key", [None])[0]
            return 200, state.find(wanted), {}
        m = _CLAIM_PATH.match(path)
        if m and method == "GET":
            status, payload = state.retrieve(m.group(1))
            return status, payload, {}
        m = _CANCEL_PATH.match(path)
        if m and method == "POST":
            status, payload = state.cancel(m.group(1))
            return status, payload, {}
        return 404, _error("NOT_FOUND", f"No route for {method} {path}."), {}

    def _handle(self, method: str) -> None:
        state = self.server.state
        at = state.now()
        split = urlsplit(self.path)
        path, query = split.path, split.query
        body = self._read_body()
        if path.startswith("/_sandbox/"):
            if method == "GET" and path == "/_sandbox/requests":
                self._send(200, state.snapshot_requests())
            elif method == "GET" and path == "/_sandbox/claims":
                self._send(200, state.snapshot_claims())
            else:
                self._send(404, _error("NOT_FOUND", f"No route for {method} {path}."))
            return
        faults = state.faults
        key = self.headers.get("Idempotency-Key")
        if faults.latency_s and state.stopping.wait(faults.latency_s):
            return
        fault = state.draw_fault()
        if fault is not None and fault.isdigit():
            status = int(fault)
            headers = {"Retry-After": str(faults.retry_after_s)} if status == 429 else {}
            message = "Too many requests." if status == 429 else "The sandbox failed on purpose."
            state.record(method, path, query, key, status, fault, at)
            self._send(status, _error("SANDBOX.FAULT", message), headers)
            return
        status, payload, headers = self._route(method, path, parse_qs(query), body, key)
        if fault == "timeout":
            state.record(method, path, query, key, None, fault, at)
            state.stopping.wait(faults.hold_s)
            self.close_connection = True        # closed without an answer
            return
        if fault == "reset":
            state.record(method, path, query, key, None, fault, at)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        state.record(method, path, query, key, status, fault, at)
        if fault == "malformed":
            broken = json.dumps(payload).encode()[: max(1, len(json.dumps(payload)) // 2)]
            self._send(status, None, headers, raw=broken)
            return
        self._send(status, payload, headers)


class SandboxServer:
    """The sandbox on 127.0.0.1, served from a background thread.

    ::

        with SandboxServer("429=0.2,timeout=0.05,seed=7", hold_s=0.3) as sandbox:
            ... sandbox.url ...        # http://127.0.0.1:PORT
            sandbox.requests()         # as GET /_sandbox/requests
            sandbox.claims()           # as GET /_sandbox/claims

    ``faults`` is a spec string or :class:`Faults`; ``hold_s`` overrides the timeout hold;
    ``api_key`` demands that key (default: any key, but one is required); ``now`` is the clock for
    claim timestamps.
    """

    def __init__(self, faults: str | Faults = "", *, port: int = 0, host: str = "127.0.0.1",
                 hold_s: float | None = None, api_key: str | None = None,
                 now: Callable[[], dt.datetime] | None = None) -> None:
        parsed = faults if isinstance(faults, Faults) else parse_faults(faults)
        if hold_s is not None:
            parsed = replace(parsed, hold_s=hold_s)
        self._hold_override = hold_s
        self.state = _State(parsed, api_key, now or wall_now)   # the fake carrier's own clock: wall by default)
        self._server = _Server((host, port), _Handler)
        self._server.state = self.state
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        if isinstance(host, bytes):
            host = host.decode()
        return f"http://{host}:{port}"

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def set_faults(self, faults: str | Faults) -> None:
        """Change the faults (and reseed) while running."""
        parsed = faults if isinstance(faults, Faults) else parse_faults(faults)
        if self._hold_override is not None:
            parsed = replace(parsed, hold_s=self._hold_override)
        self.state.set_faults(parsed)

    def queue_faults(self, *faults: str | None) -> None:
        """The next API requests get these faults, in order (None: no fault), before any draw."""
        for fault in faults:
            if fault is not None and fault not in REQUEST_FAULTS:
                raise ValueError(f"unknown fault {fault!r}")
        with self.state.lock:
            self.state.queued.extend(faults)

    def requests(self) -> list[dict[str, Any]]:
        return self.state.snapshot_requests()

    def claims(self) -> list[dict[str, Any]]:
        return self.state.snapshot_claims()

    def start(self) -> SandboxServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                name=f"recoup-sandbox-{self.port}", daemon=True)
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        self.state.stopping.set()          # ends held requests and latency waits
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(port: int = 8765, faults: str = "", *, api_key: str | None = None,
          hold_s: float | None = None, out: TextIO | None = None) -> None:
    """Run the sandbox in the foreground (``recoup sandbox``) until interrupted.

    Prints one line, ``recoup sandbox listening on http://127.0.0.1:PORT``, once it accepts
    connections. A bad fault spec raises ConfigError before anything is bound.
    """
    server = SandboxServer(faults, port=port, api_key=api_key, hold_s=hold_s)
    out = out or sys.stdout
    print(f"recoup sandbox listening on {server.url}", file=out, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.state.stopping.set()
        server._server.server_close()
