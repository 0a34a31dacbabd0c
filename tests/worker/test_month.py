"""A month of the worker on a simulated clock: each day's files land in the inbox, the worker wakes
every other day at noon and runs what its crons fired since it last woke (coalesced, as APScheduler
does), claims go to the sandbox carrier server over real HTTP, the credits arrive at the end.
Nothing may happen twice."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from recoup.sandbox import SandboxServer
from recoup.settings import load_settings
from recoup.store.models import Claim, IngestedFile, JobRun
from recoup.worker.scheduler import Worker

from .conftest import DayFiles, Inbox, api_env, make_ctx

START = dt.date(2026, 10, 17)
END = dt.date(2026, 11, 16)
STEP = dt.timedelta(days=2)     # the worker wakes every other day (each audit costs about a second)


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer("", hold_s=0.5) as s:
        yield s


def noon(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, 12, 0, tzinfo=dt.UTC)


def test_a_month_of_ticks_files_each_claim_once(worker_env: dict[str, str], inbox: Inbox, month_data: DayFiles,
                                                sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    api_env(monkeypatch, sandbox.url)
    monkeypatch.setenv("RECOUP_BUSINESS_HOURS_ONLY", "true")
    settings = load_settings()
    now = [noon(START)]
    ctx = make_ctx(settings, clock=lambda: now[0])
    worker = Worker(ctx)
    worker.start()
    try:
        dropped = month_data.drop(month_data.up_to(START), inbox)
        prev = noon(START) - dt.timedelta(days=1)
        day = START
        ran: list[tuple[str, dt.datetime]] = []
        while day <= END:
            for d in range((day - (prev.date() if day > START else day)).days, 0, -1):
                dropped += month_data.drop(month_data.on(day - dt.timedelta(days=d - 1)), inbox)
            now[0] = noon(day)
            for job, tick, res in worker.run_due(prev, now[0]):
                assert res is not None, f"{job} {tick} did not run"
                assert res.outcome in ("ok", "skipped"), (job, tick, res)
                ran.append((job, tick))
            prev = now[0]
            day += STEP

        # every file read once, archived, none left or rejected
        assert inbox.waiting() == []
        assert inbox.rejected() == []
        assert len(inbox.archived()) == dropped
        eng = ctx.engine
        with eng.connect() as conn:
            assert conn.execute(select(func.count()).select_from(IngestedFile)).scalar() == dropped
            claims = list(conn.execute(select(Claim.__table__)))  # type: ignore[attr-defined]
            runs = conn.execute(select(func.count()).select_from(JobRun)).scalar()
            ticks = conn.execute(text("SELECT job, tick, COUNT(*) FROM job_run GROUP BY job, tick HAVING COUNT(*) > 1")).all()
        assert runs == len(ran) and not ticks

        # each claim filed once: one POST per idempotency key, and only for claims that left
        posts = Counter(r["idempotency_key"] for r in sandbox.requests() if r["method"] == "POST"
                        and r["path"] == "/v2/claims")
        assert posts, "no claim was filed"
        assert max(posts.values()) == 1
        filed = {c.idempotency_key for c in claims if c.filed_at is not None}
        assert set(posts) == filed
        statuses = Counter(c.status for c in claims)
        assert statuses["submitting"] == 0
        assert statuses["credited"] > 0, statuses           # the credits of 2026-11-15 were matched
        assert statuses["ready"] + statuses["needs_attention"] < len(claims)

        # submit ran only on weekdays in business hours
        submit_days = {t.date() for j, t in ran if j == "submit_claims"}
        assert all(d.weekday() < 5 for d in submit_days)

        # the monthly report (the previous month, on the 1st)
        if importlib.util.find_spec("recoup.reports.monthly") is not None:
            files = sorted(p.name for p in Path(settings.reports_dir).glob("*2026-10*"))
            assert files, "the monthly report job wrote nothing"
            assert any(j == "monthly_report" and t.date() == dt.date(2026, 11, 1) for j, t in ran)

        # the same ticks again (a second worker, or a restart replaying): nothing runs twice
        before = len(sandbox.requests())
        again = worker.run_due(noon(START) - dt.timedelta(days=1), prev)
        assert again and all(res is None for _j, _t, res in again)
        assert len(sandbox.requests()) == before

        with eng.connect() as conn:
            counts = json.loads(conn.execute(text(
                "SELECT counts FROM job_run WHERE job = 'ingest_inbox' ORDER BY id LIMIT 1")).scalar())
        assert counts["archived"] > 0 and counts["stored"] > 0
    finally:
        worker.close()
        ctx.engine.dispose()
