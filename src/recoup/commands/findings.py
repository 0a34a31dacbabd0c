"""`recoup findings`: list the findings."""

from __future__ import annotations

import typer

from recoup.commands.base import (
    carrier_code,
    carrier_help,
    check_format,
    ctx_of,
    finding_kind,
    guarded,
    kind_help,
)


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
