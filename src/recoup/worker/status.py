"""``recoup worker status``: each job's last run, outcome, duration, counts and next run, the
workers seen, what stops recoup doing its job (``problems``: no worker running, nothing configured,
contracts that do not load, claims that cannot be filed or synced, failing jobs, paused carriers;
``worker status --check`` exits 1 on any), and what waits for a person (claims to approve, near
their deadline, rejected inbox files) with the money at stake."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from recoup.claims.lifecycle import FINAL, UNFILED
from recoup.clock import wall_now
from recoup.health import FAIL, Check
from recoup.ingest.inbox import REJECTED, inbox_folders, pending_files
from recoup.money import fmt
from recoup.settings import Settings
from recoup.store.models import Claim, JobRun, table_of
from recoup.worker.jobs import ORDER
from recoup.worker.notify import failing_jobs, paused_carriers
from recoup.worker.scheduler import triggers


def _iso(t: dt.datetime | None) -> str | None:
    return t.astimezone(dt.UTC).isoformat(timespec="seconds") if t is not None else None


def job_rows(engine: Engine, settings: Settings, now: dt.datetime) -> list[dict[str, Any]]:
    trig = triggers(settings)
    t = table_of(JobRun)
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
    from recoup.health import heartbeats

    return heartbeats(engine, now)


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


def awaiting_approval(engine: Engine) -> list[dict[str, Any]]:
    """Claims above the approval threshold that wait for `recoup claims approve`."""
    ct = table_of(Claim)
    with engine.connect() as conn:
        rows = conn.execute(select(ct).where(ct.c.needs_approval.is_(True)).where(ct.c.approved_by.is_(None))
                            .where(ct.c.status.in_(UNFILED)).order_by(ct.c.deadline, ct.c.id))
        return [{"id": r.id, "carrier": r.carrier, "tracking_number": r.tracking_number, "kind": r.kind,
                 "deadline": r.deadline.isoformat() if r.deadline else None, "amount": fmt(int(r.claimed_cents)),
                 "currency": r.currency} for r in rows]


def needs_attention_claims(engine: Engine) -> list[dict[str, Any]]:
    ct = table_of(Claim)
    with engine.connect() as conn:
        rows = conn.execute(select(ct).where(ct.c.status == "needs_attention").order_by(ct.c.id))
        return [{"id": r.id, "carrier": r.carrier, "tracking_number": r.tracking_number,
                 "amount": fmt(int(r.claimed_cents)), "currency": r.currency, "message": r.message} for r in rows]


def at_stake(engine: Engine) -> list[dict[str, Any]]:
    """Money claimed and not yet settled (claims not in a final state), per currency."""
    ct = table_of(Claim)
    with engine.connect() as conn:
        rows = conn.execute(select(ct.c.currency, func.count(), func.sum(ct.c.claimed_cents - ct.c.credited_cents))
                            .where(ct.c.status.not_in(FINAL)).group_by(ct.c.currency).order_by(ct.c.currency))
        return [{"currency": cur, "claims": int(n), "amount": fmt(int(cents or 0))} for cur, n, cents in rows]


def problems(engine: Engine, settings: Settings, now: dt.datetime, jobs: list[dict[str, Any]],
             alive: list[dict[str, Any]]) -> list[Check]:
    """What stops recoup doing its job until a person acts: no worker running, nothing configured,
    contracts that do not load, claims that cannot be filed or synced, jobs failing or warning,
    paused carriers. ``worker status --check`` exits 1 when there is any."""
    from recoup.health import channel_checks, contract_checks, inbox_checks, load_contract_set, worker_check

    out = [worker_check(engine, settings, now, wall_now(), alive)]
    out += [c for c in inbox_checks(settings) if c.problem]
    contracts, failed = load_contract_set(settings)
    out += [failed] if failed else [c for c in contract_checks(settings, contracts) if c.problem]
    for j in jobs:
        if j["outcome"] == "warning":
            out.append(Check(f"job {j['job']}", FAIL, f"last run ({j['last_tick']}): {j['detail']}",
                             "fix what it names; the next run picks it up"))
        elif j["outcome"] == "failed":
            out.append(Check(f"job {j['job']}", FAIL, f"last run ({j['last_tick']}) failed: {j['detail']}",
                             "see the worker's log; `recoup doctor` checks the setup"))
    ct = table_of(Claim)
    with engine.connect() as conn:
        waiting = [r[0] for r in conn.execute(select(ct.c.carrier).where(ct.c.status.in_(("ready", "submitting")))
                                              .distinct())]
    out += [c for c in channel_checks(settings, contracts, waiting) if c.problem]
    for p in paused_carriers(engine):
        out.append(Check(f"channel {p['carrier']}", FAIL, f"paused since {p['at']}: {p['reason']}",
                         f"fix the credentials, then `recoup claims resume {p['carrier']}`"))
    stuck = needs_attention_claims(engine)
    if stuck:
        out.append(Check("claims", FAIL, f"{len(stuck)} claim(s) need attention (e.g. claim {stuck[0]['id']}: "
                                         f"{stuck[0]['message']})",
                         "`recoup claims list --status needs_attention`, then `recoup claims retry ID`"))
    return [c for c in out if c.problem]


def status(engine: Engine, settings: Settings, now: dt.datetime, as_of: dt.date) -> dict[str, Any]:
    from recoup.claims.service import near_deadline

    jobs = job_rows(engine, settings, now)
    seen = workers(engine, wall_now())    # heartbeats are wall-clock (liveness), so is their age
    found = problems(engine, settings, now, jobs, [w for w in seen if w["alive"]])
    return {
        "now": _iso(now),
        "healthy": not found,
        "problems": [c.as_dict() for c in found],
        "jobs": jobs,
        "workers": seen,
        "claims": {"awaiting_approval": awaiting_approval(engine), "needs_attention": needs_attention_claims(engine),
                   "at_stake": at_stake(engine)},
        "attention": {
            "paused_carriers": paused_carriers(engine),
            "near_deadline": near_deadline(engine, as_of, settings.near_deadline_days),
            "rejected_files": rejected_inbox_files(settings),
            "failing_jobs": failing_jobs(engine, 1),
        },
    }
