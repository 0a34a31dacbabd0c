"""UPS.

UPS has no public claims or dispute API (spec/claims.md "Channels"): guaranteed-service refunds
and billing disputes go through the UPS Billing Center, whose shipment-level **Dispute** takes the
tracking number, ship date and a reason for each charge (domain.md §3 "Dispute channels", [R146]);
so the default channel is the bulk dispute file. Loss and damage claims (domain.md §2.1) are filed
the same way here; a merchant can switch UPS to ``api`` (e.g. through EasyPost) or ``email``.
"""

from __future__ import annotations

from recoup.carriers.base import ALL_KINDS, RULE_REASON_CODES, CarrierData, CarrierSpec, DisputeSource

code = "ups"

# Dispute reason codes, one per finding kind. UPS's own code list for Billing Center disputes is
# not in the stored sources (UNVERIFIED); these are recoup's codes, named after the reasons UPS
# and audit firms use. GSR matches the detail code UPS prints on the refund credit line
# (spec/claims.md "Reconciliation": UPS detail code GSR -> late_delivery).
REASON_CODES = {
    "late_delivery": "GSR",               # Guaranteed Service Refund [R2]
    "lost": "LOSS",                       # package not delivered: loss claim [R58]
    "damaged": "DAMAGE",                  # damage claim [R58]
    "void_label": "VOID",                 # billed from the manifest, never shipped [R104]
    "duplicate_charge": "DUPLICATE",      # same tracking number billed twice [R102]
    "residential_surcharge": "RESIDENTIAL",  # residential surcharge on a commercial address [R120]
    "address_correction": "ADDRESS_CORRECTION",  # fee without a real correction [R123]
    "delivery_area_surcharge": "DAS",     # destination not in the DAS list [R126]
    "dim_weight": "DIM_WEIGHT",           # billable weight above the correct DIM weight [R112]
    "rate_overcharge": "RATE",            # price above the contract rate [R102]
    "fuel_surcharge": "FUEL",             # percent above the weekly table [R135]
    **RULE_REASON_CODES,                  # the kinds of docs/rules: no published code (carriers/base.py)
    "late_delivery_first_attempt": "GSR",   # the same guarantee, met or missed on the first attempt
}

# The columns of the dispute file, in order: the fields UPS asks for per charge (account,
# invoice, tracking number, ship date, reason) plus amount and our reference.
DISPUTE_COLUMNS: tuple[tuple[str, DisputeSource], ...] = (
    ("Account Number", "account_number"),
    ("Invoice Number", "invoice_number"),
    ("Tracking Number", "tracking_number"),
    ("Ship Date", "ship_date"),
    ("Dispute Reason Code", "reason_code"),
    ("Dispute Reason", "reason"),
    ("Amount", "amount"),
    ("Currency", "currency"),
    ("Comments", "description"),
    ("Reference", "claim_id"),
)

CARRIER = CarrierSpec(
    code=code,
    name="UPS",
    default_channel="file",
    accepted_kinds=ALL_KINDS,
    # UPS takes refunds by phone or the Billing Center; no claims e-mail address is named in the
    # stored sources: the merchant must set one to use the email channel.
    claims_email=None,
    dispute_columns=DISPUTE_COLUMNS,
    reason_codes=REASON_CODES,
    data=CarrierData(
        contract="contracts_default/ups.toml",
        easypost_name="UPS",
        tracking_api="ups",
        code_tables=tuple(f"shipments/codes/ups_{t}.csv" for t in (
            "activity_types", "status_codes", "movement_codes", "exceptions", "delivery_codes")),
        charge_maps=("invoices/charges/ups_charges.csv", "invoices/charges/ups_adjustments.csv"),
        pdf_layouts=("ups_shipment_blocks",),
        pdf_charges=("ups",),
        readers=("scans:ups", "invoices:ups"),
    ),
)
