"""The email channel against a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import csv
import datetime as dt
import email
import email.policy
import io
import shutil
import socket
import ssl
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from recoup.channels.base import Attachment, ChannelConfig, ClaimPacket
from recoup.channels.email import EmailChannel, parse_smtp_url
from recoup.channels.registry import channel_for
from recoup.errors import ConfigError

from .conftest import PNG

NOW = dt.datetime(2026, 11, 16, 9, 30, tzinfo=dt.UTC)
TO = "claims@dpd.example"
FROM = "recoup@merchant.example"


@dataclass
class Inbox:
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address.startswith("nobody@"):
            return "550 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def check_login(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = auth_data.login == b"merchant" and auth_data.password == b"s3cret"
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=check_login,
                            auth_require_tls=False)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def channel(port: int, **kw: Any) -> EmailChannel:
    values: dict[str, Any] = {"claims_email": TO, "from_email": FROM, "timeout_s": 5,
                              "smtp_url": f"smtp://merchant:s3cret@127.0.0.1:{port}"}
    values.update(kw)
    ch = channel_for("dpd_uk", ChannelConfig(**values), clock=lambda: NOW)
    assert isinstance(ch, EmailChannel)
    return ch


def dpd_packet(make_packet: Callable[..., ClaimPacket], n: int = 1, **kw: Any) -> ClaimPacket:
    evidence = (Attachment("photo-outer.png", "image/png", PNG),
                Attachment("invoice.pdf", "application/pdf", b"%PDF-1.4 fake"))
    values: dict[str, Any] = {"carrier": "dpd_uk", "kind": "damaged", "currency": "GBP",
                              "tracking_number": f"1550{n:010d}", "evidence": evidence}
    values.update(kw)
    return make_packet(n, **values)


def test_one_message_per_claim_with_csv_and_evidence(
        smtp: tuple[Inbox, int], make_packet: Callable[..., ClaimPacket]) -> None:
    inbox, port = smtp
    packets = [dpd_packet(make_packet, 1), dpd_packet(make_packet, 2, kind="lost", evidence=())]
    results = channel(port).submit(packets)
    assert [r.outcome for r in results] == ["prepared", "prepared"]
    assert len(inbox.messages) == 2
    assert inbox.envelopes[0] == (FROM, [TO])

    first = inbox.messages[0]
    assert first["To"] == TO
    assert first["From"] == FROM
    subject = first["Subject"]
    assert "Damaged parcel" in subject
    assert "15500000000001" in subject
    assert "recoup claim 1" in subject
    assert first["Message-ID"] == "<recoup.recoup-claim-1-k@merchant.example>"
    assert first["X-Recoup-Idempotency-Key"] == "recoup-claim-1-k"
    assert email.utils.parsedate_to_datetime(first["Date"]) == NOW

    body = first.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert "Tracking number:" in text
    assert "100.00 GBP" in text
    assert "Parcel 1 arrived crushed" in text

    attachments = {a.get_filename(): a for a in first.iter_attachments()}
    assert set(attachments) == {"claim-1.csv", "photo-outer.png", "invoice.pdf"}
    assert attachments["photo-outer.png"].get_content() == PNG
    assert attachments["invoice.pdf"].get_content_type() == "application/pdf"
    rows = list(csv.DictReader(io.StringIO(attachments["claim-1.csv"].get_content())))
    assert len(rows) == 1
    assert rows[0]["Tracking Number"] == "15500000000001"
    assert rows[0]["Amount"] == "100.00"
    assert rows[0]["Claim Type"] == "DAMAGE"

    second = {a.get_filename() for a in inbox.messages[1].iter_attachments()}
    assert second == {"claim-2.csv"}
    assert "Lost parcel" in inbox.messages[1]["Subject"]


def test_a_resend_carries_the_same_message_id(
        smtp: tuple[Inbox, int], make_packet: Callable[..., ClaimPacket]) -> None:
    inbox, port = smtp
    packet = dpd_packet(make_packet, 3)
    channel(port).submit([packet])
    channel(port).submit([packet])
    assert inbox.messages[0]["Message-ID"] == inbox.messages[1]["Message-ID"]


def test_a_refused_login_pauses_the_batch(
        smtp: tuple[Inbox, int], make_packet: Callable[..., ClaimPacket]) -> None:
    inbox, port = smtp
    ch = channel(port, smtp_url=f"smtp://merchant:wrong@127.0.0.1:{port}")
    results = ch.submit([dpd_packet(make_packet, 1), dpd_packet(make_packet, 2)])
    assert [r.outcome for r in results] == ["paused", "paused"]
    assert "SMTP_URL" in results[0].message
    assert "wrong" not in results[0].message
    assert ch.submit([dpd_packet(make_packet, 3)])[0].outcome == "paused"   # stays paused
    assert inbox.messages == []


def test_a_refused_recipient_needs_attention(
        smtp: tuple[Inbox, int], make_packet: Callable[..., ClaimPacket]) -> None:
    _inbox, port = smtp
    [result] = channel(port, claims_email="nobody@dpd.example").submit([dpd_packet(make_packet)])
    assert result.outcome == "needs_attention"
    assert "nobody@dpd.example" in result.message


def test_no_server_means_retry(make_packet: Callable[..., ClaimPacket]) -> None:
    port = free_port()     # nothing listens there
    [result] = channel(port, timeout_s=1).submit([dpd_packet(make_packet)])
    assert result.outcome == "retry"
    assert "cannot reach" in result.message


def test_refused_packets_are_not_sent(smtp: tuple[Inbox, int], make_packet: Callable[..., ClaimPacket]) -> None:
    inbox, port = smtp
    evri = channel_for("evri", ChannelConfig(claims_email=TO, from_email=FROM,
                                             smtp_url=f"smtp://merchant:s3cret@127.0.0.1:{port}"))
    [result] = evri.submit([dpd_packet(make_packet, carrier="evri", kind="late_delivery")])
    assert result.outcome == "needs_attention"
    assert inbox.messages == []


def test_without_smtp_the_messages_go_to_the_outbox(
        tmp_path: Path, make_packet: Callable[..., ClaimPacket]) -> None:
    ch = channel_for("royal_mail", ChannelConfig(claims_email=TO, from_email=FROM, outbox=tmp_path),
                     clock=lambda: NOW)
    [result] = ch.submit([dpd_packet(make_packet, 4, carrier="royal_mail")])
    assert result.outcome == "prepared"
    path = tmp_path / "royal_mail-claim-4.eml"
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert msg["To"] == TO
    assert "recoup claim 4" in msg["Subject"]
    assert ch.find(dpd_packet(make_packet, 4, carrier="royal_mail")) is None
    assert ch.status("anything") is None


@pytest.mark.parametrize(("url", "expected"), [
    ("smtp://u:p%40ss@mail.example:2525", ("mail.example", 2525, "u", "p@ss", False, False)),
    ("smtp://mail.example?starttls=true", ("mail.example", 587, None, None, False, True)),
    ("smtps://u:p@mail.example", ("mail.example", 465, "u", "p", True, False)),
    ("smtp://mail.example", ("mail.example", 25, None, None, False, False)),
])
def test_parse_smtp_url(url: str, expected: tuple[Any, ...]) -> None:
    t = parse_smtp_url(url)
    assert (t.host, t.port, t.username, t.password, t.tls, t.starttls) == expected
    assert "p@ss" not in repr(t)


def test_parse_smtp_url_refuses_other_schemes() -> None:
    with pytest.raises(ConfigError):
        parse_smtp_url("http://mail.example")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_starttls(tmp_path: Path, make_packet: Callable[..., ClaimPacket]) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=server_ctx,
                            require_starttls=True, authenticator=check_login)
    controller.start()
    try:
        client_ctx = ssl.create_default_context(cafile=str(cert))
        ch = channel_for("dpd_uk", ChannelConfig(
            claims_email=TO, from_email=FROM, timeout_s=5,
            smtp_url=f"smtp://merchant:s3cret@127.0.0.1:{port}?starttls=true"), ssl_context=client_ctx)
        [result] = ch.submit([dpd_packet(make_packet)])
    finally:
        controller.stop()
    assert result.outcome == "prepared", result.message
    assert len(inbox.messages) == 1
