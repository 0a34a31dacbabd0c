"""The audit reads a SQLite store through ADBC (Arrow) when it can (issue 17): the frames are exactly
those the sqlite3 cursor gives, also for a column that is NULL in its first thousands of rows and
text later (ADBC infers a column's type from its first rows)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

import recoup.audit.service as service
from recoup.audit.service import load_frames
from recoup.clock import FixedClock
from recoup.ingest.service import ingest_files
from recoup.store.db import init_db, make_engine

from ..conftest import SMALL

pytest.importorskip("adbc_driver_sqlite")


def test_arrow_reads_equal_the_cursor_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    eng = make_engine(f"sqlite:///{tmp_path / 'db.db'}")
    init_db(eng)
    clock = FixedClock(dt.datetime(2026, 10, 1, 12, tzinfo=dt.UTC))
    for kind, paths in (("shipments", [SMALL / "shipments.csv"]), ("scans", [SMALL / "scans.csv"]),
                        ("invoices", sorted((SMALL / "invoices").iterdir()))):
        ingest_files(eng, kind, paths, clock=clock)
    with eng.begin() as c:
        carrier, tn = c.execute(text("SELECT carrier, tracking_number FROM shipment LIMIT 1")).one()
        # 3,000 scans with no exception reason, then one with: NULL in the first rows, text later
        c.execute(text("INSERT INTO scan_event (carrier, tracking_number, occurred_at, status, exception_reason) "
                       "VALUES (:c, :t, :at, 'in_transit', :r)"),
                  [{"c": carrier, "t": tn, "at": f"2026-09-01 00:00:{i // 1000:02d}.{i % 1000:06d}",
                    "r": "weather" if i == 2999 else None} for i in range(3000)])
    used: list[int] = []
    real = service._fetch_arrow

    def spy(*a: object) -> pd.DataFrame | None:
        out = real(*a)  # type: ignore[arg-type]
        used.append(out is not None)
        return out

    monkeypatch.setattr(service, "_fetch_arrow", spy)
    arrow = load_frames(eng, all_scans=True)
    assert used and all(used)
    monkeypatch.setattr(service, "_fetch_arrow", lambda *a: None)
    cursor = load_frames(eng, all_scans=True)
    for name in ("shipments", "scans", "lines"):
        a, b = getattr(arrow, name), getattr(cursor, name)
        pd.testing.assert_frame_equal(a, b)
        assert list(a.dtypes) == list(b.dtypes)
    assert "weather" in set(arrow.scans["exception_reason"].dropna())
    eng.dispose()
