"""Several workers on one PostgreSQL database: each (job, tick) runs once across them.

Needs RECOUP_TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test); skipped
with the reason when it is unset or does not answer. Each test works in a schema of its own, dropped
afterwards, since other tests share the database."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from recoup.settings import Settings
from recoup.store.db import init_db, make_engine
from recoup.worker import jobs
from recoup.worker.scheduler import Worker, fire_times, pg_try_lock, tick_key, triggers

pytestmark = pytest.mark.postgres

MAIN = Path(__file__).with_name("pg_worker_main.py")


def _base_url() -> str:
    url = os.environ.get("RECOUP_TEST_DATABASE_URL")
    if not url:
        pytest.skip("PostgreSQL worker tests skipped: RECOUP_TEST_DATABASE_URL is not set")
    try:
        eng = make_engine(url)
        with eng.connect() as c:
            c.execute(text("select 1"))
        eng.dispose()
    except Exception as e:
        pytest.skip(f"PostgreSQL worker tests skipped: {url} does not answer ({type(e).__name__})")
    return url


@pytest.fixture
def pg_url() -> Iterator[str]:
    base = _base_url()
    schema = f"w_{uuid.uuid4().hex[:12]}"
    admin = make_engine(base)
    with admin.begin() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as c:
            c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def expected_pairs() -> set[tuple[str, str]]:
    trig = triggers(Settings())
    start = dt.datetime(2026, 11, 2, 0, 0, tzinfo=dt.UTC)
    out = set()
    t = start
    for _ in range(48):
        nxt = t + dt.timedelta(hours=1)
        for job in jobs.ORDER:
            last = None
            for f in fire_times(trig[job], t, nxt):
                last = f
            if last is not None:
                out.add((job, tick_key(last)))
        t = nxt
    return out


def test_two_worker_processes_never_run_a_tick_twice(pg_url: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECOUP_")}
    procs = [subprocess.Popen([sys.executable, str(MAIN), pg_url, f"worker-{i}", str(tmp_path)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in (1, 2)]
    try:
        deadline = time.monotonic() + 90
        while not all((tmp_path / f"ready-worker-{i}").exists() for i in (1, 2)):
            assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
            assert time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.02)
        (tmp_path / "go").touch()
        outs = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert [p.returncode for p in procs] == [0, 0], outs
    ran = [{(j, t) for j, t, _o in json.loads(out.strip().splitlines()[-1])} for out, _err in outs]
    assert not (ran[0] & ran[1]), "a (job, tick) ran in both workers"
    want = expected_pairs()
    assert ran[0] | ran[1] == want
    eng = make_engine(pg_url)
    with eng.connect() as c:
        rows = c.execute(text("SELECT job, tick, worker, outcome FROM job_run")).all()
    eng.dispose()
    assert len(rows) == len(want) == len({(r.job, r.tick) for r in rows})
    assert {r.outcome for r in rows} <= {"ok", "skipped"}
    assert {r.worker for r in rows} <= {"worker-1", "worker-2"}


def test_a_job_still_running_elsewhere_is_skipped(pg_url: str) -> None:
    eng = make_engine(pg_url)
    init_db(eng)
    ctx = jobs.JobContext(eng, Settings(database_url=pg_url), lambda: None,  # type: ignore[arg-type, return-value]
                          clock_source=lambda: dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.UTC))
    worker = Worker(ctx, notify=False)
    ctx.stop.clear()
    try:
        with pg_try_lock(eng, "recoup.job.expire_claims") as got:   # another worker is in the middle of it
            assert got
            res = worker.run_job("expire_claims", dt.datetime(2026, 11, 2, 0, 15, tzinfo=dt.UTC))
        assert res is not None and res.outcome == "skipped" and "still running" in res.detail
        res = worker.run_job("expire_claims", dt.datetime(2026, 11, 3, 0, 15, tzinfo=dt.UTC))
        assert res is not None and res.outcome == "ok"
        assert worker.run_job("expire_claims", dt.datetime(2026, 11, 3, 0, 15, tzinfo=dt.UTC)) is None
    finally:
        eng.dispose()


def test_a_job_that_loses_its_lock_stops_and_fails_and_another_worker_can_take_it(
        pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 15 item 12: a job whose lock connection was killed carried on unlocked while another worker
    started the same job."""
    from recoup.worker import scheduler

    eng = make_engine(pg_url)
    init_db(eng)
    admin = make_engine(pg_url)
    ctx = jobs.JobContext(eng, Settings(database_url=pg_url), lambda: None,  # type: ignore[arg-type, return-value]
                          clock_source=lambda: dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.UTC))
    worker = Worker(ctx, notify=False)
    monkeypatch.setattr(scheduler.Held, "CHECK_EVERY_S", 0.0)
    seen: dict[str, object] = {}

    def job(c: jobs.JobContext, name: str) -> jobs.JobResult:
        with admin.begin() as a:     # the lock's session is killed (a dropped connection)
            a.execute(text("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                           "AND pid <> pg_backend_pid()"))
        units = 0
        while not c.stopping() and units < 50:      # the job's units of work
            units += 1
            time.sleep(0.01)
        seen["units"] = units
        with pg_try_lock(admin, f"recoup.job.{name}") as other:   # another worker can take it now
            seen["other"] = bool(other)
        return jobs.JobResult(name, "ok", counts={"units": units})

    monkeypatch.setattr(scheduler, "call_job", job)
    try:
        res = worker.run_job("expire_claims", dt.datetime(2026, 11, 2, 0, 15, tzinfo=dt.UTC))
        assert res is not None and res.outcome == "failed" and "lost its database lock" in res.detail
        assert seen == {"units": 0, "other": True}     # it stopped before its next unit of work
        with eng.connect() as c:
            row = c.execute(text("SELECT outcome FROM job_run WHERE job = 'expire_claims'")).one()
        assert row.outcome == "failed"
    finally:
        eng.dispose()
        admin.dispose()


def test_runs_whose_worker_is_gone_are_closed_as_failed(pg_url: str) -> None:
    from recoup.clock import wall_now
    from recoup.worker.scheduler import HEARTBEAT_S, close_orphaned_runs

    eng = make_engine(pg_url)
    init_db(eng)
    now = dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.UTC)
    old = (wall_now() - dt.timedelta(seconds=20 * HEARTBEAT_S)).isoformat()
    fresh = wall_now().isoformat()
    try:
        with eng.begin() as c:
            for job, worker in (("audit", "crashed"), ("ingest", "vanished"), ("submit_claims", "alive")):
                c.execute(text("INSERT INTO job_run (job, tick, worker, started_at, outcome, counts, detail) "
                               "VALUES (:j, '2026-11-02T09:00', :w, :t, 'running', '{}', '')"),
                          {"j": job, "w": worker, "t": now})
            for worker, beat in (("crashed", old), ("alive", fresh)):
                c.execute(text("INSERT INTO audit_state (key, value) VALUES (:k, :v)"),
                          {"k": f"worker.{worker}", "v": json.dumps({"heartbeat": beat})})
        assert close_orphaned_runs(eng, now) == 2
        with eng.connect() as c:
            got = dict(c.execute(text("SELECT worker, outcome FROM job_run")).all())
        assert got == {"crashed": "failed", "vanished": "failed", "alive": "running"}
    finally:
        eng.dispose()
