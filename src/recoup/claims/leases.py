"""A claim held by one submitter at a time (:class:`Leases`), for :func:`recoup.claims.service.submit`."""

from __future__ import annotations

import fcntl
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine


class Leases:
    """Who is filing which claim right now, so that a claim in ``submitting`` is recovered only when
    nobody alive is filing it.

    PostgreSQL: a session advisory lock per claim, on a connection held for the run; the server
    drops it when the process dies (kill -9 included), so a crashed submitter's claims are
    recoverable at once and a live one's never. SQLite: one submitter at a time, by an exclusive
    file lock beside the database (released by the OS on exit); a second submitter waits for it.
    """

    NAMESPACE = 0x5245

    def __init__(self, engine: Engine) -> None:
        self.conn: Connection | None = None
        self.lockfile: Any = None
        if engine.dialect.name == "postgresql":
            self.conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        else:
            path = engine.url.database
            if path and path != ":memory:":
                self.lockfile = open(f"{path}.submit.lock", "a+")  # noqa: SIM115 - held for the run
                fcntl.flock(self.lockfile.fileno(), fcntl.LOCK_EX)

    def hold(self, claim_id: int) -> bool:
        if self.conn is None:
            return True
        return bool(self.conn.execute(text("SELECT pg_try_advisory_lock(:ns, :id)"),
                                      {"ns": self.NAMESPACE, "id": claim_id}).scalar())

    def release(self, claim_id: int) -> None:
        if self.conn is not None:
            self.conn.execute(text("SELECT pg_advisory_unlock(:ns, :id)"), {"ns": self.NAMESPACE, "id": claim_id})

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        if self.lockfile is not None:
            fcntl.flock(self.lockfile.fileno(), fcntl.LOCK_UN)
            self.lockfile.close()
            self.lockfile = None
