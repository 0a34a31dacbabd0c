"""Health checks shared by ``recoup doctor`` and ``recoup worker status``: each returns
:class:`Check` rows (what was checked, ``ok``/``warn``/``fail``/``skip``, what was found, what to do).

Pure reads of the settings, the contracts, the filesystem and the database; the only check that
may call out is :func:`smtp_checks`, which opens (and closes) a TCP connection to a configured SMTP
server with a short timeout, through the ``connect`` seam (tests pass a fake; nothing is sent).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from recoup.errors import RecoupError
from recoup.settings import Settings

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"
SMTP_TIMEOUT_S = 3.0
START_WORKER = ("start the worker: `recoup worker run` (systemd unit in docs/deployment.md), "
                "or `recoup worker run --once` from cron")


@dataclass
class Check:
    check: str
    status: str          # ok | warn | fail | skip
    detail: str
    fix: str = ""

    @property
    def problem(self) -> bool:
        return self.status == FAIL

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# ----------------------------------------------------------------------------------------- database

def database_check(engine_factory: Callable[[], Engine], url: str) -> tuple[Check, Engine | None]:
    """Reachable and at the newest schema. Never creates the database file."""
    from recoup.store.db import check_schema, sqlite_file

    shown = _redact(url)
    path = sqlite_file(url)
    if path is not None and not path.exists():
        return Check("database", FAIL, f"{shown}: no database file", "run `recoup init`"), None
    try:
        engine = engine_factory()
        check_schema(engine)
    except RecoupError as e:
        fix = "run `recoup init`" if "recoup init" in str(e) else "check --db / RECOUP_DATABASE_URL"
        return Check("database", FAIL, f"{shown}: {e}", fix), None
    except Exception as e:   # a driver error we do not know: still one line
        return Check("database", FAIL, f"{shown}: {type(e).__name__}: {e}", "check --db / RECOUP_DATABASE_URL"), None
    return Check("database", OK, f"{shown}: reachable, schema at head"), engine


def _redact(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    try:
        p = urlsplit(url)
    except ValueError:
        return url
    if p.password:
        netloc = p.netloc.replace(f":{p.password}@", ":***@")
        return urlunsplit(p._replace(netloc=netloc))
    return url


# ----------------------------------------------------------------------------------------- contracts

def load_contract_set(settings: Settings) -> tuple[Any, Check | None]:
    """The contracts, or None and a failing check when the folder cannot be read."""
    from recoup.sla.contracts import load_contracts

    try:
        return load_contracts(settings.contracts_dir()), None
    except RecoupError as e:
        return None, Check("contracts", FAIL, str(e), "set --contracts / RECOUP_CONTRACTS, or run `recoup init`")


def contract_checks(settings: Settings, contracts: Any) -> list[Check]:
    """One line per problem: a contract file that does not load (its carrier is not audited), two
    contracts that would match one shipment, an empty folder."""
    if contracts is None:
        _, c = load_contract_set(settings)
        return [c] if c else []
    out = [Check("contracts", FAIL, f"{e} (its carrier is not audited)",
                 "fix the file (`recoup contracts check` shows every problem)") for e in contracts.errors]
    out += [Check("contracts", FAIL, c, "give each account to one contract") for c in contracts.conflicts()]
    if not contracts.contracts and not contracts.errors:
        out.append(Check("contracts", FAIL, f"no contracts (*.toml) in {contracts.folder}",
                         "copy the default contracts there, or set --contracts / RECOUP_CONTRACTS"))
    if not out:
        carriers = sorted({c.carrier for c in contracts.contracts})
        out.append(Check("contracts", OK, f"{len(contracts.contracts)} loaded from {contracts.folder} "
                                          f"({', '.join(carriers)})"))
    return out


# ----------------------------------------------------------------------------------------- channels

def channel_check(settings: Settings, contracts: Any, carrier: str) -> Check:
    """Can this carrier's claims leave? The channel is built (no network) and what it needs is
    looked at: API URL and key; claims address, sender and SMTP (or an outbox); a writable outbox."""
    from recoup.channels.registry import channel_for
    from recoup.claims.service import channel_config

    name = f"channel {carrier}"
    env = f"RECOUP_CARRIERS__{carrier.upper()}"
    try:
        cfg = channel_config(settings, contracts, carrier)
        from recoup.carriers.registry import get_carrier

        spec = get_carrier(carrier)
        kind = cfg.channel or spec.default_channel
        ch = channel_for(carrier, cfg)
        close = getattr(ch, "close", None)
        if callable(close):
            close()
    except RecoupError as e:
        return Check(name, FAIL, f"claims cannot be filed: {e}", f"set the {env}__* settings (docs/deployment.md)")
    if kind == "api":
        if not cfg.api_key:
            return Check(name, FAIL, f"api {cfg.api_url}: no API key (the carrier will answer 401)",
                         f"set {env}__API_KEY in the environment")
        return Check(name, OK, f"api {cfg.api_url}, key set")
    if kind == "email":
        to = cfg.claims_email or spec.claims_email
        if cfg.smtp_url:
            return Check(name, OK, f"email to {to} via SMTP")
        return _writable_check(name, cfg.outbox, f"email to {to}: no SMTP, .eml files written to",
                               f"set {env}__SMTP_URL to send them, or send the .eml files by hand")
    return _writable_check(name, cfg.outbox, f"file ({cfg.file_format}) in", f"set {env}__OUTBOX or outbox")


def _writable_check(name: str, folder: Path | None, what: str, fix: str) -> Check:
    if folder is None:
        return Check(name, FAIL, f"{what} no outbox", fix)
    problem = writable_problem(Path(folder), create=True)
    if problem:
        return Check(name, FAIL, f"{what} {folder}: {problem}", fix)
    return Check(name, OK, f"{what} {folder}")


def writable_problem(folder: Path, *, create: bool = False) -> str | None:
    """None when files can be written in ``folder``; else why not. ``create``: a missing folder is
    fine when its parent is writable (recoup creates it)."""
    if not folder.exists():
        if not create:
            return "does not exist"
        parent = next((p for p in folder.parents if p.exists()), None)
        if parent is None or not os.access(parent, os.W_OK):
            return "does not exist and cannot be created"
        return None
    if not folder.is_dir():
        return "is not a folder"
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".recoup-check-"):
            pass
    except OSError as e:
        return f"not writable ({e.strerror or type(e).__name__})"
    return None


def channel_checks(settings: Settings, contracts: Any, carriers: Iterable[str]) -> list[Check]:
    return [channel_check(settings, contracts, c) for c in sorted(set(carriers))]


def audited_carriers(settings: Settings, contracts: Any) -> list[str]:
    from recoup.carriers.registry import REGISTRY

    codes = {c.carrier for c in contracts.contracts} if contracts is not None else set()
    codes |= set(settings.carriers)
    return sorted(c for c in codes if c in REGISTRY)


# ----------------------------------------------------------------------------------------- inbox

def inbox_checks(settings: Settings) -> list[Check]:
    from recoup.ingest.inbox import inbox_folders

    folders = inbox_folders(settings)
    if not folders:
        return [Check("inbox", FAIL, "no inbox folder is configured: the worker loads nothing",
                      "set RECOUP_INBOX__SHIPMENTS, RECOUP_INBOX__SCANS, RECOUP_INBOX__INVOICES (or inbox.* in the config)")]
    out = []
    for kind, folder in folders:
        problem = writable_problem(folder)
        if problem:
            out.append(Check(f"inbox {kind}", FAIL, f"{folder}: {problem}",
                             f"create it (mkdir -p {folder}) and let the worker's user write in it"))
        else:
            out.append(Check(f"inbox {kind}", OK, str(folder)))
    return out


# ----------------------------------------------------------------------------------------- SMTP

Connect = Callable[[tuple[str, int], float], Any]


def smtp_checks(settings: Settings, carriers: Iterable[str], *, connect: Connect | None = None,
                timeout_s: float = SMTP_TIMEOUT_S) -> list[Check]:
    """Each configured SMTP server answers a TCP connection (nothing is sent); skipped when none is
    configured."""
    from recoup.channels.email import parse_smtp_url

    connect = connect or socket.create_connection
    urls: dict[str, list[str]] = {}
    if settings.notify.smtp_url:
        urls.setdefault(settings.notify.smtp_url, []).append("notify")
    for c in sorted(set(carriers)):
        u = settings.carrier(c).smtp_url
        if u:
            urls.setdefault(u, []).append(c)
    if not urls:
        return [Check("smtp", SKIP, "no SMTP server configured")]
    out = []
    for url, users in urls.items():
        name = f"smtp ({', '.join(users)})"
        try:
            target = parse_smtp_url(url)
        except RecoupError as e:
            out.append(Check(name, FAIL, str(e), "fix the smtp_url setting"))
            continue
        where = f"{target.host}:{target.port}"
        try:
            sock = connect((target.host, target.port), timeout_s)
            close = getattr(sock, "close", None)
            if callable(close):
                close()
        except OSError as e:
            out.append(Check(name, FAIL, f"{where} does not answer ({e.strerror or type(e).__name__})",
                             "check the host, port and firewall of the SMTP server"))
            continue
        out.append(Check(name, OK, f"{where} answers"))
    return out


# ----------------------------------------------------------------------------------------- worker

def stale_after(settings: Settings, now: dt.datetime) -> dt.timedelta:
    """How long without a job run means no worker runs: twice the shortest gap between two runs of
    any job on its schedule, plus 10 minutes (35 minutes with the default schedules)."""
    from recoup.worker.scheduler import triggers

    gaps = []
    for trig in triggers(settings).values():
        t1 = trig.get_next_fire_time(None, now)
        if t1 is None:
            continue
        t2 = trig.get_next_fire_time(t1, t1 + dt.timedelta(seconds=1))
        if t2 is not None:
            gaps.append(t2 - t1)
    gap = min(gaps) if gaps else dt.timedelta(hours=1)
    return 2 * gap + dt.timedelta(minutes=10)


def worker_check(engine: Engine, settings: Settings, now: dt.datetime, wall: dt.datetime,
                 alive: list[dict[str, Any]] | None = None) -> Check:
    """A worker is running when one beats (``worker run``), or, run from cron (``--once``), when a
    job ran recently on recoup's clock."""
    from recoup.store.models import JobRun, table_of

    if alive is None:
        alive = [w for w in heartbeats(engine, wall) if w["alive"]]
    if alive:
        w = alive[0]
        return Check("worker", OK, f"{len(alive)} running; {w['worker']} beat at {w['heartbeat']}")
    t = table_of(JobRun)
    with engine.connect() as conn:
        last = conn.execute(select(t.c.job, t.c.started_at).order_by(t.c.started_at.desc(), t.c.id.desc())
                            .limit(1)).first()
    if last is None:
        return Check("worker", FAIL, "no worker is running: no heartbeat, and no job has ever run", START_WORKER)
    started = last.started_at
    if started.tzinfo is None:
        started = started.replace(tzinfo=dt.UTC)
    limit = stale_after(settings, now)
    age = now - started
    when = started.astimezone(dt.UTC).isoformat(timespec="seconds")
    if age <= limit:
        return Check("worker", OK, f"no worker running now; the last job ({last.job}) ran at {when} "
                                   "(`worker run --once` from cron)")
    return Check("worker", FAIL, f"no worker is running: no heartbeat, and the last job ({last.job}) ran at {when}, "
                                 f"more than {int(limit.total_seconds() // 60)} minutes ago", START_WORKER)


