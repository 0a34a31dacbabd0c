"""``residential_surcharge`` (spec/audits.md, docs/rules/residential_surcharge.md): its edge cases, through the public ``run_audit``
on hand-built frames and contracts written as TOML (conftest.Kit); ``test_decision_*`` pin
docs/audit-decisions.md."""

from __future__ import annotations

import datetime as dt

import pytest

D = dt.date.fromisoformat


@pytest.mark.parametrize(("residential", "found"), [(False, True), (True, False), (None, False)])
def test_residential_surcharge(kit, residential, found) -> None:  # type: ignore[no-untyped-def]
    kit.contract()
    kit.ship("T1", service="GND", dest_residential=residential)
    kit.delivered("T1", "2026-10-08T12:00:00-04:00")
    kit.line("T1", "I1", "2026-10-10", "residential", "5.15")
    got = kit.findings("2026-10-20", "residential_surcharge")
    assert bool(got) is found
    if found:
        assert got[0]["amount_cents"] == 515
        assert got[0]["deadline"] == D("2027-04-08")
