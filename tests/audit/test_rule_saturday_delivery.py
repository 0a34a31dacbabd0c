"""saturday_delivery, through run_audit (docs/rules/saturday_delivery.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

D = dt.date.fromisoformat


@pytest.mark.parametrize(("delivered", "found"), [
    ("2026-10-09T12:00:00-04:00", True),      # a Friday
    ("2026-10-10T11:00:00-04:00", False),     # a Saturday
    ("2026-10-10T23:30:00-04:00", False),     # Saturday local, Sunday in UTC
])
def test_saturday_delivery(kit: Any, delivered: str, found: bool) -> None:
    kit.contract()
    kit.ship("T1", service="GND", ship_date="2026-10-07")
    kit.delivered("T1", delivered)
    kit.line("T1", "I1", "2026-10-14", "saturday", "16.00")
    got = kit.findings("2026-10-20", "saturday_delivery")
    assert bool(got) is found
    if found:
        assert (got[0]["amount_cents"], got[0]["claimable"], got[0]["deadline"]) == (1600, True, D("2027-04-12"))
        assert "delivered on Friday 2026-10-09" in got[0]["reason"]


def test_not_delivered_is_not_judged(kit: Any) -> None:
    kit.contract()
    kit.ship("T1", service="GND", ship_date="2026-10-07")
    kit.scan("T1", "2026-10-07T17:00:00-04:00", "picked_up")
    kit.line("T1", "I1", "2026-10-14", "saturday", "16.00")
    assert kit.findings("2026-10-12", "saturday_delivery") == []


def test_window_closed_is_not_claimable(kit: Any) -> None:
    kit.contract()
    kit.ship("T1", service="GND", ship_date="2026-10-07")
    kit.delivered("T1", "2026-10-09T12:00:00-04:00")
    kit.line("T1", "I1", "2026-10-14", "saturday", "16.00")
    assert not kit.one("2027-05-01", "saturday_delivery")["claimable"]


def test_void_label_refunds_it_first(kit: Any) -> None:
    kit.contract()
    kit.ship("T1", service="GND", ship_date="2026-10-07")
    kit.scan("T1", "2026-10-07T09:00:00-04:00", "label_created")
    kit.line("T1", "I1", "2026-10-14", "saturday", "16.00")
    assert kit.findings("2026-10-30", "void_label")
    assert kit.findings("2026-10-30", "saturday_delivery") == []