def heartbeats(engine: Engine, wall: dt.datetime) -> list[dict[str, Any]]:
    from recoup.store.models import AuditState, table_of
    from recoup.worker.scheduler import HEARTBEAT_S, WORKER_STATE_PREFIX

    t = table_of(AuditState)
    out = []
    with engine.connect() as conn:
        for r in conn.execute(select(t).where(t.c.key.like(WORKER_STATE_PREFIX + "%")).order_by(t.c.key)):
            try:
                d = json.loads(r.value)
                beat = dt.datetime.fromisoformat(d["heartbeat"])
            except (ValueError, KeyError, TypeError):
                continue
            # a worker busy with a long job beats less often; 10 beats missed: it is gone
            d["alive"] = (wall - beat).total_seconds() < 10 * HEARTBEAT_S
            out.append(d)
    return out


def doctor_checks(settings: Settings, *, connect: Connect | None = None, network: bool = True) -> list[Check]:
    """``recoup doctor``: every check, in order: database, contracts, channels, inbox, SMTP (not with
    ``network=False``), worker."""
    from recoup.clock import wall_now
    from recoup.store.db import make_engine

    out: list[Check] = []
    db, engine = database_check(lambda: make_engine(settings.database_url), settings.database_url)
    out.append(db)
    try:
        contracts, failed = load_contract_set(settings)
        out += [failed] if failed else contract_checks(settings, contracts)
        carriers = audited_carriers(settings, contracts)
        out += channel_checks(settings, contracts, carriers)
        out += inbox_checks(settings)
        if network:
            out += smtp_checks(settings, carriers, connect=connect)
        else:
            out.append(Check("smtp", SKIP, "not checked (--offline)"))
        if engine is None:
            out.append(Check("worker", SKIP, "no database to read the heartbeat from"))
        else:
            now = wall_now()
            out.append(worker_check(engine, settings, now, now))
    finally:
        if engine is not None:
            engine.dispose()
    return out
