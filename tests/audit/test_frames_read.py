"""The audit's full read on PostgreSQL (COPY ... TO STDOUT, parsed by pyarrow) gives the frames the
row-by-row cursor read gives: the same rows, values, NULLs (apart from empty text) and types."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

import recoup.audit.frames as frames
from recoup.audit.rules import run_audit

from .test_incremental import World

ODD = ['a,"b"\nc', "", " x ", "é€\r\n;", "NULL", "\\N"]


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    by = ["id"] if "id" in df else ["carrier", "tracking_number"]
    return df.sort_values(by, kind="stable").reset_index(drop=True)


def test_copy_read_equals_cursor_read(kit: Any, tmp_path: Path, engine: Engine,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the COPY read is PostgreSQL's")
    kit.contract()
    w = World(kit, 21)
    w.new_parcels(40)
    w.bill(30)
    w.load(engine, "0")
    with engine.begin() as c:     # text a CSV could confuse: separators, quotes, line breaks, "" against NULL
        for i, v in enumerate(ODD):
            c.execute(text("UPDATE shipment SET dest_postal = :v, signature = :v, dest_residential = NULL "
                           "WHERE id % 6 = :i"), {"v": v, "i": i})
            c.execute(text("UPDATE invoice_line SET description = :v, zone = :v WHERE id % 6 = :i"), {"v": v, "i": i})
            c.execute(text("UPDATE scan_event SET exception_reason = :v WHERE id % 12 = :i"), {"v": v, "i": i})
    monkeypatch.setattr(frames, "COPY_READS", True)
    copied = frames.load_frames(engine)
    monkeypatch.setattr(frames, "COPY_READS", False)
    fetched = frames.load_frames(engine)
    for name in ("shipments", "scans", "lines"):
        a, b = _sorted(getattr(copied, name)), _sorted(getattr(fetched, name))
        assert len(a) == len(b) > 0
        assert list(a.columns) == list(b.columns)
        assert [str(t) for t in a.dtypes] == [str(t) for t in b.dtypes], name
        for col in a.columns:
            x, y = a[col].astype(object).tolist(), b[col].astype(object).tolist()
            assert [None if pd.isna(v) else v for v in x] == [None if pd.isna(v) else v for v in y], (name, col)
    assert set(copied.lines["description"].dropna()) >= set(ODD)
    cs = kit.contract_set()
    x = run_audit(copied, cs, w.day).findings.sort_values("key").reset_index(drop=True)
    y = run_audit(fetched, cs, w.day).findings.sort_values("key").reset_index(drop=True)
    assert x.equals(y)


SQLITE_ODD = ["", " x ", "é€;", "%s %d %%", "NULL", "0", "\x02"]
BREAKING = ["a\x1fb", "a\nb", "a\rb"]      # the packed read's separator and line breaks: read by the cursor


def _same_frames(a_frames: Any, b_frames: Any) -> None:
    for name in ("shipments", "scans", "lines"):
        a, b = getattr(a_frames, name), getattr(b_frames, name)
        assert len(a) == len(b) > 0
        assert list(a.columns) == list(b.columns)
        assert [str(t) for t in a.dtypes] == [str(t) for t in b.dtypes], name
        pd.testing.assert_frame_equal(a, b, check_exact=True)


def _odd_world(kit: Any, engine: Engine, values: list[str]) -> Any:
    kit.contract()
    w = World(kit, 22)
    w.new_parcels(40)
    w.bill(30)
    w.load(engine, "0")
    n = len(values)
    with engine.begin() as c:     # text the packed read could confuse, NULL against "", booleans unknown
        for i, v in enumerate(values):
            c.execute(text(f"UPDATE shipment SET dest_postal = :v, signature = :v, dest_residential = NULL, "
                           f"declared_value_cents = NULL WHERE id % {n} = :i"), {"v": v, "i": i})
            c.execute(text(f"UPDATE invoice_line SET description = :v, zone = :v WHERE id % {n} = :i"),
                      {"v": v, "i": i})
            c.execute(text(f"UPDATE scan_event SET exception_reason = :v, utc_offset_min = NULL "
                           f"WHERE id % {2 * n} = :i"), {"v": v, "i": i})
        c.execute(text("UPDATE shipment SET address_validated = 1 WHERE id % 3 = 0"))
        c.execute(text("UPDATE shipment SET address_validated = 0 WHERE id % 3 = 1"))
    return w


def test_packed_read_equals_cursor_read(kit: Any, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite's full read as one text per row split by pyarrow gives the cursor's frames exactly."""
    if engine.dialect.name != "sqlite":
        pytest.skip("the packed read is SQLite's")
    w = _odd_world(kit, engine, SQLITE_ODD)
    calls: list[str] = []
    real = frames._fetch_rows
    monkeypatch.setattr(frames, "_fetch_rows", lambda *a: calls.append(a[1]) or real(*a))
    monkeypatch.setattr(frames, "PACKED_READS", True)
    packed = frames.load_frames(engine)
    assert calls == []            # every full query went the packed way
    monkeypatch.setattr(frames, "PACKED_READS", False)
    fetched = frames.load_frames(engine)
    _same_frames(packed, fetched)
    assert set(packed.lines["description"].dropna()) >= set(SQLITE_ODD)
    cs = kit.contract_set()
    x = run_audit(packed, cs, w.day).findings.sort_values("key").reset_index(drop=True)
    y = run_audit(fetched, cs, w.day).findings.sort_values("key").reset_index(drop=True)
    assert x.equals(y)


@pytest.mark.parametrize("bad", BREAKING)
def test_packed_read_falls_back_on_separators(kit: Any, engine: Engine, monkeypatch: pytest.MonkeyPatch,
                                              bad: str) -> None:
    """A value holding the separator or a line break is not split wrongly: that query is read by the cursor."""
    if engine.dialect.name != "sqlite":
        pytest.skip("the packed read is SQLite's")
    _odd_world(kit, engine, ["plain", bad])
    calls: list[str] = []
    real = frames._fetch_rows
    monkeypatch.setattr(frames, "_fetch_rows", lambda *a: calls.append(a[1]) or real(*a))
    monkeypatch.setattr(frames, "PACKED_READS", True)
    packed = frames.load_frames(engine)
    assert calls                  # the queries with the odd value fell back
    monkeypatch.setattr(frames, "PACKED_READS", False)
    _same_frames(packed, frames.load_frames(engine))
    assert bad in set(packed.lines["description"].dropna())


def test_frames_in_id_order_whatever_order_the_database_returns(kit: Any, engine: Engine,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL returns a scan's rows in any order (a sequential scan joins one already running on the
    same table): the frames, and so the findings in the order they are numbered, do not follow it."""
    kit.contract()
    w = World(kit, 23)
    w.new_parcels(40)
    w.bill(30)
    w.load(engine, "0")
    stored = frames.load_frames(engine)
    real = frames._fetch

    def shuffled(*a: Any) -> pd.DataFrame:
        df = real(*a)
        return df.sample(frac=1, random_state=len(df)).reset_index(drop=True)

    monkeypatch.setattr(frames, "_fetch", shuffled)
    mixed = frames.load_frames(engine)
    for name in ("shipments", "scans", "lines"):
        pd.testing.assert_frame_equal(getattr(mixed, name), getattr(stored, name), check_exact=True)
    cs = kit.contract_set()
    x = run_audit(stored, cs, w.day).findings
    y = run_audit(mixed, cs, w.day).findings
    assert len(x) and x.equals(y)
