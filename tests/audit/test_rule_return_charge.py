"""return_charge, through run_audit (docs/rules/return_charge.md)."""

from __future__ import annotations

from typing import Any

import pytest


def _case(kit: Any, reason: str | None, *, adjustment: str | None = "return", description: str | None = None) -> None:
    kit.contract()
    kit.ship("T1", service="GND", ship_date="2026-10-05")
    kit.scan("T1", "2026-10-05T17:00:00-04:00", "picked_up")
    kit.scan("T1", "2026-10-07T11:00:00-04:00", "delivery_attempted", reason)
    kit.scan("T1", "2026-10-09T11:00:00-04:00", "returned_to_sender")
    kit.line("T1", "I1", "2026-10-14", "other", "12.40", adjustment=adjustment, description=description)


@pytest.mark.parametrize(("reason", "found"), [("carrier", True), ("customer", False), ("address", False),
                                               ("weather", False), (None, False)])
def test_return_charge_by_cause(kit: Any, reason: str | None, found: bool) -> None:
    _case(kit, reason)
    got = kit.findings("2026-10-20", "return_charge")
    assert bool(got) is found
    if found:
        assert (got[0]["amount_cents"], got[0]["claimable"], str(got[0]["deadline"])) == (1240, True, "2027-04-12")


def test_description_naming_a_return(kit: Any) -> None:
    _case(kit, "carrier", adjustment=None, description="Undeliverable Return")
    assert kit.one("2026-10-20", "return_charge")["amount_cents"] == 1240


def test_a_later_carrier_exception_after_the_return_does_not_count(kit: Any) -> None:
    _case(kit, "customer")
    kit.scan("T1", "2026-10-10T11:00:00-04:00", "exception", "carrier")
    assert kit.findings("2026-10-20", "return_charge") == []


def test_window_closed_is_not_claimable(kit: Any) -> None:
    _case(kit, "carrier")
    assert not kit.one("2027-05-01", "return_charge")["claimable"]
