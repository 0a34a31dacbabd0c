"""The audit over the store: findings persisted, updated in place, withdrawn; claims opened, updated,
cancelled. Data goes in through the ingest service as canonical CSV files. Runs on SQLite, and on
PostgreSQL when RECOUP_TEST_DATABASE_URL is set (the shared ``engine`` fixture gives each test a
fresh schema)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from recoup.audit.service import AuditSummary, audit
from recoup.claims.lifecycle import move
from recoup.clock import SYSTEM, replay_clock
from recoup.ingest.service import ingest_files
from recoup.store.models import Claim, ClaimEvent, Finding, FindingHistory

D = dt.date.fromisoformat
FT = Finding.__table__  # type: ignore[attr-defined]
CT = Claim.__table__  # type: ignore[attr-defined]
HT = FindingHistory.__table__  # type: ignore[attr-defined]
ET = ClaimEvent.__table__  # type: ignore[attr-defined]


def load(engine: Engine, kit: Any, tag: str) -> None:
    """Write the kit's records as CSV files and ingest them (already-loaded rows are duplicates)."""
    files = kit.write_csvs(kit.root / f"data{tag}", tag)
    cs = kit.contract_set()
    for kind in ("shipments", "scans", "invoices"):
        if files[kind]:
            for s in ingest_files(engine, kind, files[kind], clock=SYSTEM, contracts=cs):
                assert s.refused is None and not s.errors, (s.path, s.refused, s.errors)


def run(engine: Engine, kit: Any, as_of: str, **kw: Any) -> AuditSummary:
    return audit(engine, kit.contract_set(), D(as_of), clock=replay_clock(D(as_of)), **kw)


def rows(engine: Engine, table: Any, *order: Any) -> list[dict[str, Any]]:
    with engine.connect() as c:
        return [dict(r._mapping) for r in c.execute(select(table).order_by(*(order or (table.c.id,))))]


def findings(engine: Engine) -> dict[str, dict[str, Any]]:
    return {r["key"]: r for r in rows(engine, FT)}


def claim_of(engine: Engine, finding_id: int) -> dict[str, Any] | None:
    got = [r for r in rows(engine, CT) if r["finding_id"] == finding_id]
    return got[0] if got else None


def history(engine: Engine, finding_id: int) -> list[str]:
    return [r["change"] for r in rows(engine, HT) if r["finding_id"] == finding_id]


def a_few_findings(kit: Any) -> None:
    """Late (billed), lost, a residential surcharge, a duplicate, a late not yet billed."""
    kit.contract()
    kit.ship("LATE")
    kit.delivered("LATE", "2026-10-06T12:00:00-04:00")
    kit.line("LATE", "I1", "2026-10-10", "transportation", "25.00", billed_weight="5", zone="4")
    kit.ship("LOST", service="GND", dest_residential=False)
    kit.scan("LOST", "2026-10-05T09:00:00-04:00", "label_created")
    kit.scan("LOST", "2026-10-05T17:00:00-04:00", "picked_up")
    kit.line("LOST", "I1", "2026-10-10", "transportation", "11.00", billed_weight="5", zone="4")
    kit.ship("RES", service="GND", dest_residential=False)
    kit.delivered("RES", "2026-10-07T12:00:00-04:00")
    kit.line("RES", "I1", "2026-10-10", "residential", "5.15")
    kit.line("RES", "I2", "2026-10-17", "residential", "5.15")
    kit.ship("UNBILLED")
    kit.delivered("UNBILLED", "2026-10-06T11:00:00-04:00")


def test_first_audit_persists_findings_and_opens_claims(engine: Engine, kit: Any) -> None:
    a_few_findings(kit)
    load(engine, kit, "1")
    s = run(engine, kit, "2026-10-20")
    got = findings(engine)
    assert sorted(f["kind"] for f in got.values()) == [
        "duplicate_charge", "late_delivery", "late_delivery", "lost", "residential_surcharge"]
    assert s.new == 5 and s.claims_opened == 5
    late = got["late_delivery|ups|LATE"]
    assert (late["amount_cents"], late["deadline"], late["claimable"], late["status"]) == (
        2500, D("2026-10-21"), True, "open")
    unbilled = got["late_delivery|ups|UNBILLED"]
    assert unbilled["amount_cents"] == 0
    claim = claim_of(engine, unbilled["id"])
    assert claim is not None and claim["status"] == "ready" and claim["claimed_cents"] == 0
    assert all(history(engine, f["id"]) == ["opened"] for f in got.values())


