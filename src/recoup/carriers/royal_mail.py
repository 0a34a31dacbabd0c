"""Royal Mail.

UK carriers take business claims by e-mail or web form (spec/claims.md "Channels"); the default
channel is email.
"""

from __future__ import annotations

from recoup.carriers.base import BILLING_KINDS, LATE_KINDS, CarrierData, CarrierSpec

code = "royal_mail"

CARRIER = CarrierSpec(
    code=code,
    name="Royal Mail",
    default_channel="email",
    # late_delivery: Special Delivery Guaranteed refunds the fee when late [R42][R45] (Tracked
    # 24/48 has no delay compensation [R46]: the contract marks those services not guaranteed);
    # lost: after 10 working days past due, 5 for SD [R87]; damaged [R43]; billing kinds on
    # business-account invoices.
    accepted_kinds=LATE_KINDS | {"lost", "damaged"} | BILLING_KINDS,
    # No Royal Mail claims address in the stored sources: the merchant must set one.
    claims_email=None,
    data=CarrierData(
        contract="contracts_default/royal_mail.toml",
        easypost_name="RoyalMail",
        tracking_api="easypost",
        pdf_layouts=("royal_mail_item_charges",),
        pdf_charges=("royal_mail",),
        why_none={"code_tables": "scans arrive through EasyPost trackers (shipments/codes/easypost_status.csv)",
                  "charge_maps": "its invoices are PDFs: the charge rules are pdf_charges",
                  "readers": "its invoices are PDFs, read by the PDF reader with its layout"},
    ),
)
