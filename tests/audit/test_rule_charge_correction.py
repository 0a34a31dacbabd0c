"""charge_correction, through run_audit (docs/rules/charge_correction.md)."""

from __future__ import annotations

from typing import Any

import pytest


def case(kit: Any, billed: str | None, tolerance: str | None = None, **ship: Any) -> list[dict[str, Any]]:
    over = {"corrections": {"weight_tolerance": tolerance}} if tolerance else {}
    kit.contract(**over)
    kit.ship("T1", service="GND", **({"weight": "10", "length": "12", "width": "12", "height": "12",
                                      "dim_unit": "in"} | ship))   # dim weight 1728/139 -> 13 lb
    kit.delivered("T1", "2026-10-08T12:00:00-04:00")
    kit.line("T1", "I1", "2026-10-10", "transportation", "19.00", billed_weight="13", zone="2")
    kit.line("T1", "I2", "2026-10-17", "other", "14.20", billed_weight=billed, adjustment="charge_correction")
    return kit.findings("2026-10-20", "charge_correction")


@pytest.mark.parametrize(("billed", "tolerance", "want"), [
    ("20", None, 1420),
    ("13", None, None),       # what the manifest justifies
    ("14", "1", None),        # within the tolerance
    ("15", "1", 1420),
    (None, None, None),       # no corrected weight: not judged
])
def test_charge_correction(kit: Any, billed: str | None, tolerance: str | None, want: int | None) -> None:
    got = case(kit, billed, tolerance)
    assert [g["amount_cents"] for g in got] == ([] if want is None else [want])
    if got:
        assert got[0]["claimable"] and "the manifest justifies 13 lb" in got[0]["reason"]


def test_no_weight_and_no_dimensions_not_judged(kit: Any) -> None:
    assert case(kit, "20", weight=None, length=None, width=None, height=None, dim_unit=None) == []


def test_window_closed(kit: Any) -> None:
    case(kit, "20")
    assert not kit.one("2027-06-01", "charge_correction")["claimable"]
