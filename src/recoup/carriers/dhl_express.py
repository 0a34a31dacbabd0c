"""DHL Express.

DHL Express takes claims **in writing** (domain.md §1.4: "Notify DHL in writing or by phone
within 14 calendar days of the shipment date"; §2.4: loss or damage "in writing within 30 days"
[R36][R79]); it has no public claims API in the stored sources, so the default channel is email.
"""

from __future__ import annotations

from recoup.carriers.base import BILLING_KINDS, LATE_KINDS, CarrierData, CarrierSpec

code = "dhl_express"

CARRIER = CarrierSpec(
    code=code,
    name="DHL Express",
    default_channel="email",
    # late_delivery: the MBG on timed services (9:00, 10:30, 12:00) refunds the premium [R36];
    # lost (after a completed trace [R79]) and damaged; billing disputes [R154].
    accepted_kinds=LATE_KINDS | {"lost", "damaged"} | BILLING_KINDS,
    # The stored sources name no DHL claims address (it differs by country and account):
    # the merchant must set one.
    claims_email=None,
    data=CarrierData(
        contract="contracts_default/dhl_express.toml",
        easypost_name="DHLExpress",
        tracking_api="easypost",
        charge_maps=("invoices/charges/dhl_charges.csv",),
        readers=("invoices:dhl",),
        why_none={"code_tables": "scans arrive through EasyPost trackers (shipments/codes/easypost_status.csv)",
                  "pdf_layouts": "its invoices are MyBill CSV/XLSX", "pdf_charges": "its invoices are MyBill CSV/XLSX"},
    ),
)
