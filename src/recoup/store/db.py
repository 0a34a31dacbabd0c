"""Engine, sessions and schema migrations (Alembic, run by ``recoup init``)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import CursorResult, create_engine, event, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session

from recoup.errors import StoreError
from recoup.redact import mask_url, mask_urls

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str) -> Engine:
    try:
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"timeout": 60})

            @event.listens_for(engine, "connect")
            def _pragmas(dbapi_conn: Any, _rec: Any) -> None:
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.execute("PRAGMA busy_timeout=60000")
                cur.close()

            return engine
        return create_engine(url, pool_pre_ping=True)
    except (ArgumentError, ImportError) as e:
        raise StoreError(f"database URL {mask_url(url)!r}: {mask_urls(str(e))}") from None


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: committed on success, rolled back on any error."""
    with Session(engine, expire_on_commit=False) as s:
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def init_db(engine: Engine) -> str:
    """Create or migrate the schema to the newest version; idempotent. Returns what it did."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    cfg = _alembic_config(engine)
    try:
        with engine.connect() as conn:
            before = MigrationContext.configure(conn).get_current_revision()
        head = ScriptDirectory.from_config(cfg).get_current_head()
        if before == head:
            return f"database is up to date (revision {head})"
        command.upgrade(cfg, "head")
    except OperationalError as e:
        raise StoreError(f"cannot open the database: {e.orig}") from None
    return f"database created (revision {head})" if before is None else f"database migrated {before} -> {head}"


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for another database or an in-memory one)."""
    if not url.startswith("sqlite"):
        return None
    rest = url.split(":///", 1)[1] if ":///" in url else ""
    rest = rest.split("?", 1)[0]
    if not rest or rest == ":memory:" or rest.startswith("file::memory:"):
        return None
    return Path(rest)


def require_database(url: str) -> None:
    """Refuse before connecting when a SQLite file does not exist: connecting would leave an empty
    file behind (only ``recoup init`` and the worker create the database)."""
    path = sqlite_file(url)
    if path is not None and not path.exists():
        raise StoreError(f"no database at {path}: run `recoup init` first")


_REVISION = re.compile(r"^(down_)?revision\s*(?::[^=\n]*)?=\s*(.+)$", re.M)


@functools.cache
def head_revision() -> str:
    """The newest migration's revision, read from the files of ``migrations/versions`` (their
    ``revision`` and ``down_revision`` lines) without importing Alembic, which costs a command that
    only reads a third of a second; tests/store/test_init.py checks it agrees with Alembic's head."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for p in (MIGRATIONS / "versions").glob("*.py"):
        for m in _REVISION.finditer(p.read_text(encoding="utf-8")):
            (parents if m.group(1) else revisions).update(re.findall(r"['\"]([^'\"]+)['\"]", m.group(2)))
    heads = revisions - parents
    if len(heads) == 1:
        return heads.pop()
    from alembic.script import ScriptDirectory  # several heads or none: let Alembic say

    return str(ScriptDirectory.from_config(_alembic_config(None)).get_current_head())  # type: ignore[arg-type]


def check_schema(engine: Engine) -> None:
    """Refuse to work on a database that `recoup init` has not made or migrated."""
    try:
        with engine.connect() as conn:
            tables = inspect(conn).get_table_names()
            current = None
            if "alembic_version" in tables:
                current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except OperationalError as e:
        raise StoreError(f"cannot open the database: {e.orig}") from None
    head = head_revision()
    if current is None:
        raise StoreError("the database has no recoup schema" + (" (it has other tables)" if tables else "")
                         + ": run `recoup init` first")
    if current != head:
        raise StoreError(f"the database is at revision {current}, this recoup needs {head}: run `recoup init` to migrate")


def inserted_id(res: CursorResult[Any]) -> int:
    """The integer key of the one row an INSERT added."""
    key = res.inserted_primary_key
    if key is None:  # pragma: no cover - every insert this is used for is of one row with an integer key
        raise RuntimeError("the database returned no key for the inserted row")
    return int(key[0])
