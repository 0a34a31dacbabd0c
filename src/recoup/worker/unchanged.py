"""Jobs a tick may leave alone: those whose inputs have not changed since their last successful run.

A job named here is skipped (outcome ``skipped``, the reason in the run's detail) when its check,
made with the store's own records, says its inputs are what its last run saw and that run was a
success (``ok``, or itself such a skip). Only jobs whose result is a function of stored data and of
the day are named: the audit (its incremental bookkeeping in ``audit_state`` says what it judged,
up to which scan, invoice line and file, for which day and which contracts and rules). A new day
is something new; so are a new file, scan or invoice line, or an edited contract. Jobs driven by
deadlines or outside systems (filing claims whose window is closing, polling the carriers, expiry)
always run: a cheap run of theirs is their own business.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from recoup.store.models import JobRun, table_of
from recoup.worker.jobs import JobContext


def _audit(ctx: JobContext) -> str | None:
    from recoup.audit.incremental import nothing_new

    with ctx.engine.connect() as conn:
        return nothing_new(conn, ctx.contracts(), ctx.as_of())


CHECKS: dict[str, Callable[[JobContext], str | None]] = {"audit": _audit}


def skip_reason(ctx: JobContext, job: str, run_id: int | None) -> str | None:
    """Why ``job`` need not run now (its inputs unchanged since its last successful run), or None.
    ``run_id`` is this tick's own ``job_run`` row, left out of the look-up. Any error: None (run it)."""
    check = CHECKS.get(job)
    if check is None:
        return None
    t = table_of(JobRun)
    try:
        with ctx.engine.connect() as conn:
            q = select(t.c.outcome).where(t.c.job == job).where(t.c.outcome != "running")
            if run_id is not None:
                q = q.where(t.c.id != run_id)
            last = conn.execute(q.order_by(t.c.id.desc()).limit(1)).scalar()
        if last not in ("ok", "skipped"):
            return None
        return check(ctx)
    except Exception:
        return None
