"""``recoup backtest``: what would recoup have recovered over a past period?

The store's data is replayed **as it would have arrived**, day by day, into a scratch copy (a
temporary SQLite database; the real one, SQLite or PostgreSQL, is only read):

- shipments on their ship date (a row without one: the day it was written),
- scans on the local day they happened (the offset they were recorded with, else UTC),
- invoices and credit notes on their invoice date (their credit lines become credits then),
- what arrived before ``--from`` lands on ``--from`` as one backlog; what arrives after ``--to`` never.

Each day runs the worker's own jobs (:mod:`recoup.worker.jobs`: audit, expire_claims,
submit_claims, sync_claims) under a :class:`~recoup.clock.ReplayClock` set to that day (12:00 UTC),
with a **dry-run channel** for every carrier: it records which claim it would have filed, and when,
and files nothing. Then every recoverable finding is judged (:mod:`recoup.leakage`) as of ``--to``.

Fast: the source is read once, into staging tables of the scratch database indexed by arrival day
(``bt_*``; SQLite sources are copied inside SQLite by ``ATTACH``, others through SQLAlchemy); each
day moves only its own rows into the store's tables, and the audit is incremental, so a day costs
what its new data and its closing windows cost, not the size of the store.

What the replay cannot know is said, not guessed (:attr:`BacktestResult.notes`): claims a person
filed or recorded by hand, credits recorded without a dated credit line, rows without an arrival day.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Date, MetaData, Table, func, insert, select, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

from recoup.channels.base import ChannelConfig, ClaimPacket, StatusResult, SubmitResult
from recoup.clock import Clock, ReplayClock
from recoup.errors import ConfigError, RecoupError
from recoup.leakage import STATES, Judged, judge_all
from recoup.money import ZERO, from_cents
from recoup.output import json_ratio
from recoup.settings import Settings
from recoup.sla.contracts import ContractSet
from recoup.store.models import (
    Claim,
    ClaimEvent,
    CreditMatch,
    IngestedFile,
    Invoice,
    InvoiceLine,
    ScanEvent,
    Shipment,
    table_of,
)

#: The worker's jobs a replayed day runs, in the worker's order (ingest_inbox is the day's arrivals;
#: pull_tracking asks carriers about today, not the past; the monthly report is not the question).
DAY_JOBS = ("audit", "expire_claims", "submit_claims", "sync_claims")
DRY_RUN = "dry_run"
UNFILED = "not filed before the window closed (a job failed)"
STAGED: dict[str, type[SQLModel]] = {"shipment": Shipment, "scan_event": ScanEvent, "invoice": Invoice, "invoice_line": InvoiceLine}
CHUNK = 20_000
QUIET = logging.getLogger("recoup.replay")    # a replayed day's job logs: what failed is in Replay.problems
QUIET.addHandler(logging.NullHandler())
QUIET.propagate = False
Progress = Callable[[dt.date, int, int], None]      # (day, days done, days in all)


@dataclass(frozen=True)
class Filed:
    """A claim the dry-run channel would have filed, and when."""

    claim_id: int
    carrier: str
    kind: str
    tracking_number: str
    amount: Decimal
    currency: str
    deadline: dt.date | None
    day: dt.date


class DryRunChannel:
    """Files nothing; records what it was given, on the replayed day. Its claims become ``prepared``
    with ``filed_at`` = the replayed day (as the file and e-mail channels do)."""

    name = DRY_RUN

    def __init__(self, clock: Clock, record: list[Filed]) -> None:
        self.clock = clock
        self.record = record

    def submit(self, packets: Sequence[ClaimPacket]) -> list[SubmitResult]:
        out = []
        for p in packets:
            self.record.append(Filed(p.claim_id, p.carrier, p.kind, p.tracking_number, p.amount, p.currency,
                                     p.deadline, self.clock.today()))
            out.append(SubmitResult(p.claim_id, "prepared", message="backtest: recoup would have filed it this day"))
        return out

    def find(self, packet: ClaimPacket) -> SubmitResult | None:
        return None

    def status(self, carrier_reference: str) -> StatusResult | None:
        return None


@dataclass
class BacktestResult:
    date_from: dt.date
    date_to: dt.date
    contracts: Path
    rows: list[dict[str, Any]]                 # per (carrier, kind, currency); amounts as Decimal
    totals: list[dict[str, Any]]               # per currency, carrier = kind = "TOTAL"
    filed: list[Filed]
    judged: list[Judged]
    notes: list[str] = field(default_factory=list)        # what the replay cannot know, and assumptions
    problems: list[str] = field(default_factory=list)     # a job failed on some day
    dead_channels: dict[str, str] = field(default_factory=dict)
    days: int = 0
    seconds: float = 0.0
    scratch: Path | None = None                 # kept scratch database (``keep``), else None

    def as_dict(self) -> dict[str, Any]:
        return {"from": self.date_from.isoformat(), "to": self.date_to.isoformat(), "days": self.days,
                "contracts": str(self.contracts), "rows": [plain_row(r) for r in self.rows],
                "totals": [plain_row(r) for r in self.totals], "filed_claims": len(self.filed),
                "dead_channels": self.dead_channels, "notes": self.notes, "problems": self.problems,
                "seconds": round(self.seconds, 2)}


AMOUNTS = ("recoverable", "filed_in_time", "credited_unfiled", "leaked", "still_claimable")
COLUMNS = ("carrier", "kind", "currency", "findings", *AMOUNTS, "filed_in_time_rate", "leaked_because",
           "still_claimable_because")


def _money(v: Decimal) -> str:
    return f"{v:.2f}"


def plain_row(r: dict[str, Any]) -> dict[str, Any]:
    """A result row with amounts as two-decimal strings and the rate a number (JSON, CSV)."""
    out = dict(r)
    for k in AMOUNTS:
        out[k] = _money(r[k])
    out["leaked_because"] = {k: _money(v) for k, v in r["leaked_because"].items()}
    out["still_claimable_because"] = {k: _money(v) for k, v in r["still_claimable_because"].items()}
    out["filed_in_time_rate"] = json_ratio(r["filed_in_time_rate"])     # a ratio: a JSON number
    return out


# ----------------------------------------------------------------------------- staging

def _staging_tables(meta: MetaData) -> dict[str, Table]:
    """bt_<table>: the source table's columns without constraints, plus ``arrives`` (ISO day)."""
    out = {}
    for name, model in STAGED.items():
        src = table_of(model)
        cols = [Column(c.name, c.type) for c in src.columns]
        out[name] = Table(f"bt_{name}", meta, *cols, Column("arrives", Date, index=True))
    return out


