"""Notifications: what needs a person, by e-mail (aiosmtpd on loopback) and webhook (a stdlib HTTP
server on loopback), each sent once."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from sqlalchemy.orm import Session

from recoup.settings import Settings, load_settings
from recoup.store.models import CarrierPause, Claim, Finding, IngestedFile, JobRun
from recoup.worker import notify
from recoup.worker.jobs import JobContext
from recoup.worker.scheduler import Worker

from .conftest import make_ctx

AS_OF = dt.date(2026, 11, 16)
NOW = dt.datetime(2026, 11, 16, 9, 0, tzinfo=dt.UTC)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Mailbox:
    messages: list[Any] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.original_content, policy=email.policy.default))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), free_port()

    def login(server: Any, session: Any, envelope: Any, mechanism: str, auth: Any) -> AuthResult:
        return AuthResult(success=auth.login == b"ops" and auth.password == b"pw-secret-9")

    c = Controller(box, hostname="127.0.0.1", port=port, authenticator=login, auth_require_tls=False)
    c.start()
    try:
        yield box, port
    finally:
        c.stop()


class Hook:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.status = 200
        hook = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                n = int(self.headers.get("Content-Length", "0"))
                hook.bodies.append(json.loads(self.rfile.read(n)))
                self.send_response(hook.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/T0/B0/tok3n"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def hook() -> Iterator[Hook]:
    h = Hook()
    try:
        yield h
    finally:
        h.close()


def seed(ctx: JobContext) -> None:
    now = dt.datetime.now(dt.UTC)
    with Session(ctx.engine) as s:
        s.add(CarrierPause(carrier="ups", reason="401 unauthorized", at=now))
        s.add(IngestedFile(path="/inbox/invoices/bad.csv", sha256="x", kind="invoices", outcome="refused",
                           message="format not recognised", at=now))
        f = Finding(key="late|ups|1Z1", kind="late_delivery", carrier="ups", tracking_number="1Z1", amount_cents=2435,
                    currency="USD", deadline=AS_OF + dt.timedelta(days=2), claimable=True, reason="late",
                    first_seen=now, updated_at=now)
        s.add(f)
        s.flush()
        s.add(Claim(finding_id=f.id, kind="late_delivery", carrier="ups", tracking_number="1Z1", status="ready",
                    claimed_cents=2435, currency="USD", deadline=AS_OF + dt.timedelta(days=2), idempotency_key="k1",
                    created_at=now, updated_at=now))
        s.commit()


def settings_with(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return load_settings()


def test_alerts_go_out_once_by_email_and_webhook(worker_env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                                                 smtp: tuple[Mailbox, int], hook: Hook) -> None:
    box, port = smtp
    s = settings_with(monkeypatch, RECOUP_NOTIFY__SMTP_URL=f"smtp://ops:pw-secret-9@127.0.0.1:{port}",
                      RECOUP_NOTIFY__EMAIL_TO='["ops@merchant.example"]', RECOUP_NOTIFY__WEBHOOK_URL=hook.url,
                      RECOUP_NOTIFY__FAILING_JOBS_THRESHOLD="2")
    ctx = make_ctx(s)
    seed(ctx)
    r = notify.check(ctx.engine, s, AS_OF, NOW)
    assert (r.alerts, r.new, r.sent, r.problems) == (3, 3, 3, [])
    (body,) = hook.bodies
    assert sorted(a["kind"] for a in body["alerts"]) == ["carrier_paused", "file_rejected", "near_deadline"]
    (msg,) = box.messages
    assert msg["To"] == "ops@merchant.example" and "3 item(s) need a person" in msg["Subject"]
    text = msg.get_content()
    assert "claims resume ups" in text and "bad.csv" in text and "1Z1" in text

    # the next tick: nothing new, nothing sent
    r = notify.check(ctx.engine, s, AS_OF, NOW)
    assert (r.alerts, r.new, r.sent) == (3, 0, 0)
    assert len(hook.bodies) == 1 and len(box.messages) == 1

    # a job failing twice in a row (the threshold) is told once, a new streak again
    def runs(*outcomes: str, start: int) -> None:
        with Session(ctx.engine) as ses:
            for i, o in enumerate(outcomes):
                ses.add(JobRun(job="audit", tick=f"2026-11-16T{start + i:02d}:20:00+00:00", outcome=o,
                               started_at=NOW + dt.timedelta(hours=start + i), detail=f"boom {o}"))
            ses.commit()

    runs("failed", start=1)
    assert notify.check(ctx.engine, s, AS_OF, NOW).new == 0
    runs("failed", start=2)
    r = notify.check(ctx.engine, s, AS_OF, NOW)
    assert r.new == 1 and hook.bodies[-1]["alerts"][0]["kind"] == "job_failing"
    assert hook.bodies[-1]["alerts"][0]["data"]["failures"] == 2
    runs("failed", start=3)                                # the same streak goes on: told already
    assert notify.check(ctx.engine, s, AS_OF, NOW).new == 0
    runs("ok", "failed", "failed", start=4)                # a new streak
    r = notify.check(ctx.engine, s, AS_OF, NOW)
    assert r.new == 1 and hook.bodies[-1]["alerts"][0]["data"]["since"].startswith("2026-11-16T05")
    assert len(hook.bodies) == 3


def test_an_alert_nobody_took_is_sent_again(worker_env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                                            hook: Hook, caplog: pytest.LogCaptureFixture) -> None:
    s = settings_with(monkeypatch, RECOUP_NOTIFY__WEBHOOK_URL=hook.url)
    ctx = make_ctx(s)
    seed(ctx)
    hook.status = 500
    r = notify.check(ctx.engine, s, AS_OF, NOW)
    assert r.sent == 0 and r.problems and "tok3n" not in " ".join(r.problems)
    assert "tok3n" not in caplog.text
    hook.status = 204
    r = notify.check(ctx.engine, s, AS_OF, NOW)
    assert r.sent == 3 and len(hook.bodies) == 2


def test_not_configured_sends_nothing(worker_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    s = load_settings()
    ctx = make_ctx(s)
    seed(ctx)
    assert notify.check(ctx.engine, s, AS_OF, NOW).alerts == 0


def test_the_worker_tells_a_failing_job_after_its_runs(worker_env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                                                       hook: Hook) -> None:
    from recoup.worker import jobs

    def boom(ctx: JobContext) -> dict[str, int]:
        raise RuntimeError("expire exploded")

    monkeypatch.setitem(jobs.JOBS, "expire_claims", boom)
    s = settings_with(monkeypatch, RECOUP_NOTIFY__WEBHOOK_URL=hook.url, RECOUP_NOTIFY__FAILING_JOBS_THRESHOLD="2")
    w = Worker(make_ctx(s, clock=lambda: NOW))
    w.start()
    try:
        for day in (1, 2, 3):
            w.run_job("expire_claims", dt.datetime(2026, 11, day, 0, 15, tzinfo=dt.UTC))
    finally:
        w.close()
    told = [a for b in hook.bodies for a in b["alerts"] if a["kind"] == "job_failing"]
    assert len(told) == 1 and "expire exploded" in told[0]["text"]
