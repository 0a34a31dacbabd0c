"""recoup's words, defined once: finding kinds, claim statuses, scan statuses, exception reasons,
charge types and invoice adjustments.

A module with no imports but ``typing``, so that anything (the CLI's help, a reader, a carrier
module, the audit) can name these words without loading the store or pandas. Everything else that
needs a list of them imports it from here or derives it from here; ``tests/test_vocabulary.py``
checks that the rules, the carriers, the claim states and the readers agree with it.
"""

from __future__ import annotations

from typing import Literal, get_args

# ----------------------------------------------------------------------------- finding kinds
#: spec/audits.md: what happened to a parcel; judged per parcel, the first that applies wins
#: (a claimable one takes the billed lines it refunds out of the billing kinds' reach)
PARCEL_KINDS = ("lost", "damaged", "void_label", "late_delivery")
#: spec/audits.md: the billing kinds, one finding per billed line, in the order they are judged
CHARGE_KINDS = ("duplicate_charge", "residential_surcharge", "address_correction", "delivery_area_surcharge",
                "fuel_surcharge", "dim_weight", "rate_overcharge")
#: docs/rules/: the kinds added since (issue 13), in the order they are judged
MORE_KINDS = ("unmanifested_charge", "account_fee", "service_mismatch", "saturday_delivery", "declared_value",
              "additional_handling", "large_package", "charge_correction", "peak_surcharge", "return_charge",
              "missing_incentive", "zone_mismatch", "minimum_charge", "late_delivery_first_attempt", "signature")
#: every finding kind, in the order the audit judges them (``recoup.audit.rules.RULES`` holds one rule
#: module per kind in exactly this order)
FINDING_KINDS = PARCEL_KINDS + CHARGE_KINDS + MORE_KINDS
#: a guaranteed-service refund: ``late_delivery`` and its first-attempt variant
LATE_KINDS = frozenset({"late_delivery", "late_delivery_first_attempt"})

# ----------------------------------------------------------------------------- claims
ClaimStatus = Literal[
    "ready", "submitting", "submitted", "in_review", "approved", "approved_partial", "rejected",
    "credited", "prepared", "expired", "cancelled", "needs_attention",
]
#: every claim status (``recoup.claims.states`` groups them; ``recoup.claims.lifecycle`` moves them)
CLAIM_STATUSES: tuple[str, ...] = get_args(ClaimStatus)

# ----------------------------------------------------------------------------- tracking
#: the canonical scan statuses every tracking reader maps its carrier's codes to (spec/formats.md)
SCAN_STATUSES = frozenset({
    "label_created", "picked_up", "in_transit", "out_for_delivery", "delivery_attempted",
    "delivered", "available_for_pickup", "exception", "damaged", "lost", "returned_to_sender",
})
#: why an exception scan happened (spec/formats.md)
EXCEPTION_REASONS = frozenset({"weather", "address", "customer", "customs", "carrier", "damage"})

# ----------------------------------------------------------------------------- invoices
#: the canonical charge types every invoice reader maps its carrier's charge descriptions to
CHARGE_TYPES = frozenset({
    "transportation", "fuel", "residential", "delivery_area", "address_correction",
    "additional_handling", "large_package", "saturday", "declared_value", "signature",
    "late_payment", "other", "credit",
})
#: what an adjustment line of an invoice corrects (UPS Billing Data's SCC, RADJ, ADC, RTN/RTS, VOID, GSR)
ADJUSTMENTS = frozenset({
    "charge_correction", "residential_adjustment", "address_correction", "return", "void", "refund",
})
