"""Canonical scans are streamed in blocks (issue 17): a file split across many blocks stores exactly
the rows, and reports exactly the row errors (with the file's line numbers), that reading it whole
does -- on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from recoup.clock import FixedClock
from recoup.ingest.service import FileSummary, ingest_file
from recoup.store.db import init_db, make_engine

CLOCK = FixedClock(dt.datetime(2026, 10, 1, 12, tzinfo=dt.UTC))
HEADER = "tracking_number, Carrier ,occurred_at,status,description,city,extra_col"


def _file(path: Path) -> Path:
    """Every record shape load_csv knows, spread over more than 64 KiB so blocks split it anywhere."""
    rows = [
        "\ufeff" + HEADER,
        '1Z001,ups,2026-09-01T10:00:00-04:00,in_transit,"multi\nline, desc",CHICAGO,x',
        "",
        "1Z002,UPS,2026-09-01T11:00:00Z,delivered,plain,  NYC\u00a0 ,y",
        "1Z003,ups,2026-09-01T11:00:00,delivered,no offset,NYC,y",
        "1Z004,ups,9999-09-01T11:00:00Z,delivered,far future,NYC,y",
        "1Z005,ups,2026-09-01T11:00:00Z,delivered,short row",
        "1Z006,ups,2026-09-01T11:00:00Z,delivered,long row,NYC,y,z",
        "   ",
        '1Z007,ups,2026-09-01T11:00:00Z,bogus,"quote ""inside""",LA,y',
        "1Z002,ups,2026-09-01T11:00:00Z,delivered,repeated in the file,NYC,y",
        "<Inquiry Number>,ups,2026-09-01T11:00:00Z,delivered,placeholder,NYC,y",
        "1Z008,ups,2026-09-01T11:00:00.250+02:00,picked_up,fraction,BERLIN,q",
    ]
    rows += [f"1Z{100 + i:03d},ups,2026-09-02T1{i % 10}:00:00+02:00,in_transit,{'long text ' * 200},BERLIN,q"
             for i in range(40)]                       # past 64 KiB: a NUL there is a row error, not binary
    rows += [
        "1Z009,ups,2026-09-01T11:00:00Z,in_transit,nul\x00inside,LA,y",
        "1Z010,ups,2026-09-01T12:00:00Z,exception,weather,LA,y",
        "1Z011,ups,2026-09-01T12:00:00Z,exception,x,LA,y",
    ]
    body = "\r\n".join(rows[:5]) + "\r\n" + "\n".join(rows[5:]) + '\n1Z012,ups,2026-09-01T11:00:00Z,delivered,"end",X'
    path.write_text(body, encoding="utf-8", newline="")
    return path


