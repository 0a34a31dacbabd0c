"""late_delivery_first_attempt, through run_audit (docs/rules/late_delivery_first_attempt.md)."""

from __future__ import annotations

from typing import Any

import pytest

SERVICES = [{"code": "NDA", "name": "Next Day Air", "guaranteed": True, "transit_days": 1, "commit_time": "10:30",
             "first_attempt_meets_guarantee": True}]


def _case(kit: Any, first: str | None, later: str | None = "customer", attempt_at: str = "2026-10-06T10:00:00-04:00",
          **over: Any) -> None:
    kit.contract(services=SERVICES, **over)
    kit.ship("T1", service="NDA", ship_date="2026-10-05")      # due 2026-10-06 10:30
    kit.scan("T1", "2026-10-05T17:00:00-04:00", "picked_up")
    kit.scan("T1", attempt_at, "delivery_attempted", first)
    kit.scan("T1", "2026-10-07T10:00:00-04:00", "delivery_attempted", later)
    kit.scan("T1", "2026-10-08T12:00:00-04:00", "delivered")
    kit.line("T1", "I1", "2026-10-14", "transportation", "25.00")


@pytest.mark.parametrize(("first", "found"), [("carrier", True), ("customer", False), (None, False),
                                              ("weather", False)])
def test_first_attempt_by_the_deadline(kit: Any, first: str | None, found: bool) -> None:
    _case(kit, first)
    late = kit.one("2026-10-20", "late_delivery")
    assert not late["claimable"]           # the later customer exception excludes it there, unchanged
    got = kit.findings("2026-10-20", "late_delivery_first_attempt")
    assert bool(got) is found
    if found:
        assert (got[0]["amount_cents"], got[0]["claimable"], str(got[0]["deadline"])) == (2500, True, "2026-10-21")


def test_an_attempt_after_the_deadline_is_late_delivery_s(kit: Any) -> None:
    _case(kit, "carrier", attempt_at="2026-10-06T15:00:00-04:00")
    assert kit.findings("2026-10-20", "late_delivery_first_attempt") == []


def test_late_delivery_claims_it_first(kit: Any) -> None:
    _case(kit, "carrier", later="carrier")
    assert kit.one("2026-10-20", "late_delivery")["claimable"]
    assert kit.findings("2026-10-20", "late_delivery_first_attempt") == []


def test_suspended_is_not_claimable(kit: Any) -> None:
    _case(kit, "carrier", gsr_suspensions=[{"from": "2026-10-01", "to": "2026-10-10", "services": ["*"]}])
    assert not kit.one("2026-10-20", "late_delivery_first_attempt")["claimable"]
