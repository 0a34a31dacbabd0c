"""``lost`` (spec/audits.md, docs/rules/lost.md): its edge cases, through the public ``run_audit``
on hand-built frames and contracts written as TOML (conftest.Kit); ``test_decision_*`` pin
docs/audit-decisions.md."""

from __future__ import annotations

import datetime as dt

import pytest

D = dt.date.fromisoformat


def kinds(kit, as_of, tn=None):  # type: ignore[no-untyped-def]
    return sorted(f["kind"] for f in kit.findings(as_of, tn=tn))


def _in_transit(kit, tn="T1", last="2026-10-06T10:00:00-04:00", **ship):  # type: ignore[no-untyped-def]
    kit.ship(tn, **ship)
    kit.scan(tn, "2026-10-05T09:00:00-04:00", "label_created")
    kit.scan(tn, "2026-10-05T17:00:00-04:00", "picked_up")
    kit.scan(tn, last, "in_transit")


@pytest.mark.parametrize(("as_of", "lost"), [("2026-10-15", False), ("2026-10-16", True)])
def test_lost_after_days_boundary(kit, as_of, lost) -> None:  # type: ignore[no-untyped-def]
    kit.contract()
    _in_transit(kit)   # last event on 6 Oct; lost_after_days 10
    assert bool(kit.findings(as_of, "lost")) is lost


def test_lost_age_counts_from_the_local_date_of_the_latest_event(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract()
    _in_transit(kit, last="2026-10-06T02:00:00+00:00")   # no offset recorded: 5 Oct 22:00 in New York
    kit.scans[-1]["keep_offset"] = False
    assert kit.one("2026-10-15", "lost")


def test_lost_amount_deadline_and_claimable(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract()
    _in_transit(kit, item_value="250.00", declared_value="0.00")
    kit.line("T1", "I1", "2026-10-10", "transportation", "25.00")
    kit.line("T1", "I1", "2026-10-10", "fuel", "3.75")
    f = kit.one("2026-10-20", "lost")
    assert f["amount_cents"] == 10000 + 2875   # default liability + billed charges
    assert f["deadline"] == D("2026-12-04")      # ship date + 60
    assert f["claimable"] is True
    expired = kit.one("2026-12-05", "lost")
    assert expired["claimable"] is False
    assert expired["deadline"] == D("2026-12-04")


def test_lost_without_refund_of_shipping(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract(claims={"value_claims_refund_shipping": False})
    _in_transit(kit, item_value="80.00")
    kit.line("T1", "I1", "2026-10-10", "transportation", "25.00")
    assert kit.one("2026-10-20", "lost")["amount_cents"] == 8000


def test_lost_scan_is_lost_at_once(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract()
    _in_transit(kit)
    kit.scan("T1", "2026-10-07T10:00:00-04:00", "lost")
    assert kit.one("2026-10-08", "lost")


@pytest.mark.parametrize("final", ["delivered", "returned_to_sender", "available_for_pickup"])
def test_lost_then_delivered_is_not_lost(kit, final) -> None:  # type: ignore[no-untyped-def]
    kit.contract()
    _in_transit(kit, service="GND")
    kit.scan("T1", "2026-10-07T10:00:00-04:00", "lost")
    assert kit.one("2026-10-20", "lost")
    kit.scan("T1", "2026-10-19T10:00:00-04:00", final)
    assert kit.findings("2026-10-20") == []


def test_label_only_is_not_lost(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract()
    kit.ship("T1")
    kit.scan("T1", "2026-10-05T09:00:00-04:00", "label_created")
    assert kit.findings("2026-12-01") == []


def test_lost_takes_precedence_over_damaged(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract()
    _in_transit(kit)
    kit.scan("T1", "2026-10-07T10:00:00-04:00", "exception", "damage")
    assert kinds(kit, "2026-10-30") == ["lost"]
    assert kinds(kit, "2026-10-08") == ["damaged"]


@pytest.mark.parametrize(("declared", "item", "due"), [
    ("0.00", "250.00", 10000),      # nothing declared: the default liability
    ("200.00", "250.00", 20000),    # declared above the default liability
    ("50.00", "250.00", 10000),     # declared below it: the default liability still holds
    ("300.00", "250.00", 25000),    # never more than the item's value
    ("", "", 0),                    # missing values count as 0
    ("300.00", "", 0),
])
def test_value_due(kit, declared, item, due) -> None:  # type: ignore[no-untyped-def]
    kit.contract(claims={"value_claims_refund_shipping": False})
    _in_transit(kit, declared_value=declared, item_value=item)
    kit.scan("T1", "2026-10-07T10:00:00-04:00", "lost")
    assert kit.one("2026-10-08", "lost")["amount_cents"] == due
