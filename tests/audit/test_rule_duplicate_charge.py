"""``duplicate_charge`` (spec/audits.md, docs/rules/duplicate_charge.md): its edge cases, through the public ``run_audit``
on hand-built frames and contracts written as TOML (conftest.Kit); ``test_decision_*`` pin
docs/audit-decisions.md."""

from __future__ import annotations


def kinds(kit, as_of, tn=None):  # type: ignore[no-untyped-def]
    return sorted(f["kind"] for f in kit.findings(as_of, tn=tn))


def _in_transit(kit, tn="T1", last="2026-10-06T10:00:00-04:00", **ship):  # type: ignore[no-untyped-def]
    kit.ship(tn, **ship)
    kit.scan(tn, "2026-10-05T09:00:00-04:00", "label_created")
    kit.scan(tn, "2026-10-05T17:00:00-04:00", "picked_up")
    kit.scan(tn, last, "in_transit")


def test_duplicate_that_is_also_residential(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract()
    kit.ship("T1", service="GND", dest_residential=False)
    kit.delivered("T1", "2026-10-08T12:00:00-04:00")
    kit.line("T1", "I1", "2026-10-10", "residential", "5.00")    # id 1
    kit.line("T1", "I2", "2026-10-17", "residential", "5.00")    # id 2: a duplicate
    got = kit.findings("2026-10-20")
    assert sorted((f["kind"], f["invoice_line_id"]) for f in got) == [
        ("duplicate_charge", 2), ("residential_surcharge", 1)]


def test_duplicate_order_is_invoice_date_then_number_as_text(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract()
    kit.ship("T1", service="GND")
    kit.delivered("T1", "2026-10-08T12:00:00-04:00")
    kit.line("T1", "INV-9", "2026-10-10", "signature", "6.00")    # id 1
    kit.line("T1", "INV-10", "2026-10-10", "signature", "6.00")   # id 2: "INV-10" < "INV-9" as text
    kit.line("T1", "INV-10", "2026-10-10", "signature", "6.00")   # id 3: same invoice, later line
    kit.line("T1", "INV-10", "2026-10-10", "signature", "6.01")   # another amount: not a duplicate
    got = kit.findings("2026-10-20", "duplicate_charge")
    assert sorted(f["invoice_line_id"] for f in got) == [1, 3]
    assert all(f["amount_cents"] == 600 for f in got)


def test_duplicate_is_reported_even_when_a_claim_refunds_everything(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract()
    _in_transit(kit, dest_residential=False)
    kit.line("T1", "I1", "2026-10-10", "residential", "5.00")
    kit.line("T1", "I1", "2026-10-10", "residential", "5.00")
    assert kinds(kit, "2026-10-20") == ["duplicate_charge", "lost"]
