"""``void_label`` (spec/audits.md, docs/rules/void_label.md): its edge cases, through the public ``run_audit``
on hand-built frames and contracts written as TOML (conftest.Kit); ``test_decision_*`` pin
docs/audit-decisions.md."""

from __future__ import annotations

import datetime as dt

import pytest

D = dt.date.fromisoformat


@pytest.mark.parametrize(("as_of", "void"), [("2026-10-14", False), ("2026-10-15", True)])
def test_void_label_age_boundary(kit, as_of, void) -> None:  # type: ignore[no-untyped-def]
    kit.contract()
    kit.ship("T1")
    kit.scan("T1", "2026-10-05T09:00:00-04:00", "label_created")
    kit.line("T1", "I2", "2026-10-12", "fuel", "3.75")
    kit.line("T1", "I1", "2026-10-12", "transportation", "25.00")
    got = kit.findings(as_of, "void_label")
    assert bool(got) is void
    if void:
        assert got[0]["amount_cents"] == 2875
        assert got[0]["deadline"] == D("2027-04-10")   # invoice date of the first billed line + 180


def test_void_label_needs_a_bill(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract()
    kit.ship("T1")
    assert kit.findings("2026-12-01") == []
