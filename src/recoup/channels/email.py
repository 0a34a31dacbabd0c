"""The ``email`` channel: one message per claim to the carrier's claims address.

Each message carries the claim as plain text, the claim data as a CSV attachment (the carrier's
dispute-file columns) and the packet's evidence. Its ``Message-ID`` is derived from the claim's
idempotency key, so a resend after a crash is recognisable as the same claim. Sent over SMTP
(``smtp://user:pass@host:port``, ``?starttls=true`` for STARTTLS, ``smtps://`` for implicit TLS);
with no ``smtp_url`` the messages are written as ``.eml`` files to the outbox for a person to
send. Either way the outcome is ``prepared``: the answer comes back by hand or on an invoice.
"""

from __future__ import annotations

import csv
import datetime as dt
import email.utils
import io
import logging
import re
import smtplib
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from recoup.carriers.base import CarrierSpec, kind_label
from recoup.channels.base import ChannelConfig, ClaimPacket, Outcome, StatusResult, SubmitResult, precheck
from recoup.channels.file import dispute_row, write_atomically
from recoup.clock import SYSTEM
from recoup.errors import ConfigError
from recoup.money import round_cents

log = logging.getLogger(__name__)

SmtpFactory = Callable[..., smtplib.SMTP]


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool          # implicit TLS (smtps://)
    starttls: bool

    def __repr__(self) -> str:   # never shows the password
        return f"SmtpTarget({self.host}:{self.port}, user={self.username!r}, tls={self.tls}, starttls={self.starttls})"


_TRUE = {"1", "true", "yes", "on"}


def parse_smtp_url(url: str) -> SmtpTarget:
    """``smtp://user:pass@host:port[?starttls=true]`` or ``smtps://...``; ConfigError otherwise."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("smtp", "smtps", "smtp+starttls") or not parts.hostname:
        raise ConfigError("smtp_url must look like smtp://user:pass@host:port (or smtps://...)")
    query = parse_qs(parts.query)
    starttls = scheme == "smtp+starttls" or query.get("starttls", ["false"])[0].lower() in _TRUE
    tls = scheme == "smtps"
    try:
        port = parts.port or (465 if tls else 587 if starttls else 25)
    except ValueError:
        raise ConfigError("smtp_url has a bad port") from None
    return SmtpTarget(
        host=parts.hostname, port=port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        tls=tls, starttls=starttls and not tls,
    )


# ---------------------------------------------------------------------------------------------
# Build (pure)
# ---------------------------------------------------------------------------------------------


def message_id(idempotency_key: str, from_email: str) -> str:
    """A Message-ID that is the same for every send of one claim."""
    local = re.sub(r"[^A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]", "-", idempotency_key).strip(".") or "claim"
    domain = from_email.rpartition("@")[2] or "recoup.invalid"
    return f"<recoup.{local}@{domain}>"


def subject(packet: ClaimPacket) -> str:
    return f"Claim: {kind_label(packet.kind)} - tracking {packet.tracking_number} - recoup claim {packet.claim_id}"


def claim_csv(packet: ClaimPacket, carrier: CarrierSpec) -> bytes:
    """The claim as a one-row CSV in the carrier's dispute-file columns."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(carrier.dispute_headers())
    writer.writerow([str(v) for v in dispute_row(carrier, packet)])
    return out.getvalue().encode("utf-8")


def body_text(packet: ClaimPacket, carrier: CarrierSpec) -> str:
    rows = [
        ("Claim", f"{kind_label(packet.kind)} ({carrier.claim_type(packet.kind)})"),
        ("Tracking number", packet.tracking_number),
        ("Ship date", packet.ship_date.isoformat() if packet.ship_date else ""),
        ("Service", packet.service or ""),
        ("Account number", packet.account_number or ""),
        ("Invoice number", packet.invoice_number or ""),
        ("Amount claimed", f"{round_cents(packet.amount)} {packet.currency}"),
        ("Reason", packet.description),
        ("Our reference", f"recoup claim {packet.claim_id} ({packet.idempotency_key})"),
        ("Contact", packet.contact_email or ""),
    ]
    width = max(len(k) for k, _ in rows) + 2
    lines = [f"Dear {carrier.name} claims team,", "",
             "Please accept the following claim.", ""]
    lines += [f"{k + ':':<{width}}{v}" for k, v in rows if v]
    n = len(packet.evidence)
    lines += ["", "The claim data is attached as CSV"
              + (f", with {n} evidence file{'s' if n != 1 else ''}." if n else "."),
              "Please quote the tracking number and our reference in your reply.", ""]
    return "\n".join(lines)


