"""FrameInserter (recoup.store.bulk): frames of rows inserted once each, on SQLite and PostgreSQL,
whether a frame goes straight in or has to skip rows already stored; foreign keys stay enforced."""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid

import pandas as pd
import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from recoup.store.bulk import FrameInserter

COLS = ["carrier", "tracking_number", "occurred_at", "status", "file_id"]
KEY = ["carrier", "tracking_number", "occurred_at", "status"]
T0 = pd.Timestamp(dt.datetime(2026, 9, 1, 12, tzinfo=dt.UTC))


def _file(conn: object) -> int:
    conn.execute(text("INSERT INTO ingested_file (path, sha256, kind, outcome, read, stored, duplicates, "  # type: ignore[attr-defined]
                      "rejected, at) VALUES ('f', 'x', 'scans', 'ok', 0, 0, 0, 0, :at)"), {"at": T0.to_pydatetime()})
    return int(conn.execute(text("SELECT max(id) FROM ingested_file")).scalar_one())  # type: ignore[attr-defined]


def _frame(parcels: range, fid: int) -> pd.DataFrame:
    return pd.DataFrame({"carrier": "ups", "tracking_number": [f"1Z{p:04d}" for p in parcels],
                         "occurred_at": [T0 + pd.Timedelta(minutes=p) for p in parcels], "status": "in_transit",
                         "file_id": fid})


def _setting(conn: object) -> str | None:
    if conn.dialect.name != "postgresql":  # type: ignore[attr-defined]
        return None
    return str(conn.execute(text("SHOW session_replication_role")).scalar_one())  # type: ignore[attr-defined]


@pytest.mark.parametrize("own_parents", [False, True])
def test_frames_are_stored_once_whether_new_or_overlapping(engine: Engine, own_parents: bool) -> None:
    with engine.begin() as conn:
        fid = _file(conn)
        before = _setting(conn)
        with FrameInserter(conn, "scan_event", COLS, KEY, own_parents=own_parents) as ins:
            got: list[int] = []
            assert ins(_frame(range(0, 10), fid)) == 10               # new: straight in
            ins.submit(_frame(range(5, 20), fid), got.append)          # overlaps: only the new ten
            ins.submit(_frame(range(20, 25), fid), got.append)
            ins.submit(_frame(range(0, 25), fid), got.append)          # all there already
        assert got == [10, 5, 0]
        assert _setting(conn) == before                                 # the checks are back on
        assert conn.execute(text("SELECT count(*), count(DISTINCT tracking_number) FROM scan_event")).one() == (25, 25)


def test_a_foreign_key_to_a_missing_row_is_refused(engine: Engine) -> None:
    """Without own_parents the server checks every row's file_id, through COPY as through INSERT."""
    refused = (IntegrityError, sqlite3.IntegrityError, psycopg.IntegrityError)
    with engine.connect() as conn:
        conn.begin()
        with pytest.raises(refused):
            FrameInserter(conn, "scan_event", COLS, KEY)(_frame(range(3), 987654))
        conn.rollback()


@pytest.mark.parametrize("granted", [False, True])
def test_a_role_granted_the_replication_role_setting_skips_the_checks_of_its_own_parents(engine: Engine,
                                                                                          granted: bool) -> None:
    """A role that is not a superuser skips the per-row foreign-key checks of a load's own parents when,
    and only when, it was granted ``SET ON PARAMETER session_replication_role`` (PostgreSQL 15 on). The
    frame here points at no file row, which only a load that skipped the checks lets in."""
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    role = f"recoup_t_{uuid.uuid4().hex[:10]}"
    with engine.begin() as c:
        if int(c.execute(text("SHOW server_version_num")).scalar_one()) < 150000:
            pytest.skip("GRANT SET ON PARAMETER is PostgreSQL 15 on")
        schema = c.execute(text("SELECT current_schema()")).scalar_one()
        c.execute(text(f"CREATE ROLE {role} NOLOGIN"))
        c.execute(text(f"GRANT USAGE ON SCHEMA {schema} TO {role}"))
        c.execute(text(f"GRANT ALL ON ALL TABLES IN SCHEMA {schema} TO {role}"))
        c.execute(text(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA {schema} TO {role}"))
        if granted:
            c.execute(text(f"GRANT SET ON PARAMETER session_replication_role TO {role}"))
    try:
        with engine.connect() as conn:
            conn.begin()
            conn.execute(text(f"SET LOCAL ROLE {role}"))
            assert conn.execute(text("SHOW is_superuser")).scalar_one() == "off"
            ins = FrameInserter(conn, "scan_event", COLS, KEY, own_parents=True)
            if granted:
                assert ins(_frame(range(3), 987654)) == 3
                assert _setting(conn) == "origin"                   # back on for the rest of the transaction
            else:
                with pytest.raises((IntegrityError, psycopg.IntegrityError)):
                    ins(_frame(range(3), 987654))
            conn.rollback()
    finally:
        with engine.begin() as c:
            if granted:
                c.execute(text(f"REVOKE SET ON PARAMETER session_replication_role FROM {role}"))
            c.execute(text(f"DROP OWNED BY {role}"))
            c.execute(text(f"DROP ROLE {role}"))


def test_insert_columns_writes_each_instant_as_its_utc_text(engine: Engine) -> None:
    """insert_columns turns an instant into text once per distinct instant (a run writes one ``now`` in
    most rows): the same instant given in two zones is stored once as its UTC value, and a naive one is
    refused on both databases (SQLite's bulk path took it for the machine's local time)."""
    from recoup.store.bulk import insert_columns
    from recoup.store.models import IngestedFile, table_of

    paris = dt.timezone(dt.timedelta(hours=1))
    at = [dt.datetime(2026, 9, 1, 12, tzinfo=dt.UTC), dt.datetime(2026, 9, 1, 13, tzinfo=paris),
          dt.datetime(2026, 9, 2, 8, 30, tzinfo=paris), dt.datetime(2026, 9, 1, 12, tzinfo=dt.UTC)]
    n = len(at)
    with engine.begin() as c:
        insert_columns(c, table_of(IngestedFile), {
            "path": [f"f{i}" for i in range(n)], "sha256": [f"s{i}" for i in range(n)], "kind": "scans",
            "outcome": "ok", "read": 0, "stored": 0, "duplicates": 0, "rejected": 0, "at": at})
        got = [r[0] for r in c.execute(text("SELECT at FROM ingested_file ORDER BY path"))]
    as_utc = [g if isinstance(g, dt.datetime) else dt.datetime.fromisoformat(str(g)) for g in got]
    as_utc = [g.replace(tzinfo=dt.UTC) if g.tzinfo is None else g.astimezone(dt.UTC) for g in as_utc]
    assert as_utc == [a.astimezone(dt.UTC) for a in at]
    with pytest.raises(Exception, match="naive"), engine.begin() as c:
        insert_columns(c, table_of(IngestedFile), {
            "path": ["g", "h"], "sha256": ["g", "h"], "kind": "scans", "outcome": "ok", "read": 0, "stored": 0,
            "duplicates": 0, "rejected": 0, "at": [at[0], dt.datetime(2026, 9, 1, 12)]})
