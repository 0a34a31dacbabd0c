"""The audit rules: ``run_audit(frames, contracts, as_of)`` returns one row per finding.

Every finding kind is one module here with ``INFO`` (a :class:`RuleInfo`: what ``recoup rules``
lists) and a pure ``rule(contract, facts, as_of) -> Judged`` over facts computed once per contract
(``facts.build``; ``base.Facts``), listed in the order they are judged in ``RULES``. The runner
(``runner.run_audit``) computes the facts, judges the kinds per parcel (the first four), takes the
billed lines their claimable findings refund out of what the other rules report
(``runner.suppress_refunded``), then judges the others. With ``trace=True`` the verdicts the rules
returned come back with the findings (``recoup explain``, ``recoup.audit.explain``).

Adding a kind = one module + its test + one line in ``RULES`` + its page in docs/rules/
(CONTRIBUTING.md "Adding a rule").
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from recoup.audit.rules import (
    account_fee,
    additional_handling,
    address_correction,
    charge_correction,
    damaged,
    declared_value,
    delivery_area_surcharge,
    dim_weight,
    duplicate_charge,
    fuel_surcharge,
    large_package,
    late_delivery,
    late_delivery_first_attempt,
    lost,
    minimum_charge,
    missing_incentive,
    peak_surcharge,
    rate_overcharge,
    residential_surcharge,
    return_charge,
    saturday_delivery,
    service_mismatch,
    signature,
    unmanifested_charge,
    void_label,
    zone_mismatch,
)
from recoup.audit.rules._vector import format_local
from recoup.audit.rules.base import Facts, Judged, RuleInfo
from recoup.audit.rules.frames import (
    BILLING_KINDS,
    FINAL_STATUSES,
    FINDING_COLUMNS,
    LINE_FIELDS,
    RECHECK_COLUMNS,
    SCAN_FIELDS,
    SERVICE_KINDS,
    SHIPMENT_FIELDS,
    AuditFrames,
    AuditResult,
    prepare_frames,
    relevant_scans,
)
from recoup.audit.rules.fuel_surcharge import fuel_percent
from recoup.audit.rules.runner import REFUNDED, numbering_order, run_audit

__all__ = [
    "BILLING_KINDS",
    "FINAL_STATUSES",
    "FINDING_COLUMNS",
    "LINE_FIELDS",
    "RECHECK_COLUMNS",
    "REFUNDED",
    "RULES",
    "SCAN_FIELDS",
    "SERVICE_KINDS",
    "SHIPMENT_FIELDS",
    "AuditFrames",
    "AuditResult",
    "Facts",
    "Judged",
    "RuleInfo",
    "all_rules",
    "format_local",
    "fuel_percent",
    "numbering_order",
    "prepare_frames",
    "relevant_scans",
    "rule_rows",
    "run_audit",
]

# Every finding kind, in the order it is judged; one line per kind. The kinds judged per parcel come
# first (the runner then takes the lines their claimable findings refund out of what the rest report).
RULES: list[ModuleType] = [
    # spec/audits.md: per parcel, the first that applies
    lost,
    damaged,
    void_label,
    late_delivery,
    # spec/audits.md: billing, one finding per line
    duplicate_charge,
    residential_surcharge,
    address_correction,
    delivery_area_surcharge,
    fuel_surcharge,
    dim_weight,
    rate_overcharge,
    # issue 13
    unmanifested_charge,
    account_fee,
    service_mismatch,
    saturday_delivery,
    declared_value,
    additional_handling,
    large_package,
    charge_correction,
    peak_surcharge,
    return_charge,
    missing_incentive,
    zone_mismatch,
    minimum_charge,
    late_delivery_first_attempt,
    signature,
]


def all_rules() -> list[RuleInfo]:
    """Every finding kind recoup judges, in ``RULES`` order (what ``recoup rules`` lists)."""
    return [m.INFO for m in RULES]


def rule_rows() -> list[dict[str, Any]]:
    """``all_rules()`` as plain rows (what ``recoup rules`` prints)."""
    return [{"kind": r.kind, "description": r.description, "automatic": r.automatic, "sources": list(r.sources),
             "contract_keys": list(r.contract_keys), "doc": r.doc} for r in all_rules()]
