"""``fuel_surcharge`` (spec/audits.md, docs/rules/fuel_surcharge.md): its edge cases, through the public ``run_audit``
on hand-built frames and contracts written as TOML (conftest.Kit); ``test_decision_*`` pin
docs/audit-decisions.md."""

from __future__ import annotations

import pytest


def _fuel_case(kit, transport, fuel, *, percent="15.00", service="GND", ship_date="2026-10-05", fuel_rows=None):  # type: ignore[no-untyped-def]
    kit.contract(fuel=fuel_rows or [{"effective": "2026-01-01", "percent": percent}])
    kit.ship("T1", service=service, ship_date=ship_date)
    kit.delivered("T1", f"{ship_date}T18:00:00-04:00")
    if transport is not None:
        kit.line("T1", "I1", "2026-10-10", "transportation", transport)
    kit.line("T1", "I1", "2026-10-10", "fuel", fuel)


@pytest.mark.parametrize(("transport", "percent", "fuel", "finding"), [
    ("12.20", "12.5", "1.53", None),      # 1.525 rounds half-up to 1.53 (half-even would say 1.52)
    ("12.20", "12.5", "1.54", 1),
    ("12.20", "12.5", "1.52", None),      # billed below: no finding
    ("4.00", "12.625", "0.51", None),     # 0.505 -> 0.51 with a percent of three decimals
    ("4.00", "12.625", "0.52", 1),
    ("10.00", "15.00", "1.50", None),
])
def test_fuel_rounding_half_up(kit, transport, percent, fuel, finding) -> None:  # type: ignore[no-untyped-def]
    _fuel_case(kit, transport, fuel, percent=percent)
    got = kit.findings("2026-10-20", "fuel_surcharge")
    assert [f["amount_cents"] for f in got] == ([finding] if finding else [])


def test_fuel_base_is_the_transportation_of_the_same_invoice(kit) -> None:  # type: ignore[no-untyped-def]
    _fuel_case(kit, "10.00", "1.50")
    kit.line("T1", "I2", "2026-10-17", "fuel", "0.75")   # nothing to base it on: all of it
    got = kit.findings("2026-10-20", "fuel_surcharge")
    assert [(f["invoice_number"], f["amount_cents"]) for f in got] == [("I2", 75)]


def test_fuel_table_per_service(kit) -> None:  # type: ignore[no-untyped-def]
    rows = [{"effective": "2026-01-01", "percent": "10.00", "services": ["NDA"]},
            {"effective": "2026-01-01", "percent": "5.00", "services": ["GND"]},
            {"effective": "2026-10-06", "percent": "20.00"}]
    _fuel_case(kit, "10.00", "1.00", service="GND", fuel_rows=rows)          # 5%: 0.50 too much
    assert [f["amount_cents"] for f in kit.findings("2026-10-20", "fuel_surcharge")] == [50]
    kit.ship("T1", service="NDA")                                            # 10%: right
    assert kit.findings("2026-10-20", "fuel_surcharge") == []
    kit.ship("T1", service="GND", ship_date="2026-10-06")                    # 20% from 6 Oct
    assert kit.findings("2026-10-20", "fuel_surcharge") == []


def test_fuel_without_a_row_is_not_judged(kit) -> None:  # type: ignore[no-untyped-def]
    _fuel_case(kit, "10.00", "9.00", fuel_rows=[{"effective": "2026-11-01", "percent": "10.00"}])
    r = kit.run("2026-10-20")
    assert [f for f in r.findings["kind"] if f == "fuel_surcharge"] == []
    assert any("no fuel table row" in w for w in r.warnings)


def test_fuel_warnings_once_per_service(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract(fuel=[{"effective": "2026-11-01", "percent": "10.00"}])
    for tn, day in (("T1", "2026-10-05"), ("T2", "2026-10-06")):
        kit.ship(tn, service="GND", ship_date=day)
        kit.delivered(tn, f"{day}T18:00:00-04:00")
        kit.line(tn, "I1", "2026-10-10", "fuel", "1.00")
    r = kit.run("2026-10-20")
    fuel = {w: n for w, n in r.warnings.items() if "fuel" in w}
    assert list(fuel.values()) == [2], fuel


def test_decision_fuel_row_naming_the_service_wins_on_the_same_date(kit) -> None:  # type: ignore[no-untyped-def]
    rows = [{"effective": "2026-10-01", "percent": "10.00", "services": ["GND"]},
            {"effective": "2026-10-01", "percent": "20.00"}]
    _fuel_case(kit, "10.00", "2.00", fuel_rows=rows)      # 10% for GND: 1.00 too much
    assert [f["amount_cents"] for f in kit.findings("2026-10-20", "fuel_surcharge")] == [100]
    kit.ship("T1", service="NDA")                          # 20% for the others: right
    assert kit.findings("2026-10-20", "fuel_surcharge") == []
