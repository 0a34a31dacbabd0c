"""The ``api`` channel: an EasyPost-style Claims API (spec/claims.md "The API channel").

Build (``build_*``) and parse (``parse_*``) are pure; :class:`ApiChannel` sends through
:class:`recoup.channels.transport.Transport`.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from recoup.carriers.base import CarrierSpec
from recoup.channels.base import (
    Attachment,
    ChannelConfig,
    ClaimPacket,
    ClaimStatus,
    StatusResult,
    SubmitResult,
    precheck,
)
from recoup.channels.transport import Budget, Clock, Sleep, Transport
from recoup.errors import (
    CarrierAuthError,
    ConfigError,
    FatalCarrierError,
    RetryableCarrierError,
)
from recoup.money import MoneyError, money, round_cents

log = logging.getLogger(__name__)

# EasyPost Claim ``status`` -> recoup claim status (spec/claims.md "The API channel": "Statuses:
# submitted, in_review, approved, approved_partial, rejected, cancelled"; recorded exchanges in
# shared/samples/easypost/test_claim_*.json). Anything else is reported, never guessed.
API_STATUSES: Mapping[str, ClaimStatus] = {
    "submitted": "submitted",                # "Claim was created."
    "in_review": "in_review",                # the carrier is looking at it
    "approved": "approved",                  # approved_amount = requested_amount
    "approved_partial": "approved_partial",  # approved_amount < requested_amount
    "rejected": "rejected",                  # denied; status_detail says why
    "cancelled": "cancelled",                # "Claim cancellation was requested."
    "canceled": "cancelled",                 # EasyPost SDKs spell it both ways (domain.md §5)
}


class UnexpectedAnswer(ValueError):
    """A 2xx answer whose JSON is not a Claim (or list of claims) as expected."""


class UnknownStatus(UnexpectedAnswer):
    """A Claim whose status is not in API_STATUSES."""


# ---------------------------------------------------------------------------------------------
# Build (pure)
# ---------------------------------------------------------------------------------------------


def claims_url(api_url: str) -> str:
    """``<api_url>/v2/claims``; an ``api_url`` that already ends in ``/v2`` is not doubled."""
    base = api_url.rstrip("/")
    return f"{base}/claims" if base.endswith("/v2") else f"{base}/v2/claims"


def data_uri(attachment: Attachment) -> str:
    return f"data:{attachment.content_type};base64,{base64.b64encode(attachment.data).decode('ascii')}"


def build_claim_body(packet: ClaimPacket, claim_type: str) -> dict[str, Any]:
    """The JSON body of ``POST /v2/claims`` for one packet (shape of the recorded request)."""
    arrays: dict[str, list[str]] = {
        "email_evidence_attachments": [],
        "invoice_attachments": [],
        "supporting_documentation_attachments": [],
    }
    for a in packet.evidence:
        arrays[f"{a.role}_attachments"].append(data_uri(a))
    body: dict[str, Any] = {"type": claim_type, **arrays, "description": packet.description}
    if packet.contact_email:
        body["contact_email"] = packet.contact_email
    body["tracking_code"] = packet.tracking_number
    body["amount"] = str(round_cents(packet.amount))
    return body


def build_submit_request(packet: ClaimPacket, carrier: CarrierSpec, api_url: str) -> httpx.Request:
    return httpx.Request(
        "POST", claims_url(api_url), json=build_claim_body(packet, carrier.claim_type(packet.kind)),
        headers={"Idempotency-Key": packet.idempotency_key},
    )


def build_find_request(idempotency_key: str, api_url: str) -> httpx.Request:
    return httpx.Request("GET", claims_url(api_url), params={"idempotency_key": idempotency_key},
                         headers={"Idempotency-Key": idempotency_key})


def build_status_request(reference: str, api_url: str) -> httpx.Request:
    return httpx.Request("GET", f"{claims_url(api_url)}/{reference}")


def build_cancel_request(reference: str, api_url: str) -> httpx.Request:
    return httpx.Request("POST", f"{claims_url(api_url)}/{reference}/cancel", json={})


# ---------------------------------------------------------------------------------------------
# Parse (pure)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedClaim:
    reference: str
    raw_status: str
    status: ClaimStatus | None           # None: a status recoup does not know
    status_detail: str
    tracking_code: str | None
    type: str | None
    requested_amount: Decimal | None
    approved_amount: Decimal | None


def _amount(data: Mapping[str, Any], key: str) -> Decimal | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, float):        # JSON numbers arrive as floats: go through their text
        value = repr(value)
    try:
        return money(value if isinstance(value, str | int) else str(value))
    except MoneyError:
        raise UnexpectedAnswer(f"{key} is not an amount: {value!r}") from None


def parse_claim(data: Any) -> ParsedClaim:
    if not isinstance(data, Mapping):
        raise UnexpectedAnswer(f"expected a Claim object, got {type(data).__name__}")
    reference, raw_status = data.get("id"), data.get("status")
    if not isinstance(reference, str) or not reference:
        raise UnexpectedAnswer("the Claim has no id")
    if not isinstance(raw_status, str):
        raise UnexpectedAnswer(f"Claim {reference} has no status")
    return ParsedClaim(
        reference=reference,
        raw_status=raw_status,
        status=API_STATUSES.get(raw_status),
        status_detail=str(data.get("status_detail") or ""),
        tracking_code=data.get("tracking_code"),
        type=data.get("type"),
        requested_amount=_amount(data, "requested_amount"),
        approved_amount=_amount(data, "approved_amount"),
    )


def _message(claim: ParsedClaim) -> str:
    if claim.status is None:
        return f"unknown claim status {claim.raw_status!r}: {claim.status_detail}".rstrip(": ")
    return claim.status_detail


def parse_submit(packet: ClaimPacket, data: Any) -> SubmitResult:
    """The answer to ``POST /v2/claims`` (or a claim found again) as the packet's result."""
    claim = parse_claim(data)
    if claim.status is None:
        log.warning("claim %s: unknown carrier status %r", claim.reference, claim.raw_status)
    return SubmitResult(packet.claim_id, "submitted", carrier_reference=claim.reference,
                        status=claim.status, approved_amount=claim.approved_amount,
                        message=_message(claim))


