"""``late_delivery`` (spec/audits.md, docs/rules/late_delivery.md): its edge cases, through the public ``run_audit``
on hand-built frames and contracts written as TOML (conftest.Kit); ``test_decision_*`` pin
docs/audit-decisions.md."""

from __future__ import annotations

import datetime as dt
import json

import pytest

D = dt.date.fromisoformat
ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def kinds(kit, as_of, tn=None):  # type: ignore[no-untyped-def]
    return sorted(f["kind"] for f in kit.findings(as_of, tn=tn))


def _seven_day(kit, tz="America/New_York", commit="10:30", country="US"):  # type: ignore[no-untyped-def]
    """A carrier delivering every day (so a promised date can fall on a Sunday, when clocks change)."""
    kit.contract(calendar={"business_days": ALL_DAYS, "holidays": ["2026-01-01"], "timezone": tz,
                           "country": country},
                 services=[{"code": "NDA", "guaranteed": True, "transit_days": 1, "commit_time": commit}])


@pytest.mark.parametrize(("delivered", "late"), [
    ("2026-03-08T10:30:00-04:00", False),   # 14:30Z: on time in EDT
    ("2026-03-08T10:30:01-04:00", True),
    ("2026-03-08T15:00:00+00:00", True),    # 11:00 EDT: late, though before 10:30 EST (15:30Z)
])
def test_late_commit_time_on_spring_forward_day_new_york(kit, delivered, late) -> None:  # type: ignore[no-untyped-def]
    _seven_day(kit)
    kit.ship("T1", ship_date="2026-03-07")           # Saturday; clocks go forward on Sunday 8 March
    kit.delivered("T1", delivered)
    got = kit.findings("2026-03-10", "late_delivery")
    assert bool(got) is late
    if late:
        assert "promised by 2026-03-08T10:30-04:00" in got[0]["reason"]


@pytest.mark.parametrize(("delivered", "late"), [
    ("2026-11-01T15:00:00+00:00", False),   # 10:00 EST; would be late in EDT (14:30Z)
    ("2026-11-01T15:30:00+00:00", False),   # exactly 10:30 EST
    ("2026-11-01T15:30:01+00:00", True),
])
def test_late_commit_time_on_fall_back_day_new_york(kit, delivered, late) -> None:  # type: ignore[no-untyped-def]
    _seven_day(kit)
    kit.ship("T1", ship_date="2026-10-31")
    kit.delivered("T1", delivered, offset=False)      # a UTC instant (EasyPost-like)
    assert bool(kit.findings("2026-11-03", "late_delivery")) is late


@pytest.mark.parametrize(("ship", "delivered", "late"), [
    ("2026-03-28", "2026-03-29T09:30:00+00:00", False),  # 10:30 BST
    ("2026-03-28", "2026-03-29T09:45:00+00:00", True),   # 10:45 BST
    ("2026-10-24", "2026-10-25T10:15:00+00:00", False),  # 10:15 GMT; late if BST were assumed
    ("2026-10-24", "2026-10-25T10:30:01+00:00", True),
])
def test_late_commit_time_on_dst_days_london(kit, ship, delivered, late) -> None:  # type: ignore[no-untyped-def]
    _seven_day(kit, tz="Europe/London", country="GB")
    kit.ship("T1", ship_date=ship, dest_timezone=None)   # the contract's zone applies
    kit.delivered("T1", delivered, offset=False)
    assert bool(kit.findings("2026-10-30", "late_delivery")) is late


