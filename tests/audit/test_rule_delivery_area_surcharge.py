"""``delivery_area_surcharge`` (spec/audits.md, docs/rules/delivery_area_surcharge.md): its edge cases, through the public ``run_audit``
on hand-built frames and contracts written as TOML (conftest.Kit); ``test_decision_*`` pin
docs/audit-decisions.md."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(("postal", "found"), [
    ("10035", False),
    ("10035-1234", False),    # ZIP+4 on its first five digits
    ("100351234", False),
    ("10036", True),
    ("99501 ", False),
])
def test_das_us_zip(kit, postal, found) -> None:  # type: ignore[no-untyped-def]
    kit.contract()
    kit.ship("T1", service="GND", dest_postal=postal)
    kit.delivered("T1", "2026-10-08T12:00:00-04:00")
    kit.line("T1", "I1", "2026-10-10", "delivery_area", "4.10")
    assert bool(kit.findings("2026-10-20", "delivery_area_surcharge")) is found


@pytest.mark.parametrize(("postal", "found"), [
    ("IV1 3XZ", False),      # outward code IV1 listed
    ("iv13xz", False),
    ("IV10 1AB", True),      # outward IV10 is not IV1, and area IV is not listed
    ("HS1 2AA", False),      # postcode area HS listed
    ("KW15 1AB", False),     # the full postcode listed
    ("KW15 1AD", True),
    ("EC1A 1BB", True),
])
def test_das_gb_outward_code_and_area(kit, postal, found) -> None:  # type: ignore[no-untyped-def]
    kit.kg_contract()
    kit.ship("T1", carrier="dpd_uk", dest_postal=postal)
    kit.scan("T1", "2026-10-06T09:00:00+01:00", "delivered", carrier="dpd_uk")
    kit.line("T1", "I1", "2026-10-10", "delivery_area", "4.10", carrier="dpd_uk")
    assert bool(kit.findings("2026-10-20", "delivery_area_surcharge")) is found


def test_das_without_a_list_is_not_judged(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract(surcharges=None)
    kit.ship("T1", service="GND", dest_postal="10036")
    kit.delivered("T1", "2026-10-08T12:00:00-04:00")
    kit.line("T1", "I1", "2026-10-10", "delivery_area", "4.10")
    assert kit.findings("2026-10-20") == []


def test_das_list_entries_in_zip_plus_4_compare_on_five_digits(kit) -> None:  # type: ignore[no-untyped-def]
    # "Postal codes compare normalised": the list's own ZIP+4 entries too
    kit.contract(files={"das/ups.txt": "99501-1234\n10035 \n"})
    for tn, postal in (("T1", "99501"), ("T2", "99501-0001"), ("T3", "10035-1234"), ("T4", "99502")):
        kit.ship(tn, service="GND", dest_postal=postal)
        kit.delivered(tn, "2026-10-08T12:00:00-04:00")
        kit.line(tn, "I1", "2026-10-10", "delivery_area", "4.10")
    assert [f["tracking_number"] for f in kit.findings("2026-10-20", "delivery_area_surcharge")] == ["T4"]


def test_decision_das_without_a_destination_postal_code_is_not_judged(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract()
    kit.ship("T1", service="GND", dest_postal="")
    kit.delivered("T1", "2026-10-08T12:00:00-04:00")
    kit.line("T1", "I1", "2026-10-10", "delivery_area", "4.10")
    assert kit.findings("2026-10-20") == []
