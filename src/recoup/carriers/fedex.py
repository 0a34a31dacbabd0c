"""FedEx.

No public claims or dispute API: money-back-guarantee refunds and invoice disputes go through
FedEx Billing Online ("Dispute invoice" or a shipment-level dispute, domain.md §3 [R150][R151]);
the default channel is the bulk dispute file.
"""

from __future__ import annotations

from recoup.carriers.base import ALL_KINDS, RULE_REASON_CODES, CarrierData, CarrierSpec, DisputeSource

code = "fedex"

# Dispute types, one per finding kind. FedEx Billing Online's own list is not in the stored
# sources (UNVERIFIED); these are recoup's codes in FedEx's vocabulary.
REASON_CODES = {
    "late_delivery": "MBG",               # Money-Back Guarantee: late >= 60 s [R17]
    "lost": "LOSS",                       # non-delivery claim [R64]
    "damaged": "DAMAGE",                  # damage claim [R64]
    "void_label": "NOT_SHIPPED",          # billed, never tendered
    "duplicate_charge": "DUPLICATE",      # [R102]
    "residential_surcharge": "RESIDENTIAL",  # [R120]
    "address_correction": "ADDRESS_CORRECTION",  # [R124]
    "delivery_area_surcharge": "DAS",     # [R126]
    "dim_weight": "DIM_WEIGHT",           # [R112]
    "rate_overcharge": "RATE",            # [R102]
    "fuel_surcharge": "FUEL",             # [R137]
    **RULE_REASON_CODES,                  # the kinds of docs/rules: no published code (carriers/base.py)
    "late_delivery_first_attempt": "MBG",   # the same guarantee, met or missed on the first attempt
}

DISPUTE_COLUMNS: tuple[tuple[str, DisputeSource], ...] = (
    ("Invoice Number", "invoice_number"),
    ("Tracking ID", "tracking_number"),
    ("Account Number", "account_number"),
    ("Ship Date", "ship_date"),
    ("Dispute Type", "reason_code"),
    ("Dispute Reason", "reason"),
    ("Disputed Amount", "amount"),
    ("Currency", "currency"),
    ("Comments", "description"),
    ("Reference", "claim_id"),
)

CARRIER = CarrierSpec(
    code=code,
    name="FedEx",
    default_channel="file",
    accepted_kinds=ALL_KINDS,
    # No FedEx claims e-mail address in the stored sources: the merchant must set one.
    claims_email=None,
    dispute_columns=DISPUTE_COLUMNS,
    reason_codes=REASON_CODES,
    data=CarrierData(
        contract="contracts_default/fedex.toml",
        easypost_name="FedEx",
        tracking_api="fedex",
        code_tables=("shipments/codes/fedex_event_types.csv", "shipments/codes/fedex_exceptions.csv"),
        charge_maps=("invoices/charges/fedex_charges.csv",),
        pdf_charges=("fedex",),
        readers=("scans:fedex", "invoices:fedex", "invoices:fedex_intl"),
        why_none={"pdf_layouts": "its PDF invoices read with the generic table layout"},
    ),
)