def parse_status(data: Any) -> StatusResult:
    """The answer to ``GET /v2/claims/{id}``; UnknownStatus for a status recoup does not know."""
    claim = parse_claim(data)
    if claim.status is None:
        raise UnknownStatus(_message(claim))
    return StatusResult(claim.reference, claim.status, approved_amount=claim.approved_amount,
                        message=claim.status_detail)


def parse_find(packet: ClaimPacket, data: Any, claim_type: str) -> SubmitResult | None:
    """The answer to ``GET /v2/claims?idempotency_key=K``: the packet's claim, or None.

    In case the API ignored the filter, only a claim for the packet's tracking number (and claim
    type, when the claim says one) counts; one for the same amount is preferred.
    """
    items = data.get("claims") if isinstance(data, Mapping) else data
    if not isinstance(items, list):
        raise UnexpectedAnswer("expected a list of claims")
    candidates = []
    for item in items:
        claim = parse_claim(item)
        if claim.tracking_code not in (None, packet.tracking_number):
            continue
        if claim.type not in (None, claim_type):
            continue
        candidates.append((item, claim))
    if not candidates:
        return None
    wanted = round_cents(packet.amount)
    candidates.sort(key=lambda c: c[1].requested_amount != wanted)
    return parse_submit(packet, candidates[0][0])


# ---------------------------------------------------------------------------------------------
# The channel
# ---------------------------------------------------------------------------------------------


