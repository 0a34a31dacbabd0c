"""`recoup report monthly|send`."""

from __future__ import annotations

from pathlib import Path

import typer

from recoup.commands.base import command_clock, ctx_of, fail, guarded
from recoup.output import stderr

app = typer.Typer(no_args_is_help=True, help="Finance reports.")


@app.command("monthly")
@guarded
def report_monthly(
    ctx: typer.Context,
    month: str = typer.Option(..., "--month", help="The month, YYYY-MM."),
    out: Path | None = typer.Option(None, "--out", help="Output folder; default: reports_dir of the settings."),
    formats: str = typer.Option("xlsx,html,csv", "--format", metavar="xlsx,html,csv", help="Comma-separated: xlsx, html, csv."),
    as_of: str | None = typer.Option(None, "--as-of", help="Day the near-deadline flags are judged on (recoup's clock: "
                                   "12:00 UTC of it); default today (UTC)."),
) -> None:
    """Write recovery-YYYY-MM.xlsx, .html and .csv; prints the paths written."""
    from recoup.reports.monthly import write_monthly

    fmts = _month_and_formats(month, formats)
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


@app.command("send")
@guarded
def report_send(
    ctx: typer.Context,
    month: str = typer.Option(..., "--month", help="The month, YYYY-MM."),
    to: list[str] = typer.Option([], "--to", metavar="ADDRESS", show_default=False,
                                 help="Recipient (repeat for several); default: finance_email of the settings."),
    out: Path | None = typer.Option(None, "--out", help="Folder for the files; default: reports_dir of the settings."),
    formats: str = typer.Option("xlsx,html", "--format", metavar="xlsx,html,csv", help="Files to attach, comma-separated: xlsx, html, csv "
                                "(csv: one file per section)."),
    as_of: str | None = typer.Option(None, "--as-of", help="Day the near-deadline flags are judged on; default today."),
) -> None:
    """Write the month's report and e-mail it, the files attached, over the SMTP server of the settings
    (notify.smtp_url, from notify.from_email); prints the recipients."""
    from recoup.reports.mail import send_monthly

    fmts = _month_and_formats(month, formats)
    c = ctx_of(ctx)
    recipients = list(to) or list(c.settings.finance_email)
    if not recipients:
        fail("no recipient: give --to ADDRESS, or set finance_email in the config (RECOUP_FINANCE_EMAIL='[\"...\"]')")
    if not c.settings.notify.smtp_url:
        fail("no SMTP server: set notify.smtp_url in the config (RECOUP_NOTIFY__SMTP_URL=smtp://host:25)")
    day = command_clock(as_of).today()
    folder = out if out is not None else c.settings.reports_dir
    paths = send_monthly(c.engine(), c.settings, month, folder, recipients=recipients, formats=fmts, as_of=day)
    typer.echo("\n".join(recipients))
    stderr().print(f"report {month}: sent {len(paths)} file(s) to {len(recipients)} recipient(s)")


def _month_and_formats(month: str, formats: str) -> list[str]:
    """--month checked (YYYY-MM) and --format parsed; either wrong is a usage error naming the option."""
    from recoup.reports.monthly import parse_formats
    from recoup.reports.sla import month_bounds

    try:
        month_bounds(month)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--month") from None
    try:
        return parse_formats(formats)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--format") from None
