"""`recoup doctor`: is this installation able to do its job? One row per check with what to do;
exit 1 on any problem."""

from __future__ import annotations

import sys

import typer

from recoup.commands.base import check_format, ctx_of, guarded
from recoup.output import emit, stderr


@guarded
def doctor(ctx: typer.Context, fmt: str = typer.Option("table", "--format", callback=check_format),
           offline: bool = typer.Option(False, "--offline", help="Do not connect to the SMTP servers.")) -> None:
    """Check the installation: database (reachable, schema at head), contracts, each carrier's claim
    channel settings, inbox folders, SMTP servers (a TCP connection, nothing sent), the worker's
    heartbeat. Exits 1 on any problem."""
    from recoup.health import doctor_checks

    checks = doctor_checks(ctx_of(ctx).settings, network=not offline)
    rows = [c.as_dict() for c in checks]
    if fmt == "json":
        import json

        sys.stdout.write(json.dumps({"ok": not any(c.problem for c in checks), "checks": rows}, indent=1) + "\n")
    else:
        emit(rows, fmt, columns=["check", "status", "detail", "fix"], title="recoup doctor")
    bad = [c for c in checks if c.problem]
    if bad:
        if fmt == "table":
            stderr().print(f"[red]{len(bad)} problem(s)[/red]")
        raise typer.Exit(1)
    if fmt == "table":
        stderr().print("no problems found")
