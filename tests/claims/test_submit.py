"""Filing claims through the API channel against the sandbox carrier over real loopback HTTP."""

from __future__ import annotations

import json
from collections import Counter

import httpx
from sqlalchemy import select, text, update

from recoup.carriers.registry import get_carrier
from recoup.channels.base import ChannelConfig
from recoup.channels.registry import channel_for
from recoup.claims.service import expire, submit, sync
from recoup.clock import replay_clock
from recoup.sandbox import SandboxServer
from recoup.store.models import Claim

from .conftest import AS_OF, CLOCK, api_settings

C = Claim.__table__  # type: ignore[attr-defined]


def fileable(engine, carrier: str | None = None) -> int:  # type: ignore[no-untyped-def]
    q = (select(text("count(*)")).select_from(C).where(C.c.status == "ready")
         .where(C.c.claimed_cents > 0).where(C.c.deadline >= AS_OF))
    if carrier:
        q = q.where(C.c.carrier == carrier)
    with engine.connect() as c:
        return int(c.execute(q).scalar_one())


def statuses(engine) -> Counter[str]:  # type: ignore[no-untyped-def]
    with engine.connect() as c:
        return Counter(r.status for r in c.execute(select(C.c.status)))


def test_every_claim_filed_exactly_once_under_faults(audited, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    engine, contracts = audited
    todo = fileable(engine, "ups")
    assert todo > 10
    with SandboxServer("429=0.15,500=0.1,503=0.05,reset=0.05,malformed=0.05,timeout=0.03,seed=11",
                       hold_s=0.3) as sb:
        settings = api_settings(monkeypatch, sb.url, MAX_ATTEMPTS="3", BATCH_BUDGET_S="20",
                                TIMEOUT_S="0.2", BACKOFF_INITIAL_S="0.02", BACKOFF_MAX_S="0.1")
        for _ in range(8):
            submit(engine, settings, contracts, AS_OF, clock=CLOCK, carrier="ups")
            if fileable(engine, "ups") == 0:
                break
        assert fileable(engine, "ups") == 0
        claims = sb.claims()
        keys = Counter(c.get("idempotency_key") for c in claims)
        assert len(claims) == todo
        assert max(keys.values()) == 1
        with engine.connect() as c:
            filed = list(c.execute(select(C).where(C.c.status == "submitted")))
        assert len(filed) == todo
        assert all(r.carrier_reference and r.carrier_reference.startswith("clm_") and r.filed_at for r in filed)
        assert {r.carrier_reference for r in filed} == {c["id"] for c in claims}
        # statuses move on successive polls to a final state
        sb.set_faults("")
        for _ in range(3):
            sync(engine, settings, contracts, clock=CLOCK)
        with engine.connect() as c:
            st = Counter(r.status for r in c.execute(select(C.c.status).where(C.c.carrier == "ups")
                                                     .where(C.c.filed_at.is_not(None))))
        assert st["submitted"] == 0 and st["in_review"] == 0
        assert st["approved"] + st["approved_partial"] + st["rejected"] >= todo - st["credited"]


def test_dry_run_prints_packets_and_changes_nothing(audited, monkeypatch, sandbox) -> None:  # type: ignore[no-untyped-def]
    engine, contracts = audited
    settings = api_settings(monkeypatch, sandbox.url)
    before = statuses(engine)
    s = submit(engine, settings, contracts, AS_OF, clock=CLOCK, dry_run=True)
    assert len(s.packets) == fileable(engine) > 0
    p = s.packets[0]
    assert {"idempotency_key", "amount", "tracking_number", "kind", "attachments"} <= set(p)
    assert statuses(engine) == before
    assert sandbox.requests() == []


def test_401_pauses_the_carrier(audited, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    engine, contracts = audited
    with SandboxServer("", api_key="the-right-key") as sb:
        settings = api_settings(monkeypatch, sb.url, key="a-wrong-key")
        s = submit(engine, settings, contracts, AS_OF, clock=CLOCK, carrier="ups")
        assert "ups" in s.paused
        posts = [r for r in sb.requests() if r["method"] == "POST"]
        assert len(posts) == 1  # the first refusal pauses: no more calls
        assert statuses(engine)["submitting"] == 0
        again = submit(engine, settings, contracts, AS_OF, clock=CLOCK, carrier="ups")
        assert any("paused" in p for p in again.problems)
        assert len([r for r in sb.requests() if r["method"] == "POST"]) == 1


def test_422_needs_attention_with_the_carriers_message(audited, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    engine, contracts = audited
    settings = api_settings(monkeypatch, "http://127.0.0.1:9")

    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(422, json={"error": {"code": "CLAIM.INVALID", "message": "tracking_code is not insured"}})

    def factory(code: str, cfg: ChannelConfig):  # type: ignore[no-untyped-def]
        return channel_for(code, cfg, http_transport=httpx.MockTransport(refuse), sleep=lambda s: None)

    s = submit(engine, settings, contracts, AS_OF, clock=CLOCK, carrier="fedex", factory=factory)
    assert s.needs_attention > 0
    with engine.connect() as c:
        rows = list(c.execute(select(C).where(C.c.status == "needs_attention")))
    assert rows and all("not insured" in (r.message or "") for r in rows)


def test_claim_left_submitting_is_recovered_not_refiled(audited, monkeypatch, sandbox) -> None:  # type: ignore[no-untyped-def]
    engine, contracts = audited
    settings = api_settings(monkeypatch, sandbox.url)
    with engine.begin() as c:
        claim = c.execute(select(C).where(C.c.status == "ready").where(C.c.claimed_cents > 0)
                          .where(C.c.carrier == "ups").where(C.c.deadline >= AS_OF).order_by(C.c.id)).first()
        c.execute(update(C).where(C.c.id == claim.id).values(status="submitting"))
    # the carrier got the claim before the crash
    r = httpx.post(f"{sandbox.url}/v2/claims", auth=("k", ""), headers={"Idempotency-Key": claim.idempotency_key},
                   json={"tracking_code": claim.tracking_number, "type": get_carrier("ups").claim_type(claim.kind),
                         "amount": "1.00"})
    assert r.status_code in (200, 201)
    s = submit(engine, settings, contracts, AS_OF, clock=CLOCK, carrier="ups")
    assert s.recovered == 1
    with engine.connect() as c:
        got = c.execute(select(C).where(C.c.id == claim.id)).one()
    assert got.status == "submitted" and got.carrier_reference == r.json()["id"]
    per_key = Counter(x.get("idempotency_key") for x in sandbox.claims())
    assert per_key[claim.idempotency_key] == 1


def test_expiry_at_the_deadline(audited) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    engine, _ = audited
    with engine.connect() as c:
        first = c.execute(select(C.c.deadline).where(C.c.status == "ready").order_by(C.c.deadline)).scalars().first()
    assert first is not None
    assert expire(engine, first, clock=replay_clock(first)) == 0
    n = expire(engine, first + dt.timedelta(days=1), clock=replay_clock(first + dt.timedelta(days=1)))
    assert n >= 1
    with engine.connect() as c:
        hist = c.execute(text("select detail from claim_event where to_status='expired'")).fetchall()
    assert len(hist) == n and "passed" in hist[0][0]
    assert json.dumps(statuses(engine))  # serialisable
