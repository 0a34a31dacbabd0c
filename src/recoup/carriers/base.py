"""What a carrier is: its description as data, and the finding kinds it may be claimed for.

Every carrier has one module in this package (``carriers/ups.py`` with ``code = "ups"``) and an
entry in :data:`recoup.carriers.registry.REGISTRY`. A carrier module describes the carrier (which
claim kinds it accepts, its claim types, the default channel, its dispute-file template) and names
every other piece recoup holds about it (:class:`CarrierData`: code tables, charge maps, PDF
layouts, readers, tracking API). A *channel* (``recoup.channels``: ``api``, ``email``, ``file``)
does the filing; this package never imports the channels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

from recoup.vocabulary import CHARGE_KINDS, LATE_KINDS


class Carrier(Protocol):
    """A carrier module: `code`, `name`, what it accepts and how its claims are shaped.

    The members are read-only properties so that frozen objects (``CarrierSpec``) satisfy the
    protocol as well as classes with plain attributes.
    """

    @property
    def code(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def default_channel(self) -> Literal["api", "email", "file"]: ...

    @property
    def accepted_kinds(self) -> frozenset[str]: ...

    def claim_type(self, kind: str) -> str:
        """The carrier's claim type for a finding kind (EasyPost: damage, loss, late_delivery, billing)."""
        ...


ChannelName = Literal["api", "email", "file"]

# ---------------------------------------------------------------------------------------------
# Finding kinds and the claim types they are filed as (spec/audits.md "Finding kinds";
# spec/claims.md "The API channel": EasyPost's types plus recoup's late_delivery and billing).
# ---------------------------------------------------------------------------------------------

#: a guaranteed-service refund: ``late_delivery`` and its first-attempt variant (docs/rules)
SERVICE_KINDS = LATE_KINDS | {"lost", "damaged"}
#: a charge disputed on the carrier's invoice: the billing kinds of audits.md, then the kinds of
#: docs/rules that a carrier refunds on a billing dispute (tests/carriers/test_registry.py checks
#: that every kind the audit files by itself is here or in SERVICE_KINDS)
RULE_BILLING_KINDS = frozenset({
    "account_fee", "saturday_delivery", "declared_value", "additional_handling", "large_package",
    "charge_correction", "peak_surcharge", "return_charge", "missing_incentive", "zone_mismatch",
    "minimum_charge", "signature",
})
BILLING_KINDS = frozenset({"void_label", *CHARGE_KINDS}) | RULE_BILLING_KINDS
ALL_KINDS = SERVICE_KINDS | BILLING_KINDS

CLAIM_TYPES: Mapping[str, str] = {
    "late_delivery": "late_delivery",   # guaranteed-service refund (GSR / MBG / PME refund / SD delay)
    "late_delivery_first_attempt": "late_delivery",
    "lost": "loss",                     # EasyPost claim type "loss"
    "damaged": "damage",                # EasyPost claim type "damage"
    **{k: "billing" for k in sorted(BILLING_KINDS)},   # a charge disputed on the carrier's invoice
}

KIND_LABELS: Mapping[str, str] = {
    "late_delivery": "Late delivery (service guarantee refund)",
    "lost": "Lost parcel",
    "damaged": "Damaged parcel",
    "void_label": "Label billed but never shipped",
    "duplicate_charge": "Duplicate charge",
    "residential_surcharge": "Residential surcharge on a commercial address",
    "address_correction": "Address correction fee without a correction",
    "delivery_area_surcharge": "Delivery area surcharge outside the DAS list",
    "dim_weight": "Dimensional weight overcharge",
    "rate_overcharge": "Rate above the contracted rate",
    "fuel_surcharge": "Fuel surcharge above the published table",
}


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind.replace("_", " ").capitalize())


# What a dispute-file column is filled from (see CarrierSpec.dispute_row).
DisputeSource = Literal[
    "tracking_number", "invoice_number", "account_number", "ship_date", "amount", "currency",
    "reason_code", "reason", "description", "claim_id", "idempotency_key", "service", "kind",
    "claim_type", "deadline", "contact_email",
]

# The template for carriers that publish none (their dispute files are read by people).
GENERIC_DISPUTE_COLUMNS: tuple[tuple[str, DisputeSource], ...] = (
    ("Tracking Number", "tracking_number"),
    ("Invoice Number", "invoice_number"),
    ("Account Number", "account_number"),
    ("Ship Date", "ship_date"),
    ("Service", "service"),
    ("Claim Type", "reason_code"),
    ("Reason", "reason"),
    ("Amount", "amount"),
    ("Currency", "currency"),
    ("Description", "description"),
    ("Reference", "claim_id"),
)

