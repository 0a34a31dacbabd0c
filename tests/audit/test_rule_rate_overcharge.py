"""``rate_overcharge`` (spec/audits.md, docs/rules/rate_overcharge.md): its edge cases, through the public ``run_audit``
on hand-built frames and contracts written as TOML (conftest.Kit); ``test_decision_*`` pin
docs/audit-decisions.md."""

from __future__ import annotations

import json

import pytest


def _transport(kit, amount, *, billed_weight=None, zone="4", weight_unit=None, contract=None, **ship):  # type: ignore[no-untyped-def]
    if contract is None:
        kit.contract()
    carrier = ship.get("carrier", "ups")
    kit.ship("T1", service=ship.pop("service", "GND" if carrier == "ups" else "NEXT_DAY"), **ship)
    kit.scan("T1", "2026-10-06T09:00:00-04:00", "delivered", carrier=carrier)
    kit.line("T1", "I1", "2026-10-10", "transportation", amount, billed_weight=billed_weight, zone=zone,
             weight_unit=weight_unit, carrier=carrier)


def test_rate_overcharge_at_the_correct_weight(kit) -> None:  # type: ignore[no-untyped-def]
    _transport(kit, "12.00", billed_weight="5", weight="4.2")   # ceil 5 lb; zone 4 = 11.00
    f = kit.one("2026-10-20", "rate_overcharge")
    assert f["amount_cents"] == 100
    assert json.loads(f["evidence"])["rate"] == "11.00"


def test_billing_difference_below_a_cent_is_no_finding(kit) -> None:  # type: ignore[no-untyped-def]
    _transport(kit, "11.00", billed_weight="5", weight="5")
    assert kit.findings("2026-10-20") == []


@pytest.mark.parametrize("zone", ["004", "4", " 4", "04"])
def test_rate_card_zone_compares_as_number(kit, zone) -> None:  # type: ignore[no-untyped-def]
    _transport(kit, "12.00", billed_weight="5", weight="5", zone=zone)
    assert kit.one("2026-10-20", "rate_overcharge")["amount_cents"] == 100


def test_zone_without_a_column_is_not_judged_with_a_warning(kit) -> None:  # type: ignore[no-untyped-def]
    _transport(kit, "12.00", billed_weight="5", weight="5", zone="5")
    r = kit.run("2026-10-20")
    assert r.findings.empty
    assert any("no column for zone 5" in w for w in r.warnings)


def test_weight_beyond_the_last_row_is_not_judged_with_a_warning(kit) -> None:  # type: ignore[no-untyped-def]
    _transport(kit, "99.00", billed_weight="31", weight="31")   # the GND card ends at 30 lb
    r = kit.run("2026-10-20")
    assert r.findings.empty
    assert [w for w in r.warnings if "gnd.csv" in w] == [
        "ups: rate card gnd.csv: weights above 30 lb are beyond the last row: not judged"]


def test_no_rate_card_is_not_judged(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract(services=[{"code": "GND", "guaranteed": False, "transit_days": 3}])
    _transport(kit, "99.00", billed_weight="50", weight="5", contract=False)
    assert kit.findings("2026-10-20") == []


def test_rate_card_warnings_once_per_cause(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract()
    for tn, w, zone in (("T1", "31", "4"), ("T2", "35", "4"), ("T3", "40", "8"), ("T4", "5", "9"),
                        ("T5", "6", "9")):
        kit.ship(tn, service="GND", weight=w)
        kit.delivered(tn, "2026-10-08T12:00:00-04:00")
        kit.line(tn, "I1", "2026-10-10", "transportation", "99.00", billed_weight=w, zone=zone)
    r = kit.run("2026-10-20")
    assert r.findings.empty
    priced = {w: n for w, n in r.warnings.items() if "gnd.csv" in w}
    assert len(priced) == 2, priced
    assert sorted(priced.values()) == [2, 3]
