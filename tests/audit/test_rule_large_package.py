"""large_package, through run_audit (docs/rules/large_package.md)."""

from __future__ import annotations

from typing import Any

import pytest

LPS = {"das_postal_codes": "das/ups.txt", "large_package": {"longest": "96", "length_plus_girth": "130"}}


@pytest.mark.parametrize(("dims", "found"), [
    (("60", "20", "10"), True),     # 60 + 2 x 30 = 120
    (("70", "20", "10"), True),     # 70 + 60 = 130: at the threshold, not above it
    (("71", "20", "10"), False),    # 131
    (("97", "5", "5"), False),      # longest above 96
])
def test_large_package(kit: Any, dims: tuple[str, str, str], found: bool) -> None:
    kit.contract(surcharges=LPS)
    kit.ship("T1", service="GND", weight="30", length=dims[0], width=dims[1], height=dims[2], dim_unit="in")
    kit.delivered("T1", "2026-10-08T12:00:00-04:00")
    kit.line("T1", "I1", "2026-10-10", "large_package", "120.00")
    got = kit.findings("2026-10-20", "large_package")
    assert bool(got) is found
    if found:
        assert got[0]["amount_cents"] == 12000 and "within every threshold" in got[0]["reason"]


def test_window_closed(kit: Any) -> None:
    kit.contract(surcharges=LPS)
    kit.ship("T1", service="GND", weight="30", length="20", width="20", height="10", dim_unit="in")
    kit.delivered("T1", "2026-10-08T12:00:00-04:00")
    kit.line("T1", "I1", "2026-10-10", "large_package", "120.00")
    assert not kit.one("2027-06-01", "large_package")["claimable"]