ARRIVES_SQL = {
    "shipment": "coalesce(ship_date, substr(updated_at, 1, 10))",
    "scan_event": "date(occurred_at, printf('%+d minutes', coalesce(utc_offset_min, 0)))",
    "invoice": "invoice_date",
    "invoice_line": "invoice_date",
}


def _stage(source: Engine, scratch: Engine) -> dict[str, int]:
    """Copy the source's shipments, scans, invoices and lines into the scratch's bt_* tables, with
    their arrival day. Counts per table."""
    meta = MetaData()
    tables = _staging_tables(meta)
    meta.create_all(scratch)
    src_path = source.url.database if source.dialect.name == "sqlite" else None
    if src_path and src_path != ":memory:" and Path(src_path).is_file():
        # one connection: ATTACH is per connection, and outside a transaction
        with scratch.connect() as conn:
            raw = conn.connection.dbapi_connection
            assert raw is not None
            raw.execute("ATTACH DATABASE ? AS src", (str(Path(src_path).resolve()),))
            try:
                for name, t in tables.items():
                    cols = ", ".join(c.name for c in t.columns if c.name != "arrives")
                    conn.execute(text(f"INSERT INTO {t.name} ({cols}) SELECT {cols} FROM src.{name}"))
                conn.commit()
            finally:
                raw.execute("DETACH DATABASE src")
    else:
        with source.connect() as sconn, scratch.begin() as conn:
            for name, t in tables.items():
                src = table_of(STAGED[name])
                result = sconn.execution_options(stream_results=True, yield_per=CHUNK).execute(select(src))
                for part in result.partitions(CHUNK):
                    conn.execute(insert(t), [dict(r._mapping) for r in part])
    counts = {}
    with scratch.begin() as conn:
        for name, t in tables.items():
            conn.execute(text(f"UPDATE {t.name} SET arrives = {ARRIVES_SQL[name]}"))
            counts[name] = int(conn.execute(text(f"SELECT count(*) FROM {t.name}")).scalar() or 0)
    return counts


def drop_staging(engine: Engine) -> None:
    """Remove the bt_* staging tables (a replay that leaves its database to be used, as the demo's)."""
    with engine.begin() as conn:
        for name in STAGED:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS bt_{name}")


