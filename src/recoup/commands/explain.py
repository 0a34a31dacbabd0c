"""`recoup explain TRACKING`: the command and its printing; what it shows is built in
:mod:`recoup.audit.explain`, imported when the command runs (pandas and the audit rules are not loaded
to print the CLI's help)."""

from __future__ import annotations

import json
import sys
from typing import Any

import typer

from recoup.commands.base import carrier_code, command_clock, ctx_of, guarded, parse_date


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
    from recoup.audit.explain import build_report, last_audit_date

    c = ctx_of(ctx)
    day = parse_date(as_of, "--as-of") or last_audit_date(c.engine()) or command_clock(None).today()
    report = build_report(c.engine(), c.contracts(), tracking, carrier_code(carrier, c.engine()), day)
    if fmt_ == "json":
        sys.stdout.write(json.dumps(report, indent=1, default=str) + "\n")
    else:
        print_report(report)


def print_report(r: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
    con.print(f"[bold]{r['tracking_number']}[/bold] ({r['carrier']}), as of {r['as_of']}")

    def kv(title: str, d: dict[str, Any] | None) -> None:
        if not d:
            return
        t = Table(title=title, show_header=False, title_justify="left")
        t.add_column("", style="bold")
        t.add_column("", overflow="fold")
        for k, v in d.items():
            if v is None or v == []:
                continue
            t.add_row(k, json.dumps(v) if isinstance(v, (dict, list)) else str(v))
        con.print(t)

    def table(title: str, rows: list[dict[str, Any]], cols: list[str]) -> None:
        if not rows:
            con.print(f"[dim]{title}: none[/dim]")
            return
        t = Table(title=title, title_justify="left", header_style="bold")
        for c in cols:
            t.add_column(c, overflow="fold")
        for row in rows:
            t.add_row(*["" if row.get(c) is None else str(row.get(c)) for c in cols])
        con.print(t)

    if r["manifest"] is None:
        con.print("[yellow]not in any shipments manifest[/yellow]")
    kv("manifest", r["manifest"])
    kv("contract", {k: v for k, v in r["contract"].items() if k not in ("claims", "service")})
    kv("service terms", r["contract"].get("service"))
    kv("claim rules", r["contract"].get("claims"))
    table("events (local time)", r["events"], ["at", "status", "code", "description", "city", "exception_reason"])
    table("invoice lines", r["invoice_lines"], ["id", "invoice_number", "invoice_date", "charge_type", "amount",
                                                 "billed_weight", "zone", "audit"])
    table(f"audit as of {r['as_of']}", r["verdicts"], ["kind", "made", "why"])
    table("stored findings", r["findings"], ["id", "kind", "status", "amount", "currency", "claimable", "deadline",
                                             "claim_id", "reason"])
    for f in r["findings"]:
        table(f"history of finding {f['id']} ({f['kind']})", f["history"], ["at", "change", "detail"])
    table("claims", r["claims"], ["id", "kind", "status", "claimed", "approved", "credited", "currency", "deadline",
                                  "carrier_reference"])
    for c in r["claims"]:
        table(f"history of claim {c['id']}", c["events"], ["at", "from", "to", "actor", "detail"])
