"""The incremental audit gives what a full audit gives: two stores get the same random data, round
after round (new parcels, new scans, new invoices, changed manifest rows, the audit date moving on
and sometimes back); one is audited incrementally, the other in full; findings, their history and
claims must match. Also: reading only the relevant scans gives the findings of all of them."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from recoup.audit.rules import relevant_scans, run_audit
from recoup.audit.service import audit, load_frames
from recoup.clock import SYSTEM, replay_clock
from recoup.ingest.service import ingest_files
from recoup.store.db import init_db, make_engine
from recoup.store.models import Claim, Finding, FindingHistory

FT = Finding.__table__  # type: ignore[attr-defined]
CT = Claim.__table__  # type: ignore[attr-defined]
HT = FindingHistory.__table__  # type: ignore[attr-defined]
DAS = ["10035", "99501", "10001"]


class World:
    """Random parcels and their lives, written as canonical CSV files round by round."""

    def __init__(self, kit: Any, seed: int) -> None:
        self.kit = kit
        self.rng = random.Random(seed)
        self.n = 0
        self.invoices = 0
        self.day = dt.date(2026, 10, 1)
        self.lives: dict[str, dt.datetime] = {}     # tracking number -> its latest scan instant

    def at(self, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=dt.timezone(dt.timedelta(hours=-4)))

    def scan(self, tn: str, when: dt.datetime, status: str, reason: str | None = None) -> None:
        self.kit.scan(tn, when.isoformat(), status, reason)
        self.lives[tn] = max(self.lives.get(tn, when), when)

    def new_parcels(self, count: int) -> None:
        r = self.rng
        for _ in range(count):
            self.n += 1
            tn = f"1ZR{self.n:06d}"
            ship = self.day - dt.timedelta(days=r.randint(0, 12))
            self.kit.ship(tn, service=r.choice(["NDA", "NDA", "GND"]), ship_date=ship.isoformat(),
                          dest_residential=r.choice([True, False, None]), address_validated=r.choice([True, False]),
                          dest_postal=r.choice([*DAS, "10036", "60607"]), weight=str(r.randint(1, 12)),
                          length=str(r.randint(5, 20)), width=str(r.randint(5, 20)), height=str(r.randint(5, 20)),
                          dim_unit="in", declared_value=r.choice(["0.00", "150.00"]),
                          item_value=str(r.randint(20, 400)) + ".00",
                          promised_delivery=r.choice([None, None, None, f"{ship + dt.timedelta(days=2)}T12:00:00-04:00"]))
            self.scan(tn, self.at(ship, 8), "label_created")
            fate = r.random()
            if fate < 0.1:
                continue                                   # a label, never scanned
            self.scan(tn, self.at(ship, 17), "picked_up")
            if fate < 0.25:
                continue                                   # in transit, maybe lost later
            if fate < 0.35:
                self.scan(tn, self.at(ship + dt.timedelta(days=1), 9), "exception", r.choice(["weather", "carrier", "damage"]))
            deliver = ship + dt.timedelta(days=r.choice([1, 1, 2, 3]))
            if deliver <= self.day:
                self.scan(tn, self.at(deliver, r.choice([9, 10, 11, 15])), "delivered")

    def more_scans(self, count: int) -> None:
        r = self.rng
        for s in r.sample(self.kit.ships, min(count, len(self.kit.ships))):
            tn = s["tracking_number"]
            last = self.lives.get(tn)
            if last is None:
                continue
            when = last + dt.timedelta(hours=r.randint(1, 30))
            if when.date() > self.day:
                continue
            self.scan(tn, when, r.choice(["in_transit", "delivered", "lost", "damaged", "returned_to_sender"]))

    def bill(self, count: int) -> None:
        r = self.rng
        self.invoices += 1
        inv = f"INV-{self.invoices:03d}"
        for s in r.sample(self.kit.ships, min(count, len(self.kit.ships))):
            tn = s["tracking_number"]
            transport = f"{r.randint(10, 40)}.{r.choice(['00', '50'])}"
            self.kit.line(tn, inv, self.day.isoformat(), "transportation", transport,
                          billed_weight=str(r.randint(1, 14)), zone=r.choice(["2", "004", "8"]))
            self.kit.line(tn, inv, self.day.isoformat(), "fuel", f"{r.randint(1, 6)}.{r.randint(10, 99)}")
            for extra in r.sample(["residential", "delivery_area", "address_correction", "signature"], 2):
                self.kit.line(tn, inv, self.day.isoformat(), extra, r.choice(["4.10", "5.15", "23.00"]))
            if r.random() < 0.1:   # billed again
                self.kit.line(tn, inv, self.day.isoformat(), "signature", "6.00")

    def edit_manifest(self, count: int) -> None:
        r = self.rng
        for s in r.sample(self.kit.ships, min(count, len(self.kit.ships))):
            s["dest_residential"] = r.choice([True, False])
            s["weight"] = str(r.randint(1, 12))

    def load(self, engine: Engine, tag: str) -> None:
        files = self.kit.write_csvs(self.kit.root / f"round{tag}", tag)
        cs = self.kit.contract_set()
        for kind in ("shipments", "scans", "invoices"):
            for s in ingest_files(engine, kind, files[kind], clock=SYSTEM, contracts=cs):
                assert s.refused is None and not s.errors, (kind, s.refused, s.errors)


def snapshot(engine: Engine) -> dict[str, Any]:
    with engine.connect() as c:
        fs = {r.key: (r.status, r.kind, r.invoice_number, r.invoice_line_id, r.amount_cents, r.currency, r.deadline,
                      r.claimable, r.reason, r.evidence) for r in c.execute(select(FT))}
        key_of = {r.id: r.key for r in c.execute(select(FT.c.id, FT.c.key))}
        hist = sorted((key_of[r.finding_id], r.change, r.detail) for r in c.execute(select(HT)))
        claims = {key_of[r.finding_id]: (r.status, r.claimed_cents, r.deadline, r.needs_approval)
                  for r in c.execute(select(CT))}
    return {"findings": fs, "history": hist, "claims": claims}


def _engine(path: Path) -> Engine:
    eng = make_engine(f"sqlite:///{path}")
    init_db(eng)
    return eng


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_incremental_equals_full_on_random_updates(kit: Any, tmp_path: Path, seed: int) -> None:
    kit.contract(gsr_suspensions=[{"from": "2026-10-05", "to": "2026-10-06", "services": ["NDA"]}])
    inc, full = _engine(tmp_path / "inc.db"), _engine(tmp_path / "full.db")
    w = World(kit, seed)
    as_of = w.day
    modes = []
    try:
        for rnd in range(7):
            w.new_parcels(12 if rnd == 0 else w.rng.randint(0, 5))
            w.more_scans(w.rng.randint(0, 6))
            if w.rng.random() < 0.7:
                w.bill(w.rng.randint(1, 8))
            if rnd and w.rng.random() < 0.4:
                w.edit_manifest(w.rng.randint(1, 3))
            for eng in (inc, full):
                w.load(eng, str(rnd))
            a = audit(inc, kit.contract_set(), as_of, clock=replay_clock(as_of), approval_threshold=None)
            b = audit(full, kit.contract_set(), as_of, clock=replay_clock(as_of), full=True)
            modes.append(a.mode)
            got, want = snapshot(inc), snapshot(full)
            assert got["findings"] == want["findings"], f"round {rnd} as of {as_of}"
            assert got["history"] == want["history"], f"round {rnd}"
            assert got["claims"] == want["claims"], f"round {rnd}"
            assert a.findings == b.findings and a.by_kind == b.by_kind
            # the world moves on: the audit date too, mostly forward, sometimes not at all, once back
            step = w.rng.choice([0, 1, 3, 6, 12])
            as_of = as_of + dt.timedelta(days=-1 if rnd == 4 else step)
            w.day = max(w.day, as_of)
    finally:
        inc.dispose()
        full.dispose()
    assert modes[0] == "full" and "incremental" in modes


def test_incremental_rejudges_only_what_changed(kit: Any, tmp_path: Path) -> None:
    kit.contract()
    eng = _engine(tmp_path / "db.db")
    w = World(kit, 9)
    w.new_parcels(30)
    w.load(eng, "0")
    first = audit(eng, kit.contract_set(), w.day, clock=replay_clock(w.day))
    assert first.mode == "full" and first.shipments == 30
    again = audit(eng, kit.contract_set(), w.day, clock=replay_clock(w.day))
    assert again.mode == "incremental" and again.shipments == 0
    assert again.findings == first.findings
    tn = kit.ships[3]["tracking_number"]
    w.scan(tn, w.lives[tn] + dt.timedelta(hours=1), "in_transit")
    w.load(eng, "1")
    third = audit(eng, kit.contract_set(), w.day, clock=replay_clock(w.day))
    assert third.mode == "incremental" and third.shipments == 1
    forced = audit(eng, kit.contract_set(), w.day, clock=replay_clock(w.day), full=True)
    assert forced.mode == "full" and forced.shipments == 30 and forced.why == "--full"
    # a contract edit changes the fingerprint: a full run
    kit.contract(claims={"late_window_days": 16})
    assert audit(eng, kit.contract_set(), w.day, clock=replay_clock(w.day)).mode == "full"
    eng.dispose()


@pytest.mark.parametrize("seed", [5, 6])
def test_relevant_scans_give_the_same_findings(kit: Any, tmp_path: Path, seed: int) -> None:
    kit.contract()
    w = World(kit, seed)
    w.new_parcels(60)
    w.more_scans(20)
    w.bill(40)
    frames = kit.frames()
    cs = kit.contract_set()
    for as_of in (w.day, w.day + dt.timedelta(days=15)):
        a = run_audit(frames, cs, as_of).findings
        frames_r = type(frames)(frames.shipments, relevant_scans(frames.scans), frames.lines)
        assert len(frames_r.scans) < len(frames.scans)
        b = run_audit(frames_r, cs, as_of).findings
        assert a.sort_values("key").reset_index(drop=True).equals(b.sort_values("key").reset_index(drop=True))
    # and the store reads them that way
    eng = _engine(tmp_path / "db.db")
    w.load(eng, "0")
    reduced, every = load_frames(eng), load_frames(eng, all_scans=True)
    assert len(reduced.scans) < len(every.scans)
    for as_of in (w.day, w.day + dt.timedelta(days=15)):
        a = run_audit(reduced, cs, as_of).findings.sort_values("key").reset_index(drop=True)
        b = run_audit(every, cs, as_of).findings.sort_values("key").reset_index(drop=True)
        assert a.equals(b)
    eng.dispose()


def test_counts_by_kind_carry_over_and_are_recounted_when_they_cannot(kit: Any, tmp_path: Path) -> None:
    """An incremental run adds its change to the counts the last run stored; counts that would go
    negative (a store changed behind the audit's back) are counted again from the table."""
    from sqlalchemy import update

    from recoup.audit.incremental import K_OPEN
    from recoup.store.models import AuditState, table_of

    kit.contract()
    eng = _engine(tmp_path / "db.db")
    w = World(kit, 3)
    w.new_parcels(40)
    w.bill(20)
    w.load(eng, "0")
    first = audit(eng, kit.contract_set(), w.day, clock=replay_clock(w.day))
    assert first.mode == "full" and first.by_kind
    w.more_scans(10)
    w.load(eng, "1")
    day = w.day + dt.timedelta(days=20)
    second = audit(eng, kit.contract_set(), day, clock=replay_clock(day))
    recount = audit(eng, kit.contract_set(), day, clock=replay_clock(day), full=True)
    assert second.mode == "incremental" and second.by_kind == recount.by_kind
    kind = sorted(recount.by_kind)[0]
    with eng.begin() as c:
        c.execute(update(table_of(AuditState)).where(table_of(AuditState).c.key == K_OPEN)
                  .values(value=f'{{"{kind}": -{recount.by_kind[kind] + 1}}}'))
    again = audit(eng, kit.contract_set(), day, clock=replay_clock(day))
    assert again.mode == "incremental" and again.by_kind == recount.by_kind
    eng.dispose()


@pytest.mark.parametrize("seed", [5, 6])
def test_a_load_by_keys_reads_the_relevant_scans(kit: Any, tmp_path: Path, seed: int) -> None:
    """An incremental run reads its parcels' scans as a full load does: the final ones' special events
    only, every scan of the others."""
    kit.contract()
    w = World(kit, seed)
    w.new_parcels(60)
    w.more_scans(20)
    eng = _engine(tmp_path / "db.db")
    w.load(eng, "0")
    keys = {(s["carrier"], s["tracking_number"]) for s in kit.ships[::2]}
    reduced, every = load_frames(eng, keys), load_frames(eng, keys, all_scans=True)
    want = relevant_scans(every.scans)
    assert 0 < len(reduced.scans) < len(every.scans)
    assert reduced.scans["id"].tolist() == want["id"].tolist()
    pd.testing.assert_frame_equal(reduced.scans.reset_index(drop=True), want.reset_index(drop=True),
                                  check_categorical=False)     # categories: those of the rows read
    eng.dispose()


def test_parallel_full_run_equals_one_process(kit: Any, tmp_path: Path, engine: Engine,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import recoup.audit.service as service

    kit.contract()
    kit.contract(name="fedex", carrier="fedex")
    w = World(kit, 11)
    w.new_parcels(40)
    w.bill(30)
    fedex = {s["tracking_number"] for s in kit.ships[::3]}   # a second carrier: slices cut carriers and numbers
    for rows in (kit.ships, kit.scans, kit.lines):
        for r in rows:
            if r["tracking_number"] in fedex:
                r["carrier"] = "fedex"
    w.load(engine, "0")
    monkeypatch.setattr(service, "PARALLEL_MIN", 0)
    with engine.connect() as conn:
        parts = service._partitions(conn, 3)
    assert len(parts) == 3 and sum(len(p) for p in parts) >= 3
    a = audit(engine, kit.contract_set(), w.day, clock=replay_clock(w.day), workers=3)
    assert a.shipments == 40 and a.new > 0
    before = snapshot(engine)
    b = audit(engine, kit.contract_set(), w.day, clock=replay_clock(w.day), workers=1, full=True)   # one process agrees: nothing changes
    assert (b.shipments, b.new, b.updated, b.withdrawn) == (40, 0, 0, 0)
    assert snapshot(engine) == before
    assert a.by_kind == b.by_kind and a.warnings == b.warnings


def test_findings_are_numbered_the_same_however_the_run_is_cut(kit: Any, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Same inputs and as-of, same ids: one process, three workers, or small pieces number the findings,
    their history and claims the same (the ids followed the slices and pieces before)."""
    import recoup.audit.service as service

    kit.contract()
    kit.contract(name="fedex", carrier="fedex")
    w = World(kit, 12)
    w.new_parcels(40)
    w.bill(30)
    fedex = {s["tracking_number"] for s in kit.ships[::3]}
    for rows in (kit.ships, kit.scans, kit.lines):
        for r in rows:
            if r["tracking_number"] in fedex:
                r["carrier"] = "fedex"
    monkeypatch.setattr(service, "PARALLEL_MIN", 0)
    got = []
    for name, workers, piece in (("one", 1, 10**6), ("three", 3, 10**6), ("pieces", 2, 7)):
        monkeypatch.setattr(service, "PIECE_SHIPMENTS", piece)
        eng = _engine(tmp_path / f"{name}.db")
        w.load(eng, "0")
        assert audit(eng, kit.contract_set(), w.day, clock=replay_clock(w.day), workers=workers).new > 5
        with eng.connect() as c:
            got.append([tuple(r) for t in (FT, HT, CT) for r in c.execute(select(t).order_by(t.c.id))])
        eng.dispose()
    assert got[0] == got[1] == got[2]


def test_batched_reads_unite_categories(kit: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # found by the 1M benchmark: categories united over read batches, then over the two scan reads
    import recoup.audit.frames as frames

    kit.contract()
    w = World(kit, 12)
    w.new_parcels(40)
    w.bill(30)
    eng = _engine(tmp_path / "db.db")
    w.load(eng, "0")
    whole = load_frames(eng)
    monkeypatch.setattr(frames, "BATCH", 7)
    batched = load_frames(eng)
    for name in ("shipments", "scans", "lines"):
        a, b = getattr(whole, name), getattr(batched, name)
        assert len(a) == len(b)
    cs = kit.contract_set()
    x = run_audit(whole, cs, w.day).findings.sort_values("key").reset_index(drop=True)
    y = run_audit(batched, cs, w.day).findings.sort_values("key").reset_index(drop=True)
    assert x.equals(y)
    eng.dispose()


def test_parallel_full_run_in_pieces_equals_one_process(kit: Any, tmp_path: Path, engine: Engine,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # each worker judges its slice a few parcels at a time (bounded memory): the same findings
    import recoup.audit.service as service

    monkeypatch.setattr(service, "PIECE_SHIPMENTS", 3)
    test_parallel_full_run_equals_one_process(kit, tmp_path, engine, monkeypatch)
