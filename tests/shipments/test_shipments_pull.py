"""Tracking pull clients: pure builders, recorded responses through httpx.MockTransport, and
retries against a tiny HTTP server on 127.0.0.1. No test calls a public address."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pandas as pd
import pytest

from recoup.errors import CarrierAuthError
from recoup.shipments import pull

from ..conftest import SAMPLES

FEDEX_BODY = json.loads((SAMPLES / "tracking/fedex_track_v1_response_776094337676.json").read_text())
UPS_BODY = json.loads((SAMPLES / "tracking/ups_track_v1_response_openapi_example.json").read_text())
EP_RETRIEVE = json.loads((SAMPLES / "easypost/test_tracker_retrieve__2.json").read_text())
EP_CREATE = json.loads((SAMPLES / "easypost/test_tracker_create__1.json").read_text())
TRACKER_ID = "trk_e7e8f143f3eb40d38be9562e3767c36a"
LOCAL = "http://127.0.0.1:9"   # never contacted: MockTransport answers


class Sleeps(list):
    """Injected sleep: records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def fast(**extra: Any) -> dict[str, Any]:
    options: dict[str, Any] = {"sleep": Sleeps(), "rate_limit_per_s": None, "timeout_s": 2.0,
                               "max_attempts": 3, "backoff_initial_s": 0.1, "backoff_max_s": 1.0}
    options.update(extra)
    return options


# -- pure builders --------------------------------------------------------------------------


def test_request_builders():
    by_id = pull.easypost_request(TRACKER_ID)
    assert (by_id.method, str(by_id.url)) == ("GET", f"https://api.easypost.com/v2/trackers/{TRACKER_ID}")
    by_code = pull.easypost_request("EZ1000000001", carrier="USPS", base_url="http://x/")
    assert str(by_code.url) == "http://x/v2/trackers?tracking_code=EZ1000000001&carrier=USPS"

    fedex = pull.fedex_request(["1", "2"], access_token="tok")
    assert (fedex.method, fedex.url.path) == ("POST", "/track/v1/trackingnumbers")
    assert fedex.headers["Authorization"] == "Bearer tok"
    assert json.loads(fedex.content) == {"includeDetailedScans": True, "trackingInfo": [
        {"trackingNumberInfo": {"trackingNumber": "1"}}, {"trackingNumberInfo": {"trackingNumber": "2"}}]}

    ups = pull.ups_request("1Z 9/9", access_token="tok", trans_id="t" * 40)
    assert ups.url.raw_path.startswith(b"/api/track/v1/details/1Z%209%2F9?")
    assert ups.headers["transId"] == "t" * 32
    assert ups.headers["transactionSrc"] == "recoup"
    assert ups.headers["Authorization"] == "Bearer tok"


# -- recorded responses through MockTransport -------------------------------------------------


def test_easypost_replays_recorded_trackers():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == f"/v2/trackers/{TRACKER_ID}":
            return httpx.Response(EP_RETRIEVE["response"]["status"]["code"], json=EP_RETRIEVE["response"]["body"])
        if request.url.params.get("tracking_code") == "EZ1000000001":
            return httpx.Response(200, json={"trackers": [EP_CREATE["response"]["body"]], "has_more": False})
        if request.url.params.get("tracking_code") == "EZ404":
            return httpx.Response(200, json={"trackers": [], "has_more": False})
        return httpx.Response(404, json={"error": {"code": "NOT_FOUND", "message": "The requested resource could not be found."}})

    client = pull.easypost_client("sk_test", base_url=LOCAL, **fast(http_transport=httpx.MockTransport(handler)))
    results = pull.pull(client, [TRACKER_ID, "EZ1000000001", "EZ1000000001", " ", "EZ404", "trk_gone"])
    assert len(results) == 4   # the repeated and the blank number are not asked twice / at all
    assert [len(r.frame) for r in results] == [2, 2, 0, 0]
    assert all(r.format == "easypost" for r in results)
    assert set(results[0].frame["carrier"]) == {"usps"}
    assert results[2].errors[0].reason == "EZ404: EasyPost has no tracker for it"
    assert results[3].errors[0].reason.startswith("trk_gone: easypost: 404 NOT_FOUND")
    assert all(r.headers["Authorization"].startswith("Basic ") for r in seen)


def test_fedex_replays_recorded_response_and_batches_by_30():
    seen: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        assert request.headers["Authorization"] == "Bearer tok"
        return httpx.Response(200, json=FEDEX_BODY)

    client = pull.fedex_client("tok", base_url=LOCAL, **fast(http_transport=httpx.MockTransport(handler)))
    numbers = ["776094337676"] + [f"7000000000{i:02d}" for i in range(30)]
    results = pull.pull(client, numbers)
    assert [len(s["trackingInfo"]) for s in seen] == [30, 1]
    assert len(results) == 2
    assert len(results[0].frame) == 18
    assert len(results[0].extra["promised"]) == 2
    # the numbers FedEx's answer does not cover are row errors, not silence
    assert len(results[0].errors) == 29
    assert all("not in FedEx's answer" in e.reason for e in results[0].errors)
    assert results[1].errors[0].reason == "700000000029: not in FedEx's answer"


