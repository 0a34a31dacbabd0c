"""`recoup sla scorecard`."""

from __future__ import annotations

from typing import Any

import typer

from recoup.commands.base import check_format, ctx_of, guarded
from recoup.output import emit

app = typer.Typer(no_args_is_help=True, help="Service levels: how carriers kept their promises.")

SCORECARD_COLUMNS = ["shipments", "delivered", "on_time", "late", "on_time_rate", "lost", "damaged",
                     "avg_days_late"]


def _table_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from decimal import Decimal

    out = []
    for r in rows:
        rate = r.get("on_time_rate")
        out.append({**r, "on_time_rate": f"{(rate * 100).quantize(Decimal('0.1'))}%" if rate is not None else None})
    return out


@app.command("scorecard")
@guarded
def sla_scorecard(
    ctx: typer.Context,
    by: str = typer.Option("carrier", "--by", metavar="[carrier|service|month|lane|weekday]",
                             help="One row per carrier, service, month, lane or weekday."),
    month: str | None = typer.Option(None, "--month", help="Only shipments shipped in this month (YYYY-MM)."),
    fmt: str = typer.Option("table", "--format", callback=check_format),
) -> None:
    """On-time rate, late, lost and damaged counts (on_time_rate is a ratio; avg_days_late in days)."""
    from recoup.reports.sla import BY, KEYS, month_bounds, scorecard

    if by not in BY:
        raise typer.BadParameter(f"one of {', '.join(BY)}", param_hint="--by")
    if month is not None:
        try:
            month_bounds(month)
        except ValueError as e:
            raise typer.BadParameter(str(e), param_hint="--month") from None
    rows = scorecard(ctx_of(ctx).engine(), by, month=month)
    cols = [*KEYS[by], *SCORECARD_COLUMNS]
    if fmt == "table":
        emit(_table_rows(rows), fmt, columns=cols, title=f"SLA scorecard by {by}" + (f", shipped in {month}" if month else ""))
    else:
        emit(rows, fmt, columns=cols)
