"""Telling a person what needs one: a carrier's channel paused, claims about to pass their
deadline unfiled, a job failing several times in a row, inbox files rejected.

Sent by e-mail (``notify.email_to`` over ``notify.smtp_url``, smtplib) and/or as a JSON POST to
``notify.webhook_url`` (httpx). Each alert has a key; an alert is sent once: its key is written to
``audit_state`` (``notify:<key>``) *before* sending, so two workers never both send it (the key is
the table's primary key), and removed again if no channel took it, so it is retried next time.
Keys name the occurrence (the pause's time, the failing streak's first tick, the claim, the file), so
a new occurrence is told again.

Nothing here logs secrets: SMTP passwords and webhook URLs (which often embed a token) never appear
in a message or log line.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import smtplib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from recoup.clock import wall_now
from recoup.settings import Settings
from recoup.store.models import AuditState, CarrierPause, IngestedFile, JobRun, table_of

log = logging.getLogger("recoup.worker.notify")

PREFIX = "notify:"
TIMEOUT_S = 20.0


@dataclass(frozen=True)
class Alert:
    key: str
    kind: str            # carrier_paused | near_deadline | job_failing | file_rejected
    text: str
    data: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "kind": self.kind, "text": self.text, "data": self.data}


def configured(settings: Settings) -> bool:
    n = settings.notify
    return bool((n.email_to and n.smtp_url) or n.webhook_url)


# ----------------------------------------------------------------------------------------- what

def paused_carriers(engine: Engine) -> list[dict[str, Any]]:
    t = table_of(CarrierPause)
    with engine.connect() as conn:
        return [{"carrier": r.carrier, "reason": r.reason, "at": r.at.isoformat()}
                for r in conn.execute(select(t).order_by(t.c.carrier))]


def failing_jobs(engine: Engine, threshold: int = 1) -> list[dict[str, Any]]:
    """Jobs whose last ``threshold`` or more finished runs all failed, with the streak."""
    t = table_of(JobRun)
    out = []
    with engine.connect() as conn:
        jobs = [r[0] for r in conn.execute(select(t.c.job).distinct())]
        for job in sorted(jobs):
            rows = list(conn.execute(select(t.c.tick, t.c.outcome, t.c.detail).where(t.c.job == job)
                                     .where(t.c.outcome.in_(("ok", "failed")))
                                     .order_by(t.c.started_at.desc(), t.c.id.desc()).limit(50)))
            streak = []
            for r in rows:
                if r.outcome != "failed":
                    break
                streak.append(r)
            if streak and len(streak) >= threshold:
                out.append({"job": job, "failures": len(streak), "since": streak[-1].tick,
                            "last_error": streak[0].detail})
    return out


def rejected_files(engine: Engine, limit: int = 200) -> list[dict[str, Any]]:
    """Files refused whole or loaded with rows rejected (tracking pulls left out: a parcel the API
    does not know is not a person's job)."""
    t = table_of(IngestedFile)
    with engine.connect() as conn:
        rows = conn.execute(select(t).where(t.c.outcome.in_(("refused", "rejected", "partial")))
                            .where(t.c.path.not_like("pull:%")).order_by(t.c.id.desc()).limit(limit))
        return [{"id": r.id, "path": r.path, "kind": r.kind, "outcome": r.outcome, "rejected": r.rejected,
                 "reason": (r.message or "").split("; ")[0], "at": r.at.isoformat()} for r in rows]


def collect(engine: Engine, settings: Settings, as_of: dt.date) -> list[Alert]:
    from recoup.claims.service import near_deadline

    alerts = []
    for p in paused_carriers(engine):
        alerts.append(Alert(f"carrier_paused:{p['carrier']}:{p['at']}", "carrier_paused",
                            f"{p['carrier']}: claims channel paused since {p['at']}: {p['reason']} "
                            f"(fix the credentials, then `recoup claims resume {p['carrier']}`)", p))
    for c in near_deadline(engine, as_of, settings.near_deadline_days):
        alerts.append(Alert(f"near_deadline:{c['id']}", "near_deadline",
                            f"claim {c['id']} ({c['carrier']} {c['tracking_number']}, {c['kind']}, {c['amount']} "
                            f"{c['currency']}) is {c['status']} and its deadline is {c['deadline']}", c))
    for j in failing_jobs(engine, max(1, settings.notify.failing_jobs_threshold)):
        alerts.append(Alert(f"job_failing:{j['job']}:{j['since']}", "job_failing",
                            f"job {j['job']} failed {j['failures']} times in a row (since {j['since']}): "
                            f"{j['last_error']}", j))
    for f in rejected_files(engine):
        what = "refused" if f["outcome"] in ("refused", "rejected") else f"loaded with {f['rejected']} row(s) rejected"
        alerts.append(Alert(f"file_rejected:{f['id']}", "file_rejected",
                            f"{f['kind']} file {f['path']} {what}: {f['reason']}", f))
    return alerts


# ----------------------------------------------------------------------------------------- dedupe

def _claim(engine: Engine, alert: Alert, now: dt.datetime) -> bool:
    t = table_of(AuditState)
    try:
        with engine.begin() as conn:
            conn.execute(insert(t).values(key=PREFIX + alert.key, value=json.dumps({"sent_at": now.isoformat()})))
        return True
    except IntegrityError:
        return False


def _unclaim(engine: Engine, alerts: Sequence[Alert]) -> None:
    t = table_of(AuditState)
    with engine.begin() as conn:
        for a in alerts:
            conn.execute(delete(t).where(t.c.key == PREFIX + a.key))


def already_sent(engine: Engine) -> set[str]:
    t = table_of(AuditState)
    with engine.connect() as conn:
        return {r[0][len(PREFIX):] for r in conn.execute(select(t.c.key).where(t.c.key.like(PREFIX + "%")))}


@dataclass
class NotifyResult:
    alerts: int = 0
    new: int = 0
    sent: int = 0
    problems: list[str] = field(default_factory=list)


def check(engine: Engine, settings: Settings, as_of: dt.date, now: dt.datetime, *,
          smtp_factory: Callable[..., Any] | None = None, http: httpx.Client | None = None) -> NotifyResult:
    """Collect the alerts, send those not sent yet, remember them."""
    res = NotifyResult()
    if not configured(settings):
        return res
    alerts = collect(engine, settings, as_of)
    res.alerts = len(alerts)
    sent = already_sent(engine)
    mine = [a for a in alerts if a.key not in sent and _claim(engine, a, now)]
    res.new = len(mine)
    if not mine:
        return res
    delivered = False
    n = settings.notify
    if n.email_to and n.smtp_url:
        try:
            send_email(settings, n.email_to, _subject(mine), _body(mine), smtp_factory=smtp_factory)
            delivered = True
        except (OSError, smtplib.SMTPException, ValueError) as e:
            res.problems.append(f"e-mail to {', '.join(n.email_to)} failed: {type(e).__name__}: {e}")
    if n.webhook_url:
        try:
            post_webhook(n.webhook_url, mine, now, client=http)
            delivered = True
        except (httpx.HTTPError, ValueError) as e:
            res.problems.append(f"webhook to {_host(n.webhook_url)} failed: {type(e).__name__}")
    if delivered:
        res.sent = len(mine)
    else:
        _unclaim(engine, mine)   # told no one: try again next time
    for p in res.problems:
        log.warning("notify: %s", p)
    return res


def _subject(alerts: Sequence[Alert]) -> str:
    kinds = sorted({a.kind.replace("_", " ") for a in alerts})
    return f"recoup: {len(alerts)} item(s) need a person ({', '.join(kinds)})"


def _body(alerts: Sequence[Alert]) -> str:
    lines = ["recoup found what needs a person:", ""]
    for kind in ("carrier_paused", "job_failing", "near_deadline", "file_rejected"):
        group = [a for a in alerts if a.kind == kind]
        if group:
            lines.append(kind.replace("_", " ") + ":")
            lines += [f"  - {a.text}" for a in group]
            lines.append("")
    lines.append("`recoup worker status` shows the current state.")
    return "\n".join(lines) + "\n"


def _host(url: str) -> str:
    return urlsplit(url).hostname or "?"


# ----------------------------------------------------------------------------------------- channels

def send_email(settings: Settings, to: Sequence[str], subject: str, body: str,
               attachments: Sequence[Path] = (), *, smtp_factory: Callable[..., Any] | None = None) -> None:
    """One message over ``notify.smtp_url`` (``smtp://user:pass@host:port[?starttls=true]`` or
    ``smtps://...``)."""
    from recoup.channels.email import parse_smtp_url

    n = settings.notify
    if not n.smtp_url:
        raise ValueError("notify.smtp_url is not set")
    target = parse_smtp_url(n.smtp_url)
    msg = EmailMessage()
    msg["From"] = n.from_email
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(wall_now())     # wall clock by nature: when this mail really leaves
    msg["Message-ID"] = make_msgid(domain=n.from_email.rpartition("@")[2] or "recoup.invalid")
    msg.set_content(body)
    for p in attachments:
        maintype, subtype = _mime(p)
        msg.add_attachment(p.read_bytes(), maintype=maintype, subtype=subtype, filename=p.name)
    if smtp_factory is not None:
        smtp = smtp_factory(target.host, target.port, timeout=TIMEOUT_S)
    elif target.tls:
        smtp = smtplib.SMTP_SSL(target.host, target.port, timeout=TIMEOUT_S)
    else:
        smtp = smtplib.SMTP(target.host, target.port, timeout=TIMEOUT_S)
    try:
        if target.starttls:
            smtp.starttls()
        if target.username:
            smtp.login(target.username, target.password or "")
        smtp.send_message(msg)
    finally:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            smtp.quit()


def _mime(p: Path) -> tuple[str, str]:
    return {
        ".csv": ("text", "csv"), ".html": ("text", "html"), ".json": ("application", "json"),
        ".xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ".pdf": ("application", "pdf"),
    }.get(p.suffix.lower(), ("application", "octet-stream"))


def post_webhook(url: str, alerts: Sequence[Alert], now: dt.datetime, *, client: httpx.Client | None = None) -> None:
    payload = {"source": "recoup", "sent_at": now.isoformat(), "alerts": [a.as_dict() for a in alerts]}
    if client is not None:
        client.post(url, json=payload, timeout=TIMEOUT_S).raise_for_status()
        return
    with httpx.Client(timeout=TIMEOUT_S) as c:
        c.post(url, json=payload).raise_for_status()