def test_ups_replays_recorded_response():
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/track/v1/details/1Z023E2X0214323462"
        assert request.headers["transId"]
        return httpx.Response(200, json=UPS_BODY)

    client = pull.ups_client("tok", base_url=LOCAL, **fast(http_transport=httpx.MockTransport(handler)))
    [result] = pull.pull(client, ["1Z023E2X0214323462"])
    assert result.frame["tracking_number"].tolist() == ["1Z023E2X0214323462"]
    # the sample's activity is in Wayne, NJ and has no gmt* fields: placed in America/New_York
    assert result.frame["occurred_at"].tolist() == [pd.Timestamp("2021-02-10T12:13:56Z")]
    assert not result.errors


def test_auth_failure_is_raised():
    client = pull.ups_client("bad", base_url=LOCAL, **fast(
        http_transport=httpx.MockTransport(lambda r: httpx.Response(401, json={"message": "expired token"}))))
    with pytest.raises(CarrierAuthError, match="401"):
        pull.pull(client, ["1Z023E2X0214323462"])


def test_timeouts_are_retried():
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ReadTimeout("slow", request=request)
        return httpx.Response(200, json=UPS_BODY)

    options = fast(http_transport=httpx.MockTransport(handler))
    [result] = pull.pull(pull.ups_client("tok", base_url=LOCAL, **options), ["1Z023E2X0214323462"])
    assert len(result.frame) == 1
    assert len(calls) == 2
    assert len(options["sleep"]) == 1


def test_rate_limit_spaces_requests():
    clock = [0.0]
    sleeps = Sleeps()

    def sleep(seconds: float) -> None:
        sleeps(seconds)
        clock[0] += seconds

    client = pull.ups_client("tok", base_url=LOCAL, **fast(
        rate_limit_per_s=2.0, sleep=sleep, monotonic=lambda: clock[0],
        http_transport=httpx.MockTransport(lambda r: httpx.Response(200, json=UPS_BODY))))
    pull.pull(client, ["1Z0000000000000001", "1Z0000000000000002", "1Z0000000000000003"])
    assert sleeps == [0.5, 0.5]


# -- a real loopback server -----------------------------------------------------------------


class Server:
    def __init__(self) -> None:
        self.queue: list[tuple[int, dict[str, str], bytes]] = []
        self.seen: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.url = ""


@pytest.fixture
def server() -> Iterator[Server]:
    state = Server()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _reply(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            with state.lock:
                state.seen.append((self.command, self.path))
                status, headers, body = state.queue.pop(0) if state.queue else (500, {}, b'{"message": "no script"}')
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = _reply
        do_POST = _reply

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def ok(body: dict) -> tuple[int, dict[str, str], bytes]:
    return 200, {}, json.dumps(body).encode()


def test_429_then_200_honours_retry_after(server: Server):
    server.queue = [(429, {"Retry-After": "2"}, b'{"message": "slow down"}'), ok(UPS_BODY)]
    options = fast()
    [result] = pull.pull(pull.ups_client("tok", base_url=server.url, **options), ["1Z023E2X0214323462"])
    assert len(result.frame) == 1
    assert not result.errors
    assert options["sleep"] == [2.0]
    assert [p for _, p in server.seen] == ["/api/track/v1/details/1Z023E2X0214323462?locale=en_US&returnSignature=false"] * 2


def test_503_then_200_backs_off(server: Server):
    server.queue = [(503, {}, b'{"message": "unavailable"}'), ok(FEDEX_BODY)]
    options = fast()
    [result] = pull.pull(pull.fedex_client("tok", base_url=server.url, **options), ["776094337676"])
    assert len(result.frame) == 18
    assert len(options["sleep"]) == 1
    assert 0.05 <= options["sleep"][0] <= 0.1   # exponential backoff with jitter from 0.1 s
    assert [m for m, _ in server.seen] == ["POST", "POST"]


def test_source_still_down_after_retries_reports_every_number(server: Server):
    server.queue = [(503, {}, b"{}")] * 3 + [ok(UPS_BODY)]
    options = fast()
    results = pull.pull(pull.ups_client("tok", base_url=server.url, **options), ["1Z0000000000000001", "1Z0000000000000002"])
    assert len(server.seen) == 3   # max_attempts, then the rest is not asked
    assert [r.frame.empty for r in results] == [True, True]
    reasons = [e.reason for r in results for e in r.errors]
    assert reasons[0].startswith("1Z0000000000000001: not pulled, try again later")
    assert reasons[1].startswith("1Z0000000000000002: not pulled")
    assert len(options["sleep"]) == 2


def test_connection_refused_is_retried_then_reported():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    options = fast()
    [result] = pull.pull(pull.easypost_client("k", base_url=f"http://127.0.0.1:{port}", **options), ["EZ1"])
    assert "connection error" in result.errors[0].reason
    assert len(options["sleep"]) == 2
