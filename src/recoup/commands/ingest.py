"""`recoup ingest shipments|scans|invoices|inbox`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from recoup.commands.base import AS_OF_HELP, check_format, command_clock, ctx_of, fail, guarded
from recoup.output import emit, stderr

app = typer.Typer(no_args_is_help=True, help="Load shipments, scans and invoices.")


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

        reconciled = reconcile(engine, clock=clock)     # the claims flow: credits on the new invoices pay claims
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


@app.command("shipments")
@guarded
def ingest_shipments(ctx: typer.Context, files: list[Path] = FILES,
                     fmt: str = typer.Option("table", "--format", callback=check_format),
                     as_of: str | None = INGEST_AS_OF) -> None:
    """Load shipment manifests (canonical CSV)."""
    _ingest(ctx, "shipments", files, "auto", fmt, as_of=as_of)


@app.command("scans")
@guarded
def ingest_scans(ctx: typer.Context, files: list[Path] = FILES,
                 input_format: str = typer.Option("auto", "--input-format", metavar="[auto|canonical|easypost|fedex|ups]",
                                                 help="The files' format; auto recognises it."),
                 fmt: str = typer.Option("table", "--format", callback=check_format),
                 as_of: str | None = INGEST_AS_OF) -> None:
    """Load tracking events: canonical CSV, EasyPost, FedEx or UPS Track API JSON."""
    _ingest(ctx, "scans", files, input_format, fmt, as_of=as_of)


@app.command("invoices")
@guarded
def ingest_invoices(ctx: typer.Context, files: list[Path] = FILES,
                    input_format: str = typer.Option("auto", "--input-format", metavar="[auto|canonical|ups|fedex|dhl|pdf]",
                                                 help="The files' format; auto recognises it."),
                    carrier: str | None = typer.Option(None, "--carrier", help="Carrier code, for formats that do not say it."),
                    fmt: str = typer.Option("table", "--format", callback=check_format),
                    as_of: str | None = INGEST_AS_OF) -> None:
    """Load carrier invoices (CSV or PDF); reconciles credits with claims afterwards."""
    _ingest(ctx, "invoices", files, input_format, fmt, carrier, as_of=as_of)



@app.command("inbox")
@guarded
def ingest_inbox(ctx: typer.Context, fmt: str = typer.Option("table", "--format", callback=check_format),
                 as_of: str | None = typer.Option(None, "--as-of", help=AS_OF_HELP)) -> None:
    """Load every file waiting in the inbox folders (shipments, then scans, then invoices); move each
    to archive/ or rejected/ beside it; reconcile credits."""
    from recoup.claims.reconcile import reconcile
    from recoup.ingest.inbox import inbox_folders, pending_files, reason_text, refused_whole, run_inbox
    from recoup.progress import file_progress
    from recoup.worker.jobs import JobContext
    from recoup.worker.scheduler import stop_on_signals

    c = ctx_of(ctx)
    settings = c.settings
    folders = inbox_folders(settings)
    if not folders:
        fail("no inbox folder configured: set inbox.shipments / inbox.scans / inbox.invoices in the config "
             "or RECOUP_INBOX__SHIPMENTS / RECOUP_INBOX__SCANS / RECOUP_INBOX__INVOICES")
    engine = c.engine()
    contracts = c.contracts() if settings.contracts_dir().is_dir() else None
    jctx = JobContext(engine, settings, c.contracts, clock_source=command_clock(as_of))
    total = sum(len(pending_files(f)) for _k, f in folders)
    reconciled = None
    with stop_on_signals(jctx):     # a signal lets the file in hand, and the matching, finish
        with file_progress(total, "ingest inbox") as tick:
            run = run_inbox(engine, settings, contracts, clock=jctx.clock(), stop=jctx.stopping,
                            on_file=lambda s, _d: tick(s.path))
        if run.invoices_loaded:     # the claims flow, as the worker's job does
            reconciled = reconcile(engine, clock=jctx.clock())
    err = stderr()
    bad = False
    for s in run.files:
        if s.refused or s.errors:
            bad = True
            where = run.moved.get(s.path, s.path)
            first, *rest = reason_text(s).splitlines()
            err.print(f"[red]{'refused' if refused_whole(s) else 'rejected rows'}[/red] {s.path} -> {where}: {first}",
                      soft_wrap=True)
            for line in rest:
                err.print(f"  {line}", soft_wrap=True)
    if run.stopped:
        err.print("stopped: the files left wait for the next run")
    if fmt == "json":
        out: dict[str, Any] = {"files": [{**s.as_dict(), "kind": s.kind, "moved_to": run.moved.get(s.path)}
                                         for s in run.files]}
        if reconciled is not None:
            out["reconciled"] = reconciled.as_dict()
        sys.stdout.write(json.dumps(out, indent=1) + "\n")
    else:
        emit([{"kind": s.kind, "path": s.path, "format": s.format or "-", "read": s.read, "stored": s.stored,
               "updated": s.updated, "duplicates": s.duplicates, "rejected": s.rejected + (1 if s.refused else 0),
               "moved_to": run.moved.get(s.path, "-")} for s in run.files], fmt, title="ingest inbox")
        if reconciled is not None and reconciled.matched:
            err.print(f"reconciled {reconciled.matched} credit(s) with claims; {reconciled.unmatched} unmatched")
    if bad:
        raise typer.Exit(1)
