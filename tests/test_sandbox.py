"""The sandbox carrier server's contract (spec/claims.md), over real HTTP on 127.0.0.1."""

from __future__ import annotations

import base64
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from recoup.errors import ConfigError
from recoup.sandbox import Faults, SandboxServer, parse_faults

CLAIM = {"tracking_code": "9400100208303109500669", "type": "damage", "amount": "100.00",
         "description": "Test description", "contact_email": "test@example.com",
         "invoice_attachments": ["data:image/png;base64,iVBORw0KGgo="]}


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer("seed=3") as server:
        yield server


@pytest.fixture
def client(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url, auth=("EZTK_any", ""), timeout=5) as c:
        yield c


def test_parse_faults_full_spec() -> None:
    f = parse_faults("429=0.2,500=0.1,502=0.05,503=0.05,timeout=0.05,reset=0.01,malformed=0.02,"
                     "latency=0.2s,reject=0.1,partial=0.1,seed=7,hold=250ms,retry_after=3")
    assert f.shares == {"429": 0.2, "500": 0.1, "502": 0.05, "503": 0.05, "timeout": 0.05,
                        "reset": 0.01, "malformed": 0.02}
    assert (f.latency_s, f.reject, f.partial, f.seed, f.hold_s, f.retry_after_s) == (
        0.2, 0.1, 0.1, 7, 0.25, 3)
    assert parse_faults("") == Faults()
    assert parse_faults(None).hold_s == 30.0


@pytest.mark.parametrize("spec", ["429=2", "bogus=0.1", "latency=fast", "seed=x", "500",
                                  "429=0.6,500=0.6", "reject=0.7,partial=0.4"])
def test_parse_faults_refuses_bad_specs(spec: str) -> None:
    with pytest.raises(ConfigError, match="sandbox faults"):
        parse_faults(spec)


def test_a_key_is_required(sandbox: SandboxServer) -> None:
    r = httpx.post(f"{sandbox.url}/v2/claims", json=CLAIM)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "APIKEY.REQUIRED"


def test_a_specific_key_can_be_demanded() -> None:
    with SandboxServer(api_key="right") as server:
        assert httpx.get(f"{server.url}/v2/claims", auth=("wrong", "")).status_code == 401
        assert httpx.get(f"{server.url}/v2/claims", auth=("right", "")).status_code == 200


def test_create_answers_an_easypost_claim(client: httpx.Client) -> None:
    r = client.post("/v2/claims", json=CLAIM, headers={"Idempotency-Key": "k1"})
    assert r.status_code == 201
    claim = r.json()
    assert claim["id"].startswith("clm_")
    assert claim["object"] == "Claim"
    assert claim["status"] == "submitted"
    assert claim["status_detail"] == "Claim was created."
    assert claim["requested_amount"] == "100.00"
    assert claim["approved_amount"] is None
    assert claim["tracking_code"] == CLAIM["tracking_code"]
    assert claim["history"][0]["status"] == "submitted"
    assert len(claim["attachments"]) == 1
    # every key of the recorded EasyPost Claim is there
    recorded_keys = {"approved_amount", "attachments", "check_delivery_address", "contact_email",
                     "created_at", "description", "history", "id", "insurance_amount", "insurance_id",
                     "mode", "object", "payment_method", "recipient_name", "requested_amount",
                     "salvage_value", "shipment_id", "status", "status_detail", "status_timestamp",
                     "tracking_code", "type", "updated_at"}
    assert recorded_keys <= set(claim)


def test_validation_answers_422_with_an_easypost_error(client: httpx.Client) -> None:
    r = client.post("/v2/claims", json={"type": "damage", "amount": "0"})
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "PARAMETER.INVALID"
    assert {e["field"] for e in error["errors"]} == {"tracking_code", "amount"}
    assert client.post("/v2/claims", content=b"{nope").status_code == 400
    assert client.post("/v2/claims", json={**CLAIM, "type": "misc"}).status_code == 422


def test_an_idempotency_key_files_once(client: httpx.Client, sandbox: SandboxServer) -> None:
    first = client.post("/v2/claims", json=CLAIM, headers={"Idempotency-Key": "same"})
    again = client.post("/v2/claims", json=CLAIM, headers={"Idempotency-Key": "same"})
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    other = client.post("/v2/claims", json={**CLAIM, "amount": "5.00"}, headers={"Idempotency-Key": "same"})
    assert other.status_code == 409
    assert len(sandbox.claims()) == 1
    assert sandbox.claims()[0]["idempotency_key"] == "same"
    found = client.get("/v2/claims", params={"idempotency_key": "same"}).json()
    assert [c["id"] for c in found["claims"]] == [first.json()["id"]]
    assert client.get("/v2/claims", params={"idempotency_key": "never"}).json()["claims"] == []


def test_successive_gets_move_the_claim_to_a_final_state(client: httpx.Client) -> None:
    claim_id = client.post("/v2/claims", json=CLAIM, headers={"Idempotency-Key": "g"}).json()["id"]
    statuses = [client.get(f"/v2/claims/{claim_id}").json()["status"] for _ in range(4)]
    assert statuses[:1] == ["in_review"]
    assert statuses[1] in ("approved", "approved_partial", "rejected")
    assert statuses[2:] == [statuses[1]] * 2
    final = client.get(f"/v2/claims/{claim_id}").json()
    assert [h["status"] for h in final["history"]] == [statuses[1], "in_review", "submitted"]
    assert client.get("/v2/claims/clm_nope").status_code == 404


