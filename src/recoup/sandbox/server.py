"""The sandbox's HTTP side: routing, auth, fault injection, and the server that runs it."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import logging
import re
import socket
import struct
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO
from urllib.parse import parse_qs, urlsplit

from recoup.clock import wall_now
from recoup.sandbox.faults import REQUEST_FAULTS, Faults, parse_faults
from recoup.sandbox.state import _error, _State

log = logging.getLogger("recoup.sandbox")

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
