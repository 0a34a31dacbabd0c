"""`recoup claims list|show|submit|sync|approve|cancel|retry|update|resume|expire`."""

from __future__ import annotations

import json
import sys
from decimal import Decimal, InvalidOperation

import typer

from recoup.claims.states import ALL
from recoup.commands.base import (
    AS_OF_HELP,
    carrier_code,
    carrier_help,
    check_format,
    command_clock,
    ctx_of,
    fail,
    guarded,
)
from recoup.output import emit, stderr

app = typer.Typer(no_args_is_help=True, help="Claims: list, inspect, file, follow, decide.")

AS_OF = typer.Option(None, "--as-of", help=AS_OF_HELP)


def actor_cli() -> str:
    from recoup.claims.lifecycle import actor_cli as actor

    return actor()

LIST_COLUMNS = ["id", "kind", "carrier", "tracking_number", "status", "channel", "amount", "credited", "currency",
                "deadline", "filed_at", "carrier_reference"]


@app.command("list")
@guarded
def claims_list(ctx: typer.Context, status: str | None = typer.Option(None, "--status", help="Claim status, any case: " + ", ".join(ALL) + "."),
                carrier: str | None = typer.Option(None, "--carrier", help=carrier_help()),
                columns: str | None = typer.Option(None, "--columns", help="Comma-separated columns to show."),
                sort: str | None = typer.Option(None, "--sort", help="Sort by a column (-COL: descending), e.g. -amount."),
                limit: int | None = typer.Option(None, "--limit", help="At most this many rows (default all)."),
                fmt: str = typer.Option("table", "--format", callback=check_format)) -> None:
    """List claims. The table fits the terminal (columns give way); --format csv|json has every field."""
    from recoup.queries import CLAIM_SORT, list_claims
    from recoup.tables import CLAIMS, page, show

    status = status.strip().lower() if status else None
    if status and status not in ALL:
        raise typer.BadParameter(f"unknown status {status!r}: one of {', '.join(ALL)}", param_hint="--status")
    engine = ctx_of(ctx).engine()
    p = page(sort, limit, CLAIM_SORT)        # --limit N reads N rows, not the whole table
    rows = list_claims(engine, status=status, carrier=carrier_code(carrier, engine), page=p)
    show(rows, fmt, CLAIMS, title="claims", columns=columns, sort=sort, limit=limit, total=p.total if p else None)


@app.command("show")
@guarded
def claims_show(ctx: typer.Context, claim_id: int = typer.Argument(..., metavar="CLAIM_ID"),
                fmt: str = typer.Option("table", "--format", callback=check_format)) -> None:
    """One claim with its history."""
    from recoup.queries import claim_history, list_claims

    engine = ctx_of(ctx).engine()
    rows = list_claims(engine, claim_id=claim_id)
    if not rows:
        fail(f"no claim {claim_id}")
    hist = claim_history(engine, claim_id)
    if fmt == "json":
        sys.stdout.write(json.dumps({**rows[0], "history": hist}, indent=1) + "\n")
        return
    if fmt == "csv":
        emit(hist, fmt)
        return
    emit([{"field": k, "value": v} for k, v in rows[0].items()], "table", title=f"claim {claim_id}")
    emit(hist, "table", title="history")


@app.command("submit")
@guarded
def claims_submit(ctx: typer.Context, carrier: str | None = typer.Option(None, "--carrier", help=carrier_help("Only this carrier")),
                  dry_run: bool = typer.Option(False, "--dry-run", help="Print the packets that would be filed."),
                  as_of: str | None = AS_OF,
                  fmt: str = typer.Option("table", "--format", callback=check_format)) -> None:
    """File ready claims through each carrier's channel."""
    from recoup.claims.service import submit

    c = ctx_of(ctx)
    clock = command_clock(as_of)
    carrier = carrier_code(carrier, c.engine())
    s = submit(c.engine(), c.settings, c.contracts(), clock.today(), clock=clock, carrier=carrier, dry_run=dry_run,
               actor=actor_cli())
    if dry_run:
        sys.stdout.write(json.dumps(s.packets, indent=1) + "\n")
        return
    for p in s.problems:
        stderr().print(f"[red]problem[/red] {p}", soft_wrap=True)
    if fmt == "json":
        sys.stdout.write(json.dumps(s.as_dict(), indent=1) + "\n")
    else:
        emit([{k: v for k, v in s.as_dict().items() if k not in ("problems", "skipped", "paused")}], fmt, title="submit")
        for why, n in sorted(s.skipped.items()):
            stderr().print(f"not filed now: {n} claim(s): {why}")
    if s.problems:
        raise typer.Exit(1)


