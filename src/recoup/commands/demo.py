"""`recoup demo`: the whole pipeline on generated sample data, in its own folder and database, with
claims filed to the sandbox carrier on 127.0.0.1. Needs nothing but the install."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from recoup.commands.base import fail
from recoup.demo import DEFAULT_FAULTS, DEFAULT_SEED, DEFAULT_SHIPMENTS
from recoup.errors import RecoupError
from recoup.money import from_cents
from recoup.output import stderr

if TYPE_CHECKING:
    from recoup.demo.run import DemoResult

def demo(
    out: Path | None = typer.Option(None, "--out", help="Folder for the demo's database, data and report "
                                    "(default: a new temporary folder)."),
    keep: bool = typer.Option(True, "--keep/--no-keep", help="Keep the folder afterwards and print its path "
                              "(default), or remove it."),
    fmt: str = typer.Option("table", "--format", metavar="[table|json]", help="table (a summary for people) or json."),
    seed: int = typer.Option(DEFAULT_SEED, "--seed", help="Seed of the sample data: the same seed gives the same data."),
    shipments: int = typer.Option(DEFAULT_SHIPMENTS, "--shipments", min=40, max=50000,
                                  help="How many shipments to generate."),
    faults: str = typer.Option(DEFAULT_FAULTS, "--faults", help="Faults of the sandbox carrier (see `recoup sandbox`)."),
) -> None:
    """End to end on generated sample data in a temporary database: its period replayed day by day through
    the worker's jobs (audit, file claims with the sandbox carrier, follow them, reconcile credits on their
    date), then the monthly report; prints a summary."""
    from recoup.demo.run import mark_folder, prepare_folder, remove_demo, run_demo
    from recoup.sandbox import parse_faults

    if fmt not in ("table", "json"):
        raise typer.BadParameter("table or json", param_hint="--format")
    try:
        parse_faults(faults)
    except RecoupError as e:
        raise typer.BadParameter(str(e), param_hint="--faults") from None
    try:
        folder, created = prepare_folder(out)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--out") from None
    err = stderr()
    try:
        mark_folder(folder)
        result = run_demo(folder, seed=seed, shipments=shipments, faults=faults,
                          progress=lambda msg: err.print(f"[dim]demo:[/dim] {msg}", soft_wrap=True))
    except (RecoupError, OSError) as e:
        fail(f"demo failed: {e} (its files are in {folder})")
    if not keep:
        remove_demo(folder, created=created)
    for n in result.notes:
        err.print(f"[yellow]note[/yellow] {n}", soft_wrap=True)
    for p in result.problems:
        err.print(f"[red]error:[/red] {p}", soft_wrap=True)
    if fmt == "json":
        sys.stdout.write(json.dumps(as_json(result, kept=keep), indent=1) + "\n")
    elif sys.stdout.isatty():
        _print_rich(result, keep)
    else:
        sys.stdout.write(plain_text(result, keep))
    err.print(f"demo: done in {result.seconds:.1f}s")
    if result.problems:
        raise typer.Exit(1)


# ----------------------------------------------------------------------------- the summary

def _amount(cents: int) -> str:
    return str(from_cents(cents))


def _human(cents: int) -> str:
    return f"{from_cents(cents):,.2f}"


def as_json(r: DemoResult, *, kept: bool) -> dict[str, Any]:
    """The machine-readable summary: amounts are strings with two decimals, per currency."""
    currencies = _currencies(r)
    return {
        "folder": str(r.folder), "kept": kept, "database": str(r.database), "database_url": r.database_url,
        "contracts": str(r.contracts), "seed": r.seed, "as_of": r.as_of.isoformat(), "carriers": r.carriers,
        "data": r.data,
        "findings": [{"kind": f["kind"], "count": f["count"], "claimable": f["claimable"],
                      "amounts": {c: _amount(f["amounts"].get(c, 0)) for c in currencies if c in f["amounts"]}}
                     for f in r.findings],
        "claims": [{"currency": c["currency"], "opened": c["opened"], "claimed": _amount(c["claimed_cents"]),
                    "filed": c["filed"], "filed_amount": _amount(c["filed_cents"]), "approved": c["approved"],
                    "approved_amount": _amount(c["approved_cents"]), "rejected": c["rejected"],
                    "credited": c["credited"], "credited_amount": _amount(c["credited_cents"]),
                    "waiting": c["waiting"]} for c in r.claims],
        "credited": {c["currency"]: _amount(c["credited_cents"]) for c in r.claims},
        "unmatched_credits": {k: _amount(v) for k, v in r.unmatched_credits.items()},
        "statuses": [{"after": step, "claims": counts} for step, counts in r.statuses],
        "sandbox": r.sandbox,
        "report": {"month": r.report_month, "files": [str(p) for p in r.report_files], "note": r.report_note},
        "problems": r.problems, "notes": r.notes, "seconds": round(r.seconds, 1),
    }


def _currencies(r: DemoResult) -> list[str]:
    seen = {c for f in r.findings for c in f["amounts"]} | {c["currency"] for c in r.claims}
    return sorted(seen)


def _headline(r: DemoResult) -> str:
    d = r.data
    return (f"recoup demo: {d['shipments']:,} shipments from {len(r.carriers)} carriers ({', '.join(r.carriers)}), "
            f"{d['scans']:,} scans, {d['invoices']} invoices ({d['invoice_lines']:,} lines), "
            f"{d['credit_notes']} credit notes; audited as of {r.as_of}")


def _finding_rows(r: DemoResult) -> tuple[list[str], list[list[str]]]:
    cur = _currencies(r)
    head = ["finding", "count", "claimable", *cur]
    rows = [[f["kind"], f"{f['count']:,}", f"{f['claimable']:,}",
             *(_human(f["amounts"][c]) if c in f["amounts"] else "" for c in cur)] for f in r.findings]
    rows.append(["total", f"{sum(f['count'] for f in r.findings):,}", f"{sum(f['claimable'] for f in r.findings):,}",
                 *(_human(sum(f["amounts"].get(c, 0) for f in r.findings)) for c in cur)])
    return head, rows


def _claim_rows(r: DemoResult) -> tuple[list[str], list[list[str]]]:
    head = ["currency", "claims", "claimed", "filed", "approved", "approved amount", "rejected", "credited",
            "credited amount"]
    rows = [[c["currency"], f"{c['opened']:,}", _human(c["claimed_cents"]), f"{c['filed']:,}", f"{c['approved']:,}",
             _human(c["approved_cents"]), f"{c['rejected']:,}", f"{c['credited']:,}", _human(c["credited_cents"])]
            for c in r.claims]
    return head, rows


def _status_line(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items()) or "none"


def _tail(r: DemoResult, kept: bool) -> list[tuple[str, str]]:
    """(label, text) lines after the tables."""
    out = [("statuses", " → ".join(f"{step}: {_status_line(c)}" for step, c in r.statuses[1:]))]
    s = r.sandbox
    faults = ", ".join(f"{k}×{v}" for k, v in s.get("fault_counts", {}).items()) or "none"
    out.append(("sandbox", f"{s['requests']} API requests to {s['url']}, {s['faults_injected']} answered with an "
                           f"injected fault ({faults}) and retried; it holds {s['claims']} claims"))
    if r.unmatched_credits:
        out.append(("unmatched", "; ".join(f"{c} {_human(v)}" for c, v in r.unmatched_credits.items())
                    + " of credits match no claim (e.g. refunds of late deliveries whose claim window had closed)"))
    where = "" if kept else " (removed: --no-keep)"
    out.append(("folder", f"{r.folder}{where}"))
    out.append(("database", str(r.database)))
    if r.report_files:
        for i, p in enumerate(r.report_files):
            out.append(("report" if i == 0 else "", str(p)))
        out.append(("", f"({r.report_month}: the claims opened, filed and credited that month on the replayed days, "
                        "with the month's findings, spend, credits, leakage and SLA)"))
    else:
        out.append(("report", r.report_note or "not written"))
    if kept:
        out.append(("explore", f"recoup --db {r.database_url} --contracts {r.contracts} findings"))
    return out


def plain_text(r: DemoResult, kept: bool) -> str:
    """The summary as plain aligned text (for a pipe or a file)."""
    lines = [_headline(r), ""]
    for head, rows in (_finding_rows(r), _claim_rows(r)):
        widths = [max(len(x) for x in col) for col in zip(head, *rows, strict=True)]
        for row in (head, *rows):
            cells = [x.ljust(w) if i == 0 else x.rjust(w) for i, (x, w) in enumerate(zip(row, widths, strict=True))]
            lines.append("  ".join(cells).rstrip())
        lines.append("")
    width = max(len(label) for label, _ in _tail(r, kept))
    lines.extend(f"{label:<{width}}  {text}".rstrip() for label, text in _tail(r, kept))
    return "\n".join(lines) + "\n"


def _print_rich(r: DemoResult, kept: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    console.print(f"[bold]{_headline(r)}[/bold]")
    for title, (head, rows) in (("Findings (amounts per currency)", _finding_rows(r)),
                                ("Claims filed with the sandbox carrier", _claim_rows(r))):
        t = Table(title=title, header_style="bold", title_justify="left")
        for i, h in enumerate(head):
            t.add_column(h, justify="left" if i == 0 else "right")
        for j, row in enumerate(rows):
            t.add_row(*row, style="bold" if row[0] == "total" and j == len(rows) - 1 else None)
        console.print(t)
    for label, text in _tail(r, kept):
        console.print(f"[bold]{label:<9}[/bold] {text}", soft_wrap=True)
