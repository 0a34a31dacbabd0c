"""`recoup doctor`: is this installation able to do its job? One row per check with what to do;
exit 1 on any problem."""

from __future__ import annotations

import sys
from typing import Any

import typer

from recoup.commands.base import check_format, ctx_of, guarded
from recoup.output import emit, stderr


def doctor_checks(settings: Any, *, connect: Any = None, network: bool = True) -> list[Any]:
    """Every check, in order: database, contracts, channels, inbox, SMTP, worker."""
    from recoup.clock import wall_now
    from recoup.health import (
        SKIP,
        Check,
        audited_carriers,
        channel_checks,
        contract_checks,
        database_check,
        inbox_checks,
        load_contract_set,
        smtp_checks,
        worker_check,
    )
    from recoup.store.db import make_engine

    out: list[Check] = []
    db, engine = database_check(lambda: make_engine(settings.database_url), settings.database_url)
    out.append(db)
    try:
        contracts, failed = load_contract_set(settings)
        out += [failed] if failed else contract_checks(settings, contracts)
        carriers = audited_carriers(settings, contracts)
        out += channel_checks(settings, contracts, carriers)
        out += inbox_checks(settings)
        if network:
            out += smtp_checks(settings, carriers, connect=connect)
        else:
            out.append(Check("smtp", SKIP, "not checked (--offline)"))
        if engine is None:
            out.append(Check("worker", SKIP, "no database to read the heartbeat from"))
        else:
            now = wall_now()
            out.append(worker_check(engine, settings, now, now))
    finally:
        if engine is not None:
            engine.dispose()
    return out


@guarded
def doctor(ctx: typer.Context, fmt: str = typer.Option("table", "--format", callback=check_format),
           offline: bool = typer.Option(False, "--offline", help="Do not connect to the SMTP servers.")) -> None:
    """Check the installation: database (reachable, schema at head), contracts, each carrier's claim
    channel settings, inbox folders, SMTP servers (a TCP connection, nothing sent), the worker's
    heartbeat. Exits 1 on any problem."""
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
