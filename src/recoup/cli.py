"""The recoup command line: the root commands (init, contracts, ingest, audit, findings) and the entry
point; the other commands live in ``recoup.cli_*`` modules, registered below. Each command parses,
calls one service function, prints. Settings are built once per run, never at import time."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from recoup.cli_base import (  # noqa: F401  (Ctx: tests patch it here)
    AS_OF_HELP,
    Ctx,
    app,
    carrier_code,
    carrier_help,
    check_format,
    command_clock,
    contracts_app,
    ctx_of,
    fail,
    finding_kind,
    guarded,
    ingest_app,
    kind_help,
    parse_date,
    quiet_stdout,
)
from recoup.output import emit, stderr
from recoup.redact import mask_url

# ----------------------------------------------------------------------------- init, contracts

@app.command()
@guarded
def init(ctx: typer.Context) -> None:
    """Create or migrate the database; idempotent."""
    from recoup.settings import LOCAL_CONTRACTS, bundled_contracts_dir
    from recoup.store.db import init_db

    c = ctx_of(ctx)
    msg = init_db(c.engine(check=False))
    err = stderr()
    err.print(f"{msg}: {mask_url(c.settings.database_url)}", markup=False)
    folder = c.settings.contracts_dir()
    bundled = folder == bundled_contracts_dir()
    err.print(f"contracts: {folder}" + (" (the bundled defaults: published terms, not yours)" if bundled else ""),
              soft_wrap=True)
    steps = ["recoup doctor                              # check the setup: contracts, channels, inbox, SMTP"]
    if bundled:
        steps.append(f"recoup contracts export {LOCAL_CONTRACTS}   # copy the defaults, then edit your own terms")
    steps += ["recoup contracts check                     # validate and summarise the contracts",
              "recoup ingest shipments|scans|invoices FILE...",
              "recoup audit                               # findings and claims; then `recoup findings`",
              "recoup worker run                          # or let the schedule do it all (docs/deployment.md)"]
    err.print("next steps:\n" + "\n".join("  " + s for s in steps), soft_wrap=True, markup=False)


@contracts_app.command("export")
@guarded
def contracts_export(folder: Path = typer.Argument(Path("config/contracts"), metavar="FOLDER", help="Where to write them."),
                     force: bool = typer.Option(False, "--force", help="Overwrite files that exist.")) -> None:
    """Copy the bundled default contracts into FOLDER, to edit into your own terms."""
    import shutil

    from recoup.settings import bundled_contracts_dir

    src = bundled_contracts_dir()
    names = sorted(p.name for p in src.iterdir() if p.suffix in (".toml", ".md"))
    clash = [n for n in names if (folder / n).exists()]
    if clash and not force:
        fail(f"{folder} already has {', '.join(clash)}: give --force to overwrite, or another folder")
    folder.mkdir(parents=True, exist_ok=True)
    for n in names:
        shutil.copyfile(src / n, folder / n)
    stderr().print(f"wrote {len(names)} files to {folder}; recoup reads {folder} when it is config/contracts in "
                   "the working directory, else point --contracts / RECOUP_CONTRACTS at it", soft_wrap=True)


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
                                 contracts=contracts, on_file=lambda s: tick(s.path), progress=len(files) == 1)
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
        emit([{"path": s.path, "format": s.format or "-", "read": s.read, "stored": s.stored, "updated": s.updated,
               "duplicates": s.duplicates, "rejected": s.rejected + (1 if s.refused else 0),
               "outcome": "refused" if s.refused else ("ok" if s.ok else "partial")} for s in summaries],
             fmt, title=f"ingest {kind}")
        if reconciled is not None and reconciled.matched:
            err.print(f"reconciled {reconciled.matched} credit(s) with claims; {reconciled.unmatched} unmatched")
    if bad:
        raise typer.Exit(1)


FILES = typer.Argument(..., help="Files to load.", exists=False, metavar="FILE")
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
                 input_format: str = typer.Option("auto", "--input-format", metavar="[auto|canonical|easypost|fedex|ups]",
                                                 help="The files' format; auto recognises it."),
                 fmt: str = typer.Option("table", "--format", callback=check_format),
                 as_of: str | None = INGEST_AS_OF) -> None:
    """Load tracking events: canonical CSV, EasyPost, FedEx or UPS Track API JSON."""
    _ingest(ctx, "scans", files, input_format, fmt, as_of=as_of)


@ingest_app.command("invoices")
@guarded
def ingest_invoices(ctx: typer.Context, files: list[Path] = FILES,
                    input_format: str = typer.Option("auto", "--input-format", metavar="[auto|canonical|ups|fedex|dhl|pdf]",
                                                 help="The files' format; auto recognises it."),
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
             kind: str | None = typer.Option(None, "--kind", help=kind_help()),
             carrier: str | None = typer.Option(None, "--carrier", help=carrier_help()),
             claimable: bool | None = typer.Option(None, "--claimable/--not-claimable",
                                                        help="Only claimable findings, or only the others; default both."),
             withdrawn: bool = typer.Option(False, "--withdrawn", help="Also list withdrawn findings."),
             columns: str | None = typer.Option(None, "--columns", help="Comma-separated columns to show."),
             sort: str | None = typer.Option(None, "--sort", help="Sort by a column (-COL: descending), e.g. -amount."),
             limit: int | None = typer.Option(None, "--limit", help="At most this many rows (default all)."),
             fmt: str = typer.Option("table", "--format", callback=check_format)) -> None:
    """List findings. The table fits the terminal (columns give way, long reasons are cut); --format
    csv|json has every field."""
    from recoup.queries import FINDING_SORT, list_findings
    from recoup.tables import FINDINGS, page, show

    engine = ctx_of(ctx).engine()
    p = page(sort, limit, FINDING_SORT)      # --limit N reads N rows, not the whole table
    rows = list_findings(engine, kind=finding_kind(kind, engine), carrier=carrier_code(carrier, engine),
                         claimable=claimable, include_withdrawn=withdrawn, page=p)
    show(rows, fmt, FINDINGS, title="findings", columns=columns, sort=sort, limit=limit,
         total=p.total if p else None)


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


# The commands that live in their own modules, registered explicitly: each module adds its commands and
# sub-apps to `app` when imported, and imports nothing heavy at the top (a command imports its services
# when it runs). A missing module is an error, never a command silently left out.
from recoup import (  # noqa: E402, F401
    cli_backtest,
    cli_claims,
    cli_demo,
    cli_doctor,
    cli_explain,
    cli_more,
    cli_reports,
    cli_rules,
    cli_worker,
)

