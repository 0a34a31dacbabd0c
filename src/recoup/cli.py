"""The recoup command line: the entry point (``main``), the root typer app with its global options,
and the help conventions. Every command lives in ``recoup.commands``, one module per top-level command
(``recoup claims ...`` in ``recoup/commands/claims.py``), mounted below in the order ``recoup --help``
lists them. A command parses, calls its service, prints. Settings are built once per run, never at
import time."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from recoup.commands import (
    audit,
    backtest,
    claims,
    contracts,
    demo,
    doctor,
    explain,
    findings,
    ingest,
    init,
    recovered,
    report,
    rules,
    sandbox,
    serve,
    sla,
    worker,
)
from recoup.commands.base import Ctx, quiet_stdout
from recoup.output import FORMATS, stderr

# Importing this module (and so `recoup --help`) loads typer, rich and recoup's light modules only:
# pandas, SQLAlchemy, pydantic and the rest are imported inside the commands that use them
# (tests/test_cli_fast.py checks it; bench/bench_cli.py times it).

app = typer.Typer(name="recoup", no_args_is_help=True, add_completion=True, pretty_exceptions_enable=False,
                  context_settings={"help_option_names": ["-h", "--help"]},
                  help="Gets money back from parcel carriers: audits scans and invoices against contracts, "
                       "files the claims, follows them to the credit.")

# The commands, registered explicitly (a missing module is an import error, never a command silently
# left out): the top-level commands first, then the command groups.
app.command("init")(init.init)
app.command("audit")(audit.audit)
app.command("findings")(findings.findings)
app.command("backtest")(backtest.backtest)
app.command("recovered")(recovered.recovered)
app.command("demo")(demo.demo)
app.command("doctor")(doctor.doctor)
app.command("explain")(explain.explain)
app.command("sandbox")(sandbox.sandbox)
app.command("serve")(serve.serve)
app.command("rules")(rules.rules_)
app.add_typer(contracts.app, name="contracts")
app.add_typer(ingest.app, name="ingest")
app.add_typer(claims.app, name="claims")
app.add_typer(report.app, name="report")
app.add_typer(sla.app, name="sla")
app.add_typer(worker.app, name="worker")


# ----------------------------------------------------------------------------- global options

def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            v = version("recoup")
        except PackageNotFoundError:
            v = "unknown (not installed)"
        sys.stdout.write(f"recoup {v}\n")
        raise typer.Exit(0)


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


def _rich_broken_pipe(console: Any) -> None:
    """rich's default exits 1 when the reader of stdout goes away; for recoup that is a success."""
    console.quiet = True
    quiet_stdout()
    raise typer.Exit(0)


def main() -> None:
    from rich.console import Console

    Console.on_broken_pipe = _rich_broken_pipe  # type: ignore[method-assign,assignment]
    try:
        try:
            app()
        finally:
            try:
                sys.stdout.flush()
            except BrokenPipeError:
                quiet_stdout()
    except KeyboardInterrupt:
        stderr().print("interrupted")
        sys.exit(130)


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
    TyperArgument._usage_display_name = _argument_usage  # type: ignore[method-assign,assignment]


_patch_help()