def _stored(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as c:
        return sorted(tuple(str(v) for v in r) for r in c.execute(text(
            "SELECT carrier, tracking_number, occurred_at, utc_offset_min, status, carrier_status_code, "
            "description, city, postal, country, exception_reason, source FROM scan_event")))


def _outcome(s: FileSummary) -> tuple[Any, ...]:
    errors = sorted(((e.line, e.column, e.reason) for e in s.errors), key=lambda e: e[0] or 0)
    return s.refused, s.read, s.stored, s.duplicates, s.rejected, errors, s.notes


def _ingest(url: str, path: Path, chunk_bytes: int) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
    eng = make_engine(url)
    init_db(eng)
    try:
        first = ingest_file(eng, "scans", path, clock=CLOCK, chunk_bytes=chunk_bytes)
        again = ingest_file(eng, "scans", path, clock=CLOCK, chunk_bytes=chunk_bytes)
        with eng.begin() as c:
            files = c.execute(text("SELECT outcome, read, stored, duplicates, rejected FROM ingested_file "
                                   "ORDER BY id")).all()
        return (_outcome(first), _outcome(again), [tuple(f) for f in files]), _stored(eng)
    finally:
        with eng.begin() as c:
            for t in ("scan_event", "ingested_file"):
                c.execute(text(f"DELETE FROM {t}"))
        eng.dispose()


@pytest.mark.parametrize("chunk_bytes", [700, 9000])
def test_a_file_split_across_blocks_stores_what_the_whole_file_stores(db_url: str, tmp_path: Path,
                                                                     chunk_bytes: int) -> None:
    path = _file(tmp_path / "scans.csv")
    whole, whole_rows = _ingest(db_url, path, 0)            # 0: read whole, as before streaming
    split, split_rows = _ingest(db_url, path, chunk_bytes)
    assert split == whole
    assert split_rows == whole_rows
    first = whole[0]
    # the file's own line numbers, right across blocks (the header is line 1, a quoted break spans 2-3)
    lines = {e[0] for e in first[5]}
    assert {6, 7, 8, 9, 11, 13}.issubset(lines)
    assert any(r[1] == "1Z001" for r in whole_rows) and first[2] > 40
    assert whole[1][2] == 0 and whole[1][3] == first[2] + first[3]      # the second load: all duplicates


def test_a_file_ending_inside_a_quoted_field_is_refused_and_nothing_stored(sqlite_engine: Engine,
                                                                          tmp_path: Path) -> None:
    path = tmp_path / "scans.csv"
    good = "".join(f"1Z{i:03d},ups,2026-09-01T10:00:00Z,in_transit\n" for i in range(50))
    path.write_text("tracking_number,carrier,occurred_at,status\n" + good + '1Z999,ups,"2026-09-01', encoding="utf-8")
    for chunk in (0, 200):
        s = ingest_file(sqlite_engine, "scans", path, clock=CLOCK, chunk_bytes=chunk)
        assert s.refused and "not a readable CSV" in s.refused
        assert (s.read, s.stored) == (0, 0)
    assert _stored(sqlite_engine) == []


def _scans(path: Path, parcels: range, repeat_first: bool = False) -> Path:
    rows = [f"1Z{p:06d},ups,2026-09-0{1 + p % 9}T1{p % 10}:00:00Z,in_transit,scan {p},LA,q" for p in parcels]
    if repeat_first:
        rows.append(rows[0])                   # the same scan again, many blocks later
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("chunk_bytes", [0, 600])
def test_overlapping_files_store_each_scan_once_tied_to_the_file_that_brought_it(db_url: str, tmp_path: Path,
                                                                                 chunk_bytes: int) -> None:
    """New blocks first, then blocks that overlap what is stored, then new ones again: every scan is
    stored once, the counts add up, and a stored scan keeps the file that first brought it."""
    eng = make_engine(db_url)
    init_db(eng)
    try:
        a = ingest_file(eng, "scans", _scans(tmp_path / "a.csv", range(100, 160), repeat_first=True), clock=CLOCK,
                        chunk_bytes=chunk_bytes)
        b = ingest_file(eng, "scans", _scans(tmp_path / "b.csv", range(0, 300)), clock=CLOCK, chunk_bytes=chunk_bytes)
        again = ingest_file(eng, "scans", tmp_path / "b.csv", clock=CLOCK, chunk_bytes=chunk_bytes)
        assert (a.stored, a.duplicates, a.rejected) == (60, 1, 0)
        assert (b.stored, b.duplicates, b.rejected) == (240, 60, 0)
        assert (again.stored, again.duplicates) == (0, 300)
        with eng.connect() as c:
            by_file = dict(c.execute(text(
                "SELECT f.path, count(*) FROM scan_event s JOIN ingested_file f ON f.id = s.file_id "
                "GROUP BY f.path")).all())
            total = c.execute(text("SELECT count(*), count(DISTINCT tracking_number) FROM scan_event")).one()
        assert by_file == {str(tmp_path / "a.csv"): 60, str(tmp_path / "b.csv"): 240}
        assert tuple(total) == (300, 300)
    finally:
        with eng.begin() as c:
            for t in ("scan_event", "ingested_file"):
                c.execute(text(f"DELETE FROM {t}"))
        eng.dispose()


def test_a_file_refused_after_blocks_went_in_stores_nothing(engine: Engine, tmp_path: Path) -> None:
    """Blocks already loaded (or loading) when the reader refuses the file are rolled back with it."""
    path = tmp_path / "scans.csv"
    good = "".join(f"1Z{i:03d},ups,2026-09-01T10:00:00Z,in_transit\n" for i in range(200))
    path.write_text("tracking_number,carrier,occurred_at,status\n" + good + '1Z999,ups,"2026-09-01', encoding="utf-8")
    s = ingest_file(engine, "scans", path, clock=CLOCK, chunk_bytes=300)
    assert s.refused and "not a readable CSV" in s.refused
    assert _stored(engine) == []
    again = ingest_file(engine, "scans", _scans(tmp_path / "ok.csv", range(10)), clock=CLOCK, chunk_bytes=300)
    assert (again.stored, again.refused) == (10, None)        # the connection is fine afterwards
