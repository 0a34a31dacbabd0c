"""The retry policy of spec/claims.md "Retries", driven through httpx.MockTransport."""

from __future__ import annotations

import base64
import datetime as dt
import logging
import time

import httpx
import pytest

from recoup.channels.transport import (
    Budget,
    BudgetExhausted,
    RateLimiter,
    Transport,
    carrier_message,
    parse_retry_after,
)
from recoup.errors import CarrierAuthError, FatalCarrierError, RetryableCarrierError

from .conftest import SleepRecorder

URL = "https://carrier.example/v2/claims"
SECRET = "sk_test_do_not_log_me"


class FakeClock:
    """A monotonic clock that the fake sleep advances."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def scripted(*answers: httpx.Response | Exception) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.MockTransport(handler), seen


def make(mock: httpx.MockTransport, clock: FakeClock, **kw: object) -> Transport:
    params: dict[str, object] = {"carrier": "usps", "api_key": SECRET, "timeout_s": 5.0,
                                 "rate_limit_per_s": None, "max_attempts": 5}
    params.update(kw)
    return Transport(sleep=clock.sleep, monotonic=clock.monotonic, http_transport=mock, **params)  # type: ignore[arg-type]


def post() -> httpx.Request:
    return httpx.Request("POST", URL, json={"a": 1}, headers={"Idempotency-Key": "k-1"})


def ok() -> httpx.Response:
    return httpx.Response(201, json={"id": "clm_1", "status": "submitted"})


def test_429_honours_retry_after() -> None:
    clock = FakeClock()
    mock, seen = scripted(httpx.Response(429, headers={"Retry-After": "7"}, json={}), ok())
    assert make(mock, clock).send(post()) == {"id": "clm_1", "status": "submitted"}
    assert clock.sleeps == [7.0]
    assert len(seen) == 2
    assert seen[0].headers["Idempotency-Key"] == seen[1].headers["Idempotency-Key"] == "k-1"


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
def test_server_errors_back_off_exponentially_with_jitter(status: int) -> None:
    clock = FakeClock()
    mock, seen = scripted(*[httpx.Response(status, json={})] * 4, ok())
    t = make(mock, clock, backoff_initial_s=1.0, backoff_max_s=100.0)
    assert t.send(post())["id"] == "clm_1"
    assert len(seen) == 5
    assert len(clock.sleeps) == 4
    for n, slept in enumerate(clock.sleeps):        # equal jitter: between half and all of 2**n
        assert 2**n / 2 <= slept <= 2**n


@pytest.mark.parametrize("exc", [httpx.ReadTimeout("slow"), httpx.ConnectError("refused"),
                                 httpx.RemoteProtocolError("Server disconnected")])
def test_timeouts_and_connection_errors_are_retried(exc: Exception) -> None:
    clock = FakeClock()
    mock, seen = scripted(exc, ok())
    assert make(mock, clock).send(post())["id"] == "clm_1"
    assert len(seen) == 2


def test_malformed_json_in_a_2xx_is_retried() -> None:
    clock = FakeClock()
    mock, seen = scripted(httpx.Response(201, content=b'{"id": "clm_1", "sta'), ok())
    assert make(mock, clock).send(post())["id"] == "clm_1"
    assert len(seen) == 2


@pytest.mark.parametrize("status", [400, 404, 409, 422])
def test_client_errors_are_fatal_and_never_retried(status: int) -> None:
    clock = FakeClock()
    body = {"error": {"code": "PARAMETER.INVALID", "message": "The claim could not be created.",
                      "errors": [{"field": "amount", "message": "must be greater than 0"}]}}
    mock, seen = scripted(httpx.Response(status, json=body))
    with pytest.raises(FatalCarrierError) as info:
        make(mock, clock).send(post())
    assert not isinstance(info.value, CarrierAuthError)
    assert info.value.status_code == status
    assert "amount: must be greater than 0" in str(info.value)
    assert len(seen) == 1
    assert clock.sleeps == []


@pytest.mark.parametrize("status", [401, 403])
def test_auth_errors(status: int) -> None:
    clock = FakeClock()
    mock, seen = scripted(httpx.Response(status, json={"error": {"code": "APIKEY.INACTIVE",
                                                                 "message": "bad key"}}))
    with pytest.raises(CarrierAuthError, match="bad key"):
        make(mock, clock).send(post())
    assert len(seen) == 1


def test_attempts_run_out_as_retryable() -> None:
    clock = FakeClock()
    mock, seen = scripted(httpx.Response(503, json={}))
    with pytest.raises(RetryableCarrierError, match="gave up after 3 attempts"):
        make(mock, clock, max_attempts=3).send(post())
    assert len(seen) == 3
    assert len(clock.sleeps) == 2


def test_the_batch_budget_stops_retries() -> None:
    clock = FakeClock()
    mock, seen = scripted(httpx.Response(429, headers={"Retry-After": "10"}, json={}))
    t = make(mock, clock, max_attempts=50)
    budget = t.budget(25)
    with pytest.raises(BudgetExhausted):
        t.send(post(), budget=budget)
    assert len(seen) == 3          # at 0 s, 10 s, 20 s; a wait to 30 s would pass the budget
    assert clock.now - 100 <= 25
    clock.now += 10
    with pytest.raises(BudgetExhausted):   # nothing is sent once the budget is spent
        t.send(post(), budget=budget)
    assert len(seen) == 3


def test_a_long_retry_after_gives_up_for_this_run() -> None:
    clock = FakeClock()
    mock, seen = scripted(httpx.Response(429, headers={"Retry-After": "3600"}, json={}))
    with pytest.raises(RetryableCarrierError, match="3600"):
        make(mock, clock, max_wait_s=60).send(post())
    assert len(seen) == 1
    assert clock.sleeps == []


def test_each_request_carries_a_timeout_capped_by_the_budget() -> None:
    clock = FakeClock()
    mock, seen = scripted(ok())
    t = make(mock, clock, timeout_s=20.0)
    t.send(post())
    t.send(post(), budget=Budget(3.0, monotonic=clock.monotonic))
    assert seen[0].extensions["timeout"]["read"] == 20.0
    assert seen[1].extensions["timeout"]["read"] == 3.0


def test_rate_limit_spaces_requests() -> None:
    clock = FakeClock()
    mock, _seen = scripted(ok())
    t = make(mock, clock, rate_limit_per_s=4.0)
    for _ in range(3):
        t.send(post())
    assert clock.sleeps == [0.25, 0.25]
    limiter = RateLimiter(None)
    assert limiter.reserve() == 0.0


def test_logs_never_carry_the_key(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    mock, _ = scripted(httpx.Response(500, json={}), httpx.Response(401, json={}))
    t = make(mock, clock)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(CarrierAuthError):
        t.send(post())
    assert caplog.records
    text = "\n".join(r.getMessage() for r in caplog.records) + repr(t)
    assert SECRET not in text
    assert base64.b64encode(f"{SECRET}:".encode()).decode() not in text


def test_session_reuses_one_client() -> None:
    clock = FakeClock()
    mock, _seen = scripted(ok())
    t = make(mock, clock)
    with t.session():
        client = t._client
        t.send(post())
        t.send(post())
        assert t._client is client
    assert t._client is None


@pytest.mark.parametrize(("value", "expected"), [
    ("5", 5.0), ("0.5", 0.5), ("-3", 0.0), ("", None), (None, None), ("soon", None),
])
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


def test_parse_retry_after_http_date() -> None:
    now = dt.datetime(2026, 11, 2, 12, 0, 0, tzinfo=dt.UTC)
    assert parse_retry_after("Mon, 02 Nov 2026 12:00:30 GMT", now=now) == 30.0


@pytest.mark.parametrize(("body", "expected"), [
    (b'{"error": {"code": "X.Y", "message": "Nope.", "errors": [{"field": "f", "message": "bad"}]}}',
     "X.Y: Nope. (f: bad)"),
    (b'{"message": "plain"}', "plain"),
    (b"<html>gateway</html>", "<html>gateway</html>"),
])
def test_carrier_message(body: bytes, expected: str) -> None:
    assert carrier_message(httpx.Response(400, content=body)) == expected


def test_nothing_sleeps_inside_the_retry_predicate(monkeypatch: pytest.MonkeyPatch,
                                                   sleeps: SleepRecorder) -> None:
    # The only waits are the injected sleep's: time.sleep is never called.
    def forbidden(_: float) -> None:
        raise AssertionError("time.sleep called")

    monkeypatch.setattr(time, "sleep", forbidden)
    mock, _ = scripted(httpx.Response(503, json={}), ok())
    t = Transport(carrier="usps", api_key="k", sleep=sleeps, rate_limit_per_s=1000.0,
                  http_transport=mock)
    assert t.send(post())["id"] == "clm_1"
    assert len(sleeps.calls) >= 1



def test_rate_limit_wait_past_the_budget_stops_at_once() -> None:
    clock = FakeClock()
    mock, seen = scripted(ok())
    t = make(mock, clock, rate_limit_per_s=0.5)     # one request every 2 s
    budget = t.budget(1.0)
    t.send(post(), budget=budget)
    with pytest.raises(BudgetExhausted, match="rate-limited"):
        t.send(post(), budget=budget)
    assert len(seen) == 1
    assert clock.sleeps == []
