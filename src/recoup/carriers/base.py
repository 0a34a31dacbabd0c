"""The carrier adapter interface.

Every carrier has one module in this package (``carriers/ups.py`` with ``code = "ups"``) and an
entry in :data:`recoup.carriers.registry.REGISTRY`. A carrier module describes the carrier (which
claim kinds it accepts, its claim types, the default channel, its dispute-file template); a
*channel* (``api``, ``email``, ``file``) does the filing. Build and parse are pure; one transport
function sends (``carriers/transport.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Literal, Protocol

from recoup.clock import Clock
from recoup.money import round_cents

ClaimStatus = Literal[
    "ready", "submitting", "submitted", "in_review", "approved", "approved_partial", "rejected",
    "credited", "prepared", "expired", "cancelled", "needs_attention",
]


AttachmentRole = Literal["supporting_documentation", "invoice", "email_evidence"]


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes
    # Which EasyPost attachment array it travels in (``<role>_attachments``); other channels
    # attach every file alike.
    role: AttachmentRole = "supporting_documentation"


@dataclass(frozen=True)
class ClaimPacket:
    """Everything a carrier needs to decide one claim. Built from the store, sent by a channel."""

    claim_id: int
    idempotency_key: str
    carrier: str
    kind: str                      # finding kind: late_delivery, lost, damaged, void_label, duplicate_charge, ...
    tracking_number: str
    amount: Decimal                # claimed, in `currency`
    currency: str
    description: str               # the finding's reason, for people
    deadline: dt.date
    ship_date: dt.date | None = None
    invoice_number: str | None = None
    account_number: str | None = None
    service: str | None = None
    contact_email: str | None = None
    evidence: tuple[Attachment, ...] = field(default_factory=tuple)


Outcome = Literal["submitted", "prepared", "retry", "needs_attention", "paused"]


@dataclass(frozen=True)
class SubmitResult:
    claim_id: int
    outcome: Outcome
    carrier_reference: str | None = None
    status: ClaimStatus | None = None          # the carrier's status mapped to ours, when it said one
    approved_amount: Decimal | None = None
    message: str = ""


@dataclass(frozen=True)
class StatusResult:
    carrier_reference: str
    status: ClaimStatus
    approved_amount: Decimal | None = None
    message: str = ""


class Channel(Protocol):
    """How claims leave: one implementation per channel (api, email, file)."""

    name: str

    def submit(self, packets: Sequence[ClaimPacket]) -> list[SubmitResult]:
        """File the packets; one result per packet, in order. Never raises for one bad claim."""
        ...

    def find(self, packet: ClaimPacket) -> SubmitResult | None:
        """After a crash: what does the carrier know of this claim (by idempotency key)? None: nothing.

        Raises a CarrierError when the carrier cannot be asked (RetryableCarrierError: try later;
        CarrierAuthError: the channel is paused); channels that cannot ask (email, file) return None.
        """
        ...

    def status(self, carrier_reference: str) -> StatusResult | None:
        """The carrier's current status of a filed claim; None when the channel cannot poll.

        Raises a CarrierError when the carrier cannot be asked, as ``find`` does.
        """
        ...


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

SERVICE_KINDS = frozenset({"late_delivery", "lost", "damaged"})
BILLING_KINDS = frozenset({
    "void_label", "duplicate_charge", "residential_surcharge", "address_correction",
    "delivery_area_surcharge", "dim_weight", "rate_overcharge", "fuel_surcharge",
})
ALL_KINDS = SERVICE_KINDS | BILLING_KINDS

CLAIM_TYPES: Mapping[str, str] = {
    "late_delivery": "late_delivery",   # guaranteed-service refund (GSR / MBG / PME refund / SD delay)
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

# recoup's own short codes, for carriers without a code list of their own.
GENERIC_REASON_CODES: Mapping[str, str] = {
    "late_delivery": "LATE", "lost": "LOSS", "damaged": "DAMAGE", "void_label": "VOID",
    "duplicate_charge": "DUPLICATE", "residential_surcharge": "RESIDENTIAL",
    "address_correction": "ADDRESS_CORRECTION", "delivery_area_surcharge": "DAS",
    "dim_weight": "DIM_WEIGHT", "rate_overcharge": "RATE", "fuel_surcharge": "FUEL",
}


@dataclass(frozen=True, eq=False)
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

    def dispute_row(self, packet: ClaimPacket) -> list[str | Decimal]:
        """One row of the carrier's dispute file, in :meth:`dispute_headers` order (pure).

        The amount is a Decimal rounded to the cent; every other cell is text ("" when unknown).
        """
        values: dict[str, str | Decimal] = {
            "tracking_number": packet.tracking_number,
            "invoice_number": packet.invoice_number or "",
            "account_number": packet.account_number or "",
            "ship_date": packet.ship_date.isoformat() if packet.ship_date else "",
            "amount": round_cents(packet.amount),
            "currency": packet.currency,
            "reason_code": self.reason_code(packet.kind),
            "reason": kind_label(packet.kind),
            "description": packet.description,
            "claim_id": str(packet.claim_id),
            "idempotency_key": packet.idempotency_key,
            "service": packet.service or "",
            "kind": packet.kind,
            "claim_type": self.claim_type(packet.kind),
            "deadline": packet.deadline.isoformat(),
            "contact_email": packet.contact_email or "",
        }
        return [values[source] for _, source in self.dispute_columns]


@dataclass(frozen=True)
class ChannelConfig:
    """How one carrier's claims leave; built by the settings layer (``settings.CarrierSettings``
    has the same field names and defaults) and passed to ``registry.channel_for``.

    ``channel`` None means the carrier's ``default_channel`` (the contract's ``claims.channel``
    is passed here by the caller when set). Which fields a channel needs: ``api``: ``api_url``
    (and ``api_key``; without one the carrier answers 401 and the channel pauses); ``email``:
    ``claims_email`` (or the carrier's own), ``from_email``, and ``smtp_url``
    (``smtp://user:pass@host:port``, ``?starttls=true`` for STARTTLS, ``smtps://`` for TLS) or,
    without it, ``outbox`` where ``.eml`` files are written for a person to send; ``file``:
    ``outbox`` and ``file_format``.
    """

    channel: ChannelName | None = None
    api_url: str | None = None
    api_key: str | None = field(default=None, repr=False)       # secret
    rate_limit_per_s: float | None = 5.0                        # None or 0: no limit
    timeout_s: float = 20.0                                     # each request / SMTP connection
    batch_budget_s: float = 300.0                               # each submit() call, all retries included
    max_attempts: int = 5                                       # each request
    smtp_url: str | None = field(default=None, repr=False)      # may hold a password
    claims_email: str | None = None                             # None: the carrier's default
    from_email: str | None = None
    outbox: Path | None = None
    file_format: Literal["csv", "xlsx"] = "csv"
    backoff_initial_s: float = 0.5                              # first retry waits 0.25-0.5 s ...
    backoff_max_s: float = 30.0                                 # ... doubling up to this
    max_wait_s: float = 60.0                                    # a longer Retry-After: give up for this run
    clock: Clock | None = field(default=None, repr=False, compare=False)   # recoup's clock: dispute file names,
    #                                                              e-mail dates (None: the wall clock)


def precheck(carrier: CarrierSpec, packet: ClaimPacket) -> SubmitResult | None:
    """Why a packet must not be filed by any channel, as its result; None when it may be."""
    if packet.carrier != carrier.code:
        return SubmitResult(packet.claim_id, "needs_attention",
                            message=f"claim for {packet.carrier} sent to the {carrier.code} channel")
    if not carrier.accepts(packet.kind):
        return SubmitResult(packet.claim_id, "needs_attention",
                            message=f"{carrier.name} does not accept {packet.kind} claims")
    if packet.amount <= 0:
        # spec/claims.md: filed only when its amount is above zero (a late delivery not billed yet)
        return SubmitResult(packet.claim_id, "retry",
                            message=f"amount {packet.amount} {packet.currency}: filed once it is above zero")
    return None
