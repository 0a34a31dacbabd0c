"""unmanifested_charge, through run_audit and the store (docs/rules/unmanifested_charge.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from recoup.audit.service import AuditSummary, audit
from recoup.clock import SYSTEM, replay_clock
from recoup.ingest.service import ingest_files
from recoup.store.models import Finding

D = dt.date.fromisoformat


def load(engine: Any, kit: Any, tag: str) -> None:
    files = kit.write_csvs(kit.root / f"data{tag}", tag)
    for kind in ("shipments", "scans", "invoices"):
        if files[kind]:
            for s in ingest_files(engine, kind, files[kind], clock=SYSTEM, contracts=kit.contract_set()):
                assert s.refused is None and not s.errors, (s.path, s.refused, s.errors)


def run(engine: Any, kit: Any, as_of: str) -> AuditSummary:
    return audit(engine, kit.contract_set(), D(as_of), clock=replay_clock(D(as_of)))


def findings(engine: Any) -> dict[str, dict[str, Any]]:
    t = Finding.__table__  # type: ignore[attr-defined]
    with engine.connect() as c:
        return {r.key: dict(r._mapping) for r in c.execute(select(t))}


def test_found_and_never_claimable(kit: Any) -> None:
    kit.contract()
    kit.ship("T1", service="GND")
    kit.delivered("T1", "2026-10-08T12:00:00-04:00")
    kit.line("T1", "I1", "2026-10-10", "transportation", "8.00", zone="2")
    kit.line("X9", "I1", "2026-10-10", "transportation", "12.40", zone="2")
    kit.line("X9", "I1", "2026-10-10", "fuel", "1.80")
    got = kit.findings("2026-10-20", "unmanifested_charge")
    assert [(g["tracking_number"], g["amount_cents"]) for g in got] == [("X9", 1240), ("X9", 180)]
    assert all(not g["claimable"] for g in got)
    assert all(g["deadline"] == D("2027-04-08") for g in got)
    assert "a person checks it" in got[0]["reason"]


def test_not_found_when_manifested(kit: Any) -> None:
    kit.contract()
    kit.ship("T1", service="GND")
    kit.delivered("T1", "2026-10-08T12:00:00-04:00")
    kit.line("T1", "I1", "2026-10-10", "transportation", "8.00", zone="2")
    assert kit.findings("2026-10-20", "unmanifested_charge") == []


def test_carrier_without_contract_is_not_judged(kit: Any) -> None:
    kit.contract()
    kit.line("X9", "I1", "2026-10-10", "transportation", "12.40", carrier="fedex")
    assert kit.findings("2026-10-20", "unmanifested_charge") == []


def test_withdrawn_when_the_manifest_arrives(engine: Any, kit: Any) -> None:
    kit.contract()
    kit.ship("T1", service="GND")
    kit.delivered("T1", "2026-10-08T12:00:00-04:00")
    kit.line("T1", "I1", "2026-10-10", "transportation", "8.00", zone="2")
    kit.line("X9", "I2", "2026-10-10", "transportation", "12.40", zone="2")
    load(engine, kit, "a")
    run(engine, kit, "2026-10-20")
    got = [f for f in findings(engine).values() if f["kind"] == "unmanifested_charge"]
    assert len(got) == 1 and got[0]["status"] == "open" and not got[0]["claimable"]
    kit.ship("X9", service="GND")
    load(engine, kit, "b")
    s = run(engine, kit, "2026-10-21")
    assert s.mode == "incremental"
    got = [f for f in findings(engine).values() if f["kind"] == "unmanifested_charge"]
    assert got[0]["status"] == "withdrawn"
