"""additional_handling, through run_audit (docs/rules/additional_handling.md)."""

from __future__ import annotations

from typing import Any

import pytest

AHS = {"das_postal_codes": "das/ups.txt",
       "additional_handling": {"longest": "48", "second_longest": "30", "weight": "50"}}


def case(kit: Any, surcharges: Any = AHS, **ship: Any) -> list[dict[str, Any]]:
    kit.contract(surcharges=surcharges)
    kit.ship("T1", service="GND", **ship)
    kit.delivered("T1", "2026-10-08T12:00:00-04:00")
    kit.line("T1", "I1", "2026-10-10", "additional_handling", "31.45")
    return kit.findings("2026-10-20", "additional_handling")


@pytest.mark.parametrize(("ship", "found"), [
    ({"weight": "20", "length": "40", "width": "20", "height": "10", "dim_unit": "in"}, True),
    ({"weight": "20", "length": "47.2", "width": "30", "height": "10", "dim_unit": "in"}, True),   # 48 and 30: not above
    ({"weight": "20", "length": "48.1", "width": "20", "height": "10", "dim_unit": "in"}, False),  # rounds up to 49
    ({"weight": "20", "length": "40", "width": "31", "height": "10", "dim_unit": "in"}, False),
    ({"weight": "50.5", "length": "40", "width": "20", "height": "10", "dim_unit": "in"}, False),
    ({"weight": "10", "weight_unit": "kg", "length": "100", "width": "50", "height": "20", "dim_unit": "cm"}, True),
])
def test_additional_handling(kit: Any, ship: dict[str, Any], found: bool) -> None:
    got = case(kit, **ship)
    assert bool(got) is found
    if found:
        assert (got[0]["amount_cents"], got[0]["claimable"]) == (3145, True)


def test_missing_dimensions_not_judged(kit: Any) -> None:
    assert case(kit, weight="20") == []


def test_contract_without_thresholds_not_judged(kit: Any) -> None:
    assert case(kit, {"das_postal_codes": "das/ups.txt"}, weight="20", length="10", width="10", height="10",
                dim_unit="in") == []
