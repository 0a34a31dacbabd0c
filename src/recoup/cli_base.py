"""What every command module shares: the root typer app and its sub-apps, the per-run context
(settings, engine), one-line failures, option parsing (formats, dates, carrier and kind codes) and
the one clock of a command. Command modules (``recoup.cli``, ``recoup.cli_*``) import from here, and
``recoup.cli`` imports them all: no module imports the one that imports it (tests/test_layers.py)."""

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

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from recoup.settings import Settings

# Importing this module (and so `recoup --help`) loads typer, rich and recoup's light modules only:
# pandas, SQLAlchemy, pydantic and the rest are imported inside the commands that use them
# (tests/test_cli_fast.py checks it; bench/bench_cli.py times it).

app = typer.Typer(name="recoup", no_args_is_help=True, add_completion=True, pretty_exceptions_enable=False,
                  context_settings={"help_option_names": ["-h", "--help"]},
                  help="Gets money back from parcel carriers: audits scans and invoices against contracts, "
                       "files the claims, follows them to the credit.")
contracts_app = typer.Typer(no_args_is_help=True, help="Carrier contracts.")
ingest_app = typer.Typer(no_args_is_help=True, help="Load shipments, scans and invoices.")
app.add_typer(contracts_app, name="contracts")
app.add_typer(ingest_app, name="ingest")


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


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            v = version("recoup")
        except PackageNotFoundError:
            v = "unknown (not installed)"
        sys.stdout.write(f"recoup {v}\n")
        raise typer.Exit(0)


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


def _known_code(value: str, known: set[str], engine: Engine | None, column: Any, noun: str, hint: str) -> str:
    """``value`` as stored (lower case, ``-`` and spaces as ``_``) when it is one of ``known`` or, with
    ``engine``, a value of ``column`` in the database; else a usage error listing them all."""
    code = value.strip().lower().replace("-", "_").replace(" ", "_")
    if code in known:
        return code
    if engine is not None:
        from sqlalchemy import select

        with engine.connect() as conn:
            known = known | {str(r[0]) for r in conn.execute(select(column).distinct()) if r[0]}
        if code in known:
            return code
    raise typer.BadParameter(f"unknown {noun} {value!r}: one of {', '.join(sorted(known))}", param_hint=hint)


def carrier_code(value: str | None, engine: Engine | None = None, hint: str = "--carrier") -> str | None:
    """A carrier code as the user may type it (``UPS``, ``FedEx``, ``dpd-uk``), as stored (``ups``,
    ``fedex``, ``dpd_uk``); an unknown one is a usage error listing the known codes."""
    if value is None:
        return None
    from recoup.carriers.registry import REGISTRY
    from recoup.store.models import Shipment

    return _known_code(value, set(REGISTRY), engine, Shipment.__table__.c.carrier,  # type: ignore[attr-defined]
                       "carrier", hint)


def finding_kind(value: str | None, engine: Engine | None = None, hint: str = "--kind") -> str | None:
    """A finding kind (case-insensitive); an unknown one is a usage error listing the kinds."""
    if value is None:
        return None
    from recoup.audit.rules import BILLING_KINDS, SERVICE_KINDS
    from recoup.carriers.base import ALL_KINDS
    from recoup.store.models import Finding

    return _known_code(value, set(SERVICE_KINDS) | set(BILLING_KINDS) | set(ALL_KINDS), engine,
                       Finding.__table__.c.kind, "finding kind", hint)  # type: ignore[attr-defined]


def kind_help() -> str:
    from recoup.carriers.base import ALL_KINDS

    return "Finding kind, any case: " + ", ".join(sorted(ALL_KINDS)) + "."


def carrier_help(what: str = "Carrier code") -> str:
    from recoup.carriers.registry import REGISTRY

    return f"{what}, any case, - for _: " + ", ".join(sorted(REGISTRY)) + " (or any carrier in the database)."


AS_OF_HELP = "Replay this day (YYYY-MM-DD): recoup's clock reads it at 12:00 UTC; default: the wall clock."


def command_clock(as_of: str | None, name: str = "--as-of") -> Clock:
    """The one clock of a command: ``--as-of DAY`` replays DAY (at 12:00 UTC), else the wall clock.
    Built here and in the worker's wiring only; services get it passed."""
    return clock_for(parse_date(as_of, name))


# ----------------------------------------------------------------------------- help that reads like a man page