def _cols(model: Any, skip: Sequence[str]) -> list[str]:
    return [c.name for c in table_of(model).columns if c.name not in skip]


def _arrive(conn: Connection, lo: dt.date | None, hi: dt.date, now: dt.datetime, label: str = "backtest"
            ) -> dict[str, int]:
    """Move the rows that arrive in (lo, hi] from staging into the store, stamped as one file of the day."""
    when = {"hi": hi.isoformat(), "lo": (lo or dt.date.min).isoformat()}
    window = "arrives > :lo AND arrives <= :hi"
    n = {}
    ift = table_of(IngestedFile)
    key = conn.execute(insert(ift).values(path=f"{label}:{hi.isoformat()}", sha256=f"{label}:{hi.isoformat()}",
                                          kind=label, format=label, outcome="loaded", at=now)).inserted_primary_key
    assert key is not None
    fid = int(key[0])
    stamp = now.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")       # SQLite's UTCDateTime text
    cols = _cols(Shipment, ("id", "file_id", "updated_at"))
    c = ", ".join(cols)
    n["shipments"] = conn.execute(text(
        f"INSERT INTO shipment ({c}, file_id, updated_at) SELECT {c}, :fid, :now FROM bt_shipment "
        f"WHERE {window} ORDER BY id"), {**when, "fid": fid, "now": stamp}).rowcount
    cols = _cols(ScanEvent, ("id", "file_id"))
    c = ", ".join(cols)
    n["scans"] = conn.execute(text(
        f"INSERT OR IGNORE INTO scan_event ({c}, file_id) SELECT {c}, :fid FROM bt_scan_event "
        f"WHERE {window} ORDER BY occurred_at, id"), {**when, "fid": fid}).rowcount
    before = conn.execute(select(func.max(table_of(Invoice).c.id))).scalar() or 0
    cols = _cols(Invoice, ("id", "file_id", "loaded_at"))
    c = ", ".join(cols)
    n["invoices"] = conn.execute(text(
        f"INSERT INTO invoice ({c}, file_id, loaded_at) SELECT {c}, :fid, :now FROM bt_invoice "
        f"WHERE {window} ORDER BY invoice_date, id"), {**when, "fid": fid, "now": stamp}).rowcount
    if n["invoices"]:
        cols = _cols(InvoiceLine, ("id", "invoice_id"))
        c = ", ".join(f"l.{x}" for x in cols)
        conn.execute(text(
            f"INSERT INTO invoice_line (invoice_id, {', '.join(cols)}) SELECT i.id, {c} FROM bt_invoice_line l "
            "JOIN bt_invoice b ON b.id = l.invoice_id "
            "JOIN invoice i ON i.carrier = b.carrier AND i.invoice_number = b.invoice_number "
            "WHERE i.id > :before ORDER BY i.id, l.line_no"), {"before": before})
        # the ingest's rule: a negative credit line to a parcel is a credit (recoup.ingest.service)
        conn.execute(text(
            "INSERT INTO credit (invoice_line_id, carrier, tracking_number, invoice_number, invoice_date, "
            "reference, description, amount_cents, currency, matched_cents) "
            "SELECT id, carrier, tracking_number, invoice_number, invoice_date, reference, description, "
            "-amount_cents, currency, 0 FROM invoice_line WHERE invoice_id > :before AND amount_cents < 0 "
            "AND charge_type = 'credit' AND tracking_number IS NOT NULL"), {"before": before})
    return n


# ----------------------------------------------------------------------------- what cannot be known

