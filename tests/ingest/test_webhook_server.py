"""`recoup serve`: EasyPost webhooks over real loopback HTTP, HMAC-verified."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import text

from recoup.clock import SYSTEM
from recoup.shipments.webhook import sign
from recoup.webhooks import WebhookServer, make_server

from ..conftest import SAMPLES

EVENT = SAMPLES / "easypost" / "webhook_event_tracker_updated.json"
SECRET = "sécret"
VECTOR = "hmac-sha256-hex=38f3f53c103713df81616a0a186d77141957323ec21d5fe9363db93840f527db"


@pytest.fixture
def server(engine) -> Iterator[WebhookServer]:  # type: ignore[no-untyped-def]
    srv = make_server(engine, SECRET, None, clock=SYSTEM, port=0)
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    t.join(timeout=5)


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
