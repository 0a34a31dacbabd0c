"""The api channel's build and parse against EasyPost's recorded claim exchanges (MockTransport)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest

from recoup.carriers.registry import REGISTRY
from recoup.channels.api import (
    ApiChannel,
    UnexpectedAnswer,
    build_submit_request,
    parse_claim,
    parse_find,
    parse_status,
    parse_submit,
)
from recoup.channels.base import Attachment, ChannelConfig, ClaimPacket
from recoup.channels.registry import channel_for
from recoup.errors import FatalCarrierError

from .conftest import SleepRecorder, recorded

API = "https://api.easypost.com"


def packet_from_recording(exchange: dict[str, Any], make_packet: Callable[..., ClaimPacket]) -> ClaimPacket:
    body = exchange["request"]["body"]

    def attachment(field: str, role: Any) -> Attachment:
        uri = body[field][0]
        header, _, data = uri.partition(",")
        return Attachment(f"{role}.png", header.removeprefix("data:").removesuffix(";base64"),
                          base64.b64decode(data), role=role)

    return make_packet(
        tracking_number=body["tracking_code"], amount=Decimal(body["amount"]),
        description=body["description"], contact_email=body["contact_email"], kind="damaged",
        evidence=(attachment("email_evidence_attachments", "email_evidence"),
                  attachment("invoice_attachments", "invoice"),
                  attachment("supporting_documentation_attachments", "supporting_documentation")),
    )


def replay(*exchanges: dict[str, Any], seen: list[httpx.Request]) -> httpx.MockTransport:
    queue = list(exchanges)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        ex = queue.pop(0)
        assert request.method == ex["request"]["method"]
        assert str(request.url) == ex["request"]["uri"]
        return httpx.Response(ex["response"]["status"]["code"], json=ex["response"]["body"])

    return httpx.MockTransport(handler)


@pytest.mark.parametrize("name", ["test_claim_create__1", "test_claim_cancel__1"])
def test_build_matches_the_recorded_request(name: str, make_packet: Callable[..., ClaimPacket]) -> None:
    exchange = recorded(name)
    packet = packet_from_recording(exchange, make_packet)
    request = build_submit_request(packet, REGISTRY["usps"], API)
    assert request.method == "POST"
    assert str(request.url) == exchange["request"]["uri"]
    assert json.loads(request.content) == exchange["request"]["body"]
    assert request.headers["Idempotency-Key"] == packet.idempotency_key
    assert request.headers["Content-Type"] == "application/json"
    assert "Authorization" not in request.headers     # the transport adds auth, build stays pure


def test_submit_replays_the_recorded_create(make_packet: Callable[..., ClaimPacket],
                                            sleeps: SleepRecorder) -> None:
    exchange = recorded("test_claim_create__1")
    packet = packet_from_recording(exchange, make_packet)
    seen: list[httpx.Request] = []
    channel = channel_for("usps", ChannelConfig(api_url=API, api_key="EZTK_test"),
                          http_transport=replay(exchange, seen=seen), sleep=sleeps)
    [result] = channel.submit([packet])
    assert result.outcome == "submitted"
    assert result.carrier_reference == "clm_09ce5f03fd6b4310b9c5b7f306407214"
    assert result.status == "submitted"
    assert result.approved_amount is None
    assert result.message == "Claim was created."
    assert seen[0].headers["Authorization"] == "Basic " + base64.b64encode(b"EZTK_test:").decode()
    assert sleeps.calls == []


def test_status_and_cancel_replay(sleeps: SleepRecorder) -> None:
    seen: list[httpx.Request] = []
    retrieve = recorded("test_claim_retrieve__2")
    cancel = recorded("test_claim_cancel__2")
    channel = ApiChannel(REGISTRY["usps"], ChannelConfig(api_url=API, api_key="k"),
                         http_transport=replay(retrieve, cancel, seen=seen), sleep=sleeps)
    with channel:
        status = channel.status("clm_09ce975320fe4661af0f80a68022ee76")
        cancelled = channel.cancel("clm_09cea7c6461a4182a7e05bed24b83717")
    assert status is not None
    assert (status.carrier_reference, status.status, status.approved_amount) == (
        "clm_09ce975320fe4661af0f80a68022ee76", "submitted", None)
    assert cancelled.status == "cancelled"
    assert cancelled.message == "Claim cancellation was requested."


def test_parse_maps_every_easypost_status_and_amounts() -> None:
    body = recorded("test_claim_retrieve__2")["response"]["body"]
    for raw, ours in [("submitted", "submitted"), ("in_review", "in_review"), ("approved", "approved"),
                      ("approved_partial", "approved_partial"), ("rejected", "rejected"),
                      ("cancelled", "cancelled"), ("canceled", "cancelled")]:
        result = parse_status({**body, "status": raw, "approved_amount": "42.10"})
        assert result.status == ours
        assert result.approved_amount == Decimal("42.10")
    assert parse_claim(body).requested_amount == Decimal("100.00")


def test_unknown_status_is_reported_not_guessed(make_packet: Callable[..., ClaimPacket]) -> None:
    body = {**recorded("test_claim_retrieve__2")["response"]["body"], "status": "on_hold"}
    with pytest.raises(UnexpectedAnswer, match="on_hold"):
        parse_status(body)
    submitted = parse_submit(make_packet(), body)      # filed all the same: we hold its reference
    assert submitted.outcome == "submitted"
    assert submitted.status is None
    assert "on_hold" in submitted.message

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=body)

    channel = ApiChannel(REGISTRY["usps"], ChannelConfig(api_url=API, api_key="k"),
                         http_transport=httpx.MockTransport(handler))
    with pytest.raises(FatalCarrierError, match="on_hold"):
        channel.status(body["id"])


@pytest.mark.parametrize("bad", [[], {"status": "submitted"}, {"id": "clm_1"},
                                 {"id": "clm_1", "status": "approved", "approved_amount": "lots"}])
def test_parse_refuses_what_is_not_a_claim(bad: Any) -> None:
    with pytest.raises(UnexpectedAnswer):
        parse_claim(bad)


def test_parse_find_only_counts_the_packets_claim(make_packet: Callable[..., ClaimPacket]) -> None:
    packet = make_packet(tracking_number="9400100208303109500669")
    body = recorded("test_claim_create__1")["response"]["body"]
    other = {**body, "id": "clm_other", "tracking_code": "1Z999"}
    assert parse_find(packet, {"claims": [], "has_more": False}, "damage") is None
    assert parse_find(packet, {"claims": [other]}, "damage") is None
    found = parse_find(packet, {"claims": [other, body]}, "damage")
    assert found is not None
    assert found.carrier_reference == body["id"]
