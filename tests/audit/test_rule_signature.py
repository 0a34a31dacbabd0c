"""signature, through run_audit and the canonical manifest (docs/rules/signature.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from recoup.shipments.canonical import read_shipments


@pytest.mark.parametrize(("asked", "amount", "found"), [("none", 550, 550), ("direct", 700, 150),
                                                         ("direct", 550, None), ("adult", 700, None),
                                                         (None, 550, None)])
def test_signature(kit: Any, asked: str | None, amount: int, found: int | None) -> None:
    kit.contract(surcharges={"das_postal_codes": "das/ups.txt", "signature": {"direct": "5.50"}})
    kit.ship("T1", service="GND", ship_date="2026-10-05", signature=asked)
    kit.delivered("T1", "2026-10-08T12:00:00-04:00")
    kit.line("T1", "I1", "2026-10-14", "signature", f"{amount // 100}.{amount % 100:02d}")
    got = kit.findings("2026-10-20", "signature")
    assert [g["amount_cents"] for g in got] == ([] if found is None else [found])
    if got:
        assert got[0]["claimable"] and str(got[0]["deadline"]) == "2027-04-12"


def test_window_closed_is_not_claimable(kit: Any) -> None:
    kit.contract()
    kit.ship("T1", service="GND", ship_date="2026-10-05", signature="none")
    kit.delivered("T1", "2026-10-08T12:00:00-04:00")
    kit.line("T1", "I1", "2026-10-14", "signature", "5.50")
    assert not kit.one("2027-05-01", "signature")["claimable"]


def test_the_manifest_column_is_read_and_checked(tmp_path: Path) -> None:
    p = tmp_path / "shipments.csv"
    p.write_text("tracking_number,carrier,service,ship_date,dest_postal,dest_country,signature\n"
                 "T1,ups,GND,2026-10-05,10001,US,Adult\nT2,ups,GND,2026-10-05,10001,US,\n"
                 "T3,ups,GND,2026-10-05,10001,US,maybe\n")
    r = read_shipments(p)
    assert [None if v != v else v for v in r.frame["signature"].tolist()] == ["adult", None]
    assert r.errors and r.errors[0].column == "signature"
