"""The carrier adapter interface.

Every carrier has one module in this package (``carriers/ups.py`` with ``code = "ups"``) and an
entry in :data:`recoup.carriers.registry.REGISTRY`. A carrier module describes the carrier (which
claim kinds it accepts, its claim types, the default channel, its dispute-file template); a
*channel* (``api``, ``email``, ``file``) does the filing. Build and parse are pure; one transport
function sends (``carriers/transport.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, Protocol

ClaimStatus = Literal[
    "ready", "submitting", "submitted", "in_review", "approved", "approved_partial", "rejected",
    "credited", "prepared", "expired", "cancelled", "needs_attention",
]


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


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
        """After a crash: what does the carrier know of this claim (by idempotency key)? None: nothing."""
        ...

    def status(self, carrier_reference: str) -> StatusResult | None:
        """The carrier's current status of a filed claim; None when the channel cannot poll."""
        ...


class Carrier(Protocol):
    """A carrier module: `code`, `name`, what it accepts and how its claims are shaped."""

    code: str
    name: str
    default_channel: Literal["api", "email", "file"]
    accepted_kinds: frozenset[str]

    def claim_type(self, kind: str) -> str:
        """The carrier's claim type for a finding kind (EasyPost: damage, loss, late_delivery, billing)."""
        ...
