"""``address_correction`` (spec/audits.md, docs/rules/address_correction.md): its edge cases, through the public ``run_audit``
on hand-built frames and contracts written as TOML (conftest.Kit); ``test_decision_*`` pin
docs/audit-decisions.md."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(("validated", "found"), [(True, True), (False, False), (None, False)])
def test_address_correction(kit, validated, found) -> None:  # type: ignore[no-untyped-def]
    kit.contract()
    kit.ship("T1", service="GND", address_validated=validated)
    kit.delivered("T1", "2026-10-08T12:00:00-04:00")
    kit.line("T1", "I1", "2026-10-10", "address_correction", "23.00")
    assert bool(kit.findings("2026-10-20", "address_correction")) is found
