"""Contract terms real contracts have (issue 13, third part), through the audit entry point: liability per
kilogram beside the per-parcel cap, claim windows counted from the ship (or invoice) date, guarantees
relaxed by N business days rather than suspended. Each is optional; without it the answers are today's."""

from __future__ import annotations

import datetime as dt

import pytest

from recoup.errors import ConfigError

D = dt.date.fromisoformat


def _lost(kit, **ship):  # type: ignore[no-untyped-def]
    kit.ship("T1", **ship)
    kit.scan("T1", "2026-10-05T09:00:00-04:00", "label_created", carrier=ship.get("carrier", "ups"))
    kit.scan("T1", "2026-10-05T17:00:00-04:00", "picked_up", carrier=ship.get("carrier", "ups"))
    kit.scan("T1", "2026-10-07T10:00:00-04:00", "lost", carrier=ship.get("carrier", "ups"))


# ----------------------------------------------------------------------------- (a) liability per kg

@pytest.mark.parametrize(("weight", "unit", "declared", "item", "due"), [
    ("5", "lb", "0.00", "250.00", 4536),      # 5 lb = 2.26796185 kg × 20.00 = 45.359237 → 45.36
    ("20", "lb", "0.00", "250.00", 10000),    # 181.44 by weight: the per-parcel cap 100.00
    ("5", "lb", "200.00", "250.00", 20000),   # a declared value above the limit raises it
    ("5", "lb", "20.00", "250.00", 4536),     # declared below the limit: the limit holds
    ("5", "lb", "0.00", "30.00", 3000),       # never more than the item's value
    ("2", "kg", "0.00", "250.00", 4000),      # a weight in kg is not converted
    ("", "lb", "0.00", "250.00", 10000),      # no weight: the per-parcel cap alone
])
def test_liability_per_kg(kit, weight, unit, declared, item, due) -> None:  # type: ignore[no-untyped-def]
    kit.contract(claims={"value_claims_refund_shipping": False, "liability_per_kg": "20.00"})
    _lost(kit, weight=weight, weight_unit=unit, declared_value=declared, item_value=item)
    f = kit.one("2026-10-08", "lost")
    assert f["amount_cents"] == due
    if weight and due == 4536:
        assert "liability 20.00/kg × 2.26796185 kg = 45.36" in f["reason"]
    if not weight:
        assert "no weight" in f["reason"]


def test_liability_per_kg_in_a_kg_contract_and_for_damage(kit) -> None:  # type: ignore[no-untyped-def]
    kit.kg_contract(claims={"value_claims_refund_shipping": False, "liability_per_kg": "8.33",
                            "default_liability": "1000.00"})
    kit.ship("T1", carrier="dpd_uk", weight="3.5", item_value="400.00")
    kit.scan("T1", "2026-10-05T09:00:00+01:00", "label_created", carrier="dpd_uk")
    kit.scan("T1", "2026-10-06T08:00:00+01:00", "exception", "damage", carrier="dpd_uk")
    kit.scan("T1", "2026-10-06T12:00:00+01:00", "delivered", carrier="dpd_uk")
    assert kit.one("2026-10-08", "damaged")["amount_cents"] == 2916     # 8.33 × 3.5 = 29.155 → 29.16 (half up)


def test_without_liability_per_kg_the_answers_are_todays(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract(claims={"value_claims_refund_shipping": False})
    _lost(kit, weight="5", item_value="250.00")
    f = kit.one("2026-10-08", "lost")
    assert f["amount_cents"] == 10000 and "/kg" not in f["reason"]


def test_liability_per_kg_needs_the_per_parcel_cap_and_a_sane_number(kit) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="liability_per_kg: needs default_liability"):
        kit.contract(claims={"liability_per_kg": "20.00", "default_liability": None})
    with pytest.raises(ConfigError, match="liability_per_kg: must be between 0 and"):
        kit.contract(claims={"liability_per_kg": "-1"})


# ----------------------------------------------------------------------------- (b) windows from the ship date

@pytest.mark.parametrize(("anchor", "billed", "deadline"), [
    (None, True, "2026-12-04"),          # default: ship date + 60
    ("ship", True, "2026-12-04"),
    ("invoice", True, "2026-12-11"),     # first invoice billing it (12 Oct) + 60
    ("invoice", False, "2026-12-04"),    # not billed: the ship date
])
def test_loss_window_from(kit, anchor, billed, deadline) -> None:  # type: ignore[no-untyped-def]
    kit.contract(claims={} if anchor is None else {"loss_window_from": anchor})
    _lost(kit)
    if billed:
        kit.line("T1", "I1", "2026-10-12", "transportation", "25.00")
    assert kit.one("2026-10-08", "lost")["deadline"] == D(deadline)


