"""The APScheduler 3.x wiring: one cron job per recoup job, coalesced, one instance, a grace time."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger

from recoup.errors import ConfigError
from recoup.settings import DEFAULT_SCHEDULES, Settings
from recoup.worker import jobs
from recoup.worker.scheduler import MISFIRE_GRACE_S, Worker, fire_times, latest_fire, triggers

from .conftest import make_ctx

UTC = dt.UTC


def test_jobs_module_knows_nothing_of_apscheduler() -> None:
    src = Path(jobs.__file__).read_text(encoding="utf-8")
    assert "apscheduler" not in src.lower()
    assert set(jobs.ORDER) == set(DEFAULT_SCHEDULES)


def test_the_scheduler_wires_every_job(settings: Settings) -> None:
    s = settings.model_copy(update={"schedules": {"audit": "*/10 * * * *"}})
    worker = Worker(make_ctx(s))
    sched = worker.build_scheduler()
    by_id = {j.id: j for j in sched.get_jobs()}
    assert set(by_id) == {*jobs.ORDER, "heartbeat"}
    for name in jobs.ORDER:
        j = by_id[name]
        assert isinstance(j.trigger, CronTrigger)
        assert j.coalesce is True and j.max_instances == 1 and j.misfire_grace_time == MISFIRE_GRACE_S
    assert str(by_id["audit"].trigger.fields[6]) == "*/10"            # the minute field, from the settings
    assert str(by_id["submit_claims"].trigger.fields[4]) == "mon-fri"   # day of week, from the defaults


def test_bad_schedules_are_config_errors(settings: Settings) -> None:
    with pytest.raises(ConfigError, match=r"schedules\.audit"):
        triggers(settings.model_copy(update={"schedules": {"audit": "every hour"}}))
    with pytest.raises(ConfigError, match="unknown job"):
        triggers(settings.model_copy(update={"schedules": {"audits": "* * * * *"}}))


def test_ticks_are_the_scheduled_instants() -> None:
    t = CronTrigger.from_crontab("*/15 * * * *", timezone="UTC")
    start = dt.datetime(2026, 11, 16, 10, 0, tzinfo=UTC)
    got = list(fire_times(t, start, start + dt.timedelta(hours=1)))
    assert [x.minute for x in got] == [15, 30, 45, 0]                 # (start, end]: start excluded
    now = dt.datetime(2026, 11, 16, 10, 37, 12, tzinfo=UTC)
    assert latest_fire(t, now, dt.timedelta(minutes=40)) == dt.datetime(2026, 11, 16, 10, 30, tzinfo=UTC)
    assert latest_fire(t, now, dt.timedelta(minutes=5)) is None


def test_contracts_are_loaded_again_only_when_changed(tmp_path: Path) -> None:
    import os
    import shutil

    from .conftest import SMALL

    folder = tmp_path / "contracts"
    shutil.copytree(SMALL / "contracts", folder)
    load = jobs.cached_contracts(folder)
    first = load()
    assert load() is first
    p = folder / "ups.toml"
    p.write_text(p.read_text(encoding="utf-8").replace('name = "UPS"', 'name = "UPS (2027)"'), encoding="utf-8")
    os.utime(p, ns=(p.stat().st_atime_ns, p.stat().st_mtime_ns + 1_000_000_000))
    second = load()
    assert second is not first and any(c.name == "UPS (2027)" for c in second.contracts)


def test_once_runs_dedupe_by_minute_but_replays_of_other_days_run(settings: Settings,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    for name in jobs.ORDER:
        monkeypatch.setitem(jobs.JOBS, name, lambda ctx: {"ran": 1})
    ctx = make_ctx(settings, clock=lambda: dt.datetime(2026, 11, 20, 9, 30, 17, tzinfo=UTC))
    worker = Worker(ctx, notify=False)
    worker.start()
    try:
        assert all(r is not None and r.outcome == "ok" for r in worker.run_once().values())
        assert all(r is None for r in worker.run_once().values())          # the same minute: done already
        for day in (1, 2):                                                 # a backfill, one day after the other
            ctx.replay_as_of = dt.date(2026, 11, day)
            assert all(r is not None and r.outcome == "ok" for r in worker.run_once().values())
    finally:
        worker.close()


def test_a_scheduler_fire_records_the_scheduled_instant(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import text

    monkeypatch.setitem(jobs.JOBS, "ingest_inbox", lambda ctx: {"files": 0})
    ctx = make_ctx(settings, clock=lambda: dt.datetime(2026, 11, 20, 10, 37, 12, tzinfo=UTC))
    worker = Worker(ctx, notify=False)
    worker.start()
    try:
        worker._fire("ingest_inbox")      # what APScheduler calls, a little after the 10:30 tick
        worker._fire("ingest_inbox")      # a second fire for the same tick does nothing
        with ctx.engine.connect() as c:
            rows = c.execute(text("SELECT tick, outcome, counts FROM job_run")).all()
        assert [tuple(r) for r in rows] == [("2026-11-20T10:30:00+00:00", "ok", '{"files": 0}')]
    finally:
        worker.close()
