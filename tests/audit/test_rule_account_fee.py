"""account_fee, through run_audit and the store (docs/rules/account_fee.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import insert, select

from recoup.audit.service import audit
from recoup.clock import SYSTEM, replay_clock
from recoup.ingest.service import ingest_files
from recoup.store.models import Finding, Invoice, InvoiceLine

D = dt.date.fromisoformat
FEES = [{"match": "payment processing", "max": "0.00"}, {"match": "paper invoice", "max": "5.00"}]


def base(kit: Any, **over: Any) -> None:
    kit.contract(account_fees=FEES, **over)
    kit.ship("T1", service="GND")
    kit.delivered("T1", "2026-10-08T12:00:00-04:00")
    kit.line("T1", "I1", "2026-10-10", "transportation", "8.00", zone="2")


def test_waived_fee_is_found_whole(kit: Any) -> None:
    base(kit)
    kit.line(None, "I1", "2026-10-10", "other", "41.27", description="Payment Processing Fee")
    f = kit.one("2026-10-20", "account_fee")
    assert (f["tracking_number"], f["amount_cents"], f["claimable"]) == ("", 4127, True)
    assert f["deadline"] == D("2027-04-08")
    assert f["key"].startswith("account_fee|ups||")


def test_fee_above_the_contract_amount_is_the_difference(kit: Any) -> None:
    base(kit)
    kit.line(None, "I1", "2026-10-10", "other", "7.50", description="PAPER INVOICE FEE")
    kit.line(None, "I1", "2026-10-10", "other", "5.00", description="Paper invoice fee")   # at the amount: no
    got = kit.findings("2026-10-20", "account_fee")
    assert [g["amount_cents"] for g in got] == [250]


def test_fee_the_contract_does_not_name_is_not_judged(kit: Any) -> None:
    base(kit)
    kit.line(None, "I1", "2026-10-10", "other", "12.00", description="Pickup Charge")
    assert kit.findings("2026-10-20", "account_fee") == []


def test_no_account_fees_rows_nothing_judged(kit: Any) -> None:
    kit.contract()
    kit.line(None, "I1", "2026-10-10", "other", "41.27", description="Payment Processing Fee")
    assert kit.findings("2026-10-20", "account_fee") == []


def test_window_closed_is_not_claimable(kit: Any) -> None:
    base(kit)
    kit.line(None, "I1", "2026-10-10", "other", "41.27", description="Payment Processing Fee")
    f = kit.one("2027-05-01", "account_fee")
    assert not f["claimable"] and "window closed on 2027-04-08" in f["reason"]


def test_bad_account_fee_row_is_refused(kit: Any) -> None:
    from recoup.errors import ConfigError

    with pytest.raises(ConfigError, match=r"account_fees\[0\]\.max"):
        kit.contract(account_fees=[{"match": "x", "max": "-1"}])


def test_store_reads_account_lines_and_rejudges_them_incrementally(engine: Any, kit: Any) -> None:
    base(kit)
    files = kit.write_csvs(kit.root / "data")
    for kind in ("shipments", "scans", "invoices"):
        for s in ingest_files(engine, kind, files[kind], clock=SYSTEM, contracts=kit.contract_set()):
            assert s.refused is None and not s.errors
    audit(engine, kit.contract_set(), D("2026-10-20"), clock=replay_clock(D("2026-10-20")))
    it, lt, ft = (m.__table__ for m in (Invoice, InvoiceLine, Finding))  # type: ignore[attr-defined]
    with engine.begin() as c:
        inv = c.execute(select(it.c.id)).scalar()
        c.execute(insert(lt).values(invoice_id=inv, line_no=99, carrier="ups", invoice_number="I1",
                                    invoice_date=D("2026-10-10"), tracking_number=None, charge_type="other",
                                    amount_cents=4127, description="Payment Processing Fee"))
    s = audit(engine, kit.contract_set(), D("2026-10-21"), clock=replay_clock(D("2026-10-21")))
    assert s.mode == "incremental" and s.by_kind["account_fee"] == 1
    with engine.connect() as c:
        f = c.execute(select(ft).where(ft.c.kind == "account_fee")).one()
    assert (f.tracking_number, f.amount_cents, f.status) == ("", 4127, "open")
    s = audit(engine, kit.contract_set(), D("2026-10-22"), clock=replay_clock(D("2026-10-22")), full=True)
    assert s.by_kind["account_fee"] == 1 and s.withdrawn == 0
