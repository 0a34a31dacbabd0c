"""``recoup worker status``: each job's last run, outcome, duration, counts and next run, the
workers seen, and what needs a person (paused carriers, claims near their deadline, rejected inbox
files, failing jobs)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from recoup.clock import wall_now
from recoup.ingest.inbox import REJECTED, inbox_folders, pending_files
from recoup.settings import Settings
from recoup.store.models import AuditState, JobRun
from recoup.worker.jobs import ORDER
from recoup.worker.notify import failing_jobs, paused_carriers
from recoup.worker.scheduler import HEARTBEAT_S, WORKER_STATE_PREFIX, triggers


def _iso(t: dt.datetime | None) -> str | None:
    return t.astimezone(dt.UTC).isoformat(timespec="seconds") if t is not None else None


def job_rows(engine: Engine, settings: Settings, now: dt.datetime) -> list[dict[str, Any]]:
    trig = triggers(settings)
    t = JobRun.__table__  # type: ignore[attr-defined]
    out = []
    with engine.connect() as conn:
        for job in ORDER:
            last = conn.execute(select(t).where(t.c.job == job).order_by(t.c.started_at.desc(), t.c.id.desc())
                                .limit(1)).first()
            nxt = trig[job].get_next_fire_time(None, now)
            row: dict[str, Any] = {"job": job, "schedule": settings.schedule(job), "last_tick": None,
                                   "outcome": None, "started_at": None, "duration_s": None, "worker": None,
                                   "counts": {}, "detail": None, "next_run": _iso(nxt)}
            if last is not None:
                dur = (last.finished_at - last.started_at).total_seconds() if last.finished_at else None
                row.update(last_tick=last.tick, outcome=last.outcome, started_at=_iso(last.started_at),
                           duration_s=round(dur, 3) if dur is not None else None, worker=last.worker,
                           counts=json.loads(last.counts or "{}"), detail=last.detail or None)
            out.append(row)
    return out


def workers(engine: Engine, now: dt.datetime) -> list[dict[str, Any]]:
    t = AuditState.__table__  # type: ignore[attr-defined]
    out = []
    with engine.connect() as conn:
        for r in conn.execute(select(t).where(t.c.key.like(WORKER_STATE_PREFIX + "%")).order_by(t.c.key)):
            try:
                d = json.loads(r.value)
                beat = dt.datetime.fromisoformat(d["heartbeat"])
            except (ValueError, KeyError, TypeError):
                continue
            # a worker busy with a long job beats less often; 10 beats missed: it is gone
            d["alive"] = (now - beat).total_seconds() < 10 * HEARTBEAT_S
            out.append(d)
    return out


def rejected_inbox_files(settings: Settings) -> list[dict[str, Any]]:
    out = []
    for kind, folder in inbox_folders(settings):
        rej = folder / REJECTED
        for p in pending_files(rej):
            reason_file = Path(str(p) + ".reason")
            first = ""
            if reason_file.exists():
                lines = reason_file.read_text(encoding="utf-8", errors="replace").splitlines()
                first = lines[0] if lines else ""
            out.append({"kind": kind, "file": str(p), "reason": first})
    return out


def status(engine: Engine, settings: Settings, now: dt.datetime, as_of: dt.date) -> dict[str, Any]:
    from recoup.claims.service import near_deadline

    return {
        "now": _iso(now),
        "jobs": job_rows(engine, settings, now),
        "workers": workers(engine, wall_now()),    # heartbeats are wall-clock (liveness), so is their age
        "attention": {
            "paused_carriers": paused_carriers(engine),
            "near_deadline": near_deadline(engine, as_of, settings.near_deadline_days),
            "rejected_files": rejected_inbox_files(settings),
            "failing_jobs": failing_jobs(engine, 1),
        },
    }
