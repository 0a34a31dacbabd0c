"""`recoup serve`: EasyPost webhooks over real loopback HTTP, HMAC-verified."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import text

from recoup.shipments.webhook import sign
from recoup.webhooks import Limits, WebhookServer, make_server

from ..conftest import SAMPLES

EVENT = SAMPLES / "easypost" / "webhook_event_tracker_updated.json"
SECRET = "sécret"
VECTOR = "hmac-sha256-hex=38f3f53c103713df81616a0a186d77141957323ec21d5fe9363db93840f527db"


LIMITS = Limits(header_timeout_s=1.0, body_timeout_s=1.0, max_body=64 * 1024, workers=4)


@pytest.fixture
def server(engine) -> Iterator[WebhookServer]:  # type: ignore[no-untyped-def]
    with make_server(engine, SECRET, None, port=0, limits=LIMITS) as srv:
        yield srv


def scans(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as c:
        return int(c.execute(text("select count(*) from scan_event")).scalar_one())


def test_the_published_test_vector_is_accepted_and_stored_once(server, engine) -> None:  # type: ignore[no-untyped-def]
    body = EVENT.read_bytes().rstrip(b"\n")
    assert sign(body, SECRET) == VECTOR
    r = httpx.post(f"{server.url}/webhooks/easypost", content=body, headers={"X-Hmac-Signature": VECTOR})
    assert r.status_code == 200, r.text
    stored = r.json()["stored"]
    assert stored == scans(engine) > 0
    again = httpx.post(f"{server.url}/webhooks/easypost", content=body, headers={"X-Hmac-Signature": VECTOR})
    assert again.status_code == 200
    assert again.json()["stored"] == 0
    assert scans(engine) == stored


@pytest.mark.parametrize("header", [None, "hmac-sha256-hex=00", VECTOR.replace("38f3", "38f4")])
def test_a_wrong_signature_gets_401_and_stores_nothing(server, engine, header) -> None:  # type: ignore[no-untyped-def]
    body = EVENT.read_bytes().rstrip(b"\n")
    headers = {"X-Hmac-Signature": header} if header else {}
    r = httpx.post(f"{server.url}/webhooks/easypost", content=body, headers=headers)
    assert r.status_code == 401
    assert scans(engine) == 0


def test_tampered_body_is_refused(server, engine) -> None:  # type: ignore[no-untyped-def]
    body = EVENT.read_bytes().rstrip(b"\n").replace(b"in_transit", b"delivered", 1)
    r = httpx.post(f"{server.url}/webhooks/easypost", content=body, headers={"X-Hmac-Signature": VECTOR})
    assert r.status_code == 401
    assert scans(engine) == 0


def post(server: WebhookServer, body: bytes, **kw: object) -> httpx.Response:
    return httpx.post(f"{server.url}/webhooks/easypost", content=body,
                      headers={"X-Hmac-Signature": sign(body, SECRET)}, timeout=10, **kw)  # type: ignore[arg-type]


def raw(server: WebhookServer, data: bytes, *, wait: float = 5.0) -> bytes:
    """Send raw bytes on a loopback socket; everything the server answers until it closes."""
    host, port = server.sock.getsockname()[:2]
    with socket.create_connection((host, port), timeout=wait) as s:
        s.sendall(data)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                return out + b"<still open>"
            if not chunk:
                return out
            out += chunk


def test_health_answers_ok(server) -> None:  # type: ignore[no-untyped-def]
    r = httpx.get(f"{server.url}/health")
    assert r.status_code == 200 and r.json() == {"ok": True}
    assert httpx.get(f"{server.url}/nowhere").status_code == 404


@pytest.mark.parametrize(("body", "status", "words"), [
    (b"{not json", 400, "not JSON"),
    (b"[1, 2]", 400, "JSON object"),
    (b"\xff\xfe{}", 400, "UTF-8"),
    (b'{"result": {"weight": ' + b"1" * 5001 + b"}}", 400, "5001 digits"),
    (b"[" * 5000 + b"]" * 5000, 400, "nested"),
    (b'{"a": NaN}', 400, "NaN"),
])
def test_bad_input_gets_400_with_one_line(server, engine, body, status, words) -> None:  # type: ignore[no-untyped-def]
    r = post(server, body)
    assert r.status_code == status, r.text
    reason = r.json()["error"]
    assert words in reason and "\n" not in reason
    assert scans(engine) == 0


def test_a_scan_in_year_9999_is_that_scans_error_and_the_others_load(server, engine) -> None:  # type: ignore[no-untyped-def]
    # a row error as in every reader (issue 15 item 3): answered, never a closed connection, and the
    # sender is not asked to retry an event that will never load
    for year in (b"9999", b"2150"):
        body = EVENT.read_bytes().rstrip(b"\n").replace(b"2024-07-31T15:00:00Z", year + b"-07-31T15:00:00Z")
        r = post(server, body)
        assert r.status_code == 200, r.text
        got = r.json()
        assert got["rejected"] == 1 and "plausible window" in got["errors"][0]["reason"]
    assert 0 < scans(engine) == got["read"] - 1


def test_an_oversized_body_gets_413(server, engine) -> None:  # type: ignore[no-untyped-def]
    body = b'{"pad": "' + b"x" * (LIMITS.max_body + 10) + b'"}'
    r = post(server, body)
    assert r.status_code == 413
    assert scans(engine) == 0


def test_oversized_chunked_body_gets_413(server) -> None:  # type: ignore[no-untyped-def]
    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b"x" * 4096

    r = httpx.post(f"{server.url}/webhooks/easypost", content=chunks(), headers={"X-Hmac-Signature": "x"}, timeout=10)
    assert r.status_code == 413


def test_a_lying_content_length_gets_an_answer_not_a_hang(server) -> None:  # type: ignore[no-untyped-def]
    t0 = time.monotonic()
    out = raw(server, b"POST /webhooks/easypost HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n"
                      b"X-Hmac-Signature: hmac-sha256-hex=00\r\n\r\n{}")
    assert out.startswith(b"HTTP/1.1 408"), out
    assert time.monotonic() - t0 < LIMITS.body_timeout_s + 3


def test_a_slow_loris_connection_times_out(server) -> None:  # type: ignore[no-untyped-def]
    host, port = server.sock.getsockname()[:2]
    t0 = time.monotonic()
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall(b"POST /webhooks/easypost HTTP/1.1\r\nHost: x\r\n")
        out, closed = b"", False
        for _ in range(20):  # one header byte at a time, never finishing the headers
            try:
                s.sendall(b"X")
            except OSError:
                closed = True
                break
            time.sleep(0.2)
            s.settimeout(0.01)
            try:
                chunk = s.recv(4096)
                if not chunk:
                    closed = True
                    break
                out += chunk
            except TimeoutError:
                pass
            except OSError:
                closed = True
                break
    assert closed or out, "the server kept a slow-loris connection open"
    assert time.monotonic() - t0 < LIMITS.header_timeout_s + 3
    if out:
        assert out.startswith(b"HTTP/1.1 408")


def test_garbage_request_line_gets_400(server) -> None:  # type: ignore[no-untyped-def]
    out = raw(server, b"\x00\x01 nonsense\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 400"), out


def test_concurrency_200_has_no_resets(server, engine) -> None:  # type: ignore[no-untyped-def]
    """200 requests at once on loopback, each on its own connection: every one answered."""
    body = EVENT.read_bytes().rstrip(b"\n")
    sig = sign(body, SECRET)
    url = f"{server.url}/webhooks/easypost"

    def one(i: int) -> int:
        with httpx.Client(timeout=60) as client:
            path_body = body if i % 2 else json.dumps({"object": "Event", "description": "batch.updated"}).encode()
            headers = {"X-Hmac-Signature": sig if i % 2 else sign(path_body, SECRET)}
            return client.post(url, content=path_body, headers=headers).status_code

    with ThreadPoolExecutor(max_workers=200) as pool:
        codes = list(pool.map(one, range(200)))
    assert codes == [200] * 200
    assert scans(engine) > 0


def test_server_answers_after_the_abuse(server) -> None:  # type: ignore[no-untyped-def]
    raw(server, b"POST /webhooks/easypost HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n")
    assert httpx.get(f"{server.url}/health").status_code == 200


# ----------------------------------------------------------------------------- the CLI: secrets never on the command line

def run_cli(*args: str) -> tuple[int, str]:
    from typer.testing import CliRunner

    from recoup.cli import app

    r = CliRunner().invoke(app, list(args))
    return r.exit_code, r.stderr


def test_serve_refuses_a_secret_on_the_command_line(cli_env, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("RECOUP_WEBHOOK_SECRET", "from-env")
    code, err = run_cli("serve", "--port", "0", "--secret", "hunter2")
    assert code == 2
    assert "--secret is no longer accepted" in err and "RECOUP_WEBHOOK_SECRET" in err
    assert "hunter2" not in err


def test_serve_needs_a_secret(cli_env, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("RECOUP_WEBHOOK_SECRET", raising=False)
    code, err = run_cli("serve", "--port", "0")
    assert code == 2 and "RECOUP_WEBHOOK_SECRET" in err
    empty = tmp_path / "secret"
    empty.write_text("\n")
    code, err = run_cli("serve", "--port", "0", "--secret-file", str(empty))
    assert code == 2 and "empty" in err
    code, err = run_cli("serve", "--port", "0", "--secret-file", str(tmp_path / "missing"))
    assert code == 2 and "cannot read" in err and "Traceback" not in err


def test_serve_takes_the_secret_from_a_file_and_stops_on_sigint(cli_env, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os
    import signal
    import subprocess
    import sys

    secret = tmp_path / "secret"
    secret.write_text(SECRET + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "RECOUP_WEBHOOK_SECRET"}
    assert run_cli("init")[0] == 0
    p = subprocess.Popen([sys.executable, "-m", "recoup", "serve", "--port", "0", "--secret-file", str(secret)],
                         env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stderr is not None
        line = p.stderr.readline()
        assert "listening on http://127.0.0.1:" in line, line
        base = line.split("listening on ")[1].strip().removesuffix("/webhooks/easypost")
        assert httpx.get(f"{base}/health", timeout=5).json() == {"ok": True}
        body = EVENT.read_bytes().rstrip(b"\n")
        r = httpx.post(f"{base}/webhooks/easypost", content=body, headers={"X-Hmac-Signature": VECTOR}, timeout=10)
        assert r.status_code == 200, r.text
    finally:
        p.send_signal(signal.SIGINT)
        assert p.wait(timeout=20) in (0, 130)
        if p.stderr is not None:
            p.stderr.close()