def build_message(packet: ClaimPacket, carrier: CarrierSpec, *, to: str, from_email: str,
                  now: dt.datetime) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = from_email
    msg["To"] = to
    msg["Subject"] = subject(packet)
    msg["Date"] = email.utils.format_datetime(now.astimezone(dt.UTC))
    msg["Message-ID"] = message_id(packet.idempotency_key, from_email)
    msg["X-Recoup-Claim-Id"] = str(packet.claim_id)
    msg["X-Recoup-Idempotency-Key"] = packet.idempotency_key
    if packet.contact_email:
        msg["Reply-To"] = packet.contact_email
    msg.set_content(body_text(packet, carrier))
    msg.add_attachment(claim_csv(packet, carrier), maintype="text", subtype="csv",
                       filename=f"claim-{packet.claim_id}.csv")
    for a in packet.evidence:
        maintype, _, subtype = a.content_type.partition("/")
        msg.add_attachment(a.data, maintype=maintype or "application",
                           subtype=subtype or "octet-stream", filename=a.filename)
    return msg


# ---------------------------------------------------------------------------------------------
# The channel
# ---------------------------------------------------------------------------------------------


class EmailChannel:
    """Sends one e-mail per claim; outcome ``prepared``. See the module docstring.

    SMTP failures: authentication refused → ``paused`` for the whole batch and every later call
    on this channel object (``paused`` says why); cannot connect or
    disconnected → ``retry`` for what was not sent; a message refused with a 5xx code →
    ``needs_attention``, with a 4xx code → ``retry``.
    """

    name = "email"

    def __init__(self, carrier: CarrierSpec, config: ChannelConfig, *,
                 clock: Callable[[], dt.datetime] | None = None,
                 smtp_factory: SmtpFactory | None = None,
                 smtp_ssl_factory: SmtpFactory | None = None,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        env = f"RECOUP_CARRIERS__{carrier.code.upper()}"
        to = config.claims_email or carrier.claims_email
        if not to:
            raise ConfigError(f"{carrier.name}: no claims e-mail address is known; set {env}__CLAIMS_EMAIL")
        if not config.from_email:
            raise ConfigError(f"{carrier.name}: the email channel needs a sender; set {env}__FROM_EMAIL")
        if not config.smtp_url and not config.outbox:
            raise ConfigError(f"{carrier.name}: the email channel needs {env}__SMTP_URL "
                              f"(or {env}__OUTBOX to write .eml files)")
        self.carrier = carrier
        self.config = config
        self.to = to
        self.from_email = config.from_email
        self.smtp = parse_smtp_url(config.smtp_url) if config.smtp_url else None
        self._clock = clock or SYSTEM.now    # no clock given (tests, direct use): the wall clock
        self._smtp_factory = smtp_factory or smtplib.SMTP
        self._smtp_ssl_factory = smtp_ssl_factory or smtplib.SMTP_SSL
        self._ssl_context = ssl_context
        self.paused: str | None = None

    def submit(self, packets: Sequence[ClaimPacket]) -> list[SubmitResult]:
        results: list[SubmitResult | None] = [precheck(self.carrier, p) for p in packets]
        todo = [(i, p) for i, p in enumerate(packets) if results[i] is None]
        if todo and self.paused:
            for i, p in todo:
                results[i] = SubmitResult(p.claim_id, "paused", message=self.paused)
        elif todo:
            now = self._clock()
            messages = [(i, p, build_message(p, self.carrier, to=self.to, from_email=self.from_email,
                                             now=now)) for i, p in todo]
            sent = self._send(messages) if self.smtp else self._write(messages)
            for i, result in sent.items():
                results[i] = result
        return [r for r in results if r is not None]

    def _write(self, messages: list[tuple[int, ClaimPacket, EmailMessage]]) -> dict[int, SubmitResult]:
        assert self.config.outbox is not None
        out: dict[int, SubmitResult] = {}
        for i, p, msg in messages:
            name = f"{self.carrier.code}-claim-{p.claim_id}.eml"
            try:
                path = write_atomically(self.config.outbox, name, msg.as_bytes(), replace=True)
            except OSError as e:
                out[i] = SubmitResult(p.claim_id, "retry", message=f"could not write {name}: {e}")
            else:
                out[i] = SubmitResult(p.claim_id, "prepared",
                                      message=f"e-mail to {self.to} written to {path}: send it")
        return out

    def _connect(self) -> smtplib.SMTP:
        t = self.smtp
        assert t is not None
        context = self._ssl_context or ssl.create_default_context()
        if t.tls:
            server = self._smtp_ssl_factory(t.host, t.port, timeout=self.config.timeout_s, context=context)
        else:
            server = self._smtp_factory(t.host, t.port, timeout=self.config.timeout_s)
        try:
            server.ehlo()
            if t.starttls:
                server.starttls(context=context)
                server.ehlo()
            if t.username:
                server.login(t.username, t.password or "")
        except BaseException:
            server.close()
            raise
        return server

    def _send(self, messages: list[tuple[int, ClaimPacket, EmailMessage]]) -> dict[int, SubmitResult]:
        out: dict[int, SubmitResult] = {}
        outcome: Outcome
        where = f"{self.smtp.host}:{self.smtp.port}" if self.smtp else "?"
        try:
            server = self._connect()
        except smtplib.SMTPAuthenticationError as e:
            text = (f"{self.carrier.name} email channel paused: SMTP login refused by {where} "
                    f"({e.smtp_code}); check RECOUP_CARRIERS__{self.carrier.code.upper()}__SMTP_URL")
            log.error("%s", text)
            self.paused = text
            return {i: SubmitResult(p.claim_id, "paused", message=text) for i, p, _ in messages}
        except (OSError, smtplib.SMTPException) as e:
            text = f"cannot reach the SMTP server {where}: {type(e).__name__}: {e}"
            log.warning("%s", text)
            return {i: SubmitResult(p.claim_id, "retry", message=text) for i, p, _ in messages}
        try:
            for n, (i, p, msg) in enumerate(messages):
                try:
                    server.send_message(msg, from_addr=self.from_email, to_addrs=[self.to])
                except smtplib.SMTPRecipientsRefused as e:
                    codes = [c for c, _ in e.recipients.values()]
                    outcome = "retry" if codes and all(400 <= c < 500 for c in codes) else "needs_attention"
                    out[i] = SubmitResult(p.claim_id, outcome,
                                          message=f"{self.to} refused by {where}: {e.recipients}")
                except smtplib.SMTPResponseException as e:
                    outcome = "retry" if 400 <= e.smtp_code < 500 else "needs_attention"
                    out[i] = SubmitResult(p.claim_id, outcome,
                                          message=f"message refused by {where}: {e.smtp_code} {e.smtp_error!r}")
                except (OSError, smtplib.SMTPException) as e:
                    text = f"SMTP connection to {where} lost: {type(e).__name__}: {e}"
                    for j, q, _ in messages[n:]:
                        out.setdefault(j, SubmitResult(q.claim_id, "retry", message=text))
                    break
                else:
                    log.info("%s claim %s e-mailed to %s", self.carrier.code, p.claim_id, self.to)
                    out[i] = SubmitResult(p.claim_id, "prepared",
                                          message=f"e-mailed to {self.to} as {msg['Message-ID']}")
        finally:
            try:
                server.quit()
            except (OSError, smtplib.SMTPException):
                server.close()
        return out

    def find(self, packet: ClaimPacket) -> SubmitResult | None:
        """A mailbox cannot be asked: None (a resend carries the same Message-ID)."""
        return None

    def status(self, carrier_reference: str) -> StatusResult | None:
        return None
