"""`recoup worker run --once` and `worker status` through the CLI; jobs and their recording."""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, insert, select
from tests.conftest import SAMPLES
from typer.testing import CliRunner

from recoup.cli import app
from recoup.settings import Settings, load_settings
from recoup.shipments.pull import easypost_client
from recoup.store.db import make_engine
from recoup.store.models import Claim, Finding, JobRun, ScanEvent, Shipment
from recoup.worker import jobs
from recoup.worker.scheduler import SingleWorkerLock, Worker

from .conftest import SMALL, Inbox, make_ctx

AS_OF = "2026-11-16"
SECRET = "sk_live_do-not-log-me-42"


def fill_inbox(inbox: Inbox) -> int:
    shutil.copy(SMALL / "shipments.csv", inbox.shipments)
    shutil.copy(SMALL / "scans.csv", inbox.scans)
    for p in sorted((SMALL / "invoices").glob("*.csv")):
        shutil.copy(p, inbox.invoices)
    return len(inbox.waiting())


def test_run_once_on_a_fresh_database(worker_env: dict[str, str], inbox: Inbox,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOUP_CARRIERS__UPS__API_KEY", SECRET)   # must never reach a log line
    n = fill_inbox(inbox)
    runner = CliRunner()
    res = runner.invoke(app, ["worker", "run", "--once", "--as-of", AS_OF, "--format", "json"])
    assert res.exit_code == 0, res.output
    summary = {r["job"]: r for r in json.loads(res.stdout)}
    assert list(summary) == list(jobs.ORDER)
    assert summary["ingest_inbox"]["outcome"] == "ok"
    assert summary["ingest_inbox"]["counts"]["archived"] == n
    assert summary["audit"]["outcome"] == "ok" and summary["audit"]["counts"]["claims_opened"] > 0
    assert summary["pull_tracking"]["outcome"] == "skipped"
    # logs are JSON lines (stderr is not a terminal here), with no secret in them
    lines = [json.loads(x) for x in res.stderr.splitlines() if x.startswith("{")]
    assert any(x.get("job") == "audit" and x.get("outcome") == "ok" for x in lines)
    assert SECRET not in res.stderr and SECRET not in res.stdout

    assert inbox.waiting() == [] and inbox.rejected() == [] and len(inbox.archived()) == n
    eng = make_engine(worker_env["RECOUP_DATABASE_URL"])
    with eng.connect() as c:
        assert c.execute(select(func.count()).select_from(Finding)).scalar() > 100
        assert c.execute(select(func.count()).select_from(Claim)).scalar() > 50
        assert c.execute(select(func.count()).select_from(JobRun)).scalar() == len(jobs.ORDER)
    eng.dispose()

    res = runner.invoke(app, ["worker", "status", "--format", "json"])
    assert res.exit_code == 0, res.output
    st = json.loads(res.stdout)
    by_job = {j["job"]: j for j in st["jobs"]}
    assert by_job["audit"]["outcome"] == "ok" and by_job["audit"]["next_run"]
    assert by_job["audit"]["counts"]["findings"] > 0 and by_job["audit"]["duration_s"] is not None
    assert set(st["attention"]) == {"paused_carriers", "near_deadline", "rejected_files", "failing_jobs"}
    assert st["attention"]["failing_jobs"] == []
    res = runner.invoke(app, ["worker", "status"])
    assert res.exit_code == 0 and "ingest_inbox" in res.stdout


def test_a_second_sqlite_worker_is_refused(worker_env: dict[str, str]) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["init"]).exit_code == 0
    lock = SingleWorkerLock(make_engine(worker_env["RECOUP_DATABASE_URL"]))
    lock.acquire("the-first-worker")
    try:
        res = runner.invoke(app, ["worker", "run", "--once"])
        assert res.exit_code == 1
        assert "another recoup worker is already running" in res.stderr
        assert "the-first-worker" in res.stderr and "PostgreSQL" in res.stderr
    finally:
        lock.release()
    res = runner.invoke(app, ["worker", "run", "--once", "--as-of", AS_OF])
    assert res.exit_code == 0, res.output


