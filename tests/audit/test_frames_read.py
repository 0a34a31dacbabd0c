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
