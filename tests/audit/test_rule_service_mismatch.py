"""service_mismatch, through run_audit (docs/rules/service_mismatch.md)."""

from __future__ import annotations

from typing import Any

NO_CARDS = [
    {"code": "NDA", "name": "Next Day Air", "guaranteed": False, "transit_days": 1, "invoice_codes": ["01"]},
    {"code": "GND", "name": "Ground", "guaranteed": False, "transit_days": 3, "invoice_codes": ["03"]},
]


def case(kit: Any, billed: str, services: Any = None) -> None:
    kit.contract(services=services or NO_CARDS)
    kit.ship("T1", service="GND")
    kit.delivered("T1", "2026-10-08T12:00:00-04:00")
    kit.line("T1", "I1", "2026-10-10", "transportation", "31.00", zone="2", service=billed)


def test_found_for_a_person_without_rate_card(kit: Any) -> None:
    case(kit, "1")          # UPS invoice code 1 = 01 = NDA
    f = kit.one("2026-10-20", "service_mismatch")
    assert f["amount_cents"] == 0 and not f["claimable"]
    assert "billed as NDA (1 days), the manifest shipped GND (3 days)" in f["reason"]


def test_not_found_for_the_shipped_or_a_slower_service(kit: Any) -> None:
    case(kit, "003")
    assert kit.findings("2026-10-20", "service_mismatch") == []
    kit.ships.clear()
    kit.lines.clear()
    kit.scans.clear()
    kit.ship("T2", service="NDA")
    kit.delivered("T2", "2026-10-06T12:00:00-04:00")
    kit.line("T2", "I1", "2026-10-10", "transportation", "31.00", zone="2", service="GND")
    assert kit.findings("2026-10-20", "service_mismatch") == []


def test_unknown_invoice_service_is_a_warning(kit: Any) -> None:
    case(kit, "Ground Saver")
    res = kit.run("2026-10-20")
    assert not (res.findings["kind"] == "service_mismatch").any()
    assert any("Ground Saver" in w for w in res.warnings)


def test_rate_card_leaves_it_to_rate_overcharge(kit: Any) -> None:
    kit.contract()       # GND has a rate card: 6.00 at 1 lb zone 2
    kit.ship("T1", service="GND", weight="1")
    kit.delivered("T1", "2026-10-08T12:00:00-04:00")
    kit.line("T1", "I1", "2026-10-10", "transportation", "11.00", zone="2", service="NDA")
    assert kit.findings("2026-10-20", "service_mismatch") == []
    assert kit.one("2026-10-20", "rate_overcharge")["amount_cents"] == 500