def test_reject_and_partial_shares_decide_outcomes() -> None:
    with SandboxServer("reject=0.3,partial=0.3,seed=11") as server, \
            httpx.Client(base_url=server.url, auth=("k", "")) as c:
        outcomes = []
        for i in range(24):
            cid = c.post("/v2/claims", json=CLAIM, headers={"Idempotency-Key": f"o{i}"}).json()["id"]
            c.get(f"/v2/claims/{cid}")
            final = c.get(f"/v2/claims/{cid}").json()
            outcomes.append(final["status"])
            if final["status"] == "approved_partial":
                assert 0 < float(final["approved_amount"]) < 100
            elif final["status"] == "approved":
                assert final["approved_amount"] == "100.00"
            else:
                assert final["approved_amount"] is None
        assert {"approved", "approved_partial", "rejected"} == set(outcomes)
    with SandboxServer("reject=0.3,partial=0.3,seed=11") as server, \
            httpx.Client(base_url=server.url, auth=("k", "")) as c:
        again = []
        for i in range(24):
            cid = c.post("/v2/claims", json=CLAIM, headers={"Idempotency-Key": f"o{i}"}).json()["id"]
            c.get(f"/v2/claims/{cid}")
            again.append(c.get(f"/v2/claims/{cid}").json()["status"])
        assert again == outcomes      # deterministic with a seed


def test_cancel(client: httpx.Client) -> None:
    claim_id = client.post("/v2/claims", json=CLAIM).json()["id"]
    r = client.post(f"/v2/claims/{claim_id}/cancel")
    assert r.status_code == 200
    assert r.json()["status"] == "cancelled"
    assert client.get(f"/v2/claims/{claim_id}").json()["status"] == "cancelled"
    done = client.post("/v2/claims", json=CLAIM).json()["id"]
    client.get(f"/v2/claims/{done}")
    client.get(f"/v2/claims/{done}")
    assert client.post(f"/v2/claims/{done}/cancel").status_code == 422


def test_requests_are_recorded(client: httpx.Client, sandbox: SandboxServer) -> None:
    client.post("/v2/claims", json=CLAIM, headers={"Idempotency-Key": "r1"})
    client.get("/v2/claims", params={"idempotency_key": "r1"})
    over_http = httpx.get(f"{sandbox.url}/_sandbox/requests").json()
    assert over_http == sandbox.requests()
    assert [(r["method"], r["path"], r["idempotency_key"], r["status"]) for r in over_http] == [
        ("POST", "/v2/claims", "r1", 201), ("GET", "/v2/claims", None, 200)]
    assert all(r["at"].endswith("Z") for r in over_http)
    claims = httpx.get(f"{sandbox.url}/_sandbox/claims").json()
    assert [c["idempotency_key"] for c in claims] == ["r1"]


def test_faults_are_deterministic_with_a_seed() -> None:
    def run() -> list[int | None]:
        with SandboxServer("429=0.2,500=0.2,503=0.1,malformed=0.1,seed=5") as server, \
                httpx.Client(base_url=server.url, auth=("k", "")) as c:
            for _ in range(30):
                c.get("/v2/claims")
            return [r["status"] for r in server.requests()]

    first = run()
    assert first == run()
    assert {200, 429, 500, 503} <= set(first)


def test_429_carries_retry_after() -> None:
    with SandboxServer("429=1,retry_after=4") as server:
        r = httpx.get(f"{server.url}/v2/claims", auth=("k", ""))
        assert r.status_code == 429
        assert r.headers["Retry-After"] == "4"


def test_timeout_holds_then_closes_without_an_answer() -> None:
    with SandboxServer("timeout=1", hold_s=0.3) as server:
        started = time.monotonic()
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.post(f"{server.url}/v2/claims", json=CLAIM, auth=("k", ""), timeout=5)
        assert 0.25 < time.monotonic() - started < 3
        assert server.requests()[0]["status"] is None
        assert server.requests()[0]["fault"] == "timeout"
        assert len(server.claims()) == 1          # handled, but the answer was lost


def test_reset_and_malformed() -> None:
    with SandboxServer("reset=1") as server, pytest.raises(httpx.TransportError):
        httpx.post(f"{server.url}/v2/claims", json=CLAIM, auth=("k", ""), timeout=5)
    with SandboxServer("malformed=1") as server:
        r = httpx.post(f"{server.url}/v2/claims", json=CLAIM, auth=("k", ""), timeout=5)
        assert r.status_code == 201
        with pytest.raises(ValueError):
            r.json()


def test_stop_releases_held_requests() -> None:
    import threading
    server = SandboxServer("timeout=1", hold_s=30).start()
    errors: list[BaseException] = []

    def call() -> None:
        try:
            httpx.get(f"{server.url}/v2/claims", auth=("k", ""), timeout=10)
        except httpx.HTTPError as e:
            errors.append(e)

    t = threading.Thread(target=call)
    t.start()
    time.sleep(0.2)
    started = time.monotonic()
    server.stop()
    t.join(5)
    assert time.monotonic() - started < 3
    assert errors


def test_serve_prints_its_url_and_answers() -> None:
    code = "from recoup.sandbox import serve; serve(0, 'seed=1')"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("recoup sandbox listening on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[1]
        auth = "Basic " + base64.b64encode(b"k:").decode()
        r = httpx.post(f"{url}/v2/claims", json=CLAIM, headers={"Authorization": auth})
        assert r.status_code == 201
    finally:
        proc.terminate()
        proc.wait(5)
        if proc.stdout is not None:
            proc.stdout.close()
