"""peak_surcharge, through run_audit (docs/rules/peak_surcharge.md)."""

from __future__ import annotations

from typing import Any

PEAK = {"das_postal_codes": "das/ups.txt",
        "peak": [{"from": "2026-10-01", "to": "2026-12-31", "services": ["NDA"], "max": "2.00"}]}


def _case(kit: Any, ship_date: str, amount: str, service: str = "NDA", peak: bool = True) -> None:
    kit.contract(surcharges=PEAK) if peak else kit.contract()
    kit.ship("T1", service=service, ship_date=ship_date)
    kit.delivered("T1", f"{ship_date}T18:00:00-04:00")
    kit.line("T1", "I1", "2026-10-20", "other", amount, description="Demand Surcharge - Residential")


def test_outside_every_period_is_found(kit: Any) -> None:
    _case(kit, "2026-09-28", "1.50")
    f = kit.one("2026-10-25", "peak_surcharge")
    assert (f["amount_cents"], f["claimable"], str(f["deadline"])) == (150, True, "2027-04-18")


def test_above_the_rate_is_found_in_a_period(kit: Any) -> None:
    _case(kit, "2026-10-05", "3.25")
    assert kit.one("2026-10-25", "peak_surcharge")["amount_cents"] == 125


def test_in_a_period_at_its_rate_is_not_found(kit: Any) -> None:
    _case(kit, "2026-10-05", "2.00")
    assert kit.findings("2026-10-25", "peak_surcharge") == []


def test_a_service_the_period_does_not_cover_is_found(kit: Any) -> None:
    _case(kit, "2026-10-05", "2.00", service="GND")
    assert kit.one("2026-10-25", "peak_surcharge")["amount_cents"] == 200


def test_no_periods_in_the_contract_is_not_judged(kit: Any) -> None:
    _case(kit, "2026-09-28", "1.50", peak=False)
    assert kit.findings("2026-10-25", "peak_surcharge") == []


def test_window_closed_is_not_claimable(kit: Any) -> None:
    _case(kit, "2026-09-28", "1.50")
    assert not kit.one("2027-05-01", "peak_surcharge")["claimable"]
