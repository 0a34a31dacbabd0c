"""Evri.

Business claims by e-mail or web form (spec/claims.md "Channels").
"""

from __future__ import annotations

from recoup.carriers.base import BILLING_KINDS, CarrierData, CarrierSpec

code = "evri"

CARRIER = CarrierSpec(
    code=code,
    name="Evri",
    default_channel="email",
    # Late-delivery claims are not accepted [R49] (a reseller's "money back guarantee" add-on
    # [R50] is the reseller's term, not Evri's). lost / damaged: within 30 days of label
    # creation, £20 cover included [R49][R95]; missing contents are not covered [R49].
    accepted_kinds=frozenset({"lost", "damaged"}) | BILLING_KINDS,
    # No Evri claims address in the stored sources: the merchant must set one.
    claims_email=None,
    data=CarrierData(
        contract="contracts_default/evri.toml",
        easypost_name="Evri",
        tracking_api="easypost",
        why_none={"code_tables": "scans arrive through EasyPost trackers (shipments/codes/easypost_status.csv)",
                  "charge_maps": "no Evri invoice format is read: canonical invoices only",
                  "pdf_layouts": "no Evri PDF layout", "pdf_charges": "no Evri PDF charge rules (the defaults apply)",
                  "readers": "no Evri format of its own: canonical files and EasyPost"},
    ),
)
