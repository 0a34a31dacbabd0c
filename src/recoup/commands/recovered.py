"""`recoup recovered`: the amounts claimed, approved and credited."""

from __future__ import annotations

import typer

from recoup.commands.base import check_format, ctx_of, guarded, parse_date
from recoup.output import emit


@guarded
def recovered(ctx: typer.Context, by: str = typer.Option("carrier", "--by", metavar="[carrier|month|kind]",
                                                               help="One row per carrier, month or kind."),
              date_from: str | None = typer.Option(None, "--from", help="Claims opened on or after this day."),
              date_to: str | None = typer.Option(None, "--to", help="Claims opened on or before this day."),
              as_of: str | None = typer.Option(None, "--as-of", help="As known on this day: claims opened and credits "
                                               "invoiced up to it (the default --to); default: everything."),
              fmt: str = typer.Option("table", "--format", callback=check_format)) -> None:
    """Recovered amounts: claimed, approved, credited."""
    from recoup.queries import recovered as q

    if by not in ("carrier", "month", "kind"):
        raise typer.BadParameter("one of carrier, month, kind", param_hint="--by")
    day = parse_date(as_of, "--as-of")
    to = parse_date(date_to, "--to")
    if day is not None:
        to = min(to, day) if to is not None else day
    rows = q(ctx_of(ctx).engine(), by=by, date_from=parse_date(date_from, "--from"), date_to=to)
    emit(rows, fmt, columns=[by, "claims", "claimed", "approved", "credited", "currency"], title="recovered")
