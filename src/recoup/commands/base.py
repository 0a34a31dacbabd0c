"""What every command module shares: the per-run context (settings, engine), one-line failures,
option parsing (formats, dates, carrier and kind codes) and the one clock of a command. The command
modules (``recoup.commands.<name>``, one per top-level command) import from here; ``recoup.cli`` holds
the root app and its global options and mounts them all. Nothing here or in a command module imports
``recoup.cli`` (tests/test_layers.py)."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from recoup.clock import Clock, clock_for
from recoup.errors import RecoupError, driver_message
from recoup.output import FORMATS, stderr
from recoup.redact import mask_urls
from recoup.vocabulary import FINDING_KINDS

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from recoup.settings import Settings

# Importing this module (and so `recoup --help`) loads typer, rich and recoup's light modules only:
# pandas, SQLAlchemy, pydantic and the rest are imported inside the commands that use them
# (tests/test_cli_fast.py checks it; bench/bench_cli.py times it).


@dataclass
class Ctx:
    """What the commands share: the settings, read on first use (so that `recoup claims --help` does not
    load pydantic), and one engine."""

    config: Path | None = None
    database_url: str | None = None
    contracts_folder: Path | None = None
    _settings: Settings | None = None
    _engine: Engine | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from recoup.settings import load_settings

            try:
                self._settings = load_settings(self.config, database_url=self.database_url,
                                               contracts=self.contracts_folder)
            except RecoupError as e:
                fail(str(e), 2)
        return self._settings

    def engine(self, *, check: bool = True) -> Engine:
        from recoup.store.db import check_schema, make_engine, require_database

        if self._engine is None:
            if check:
                require_database(self.settings.database_url)
            self._engine = make_engine(self.settings.database_url)
            if check:
                check_schema(self._engine)
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def contracts(self) -> Any:
        from recoup.sla.contracts import load_contracts

        return load_contracts(self.settings.contracts_dir())


def fail(msg: str, code: int = 1) -> NoReturn:
    from rich.markup import escape

    stderr().print(f"[red]error:[/red] {escape(mask_urls(msg))}", soft_wrap=True)
    raise typer.Exit(code)


def ctx_of(ctx: typer.Context) -> Ctx:
    obj = ctx.find_root().obj
    assert isinstance(obj, Ctx)
    return obj


def guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn recoup errors into one line on stderr and exit 1: never a traceback."""
    import errno
    import functools

    @functools.wraps(fn)
    def wrapper(*a: Any, **k: Any) -> Any:
        try:
            return fn(*a, **k)
        except RecoupError as e:
            fail(str(e))
        except BrokenPipeError:      # `recoup findings --format csv | head -1`: the reader has had enough
            quiet_stdout()
            raise typer.Exit(0) from None
        except Exception as e:
            if _database_error(e):
                # a locked SQLite file after the busy wait, a PostgreSQL server gone: one line, no traceback
                fail(f"the database is busy or unreachable ({driver_message(e)}): nothing was changed by the failed step; "
                     "try again, or check --db / RECOUP_DATABASE_URL")
            if not isinstance(e, OSError):
                raise
            if e.errno in (errno.ENOSPC, errno.EDQUOT):
                fail(f"disk full{f' writing {e.filename}' if e.filename else ''}: free some space and run the "
                     "command again (each file loads in one transaction, so nothing half-loaded was kept)")
            fail(f"{e.strerror or type(e).__name__}{f': {e.filename}' if e.filename else ''}")

    return wrapper


def _database_error(e: BaseException) -> bool:
    """SQLAlchemy's OperationalError or DBAPIError, without importing SQLAlchemy to ask (a command that
    never loaded it cannot raise its errors)."""
    exc = sys.modules.get("sqlalchemy.exc")
    return exc is not None and isinstance(e, (exc.OperationalError, exc.DBAPIError))


def quiet_stdout() -> None:
    """After a broken pipe: send what is left in stdout's buffer nowhere, so that Python's final flush
    does not print a traceback."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):   # not a real file (tests)
        pass


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise typer.BadParameter(f"one of {', '.join(FORMATS)}", param_hint="--format")
    return fmt


def parse_date(v: str | None, name: str) -> dt.date | None:
    if v is None:
        return None
    try:
        return dt.date.fromisoformat(v)
    except ValueError:
        raise typer.BadParameter(f"not a date (YYYY-MM-DD): {v!r}", param_hint=name) from None


def _known_code(value: str, known: set[str], stored: Callable[[], set[str]] | None, noun: str, hint: str) -> str:
    """``value`` as stored (lower case, ``-`` and spaces as ``_``) when it is one of ``known`` or, with
    ``stored``, of the values it reads from the database; else a usage error listing them all."""
    code = value.strip().lower().replace("-", "_").replace(" ", "_")
    if code in known:
        return code
    if stored is not None:
        known = known | stored()
        if code in known:
            return code
    raise typer.BadParameter(f"unknown {noun} {value!r}: one of {', '.join(sorted(known))}", param_hint=hint)


def carrier_code(value: str | None, engine: Engine | None = None, hint: str = "--carrier") -> str | None:
    """A carrier code as the user may type it (``UPS``, ``FedEx``, ``dpd-uk``), as stored (``ups``,
    ``fedex``, ``dpd_uk``); an unknown one is a usage error listing the known codes."""
    if value is None:
        return None
    from recoup.carriers.registry import REGISTRY
    from recoup.queries import stored_carriers

    return _known_code(value, set(REGISTRY), (lambda: stored_carriers(engine)) if engine is not None else None,
                       "carrier", hint)


def finding_kind(value: str | None, engine: Engine | None = None, hint: str = "--kind") -> str | None:
    """A finding kind (case-insensitive); an unknown one is a usage error listing the kinds."""
    if value is None:
        return None
    from recoup.queries import stored_kinds

    return _known_code(value, set(FINDING_KINDS),
                       (lambda: stored_kinds(engine)) if engine is not None else None, "finding kind", hint)


def kind_help() -> str:
    return "Finding kind, any case: " + ", ".join(sorted(FINDING_KINDS)) + "."


def carrier_help(what: str = "Carrier code") -> str:
    from recoup.carriers.registry import REGISTRY

    return f"{what}, any case, - for _: " + ", ".join(sorted(REGISTRY)) + " (or any carrier in the database)."


AS_OF_HELP = "Replay this day (YYYY-MM-DD): recoup's clock reads it at 12:00 UTC; default: the wall clock."


def command_clock(as_of: str | None, name: str = "--as-of") -> Clock:
    """The one clock of a command: ``--as-of DAY`` replays DAY (at 12:00 UTC), else the wall clock.
    Built here and in the worker's wiring only; services get it passed."""
    return clock_for(parse_date(as_of, name))
