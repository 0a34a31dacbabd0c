"""The audit's writing of results (``recoup.audit.persist``, columnar since issue 17) writes exactly the
rows the loop over one finding at a time wrote (``persist_reference.py``, the code before): two stores
get the same findings round after round, one written by each; every row of the findings, their
history, the claims and their events must be equal, ids, instants' and dates' text, booleans and NULLs
included, on SQLite and PostgreSQL. The rounds have new, updated, reopened and withdrawn findings,
claims opened (above and below the approval threshold), updated, left alone when filed and
cancelled, a full and an incremental scope, and a carrier outside the audited ones."""

from __future__ import annotations

import datetime as dt
import gc
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import NullPool, create_engine, text
from sqlalchemy.engine import Engine
from tests.audit import persist_reference
from tests.conftest import _pg_schema_url, postgres_url

import recoup.audit.persist as persist_module
import recoup.audit.service as service
from recoup.audit.persist import AuditSummary, persist
from recoup.audit.rules import FINDING_COLUMNS
from recoup.clock import replay_clock
from recoup.store.bulk import raw_rows
from recoup.store.db import init_db, make_engine

TABLES = ("finding", "finding_history", "claim", "claim_event")
EST = dt.timezone(dt.timedelta(hours=-5))


@pytest.fixture(params=["sqlite", "postgres"])
def pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, Engine]]:
    """Two fresh, empty stores: (written by the code, written by the reference)."""
    if request.param == "sqlite":
        engines = [make_engine(f"sqlite:///{tmp_path / f'{n}.db'}") for n in ("new", "old")]
        schemas: list[str] = []
    else:
        base = postgres_url()
        if base is None:
            pytest.skip("PostgreSQL tests skipped: RECOUP_TEST_DATABASE_URL is not set or does not answer")
        schemas = [f"t_{uuid.uuid4().hex[:12]}" for _ in range(2)]
        admin = create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1), poolclass=NullPool)
        with admin.begin() as c:
            for s in schemas:
                c.execute(text(f"CREATE SCHEMA {s}"))
        engines = [make_engine(_pg_schema_url(base, s)) for s in schemas]
    for e in engines:
        init_db(e)
    try:
        yield engines[0], engines[1]
    finally:
        for e in engines:
            e.dispose()
        if schemas:
            gc.collect()
            with admin.begin() as c:
                for s in schemas:
                    c.execute(text(f"DROP SCHEMA {s} CASCADE"))
            admin.dispose()


def finding(kind: str, carrier: str, tn: str, amount: int, *, line: int | None = None, claimable: bool = True,
            deadline: dt.date | None = dt.date(2026, 12, 1), reason: str = "why", evidence: str = "{}") -> dict[str, Any]:
    return {"key": f"{kind}|{carrier}|{tn}|{line or ''}", "kind": kind, "carrier": carrier, "tracking_number": tn,
            "invoice_number": None if line is None else f"INV{line}", "invoice_line_id": line, "amount_cents": amount,
            "currency": "USD", "deadline": deadline, "claimable": claimable, "reason": reason, "evidence": evidence}


