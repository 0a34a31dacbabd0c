"""minimum_charge, through run_audit (docs/rules/minimum_charge.md)."""

from __future__ import annotations

from typing import Any

SERVICES = [{"code": "GND", "name": "Ground", "guaranteed": False, "transit_days": 3, "minimum_charge": "9.00"}]


def _case(kit: Any, transport: str | None, minimum: str, services: list[dict[str, Any]] = SERVICES) -> None:
    kit.contract(services=services)
    kit.ship("T1", service="GND", ship_date="2026-10-05")
    kit.delivered("T1", "2026-10-08T12:00:00-04:00")
    if transport is not None:
        kit.line("T1", "I1", "2026-10-14", "transportation", transport)
    kit.line("T1", "I1", "2026-10-14", "other", minimum, description="Minimum Charge Adjustment")


def test_a_minimum_on_a_charge_above_it_is_found(kit: Any) -> None:
    _case(kit, "9.50", "1.20")
    f = kit.one("2026-10-20", "minimum_charge")
    assert (f["amount_cents"], f["claimable"], str(f["deadline"])) == (120, True, "2027-04-12")


def test_a_top_up_above_the_minimum_is_found_for_the_excess(kit: Any) -> None:
    _case(kit, "7.00", "2.50")
    assert kit.one("2026-10-20", "minimum_charge")["amount_cents"] == 50


def test_the_right_top_up_is_not_found(kit: Any) -> None:
    _case(kit, "7.00", "2.00")
    assert kit.findings("2026-10-20", "minimum_charge") == []


def test_without_a_contract_minimum_it_is_not_judged(kit: Any) -> None:
    _case(kit, "9.50", "1.20", services=[{"code": "GND", "name": "Ground", "guaranteed": False}])
    assert kit.findings("2026-10-20", "minimum_charge") == []


def test_window_closed_is_not_claimable(kit: Any) -> None:
    _case(kit, "9.50", "1.20")
    assert not kit.one("2027-05-01", "minimum_charge")["claimable"]