def test_late_dest_timezone_of_the_manifest_wins_over_the_contract(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract()
    kit.ship("T1", dest_timezone="America/Los_Angeles")   # 10:30 PDT = 17:30Z
    kit.delivered("T1", "2026-10-06T17:00:00+00:00")
    assert kit.findings("2026-10-08", "late_delivery") == []
    kit.ship("T1", dest_timezone=None)                    # New York: 14:30Z
    assert kit.one("2026-10-08", "late_delivery")


def test_decision_commit_time_in_the_spring_gap_moves_forward(kit) -> None:  # type: ignore[no-untyped-def]
    # 02:30 does not exist on 8 March 2026 in New York: the deadline is 03:00 EDT (07:00Z)
    _seven_day(kit, commit="02:30")
    kit.ship("T1", ship_date="2026-03-07")
    kit.delivered("T1", "2026-03-08T07:00:00+00:00")
    assert kit.findings("2026-03-10", "late_delivery") == []
    kit.scans[-1]["occurred_at"] = "2026-03-08T07:00:01+00:00"
    f = kit.one("2026-03-10", "late_delivery")
    assert "promised by 2026-03-08T03:00-04:00" in f["reason"]


def test_decision_ambiguous_commit_time_is_the_first_occurrence(kit) -> None:  # type: ignore[no-untyped-def]
    # 01:30 happens twice on 1 November 2026 in New York: the first (EDT, 05:30Z) is the deadline
    _seven_day(kit, commit="01:30")
    kit.ship("T1", ship_date="2026-10-31")
    kit.delivered("T1", "2026-11-01T05:30:00+00:00")
    assert kit.findings("2026-11-03", "late_delivery") == []
    kit.scans[-1]["occurred_at"] = "2026-11-01T05:30:01+00:00"
    assert kit.one("2026-11-03", "late_delivery")


def test_event_dates_without_offset_are_local_to_the_destination(kit) -> None:  # type: ignore[no-untyped-def]
    # 03:30Z on 9 March is 23:30 EDT on 8 March: the delivery date (window anchor) is the 8th
    _seven_day(kit)
    kit.contract(calendar={"business_days": ALL_DAYS, "holidays": ["2026-01-01"]},
                 claims={"late_window_from": "delivered"},
                 services=[{"code": "NDA", "guaranteed": True, "transit_days": 1, "commit_time": "10:30"}])
    kit.ship("T1", ship_date="2026-03-07")
    kit.delivered("T1", "2026-03-09T03:30:00+00:00", offset=False)
    assert kit.one("2026-03-10", "late_delivery")["deadline"] == D("2026-03-23")


def test_event_dates_with_an_offset_use_that_offset(kit) -> None:  # type: ignore[no-untyped-def]
    # recorded at -07:00 (the scan's own offset), though the destination is New York
    kit.contract(claims={"late_window_from": "delivered"})
    kit.ship("T1")
    kit.delivered("T1", "2026-10-06T22:30:00-07:00")   # 7 Oct 01:30 in New York; 6 Oct where scanned
    assert kit.one("2026-10-08", "late_delivery")["deadline"] == D("2026-10-21")


def test_holiday_in_the_carrier_list_moves_the_promised_date(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract(calendar={"holidays": ["2026-10-06"]})
    kit.ship("T1")   # Monday 5 Oct, one day: Tuesday is a holiday -> Wednesday 7 Oct 10:30
    kit.delivered("T1", "2026-10-07T10:30:00-04:00")
    assert kit.findings("2026-10-09", "late_delivery") == []
    kit.scans[-1]["occurred_at"] = "2026-10-07T10:31:00-04:00"
    assert "promised by 2026-10-07T10:30-04:00" in kit.one("2026-10-09", "late_delivery")["reason"]


def test_carrier_list_replaces_the_country_calendar(kit) -> None:  # type: ignore[no-untyped-def]
    # Columbus Day (12 Oct) is a US federal holiday in the holidays package, not in the carrier's list
    kit.contract()
    kit.ship("T1", ship_date="2026-10-09")   # Friday -> Monday 12 Oct
    kit.delivered("T1", "2026-10-12T11:00:00-04:00")
    assert kit.one("2026-10-14", "late_delivery")


def test_country_holidays_from_the_holidays_package(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract(calendar={"holidays": [], "country": "US"})
    kit.ship("T1", ship_date="2026-10-09")   # Friday; Monday 12 Oct is Columbus Day -> Tuesday
    kit.delivered("T1", "2026-10-12T11:00:00-04:00")
    assert kit.findings("2026-10-14", "late_delivery") == []
    kit.ship("T2", ship_date="2026-11-25")   # Wednesday; Thanksgiving -> Friday 27 Nov
    kit.delivered("T2", "2026-11-27T10:31:00-05:00")
    assert "promised by 2026-11-27T10:30-05:00" in kit.one("2026-11-30", "late_delivery", "T2")["reason"]


@pytest.mark.parametrize(("subdivision", "promised"), [("ENG", "2026-08-03"), ("SCT", "2026-08-04")])
def test_country_subdivision_holidays(kit, subdivision, promised) -> None:  # type: ignore[no-untyped-def]
    # the summer bank holiday is 3 August in Scotland, 31 August in England
    kit.contract(calendar={"holidays": [], "country": "GB", "subdivision": subdivision,
                           "timezone": "Europe/London"})
    kit.ship("T1", ship_date="2026-07-31", dest_timezone="Europe/London")   # Friday
    kit.delivered("T1", "2026-08-05T09:00:00+01:00")
    f = kit.one("2026-08-06", "late_delivery")
    assert f"promised by {promised}T10:30+01:00" in f["reason"]


def test_no_holidays_when_the_list_is_empty_and_no_country(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract(calendar={"holidays": [], "country": ""})
    kit.ship("T1", ship_date="2026-11-25")   # Thanksgiving is a business day then
    kit.delivered("T1", "2026-11-26T10:31:00-05:00")
    assert "promised by 2026-11-26T10:30-05:00" in kit.one("2026-11-30", "late_delivery")["reason"]


def test_extra_holidays_add_to_the_carrier_list(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract(calendar={"extra_holidays": ["2026-10-06"]})
    kit.ship("T1")
    kit.delivered("T1", "2026-10-07T10:00:00-04:00")
    assert kit.findings("2026-10-09", "late_delivery") == []


@pytest.mark.parametrize(("delivered", "late"), [
    ("2026-10-12T18:00:00-04:00", False),   # Monday
    ("2026-10-13T10:30:00-04:00", False),   # Tuesday at the commit time
    ("2026-10-13T10:31:00-04:00", True),
])
def test_saturday_ship_one_day_transit_is_due_tuesday(kit, delivered, late) -> None:  # type: ignore[no-untyped-def]
    kit.contract()
    kit.ship("T1", ship_date="2026-10-10")   # Saturday: tendered Monday, due Tuesday
    kit.delivered("T1", delivered)
    got = kit.findings("2026-10-20", "late_delivery")
    assert bool(got) is late
    if late:
        assert got[0]["deadline"] == D("2026-10-28")   # promised 13 Oct + 15


@pytest.mark.parametrize(("delivered", "late"), [
    ("2026-10-06T10:30:00-04:00", False),
    ("2026-10-06T10:30:01-04:00", True),
    ("2026-10-06T10:31:00-04:00", True),
    ("2026-10-06T14:30:00+00:00", False),
    ("2026-10-06T14:30:00.001+00:00", True),
])
def test_late_by_a_minute_a_second_or_on_time(kit, delivered, late) -> None:  # type: ignore[no-untyped-def]
    kit.contract()
    kit.ship("T1")
    kit.delivered("T1", delivered)
    assert bool(kit.findings("2026-10-08", "late_delivery")) is late


def test_promised_delivery_of_the_manifest_wins(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract()
    kit.ship("T1", promised_delivery="2026-10-07T12:00:00-05:00")   # 17:00Z on the 7th
    kit.delivered("T1", "2026-10-07T17:00:00+00:00")
    assert kit.findings("2026-10-09", "late_delivery") == []
    kit.scans[-1]["occurred_at"] = "2026-10-07T17:00:01+00:00"
    f = kit.one("2026-10-09", "late_delivery")
    assert f["deadline"] == D("2026-10-22")
    assert "promised by 2026-10-07T12:00-05:00" in f["reason"]


def test_not_guaranteed_service_is_never_late(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract()
    kit.ship("T1", service="GND", promised_delivery="2026-10-06T10:00:00-04:00")
    kit.delivered("T1", "2026-10-20T10:00:00-04:00")
    assert kit.findings("2026-10-21", "late_delivery") == []


def test_first_delivered_event_counts(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract()
    kit.ship("T1")
    kit.delivered("T1", "2026-10-06T10:00:00-04:00")
    kit.scan("T1", "2026-10-07T10:00:00-04:00", "delivered")
    assert kit.findings("2026-10-08", "late_delivery") == []


def test_undelivered_parcel_is_not_late(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract()
    kit.ship("T1")
    kit.scan("T1", "2026-10-06T10:00:00-04:00", "out_for_delivery")
    assert kit.findings("2026-10-08") == []


def _late_one(kit, **contract):  # type: ignore[no-untyped-def]
    kit.contract(**contract)
    kit.ship("T1")
    kit.scan("T1", "2026-10-05T09:00:00-04:00", "label_created")
    kit.scan("T1", "2026-10-05T17:00:00-04:00", "picked_up")


def test_excluded_exception_before_delivery(kit) -> None:  # type: ignore[no-untyped-def]
    _late_one(kit)
    kit.scan("T1", "2026-10-06T08:00:00-04:00", "exception", "weather")
    kit.scan("T1", "2026-10-06T12:00:00-04:00", "delivered")
    f = kit.one("2026-10-08", "late_delivery")
    assert f["claimable"] is False
    assert "weather" in f["reason"]


def test_excluded_exception_after_delivery_does_not_exclude(kit) -> None:  # type: ignore[no-untyped-def]
    _late_one(kit)
    kit.scan("T1", "2026-10-06T12:00:00-04:00", "delivered")
    kit.scan("T1", "2026-10-06T13:00:00-04:00", "exception", "address")
    assert kit.one("2026-10-08", "late_delivery")["claimable"] is True


def test_exception_at_the_delivery_instant_is_not_before(kit) -> None:  # type: ignore[no-untyped-def]
    _late_one(kit)
    kit.scan("T1", "2026-10-06T12:00:00-04:00", "exception", "customer")
    kit.scan("T1", "2026-10-06T12:00:00-04:00", "delivered")
    assert kit.one("2026-10-08", "late_delivery")["claimable"] is True


def test_exception_reason_not_listed_does_not_exclude(kit) -> None:  # type: ignore[no-untyped-def]
    _late_one(kit)
    kit.scan("T1", "2026-10-06T08:00:00-04:00", "exception", "carrier")
    kit.scan("T1", "2026-10-06T12:00:00-04:00", "delivered")
    assert kit.one("2026-10-08", "late_delivery")["claimable"] is True


@pytest.mark.parametrize(("services", "ship", "claimable"), [
    (["NDA"], "2026-10-05", False),
    (["*"], "2026-10-05", False),
    (["GND", "2DA"], "2026-10-05", True),
    (["NDA"], "2026-10-10", False),   # the last day, inclusive
    (["NDA"], "2026-10-12", True),    # the Monday after
])
def test_suspension_covering_the_service(kit, services, ship, claimable) -> None:  # type: ignore[no-untyped-def]
    kit.contract(gsr_suspensions=[{"from": "2026-10-01", "to": "2026-10-10", "services": services}])
    kit.ship("T1", ship_date=ship)
    kit.delivered("T1", "2026-10-13T12:00:00-04:00")
    f = kit.one("2026-10-14", "late_delivery")
    assert f["claimable"] is claimable
    if not claimable:
        assert "suspended 2026-10-01..2026-10-10" in f["reason"]


def test_expired_late_window_is_reported_not_claimable(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract()
    kit.ship("T1")
    kit.delivered("T1", "2026-10-06T12:00:00-04:00")
    kit.line("T1", "I1", "2026-10-10", "transportation", "25.00")
    on_last_day = kit.one("2026-10-21", "late_delivery")
    assert on_last_day["claimable"] is True
    f = kit.one("2026-10-22", "late_delivery")
    assert f["claimable"] is False
    assert f["deadline"] == D("2026-10-21")
    assert f["amount_cents"] == 2500
    assert "window closed on 2026-10-21" in f["reason"]


@pytest.mark.parametrize(("anchor", "billed", "deadline"), [
    ("promised", True, "2026-10-21"),
    ("delivered", True, "2026-10-23"),
    ("invoice", True, "2026-10-27"),    # first billed line, whatever its charge type
    ("invoice", False, "2026-10-21"),   # not billed yet: the promised date
])
def test_late_window_anchors(kit, anchor, billed, deadline) -> None:  # type: ignore[no-untyped-def]
    kit.contract(claims={"late_window_from": anchor})
    kit.ship("T1")
    kit.delivered("T1", "2026-10-08T23:30:00-04:00")   # 9 Oct in UTC; 8 Oct where delivered
    if billed:
        kit.line("T1", "I2", "2026-10-14", "transportation", "25.00")
        kit.line("T1", "I1", "2026-10-12", "residential", "5.00")
    f = kit.one("2026-10-15", "late_delivery")
    assert f["deadline"] == D(deadline)
    assert f["amount_cents"] == (2500 if billed else 0)
    assert f["claimable"] is True


def test_late_amount_is_the_refunded_charge_types_without_duplicates(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract(claims={"late_refund_charges": ["transportation", "fuel"]})
    kit.ship("T1")
    kit.delivered("T1", "2026-10-06T12:00:00-04:00")
    kit.line("T1", "I1", "2026-10-10", "transportation", "25.00")
    kit.line("T1", "I1", "2026-10-10", "fuel", "3.75")
    kit.line("T1", "I1", "2026-10-10", "residential", "5.00")
    kit.line("T1", "I2", "2026-10-17", "fuel", "3.75")          # a duplicate: not refunded twice
    kit.line("T1", "I2", "2026-10-17", "transportation", "-25.00")   # a credit: not a billed charge
    f = kit.one("2026-10-20", "late_delivery")
    assert f["amount_cents"] == 2875
    assert json.loads(f["evidence"])["lines"] == [1, 2]


def test_decision_guaranteed_without_commit_time_is_due_at_end_of_day(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract(services=[{"code": "NDA", "guaranteed": True, "transit_days": 1}])
    kit.ship("T1")
    kit.delivered("T1", "2026-10-06T23:59:00-04:00")
    assert kit.findings("2026-10-08", "late_delivery") == []
    kit.scans[-1]["occurred_at"] = "2026-10-06T23:59:01-04:00"
    assert kit.one("2026-10-08", "late_delivery")


def test_decision_guaranteed_without_transit_days_needs_promised_delivery(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract(services=[{"code": "NDA", "guaranteed": True, "commit_time": "10:30"}])
    kit.ship("T1")
    kit.delivered("T1", "2026-10-20T12:00:00-04:00")
    r = kit.run("2026-10-21")
    assert r.findings.empty
    assert any("no transit_days" in w for w in r.warnings)
    kit.ship("T1", promised_delivery="2026-10-06T10:30:00-04:00")
    assert kit.one("2026-10-21", "late_delivery")


def test_service_missing_from_the_contract_is_a_warning(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract()
    kit.ship("T1", service="XYZ")
    kit.delivered("T1", "2026-10-20T12:00:00-04:00")
    r = kit.run("2026-10-21")
    assert r.findings.empty
    assert any("service XYZ is not in the contract" in w for w in r.warnings)
