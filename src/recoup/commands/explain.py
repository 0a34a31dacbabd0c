"""`recoup explain TRACKING`: the command; what it shows is built in :mod:`recoup.explain`, imported
when the command runs (pandas and the audit rules are not loaded to print the CLI's help)."""

from __future__ import annotations

import typer

from recoup.commands.base import guarded


def _fmt_format(v: str) -> str:
    if v not in ("table", "json"):
        raise typer.BadParameter("one of table, json", param_hint="--format")
    return v


@guarded
def explain(ctx: typer.Context,
            tracking: str = typer.Argument(..., metavar="TRACKING_NUMBER", help="Tracking number (any case)."),
            carrier: str | None = typer.Option(None, "--carrier", help="Carrier code, when the number is known for two."),
            as_of: str | None = typer.Option(None, "--as-of", help="Audit date (YYYY-MM-DD); default the date of the "
                                             "latest audit (which judged every parcel), else today (UTC)."),
            fmt_: str = typer.Option("table", "--format", callback=_fmt_format, metavar="[table|json]", help="table or json.")) -> None:
    """Everything recoup knows about one parcel, and why each finding was or was not made."""
    from recoup.explain import run

    run(ctx, tracking, carrier, as_of, fmt_)
