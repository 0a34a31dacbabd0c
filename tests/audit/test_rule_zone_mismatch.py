"""zone_mismatch, through run_audit (docs/rules/zone_mismatch.md)."""

from __future__ import annotations

from typing import Any

CHART = "origin,dest,zone\n606,100-119,4\n606,600-629,2\n606,900-961,8\n"


def _case(kit: Any, zone: str, amount: str, *, origin: str | None = "60607", dest: str = "10001",
          rates: bool = True) -> None:
    over: dict[str, Any] = {"zone_chart": "zones/ups.csv"}
    if not rates:
        over["services"] = [{"code": "GND", "name": "Ground", "guaranteed": False, "transit_days": 3}]
    kit.contract(files={"zones/ups.csv": CHART}, **over)
    kit.ship("T1", service="GND", ship_date="2026-10-05", origin_postal=origin, dest_postal=dest, weight="5")
    kit.delivered("T1", "2026-10-08T12:00:00-04:00")
    kit.line("T1", "I1", "2026-10-14", "transportation", amount, billed_weight="5", weight_unit="lb", zone=zone)


def test_a_dearer_zone_is_found(kit: Any) -> None:
    _case(kit, "8", "12.00")           # GND card at 5 lb: zone 8 12.00, zone 4 11.00
    f = kit.one("2026-10-20", "zone_mismatch")
    assert (f["amount_cents"], f["claimable"], str(f["deadline"])) == (100, True, "2027-04-12")


def test_added_to_a_rate_overcharge_without_double_counting(kit: Any) -> None:
    _case(kit, "8", "13.50")
    assert kit.one("2026-10-20", "rate_overcharge")["amount_cents"] == 150
    assert kit.one("2026-10-20", "zone_mismatch")["amount_cents"] == 100


def test_the_chart_zone_is_not_found(kit: Any) -> None:
    _case(kit, "004", "11.00")
    assert kit.findings("2026-10-20", "zone_mismatch") == []


def test_no_origin_is_not_judged(kit: Any) -> None:
    _case(kit, "8", "12.00", origin=None)
    assert kit.findings("2026-10-20", "zone_mismatch") == []


def test_without_a_rate_card_it_is_for_a_person(kit: Any) -> None:
    _case(kit, "8", "12.00", rates=False)
    f = kit.one("2026-10-20", "zone_mismatch")
    assert (f["amount_cents"], f["claimable"]) == (0, False)