#: the kinds of docs/rules have no published carrier reason code: they are filed as billing disputes
#: under recoup's own name for the reason (the dispute row's description says what is disputed)
RULE_REASON_CODES: Mapping[str, str] = {k: k.upper() for k in sorted(RULE_BILLING_KINDS)}
# recoup's own short codes, for carriers without a code list of their own.
GENERIC_REASON_CODES: Mapping[str, str] = {
    "late_delivery": "LATE", "lost": "LOSS", "damaged": "DAMAGE", "void_label": "VOID",
    "duplicate_charge": "DUPLICATE", "residential_surcharge": "RESIDENTIAL",
    "address_correction": "ADDRESS_CORRECTION", "delivery_area_surcharge": "DAS",
    "dim_weight": "DIM_WEIGHT", "rate_overcharge": "RATE", "fuel_surcharge": "FUEL",
    "late_delivery_first_attempt": "LATE",
    **RULE_REASON_CODES,
}


TrackingApi = Literal["ups", "fedex", "easypost"]

PIECES = ("contract", "code_tables", "charge_maps", "pdf_layouts", "pdf_charges", "readers")


@dataclass(frozen=True)
class CarrierData:
    """Where everything else recoup knows about a carrier lives, by reference (paths are relative to
    ``src/recoup/``); tests/carriers/test_registry.py checks every reference resolves, that every
    carrier-specific data file is claimed by its carrier, and names any piece a carrier lacks
    without a reason in ``why_none``.

    The data stay beside the code that reads them (code tables with the tracking readers, charge
    maps with the invoice readers); the carrier module is where one finds them all.
    """

    contract: str                       # its default contract: contracts_default/<code>.toml
    easypost_name: str                  # EasyPost's name for it (a row of shipments/codes/easypost_carriers.csv)
    tracking_api: TrackingApi           # which client pulls its scans (worker/tracking.py)
    code_tables: tuple[str, ...] = ()   # its scan status/exception code tables: shipments/codes/*.csv
    charge_maps: tuple[str, ...] = ()   # its invoice charge maps: invoices/charges/*.csv
    pdf_layouts: tuple[str, ...] = ()   # its PDF invoice layouts: [[layout]] names in invoices/pdf_layouts.toml
    pdf_charges: tuple[str, ...] = ()   # its PDF charge-description rules: [charges] keys in the same file
    readers: tuple[str, ...] = ()       # its own formats: "<kind>:<name>" in recoup.ingest.formats.READERS
    why_none: Mapping[str, str] = field(default_factory=dict)   # piece -> why the carrier has none


@dataclass(frozen=True, eq=False, kw_only=True)
class CarrierSpec:
    """A :class:`Carrier` described as data; every carrier module exports one as ``CARRIER``.

    ``claims_email`` is the carrier's claims address when a stored source names one; else None,
    and the merchant must configure it (``RECOUP_CARRIERS__<CODE>__CLAIMS_EMAIL``).
    """

    code: str
    name: str
    default_channel: ChannelName
    accepted_kinds: frozenset[str]
    claims_email: str | None = None
    dispute_columns: tuple[tuple[str, DisputeSource], ...] = GENERIC_DISPUTE_COLUMNS
    reason_codes: Mapping[str, str] = field(default_factory=lambda: dict(GENERIC_REASON_CODES))
    claim_types: Mapping[str, str] = field(default_factory=lambda: dict(CLAIM_TYPES))
    data: CarrierData                  # everything else recoup knows about it, by reference

    def __post_init__(self) -> None:
        missing = [k for k in sorted(self.accepted_kinds) if k not in self.claim_types]
        missing += [k for k in sorted(self.accepted_kinds) if k not in self.reason_codes]
        if missing:
            raise ValueError(f"carrier {self.code}: no claim type or reason code for {missing}")

    def accepts(self, kind: str) -> bool:
        return kind in self.accepted_kinds

    def claim_type(self, kind: str) -> str:
        """The carrier's claim type for a finding kind; ValueError for a kind it does not accept."""
        if kind not in self.accepted_kinds:
            raise ValueError(f"{self.name} does not accept {kind} claims")
        return self.claim_types[kind]

    def reason_code(self, kind: str) -> str:
        if kind not in self.accepted_kinds:
            raise ValueError(f"{self.name} does not accept {kind} claims")
        return self.reason_codes[kind]

    def dispute_headers(self) -> list[str]:
        return [header for header, _ in self.dispute_columns]
