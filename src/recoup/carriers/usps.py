"""USPS.

Claims for USPS parcels go by API through EasyPost (spec/claims.md: "EasyPost files claims by
API for parcels insured through it"): insured-mail loss and damage (DMM 609, domain.md §2.3) and
the Priority Mail Express postage refund (domain.md §1.3).
"""

from __future__ import annotations

from recoup.carriers.base import BILLING_KINDS, LATE_KINDS, CarrierData, CarrierSpec

code = "usps"

CARRIER = CarrierSpec(
    code=code,
    name="USPS",
    default_channel="api",
    # late_delivery: PME money-back guarantee [R32]; lost/damaged: insured mail [R76].
    # Billing kinds: a charge the carrier billed can always be queried (EasyPost type "billing").
    accepted_kinds=LATE_KINDS | {"lost", "damaged"} | BILLING_KINDS,
    # USPS claims are filed online (domain.md §2.3); no claims e-mail address is named:
    # the merchant must set one to use the email channel.
    claims_email=None,
    data=CarrierData(
        contract="contracts_default/usps.toml",
        easypost_name="USPS",
        tracking_api="easypost",
        code_tables=("shipments/codes/usps_event_codes.csv", "shipments/codes/usps_event_types.csv"),
        readers=("scans:usps",),
        why_none={"charge_maps": "no USPS invoice format of its own: postage is billed through EasyPost",
                  "pdf_layouts": "no USPS PDF invoice", "pdf_charges": "no USPS PDF invoice"},
    ),
)
