"""The worker: APScheduler 3.x wiring of the plain jobs of :mod:`recoup.worker.jobs`.

- One :class:`~apscheduler.schedulers.blocking.BlockingScheduler`, one cron trigger per job
  (``settings.schedule(job)``, in ``settings.timezone``), ``coalesce=True`` (a worker that slept
  through several ticks runs the job once), ``max_instances=1``, a misfire grace time, and a
  single-thread executor: one job at a time per worker.
- Every run is a ``job_run`` row: job, tick (the scheduled instant, UTC ISO), worker id, outcome
  (``running`` → ``ok`` / ``failed`` / ``skipped``), counts (JSON), start and end, error detail. A
  failing job is logged and recorded, never kills the worker, and runs again at its next tick.
- Several workers on one PostgreSQL database: the ``job_run`` row for ``(job, tick)`` is inserted
  *before* the job runs; the table's unique key lets one worker have it and the others skip. A
  PostgreSQL advisory lock per job (``pg_try_advisory_lock``) also keeps two workers from running
  one job's different ticks at once (a slow run overlapping the next tick elsewhere).
- SQLite: one worker only, enforced by an exclusive lock on ``<database>.worker.lock`` (released
  by the OS when the process ends, so a crash never leaves it stuck). A second worker is refused.
- SIGTERM / SIGINT set the stop flag: the job in hand finishes its current unit (a file, a claim,
  a batch) and stops; no new job starts; the process exits 0.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from recoup.clock import wall_now
from recoup.errors import ConfigError, StoreError, driver_message
from recoup.settings import DEFAULT_SCHEDULES, Settings
from recoup.store.models import AuditState, JobRun, table_of
from recoup.worker.jobs import ORDER, JobContext, JobResult, call_job, run_once, set_state
from recoup.worker.locks import (
    HEARTBEAT_S,
    ORPHAN_AFTER_BEATS,
    WORKER_STATE_PREFIX,
    Held,
    SingleWorkerLock,
    close_orphaned_runs,
    pg_try_lock,
)
from recoup.worker.unchanged import skip_reason

__all__ = ["HEARTBEAT_S", "ORPHAN_AFTER_BEATS", "WORKER_STATE_PREFIX", "Held", "SingleWorkerLock",
           "Worker", "close_orphaned_runs", "fire_times", "latest_fire", "pg_try_lock", "stop_on_signals",
           "tick_key", "triggers"]

MISFIRE_GRACE_S = 1800        # a run that could not start within 30 min of its tick waits for the next tick


# ----------------------------------------------------------------------------------------- triggers

def triggers(settings: Settings) -> dict[str, CronTrigger]:
    """One cron trigger per job; ConfigError naming the key for a bad expression or unknown job."""
    unknown = sorted(set(settings.schedules) - set(DEFAULT_SCHEDULES))
    if unknown:
        raise ConfigError(f"schedules: unknown job(s) {', '.join(unknown)} (known: {', '.join(ORDER)})")
    out = {}
    for job in ORDER:
        expr = settings.schedule(job)
        try:
            out[job] = CronTrigger.from_crontab(expr, timezone=settings.timezone)
        except (ValueError, KeyError, LookupError) as e:
            raise ConfigError(f"schedules.{job}: {expr!r} is not a crontab expression: {e}") from None
    return out


def tick_key(tick: dt.datetime) -> str:
    return tick.astimezone(dt.UTC).isoformat(timespec="seconds")


def fire_times(trigger: CronTrigger, start: dt.datetime, end: dt.datetime) -> Iterator[dt.datetime]:
    """The trigger's fire times in ``(start, end]``."""
    t = trigger.get_next_fire_time(None, start + dt.timedelta(seconds=1))
    while t is not None and t <= end:
        yield t
        t = trigger.get_next_fire_time(t, t + dt.timedelta(seconds=1))


def latest_fire(trigger: CronTrigger, now: dt.datetime, lookback: dt.timedelta) -> dt.datetime | None:
    """The last fire time at or before ``now`` within ``lookback`` (the tick a coalesced run is for)."""
    last = None
    for t in fire_times(trigger, now - lookback, now):
        last = t
    return last


def floor_minute(t: dt.datetime) -> dt.datetime:
    return t.replace(second=0, microsecond=0)


