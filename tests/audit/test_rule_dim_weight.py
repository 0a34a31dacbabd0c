"""``dim_weight`` (spec/audits.md, docs/rules/dim_weight.md): its edge cases, through the public ``run_audit``
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


def test_dim_weight_inches(kit) -> None:  # type: ignore[no-untyped-def]
    # 12.2 x 10.1 x 10.0 in, "up": 13 x 11 x 10 = 1430 / 139 = 10.29 -> 11 lb; actual 4 lb
    _transport(kit, "27.00", billed_weight="14", weight="4", length="12.2", width="10.1", height="10.0",
               dim_unit="in")
    f = kit.one("2026-10-20", "dim_weight")
    assert f["amount_cents"] == 2700 - 1700   # zone 4 at 11 lb = 17.00
    assert json.loads(f["evidence"])["correct_weight"] == "11"


def test_billed_below_the_correct_weight_is_not_judged(kit) -> None:  # type: ignore[no-untyped-def]
    _transport(kit, "27.00", billed_weight="3", weight="4")
    assert kit.findings("2026-10-20") == []


def test_no_billed_weight_is_taken_as_the_correct_weight(kit) -> None:  # type: ignore[no-untyped-def]
    _transport(kit, "12.00", weight="5")
    assert kit.one("2026-10-20", "rate_overcharge")["amount_cents"] == 100


def test_no_weight_and_no_dims_is_not_judged(kit) -> None:  # type: ignore[no-untyped-def]
    _transport(kit, "99.00", billed_weight="5", weight=None)
    assert kit.findings("2026-10-20") == []


@pytest.mark.parametrize(("dims", "rounding", "correct"), [
    (("30.5", "20.4", "10.5"), "half_up", "1.5"),    # 31 x 20 x 11 = 6820 / 5000 = 1.364 -> 1.5
    (("30.4", "20.4", "10.4"), "half_up", "1.5"),    # 30 x 20 x 10 = 6000 / 5000 = 1.2 -> 1.5
    (("20.4", "20.4", "10.4"), "half_up", "1"),      # 20 x 20 x 10 = 0.8; the actual 0.9 kg -> 1
    (("30.1", "20.1", "10.1"), "up", "1.5"),         # 31 x 21 x 11 = 7161 / 5000 = 1.43 -> 1.5
    (("50", "50", "30"), "half_up", "15"),           # 75000 / 5000 = 15.0 exactly
    (("50", "50", "30.6"), "half_up", "15.5"),       # 50 x 50 x 31 = 77500 / 5000 = 15.5
    (("50", "50", "31.5"), "half_up", "16"),         # 50 x 50 x 32 = 80000 / 5000 = 16
])
def test_kg_cm_dims_rounding_and_half_kg_increments(kit, dims, rounding, correct) -> None:  # type: ignore[no-untyped-def]
    kit.kg_contract(dim_rounding=rounding)
    length, width, height = dims
    _transport(kit, "99.00", billed_weight="20", weight="0.9", carrier="dpd_uk", length=length, width=width,
               height=height, dim_unit="cm", zone="MAINLAND", contract=False)
    f = kit.one("2026-10-20", "dim_weight")
    assert json.loads(f["evidence"])["correct_weight"] == correct


def test_kg_contract_converts_pounds_and_inches(kit) -> None:  # type: ignore[no-untyped-def]
    # 10 lb = 4.536 kg; 12 in = 30.48 cm -> 30 (half up); 30^3 / 5000 = 5.4 -> 5.5 kg
    kit.kg_contract()
    kit.ship("T1", carrier="dpd_uk", weight="10", weight_unit="lb", length="12", width="12", height="12",
             dim_unit="in")
    kit.scan("T1", "2026-10-06T09:00:00+01:00", "delivered", carrier="dpd_uk")
    # billed 12 lb = 5.443 kg, converted then rounded up to 5.5: equal to the correct weight
    kit.line("T1", "I1", "2026-10-10", "transportation", "15.00", billed_weight="12", weight_unit="lb",
             zone="MAINLAND", carrier="dpd_uk")
    # billed 13 lb = 5.897 kg -> 6.0: above the correct weight
    kit.ship("T2", carrier="dpd_uk", weight="10", weight_unit="lb", length="12", width="12", height="12",
             dim_unit="in")
    kit.scan("T2", "2026-10-06T09:00:00+01:00", "delivered", carrier="dpd_uk")
    kit.line("T2", "I1", "2026-10-10", "transportation", "16.00", billed_weight="13", weight_unit="lb",
             zone="MAINLAND", carrier="dpd_uk")
    got = {f["tracking_number"]: f for f in kit.findings("2026-10-20")}
    # the card at 5.5 kg is 4 + 11 = 15.00
    assert "T1" not in got
    assert got["T2"]["kind"] == "dim_weight"
    assert got["T2"]["amount_cents"] == 100
    assert json.loads(got["T2"]["evidence"])["correct_weight"] == "5.5"


def test_kg_billed_weight_in_the_contract_unit_is_not_rounded(kit) -> None:  # type: ignore[no-untyped-def]
    # billed 5.2 kg as written (not a multiple of 0.5) vs a correct 5.5: billed below, not judged
    kit.kg_contract()
    _transport(kit, "99.00", billed_weight="5.2", weight_unit="kg", weight="5.3", carrier="dpd_uk",
               zone="MAINLAND", contract=False)
    assert kit.findings("2026-10-20") == []


def test_weights_of_ten_and_more_read_plainly(kit) -> None:  # type: ignore[no-untyped-def]
    # found by the differential run against the first implementation: 10 lb was shown as "1E+1"
    _transport(kit, "30.00", billed_weight="20", weight="10")   # card at 10 lb: 16.00
    f = kit.one("2026-10-20", "dim_weight")
    assert json.loads(f["evidence"])["correct_weight"] == "10"
    assert f["reason"].startswith("billed 20 lb, correct billable weight 10:")


def test_converted_billed_weight_is_shown_in_the_contract_unit(kit) -> None:  # type: ignore[no-untyped-def]
    kit.kg_contract()
    _transport(kit, "30.00", billed_weight="13", weight_unit="lb", weight="5", carrier="dpd_uk", zone="MAINLAND",
               contract=False)
    f = kit.one("2026-10-20", "dim_weight")
    assert f["reason"].startswith("billed 6 kg, correct billable weight 5:")   # 13 lb = 5.9 kg -> 6
