"""`recoup worker run|status`."""

from __future__ import annotations

import json
import sys
from typing import Any

import typer

from recoup.commands.base import AS_OF_HELP, check_format, command_clock, ctx_of, guarded, parse_date
from recoup.output import emit, stderr

app = typer.Typer(no_args_is_help=True, help="The scheduled worker: run it, see what it did.")


# ----------------------------------------------------------------------------- worker run

@app.command("run")
@guarded
def worker_run(
    ctx: typer.Context,
    once: bool = typer.Option(False, "--once", help="Run each job once, in dependency order, and exit (cron-friendly)."),
    as_of: str | None = typer.Option(None, "--as-of", help="Replay this day (YYYY-MM-DD) as 'today': every instant "
                                     "written is that day at 12:00 UTC; implies --once."),
    worker_id: str | None = typer.Option(None, "--worker-id", envvar="RECOUP_WORKER_ID",
                                         help="This worker's name in job_run (default host:pid:random)."),
    json_logs: bool | None = typer.Option(None, "--json-logs/--text-logs",
                                          help="Log format (default: JSON lines unless stderr is a terminal)."),
    fmt: str = typer.Option("table", "--format", callback=check_format, help="Summary of --once on stdout."),
) -> None:
    """The scheduled worker, in the foreground. SIGTERM/SIGINT: finish the unit of work in hand, exit 0."""
    from recoup.worker import logs
    from recoup.worker.jobs import JobContext, cached_contracts, default_worker_id
    from recoup.worker.scheduler import Worker, stop_on_signals

    c = ctx_of(ctx)
    day = parse_date(as_of, "--as-of")
    once = once or day is not None
    settings = c.settings
    handler = logs.setup(settings, json_lines=json_logs)
    try:
        jctx = JobContext(c.engine(check=False), settings, cached_contracts(settings.contracts_dir()), replay_as_of=day,
                          worker_id=worker_id or default_worker_id())
        worker = Worker(jctx)
        with stop_on_signals(jctx, worker.request_stop):   # from the start: a signal never kills it mid-unit
            worker.start(wait_s=60 if once else 600)   # a database still coming up is waited for
            try:
                if not once:
                    worker.serve()
                    return
                results = worker.run_once()
            finally:
                worker.close()
    finally:
        logs.teardown(handler)
    rows = [{"job": job, "outcome": r.outcome if r else "not run here", "duration_s": r.duration_s if r else None,
             "counts": json.dumps(r.counts, sort_keys=True) if r and fmt != "json" else (r.counts if r else {}),
             "detail": r.detail if r else ("taken by another worker or stopped")}
            for job, r in results.items()]
    emit(rows, fmt, title=f"worker run --once (as of {jctx.as_of()})")
    if jctx.stopping():
        stderr().print("stopped on a signal: what was left waits for the next run")
    if any(r is not None and r.outcome == "failed" for r in results.values()):
        raise typer.Exit(1)


# ----------------------------------------------------------------------------- worker status

@app.command("status")
@guarded
def worker_status(ctx: typer.Context, fmt: str = typer.Option("table", "--format", callback=check_format),
                  as_of: str | None = typer.Option(None, "--as-of", help=AS_OF_HELP),
                  check: bool = typer.Option(False, "--check", help="Health check: exit 1 when something stops recoup "
                                             "doing its job (no worker running, nothing configured, a contract "
                                             "that does not load, claims that cannot be filed or synced, failing "
                                             "jobs, paused carriers); 0 when healthy.")) -> None:
    """Each job's last run, outcome, duration, counts and next run; what needs a person; the claims
    waiting for approval and the money at stake."""
    from recoup.worker.status import status

    c = ctx_of(ctx)
    clock = command_clock(as_of)
    st = status(c.engine(), c.settings, clock.now(), clock.today())
    if fmt == "json":
        sys.stdout.write(json.dumps(st, indent=1, default=str) + "\n")
    else:
        _print_status(st, fmt)
    if check and not st["healthy"]:
        raise typer.Exit(1)


#: rows of each "needs a person" section in the table (``--format json`` has them all)
SECTION_ROWS = 10


def _print_status(st: dict[str, Any], fmt: str) -> None:
    jobs = [{**j, "counts": json.dumps(j["counts"], sort_keys=True) if j["counts"] else ""} for j in st["jobs"]]
    if fmt == "csv":
        emit(jobs, fmt)
        err = stderr()
        for p in st["problems"]:
            err.print(f"[red]problem[/red] {p['check']}: {p['detail']} -> {p['fix']}", soft_wrap=True)
        return
    emit(jobs, "table", columns=["job", "schedule", "outcome", "last_tick", "duration_s", "next_run", "counts", "detail"],
         title="jobs")
    if st["workers"]:
        emit(st["workers"], "table", columns=["worker", "host", "pid", "started_at", "heartbeat", "alive", "last_job"],
             title="workers")
    if st["problems"]:
        emit(st["problems"], "table", columns=["check", "detail", "fix"], title="problems: recoup cannot do its job")
    claims = st["claims"]
    att = st["attention"]
    sections = [
        ("claims waiting for approval", claims["awaiting_approval"],
         ["id", "carrier", "tracking_number", "kind", "deadline", "amount", "currency"]),
        ("claims near their deadline", att["near_deadline"],
         ["id", "carrier", "tracking_number", "kind", "status", "deadline", "amount", "currency"]),
        ("claims that need attention", claims["needs_attention"],
         ["id", "carrier", "tracking_number", "amount", "currency", "message"]),
        ("rejected inbox files", att["rejected_files"], ["kind", "file", "reason"]),
    ]
    more = {"claims waiting for approval": "recoup claims list --status ready --sort deadline",
            "claims near their deadline": "recoup claims list --sort deadline",
            "claims that need attention": "recoup claims list --status needs_attention",
            "rejected inbox files": "worker status --format json"}
    for title, rows, cols in sections:
        if rows:       # a person reads the first few; the rest is a listing away (JSON has every row)
            emit(rows[:SECTION_ROWS], "table", columns=cols, title=f"needs a person: {title}")
            if len(rows) > SECTION_ROWS:
                stderr().print(f"... and {len(rows) - SECTION_ROWS:,} more {title}: `{more[title]}`",
                               soft_wrap=True, markup=False)
    if claims["at_stake"]:
        emit(claims["at_stake"], "table", columns=["currency", "claims", "amount"],
             title="money at stake (open claims, claimed less credited)")
    if not st["problems"] and not any(rows for _t, rows, _c in sections):
        stderr().print("healthy: nothing needs a person")
    elif st["problems"]:
        stderr().print(f"[red]{len(st['problems'])} problem(s)[/red]: recoup is not doing all of its job")
