"""Exactly once, whatever crashes: kill -9 of `claims submit` mid-batch, and two submitters at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from sqlalchemy import select

from recoup.sandbox import SandboxServer
from recoup.store.models import Claim

from ..conftest import SMALL
from .conftest import AS_OF, CARRIERS

C = Claim.__table__  # type: ignore[attr-defined]


def env_for(url: str, api: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECOUP_")}
    env.update(RECOUP_DATABASE_URL=url, RECOUP_CONTRACTS=str(SMALL / "contracts"))
    for c in CARRIERS:
        up = c.upper()
        env[f"RECOUP_CARRIERS__{up}__CHANNEL"] = "api"
        env[f"RECOUP_CARRIERS__{up}__API_URL"] = api
        env[f"RECOUP_CARRIERS__{up}__API_KEY"] = "k"
        env[f"RECOUP_CARRIERS__{up}__RATE_LIMIT_PER_S"] = "0"
    return env


def submit_cmd() -> list[str]:
    return [sys.executable, "-m", "recoup", "claims", "submit", "--as-of", AS_OF.isoformat(), "--format", "json"]


def fileable_keys(engine) -> set[str]:  # type: ignore[no-untyped-def]
    with engine.connect() as c:
        return {r.idempotency_key for r in c.execute(select(C).where(C.c.claimed_cents > 0)
                                                    .where(C.c.deadline >= AS_OF))}


def posts_per_key(sb: SandboxServer) -> Counter[str]:
    return Counter(r["idempotency_key"] for r in sb.requests()
                   if r["method"] == "POST" and r["path"] == "/v2/claims")


def db_url_of(engine) -> str:  # type: ignore[no-untyped-def]
    return engine.url.render_as_string(hide_password=False)


def test_kill_9_mid_batch_then_restart_files_each_claim_once(audited) -> None:  # type: ignore[no-untyped-def]
    engine, _ = audited
    keys = fileable_keys(engine)
    with SandboxServer("latency=0.15s,seed=1") as sb:
        env = env_for(db_url_of(engine), sb.url)
        p = subprocess.Popen(submit_cmd(), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while len(posts_per_key(sb)) < 5 and time.monotonic() < deadline and p.poll() is None:
            time.sleep(0.05)
        assert p.poll() is None, "the submitter finished before it could be killed"
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=10)
        sb.set_faults("")
        done = subprocess.run(submit_cmd(), env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        per_key = posts_per_key(sb)
        assert set(per_key) == keys
        assert max(per_key.values()) == 1, [k for k, n in per_key.items() if n > 1]
        assert Counter(c["idempotency_key"] for c in sb.claims()) == Counter(dict.fromkeys(keys, 1))
        with engine.connect() as c:
            left = [r.status for r in c.execute(select(C).where(C.c.idempotency_key.in_(keys)))]
        assert set(left) == {"submitted"}


def test_two_submitters_at_once_file_each_claim_once(audited) -> None:  # type: ignore[no-untyped-def]
    engine, _ = audited
    if engine.dialect.name != "postgresql":
        pytest.skip("two concurrent submitters are a PostgreSQL set-up (SQLite runs a single worker)")
    keys = fileable_keys(engine)
    with SandboxServer("latency=0.02s,seed=2") as sb:
        env = env_for(db_url_of(engine), sb.url)
        procs = [subprocess.Popen(submit_cmd(), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
        for p in procs:
            _, err = p.communicate(timeout=300)
            assert p.returncode == 0, err
        per_key = posts_per_key(sb)
        assert set(per_key) == keys
        assert max(per_key.values()) == 1
        assert len(sb.claims()) == len(keys)
