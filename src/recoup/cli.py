"""The recoup command line: a typer root app composing sub-apps. Each command parses, calls one
service function, prints. Settings are built once here, never at import time."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import typer
from sqlalchemy.engine import Engine

from recoup.clock import Clock, clock_for
from recoup.errors import RecoupError
from recoup.output import FORMATS, emit, stderr
from recoup.settings import Settings, load_settings

app = typer.Typer(name="recoup", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Gets money back from parcel carriers: audits scans and invoices against contracts, "
                       "files the claims, follows them to the credit.")
contracts_app = typer.Typer(no_args_is_help=True, help="Carrier contracts.")
ingest_app = typer.Typer(no_args_is_help=True, help="Load shipments, scans and invoices.")
app.add_typer(contracts_app, name="contracts")
app.add_typer(ingest_app, name="ingest")


@dataclass
class Ctx:
    settings: Settings
    _engine: Engine | None = None

    def engine(self, *, check: bool = True) -> Engine:
        from recoup.store.db import check_schema, make_engine

        if self._engine is None:
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
    stderr().print(f"[red]error:[/red] {msg}", soft_wrap=True)
    raise typer.Exit(code)


def ctx_of(ctx: typer.Context) -> Ctx:
    obj = ctx.find_root().obj
    assert isinstance(obj, Ctx)
    return obj


def guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn recoup errors into one line on stderr and exit 1: never a traceback."""
    import functools

    @functools.wraps(fn)
    def wrapper(*a: Any, **k: Any) -> Any:
        try:
            return fn(*a, **k)
        except RecoupError as e:
            fail(str(e))

    return wrapper


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


AS_OF_HELP = "Replay this day (YYYY-MM-DD): recoup's clock reads it at 12:00 UTC; default: the wall clock."


def command_clock(as_of: str | None, name: str = "--as-of") -> Clock:
    """The one clock of a command: ``--as-of DAY`` replays DAY (at 12:00 UTC), else the wall clock.
    Built here and in the worker's wiring only; services get it passed."""
    return clock_for(parse_date(as_of, name))


@app.callback()
def main_options(
    ctx: typer.Context,
    db: str | None = typer.Option(None, "--db", envvar="RECOUP_DATABASE_URL", help="Database URL."),
    config: Path | None = typer.Option(None, "--config", envvar="RECOUP_CONFIG", help="Config TOML file."),
    contracts: Path | None = typer.Option(None, "--contracts", envvar="RECOUP_CONTRACTS", help="Contracts folder."),
) -> None:
    try:
        settings = load_settings(config, database_url=db, contracts=contracts)
    except RecoupError as e:
        fail(str(e), 2)
    ctx.obj = Ctx(settings)
    ctx.call_on_close(ctx.obj.close)


# ----------------------------------------------------------------------------- init, contracts

@app.command()
@guarded
def init(ctx: typer.Context) -> None:
    """Create or migrate the database; idempotent."""
    from recoup.store.db import init_db

    c = ctx_of(ctx)
    msg = init_db(c.engine(check=False))
    stderr().print(f"{msg}: {c.settings.database_url}")


@contracts_app.command("check")
@guarded
def contracts_check(ctx: typer.Context, fmt: str = typer.Option("table", "--format", callback=check_format)) -> None:
    """Validate and summarise every contract of the contracts folder."""
    c = ctx_of(ctx)
    cs = c.contracts()
    rows = []
    for k in cs.contracts:
        rows.append({
            "file": k.path.name, "carrier": k.carrier, "name": k.name, "currency": k.currency,
            "accounts": ", ".join(k.account_numbers) or "all",
            "services": len(k.services), "guaranteed": sum(s.guaranteed for s in k.services.values()),
            "rate_cards": sum(s.rates is not None for s in k.services.values()),
            "fuel_rows": len(k.fuel), "das_codes": len(k.das_postal_codes or ()),
            "channel": k.claims.channel, "calendar": k.calendar.country + (f"-{k.calendar.subdivision}" if k.calendar.subdivision else ""),
            "timezone": k.calendar.timezone,
        })
    emit(rows, fmt, title=f"contracts in {cs.folder}")
    problems = cs.errors + cs.conflicts()
    for p in problems:
        stderr().print(f"[red]error:[/red] {p}", soft_wrap=True)
    if not cs.contracts and not cs.errors:
        fail(f"no contracts (*.toml) in {cs.folder}")
    if problems:
        raise typer.Exit(1)


