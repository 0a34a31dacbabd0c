"""``damaged`` (spec/audits.md, docs/rules/damaged.md): its edge cases, through the public ``run_audit``
on hand-built frames and contracts written as TOML (conftest.Kit); ``test_decision_*`` pin
docs/audit-decisions.md."""

from __future__ import annotations

import datetime as dt

D = dt.date.fromisoformat


def kinds(kit, as_of, tn=None):  # type: ignore[no-untyped-def]
    return sorted(f["kind"] for f in kit.findings(as_of, tn=tn))


def _in_transit(kit, tn="T1", last="2026-10-06T10:00:00-04:00", **ship):  # type: ignore[no-untyped-def]
    kit.ship(tn, **ship)
    kit.scan(tn, "2026-10-05T09:00:00-04:00", "label_created")
    kit.scan(tn, "2026-10-05T17:00:00-04:00", "picked_up")
    kit.scan(tn, last, "in_transit")


def test_damaged_deadline_from_delivery_else_first_damage(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract()
    _in_transit(kit, service="GND")
    kit.scan("T1", "2026-10-07T10:00:00-04:00", "damaged")
    f = kit.one("2026-10-08", "damaged")
    assert f["deadline"] == D("2026-12-06")       # first damage event + 60
    kit.scan("T1", "2026-10-09T10:00:00-04:00", "delivered")
    f = kit.one("2026-10-10", "damaged")
    assert f["deadline"] == D("2026-12-08")       # delivery + 60
    assert f["amount_cents"] == 10000


def test_damaged_beats_late(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract()
    kit.ship("T1")
    kit.scan("T1", "2026-10-06T08:00:00-04:00", "exception", "damage")
    kit.scan("T1", "2026-10-06T12:00:00-04:00", "delivered")
    assert kinds(kit, "2026-10-08") == ["damaged"]
