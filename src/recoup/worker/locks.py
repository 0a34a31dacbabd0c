"""Who may run what: PostgreSQL advisory locks per job (several workers on one database), the
single-worker file lock of SQLite, and the clean-up of runs whose worker is gone."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select, text, update
from sqlalchemy.engine import Engine

from recoup.clock import wall_now
from recoup.errors import StoreError
from recoup.store.models import AuditState, JobRun, table_of

HEARTBEAT_S = 60
ORPHAN_AFTER_BEATS = 10       # a worker silent this many beats is gone (as worker status judges it)
WORKER_STATE_PREFIX = "worker."


def _lock_id(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class Held:
    """What :func:`pg_try_lock` yields: true when this worker got the lock; :meth:`still_held` tells
    whether it still has it (its session may have been dropped: the lock went with it)."""

    CHECK_EVERY_S = 5.0

    def __init__(self, got: bool, conn: Any = None) -> None:
        self.got = got
        self._conn = conn
        self._checked = time.monotonic()
        self.lost = False

    def __bool__(self) -> bool:
        return self.got

    def still_held(self) -> bool:
        """False once the lock's connection is gone (checked at most every few seconds)."""
        if not self.got or self.lost:
            return False
        if self._conn is None or time.monotonic() - self._checked < self.CHECK_EVERY_S:
            return True
        self._checked = time.monotonic()
        try:
            self._conn.execute(text("SELECT 1")).scalar()
            self._conn.commit()
        except Exception:
            self.lost = True
        return not self.lost


@contextlib.contextmanager
def pg_try_lock(engine: Engine, name: str, *, wait: bool = False) -> Iterator[Held]:
    """A PostgreSQL session advisory lock held for the block; true if this worker got it (``wait``:
    wait for it). Elsewhere (SQLite: one worker) always true. A dropped session loses the lock: the
    holder asks :meth:`Held.still_held` between its units of work and stops when it is gone."""
    if engine.dialect.name != "postgresql":
        yield Held(True)
        return
    with engine.connect() as conn:
        # one lock space per database and schema: recoups on other schemas of the server do not collide
        where = conn.execute(text("SELECT current_database() || '.' || current_schema()")).scalar()
        key = _lock_id(f"{where}:{name}")
        if wait:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            got = True
        else:
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
        conn.commit()
        held = Held(got, conn)
        try:
            yield held
        finally:
            if got and not held.lost:
                with contextlib.suppress(Exception):   # a dropped session has released it already
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    conn.commit()


def close_orphaned_runs(engine: Engine, now: dt.datetime, me: str | None = None) -> int:
    """Mark as failed the runs still ``running`` whose worker is gone: no heartbeat row, or none for
    ``ORPHAN_AFTER_BEATS`` beats (wall clock: liveness). Returns how many. A live worker's runs are
    never touched; on SQLite the single worker does the same at its start."""
    t = table_of(JobRun)
    st = table_of(AuditState)
    with engine.begin() as conn:
        running = {r[0] for r in conn.execute(select(t.c.worker).where(t.c.outcome == "running").distinct())}
        running.discard(me)
        if not running:
            return 0
        beats: dict[str, dt.datetime] = {}
        for r in conn.execute(select(st.c.key, st.c.value).where(st.c.key.like(WORKER_STATE_PREFIX + "%"))):
            with contextlib.suppress(ValueError, KeyError, TypeError):
                beats[r.key.removeprefix(WORKER_STATE_PREFIX)] = dt.datetime.fromisoformat(json.loads(r.value)["heartbeat"])
        wall = wall_now()
        gone = [w for w in running
                if w not in beats or (wall - beats[w]).total_seconds() > ORPHAN_AFTER_BEATS * HEARTBEAT_S]
        if not gone:
            return 0
        return int(conn.execute(update(t).where(t.c.outcome == "running").where(t.c.worker.in_(gone)).values(
            outcome="failed", finished_at=now,
            detail="its worker is gone (no heartbeat): the run did not finish")).rowcount or 0)


class SingleWorkerLock:
    """SQLite takes one worker: an exclusive ``flock`` on ``<database file>.worker.lock``."""

    def __init__(self, engine: Engine) -> None:
        db = engine.url.database
        self.path = None if engine.dialect.name != "sqlite" or not db or db == ":memory:" or db.startswith("file:") \
            else Path(db).resolve().with_name(Path(db).name + ".worker.lock")
        self._f: IO[str] | None = None

    def acquire(self, worker_id: str) -> None:
        if self.path is None:
            return
        import fcntl

        f = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held open while the worker runs
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.seek(0)
            holder = f.read().strip() or "unknown"
            f.close()
            raise StoreError(
                f"another recoup worker is already running on this SQLite database ({holder}; lock {self.path}): "
                "SQLite takes a single worker. Stop the other one first, or use PostgreSQL to run several "
                "workers") from None
        f.seek(0)
        f.truncate()
        # wall clock by nature: who holds the lock, and since when, really
        f.write(f"worker {worker_id}, pid {os.getpid()}, since {wall_now().isoformat(timespec='seconds')}\n")
        f.flush()
        self._f = f

    def release(self) -> None:
        if self._f is not None:
            import fcntl

            with contextlib.suppress(OSError):
                self._f.seek(0)
                self._f.truncate()
                fcntl.flock(self._f.fileno(), fcntl.LOCK_UN)
            self._f.close()
            self._f = None