# ----------------------------------------------------------------------------- ingest

def _ingest(ctx: typer.Context, kind: str, files: list[Path], input_format: str, fmt: str,
            carrier: str | None = None, as_of: str | None = None) -> None:

    from recoup.ingest.formats import names
    from recoup.ingest.service import ingest_files

    if input_format not in names(kind):
        raise typer.BadParameter(f"one of {', '.join(names(kind))}", param_hint="--input-format")
    clock = command_clock(as_of)     # when the data arrived: now, or the replayed day
    c = ctx_of(ctx)
    engine = c.engine()
    contracts = c.contracts() if kind in ("scans", "invoices") and c.settings.contracts_dir().is_dir() else None
    from recoup.progress import file_progress

    with file_progress(len(files), f"ingest {kind}") as tick:
        summaries = ingest_files(engine, kind, files, clock=clock, input_format=input_format, carrier=carrier,
                                 contracts=contracts, on_file=lambda s: tick(s.path))
    reconciled = None
    if kind == "invoices" and any(s.invoices for s in summaries):
        from recoup.claims.reconcile import reconcile

        reconciled = reconcile(engine, clock=clock)
    bad = False
    err = stderr()
    for s in summaries:
        if s.refused:
            bad = True
            err.print(f"[red]refused[/red] {s.path}: {s.refused}", soft_wrap=True)
        for e in s.errors:
            bad = True
            where = f"line {e.line}" if e.line is not None else "file"
            col = f", column {e.column}" if e.column else ""
            err.print(f"[red]rejected[/red] {s.path}: {where}{col}: {e.reason}", soft_wrap=True)
        for code, n in sorted(s.unknown_codes.items()):
            err.print(f"[yellow]warning[/yellow] {s.path}: unknown code {code} ({n}x)", soft_wrap=True)
        for note in s.notes:
            err.print(f"[yellow]note[/yellow] {s.path}: {note}", soft_wrap=True)
    if fmt == "json":
        out: dict[str, Any] = {"files": [s.as_dict() for s in summaries]}
        if reconciled is not None:
            out["reconciled"] = reconciled.as_dict()
        sys.stdout.write(json.dumps(out, indent=1) + "\n")
    else:
        emit([{"path": s.path, "format": s.format or "-", "read": s.read, "stored": s.stored,
               "duplicates": s.duplicates, "rejected": s.rejected + (1 if s.refused else 0),
               "outcome": "refused" if s.refused else ("ok" if s.ok else "partial")} for s in summaries],
             fmt, title=f"ingest {kind}")
        if reconciled is not None and reconciled.matched:
            err.print(f"reconciled {reconciled.matched} credit(s) with claims; {reconciled.unmatched} unmatched")
    if bad:
        raise typer.Exit(1)


FILES = typer.Argument(..., help="Files to load.", exists=False)
INGEST_AS_OF = typer.Option(None, "--as-of", help="Record the files as arrived on this day (12:00 UTC); default now.")


@ingest_app.command("shipments")
@guarded
def ingest_shipments(ctx: typer.Context, files: list[Path] = FILES,
                     fmt: str = typer.Option("table", "--format", callback=check_format),
                     as_of: str | None = INGEST_AS_OF) -> None:
    """Load shipment manifests (canonical CSV)."""
    _ingest(ctx, "shipments", files, "auto", fmt, as_of=as_of)


@ingest_app.command("scans")
@guarded
def ingest_scans(ctx: typer.Context, files: list[Path] = FILES,
                 input_format: str = typer.Option("auto", "--input-format", help="auto|canonical|easypost|fedex|ups"),
                 fmt: str = typer.Option("table", "--format", callback=check_format),
                 as_of: str | None = INGEST_AS_OF) -> None:
    """Load tracking events: canonical CSV, EasyPost, FedEx or UPS Track API JSON."""
    _ingest(ctx, "scans", files, input_format, fmt, as_of=as_of)


