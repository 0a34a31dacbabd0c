"""`recoup contracts export|check`."""

from __future__ import annotations

from pathlib import Path

import typer

from recoup.commands.base import check_format, ctx_of, fail, guarded
from recoup.output import emit, stderr

app = typer.Typer(no_args_is_help=True, help="Carrier contracts.")


@app.command("export")
@guarded
def contracts_export(folder: Path = typer.Argument(Path("config/contracts"), metavar="FOLDER", help="Where to write them."),
                     force: bool = typer.Option(False, "--force", help="Overwrite files that exist.")) -> None:
    """Copy the bundled default contracts into FOLDER, to edit into your own terms."""
    from recoup.sla.folder import export_defaults

    names = export_defaults(folder, force=force)
    stderr().print(f"wrote {len(names)} files to {folder}; recoup reads {folder} when it is config/contracts in "
                   "the working directory, else point --contracts / RECOUP_CONTRACTS at it", soft_wrap=True)


@app.command("check")
@guarded
def contracts_check(ctx: typer.Context, fmt: str = typer.Option("table", "--format", callback=check_format)) -> None:
    """Validate and summarise every contract of the contracts folder."""
    from recoup.sla.folder import contract_rows

    cs = ctx_of(ctx).contracts()
    rows = contract_rows(cs)
    emit(rows, fmt, title=f"contracts in {cs.folder}")
    problems = cs.errors + cs.conflicts()
    for p in problems:
        stderr().print(f"[red]error:[/red] {p}", soft_wrap=True)
    if not cs.contracts and not cs.errors:
        fail(f"no contracts (*.toml) in {cs.folder}")
    if problems:
        raise typer.Exit(1)
