"""Shared fixtures: databases (SQLite always; PostgreSQL when RECOUP_TEST_DATABASE_URL answers), the
acceptance data, and a CLI runner."""

from __future__ import annotations

import gc
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from recoup.store.db import init_db, make_engine

# The paths tests share: take them from here (``from ..conftest import SMALL``), never recompute them.
ROOT = Path(__file__).resolve().parents[1]                  # the repository
SHARED = (ROOT / ".." / "shared").resolve()                 # the spec, acceptance data and samples
ACCEPTANCE = SHARED / "acceptance"
SMALL = ACCEPTANCE / "small"
SMALL_FORMATS = ACCEPTANCE / "small-formats"
REAL_FORMATS = ACCEPTANCE / "real-formats"
SAMPLES = SHARED / "samples"

_PG_STATE: dict[str, str | None] = {}


def postgres_url() -> str | None:
    """The test PostgreSQL URL when set and reachable; None (and the reason remembered) otherwise."""
    if "url" in _PG_STATE:
        return _PG_STATE["url"]
    url = os.environ.get("RECOUP_TEST_DATABASE_URL")
    if not url:
        _PG_STATE.update(url=None, why="RECOUP_TEST_DATABASE_URL is not set")
        return None
    try:
        import psycopg

        raw = url.replace("postgresql+psycopg://", "postgresql://", 1)
        with psycopg.connect(raw, connect_timeout=3) as c:
            c.execute("select 1")
    except Exception as e:
        _PG_STATE.update(url=None, why=f"PostgreSQL at {url} does not answer: {type(e).__name__}")
        return None
    _PG_STATE.update(url=url, why=None)
    return url


def _pg_schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL: SQLite in tmp_path, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'recoup.db'}"
        return
    base = postgres_url()
    if base is None:
        pytest.skip(f"PostgreSQL tests skipped: {_PG_STATE.get('why')}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1), poolclass=NullPool)
    with admin.begin() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield _pg_schema_url(base, schema)
    finally:
        # A connection this test left open (an engine never disposed) is reported here, at the test
        # that leaked it, rather than whenever the garbage collector happens to run later.
        gc.collect()
        with admin.begin() as c:
            c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    init_db(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    eng = make_engine(f"sqlite:///{tmp_path / 'recoup.db'}")
    init_db(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def cli_env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment for CLI tests: a fresh DB and the acceptance contracts."""
    env = {"RECOUP_DATABASE_URL": db_url, "RECOUP_CONTRACTS": str(SMALL / "contracts")}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("RECOUP_CONFIG", raising=False)
    return env
