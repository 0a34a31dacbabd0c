"""`recoup report monthly` and `recoup sla scorecard`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from recoup.cli import app, check_format, command_clock, ctx_of, fail, guarded
from recoup.output import emit, stderr

report_app = typer.Typer(no_args_is_help=True, help="Finance reports.")
sla_app = typer.Typer(no_args_is_help=True, help="Service levels: how carriers kept their promises.")
app.add_typer(report_app, name="report")
app.add_typer(sla_app, name="sla")

SCORECARD_COLUMNS = ["shipments", "delivered", "on_time", "late", "on_time_rate", "lost", "damaged",
                     "avg_days_late"]


@report_app.command("monthly")
@guarded
def report_monthly(
    ctx: typer.Context,
    month: str = typer.Option(..., "--month", help="The month, YYYY-MM."),
    out: Path | None = typer.Option(None, "--out", help="Output folder; default: reports_dir of the settings."),
    formats: str = typer.Option("xlsx,html,csv", "--format", help="Comma-separated: xlsx, html, csv."),
    as_of: str | None = typer.Option(None, "--as-of", help="Day the near-deadline flags are judged on (recoup's clock: "
                                   "12:00 UTC of it); default today (UTC)."),
) -> None:
    """Write recovery-YYYY-MM.xlsx, .html and .csv; prints the paths written."""
    from recoup.reports.monthly import parse_formats, write_monthly
    from recoup.reports.sla import month_bounds

    try:
        month_bounds(month)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--month") from None
    try:
        fmts = parse_formats(formats)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--format") from None
    c = ctx_of(ctx)
    day = command_clock(as_of).today()
    folder = out if out is not None else c.settings.reports_dir
    try:
        paths = write_monthly(c.engine(), month, folder, formats=fmts, as_of=day,
                              near_days=c.settings.near_deadline_days)
    except OSError as e:
        fail(f"cannot write the report into {folder}: {e}")
    for p in paths:
        typer.echo(str(p))
    stderr().print(f"report {month}: {len(paths)} file(s) in {folder}")


def _table_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from decimal import Decimal

    out = []
    for r in rows:
        rate = r.get("on_time_rate")
        out.append({**r, "on_time_rate": f"{(rate * 100).quantize(Decimal('0.1'))}%" if rate is not None else None})
    return out


@sla_app.command("scorecard")
@guarded
def sla_scorecard(
    ctx: typer.Context,
    by: str = typer.Option("carrier", "--by", help="carrier|service|month|lane|weekday"),
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