def frame(rows: list[dict[str, Any]], *, loose: bool = False) -> pd.DataFrame:
    """Findings as the rules return them (text columns of objects); ``loose``: as pandas infers them
    (its own text dtype, NaN for a missing line id)."""
    if loose:
        df = pd.DataFrame(rows, columns=FINDING_COLUMNS)
        df["invoice_line_id"] = df["invoice_line_id"].astype(float)
        return df
    cols: dict[str, Any] = {c: pd.Series([r[c] for r in rows], dtype=object) for c in FINDING_COLUMNS}
    cols["amount_cents"] = pd.Series([r["amount_cents"] for r in rows], dtype=np.int64)
    cols["claimable"] = pd.Series([r["claimable"] for r in rows], dtype=bool)
    return pd.DataFrame(cols, columns=FINDING_COLUMNS)


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row as the driver reads it (SQLite: the text stored for instants, dates and booleans)."""
    with engine.connect() as c:
        return {t: raw_rows(c, f"SELECT * FROM {t} ORDER BY id") for t in TABLES}


def summary_of(s: AuditSummary) -> tuple[int, ...]:
    return s.new, s.updated, s.withdrawn, s.claims_opened, s.claims_updated, s.claims_cancelled


def write_both(pair: tuple[Engine, Engine], found: pd.DataFrame, *, scope: set[tuple[str, str]] | None = None,
               carriers: frozenset[str] = frozenset({"ups", "fedex"}), threshold: int | None = 1000,
               now: dt.datetime) -> tuple[int, ...]:
    got = []
    for eng, fn in zip(pair, (persist, persist_reference.persist), strict=True):
        summary = AuditSummary(as_of=now.date())
        with eng.begin() as conn:
            fn(conn, found, scope, set(carriers), summary, threshold, "worker", now)
        got.append(summary_of(summary))
    assert got[0] == got[1]
    new, old = dump(pair[0]), dump(pair[1])
    for t in TABLES:
        assert new[t] == old[t], t
    return got[0]


def both(pair: tuple[Engine, Engine], sql: str) -> None:
    for eng in pair:
        with eng.begin() as conn:
            conn.execute(text(sql))


@pytest.mark.parametrize(("loose", "read_ids"), [(False, False), (True, False), (False, True)])
def test_persist_writes_the_rows_the_one_at_a_time_loop_wrote(pair: tuple[Engine, Engine], loose: bool,
                                                               read_ids: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if read_ids:        # the ids of inserted rows read back by key, not taken as the block they form
        monkeypatch.setattr(persist_module, "_block", lambda *_: None)
    a = finding("late_delivery", "ups", "1ZA", 600)
    b = finding("lost", "ups", "1ZB", 5000, deadline=None)
    c = finding("rate_overcharge", "ups", "1ZC", 120, line=7, claimable=False)
    d = finding("dim_weight", "fedex", "7D", 800, line=8)
    e = finding("residential_surcharge", "fedex", "7E", 450, line=9)
    f = finding("lost", "fedex", "7F", 2500)
    m = finding("address_correction", "ups", "1ZM", 1700, line=10, claimable=False, evidence='{"a": 1}')
    x = finding("lost", "dhl", "JX", 900)
    t1 = dt.datetime(2026, 11, 20, 7, 30, 15, 123456, tzinfo=EST)
    # first run: every finding new, claims opened (B and F above the threshold)
    assert write_both(pair, frame([a, b, c, d, e, f, m, x], loose=loose),
                      carriers=frozenset({"ups", "fedex", "dhl"}), now=t1) == (8, 0, 0, 6, 0, 0)
    # D's and F's claims filed by then
    both(pair, "UPDATE claim SET status = 'submitted' WHERE finding_id IN "
               "(SELECT id FROM finding WHERE tracking_number IN ('7D', '7F'))")
    # the same findings again: nothing written
    t2 = t1 + dt.timedelta(days=1)
    assert write_both(pair, frame([a, b, c, d, e, f, m], loose=loose), now=t2) == (0, 0, 0, 0, 0, 0)
    # A's amount grows (its claim follows), B and F no longer hold (B's claim cancelled, F's filed one
    # stays), C turns claimable (a claim opened for a stored finding), D's deadline moves (its filed
    # claim stays), E's reason alone and M's evidence alone change (updated, no history), G and H are new
    t3 = t2 + dt.timedelta(days=1, microseconds=1)
    a3 = {**a, "amount_cents": 1500}
    c3 = {**c, "claimable": True, "amount_cents": 130}
    d3 = {**d, "deadline": dt.date(2026, 12, 24)}
    e3 = {**e, "reason": "why, said better"}
    m3 = {**m, "evidence": '{"a": 2}'}
    g = finding("lost", "ups", "1ZG", 7000, evidence='{"quote": "\\"", "line\\nbreak": ""}')
    h = finding("signature", "fedex", "7H", 0, claimable=False, deadline=None, reason="")
    assert write_both(pair, frame([g, a3, c3, d3, e3, h, m3], loose=loose), now=t3) == (2, 3, 2, 2, 1, 1)
    # an incremental run over A's and B's parcels: B holds again (reopened; its cancelled claim stays),
    # A no longer holds (its updated claim cancelled); the rest is out of scope
    t4 = t3 + dt.timedelta(hours=5)
    assert write_both(pair, frame([b], loose=loose), scope={("ups", "1ZA"), ("ups", "1ZB"), ("dhl", "JX")},
                      now=t4) == (0, 1, 1, 0, 0, 1)
    # nothing holds any more: every open finding of UPS and FedEx withdrawn, unfiled claims cancelled,
    # DHL's (not audited) left as it is
    t5 = t4 + dt.timedelta(days=3)
    assert write_both(pair, frame([], loose=loose), threshold=None, now=t5) == (0, 0, 7, 0, 0, 3)
    # all of them back (reopened; their claims, cancelled or filed, stay) and a new one, no threshold
    t6 = t5 + dt.timedelta(days=1)
    k = finding("lost", "ups", "1ZK", 99999)
    assert write_both(pair, frame([a, b, c, d, e, f, g, h, k, m], loose=loose), threshold=None,
                      now=t6) == (1, 9, 0, 1, 0, 0)


def test_full_and_incremental_audits_write_what_the_reference_wrote(
        pair: tuple[Engine, Engine], kit: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Random parcels round after round (tests/audit/test_incremental.py's world), one store audited
    with each writer: every row equal after each round."""
    from decimal import Decimal

    from tests.audit.test_incremental import World

    kit.contract()
    w = World(kit, 5)
    as_of = w.day
    writers: list[Callable[..., None]] = [persist, persist_reference.persist]
    for rnd in range(5):
        w.new_parcels(10 if rnd == 0 else w.rng.randint(0, 5))
        w.more_scans(w.rng.randint(0, 6))
        w.bill(w.rng.randint(1, 8))
        if rnd:
            w.edit_manifest(w.rng.randint(1, 3))
        for eng, fn in zip(pair, writers, strict=True):
            w.load(eng, str(rnd))
            monkeypatch.setattr(service, "persist", fn)
            service.audit(eng, kit.contract_set(), as_of, clock=replay_clock(as_of), full=rnd % 2 == 0,
                          approval_threshold=Decimal("40.00"))
        new, old = dump(pair[0]), dump(pair[1])
        assert new["finding"], "the world has findings"
        for t in TABLES:
            assert new[t] == old[t], (rnd, t)
        as_of += dt.timedelta(days=w.rng.choice([1, 3, 6, 12]))
        w.day = max(w.day, as_of)