class ApiChannel:
    """Files claims through an EasyPost-style Claims API.

    ``submit`` never raises for one claim: each packet gets ``submitted`` (the carrier holds the
    claim), ``needs_attention`` (4xx: the carrier's message), ``paused`` (401/403: this packet
    and every later one of the carrier; the channel then stays paused, ``paused`` says why), or
    ``retry`` (retries or the batch budget ran out; the next run tries again with the same
    idempotency key). ``find`` and ``status`` raise CarrierError subclasses when the carrier
    cannot be asked. Use ``with channel:`` to share one HTTP client across calls.

    A channel object is one run: its time budget (``batch_budget_s``) starts with its first call
    and covers every call it makes (submit, find, status, cancel), however the caller splits the
    batch; once spent, the rest is ``retry`` (or BudgetExhausted from find/status). Build a new
    channel for the next run.
    """

    name = "api"

    def __init__(self, carrier: CarrierSpec, config: ChannelConfig, *,
                 http_transport: httpx.BaseTransport | None = None, sleep: Sleep = time.sleep,
                 monotonic: Clock = time.monotonic, rng: random.Random | None = None) -> None:
        if not config.api_url:
            raise ConfigError(f"{carrier.name}: the api channel needs an API URL "
                              f"(RECOUP_CARRIERS__{carrier.code.upper()}__API_URL)")
        self.carrier = carrier
        self.config = config
        self.api_url = config.api_url
        self.transport = Transport(
            carrier=carrier.code, api_key=config.api_key, timeout_s=config.timeout_s,
            rate_limit_per_s=config.rate_limit_per_s, max_attempts=config.max_attempts,
            backoff_initial_s=config.backoff_initial_s, backoff_max_s=config.backoff_max_s,
            max_wait_s=config.max_wait_s, sleep=sleep, monotonic=monotonic, rng=rng,
            http_transport=http_transport,
        )
        self.paused: str | None = None
        self._budget: Budget | None = None
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> ApiChannel:
        self._stack.enter_context(self.transport.session())
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stack.close()

    def _pause(self, error: CarrierAuthError) -> str:
        self.paused = (f"{self.carrier.name} api channel paused: {error} (check "
                       f"RECOUP_CARRIERS__{self.carrier.code.upper()}__API_KEY)")
        log.error("%s", self.paused)
        return self.paused

    @property
    def budget(self) -> Budget:
        """This run's time budget, started by the first call."""
        if self._budget is None:
            self._budget = self.transport.budget(self.config.batch_budget_s)
        return self._budget

    def submit(self, packets: Sequence[ClaimPacket]) -> list[SubmitResult]:
        results: list[SubmitResult] = []
        budget = self.budget
        with self.transport.session():
            for packet in packets:
                results.append(self._submit_one(packet, budget))
        return results

    def _submit_one(self, packet: ClaimPacket, budget: Budget) -> SubmitResult:
        refused = precheck(self.carrier, packet)
        if refused is not None:
            return refused
        if self.paused:
            return SubmitResult(packet.claim_id, "paused", message=self.paused)
        if budget.exhausted():
            return SubmitResult(packet.claim_id, "retry",
                                message=f"batch budget of {budget.seconds:g}s spent; left for the next run")
        request = build_submit_request(packet, self.carrier, self.api_url)
        try:
            data = self.transport.send(request, budget=budget)
        except CarrierAuthError as e:
            return SubmitResult(packet.claim_id, "paused", message=self._pause(e))
        except FatalCarrierError as e:
            return SubmitResult(packet.claim_id, "needs_attention", message=str(e))
        except RetryableCarrierError as e:
            return SubmitResult(packet.claim_id, "retry", message=str(e))
        try:
            return parse_submit(packet, data)
        except UnexpectedAnswer as e:
            # The carrier may hold the claim: the next run asks again with the same key.
            return SubmitResult(packet.claim_id, "retry", message=f"{self.carrier.code}: unexpected answer: {e}")

    def _ask(self, request: httpx.Request) -> Any:
        if self.paused:
            raise CarrierAuthError(self.paused)
        try:
            return self.transport.send(request, budget=self.budget)
        except CarrierAuthError as e:
            self._pause(e)
            raise

    def find(self, packet: ClaimPacket) -> SubmitResult | None:
        data = self._ask(build_find_request(packet.idempotency_key, self.api_url))
        try:
            claim_type = self.carrier.claim_types.get(packet.kind, "")
            return parse_find(packet, data, claim_type)
        except UnexpectedAnswer as e:
            raise RetryableCarrierError(f"{self.carrier.code}: unexpected answer: {e}") from e

    def status(self, carrier_reference: str) -> StatusResult | None:
        data = self._ask(build_status_request(carrier_reference, self.api_url))
        try:
            return parse_status(data)
        except UnknownStatus as e:
            raise FatalCarrierError(f"{self.carrier.code}: claim {carrier_reference}: {e}") from e
        except UnexpectedAnswer as e:
            raise RetryableCarrierError(f"{self.carrier.code}: unexpected answer: {e}") from e

    def cancel(self, carrier_reference: str) -> StatusResult:
        """Ask the carrier to cancel a filed claim (``POST /v2/claims/{id}/cancel``)."""
        data = self._ask(build_cancel_request(carrier_reference, self.api_url))
        try:
            return parse_status(data)
        except UnexpectedAnswer as e:
            raise RetryableCarrierError(f"{self.carrier.code}: unexpected answer: {e}") from e
