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
    import shutil

    from recoup.settings import bundled_contracts_dir

    src = bundled_contracts_dir()
    names = sorted(p.name for p in src.iterdir() if p.suffix in (".toml", ".md"))
    clash = [n for n in names if (folder / n).exists()]
    if clash and not force:
        fail(f"{folder} already has {', '.join(clash)}: give --force to overwrite, or another folder")
    folder.mkdir(parents=True, exist_ok=True)
    for n in names:
        shutil.copyfile(src / n, folder / n)
    stderr().print(f"wrote {len(names)} files to {folder}; recoup reads {folder} when it is config/contracts in "
                   "the working directory, else point --contracts / RECOUP_CONTRACTS at it", soft_wrap=True)


@app.command("check")
@guarded
def contracts_check(ctx: typer.Context, fmt: str = typer.Option("table", "--format", callback=check_format)) -> None:
    """Validate and summarise every contract of the contracts folder."""
    c = ctx_of(ctx)
    cs = c.contracts()
    rows = []
    for k in cs.contracts:
        rows.append({
            "file": k.path.name, "carrier": k.carrier, "name": k.name, "currency": k.currency,
            "accounts": ", ".join(k.account_numbers) or "all",
            "services": len(k.services), "guaranteed": sum(s.guaranteed for s in k.services.values()),
            "rate_cards": sum(s.rates is not None for s in k.services.values()),
            "fuel_rows": len(k.fuel), "das_codes": len(k.das_postal_codes or ()),
            "channel": k.claims.channel, "calendar": k.calendar.country + (f"-{k.calendar.subdivision}" if k.calendar.subdivision else ""),
            "timezone": k.calendar.timezone,
        })
    emit(rows, fmt, title=f"contracts in {cs.folder}")
    problems = cs.errors + cs.conflicts()
    for p in problems:
        stderr().print(f"[red]error:[/red] {p}", soft_wrap=True)
    if not cs.contracts and not cs.errors:
        fail(f"no contracts (*.toml) in {cs.folder}")
    if problems:
        raise typer.Exit(1)
