"""missing_incentive, through run_audit (docs/rules/missing_incentive.md)."""

from __future__ import annotations

from typing import Any

PUBLISHED = "weight,2,4,8\n" + "".join(f"{w},{20 + w}.00,{30 + w}.00,{40 + w}.00\n" for w in range(1, 11))
SERVICES = [
    {"code": "NDA", "name": "Next Day Air", "guaranteed": True, "transit_days": 1, "commit_time": "10:30",
     "rates": "rates/nda.csv"},
    {"code": "GND", "name": "Ground", "guaranteed": False, "transit_days": 3, "incentive_percent": "25",
     "published_rates": "rates/gnd_list.csv"},
]


def _case(kit: Any, amount: str, *, services: list[dict[str, Any]] = SERVICES, weight: str = "5") -> None:
    kit.contract(services=services, files={"rates/gnd_list.csv": PUBLISHED})
    kit.ship("T1", service="GND", ship_date="2026-10-05", weight=weight)
    kit.delivered("T1", "2026-10-08T12:00:00-04:00")
    kit.line("T1", "I1", "2026-10-14", "transportation", amount, billed_weight=weight, weight_unit="lb", zone="4")


def test_no_incentive_is_found(kit: Any) -> None:
    _case(kit, "35.00")        # published 35.00 in zone 4 at 5 lb, 25% off = 26.25
    f = kit.one("2026-10-20", "missing_incentive")
    assert (f["amount_cents"], f["claimable"], str(f["deadline"])) == (875, True, "2027-04-12")


def test_short_incentive_is_found_for_the_difference(kit: Any) -> None:
    _case(kit, "28.00")
    assert kit.one("2026-10-20", "missing_incentive")["amount_cents"] == 175


def test_the_incentive_applied_is_not_found(kit: Any) -> None:
    _case(kit, "26.25")
    assert kit.findings("2026-10-20", "missing_incentive") == []


def test_a_rate_check_claims_first(kit: Any) -> None:
    services = [dict(SERVICES[1], rates="rates/gnd.csv")]      # net card: 11.00 in zone 4 at 5 lb
    _case(kit, "35.00", services=services)
    assert kit.one("2026-10-20", "rate_overcharge")["amount_cents"] == 2400
    assert kit.findings("2026-10-20", "missing_incentive") == []


def test_window_closed_is_not_claimable(kit: Any) -> None:
    _case(kit, "35.00")
    assert not kit.one("2027-05-01", "missing_incentive")["claimable"]
