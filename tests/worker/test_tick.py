"""A tick with nothing new leaves the audit alone; a new day or a new file runs it (issue 17)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from recoup.cli import app
from recoup.store.db import make_engine
from recoup.store.models import AuditState, JobRun

from .conftest import SMALL, Inbox

AS_OF = dt.date(2026, 11, 16)


def once(day: dt.date) -> dict[str, dict[str, object]]:
    res = CliRunner().invoke(app, ["worker", "run", "--once", "--as-of", day.isoformat(), "--format", "json"])
    assert res.exit_code == 0, res.output
    return {r["job"]: r for r in json.loads(res.stdout)}


def audit_runs(url: str) -> list[tuple[str, str]]:
    eng = make_engine(url)
    with eng.connect() as c:
        rows = [(r.outcome, r.detail) for r in c.execute(
            select(JobRun.outcome, JobRun.detail).where(JobRun.job == "audit").order_by(JobRun.id))]
    eng.dispose()
    return rows


def audit_state(url: str) -> dict[str, str]:
    eng = make_engine(url)
    with eng.connect() as c:
        out = {r.key: r.value for r in c.execute(select(AuditState.key, AuditState.value))
               if r.key.startswith("audit:") or r.key.startswith("last_")}
    eng.dispose()
    return out


def test_a_tick_with_nothing_new_does_not_audit_again(worker_env: dict[str, str], inbox: Inbox,
                                                      tmp_path: Path) -> None:
    url = worker_env["RECOUP_DATABASE_URL"]
    shutil.copy(SMALL / "shipments.csv", inbox.shipments)
    for p in sorted((SMALL / "invoices").glob("*.csv")):
        shutil.copy(p, inbox.invoices)
    lines = (SMALL / "scans.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    head, body = lines[0], lines[1:]
    (inbox.scans / "scans_a.csv").write_text(head + "".join(body[:-40]), encoding="utf-8")

    first = once(AS_OF)
    assert first["audit"]["outcome"] == "ok" and first["audit"]["counts"]["findings"] > 0
    state = audit_state(url)

    # the same day again, nothing new: the audit is recorded as skipped and its state is untouched
    second = once(AS_OF)
    assert second["audit"]["outcome"] == "skipped", second["audit"]
    assert "nothing new" in str(second["audit"]["detail"])
    assert audit_state(url) == state
    assert [o for o, _ in audit_runs(url)] == ["ok", "skipped"]
    # the deadline-driven jobs still run on every tick
    assert second["expire_claims"]["outcome"] == "ok"
    assert second["submit_claims"]["outcome"] in ("ok", "warning")     # warning: no channel configured here

    # a new file (the last scans) is something new
    (inbox.scans / "scans_b.csv").write_text(head + "".join(body[-40:]), encoding="utf-8")
    third = once(AS_OF)
    assert third["ingest_inbox"]["counts"]["stored"] == 40
    assert third["audit"]["outcome"] == "ok" and third["audit"]["counts"]["shipments"] > 0
    assert once(AS_OF)["audit"]["outcome"] == "skipped"

    # so is a new day, with no new data: windows close, parcels turn lost
    nxt = once(AS_OF + dt.timedelta(days=1))
    assert nxt["audit"]["outcome"] == "ok"
    assert audit_state(url)["audit:as_of"] == (AS_OF + dt.timedelta(days=1)).isoformat()
    assert [o for o, _ in audit_runs(url)] == ["ok", "skipped", "ok", "skipped", "ok"]


def test_an_edited_contract_is_something_new(worker_env: dict[str, str], inbox: Inbox, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    contracts = tmp_path / "contracts"
    shutil.copytree(SMALL / "contracts", contracts)
    monkeypatch.setenv("RECOUP_CONTRACTS", str(contracts))
    shutil.copy(SMALL / "shipments.csv", inbox.shipments)
    shutil.copy(SMALL / "scans.csv", inbox.scans)
    assert once(AS_OF)["audit"]["outcome"] == "ok"
    assert once(AS_OF)["audit"]["outcome"] == "skipped"
    ups = contracts / "ups.toml"
    ups.write_text(ups.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    again = once(AS_OF)["audit"]
    assert again["outcome"] == "ok", again