def _unknowable(source: Engine, date_from: dt.date, date_to: dt.date) -> list[str]:
    """Facts of the real store the replay cannot rebuild, said as notes."""
    ct = table_of(Claim)
    et = table_of(ClaimEvent)
    mt = table_of(CreditMatch)
    st = table_of(Shipment)
    notes = []
    with source.connect() as conn:
        by_hand = conn.execute(
            select(ct.c.currency, func.count(func.distinct(ct.c.id)), func.coalesce(func.sum(ct.c.claimed_cents), 0))
            .where(ct.c.id.in_(select(et.c.claim_id).where(et.c.actor.like("cli:%"))
                               .where(et.c.to_status.in_(("submitted", "prepared", "in_review", "approved",
                                                          "approved_partial", "rejected", "credited")))))
            .group_by(ct.c.currency)).all()
        matched = select(mt.c.claim_id, func.sum(mt.c.amount_cents).label("m")).group_by(mt.c.claim_id).subquery()
        undated = conn.execute(
            select(ct.c.currency, func.count(), func.sum(ct.c.credited_cents - func.coalesce(matched.c.m, 0)))
            .select_from(ct.outerjoin(matched, matched.c.claim_id == ct.c.id))
            .where(ct.c.credited_cents > func.coalesce(matched.c.m, 0)).group_by(ct.c.currency)).all()
        no_day = conn.execute(select(func.count()).select_from(st).where(st.c.ship_date.is_(None))).scalar() or 0
    if by_hand:
        amounts = ", ".join(f"{cur} {from_cents(int(cents))}" for cur, _n, cents in sorted(by_hand))
        n = sum(int(r[1]) for r in by_hand)
        notes.append(f"{n} claim(s) in the store ({amounts}) were filed or answered by a person (`claims update`); "
                     "the replay cannot know when a person would have filed: it files through recoup alone")
    if undated:
        amounts = ", ".join(f"{cur} {from_cents(int(cents))}" for cur, _n, cents in sorted(undated))
        notes.append(f"credits of {amounts} were recorded on claims without a dated credit line (by hand or from a "
                     "carrier's API answer): the replay cannot place them in time and leaves them out")
    if no_day:
        notes.append(f"{no_day} shipment(s) have no ship date (billed or scanned, never manifested): they arrive on "
                     "the day their row was written")
    notes.append(f"data dated before {date_from} arrives on {date_from} (backlog); data after {date_to} never")
    return notes


# ----------------------------------------------------------------------------- the replay

def dry_run_factory(record: list[Filed], dead: dict[str, str], *, as_configured: bool) -> Callable[..., Any]:
    """The channel factory of a backtest: a :class:`DryRunChannel` for every carrier; with
    ``as_configured``, only for carriers whose real channel settings are complete (the real channel
    is built, never used), the others are recorded in ``dead`` and file nothing."""
    from recoup.claims.service import default_factory

    def factory(carrier: str, config: ChannelConfig) -> DryRunChannel:
        if as_configured:
            try:
                ch = default_factory(carrier, config)
            except ConfigError as e:
                dead[carrier] = str(e)
                raise
            close = getattr(ch, "close", None)
            if callable(close):
                close()
        assert config.clock is not None
        return DryRunChannel(config.clock, record)

    return factory


@dataclass
class Replay:
    """A scratch store a driver moves day by day through the worker's jobs (the backtest; the demo)."""

    engine: Engine
    settings: Settings
    contracts: ContractSet
    start: dt.date
    channel_factory: Callable[..., Any] | None = None
    jobs: Sequence[str] | Callable[[dt.date], Sequence[str]] = DAY_JOBS    # or which jobs run on a day
    label: str = "backtest"              # the arrivals' ingested_file rows are "<label>:<day>"
    logger: logging.Logger = field(default_factory=lambda: QUIET)
    clock: ReplayClock = field(init=False)
    ctx: Any = field(init=False)
    last: dt.date | None = field(default=None, init=False)
    problems: list[str] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        from recoup.worker.jobs import JobContext

        self.clock = ReplayClock(self.start)
        contracts = self.contracts
        self.ctx = JobContext(self.engine, self.settings, lambda: contracts, clock_source=self.clock,
                              replay_as_of=self.start, worker_id=self.label, channel_factory=self.channel_factory,
                              logger=self.logger)

    def day(self, day: dt.date) -> dict[str, Any]:
        """Everything that arrives up to ``day``, then the day's jobs under the clock set to it."""
        from recoup.worker.jobs import call_job

        self.clock.set_day(day)
        self.ctx.replay_as_of = day
        out: dict[str, Any] = {}
        with self.engine.begin() as conn:
            out["arrived"] = _arrive(conn, self.last, day, self.clock.now(), self.label)
        for name in self.jobs(day) if callable(self.jobs) else self.jobs:
            res = call_job(self.ctx, name)
            out[name] = res
            if res.outcome == "failed":
                self.problems.append(f"{day}: {name}: {res.detail}")
                if name == "audit":
                    raise RecoupError(f"backtest: the audit failed on {day}: {res.detail}")
        self.last = day
        return out


def days_between(a: dt.date, b: dt.date) -> list[dt.date]:
    return [a + dt.timedelta(days=i) for i in range((b - a).days + 1)]


