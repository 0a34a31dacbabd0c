"""`recoup serve`: the webhook receiver (EasyPost ``tracker.updated`` events) on loopback.

Every request is verified with ``X-Hmac-Signature`` (HMAC-SHA256 of the raw body with the
configured secret) before anything is read; a wrong or missing signature gets 401 and stores
nothing. Accepted events are stored like a scans file (idempotent by the scan key).
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy.engine import Engine

from recoup.clock import SYSTEM, Clock
from recoup.errors import FileRefused, RecoupError
from recoup.ingest.service import ingest_result
from recoup.shipments.webhook import parse_event, verify_signature
from recoup.sla.contracts import ContractSet

log = logging.getLogger(__name__)
MAX_BODY = 5 * 1024 * 1024


class WebhookServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, addr: tuple[str, int], engine: Engine, secret: str, contracts: ContractSet | None,
                 clock: Clock = SYSTEM) -> None:
        super().__init__(addr, _Handler)
        self.engine, self.secret, self.contracts, self.clock = engine, secret, contracts, clock
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host if isinstance(host, str) else host.decode()}:{port}"


class _Handler(BaseHTTPRequestHandler):
    server: WebhookServer

    def log_message(self, format: str, *args: Any) -> None:
        log.info("webhook %s", format % args)

    def _reply(self, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path == "/health":
            self._reply(200, {"ok": True})
        else:
            self._reply(404, {"error": "not found"})

    def do_POST(self) -> None:
        if self.path.rstrip("/") not in ("/webhooks/easypost", "/webhook"):
            self._reply(404, {"error": "POST EasyPost events to /webhooks/easypost"})
            return
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            n = -1
        if n < 0 or n > MAX_BODY:
            self._reply(413, {"error": "body too large or without a length"})
            return
        body = self.rfile.read(n)
        if not verify_signature(body, self.headers.get("X-Hmac-Signature"), self.server.secret):
            self._reply(401, {"error": "bad or missing X-Hmac-Signature"})
            return
        try:
            result = parse_event(body)
        except FileRefused as e:
            self._reply(400, {"error": str(e)})
            return
        try:
            with self.server.lock:
                clock = self.server.clock
                s = ingest_result(self.server.engine, "scans", result, clock=clock,
                                  label=f"webhook:easypost:{clock.now().isoformat()}", contracts=self.server.contracts)
        except RecoupError as e:
            self._reply(500, {"error": str(e)})
            return
        self._reply(200, {"read": s.read, "stored": s.stored, "duplicates": s.duplicates, "rejected": s.rejected})


def make_server(engine: Engine, secret: str, contracts: ContractSet | None, *, clock: Clock,
                host: str = "127.0.0.1", port: int = 8080) -> WebhookServer:
    """The webhook receiver; events are stored as they arrive, stamped by ``clock`` (the wall
    clock under ``recoup serve``: a webhook is live by nature)."""
    return WebhookServer((host, port), engine, secret, contracts, clock)