@pytest.mark.parametrize(("anchor", "billed", "deadline"), [
    (None, True, "2026-12-08"),          # default: delivery (9 Oct) + 60
    ("delivered", True, "2026-12-08"),
    ("ship", True, "2026-12-04"),        # ship date (5 Oct) + 60
    ("invoice", True, "2026-12-11"),     # first invoice (12 Oct) + 60
    ("invoice", False, "2026-12-08"),    # not billed: delivery
])
def test_damage_window_from(kit, anchor, billed, deadline) -> None:  # type: ignore[no-untyped-def]
    kit.contract(claims={} if anchor is None else {"damage_window_from": anchor})
    kit.ship("T1", service="GND")
    kit.scan("T1", "2026-10-05T09:00:00-04:00", "label_created")
    kit.scan("T1", "2026-10-07T10:00:00-04:00", "damaged")
    kit.scan("T1", "2026-10-09T10:00:00-04:00", "delivered")
    if billed:
        kit.line("T1", "I1", "2026-10-12", "transportation", "25.00")
    assert kit.one("2026-10-13", "damaged")["deadline"] == D(deadline)


def test_late_window_from_the_ship_date(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract(claims={"late_window_from": "ship", "late_window_days": 14})   # DHL: 14 days from shipment
    kit.ship("T1")
    kit.delivered("T1", "2026-10-08T12:00:00-04:00")
    kit.line("T1", "I1", "2026-10-12", "transportation", "25.00")
    f = kit.one("2026-10-19", "late_delivery")
    assert f["deadline"] == D("2026-10-19") and f["claimable"] is True
    assert kit.one("2026-10-20", "late_delivery")["claimable"] is False


@pytest.mark.parametrize(("key", "value"), [("loss_window_from", "delivered"), ("damage_window_from", "promised"),
                                            ("late_window_from", "ship_date")])
def test_window_anchor_choices_are_checked(kit, key, value) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match=f"claims.{key}: must be one of"):
        kit.contract(claims={key: value})


# ----------------------------------------------------------------------------- (c) relaxed guarantees

RELAX = {"from": "2026-10-01", "to": "2026-10-10", "services": ["NDA"], "extra_days": 1}


@pytest.mark.parametrize(("ship", "delivered", "late"), [
    ("2026-10-05", "2026-10-07T10:30:00-04:00", False),   # promised 6 Oct 10:30, relaxed to 7 Oct 10:30
    ("2026-10-05", "2026-10-07T10:31:00-04:00", True),
    ("2026-10-08", "2026-10-12T10:00:00-04:00", False),   # due Fri 9 Oct, relaxed over the weekend to Mon 12
    ("2026-10-12", "2026-10-14T10:00:00-04:00", True),    # shipped after the period: due 13 Oct, not relaxed
])
def test_relaxed_guarantee_computed_deadline(kit, ship, delivered, late) -> None:  # type: ignore[no-untyped-def]
    kit.contract(gsr_relaxations=[RELAX])
    kit.ship("T1", ship_date=ship)
    kit.delivered("T1", delivered)
    got = kit.findings("2026-10-15", "late_delivery")
    assert bool(got) is late
    if late and ship == "2026-10-05":
        f = got[0]
        assert "promised by 2026-10-07T10:30" in f["reason"] and "relaxed by 1 business day" in f["reason"]
        assert f["deadline"] == D("2026-10-22")          # the relaxed promised date + 15
        assert f["claimable"] is True


def test_relaxed_guarantee_moves_the_manifests_promise(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract(gsr_relaxations=[{**RELAX, "extra_days": 2, "services": ["*"]}])
    kit.ship("T1", promised_delivery="2026-10-06T10:30:00-04:00")
    kit.ship("T2", promised_delivery="2026-10-06T10:30:00-04:00")
    kit.delivered("T1", "2026-10-08T10:30:00-04:00")          # relaxed to 8 Oct 10:30: on time
    kit.delivered("T2", "2026-10-08T11:00:00-04:00")
    f = kit.one("2026-10-15", "late_delivery")
    assert f["tracking_number"] == "T2"
    assert "promised by 2026-10-08T10:30-04:00" in f["reason"]


def test_relaxation_of_another_service_changes_nothing(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract(gsr_relaxations=[{**RELAX, "services": ["2DA"]}])
    kit.ship("T1")
    kit.delivered("T1", "2026-10-06T10:31:00-04:00")
    f = kit.one("2026-10-15", "late_delivery")
    assert "relaxed" not in f["reason"] and f["deadline"] == D("2026-10-21")


def test_relaxation_rows_are_checked(kit) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="extra_days: at least 1"):
        kit.contract(gsr_relaxations=[{**RELAX, "extra_days": 0}])
    with pytest.raises(ConfigError, match="unknown key"):
        kit.contract(gsr_relaxations=[{**RELAX, "extra_hours": 2}])
    with pytest.raises(ConfigError, match="ends before it starts"):
        kit.contract(gsr_relaxations=[{**RELAX, "to": "2026-09-01"}])
