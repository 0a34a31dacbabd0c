"""DPD UK.

Business claims by e-mail (spec/claims.md "Channels"); only the contract holder may claim
(domain.md §2.6 [R92]).
"""

from __future__ import annotations

from recoup.carriers.base import BILLING_KINDS, LATE_KINDS, CarrierData, CarrierSpec

code = "dpd_uk"

CARRIER = CarrierSpec(
    code=code,
    name="DPD UK",
    default_channel="email",
    # lost: no scan for 3+ working days after the estimate, within 28 days of collection;
    # damaged: within 14 days of delivery [R92]. late_delivery: domain.md found no general DPD
    # late-delivery refund ([R48]: not supported by Shippo), but a merchant's contract may mark
    # timed services (Pre 10:30, Pre 12) guaranteed, and the audit finds late deliveries only on
    # services the contract guarantees; so it is accepted and the contract decides.
    accepted_kinds=LATE_KINDS | {"lost", "damaged"} | BILLING_KINDS,
    # No DPD claims address in the stored sources: the merchant must set one.
    claims_email=None,
    data=CarrierData(
        contract="contracts_default/dpd_uk.toml",
        easypost_name="DPD UK",
        tracking_api="easypost",
        pdf_charges=("dpd_uk",),
        why_none={"code_tables": "scans arrive through EasyPost trackers (shipments/codes/easypost_status.csv)",
                  "charge_maps": "its invoices are PDFs: the charge rules are pdf_charges",
                  "pdf_layouts": "its PDF invoices read with the generic table layout",
                  "readers": "its invoices are PDFs, read by the PDF reader"},
    ),
)
