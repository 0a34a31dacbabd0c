from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from recoup.audit.service import audit
from recoup.clock import replay_clock
from recoup.ingest.service import ingest_files
from recoup.sandbox import SandboxServer
from recoup.settings import Settings, load_settings
from recoup.sla.contracts import ContractSet, load_contracts

from ..conftest import SMALL

AS_OF = dt.date(2026, 11, 16)
CLOCK = replay_clock(AS_OF)
CARRIERS = ("ups", "fedex", "dpd_uk", "royal_mail")


def load_small(engine: Engine, *, credits: bool = False) -> ContractSet:
    contracts = load_contracts(SMALL / "contracts")
    ingest_files(engine, "shipments", [SMALL / "shipments.csv"], clock=CLOCK)
    ingest_files(engine, "scans", [SMALL / "scans.csv"], clock=CLOCK, contracts=contracts)
    ingest_files(engine, "invoices", sorted((SMALL / "invoices").glob("*.csv")), clock=CLOCK, contracts=contracts)
    audit(engine, contracts, AS_OF, clock=CLOCK)
    if credits:
        ingest_files(engine, "invoices", sorted((SMALL / "credits").glob("*.csv")), clock=CLOCK, contracts=contracts)
    return contracts


@pytest.fixture
def audited(engine: Engine) -> tuple[Engine, ContractSet]:
    return engine, load_small(engine)


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer("", hold_s=0.5) as s:
        yield s


def api_settings(monkeypatch: pytest.MonkeyPatch, url: str, key: str = "test-key", **extra: str) -> Settings:
    for c in CARRIERS:
        up = c.upper()
        monkeypatch.setenv(f"RECOUP_CARRIERS__{up}__CHANNEL", "api")
        monkeypatch.setenv(f"RECOUP_CARRIERS__{up}__API_URL", url)
        monkeypatch.setenv(f"RECOUP_CARRIERS__{up}__API_KEY", key)
        monkeypatch.setenv(f"RECOUP_CARRIERS__{up}__RATE_LIMIT_PER_S", "0")
        monkeypatch.setenv(f"RECOUP_CARRIERS__{up}__TIMEOUT_S", "2")
        for k, v in extra.items():
            monkeypatch.setenv(f"RECOUP_CARRIERS__{up}__{k.upper()}", v)
    monkeypatch.delenv("RECOUP_CONFIG", raising=False)
    return load_settings()