def test_rerun_changes_nothing(engine: Engine, kit: Any) -> None:
    a_few_findings(kit)
    load(engine, kit, "1")
    run(engine, kit, "2026-10-20")
    before = (rows(engine, FT), rows(engine, HT), rows(engine, CT), rows(engine, ET))
    s = run(engine, kit, "2026-10-20")
    assert (s.new, s.updated, s.withdrawn, s.claims_opened, s.claims_cancelled, s.claims_updated) == (0,) * 6
    assert s.findings == 5
    after = (rows(engine, FT), rows(engine, HT), rows(engine, CT), rows(engine, ET))
    assert after == before
    # loading the same files again and auditing again: still nothing
    load(engine, kit, "1")
    run(engine, kit, "2026-10-20")
    assert (rows(engine, FT), rows(engine, HT), rows(engine, CT), rows(engine, ET)) == before


def test_new_invoice_updates_the_finding_and_its_unfiled_claim(engine: Engine, kit: Any) -> None:
    a_few_findings(kit)
    load(engine, kit, "1")
    run(engine, kit, "2026-10-20")
    f0 = findings(engine)["late_delivery|ups|UNBILLED"]
    kit.line("UNBILLED", "I3", "2026-10-24", "transportation", "31.00", billed_weight="5", zone="4")
    load(engine, kit, "2")
    s = run(engine, kit, "2026-10-20")
    # 31.00 is 6.00 above the card, but the claimable late delivery refunds transportation
    assert (s.new, s.updated, s.withdrawn, s.claims_updated) == (0, 1, 0, 1)
    f1 = findings(engine)["late_delivery|ups|UNBILLED"]
    assert f1["id"] == f0["id"]
    assert f1["amount_cents"] == 3100
    assert history(engine, f1["id"]) == ["opened", "updated"]
    h = [r for r in rows(engine, HT) if r["finding_id"] == f1["id"]][-1]
    assert "3100" in h["detail"]
    claim = claim_of(engine, f1["id"])
    assert claim is not None and claim["claimed_cents"] == 3100 and claim["status"] == "ready"
    events = [r for r in rows(engine, ET) if r["claim_id"] == claim["id"]]
    assert [e["to_status"] for e in events] == ["ready", "ready"]
    assert "3100" in events[-1]["detail"]


def test_filed_claim_is_not_updated(engine: Engine, kit: Any) -> None:
    a_few_findings(kit)
    load(engine, kit, "1")
    run(engine, kit, "2026-10-20")
    fid = findings(engine)["late_delivery|ups|UNBILLED"]["id"]
    claim = claim_of(engine, fid)
    assert claim is not None
    with engine.begin() as c:
        move(c, claim["id"], "ready", "submitted", "test", now=SYSTEM.now())
    kit.line("UNBILLED", "I3", "2026-10-24", "transportation", "31.00", billed_weight="5", zone="4")
    load(engine, kit, "2")
    run(engine, kit, "2026-10-20")
    assert findings(engine)["late_delivery|ups|UNBILLED"]["amount_cents"] == 3100
    after = claim_of(engine, fid)
    assert after is not None and after["claimed_cents"] == 0 and after["status"] == "submitted"


def test_lost_parcel_delivered_later_is_withdrawn_and_its_claim_cancelled(engine: Engine, kit: Any) -> None:
    a_few_findings(kit)
    load(engine, kit, "1")
    run(engine, kit, "2026-10-20")
    lost = findings(engine)["lost|ups|LOST"]
    # the claimable loss suppressed the residential surcharge on LOST; none was billed, so nothing else
    kit.scan("LOST", "2026-10-19T10:00:00-04:00", "delivered")
    load(engine, kit, "2")
    s = run(engine, kit, "2026-10-20")
    assert (s.withdrawn, s.claims_cancelled) == (1, 1)
    got = findings(engine)["lost|ups|LOST"]
    assert got["status"] == "withdrawn" and got["id"] == lost["id"]
    assert history(engine, got["id"]) == ["opened", "withdrawn"]
    claim = claim_of(engine, got["id"])
    assert claim is not None and claim["status"] == "cancelled"
    assert [e["to_status"] for e in rows(engine, ET) if e["claim_id"] == claim["id"]] == ["ready", "cancelled"]
    # the others are untouched
    assert all(f["status"] == "open" for k, f in findings(engine).items() if k != "lost|ups|LOST")
    # and auditing again changes nothing more
    s = run(engine, kit, "2026-10-20")
    assert (s.new, s.updated, s.withdrawn, s.claims_cancelled) == (0, 0, 0, 0)
    assert history(engine, got["id"]) == ["opened", "withdrawn"]


