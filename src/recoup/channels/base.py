"""How claims leave: the packet a channel files, its results, the ``Channel`` protocol, the config.

A channel (``api.py``, ``email.py``, ``file.py``, like httpx's transports) files the claims of one
carrier, described by a :class:`recoup.carriers.base.CarrierSpec`; build and parse are pure and one
transport function sends (``transport.py``). ``registry.channel_for`` picks and builds the channel.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from recoup.carriers.base import CarrierSpec, ChannelName
from recoup.clock import Clock
from recoup.vocabulary import ClaimStatus

if TYPE_CHECKING:
    from recoup.settings import CarrierSettings



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


@dataclass(frozen=True)
class ChannelConfig:
    """How one carrier's claims leave; built from the carrier's settings (:meth:`from_settings`:
    ``settings.CarrierSettings`` has the same field names and defaults) and passed to
    ``registry.channel_for``.

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

    @classmethod
    def from_settings(cls, carrier: CarrierSettings, **overrides: Any) -> ChannelConfig:
        """The config of one carrier: every field its settings share with this class (same name, same
        meaning), then ``overrides`` (what the caller resolves beyond the carrier's own settings: the
        contract's channel, the shared outbox and contact address, the clock)."""
        shared = {f.name: getattr(carrier, f.name) for f in fields(cls) if f.name in type(carrier).model_fields}
        return cls(**{**shared, **overrides})


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
