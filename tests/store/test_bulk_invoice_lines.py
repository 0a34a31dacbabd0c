"""Invoice lines reach the store through FrameInserter (issue 17, ingestpg): COPY on PostgreSQL, the
driver's tuples with dates as text on SQLite. The rows stored are the ones the earlier path stored
(``insert_ignore`` of the tuples the earlier ``frame_rows`` built, kept here as the reference), odd
text, empty text, missing values and dates included; and the digest of an invoice's lines is the one
``json.dumps`` of each cell gives, whatever the cells hold."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from recoup.ingest.invoices import _LINE_COLUMNS, _cell_json, _encoded_cells
from recoup.store.bulk import FrameInserter, _cell, insert_ignore

T0 = dt.datetime(2026, 9, 1, 12, tzinfo=dt.UTC)
ODD = ["plain", "", 'with "quotes"', "comma, and\nnewline", "back\\slash", "café ü", "tab\there", "\\N", "NULL",
       None, "  spaced  ", "x" * 300]


def _old_rows(df: pd.DataFrame, columns: list[str], dialect: str) -> list[tuple[Any, ...]]:
    """``frame_rows`` as it was before issue 17's ingestpg (dates as ``datetime.date``, one per cell)."""
    cols: list[list[Any]] = []
    for c in columns:
        s = df[c]
        if s.dtype.kind == "M":
            cols.append([None if pd.isna(x) else x.date() for x in s])
        elif s.dtype.kind in "iu":
            cols.append(s.astype(object).tolist())
        else:
            o = s.astype(object)
            vals = np.where(pd.isna(o).to_numpy(), None, o.to_numpy()).tolist()
            if any(not isinstance(v, (str, type(None))) for v in vals[:50]):
                vals = [_cell(x, dialect) for x in vals]
            cols.append(vals)
    return list(zip(*cols, strict=True))


def _invoice(conn: Connection, number: str) -> int:
    conn.execute(text("INSERT INTO invoice (carrier, invoice_number, invoice_date, lines_hash, line_count, "
                      "total_cents, loaded_at) VALUES ('ups', :n, :d, 'h', 0, 0, :at)"),
                 {"n": number, "d": dt.date(2026, 9, 1), "at": T0})
    return int(conn.execute(text("SELECT id FROM invoice WHERE invoice_number = :n"), {"n": number}).scalar_one())


def _lines(invoice_id: int, n: int = 36) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    odd = [ODD[i % len(ODD)] for i in range(n)]
    days = pd.to_datetime(["2026-01-03", "1999-12-31", None, "2026-02-28"] * (n // 4))
    return pd.DataFrame({
        "invoice_id": invoice_id, "line_no": np.arange(n), "carrier": "ups", "invoice_number": "INV-1",
        "invoice_date": pd.Series(pd.to_datetime(["2026-01-03"] * n)), "tracking_number": odd,
        "charge_type": "transportation", "amount_cents": rng.integers(-10**11, 10**11, n),
        "currency": ["USD" if i % 3 else None for i in range(n)], "billed_weight": odd[::-1],
        "weight_unit": "lb", "zone": odd, "service": odd[::-1], "ship_date": days, "reference": odd,
        "description": odd[::-1], "account_number": None, "adjustment": [None, "return"] * (n // 2),
        "line": np.arange(2, n + 2)})


def _stored(conn: Connection) -> list[tuple[Any, ...]]:
    cols = ", ".join(c for c in _LINE_COLUMNS if c != "invoice_id")
    return [tuple(r) for r in conn.execute(text(f"SELECT {cols} FROM invoice_line ORDER BY line_no"))]


def test_invoice_lines_are_stored_as_the_earlier_path_stored_them(engine: Engine) -> None:
    dialect = engine.dialect.name
    with engine.connect() as conn:
        conn.begin()
        df = _lines(_invoice(conn, "INV-1"))
        assert insert_ignore(conn, "invoice_line", _LINE_COLUMNS, _old_rows(df, _LINE_COLUMNS, dialect)) == len(df)
        before = _stored(conn)
        raw_before = conn.execute(text("SELECT typeof(ship_date), typeof(invoice_date) FROM invoice_line")).all() \
            if dialect == "sqlite" else None
        conn.rollback()
    with engine.connect() as conn:
        conn.begin()
        df = _lines(_invoice(conn, "INV-1"))
        with FrameInserter(conn, "invoice_line", _LINE_COLUMNS, own_parents=True) as ins:
            assert ins(df) == len(df)
        assert _stored(conn) == before
        if dialect == "sqlite":       # the same text as sqlite3's date adapter wrote, NULL where it was
            assert conn.execute(text("SELECT typeof(ship_date), typeof(invoice_date) FROM invoice_line")).all() \
                == raw_before
        conn.rollback()
    assert any(r[11] is None for r in before) and any(r[11] is not None for r in before)   # ship_date


@pytest.mark.parametrize("values", [
    ["1Z999", "1Z999", None, "plain text", ""],
    ['say "hi"', "back\\slash", "café", "ctl\x01", "tab\t", "del\x7f", "line\nbreak", None, "ok"],
    [1, 2, 2, None, -5, 10**12],
    ["ok", "fine", "\u2028", "x"],
])
def test_the_encoded_cells_are_json_dumps_of_each_cell(values: list[Any]) -> None:
    col = pd.Series(values, dtype=object)
    assert _encoded_cells(col) == [_cell_json(v) for v in values]
