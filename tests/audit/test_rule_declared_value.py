"""declared_value, through run_audit (docs/rules/declared_value.md)."""

from __future__ import annotations

from typing import Any

import pytest

FEE = {"das_postal_codes": "das/ups.txt", "declared_value": {"free_up_to": "100.00", "per_100": "1.25",
                                                             "minimum": "3.00"}}


def case(kit: Any, declared: str | None, amount: str, surcharges: Any = None) -> list[dict[str, Any]]:
    kit.contract(surcharges=surcharges or FEE) if surcharges is not False else kit.contract()
    kit.ship("T1", service="GND", declared_value=declared)
    kit.delivered("T1", "2026-10-08T12:00:00-04:00")
    kit.line("T1", "I1", "2026-10-10", "declared_value", amount)
    return kit.findings("2026-10-20", "declared_value")


@pytest.mark.parametrize(("declared", "amount", "want"), [
    ("0.00", "3.45", 345),        # none declared: the whole charge
    ("100.00", "3.45", 345),      # within the free cover
    ("500.00", "5.00", None),     # 4 x 1.25 = 5.00: right
    ("500.00", "6.25", 125),      # above the fee
    ("150.00", "3.45", 45),       # 1 x 1.25 < minimum 3.00
    (None, "3.45", None),         # not given: not judged
])
def test_declared_value(kit: Any, declared: str | None, amount: str, want: int | None) -> None:
    got = case(kit, declared, amount)
    assert [g["amount_cents"] for g in got] == ([] if want is None else [want])
    assert all(g["claimable"] for g in got)


def test_without_a_fee_table_only_the_free_cover_is_judged(kit: Any) -> None:
    assert [g["amount_cents"] for g in case(kit, "0.00", "3.45", False)] == [345]
    kit.ships.clear()
    kit.lines.clear()
    kit.scans.clear()
    assert case(kit, "900.00", "30.00", False) == []


def test_lost_parcel_refund_suppresses_it(kit: Any) -> None:
    kit.contract(surcharges=FEE)
    kit.ship("T1", service="GND", declared_value="0.00")
    kit.scan("T1", "2026-10-05T17:00:00-04:00", "picked_up")
    kit.scan("T1", "2026-10-06T17:00:00-04:00", "lost")
    kit.line("T1", "I1", "2026-10-10", "declared_value", "3.45")
    assert kit.findings("2026-10-20", "lost")
    assert kit.findings("2026-10-20", "declared_value") == []
