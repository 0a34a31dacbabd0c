"""`recoup backtest --from DATE --to DATE`: replay the store day by day in a scratch copy and say
what recoup would have recovered, what leaked and why (logic in :mod:`recoup.backtest`)."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import typer

from recoup.commands.base import check_format, ctx_of, fail, guarded, parse_date
from recoup.output import emit, stderr


def _because(d: dict[str, object]) -> str:
    return "; ".join(f"{k}: {v}" for k, v in sorted(d.items()))


@guarded
def backtest(
    ctx: typer.Context,
    date_from: str = typer.Option(..., "--from", help="First day replayed (YYYY-MM-DD); earlier data is its backlog."),
    date_to: str = typer.Option(..., "--to", help="Last day replayed (YYYY-MM-DD), included."),
    contracts: Path | None = typer.Option(None, "--contracts", help="Replay under these contract terms (what-if); "
                                                                    "default: the contracts in use."),
    as_configured: bool = typer.Option(False, "--as-configured", help="File only through carriers whose channel "
                                                                      "settings are complete today."),
    out: Path | None = typer.Option(None, "--out", help="Also write backtest-FROM-TO.{xlsx,html,json} here."),
    keep_db: Path | None = typer.Option(None, "--keep-db", help="Keep the scratch database at this path."),
    fmt: str = typer.Option("table", "--format", callback=check_format),
) -> None:
    """Replay the store as it arrived, day by day, through the worker's jobs in a scratch copy (a dry-run
    channel files nothing); per carrier, kind and currency: recoverable, filed in time, leaked and why,
    still claimable."""
    from recoup.backtest import COLUMNS, days_between, plain_row
    from recoup.backtest import backtest as run
    from recoup.progress import file_progress
    from recoup.sla.contracts import load_contracts

    a, b = parse_date(date_from, "--from"), parse_date(date_to, "--to")
    assert a is not None and b is not None
    if b < a:
        raise typer.BadParameter(f"{date_to} is before --from {date_from}", param_hint="--to")
    c = ctx_of(ctx)
    folder = contracts or c.settings.contracts_dir()
    if not folder.is_dir():
        fail(f"no contracts folder {folder}")
    cs = load_contracts(folder)
    with file_progress(len(days_between(a, b)), "backtest") as tick:
        r = run(c.engine(), c.settings, cs, a, b, as_configured=as_configured, keep=keep_db,
                progress=lambda day, _i, _n: tick(day.isoformat()))
    err = stderr()
    if fmt == "json":
        sys.stdout.write(json.dumps(r.as_dict(), indent=1) + "\n")
    elif fmt == "csv":
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(COLUMNS)
        for row in [*r.rows, *r.totals]:
            p = plain_row(row)
            w.writerow([_because(p[k]) if isinstance(p[k], dict) else ("" if p[k] is None else p[k])
                        for k in COLUMNS])
    else:
        rows = []
        for row in [*r.rows, *r.totals]:
            p = plain_row(row)
            rate = row["filed_in_time_rate"]
            rows.append({**{k: p[k] for k in ("carrier", "kind", "currency", "findings", "recoverable",
                                              "filed_in_time")},
                         "in time": "" if rate is None else f"{rate * 100:.1f}%",
                         "leaked": p["leaked"], "why": _because(p["leaked_because"]),
                         "still_claimable": p["still_claimable"]})
        emit(rows, fmt, title=f"backtest {a} to {b}: {r.days} days, {len(r.filed):,} claims recoup would have filed")
    for n in r.notes:
        err.print(f"[dim]note[/dim] {n}", soft_wrap=True)
    for carrier, why in sorted(r.dead_channels.items()):
        err.print(f"[yellow]channel not configured[/yellow] {carrier}: {why}", soft_wrap=True)
    for problem in r.problems:
        err.print(f"[red]problem[/red] {problem}", soft_wrap=True)
    if out is not None:
        from recoup.reports.backtest import write_backtest

        for path in write_backtest(r, out):
            err.print(f"wrote {path}")
    if r.problems:
        raise typer.Exit(1)