# ----------------------------------------------------------------------------------------- worker

class Worker:
    """Runs jobs for ticks and records them. ``run_job`` is the unit the scheduler calls; tests call
    ``run_due`` over a simulated clock."""

    def __init__(self, ctx: JobContext, *, misfire_grace_s: int = MISFIRE_GRACE_S,
                 notify: bool = True) -> None:
        self.ctx = ctx
        self.misfire_grace_s = misfire_grace_s
        self.triggers = triggers(ctx.settings)
        self.notify = notify
        self.started_at = wall_now()      # liveness (worker status): wall clock by nature, even in a replay
        self._lock = SingleWorkerLock(ctx.engine)
        self._sched: Any = None
        self._served = False
        self._stoppers: list[threading.Thread] = []

    @property
    def log(self) -> Any:
        return self.ctx.logger

    # -- life cycle -------------------------------------------------------------------------------

    def wait_for_database(self, wait_s: float) -> None:
        """Wait (logging, with a growing pause up to 30 s) until the database answers; StoreError after
        ``wait_s`` seconds or on a stop request. A worker started while PostgreSQL is still coming up
        (a reboot, a failover) waits for it instead of dying with a traceback."""
        deadline = time.monotonic() + wait_s
        pause = 1.0
        while True:
            try:
                with self.ctx.engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
                return
            except Exception as e:
                first = driver_message(e, type(e).__name__)
                left = deadline - time.monotonic()
                if left <= 0 or self.ctx.stopping():
                    raise StoreError(f"the database does not answer ({first}); gave up after {wait_s:g} s: "
                                     "check that it runs and RECOUP_DATABASE_URL") from None
                self.log.warning("the database does not answer (%s): retrying in %.0f s", first, min(pause, left))
                self.ctx.stop.wait(min(pause, left))
                pause = min(pause * 2, 30.0)

    def start(self, *, migrate: bool = True, wait_s: float = 0.0) -> None:
        """Take the single-worker lock (SQLite), create or migrate the schema, clean up after a crash.
        With ``wait_s``, wait that long for an unreachable database first."""
        if wait_s > 0:
            self.wait_for_database(wait_s)
        self._lock.acquire(self.ctx.worker_id)
        try:
            if migrate:
                from recoup.store.db import init_db

                with pg_try_lock(self.ctx.engine, "recoup.migrate", wait=True):
                    try:
                        msg = init_db(self.ctx.engine)
                    except StoreError:
                        raise
                    except Exception as e:   # e.g. a schema newer than this recoup knows
                        raise StoreError(f"cannot create or migrate the database schema: {type(e).__name__}: {e} "
                                         "(is a newer recoup using this database?)") from None
                self.log.info("%s", msg)
            else:
                from recoup.store.db import check_schema

                check_schema(self.ctx.engine)
            if self._lock.path is not None:
                # we hold the only worker lock: a 'running' row is a run a crash cut short
                t = table_of(JobRun)
                with self.ctx.engine.begin() as conn:
                    n = conn.execute(update(t).where(t.c.outcome == "running").values(
                        outcome="failed", finished_at=self.ctx.now(),
                        detail="the worker stopped before this run finished")).rowcount
                if n:
                    self.log.warning("marked %d run(s) cut short by an earlier stop as failed", n)
            self.heartbeat()
        except BaseException:
            self._lock.release()
            raise

    def close(self) -> None:
        with contextlib.suppress(Exception):
            t = table_of(AuditState)
            with self.ctx.engine.begin() as conn:
                conn.execute(delete(t).where(t.c.key == WORKER_STATE_PREFIX + self.ctx.worker_id))
        self._lock.release()

    def heartbeat(self, last_job: str | None = None) -> None:
        if self.ctx.engine.dialect.name == "postgresql":
            with contextlib.suppress(Exception):
                n = close_orphaned_runs(self.ctx.engine, self.ctx.now(), self.ctx.worker_id)
                if n:
                    self.log.warning("closed %d run(s) as failed: their worker is gone (no heartbeat)", n)
        try:
            set_state(self.ctx.engine, WORKER_STATE_PREFIX + self.ctx.worker_id, json.dumps({
                "worker": self.ctx.worker_id, "host": socket.gethostname(), "pid": os.getpid(),
                "started_at": self.started_at.isoformat(timespec="seconds"),
                "heartbeat": wall_now().isoformat(timespec="seconds"), "last_job": last_job}))   # liveness: wall clock
        except Exception as e:   # the database may be away for a moment: say so, carry on
            self.log.warning("heartbeat not written: %s", type(e).__name__)

    # -- running ----------------------------------------------------------------------------------

    def run_job(self, job: str, tick: dt.datetime) -> JobResult | None:
        """Run ``job`` for ``tick`` unless another worker has it; record the run. Never raises
        (the worker outlives any job); None when it did not run here."""
        ctx = self.ctx
        if ctx.stopping():
            return None
        key = tick_key(tick)
        extra = {"job": job, "tick": key, "worker": ctx.worker_id}
        t = table_of(JobRun)
        try:
            try:
                with ctx.engine.begin() as conn:
                    pk = conn.execute(insert(t).values(job=job, tick=key, worker=ctx.worker_id, started_at=ctx.now(),
                                                       outcome="running", counts="{}", detail="")).inserted_primary_key
                    rid = int(pk[0]) if pk is not None else None
            except IntegrityError:
                self.log.info("%s for %s: already taken by another worker", job, key, extra=extra)
                return None
            with pg_try_lock(ctx.engine, f"recoup.job.{job}") as got:
                if got:
                    self.log.info("%s for %s: started", job, key, extra=extra)
                    ctx.lock_check = got.still_held      # the job stops at its next unit of work if lost
                    try:
                        why = skip_reason(ctx, job, rid)
                        res = JobResult(job, "skipped", detail=why) if why else call_job(ctx, job)
                    finally:
                        ctx.lock_check = None
                    if got.lost:
                        res = JobResult(job, "failed", counts=res.counts,
                                        detail="lost its database lock (the connection dropped): stopped at the "
                                               "next unit of work so that no other worker runs it twice; "
                                               "the next tick carries on. " + res.detail)
                else:
                    res = JobResult(job, "skipped", detail="another worker is still running this job (an earlier tick)")
            with ctx.engine.begin() as conn:
                conn.execute(update(t).where(t.c.id == rid).values(
                    outcome=res.outcome, finished_at=ctx.now(), counts=json.dumps(res.counts, sort_keys=True),
                    detail=res.detail[:4000]))
        except Exception as e:
            from recoup.worker.jobs import describe_error

            self.log.error("%s for %s: could not be run or recorded: %s", job, key, describe_error(e), extra=extra)
            return None
        level = 40 if res.outcome == "failed" else 30 if res.outcome == "warning" else 20
        self.log.log(level, "%s for %s: %s in %.1fs %s%s", job, key, res.outcome, res.duration_s,
                     json.dumps(res.counts, sort_keys=True), f" ({res.detail})" if res.detail else "",
                     extra={**extra, "outcome": res.outcome, "counts": res.counts, "duration_s": res.duration_s,
                            "detail": res.detail})
        self.after_job(job)
        return res

    def after_job(self, job: str) -> None:
        self.heartbeat(job)
        if not self.notify:
            return
        try:
            from recoup.worker.notify import check

            r = check(self.ctx.engine, self.ctx.settings, self.ctx.as_of(), self.ctx.now(),
                      smtp_factory=self.ctx.smtp_factory)
            if r.sent:
                self.log.info("notified %d new item(s) that need a person", r.sent)
        except Exception as e:
            from recoup.worker.jobs import describe_error

            self.log.warning("notifications failed: %s", describe_error(e))

    def run_due(self, start: dt.datetime, end: dt.datetime) -> list[tuple[str, dt.datetime, JobResult | None]]:
        """Every job whose cron fired in ``(start, end]``, once (coalesced to its last tick), in
        dependency order: what a worker asleep from ``start`` to ``end`` does when it wakes."""
        out = []
        for job in ORDER:
            last = None
            for t in fire_times(self.triggers[job], start, end):
                last = t
            if last is not None:
                if self.ctx.stopping():
                    break
                out.append((job, last, self.run_job(job, last)))
        return out

    def run_once(self, tick: dt.datetime | None = None) -> dict[str, JobResult | None]:
        """Each job once, in dependency order, recorded under ``tick``. By default this minute (two
        `--once` runs started by cron in the same minute on two hosts do the work once); a replay
        (``--as-of``) is recorded on the replayed day at the clock's time of day (12:00 UTC), so a
        backfill of several days in a row runs each day, and replaying the same day again (new files
        in the inbox) runs under the next free second of that day: deterministic, never the wall clock."""
        if tick is None:
            now = self.ctx.now().astimezone(dt.UTC)
            if self.ctx.replay_as_of is not None:
                tick = self._replay_tick(dt.datetime.combine(self.ctx.replay_as_of,
                                                             now.time().replace(microsecond=0), dt.UTC))
            else:
                tick = floor_minute(now)
        return run_once(self.ctx, runner=lambda job: self.run_job(job, tick))

    def _replay_tick(self, base: dt.datetime) -> dt.datetime:
        """``base``, or one second after the latest run already recorded for this replayed day."""
        t = table_of(JobRun)
        end = dt.datetime.combine(base.date() + dt.timedelta(days=1), dt.time(0), dt.UTC)
        with self.ctx.engine.connect() as conn:
            last = conn.execute(select(func.max(t.c.tick)).where(t.c.tick >= tick_key(base))
                                .where(t.c.tick < tick_key(end))).scalar()
        if last is None:
            return base
        return max(base, dt.datetime.fromisoformat(str(last)) + dt.timedelta(seconds=1))

    # -- the scheduler ----------------------------------------------------------------------------

    def _fire(self, job: str) -> None:
        now = self.ctx.now()
        tick = latest_fire(self.triggers[job], now, dt.timedelta(seconds=self.misfire_grace_s + 120)) \
            or floor_minute(now)
        self.run_job(job, tick)

    def build_scheduler(self) -> Any:
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.blocking import BlockingScheduler

        defaults = {"coalesce": True, "max_instances": 1, "misfire_grace_time": self.misfire_grace_s}
        sched = BlockingScheduler(timezone=self.ctx.settings.timezone, job_defaults=defaults,
                                  executors={"default": ThreadPoolExecutor(max_workers=1)})
        for job in ORDER:
            sched.add_job(self._fire, trigger=self.triggers[job], args=[job], id=job, name=job,
                          replace_existing=True, **defaults)
        sched.add_job(self.heartbeat, "interval", seconds=HEARTBEAT_S, id="heartbeat", name="heartbeat", **defaults)
        return sched

    def request_stop(self) -> None:
        """On SIGTERM/SIGINT: no new job starts; the scheduler shuts down once the job in hand has
        finished its unit of work (the jobs check ``ctx.stop`` between units)."""
        self.ctx.stop.set()
        sched = self._sched
        if sched is None:
            return   # not serving (yet): serve() sees the flag and does not start

        def shut() -> None:
            deadline = time.monotonic() + 60
            while not sched.running and not self._served and time.monotonic() < deadline:
                time.sleep(0.05)    # the signal came between the flag check and sched.start()
            with contextlib.suppress(Exception):
                sched.shutdown(wait=True)

        th = threading.Thread(target=shut, name="recoup-worker-stop")
        th.start()
        self._stoppers.append(th)

    def serve(self) -> None:
        """Run the schedule until :meth:`request_stop` (wire it to the signals with
        :func:`stop_on_signals`); returns when the job in hand has finished."""
        sched = self.build_scheduler()
        self._sched = sched
        try:
            if not self.ctx.stopping():
                for job in ORDER:
                    self.log.info("%s: %s (next %s)", job, self.ctx.settings.schedule(job),
                                  self.triggers[job].get_next_fire_time(None, self.ctx.now()))
                sched.start()
        finally:
            self._served = True
        for th in self._stoppers:
            th.join()
        self.log.info("worker stopped")


@contextlib.contextmanager
def stop_on_signals(ctx: JobContext, on_stop: Callable[[], None] | None = None) -> Iterator[None]:
    """SIGTERM/SIGINT set ``ctx.stop`` (then ``on_stop``); a second signal only repeats the message."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: Any) -> None:
        name = signal.Signals(signum).name
        if ctx.stop.is_set():
            ctx.logger.info("%s: already stopping after the current unit of work", name)
            return
        ctx.logger.info("%s: stopping after the current unit of work", name)
        ctx.stop.set()
        if on_stop is not None:
            on_stop()

    old = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
