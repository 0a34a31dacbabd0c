"""What invoice ingest stores, pinned (issue 17, ingestpg): the invoices, lines and credits of the
acceptance invoices (the small set's, its credit notes, the real-format UPS and FedEx invoices read
in batches, with bad rows, and a second load), ids included, are the rows the code before the lines
went through FrameInserter stored. The digest was computed by that code (main at 9d91ffb) on SQLite
and PostgreSQL alike."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from recoup.ingest.service import ingest_file

from .test_ingest_invoice_streaming import CLOCK, _fedex_file, _outcome, _ups_file

SMALL = Path(__file__).resolve().parents[2] / ".." / "shared" / "acceptance" / "small"
PINNED = "65fb470cf69d3a4d2164afbf16ac52c4048038cd8b56a5b0fa998fbcf7bc0c55"

TABLES = {
    "invoice": "id, carrier, invoice_number, invoice_date, account_number, currency, lines_hash, line_count, "
               "total_cents, format, file_id",
    "invoice_line": "id, invoice_id, line_no, carrier, invoice_number, invoice_date, tracking_number, charge_type, "
                    "amount_cents, currency, billed_weight, weight_unit, zone, service, ship_date, reference, "
                    "description, account_number, adjustment",
    "credit": "id, invoice_line_id, carrier, tracking_number, invoice_number, invoice_date, reference, "
              "description, amount_cents, currency, matched_cents",
}


def _digest(engine: Engine, outcomes: list[object]) -> str:
    h = hashlib.sha256(repr(outcomes).encode())
    with engine.connect() as c:
        for table, cols in TABLES.items():
            for row in c.execute(text(f"SELECT {cols} FROM {table} ORDER BY id")):
                h.update(("|".join(str(v) for v in row) + "\n").encode())
    return h.hexdigest()


def test_invoices_lines_and_credits_are_stored_as_before(engine: Engine, tmp_path: Path) -> None:
    if not SMALL.is_dir():
        pytest.skip("the acceptance sets are not beside the repository")
    files = [*sorted((SMALL / "invoices").glob("*.csv")), *sorted((SMALL / "credits").glob("*.csv"))]
    batched = [_ups_file(tmp_path / "ups.csv"), _fedex_file(tmp_path / "fedex.csv")]
    outcomes = [_outcome(ingest_file(engine, "invoices", p, clock=CLOCK)) for p in files]
    outcomes += [_outcome(ingest_file(engine, "invoices", p, clock=CLOCK, chunk_bytes=5000)) for p in batched]
    outcomes += [_outcome(ingest_file(engine, "invoices", p, clock=CLOCK, chunk_bytes=5000)) for p in batched]
    outcomes = [o[1:] for o in outcomes]          # not the refusal text (none) nor paths
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM credit")).scalar_one() > 0
    assert _digest(engine, outcomes) == PINNED