@app.command("sync")
@guarded
def claims_sync(ctx: typer.Context, as_of: str | None = AS_OF) -> None:
    """Poll carriers for claim status; reconcile credits from invoices."""
    from recoup.claims.service import sync

    c = ctx_of(ctx)
    s = sync(c.engine(), c.settings, c.contracts(), clock=command_clock(as_of), actor=actor_cli())
    for p in s.problems:
        stderr().print(f"[red]problem[/red] {p}", soft_wrap=True)
    stderr().print(f"polled {s.polled} claim(s), {s.changed} changed; {s.reconciled} credit(s) matched")
    if s.problems:
        raise typer.Exit(1)


@app.command("approve")
@guarded
def claims_approve(ctx: typer.Context, ids: list[int] = typer.Argument(..., metavar="CLAIM_ID"), as_of: str | None = AS_OF) -> None:
    """Approve claims above the approval threshold for filing."""
    from recoup.claims.decide import approve

    clock = command_clock(as_of)
    for i in ids:
        approve(ctx_of(ctx).engine(), i, actor_cli(), clock=clock)
    stderr().print(f"approved {len(ids)} claim(s)")


@app.command("cancel")
@guarded
def claims_cancel(ctx: typer.Context, ids: list[int] = typer.Argument(..., metavar="CLAIM_ID"),
                  reason: str = typer.Option("", "--reason"), as_of: str | None = AS_OF) -> None:
    """Cancel claims (with a reason)."""
    from recoup.claims.decide import cancel

    clock = command_clock(as_of)
    for i in ids:
        cancel(ctx_of(ctx).engine(), i, actor_cli(), reason, clock=clock)
    stderr().print(f"cancelled {len(ids)} claim(s)")


@app.command("retry")
@guarded
def claims_retry(ctx: typer.Context, ids: list[int] = typer.Argument(..., metavar="CLAIM_ID"), as_of: str | None = AS_OF) -> None:
    """Put claims that need attention (or were rejected/expired) back to ready."""
    from recoup.claims.decide import retry

    clock = command_clock(as_of)
    for i in ids:
        retry(ctx_of(ctx).engine(), i, actor_cli(), clock=clock)
    stderr().print(f"{len(ids)} claim(s) ready again")


@app.command("update")
@guarded
def claims_update(ctx: typer.Context, claim_id: int = typer.Argument(..., metavar="CLAIM_ID"),
                  status: str = typer.Option(..., "--status", help="The new status: " + ", ".join(ALL) + "."),
                  amount: str | None = typer.Option(None, "--amount"),
                  reference: str | None = typer.Option(None, "--reference"), as_of: str | None = AS_OF) -> None:
    """Record a carrier's answer by hand."""
    from recoup.claims.decide import update_claim

    if status not in ALL:
        raise typer.BadParameter(f"one of {', '.join(ALL)}", param_hint="--status")
    try:
        amt = Decimal(amount) if amount is not None else None
    except InvalidOperation:
        raise typer.BadParameter(f"not an amount: {amount!r}", param_hint="--amount") from None
    clock = command_clock(as_of)
    update_claim(ctx_of(ctx).engine(), claim_id, actor_cli(), status=status, amount=amt, reference=reference,
                 clock=clock)
    stderr().print(f"claim {claim_id}: {status}")


@app.command("resume")
@guarded
def claims_resume(ctx: typer.Context, carrier: str = typer.Argument(..., metavar="CARRIER")) -> None:
    """Resume a carrier's channel paused after an authentication failure."""
    from recoup.claims.service import resume

    if not resume(ctx_of(ctx).engine(), carrier):
        fail(f"{carrier} is not paused")
    stderr().print(f"{carrier}: resumed")


@app.command("expire")
@guarded
def claims_expire(ctx: typer.Context, as_of: str | None = AS_OF) -> None:
    """Expire unfiled claims whose deadline has passed."""
    from recoup.claims.service import expire

    clock = command_clock(as_of)
    n = expire(ctx_of(ctx).engine(), clock.today(), actor_cli(), clock=clock)
    stderr().print(f"{n} claim(s) expired")
