"""`recoup audit`: run every rule, write findings, open claims."""

from __future__ import annotations

import json
import sys

import typer

from recoup.commands.base import check_format, command_clock, ctx_of, guarded
from recoup.output import emit, stderr


@guarded
def audit(ctx: typer.Context,
          as_of: str | None = typer.Option(None, "--as-of", help="Audit date (YYYY-MM-DD), replayed at 12:00 UTC; "
                                                                 "default today (UTC), on the wall clock."),
          full: bool = typer.Option(False, "--full", help="Re-judge every shipment (by default only those whose data, or whose windows, changed)."),
          fmt: str = typer.Option("table", "--format", callback=check_format)) -> None:
    """Run every audit rule; write findings; open claims for claimable findings. Idempotent."""
    from recoup.audit.service import audit as run
    from recoup.claims.reconcile import reconcile

    c = ctx_of(ctx)
    clock = command_clock(as_of)
    day = clock.today()
    cs = c.contracts()
    s = run(c.engine(), cs, day, clock=clock, approval_threshold=c.settings.approval_threshold, full=full)
    reconcile(c.engine(), clock=clock)      # the claims flow: credits loaded before their claims existed
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
