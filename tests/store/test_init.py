"""`recoup init` creates or migrates the schema, idempotently, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import insert, inspect, select, text
from typer.testing import CliRunner

from recoup.cli import app
from recoup.errors import StoreError
from recoup.store.db import check_schema, init_db, make_engine
from recoup.store.models import ScanEvent

EXPECTED_TABLES = {
    "ingested_file", "shipment", "scan_event", "invoice", "invoice_line", "finding", "finding_history", "claim",
    "claim_event", "credit", "credit_match", "job_run", "carrier_pause", "audit_state", "alembic_version",
}


def test_init_twice_leaves_one_schema(cli_env: dict[str, str]) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["init"])
    assert first.exit_code == 0, first.output
    assert "created" in first.output
    second = runner.invoke(app, ["init"])
    assert second.exit_code == 0, second.output
    assert "up to date" in second.output
    eng = make_engine(cli_env["RECOUP_DATABASE_URL"])
    try:
        with eng.connect() as c:
            names = set(inspect(c).get_table_names())
            assert names >= EXPECTED_TABLES
            assert c.execute(text("select count(*) from alembic_version")).scalar() == 1
        check_schema(eng)
    finally:
        eng.dispose()       # a pooled PostgreSQL connection left to the garbage collector is a leak


def test_commands_refuse_a_database_without_schema(cli_env: dict[str, str]) -> None:
    res = CliRunner().invoke(app, ["findings", "--format", "json"])
    assert res.exit_code == 1
    assert "recoup init" in res.output
    assert "Traceback" not in res.output


def test_timestamps_come_back_aware(engine) -> None:  # type: ignore[no-untyped-def]
    t = ScanEvent.__table__  # type: ignore[attr-defined]
    at = dt.datetime(2026, 10, 9, 21, 14, tzinfo=dt.timezone(dt.timedelta(hours=-4)))
    with engine.begin() as c:
        c.execute(insert(t).values(carrier="ups", tracking_number="1Z", occurred_at=at, status="delivered"))
    with engine.connect() as c:
        got = c.execute(select(t.c.occurred_at)).scalar_one()
    assert got.tzinfo is not None
    assert got == at


def test_naive_timestamps_are_refused(sqlite_engine) -> None:  # type: ignore[no-untyped-def]
    t = ScanEvent.__table__  # type: ignore[attr-defined]
    with pytest.raises(Exception, match="naive"), sqlite_engine.begin() as c:
        c.execute(insert(t).values(carrier="ups", tracking_number="1Z", occurred_at=dt.datetime(2026, 1, 1),
                                   status="delivered"))


def test_bad_database_url_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOUP_DATABASE_URL", "nosuchdb://x")
    res = CliRunner().invoke(app, ["init"])
    assert res.exit_code == 1
    assert "database URL" in res.output
    assert "Traceback" not in res.output


def test_init_db_reports_unreachable_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    eng = make_engine(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}")
    with pytest.raises(StoreError):
        init_db(eng)