def backtest(source: Engine, settings: Settings, contracts: ContractSet, date_from: dt.date, date_to: dt.date, *,
             as_configured: bool = False, keep: Path | None = None, progress: Progress | None = None
             ) -> BacktestResult:
    """Replay ``source`` from ``date_from`` to ``date_to`` (both included) in a scratch database; the
    source is only read. ``keep``: write the scratch database there (else it is removed)."""
    from recoup.store.db import init_db, make_engine

    if date_to < date_from:
        raise RecoupError(f"--to {date_to} is before --from {date_from}")
    if contracts.errors:
        raise RecoupError("contracts do not load: " + "; ".join(contracts.errors))
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="recoup-backtest-"))
    scratch = make_engine(f"sqlite:///{tmp / 'backtest.db'}")
    try:
        init_db(scratch)
        _stage(source, scratch)
        record: list[Filed] = []
        dead: dict[str, str] = {}
        scratch_settings = settings.model_copy(update={
            "database_url": f"sqlite:///{tmp / 'backtest.db'}", "outbox": tmp / "outbox",
            "reports_dir": tmp / "reports", "business_hours_only": False})
        replay = Replay(scratch, scratch_settings, contracts, date_from,
                        channel_factory=dry_run_factory(record, dead, as_configured=as_configured))
        days = days_between(date_from, date_to)
        for i, day in enumerate(days):
            replay.day(day)
            if progress is not None:
                progress(day, i + 1, len(days))
        with scratch.connect() as conn:
            judged = judge_all(conn, date_to, dead_channels=dead, unfiled=UNFILED)
        closed_before = [j for j in judged if j.deadline is not None and j.deadline < date_from]
        judged = [j for j in judged if j.deadline is None or j.deadline >= date_from]
        rows, totals = summarise(judged)
        notes = _unknowable(source, date_from, date_to)
        unknown = [j for j in judged if j.amount_cents == 0]
        if unknown:
            notes.append(f"{len(unknown)} finding(s) have no amount yet (a refund of charges no invoice line shows): "
                         "counted at 0.00, not guessed")
        if closed_before:
            notes.append(f"{len(closed_before)} finding(s) whose window closed before {date_from} are not counted "
                         "(not money of the period)")
        if not as_configured:
            notes.append("every carrier's channel is assumed to work (--as-configured judges today's channel "
                         "settings); claims above the approval threshold wait for a person, who never comes")
        kept = None
        if keep is not None:
            scratch.dispose()
            keep.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(tmp / "backtest.db", keep)
            kept = keep
        return BacktestResult(date_from, date_to, Path(contracts.folder), rows, totals, record, judged, notes, replay.problems,
                              dead, len(days), time.monotonic() - started, kept)
    finally:
        scratch.dispose()
        shutil.rmtree(tmp, ignore_errors=True)


def summarise(judged: Sequence[Judged]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows per (carrier, kind, currency) and totals per currency; every amount is the sum of its
    findings' amounts, and recoverable = filed_in_time + credited_unfiled + leaked + still_claimable."""
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    totals: dict[str, dict[str, Any]] = {}

    def new(carrier: str, kind: str, currency: str) -> dict[str, Any]:
        return {"carrier": carrier, "kind": kind, "currency": currency, "findings": 0,
                **{k: ZERO for k in AMOUNTS}, "leaked_because": {}, "still_claimable_because": {}}

    for j in judged:
        amount = from_cents(j.amount_cents)
        for r in (rows.setdefault((j.carrier, j.kind, j.currency), new(j.carrier, j.kind, j.currency)),
                  totals.setdefault(j.currency, new("TOTAL", "TOTAL", j.currency))):
            r["findings"] += 1
            r["recoverable"] += amount
            r[j.state] += amount
            if j.state == "leaked":
                why = j.reason or "unknown"
                r["leaked_because"][why] = r["leaked_because"].get(why, ZERO) + amount
            elif j.state == "still_claimable" and j.reason:
                r["still_claimable_because"][j.reason] = r["still_claimable_because"].get(j.reason, ZERO) + amount
    out_rows = [rows[k] for k in sorted(rows)]
    out_totals = [totals[k] for k in sorted(totals)]
    for r in [*out_rows, *out_totals]:
        assert sum((r[s] for s in STATES), ZERO) == r["recoverable"]
        r["filed_in_time_rate"] = (r["filed_in_time"] / r["recoverable"]).quantize(Decimal("0.0001")) \
            if r["recoverable"] else None
    return out_rows, out_totals
