"""The worker's jobs: plain functions ``job(ctx) -> dict[str, int]`` (what they did, as counts).

No scheduler here (architecture habit 10): :mod:`recoup.worker.scheduler` wires these to cron
triggers and records each run in ``job_run``. A job reads the clock only through its
:class:`JobContext` (``ctx.clock()``, ``ctx.now()``, ``ctx.as_of()``) and hands that clock to the
services it calls, so tests and ``worker run --as-of`` replay a day by injecting it: with
``replay_as_of`` and no explicit clock, every instant written is the replayed day at 12:00 UTC
(:func:`recoup.clock.replay_clock`). A job that has nothing to do for a reason a person should see raises
:class:`JobSkipped`; one that fails raises (the scheduler records it and tries again next tick).
Long jobs check ``ctx.stopping()`` between their units of work (files, claims, batches) and end
early, leaving the rest for the next run.

Dependency order (``ORDER``, used by ``run_once``): ingest_inbox → pull_tracking → audit →
expire_claims → submit_claims → sync_claims → monthly_report.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine

from recoup.clock import SYSTEM, Clock, as_clock, replay_clock
from recoup.errors import CarrierAuthError, RecoupError
from recoup.settings import Settings
from recoup.sla.contracts import ContractSet
from recoup.store.models import AuditState, table_of

log = logging.getLogger("recoup.worker")

CONTRACT_NOT_LOADED = "contract not loaded: "   # the audit's warning for a contract file that fails to load
BUSINESS_HOURS = (8, 18)      # submit_claims files from 08:00 to 17:59, Monday to Friday, in settings.timezone


class JobSkipped(Exception):
    """The job had nothing to do, for a reason worth recording (outcome ``skipped``)."""


class JobWarning(RecoupError):
    """The job did its work, but part of it could not be done until a person acts (a contract that
    does not load, claims that could not be filed or synced): outcome ``warning``, which
    ``worker status`` shows and ``worker status --check`` fails on. ``counts`` says what it did."""

    def __init__(self, problems: list[str], counts: dict[str, int]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
        self.counts = counts


class JobFailed(RecoupError):
    """The job ran but part of it failed; ``counts`` says what it did all the same."""

    def __init__(self, message: str, counts: dict[str, int]) -> None:
        super().__init__(message)
        self.counts = counts


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class JobContext:
    """What every job gets: the store, the settings, the contracts (loaded afresh per job, so an
    edited contract takes effect without a restart), the clock, a logger and the stop flag."""

    engine: Engine
    settings: Settings
    contracts_loader: Callable[[], ContractSet]
    clock_source: Clock | Callable[[], dt.datetime] | None = None   # None: the wall clock, or the replayed day's
    replay_as_of: dt.date | None = None        # `worker run --as-of`: the day being replayed
    logger: logging.Logger = log
    stop: threading.Event = field(default_factory=threading.Event)
    worker_id: str = field(default_factory=default_worker_id)
    channel_factory: Callable[..., Any] | None = None     # seam: claims channel factory (tests)
    tracking_client: Callable[..., Any] | None = None     # seam: tracking client factory (tests)
    smtp_factory: Callable[..., Any] | None = None        # seam: smtplib.SMTP replacement (tests)
    lock_check: Callable[[], bool] | None = None          # while a job runs: does this worker still hold its lock?

    def clock(self) -> Clock:
        """The one clock of this context: the given one; else, replaying a day, that day at 12:00 UTC
        (looked up on each call, so a backfill may move ``replay_as_of`` on); else the wall clock."""
        if self.clock_source is not None:
            return as_clock(self.clock_source)
        if self.replay_as_of is not None:
            return replay_clock(self.replay_as_of)
        return SYSTEM

    def now(self) -> dt.datetime:
        t = self.clock().now()
        if t.tzinfo is None:
            raise ValueError("the worker clock must be time-zone aware")
        return t

    def as_of(self) -> dt.date:
        """The audit's "today": the replayed day, else the clock's day (UTC)."""
        return self.replay_as_of or self.clock().today()

    def stopping(self) -> bool:
        """Stop at the next unit of work: a stop was asked for, or the job's lock was lost (another
        worker may take the job now: carrying on would run it twice)."""
        if self.stop.is_set():
            return True
        return self.lock_check is not None and not self.lock_check()

    def contracts(self) -> ContractSet:
        return self.contracts_loader()


def cached_contracts(folder: Path) -> Callable[[], ContractSet]:
    """A contracts loader for the worker: loads ``folder`` again only when a file in it changed
    (name, size or modification time), so an edited contract takes effect at the next job without a
    restart, and unchanged ones are not parsed for every job."""
    from recoup.sla.contracts import load_contracts

    state: dict[str, Any] = {}
    lock = threading.Lock()

    def signature() -> tuple[tuple[str, int, int], ...]:
        if not folder.is_dir():
            return ()
        out = []
        for p in folder.rglob("*"):
            try:
                st = p.stat()
            except OSError:
                continue
            if p.is_file():
                out.append((str(p.relative_to(folder)), st.st_mtime_ns, st.st_size))
        return tuple(sorted(out))

    def load() -> ContractSet:
        sig = signature()
        with lock:
            if "set" not in state or state["sig"] != sig:
                state["set"] = load_contracts(folder)   # ConfigError (no folder) is raised, not cached
                state["sig"] = sig
            return state["set"]  # type: ignore[no-any-return]

    return load


# ----------------------------------------------------------------------------------------- jobs

def ingest_inbox(ctx: JobContext) -> dict[str, int]:
    """Load the inbox folders; then, when invoices were loaded, the claims flow matches their credits."""
    from recoup.claims.reconcile import reconcile
    from recoup.ingest.inbox import inbox_folders, run_inbox

    if not inbox_folders(ctx.settings):
        raise JobSkipped("no inbox folder configured (inbox.shipments / inbox.scans / inbox.invoices)")
    # the contracts are loaded when the first file is (an empty inbox, most ticks, costs neither them
    # nor the ingest service's imports)
    run = run_inbox(ctx.engine, ctx.settings, lambda: _contracts_or_none(ctx), clock=ctx.clock(),
                    stop=ctx.stopping)
    for s in run.files:
        if s.refused:
            ctx.logger.warning("inbox file refused: %s: %s", s.path, s.refused)
        elif s.rejected:
            ctx.logger.warning("inbox file loaded with %d row(s) rejected: %s", s.rejected, s.path)
    counts = run.counts()
    if run.invoices_loaded:
        r = reconcile(ctx.engine, clock=ctx.clock())
        stopped = counts.pop("stopped", None)       # the counts read as before: credits, then stopped
        counts |= {"credits_matched": r.matched, "credits_unmatched": r.unmatched}
        if stopped is not None:
            counts["stopped"] = stopped
    return counts


def pull_tracking(ctx: JobContext) -> dict[str, int]:
    from recoup.shipments.pull import pull
    from recoup.worker.tracking import default_tracking_client, merge, open_parcels, store_pulled

    carriers = {code: cs for code, cs in sorted(ctx.settings.carriers.items()) if cs.tracking_api_url}
    if not carriers:
        raise JobSkipped("no carrier has a tracking API configured (carriers.<code>.tracking_api_url)")
    factory = ctx.tracking_client or default_tracking_client
    contracts = _contracts_or_none(ctx)
    counts = {"carriers": 0, "asked": 0, "stored": 0, "duplicates": 0, "not_found": 0}
    problems = []
    as_of = ctx.as_of()
    for code, cs in carriers.items():
        numbers = open_parcels(ctx.engine, code, as_of)
        if not numbers:
            continue
        counts["carriers"] += 1
        client = factory(code, cs)
        for i in range(0, len(numbers), 100):
            if ctx.stopping():
                break
            chunk = numbers[i:i + 100]
            try:
                results = pull(client, chunk)
            except CarrierAuthError as e:
                problems.append(f"{code}: tracking API refused the credentials: {e}")
                break
            counts["asked"] += len(chunk)
            batch = merge(results)
            if batch is not None:
                s = store_pulled(ctx.engine, code, batch, contracts, ctx.now())
                counts["stored"] += s.stored
                counts["duplicates"] += s.duplicates
                counts["not_found"] += len(batch.errors)
    if problems:
        raise JobFailed("; ".join(problems), counts)
    return counts


def audit(ctx: JobContext) -> dict[str, int]:
    """Audit; then the claims flow matches credits loaded before their claims existed."""
    from recoup.audit.service import audit as run_audit
    from recoup.claims.reconcile import reconcile

    s = run_audit(ctx.engine, ctx.contracts(), ctx.as_of(), clock=ctx.clock(),
                  approval_threshold=ctx.settings.approval_threshold)
    reconciled = reconcile(ctx.engine, clock=ctx.clock()).matched
    problems = []
    for w, n in sorted(s.warnings.items()):
        if w.startswith(CONTRACT_NOT_LOADED):   # a carrier is not audited at all: a person must fix it
            ctx.logger.warning("audit: %s", w)
            problems.append(w)
        else:
            ctx.logger.info("audit warning: %s (%dx)", w, n)
    counts = {"shipments": s.shipments, "findings": s.findings, "new": s.new, "updated": s.updated,
            "withdrawn": s.withdrawn, "claims_opened": s.claims_opened, "claims_cancelled": s.claims_cancelled,
            "claims_updated": s.claims_updated, "reconciled": reconciled, "warnings": sum(s.warnings.values())}
    if problems:
        raise JobWarning(problems, counts)
    return counts


def submit_claims(ctx: JobContext) -> dict[str, int]:
    from recoup.claims.service import default_factory, submit

    if ctx.settings.business_hours_only and ctx.replay_as_of is None:
        tz = ZoneInfo(ctx.settings.timezone)
        local = ctx.now().astimezone(tz)
        start, end = BUSINESS_HOURS
        if local.weekday() >= 5 or not start <= local.hour < end:
            raise JobSkipped(f"outside business hours ({local:%a %H:%M} {ctx.settings.timezone}; "
                             f"Mon-Fri {start:02d}:00-{end:02d}:00; business_hours_only=false files at any hour)")
    s = submit(ctx.engine, ctx.settings, ctx.contracts(), ctx.as_of(), clock=ctx.clock(),
               factory=ctx.channel_factory or default_factory, stop=ctx.stopping)
    for p in s.problems:
        ctx.logger.warning("submit: %s", p)
    counts = {"considered": s.considered, "submitted": s.submitted, "prepared": s.prepared, "retry": s.retry,
              "needs_attention": s.needs_attention, "recovered": s.recovered, "paused_carriers": len(set(s.paused)),
              "waiting": sum(s.skipped.values())}
    if s.problems:
        raise JobWarning(s.problems, counts)
    return counts


def sync_claims(ctx: JobContext) -> dict[str, int]:
    from recoup.claims.service import default_factory, sync

    s = sync(ctx.engine, ctx.settings, ctx.contracts(), clock=ctx.clock(),
             factory=ctx.channel_factory or default_factory, stop=ctx.stopping)
    for p in s.problems:
        ctx.logger.warning("sync: %s", p)
    counts = {"polled": s.polled, "changed": s.changed, "reconciled": s.reconciled, "problems": len(s.problems)}
    if s.problems:
        raise JobWarning(s.problems, counts)
    return counts


def expire_claims(ctx: JobContext) -> dict[str, int]:
    from recoup.claims.service import expire

    return {"expired": expire(ctx.engine, ctx.as_of(), clock=ctx.clock())}


def previous_month(day: dt.date) -> str:
    last = day.replace(day=1) - dt.timedelta(days=1)
    return f"{last.year:04d}-{last.month:02d}"


def monthly_report(ctx: JobContext) -> dict[str, int]:
    """The previous month's finance report, written once to ``reports_dir`` and e-mailed once to
    ``finance_email`` when SMTP is configured (``notify.smtp_url``)."""
    month = previous_month(ctx.as_of())
    state_key = f"report.monthly.{month}"
    done = get_state(ctx.engine, state_key)
    if done is not None:
        raise JobSkipped(f"the {month} report was written already ({json.loads(done).get('at')})")
    from recoup.reports.monthly import write_monthly

    out_dir = Path(ctx.settings.reports_dir)
    files = sorted(p for p in write_monthly(ctx.engine, month, out_dir, as_of=ctx.as_of(),
                                            near_days=ctx.settings.near_deadline_days) if p.is_file())
    counts = {"files": len(files), "emailed": 0}
    if ctx.settings.finance_email and ctx.settings.notify.smtp_url:
        from recoup.worker.notify import send_email

        send_email(ctx.settings, ctx.settings.finance_email, f"recoup: recovery report {month}",
                   f"The recovery report for {month} is attached ({len(files)} file(s)).\n", files,
                   smtp_factory=ctx.smtp_factory)
        counts["emailed"] = len(ctx.settings.finance_email)
    set_state(ctx.engine, state_key, json.dumps({"at": ctx.now().isoformat(), "files": [str(p) for p in files],
                                                 "emailed": counts["emailed"]}))
    return counts


def _contracts_or_none(ctx: JobContext) -> ContractSet | None:
    try:
        return ctx.contracts()
    except RecoupError as e:
        ctx.logger.warning("contracts not loaded: %s", e)
        return None


JOBS: dict[str, Callable[[JobContext], dict[str, int]]] = {
    "ingest_inbox": ingest_inbox,
    "pull_tracking": pull_tracking,
    "audit": audit,
    "expire_claims": expire_claims,
    "submit_claims": submit_claims,
    "sync_claims": sync_claims,
    "monthly_report": monthly_report,
}
ORDER = tuple(JOBS)


# ----------------------------------------------------------------------------------------- running

@dataclass
class JobResult:
    job: str
    outcome: str                     # ok | warning | failed | skipped
    counts: dict[str, int] = field(default_factory=dict)
    detail: str = ""
    duration_s: float = 0.0


def call_job(ctx: JobContext, name: str) -> JobResult:
    """Run one job; never raises (but for KeyboardInterrupt/SystemExit): a failure is a result."""
    fn = JOBS[name]
    t0 = time.monotonic()
    try:
        counts = fn(ctx)
        res = JobResult(name, "ok", dict(counts))
    except JobSkipped as e:
        res = JobResult(name, "skipped", detail=str(e))
    except JobWarning as e:
        res = JobResult(name, "warning", dict(e.counts), detail=str(e))
    except JobFailed as e:
        res = JobResult(name, "failed", dict(e.counts), detail=str(e))
    except Exception as e:
        res = JobResult(name, "failed", detail=describe_error(e))
        ctx.logger.error("job %s failed: %s", name, res.detail, exc_info=not isinstance(e, RecoupError),
                         extra={"job": name})
    res.duration_s = round(time.monotonic() - t0, 3)
    return res


def describe_error(e: BaseException) -> str:
    msg = f"{type(e).__name__}: {e}" if not isinstance(e, RecoupError) else str(e)
    tb = traceback.extract_tb(e.__traceback__)
    if tb and not isinstance(e, RecoupError):
        last = tb[-1]
        msg += f" (at {Path(last.filename).name}:{last.lineno})"
    return msg


def run_once(ctx: JobContext, runner: Callable[[str], JobResult | None] | None = None) -> dict[str, JobResult | None]:
    """Every job once, in dependency order; a failing job does not stop the others. ``runner`` runs
    one job by name (the scheduler's, which records it); by default :func:`call_job`."""
    results: dict[str, JobResult | None] = {}
    for name in ORDER:
        if ctx.stopping():
            ctx.logger.info("stop requested: jobs after %s are left for the next run", next(reversed(results), "none"))
            break
        results[name] = runner(name) if runner is not None else call_job(ctx, name)
    return results


# ----------------------------------------------------------------------------------------- state

def get_state(engine: Engine, key: str) -> str | None:
    t = table_of(AuditState)
    with engine.connect() as conn:
        row = conn.execute(select(t.c.value).where(t.c.key == key)).first()
    return None if row is None else str(row[0])


def set_state(engine: Engine, key: str, value: str) -> None:
    t = table_of(AuditState)
    with engine.begin() as conn:
        if conn.execute(update(t).where(t.c.key == key).values(value=value)).rowcount == 0:
            conn.execute(insert(t).values(key=key, value=value))