#: the value an option takes, as its help shows it, by long option name; a metavar given where the
#: option is declared wins (``--format`` of the reports takes a comma-separated list, of explain one of two)
METAVARS = {
    "--format": "[" + "|".join(FORMATS) + "]", "--kind": "KIND", "--carrier": "CARRIER", "--status": "STATUS",
    "--columns": "COL,...", "--sort": "[-]COL", "--limit": "N", "--as-of": "DAY", "--from": "DAY", "--to": "DAY",
    "--month": "YYYY-MM", "--db": "URL", "--config": "FILE", "--contracts": "DIR", "--out": "DIR",
    "--keep-db": "FILE", "--secret-file": "FILE", "--port": "PORT", "--host": "HOST", "--seed": "N",
    "--shipments": "N", "--faults": "SPEC", "--reason": "TEXT", "--amount": "AMOUNT", "--reference": "TEXT",
    "--worker-id": "ID", "--api-key": "KEY", "--hold": "SECONDS", "--header-timeout": "SECONDS",
    "--body-timeout": "SECONDS", "--max-body": "BYTES", "--workers": "N", "--max-connections": "N",
}
_BY_TYPE = {"int": "N", "float": "NUMBER", "str": "TEXT", "Path": "PATH", "PosixPath": "PATH", "date": "DAY"}


def _option_metavar(param: Any) -> str | None:
    """What the help shows after an option: nothing for a flag, ``[a|b]`` for a choice, a word in capitals
    for a value (``KIND``, ``DAY``, ``N``); never typer 0.29's ``<bool>`` / ``<str>`` / ``<list[Path]>``."""
    if param.metavar is not None:
        return str(param.metavar) or None
    if getattr(param, "is_flag", False) or getattr(param, "is_bool_flag", False) or getattr(param, "count", False):
        return None
    long = [o for o in param.opts if o.startswith("--")]
    if long and long[0] in METAVARS:
        return METAVARS[long[0]]
    desc = param.type_descriptor
    if desc.is_choice and desc.choices:
        return "[" + "|".join(str(getattr(c, "value", c)) for c in desc.choices) + "]"
    return _BY_TYPE.get(param.bare_type().removeprefix("list[").removesuffix("]"), "VALUE")


def _argument_name(param: Any) -> str:
    """An argument by its metavar (``FILE``) or its name in capitals (``CLAIM_ID``)."""
    return str(param.metavar) if param.metavar is not None else str(param.name).upper()


def _argument_usage(param: Any) -> str:
    """``FILE...`` when required, ``[FILE]...`` when not: click's convention, not typer 0.29's ``{files}...``."""
    name = _argument_name(param)
    name = name if param.required else f"[{name}]"
    return name + ("..." if param.nargs != 1 else "")


def _argument_type(param: Any) -> str | None:
    """The type column of an argument: its name says it (``FILE...``); a number says so."""
    return None if param.metavar is not None else {"int": "N", "list[int]": "N..."}.get(param.bare_type())


def _patch_help() -> None:
    """Typer 0.29 shows the Python type of every parameter (``<bool>``, ``<list[Path]>``); recoup shows
    what a person types. Its own ``metavar=`` on an argument is ignored in the type column, so the
    display methods are replaced here, once, for every command (tests/test_cli_conventions.py checks
    every command's help)."""
    from typer.core import TyperArgument, TyperOption

    TyperOption.display_type_rich = lambda self, ctx: _option_metavar(self)  # type: ignore[method-assign]
    TyperArgument.display_type_rich = lambda self, ctx: _argument_type(self)  # type: ignore[method-assign]
    TyperArgument.display_name_raw = property(_argument_name)  # type: ignore[method-assign,assignment]
    TyperArgument._usage_display_name = _argument_usage  # type: ignore[method-assign]


_patch_help()


@app.callback()
def main_options(
    ctx: typer.Context,
    db: str | None = typer.Option(None, "--db", envvar="RECOUP_DATABASE_URL", help="Database URL."),
    config: Path | None = typer.Option(None, "--config", envvar="RECOUP_CONFIG", help="Config TOML file."),
    contracts: Path | None = typer.Option(None, "--contracts", envvar="RECOUP_CONTRACTS", help="Contracts folder."),
    _version_: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    ctx.obj = Ctx(config, db, contracts)
    if not ctx.resilient_parsing and not _asks_for_help():
        ctx.obj.settings  # noqa: B018  (a broken config is a usage error before any command runs)
    ctx.call_on_close(ctx.obj.close)


def _asks_for_help() -> bool:
    """``-h``/``--help`` anywhere on the command line: help needs no settings."""
    return any(a in ("-h", "--help") for a in sys.argv[1:])


