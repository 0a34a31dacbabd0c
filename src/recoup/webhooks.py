"""`recoup serve`: the webhook receiver (EasyPost ``tracker.updated`` events), on loopback by default.

Every request is verified with ``X-Hmac-Signature`` (HMAC-SHA256 of the raw body with the
configured secret) before anything is read; a wrong or missing signature gets 401 and stores
nothing. Accepted events are stored like a scans file (idempotent by the scan key).

Endpoints: ``GET /health`` answers ``200 {"ok": true}``; ``POST /webhooks/easypost`` (or
``/webhook``) takes events; anything else gets 404 (405 for a wrong method on a known path).

The server is uvicorn (h11) running a Starlette app, with bounds on everything a sender controls
(:class:`Limits`):

- a listen backlog of 2048 (the kernel caps it at ``net.core.somaxconn``);
- at most ``max_connections`` connections and requests at once: beyond that uvicorn answers 503;
- request headers must arrive within ``header_timeout_s`` of the connection (or of the previous
  response on a kept-alive connection), else 408 and the connection is closed (slow loris);
- the body must arrive within ``body_timeout_s`` (a Content-Length that promises more than is sent
  ends there with 408, never a hang) and be at most ``max_body`` bytes (413, checked against the
  declared length first, then while reading);
- decoding, verifying and storing run on a bounded pool of ``workers`` threads; storing is one
  transaction at a time (SQLite has one writer);
- every request gets an answer with a one-line ``{"error": ...}``: 400 for a body that is not a
  JSON object (bad UTF-8, bad JSON, a number longer than ``MAX_NUMBER_DIGITS`` digits, nesting
  deeper than ``MAX_DEPTH``), 422 for an event recoup cannot read at all; a scan
  the reader refuses (a time outside the plausible window of :mod:`recoup.ingest.bounds`, a NUL in
  its text) is a row error as in any file: the event's good scans are stored and the answer is 200
  with ``rejected`` and the ``errors`` (the sender must not retry what will never load), 503 with ``Retry-After`` when the database is
  unavailable (the sender retries), 500 for anything else (logged with its traceback).
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.to_thread
import h11
import uvicorn
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from uvicorn.protocols.http.h11_impl import H11Protocol

from recoup.clock import SYSTEM, Clock
from recoup.errors import FileRefused, StoreError
from recoup.ingest.base import ReadResult
from recoup.ingest.service import ingest_result
from recoup.shipments.webhook import parse_event, verify_signature
from recoup.sla.contracts import ContractSet

log = logging.getLogger(__name__)

MAX_BODY = 5 * 1024 * 1024
MAX_NUMBER_DIGITS = 40          # EasyPost sends weights and ids far shorter than this
MAX_DEPTH = 64                  # an Event nests 4 levels deep
PATHS = ("/webhooks/easypost", "/webhooks/easypost/", "/webhook", "/webhook/")


@dataclass(frozen=True)
class Limits:
    max_body: int = MAX_BODY
    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    keep_alive_s: int = 5
    max_connections: int = 1000
    workers: int = 8
    backlog: int = 2048


class BadEvent(Exception):
    """A request recoup answers with a 4xx: ``status`` and a one-line reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _error(status: int, reason: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error": _one_line(reason)}, status_code=status, headers=headers or None)


# ----------------------------------------------------------------------------- the body, checked

def _parse_int(s: str) -> int:
    if len(s.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise BadEvent(400, f"a number of {len(s.lstrip('-'))} digits (at most {MAX_NUMBER_DIGITS})")
    return int(s)


def _parse_float(s: str) -> float:
    if len(s) > MAX_NUMBER_DIGITS + 10:
        raise BadEvent(400, f"a number of {len(s)} characters (at most {MAX_NUMBER_DIGITS + 10})")
    return float(s)


def _refuse_constant(s: str) -> Any:
    raise BadEvent(400, f"not JSON: {s} is not a number")


def _depth(v: Any, limit: int = MAX_DEPTH) -> int:
    """Nesting depth of a decoded JSON value, without recursion."""
    deepest, stack = 0, [(v, 1)]
    while stack:
        x, d = stack.pop()
        if d > limit:
            return d
        deepest = max(deepest, d)
        if isinstance(x, dict):
            stack.extend((y, d + 1) for y in x.values())
        elif isinstance(x, list):
            stack.extend((y, d + 1) for y in x)
    return deepest


def check_body(body: bytes) -> None:
    """Raise :class:`BadEvent` (400) unless ``body`` is a sane JSON object."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BadEvent(400, f"not UTF-8 at byte {e.start}") from None
    try:
        data = json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_refuse_constant)
    except RecursionError:
        raise BadEvent(400, "not JSON: nested too deeply") from None
    except json.JSONDecodeError as e:
        raise BadEvent(400, f"not JSON: {e}") from None
    if not isinstance(data, dict):
        raise BadEvent(400, "not an EasyPost Event (a JSON object)")
    if _depth(data) > MAX_DEPTH:
        raise BadEvent(400, f"not an EasyPost Event: nested more than {MAX_DEPTH} levels")


def _parse(body: bytes) -> ReadResult:
    check_body(body)
    try:
        result = parse_event(body)
    except BadEvent:
        raise
    except FileRefused as e:
        raise BadEvent(400, str(e)) from None
    except Exception as e:  # a value the reader could not take (a date out of range ...): the sender's to fix
        raise BadEvent(422, f"cannot read the event: {type(e).__name__}: {e}") from None
    return result


# ----------------------------------------------------------------------------- the app

class Receiver:
    """What the endpoints share: the store, the secret, the pool and the write lock."""

    def __init__(self, engine: Engine, secret: str, contracts: ContractSet | None, limits: Limits,
                 clock: Clock = SYSTEM) -> None:
        if not secret:
            raise ValueError("a webhook secret is required")
        self.engine, self.secret, self.contracts, self.limits = engine, secret, contracts, limits
        self.clock = clock
        self.write_lock = threading.Lock()
        self._limiter: anyio.CapacityLimiter | None = None

    @property
    def limiter(self) -> anyio.CapacityLimiter:
        if self._limiter is None:  # made inside the server's event loop
            self._limiter = anyio.CapacityLimiter(self.limits.workers)
        return self._limiter

    async def read_body(self, request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None:
            try:
                n = int(declared)
            except ValueError:
                raise BadEvent(400, "Content-Length is not a number") from None
            if n > self.limits.max_body:
                raise BadEvent(413, f"body of {n} bytes (at most {self.limits.max_body})")
        chunks, size = [], 0
        try:
            async with asyncio.timeout(self.limits.body_timeout_s):
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > self.limits.max_body:
                        raise BadEvent(413, f"body over {self.limits.max_body} bytes")
                    chunks.append(chunk)
        except TimeoutError:
            raise BadEvent(408, f"body not received within {self.limits.body_timeout_s:g} s "
                                f"({size} of {declared or '?'} bytes)") from None
        return b"".join(chunks)

    def handle(self, body: bytes, signature: str | None) -> dict[str, Any]:
        """Verify, decode and store one event (on a worker thread)."""
        if not verify_signature(body, signature, self.secret):
            raise BadEvent(401, "bad or missing X-Hmac-Signature")
        result = _parse(body)
        label = f"webhook:easypost:{self.clock.now().isoformat()}"
        with self.write_lock:
            s = ingest_result(self.engine, "scans", result, label=label, clock=self.clock, contracts=self.contracts)
        return {"read": s.read, "stored": s.stored, "duplicates": s.duplicates, "rejected": s.rejected,
                "errors": [e.as_dict() for e in s.errors]}


def _app(receiver: Receiver) -> Starlette:
    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True})

    async def easypost(request: Request) -> Response:
        try:
            body = await receiver.read_body(request)
            out = await anyio.to_thread.run_sync(receiver.handle, body, request.headers.get("x-hmac-signature"),
                                                 limiter=receiver.limiter)
        except BadEvent as e:
            close = {"Connection": "close"} if e.status in (408, 413) else {}
            return _error(e.status, str(e), **close)
        except ClientDisconnect:
            return Response(status_code=400)
        except (OperationalError, StoreError, OSError) as e:
            log.warning("webhook: the store is unavailable: %s", _one_line(str(e)))
            return _error(503, f"the store is unavailable, try again: {type(e).__name__}", **{"Retry-After": "30"})
        except (DataError, IntegrityError, ValueError, OverflowError) as e:
            log.warning("webhook: event refused by the store: %s", _one_line(str(e)))
            return _error(422, f"cannot store the event: {type(e).__name__}: {_one_line(str(e).splitlines()[0] if str(e) else '')}")
        return JSONResponse(out)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            return _error(404, f"not found: POST EasyPost events to {PATHS[0]}, GET /health")
        return _error(exc.status_code, str(exc.detail))

    async def server_error(request: Request, exc: Exception) -> Response:
        log.exception("webhook: unexpected error")
        return _error(500, f"internal error: {type(exc).__name__}")

    routes = [Route("/health", health, methods=["GET"])]
    routes += [Route(p, easypost, methods=["POST"]) for p in PATHS]
    return Starlette(routes=routes, exception_handlers={HTTPException: http_error, Exception: server_error})


# ----------------------------------------------------------------------------- uvicorn, bounded

class _Protocol(H11Protocol):
    """uvicorn's h11 protocol with a header timeout: the request line and headers must arrive within
    ``header_timeout_s`` of the connection or of the previous response (uvicorn has none)."""

    header_timeout_s = 10.0
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_header_timer()

    def _arm_header_timer(self) -> None:
        self._cancel_header_timer()
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._header_timeout)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_timeout(self) -> None:
        self._header_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return  # closed, or the headers came: the body has its own timeout in the app
        body = json.dumps({"error": f"request headers not received within {self.header_timeout_s:g} s"}).encode()
        head = (f"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
                f"content-length: {len(body)}\r\nconnection: close\r\n\r\n").encode()
        self.transport.write(head + body)
        self.transport.close()


def _protocol_class(limits: Limits) -> type[H11Protocol]:
    return type("BoundedH11Protocol", (_Protocol,), {"header_timeout_s": limits.header_timeout_s})


class WebhookServer:
    """The receiver bound to ``host:port`` (the socket is bound at construction, so ``port=0`` gives
    a free port at once). :meth:`serve_forever` runs in the calling thread (signals stop it when it
    is the main thread); :meth:`start` / :meth:`stop` run it on a background thread (tests)."""

    def __init__(self, engine: Engine, secret: str, contracts: ContractSet | None, *, host: str = "127.0.0.1",
                 port: int = 8080, limits: Limits | None = None, clock: Clock = SYSTEM) -> None:
        self.limits = limits or Limits()
        self.receiver = Receiver(engine, secret, contracts, self.limits, clock)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind((host, port))
        except OSError:
            self.sock.close()
            raise
        self.config = uvicorn.Config(
            _app(self.receiver), http=_protocol_class(self.limits), lifespan="off", log_config=None,
            access_log=False, backlog=self.limits.backlog, limit_concurrency=self.limits.max_connections,
            timeout_keep_alive=self.limits.keep_alive_s, timeout_graceful_shutdown=10,
            h11_max_incomplete_event_size=16 * 1024, server_header=False, date_header=True)
        self.server = uvicorn.Server(self.config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.sock.getsockname()[:2]
        return f"http://{f'[{host}]' if ':' in host else host}:{port}"

    def serve_forever(self) -> None:
        self.server.run(sockets=[self.sock])

    def start(self) -> WebhookServer:
        self._thread = threading.Thread(target=self.serve_forever, name="recoup-webhooks", daemon=True)
        self._thread.start()
        for _ in range(500):
            if self.server.started or not self._thread.is_alive():
                break
            threading.Event().wait(0.01)
        if not self.server.started:
            raise RuntimeError("the webhook server did not start")
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=15)
            self._thread = None
        self.server_close()

    def server_close(self) -> None:
        self.sock.close()

    def __enter__(self) -> WebhookServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def make_server(engine: Engine, secret: str, contracts: ContractSet | None, *, host: str = "127.0.0.1",
                port: int = 8080, limits: Limits | None = None, clock: Clock = SYSTEM) -> WebhookServer:
    """The webhook receiver; events are stored as they arrive, stamped by ``clock`` (the wall clock
    under ``recoup serve``: a webhook is live by nature)."""
    return WebhookServer(engine, secret, contracts, host=host, port=port, limits=limits, clock=clock)
