"""`recoup rules`: every finding kind recoup judges, from the rule registry (``recoup.audit.rules``):
kind, what it finds, the documents it rests on, the contract keys it reads. The command only prints."""

from __future__ import annotations

import typer

from recoup.commands.base import check_format, guarded


@guarded
def rules_(fmt: str = typer.Option("table", "--format", callback=check_format, help="table, csv or json.")) -> None:
    """List every audit rule: kind, what it finds, its sources and the contract keys it reads."""
    from recoup.audit.rules import rule_rows
    from recoup.output import emit

    rows = rule_rows()
    if fmt == "json":
        emit(rows, fmt)
        return
    flat = [{**r, "sources": "; ".join(r["sources"]), "contract_keys": ", ".join(r["contract_keys"])} for r in rows]
    cols = ["kind", "description", "automatic", "sources", "contract_keys", "doc"]
    emit(flat, fmt, columns=cols if fmt == "csv" else ["kind", "description", "automatic", "contract_keys", "doc"],
         title="audit rules")
