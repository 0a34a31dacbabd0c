"""Digests of the rows an audit writes, to check that a change keeps them (benchmarks only).

    python bench/rows_digest.py /tmp/work.db            # SQLite
    python bench/rows_digest.py postgresql+psycopg://postgres@127.0.0.1:5432/bench

Two SHA-256 digests (first 12 hex digits) of every finding, finding history entry, claim and claim
event:

- ``ids``: the rows as stored, ids included, in id order: the same when a change writes exactly the
  same rows;
- ``keyed``: each row with its ids replaced by its finding's key, in key order: the same when a change
  writes the same findings, history, claims and events but numbers them otherwise.

Instants are compared as the database returns them, so compare runs with the same ``--as-of``.
"""

from __future__ import annotations

import argparse
import hashlib
from collections.abc import Iterable
from typing import Any

from sqlalchemy import text

from recoup.store.db import make_engine

IDS = [
    "SELECT * FROM finding ORDER BY id",
    "SELECT * FROM finding_history ORDER BY id",
    "SELECT * FROM claim ORDER BY id",
    "SELECT * FROM claim_event ORDER BY id",
]
KEYED = [
    "SELECT key, status, kind, carrier, tracking_number, invoice_number, invoice_line_id, amount_cents, currency, "
    "deadline, claimable, reason, evidence, first_seen, updated_at FROM finding ORDER BY key",
    "SELECT f.key, h.at, h.change, h.detail FROM finding_history h JOIN finding f ON f.id = h.finding_id "
    "ORDER BY 1, 2, 3, 4",
    "SELECT f.key, c.kind, c.carrier, c.tracking_number, c.status, c.channel, c.claimed_cents, c.approved_cents, "
    "c.credited_cents, c.currency, c.deadline, c.idempotency_key, c.carrier_reference, c.filed_at, "
    "c.needs_approval, c.approved_by, c.message, c.created_at, c.updated_at "
    "FROM claim c JOIN finding f ON f.id = c.finding_id ORDER BY 1",
    "SELECT f.key, e.at, e.from_status, e.to_status, e.actor, e.detail FROM claim_event e "
    "JOIN claim c ON c.id = e.claim_id JOIN finding f ON f.id = c.finding_id ORDER BY 1, 2, 3, 4, 5, 6",
]


def digest(rows: Iterable[tuple[Any, ...]]) -> str:
    h = hashlib.sha256()
    for r in rows:
        h.update(repr(tuple(r)).encode())
        h.update(b"\n")
    return h.hexdigest()[:12]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("store", help="a SQLite file or a database URL")
    a = ap.parse_args(argv)
    eng = make_engine(a.store if "://" in a.store else f"sqlite:///{a.store}")
    try:
        with eng.connect() as conn:
            for name, queries in (("ids", IDS), ("keyed", KEYED)):
                print(f"{name:6} {digest(r for q in queries for r in conn.execute(text(q)))}")
    finally:
        eng.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