def test_withdrawn_finding_keeps_a_filed_claim(engine: Engine, kit: Any) -> None:
    a_few_findings(kit)
    load(engine, kit, "1")
    run(engine, kit, "2026-10-20")
    fid = findings(engine)["lost|ups|LOST"]["id"]
    claim = claim_of(engine, fid)
    assert claim is not None
    with engine.begin() as c:
        move(c, claim["id"], "ready", "submitted", "test", now=SYSTEM.now())
    kit.scan("LOST", "2026-10-19T10:00:00-04:00", "delivered")
    load(engine, kit, "2")
    s = run(engine, kit, "2026-10-20")
    assert (s.withdrawn, s.claims_cancelled) == (1, 0)
    after = claim_of(engine, fid)
    assert after is not None and after["status"] == "submitted"


def test_decision_withdrawn_then_holding_again_is_reopened_claim_stays_cancelled(engine: Engine, kit: Any) -> None:
    kit.contract()
    kit.ship("VOID")
    kit.scan("VOID", "2026-10-05T09:00:00-04:00", "label_created")
    kit.line("VOID", "I1", "2026-10-12", "transportation", "25.00")
    load(engine, kit, "1")
    run(engine, kit, "2026-10-15")
    fid = findings(engine)["void_label|ups|VOID"]["id"]
    run(engine, kit, "2026-10-14")           # an earlier as-of: not void yet
    assert findings(engine)["void_label|ups|VOID"]["status"] == "withdrawn"
    s = run(engine, kit, "2026-10-16")
    f = findings(engine)["void_label|ups|VOID"]
    assert f["status"] == "open" and f["id"] == fid
    assert history(engine, fid) == ["opened", "withdrawn", "reopened"]
    assert s.claims_opened == 0
    claim = claim_of(engine, fid)
    assert claim is not None and claim["status"] == "cancelled"


def test_decision_carrier_without_contract_keeps_its_findings(engine: Engine, kit: Any, tmp_path: Path) -> None:
    a_few_findings(kit)
    load(engine, kit, "1")
    run(engine, kit, "2026-10-20")
    before = rows(engine, FT)
    shutil.rmtree(kit.contracts_dir)
    kit.contracts_dir.mkdir()
    s = run(engine, kit, "2026-10-21")
    assert s.withdrawn == 0 and s.shipments == 0
    assert any("no contract loaded" in w for w in s.warnings)
    assert rows(engine, FT) == before


def test_approval_threshold_marks_big_claims(engine: Engine, kit: Any) -> None:
    a_few_findings(kit)
    load(engine, kit, "1")
    from decimal import Decimal

    run(engine, kit, "2026-10-20", approval_threshold=Decimal("50.00"))
    by_kind = {r["kind"]: r for r in rows(engine, CT)}
    assert by_kind["lost"]["needs_approval"] is True           # 100.00 + 11.00
    assert by_kind["residential_surcharge"]["needs_approval"] is False


@pytest.mark.parametrize("as_of", ["2026-10-20"])
def test_not_claimable_findings_open_no_claim(engine: Engine, kit: Any, as_of: str) -> None:
    kit.contract(claims={"excluded_exception_reasons": ["weather"]})
    kit.ship("W")
    kit.scan("W", "2026-10-06T08:00:00-04:00", "exception", "weather")
    kit.scan("W", "2026-10-06T12:00:00-04:00", "delivered")
    load(engine, kit, "1")
    s = run(engine, kit, as_of)
    f = findings(engine)["late_delivery|ups|W"]
    assert f["claimable"] is False and s.claims_opened == 0
    assert claim_of(engine, f["id"]) is None