def test_a_failing_job_does_not_stop_the_others(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(ctx: jobs.JobContext) -> dict[str, int]:
        raise RuntimeError("audit exploded")

    monkeypatch.setitem(jobs.JOBS, "audit", boom)
    ctx = make_ctx(settings, clock=lambda: dt.datetime(2026, 11, 16, 10, 0, tzinfo=dt.UTC))
    worker = Worker(ctx)
    worker.start()
    try:
        results = worker.run_once()
        assert results["audit"] is not None and results["audit"].outcome == "failed"
        assert "RuntimeError: audit exploded" in results["audit"].detail
        later = [j for j in jobs.ORDER if jobs.ORDER.index(j) > jobs.ORDER.index("audit")]
        assert all(results[j] is not None and results[j].outcome in ("ok", "skipped") for j in later)  # type: ignore[union-attr]
        with ctx.engine.connect() as c:
            row = c.execute(select(JobRun.__table__).where(JobRun.__table__.c.job == "audit")).one()  # type: ignore[attr-defined]
        assert row.outcome == "failed" and row.finished_at is not None and "audit exploded" in row.detail
        # the next tick tries again
        res = worker.run_job("audit", dt.datetime(2026, 11, 16, 11, 20, tzinfo=dt.UTC))
        assert res is not None and res.outcome == "failed"
    finally:
        worker.close()


def test_submit_waits_for_business_hours(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOUP_BUSINESS_HOURS_ONLY", "true")
    monkeypatch.setenv("RECOUP_TIMEZONE", "America/Chicago")
    s = load_settings()
    saturday = make_ctx(s, clock=lambda: dt.datetime(2026, 11, 14, 16, 0, tzinfo=dt.UTC))
    r = jobs.call_job(saturday, "submit_claims")
    assert r.outcome == "skipped" and "business hours" in r.detail
    early = make_ctx(s, clock=lambda: dt.datetime(2026, 11, 16, 13, 0, tzinfo=dt.UTC))   # 07:00 in Chicago
    assert jobs.call_job(early, "submit_claims").outcome == "skipped"
    replay = make_ctx(s, clock=lambda: dt.datetime(2026, 11, 14, 16, 0, tzinfo=dt.UTC), replay_as_of=dt.date(2026, 11, 13))
    assert jobs.call_job(replay, "submit_claims").outcome == "ok"   # a replayed day files whenever it runs


def test_monthly_report_written_once(settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls: list[dict[str, Any]] = []

    def write_monthly(engine: Any, month: str, out_dir: Path, *, as_of: dt.date | None = None,
                      near_days: int = 3) -> list[Path]:
        calls.append({"month": month, "as_of": as_of})
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        p = Path(out_dir) / f"recovery-{month}.csv"
        p.write_text("carrier,credited\n", encoding="utf-8")
        return [p]

    monkeypatch.setattr("recoup.reports.monthly.write_monthly", write_monthly)
    ctx = make_ctx(settings, clock=lambda: dt.datetime(2026, 11, 1, 6, 0, tzinfo=dt.UTC))
    r = jobs.call_job(ctx, "monthly_report")
    assert r.outcome == "ok" and r.counts == {"files": 1, "emailed": 0}
    assert calls == [{"month": "2026-10", "as_of": dt.date(2026, 11, 1)}]
    assert (Path(settings.reports_dir) / "recovery-2026-10.csv").exists()
    again = jobs.call_job(ctx, "monthly_report")
    assert again.outcome == "skipped" and len(calls) == 1
    assert jobs.previous_month(dt.date(2026, 1, 5)) == "2025-12"


EP_TRACKER = json.loads((SAMPLES / "easypost" / "test_tracker_retrieve__2.json").read_text())["response"]["body"]


def test_pull_tracking_asks_only_configured_carriers(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = make_ctx(settings, replay_as_of=dt.date(2025, 2, 20))
    assert jobs.call_job(ctx, "pull_tracking").outcome == "skipped"

    monkeypatch.setenv("RECOUP_CARRIERS__USPS__TRACKING_API_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("RECOUP_CARRIERS__USPS__TRACKING_API_KEY", "ep_test_key")
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.params.get("tracking_code", ""))
        return httpx.Response(200, json={"trackers": [EP_TRACKER]})

    def factory(code: str, cs: Any) -> Any:
        return easypost_client(cs.tracking_api_key, base_url=cs.tracking_api_url, rate_limit_per_s=None,
                               http_transport=httpx.MockTransport(handler))

    with ctx.engine.begin() as c:
        c.execute(insert(Shipment).values(carrier="usps", tracking_number="EZ1000000001", manifested=True,
                                          ship_date=dt.date(2025, 2, 6), updated_at=dt.datetime.now(dt.UTC)))
    ctx2 = make_ctx(load_settings(), engine=ctx.engine, replay_as_of=dt.date(2025, 2, 20), tracking_client=factory)
    r = jobs.call_job(ctx2, "pull_tracking")
    assert r.outcome == "ok", r
    assert asked == ["EZ1000000001"] and r.counts["stored"] == 2
    with ctx.engine.connect() as c:
        assert c.execute(select(func.count()).select_from(ScanEvent)).scalar() == 2
    assert jobs.call_job(ctx2, "pull_tracking").counts["duplicates"] == 2   # asked again: nothing new stored


def test_json_logs_redact_secrets(settings: Settings) -> None:
    import io

    from recoup.worker import logs

    s = settings.model_copy(update={"notify": settings.notify.model_copy(update={
        "smtp_url": "smtp://ops:hunter2pass@127.0.0.1:25", "webhook_url": "https://hooks.example/T000/B000/XXXXsecret"})})
    buf = io.StringIO()
    h = logs.setup(s, stream=buf, json_lines=True)
    try:
        logging.getLogger("recoup.worker").warning("sending to %s via %s", s.notify.webhook_url, s.notify.smtp_url,
                                                   extra={"job": "x"})
    finally:
        logs.teardown(h)
    line = json.loads(buf.getvalue().strip())
    assert line["job"] == "x" and line["level"] == "warning"
    assert "hunter2pass" not in buf.getvalue() and "XXXXsecret" not in buf.getvalue()


def test_a_worker_waits_for_an_unreachable_database_then_says_so_in_one_line(tmp_path: Path) -> None:
    """Issue 15 item 11: `worker run` with PostgreSQL unreachable at start died with a traceback."""
    import logging

    from recoup.errors import StoreError
    from recoup.settings import Settings
    from recoup.store.db import make_engine
    from recoup.worker.jobs import JobContext
    from recoup.worker.scheduler import Worker

    url = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"     # nothing listens on port 1
    ctx = JobContext(make_engine(url), Settings(database_url=url), lambda: None,  # type: ignore[arg-type, return-value]
                     logger=logging.getLogger("test"))
    worker = Worker(ctx, notify=False)
    with pytest.raises(StoreError, match=r"the database does not answer .*gave up after 2 s"):
        worker.start(wait_s=2)