@ingest_app.command("invoices")
@guarded
def ingest_invoices(ctx: typer.Context, files: list[Path] = FILES,
                    input_format: str = typer.Option("auto", "--input-format", help="auto|canonical|ups|fedex|dhl|pdf"),
                    carrier: str | None = typer.Option(None, "--carrier", help="Carrier code, for formats that do not say it."),
                    fmt: str = typer.Option("table", "--format", callback=check_format),
                    as_of: str | None = INGEST_AS_OF) -> None:
    """Load carrier invoices (CSV or PDF); reconciles credits with claims afterwards."""
    _ingest(ctx, "invoices", files, input_format, fmt, carrier, as_of=as_of)


# ----------------------------------------------------------------------------- audit, findings

@app.command()
@guarded
def audit(ctx: typer.Context,
          as_of: str | None = typer.Option(None, "--as-of", help="Audit date (YYYY-MM-DD), replayed at 12:00 UTC; "
                                                                 "default today (UTC), on the wall clock."),
          full: bool = typer.Option(False, "--full", help="Re-judge every shipment (by default only those whose data, or whose windows, changed)."),
          fmt: str = typer.Option("table", "--format", callback=check_format)) -> None:
    """Run every audit rule; write findings; open claims for claimable findings. Idempotent."""
    from recoup.audit.service import audit as run

    c = ctx_of(ctx)
    clock = command_clock(as_of)
    day = clock.today()
    cs = c.contracts()
    s = run(c.engine(), cs, day, clock=clock, approval_threshold=c.settings.approval_threshold, full=full)
    err = stderr()
    for w, n in sorted(s.warnings.items()):
        err.print(f"[yellow]warning[/yellow] {w}" + (f" ({n}x)" if n > 1 else ""), soft_wrap=True)
    rows = [{"kind": k, "findings": n} for k, n in sorted(s.by_kind.items())]
    if fmt == "json":
        sys.stdout.write(json.dumps({"as_of": day.isoformat(), "shipments": s.shipments, "findings": s.findings,
                                     "new": s.new, "updated": s.updated, "withdrawn": s.withdrawn,
                                     "claims_opened": s.claims_opened, "claims_cancelled": s.claims_cancelled,
                                     "by_kind": dict(s.by_kind), "warnings": dict(s.warnings)}, indent=1) + "\n")
        return
    emit(rows, fmt, title=f"audit as of {day}: {s.shipments} shipments")
    err.print(f"{s.findings} findings ({s.new} new, {s.updated} updated, {s.withdrawn} withdrawn); "
              f"{s.claims_opened} claims opened, {s.claims_cancelled} cancelled")


@app.command()
@guarded
def findings(ctx: typer.Context,
             kind: str | None = typer.Option(None, "--kind"),
             carrier: str | None = typer.Option(None, "--carrier"),
             claimable: bool | None = typer.Option(None, "--claimable/--not-claimable"),
             withdrawn: bool = typer.Option(False, "--withdrawn", help="Also list withdrawn findings."),
             fmt: str = typer.Option("table", "--format", callback=check_format)) -> None:
    """List findings."""
    from recoup.queries import list_findings

    rows = list_findings(ctx_of(ctx).engine(), kind=kind, carrier=carrier, claimable=claimable,
                         include_withdrawn=withdrawn)
    if fmt == "table":
        cols = ["id", "kind", "carrier", "tracking_number", "invoice_number", "amount", "currency", "claimable",
                "deadline", "claim_id", "reason"]
        emit(rows, fmt, columns=cols, title="findings")
    else:
        emit(rows, fmt)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        stderr().print("interrupted")
        sys.exit(130)


def register(module: str) -> None:
    """Sub-apps that live in their own modules register themselves here."""
    import importlib

    importlib.import_module(module)


for _m in ("recoup.cli_claims", "recoup.cli_more", "recoup.cli_reports", "recoup.cli_worker", "recoup.cli_explain", "recoup.cli_demo",
           "recoup.cli_rules"):
    try:
        register(_m)
    except ModuleNotFoundError as _e:
        if _e.name != _m:
            raise
