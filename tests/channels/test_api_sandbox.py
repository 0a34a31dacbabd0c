"""The api channel against the sandbox over real HTTP on 127.0.0.1, under injected faults."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from decimal import Decimal

from recoup.channels.api import ApiChannel
from recoup.channels.base import ChannelConfig, ClaimPacket
from recoup.channels.registry import channel_for
from recoup.sandbox import SandboxServer

from .conftest import SleepRecorder

FAULTS = "429=0.12,500=0.08,503=0.08,reset=0.07,malformed=0.07,timeout=0.05,retry_after=2,seed=7"


def config(url: str, **kw: object) -> ChannelConfig:
    values: dict[str, object] = {"api_url": url, "api_key": "EZTK_test", "timeout_s": 0.3,
                                 "rate_limit_per_s": None, "max_attempts": 10, "batch_budget_s": 60}
    values.update(kw)
    return ChannelConfig(**values)  # type: ignore[arg-type]


def api(url: str, sleeps: SleepRecorder, **kw: object) -> ApiChannel:
    channel = channel_for("usps", config(url, **kw), sleep=sleeps)
    assert isinstance(channel, ApiChannel)
    return channel


def test_every_claim_is_filed_exactly_once_under_faults(
        make_packet: Callable[..., ClaimPacket], sleeps: SleepRecorder) -> None:
    packets = [make_packet(n) for n in range(1, 16)]
    with SandboxServer(FAULTS, hold_s=0.5) as server:
        results = api(server.url, sleeps).submit(packets)
        requests = server.requests()
        claims = server.claims()

    assert [r.outcome for r in results] == ["submitted"] * len(packets), [r.message for r in results]
    assert [r.claim_id for r in results] == [p.claim_id for p in packets]
    # the sandbox holds exactly one claim per idempotency key, and each result names it
    per_key = Counter(c["idempotency_key"] for c in claims)
    assert per_key == Counter(p.idempotency_key for p in packets)
    by_key = {c["idempotency_key"]: c["id"] for c in claims}
    assert [r.carrier_reference for r in results] == [by_key[p.idempotency_key] for p in packets]
    # faults did happen, and retried POSTs reused their key
    assert any(r["fault"] for r in requests)
    posts = Counter(r["idempotency_key"] for r in requests if r["method"] == "POST")
    assert sum(posts.values()) > len(packets)
    assert set(posts) == {p.idempotency_key for p in packets}


def test_each_kind_of_fault_is_survived_exactly_once(
        make_packet: Callable[..., ClaimPacket], sleeps: SleepRecorder) -> None:
    packets = [make_packet(n) for n in range(1, 4)]
    with SandboxServer("retry_after=2", hold_s=1.3) as server:
        # packet 1: 429, 500, 502, then filed; packet 2: 503, 504, reset (after filing), then
        # replayed; packet 3: malformed (after filing), timeout (replay held), then replayed.
        server.queue_faults("429", "500", "502", None, "503", "504", "reset", None,
                            "malformed", "timeout", None)
        # a client timeout far above loopback latency, so that only the held request times out
        results = api(server.url, sleeps, timeout_s=1.0).submit(packets)
        requests = server.requests()
        claims = server.claims()
    assert [r.outcome for r in results] == ["submitted"] * 3, [r.message for r in results]
    assert [r["fault"] for r in requests] == ["429", "500", "502", None, "503", "504", "reset", None,
                                              "malformed", "timeout", None]
    assert [r["idempotency_key"] for r in requests] == (
        [packets[0].idempotency_key] * 4 + [packets[1].idempotency_key] * 4
        + [packets[2].idempotency_key] * 3)
    assert Counter(c["idempotency_key"] for c in claims) == Counter(p.idempotency_key for p in packets)
    by_key = {c["idempotency_key"]: c["id"] for c in claims}
    assert [r.carrier_reference for r in results] == [by_key[p.idempotency_key] for p in packets]
    assert sleeps.calls[0] == 2.0          # the 429's Retry-After; no real sleeping happened
    assert len(sleeps.calls) == 8


def test_401_pauses_the_carrier_for_the_rest_of_the_batch(
        make_packet: Callable[..., ClaimPacket], sleeps: SleepRecorder) -> None:
    packets = [make_packet(n) for n in range(1, 4)]
    with SandboxServer(api_key="EZTK_right") as server:
        channel = api(server.url, sleeps, api_key="EZTK_wrong")
        results = channel.submit(packets)
        again = channel.submit([make_packet(9)])
        posts = [r for r in server.requests() if r["method"] == "POST"]
    assert [r.outcome for r in results] == ["paused"] * 3
    assert "401" in results[0].message
    assert "API_KEY" in results[0].message
    assert again[0].outcome == "paused"
    assert len(posts) == 1                  # not called again once paused
    assert channel.paused


def test_no_key_is_a_401_too(make_packet: Callable[..., ClaimPacket], sleeps: SleepRecorder) -> None:
    with SandboxServer() as server:
        [result] = api(server.url, sleeps, api_key=None).submit([make_packet()])
    assert result.outcome == "paused"
    assert "APIKEY.REQUIRED" in result.message


def test_422_needs_attention_with_the_carriers_message(
        make_packet: Callable[..., ClaimPacket], sleeps: SleepRecorder) -> None:
    with SandboxServer() as server:
        results = api(server.url, sleeps).submit([make_packet(1, tracking_number=""), make_packet(2)])
        posts = [r for r in server.requests() if r["method"] == "POST"]
    assert results[0].outcome == "needs_attention"
    assert "422" in results[0].message
    assert "tracking_code: must be present" in results[0].message
    assert results[1].outcome == "submitted"    # one bad claim does not stop the batch
    assert len(posts) == 2                      # 422 is not retried


def test_packets_that_must_not_be_filed_are_not_sent(
        make_packet: Callable[..., ClaimPacket], sleeps: SleepRecorder) -> None:
    with SandboxServer() as server:
        results = api(server.url, sleeps).submit([
            make_packet(1, amount=Decimal("0.00")),
            make_packet(2, carrier="ups"),
        ])
        assert server.requests() == []
    assert [r.outcome for r in results] == ["retry", "needs_attention"]


def test_find_after_a_crash(make_packet: Callable[..., ClaimPacket], sleeps: SleepRecorder) -> None:
    packet = make_packet(5)
    with SandboxServer("timeout=1", hold_s=0.6) as server:
        # The claim reaches the carrier but the answer never comes back: left for the next run.
        [lost] = api(server.url, sleeps, max_attempts=1, timeout_s=0.3).submit([packet])
        assert lost.outcome == "retry"
        assert len(server.claims()) == 1
        server.set_faults("")
        # After a crash the claim is in `submitting`: ask the carrier, do not file again.
        channel = api(server.url, sleeps)
        found = channel.find(packet)
        assert found is not None
        assert found.outcome == "submitted"
        assert found.carrier_reference == server.claims()[0]["id"]
        assert found.status == "submitted"
        assert channel.find(make_packet(6)) is None
        assert len(server.claims()) == 1
        assert [r["method"] for r in server.requests()].count("POST") == 1


def test_the_budget_leaves_the_rest_for_the_next_run(
        make_packet: Callable[..., ClaimPacket], sleeps: SleepRecorder) -> None:
    with SandboxServer("timeout=1", hold_s=0.5) as server:
        results = api(server.url, sleeps, batch_budget_s=0.5, timeout_s=0.3).submit(
            [make_packet(n) for n in range(1, 6)])
    assert [r.outcome for r in results] == ["retry"] * 5
    assert any("budget" in r.message for r in results)


def test_status_polling_reaches_a_final_state(
        make_packet: Callable[..., ClaimPacket], sleeps: SleepRecorder) -> None:
    packets = [make_packet(n, amount=Decimal("80.00")) for n in range(1, 9)]
    with SandboxServer("reject=0.3,partial=0.4,seed=2") as server:
        channel = api(server.url, sleeps)
        with channel:
            filed = channel.submit(packets)
            finals = {}
            for result in filed:
                assert result.carrier_reference is not None
                seen = []
                for _ in range(3):
                    status = channel.status(result.carrier_reference)
                    assert status is not None
                    seen.append(status.status)
                assert seen[0] == "in_review"
                finals[result.claim_id] = status
    outcomes = {s.status for s in finals.values()}
    assert outcomes <= {"approved", "approved_partial", "rejected"}
    assert len(outcomes) >= 2
    for s in finals.values():
        if s.status == "approved":
            assert s.approved_amount == Decimal("80.00")
        elif s.status == "approved_partial":
            assert s.approved_amount is not None
            assert Decimal("0") < s.approved_amount < Decimal("80.00")
        else:
            assert s.approved_amount is None


def test_cancel_through_the_channel(make_packet: Callable[..., ClaimPacket], sleeps: SleepRecorder) -> None:
    with SandboxServer() as server:
        channel = api(server.url, sleeps)
        [filed] = channel.submit([make_packet()])
        assert filed.carrier_reference is not None
        assert channel.cancel(filed.carrier_reference).status == "cancelled"


def test_the_budget_spans_the_channels_calls(
        make_packet: Callable[..., ClaimPacket], sleeps: SleepRecorder) -> None:
    # The claims service files one claim per call; the budget is the run's, not the call's.
    with SandboxServer("timeout=1", hold_s=0.5) as server:
        channel = api(server.url, sleeps, batch_budget_s=0.5, timeout_s=0.3)
        results = [channel.submit([make_packet(n)])[0] for n in range(1, 5)]
        posts = [r for r in server.requests() if r["method"] == "POST"]
    assert [r.outcome for r in results] == ["retry"] * 4
    assert len(posts) <= 3
    assert "budget" in results[-1].message
