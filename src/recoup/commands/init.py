"""`recoup init`: create or migrate the database, then say what to do next."""

from __future__ import annotations

import typer

from recoup.commands.base import ctx_of, guarded
from recoup.output import stderr
from recoup.redact import mask_url


@guarded
def init(ctx: typer.Context) -> None:
    """Create or migrate the database; idempotent."""
    from recoup.settings import LOCAL_CONTRACTS, bundled_contracts_dir
    from recoup.store.db import init_db

    c = ctx_of(ctx)
    msg = init_db(c.engine(check=False))
    err = stderr()
    err.print(f"{msg}: {mask_url(c.settings.database_url)}", markup=False)
    folder = c.settings.contracts_dir()
    bundled = folder == bundled_contracts_dir()
    err.print(f"contracts: {folder}" + (" (the bundled defaults: published terms, not yours)" if bundled else ""),
              soft_wrap=True)
    steps = ["recoup doctor                              # check the setup: contracts, channels, inbox, SMTP"]
    if bundled:
        steps.append(f"recoup contracts export {LOCAL_CONTRACTS}   # copy the defaults, then edit your own terms")
    steps += ["recoup contracts check                     # validate and summarise the contracts",
              "recoup ingest shipments|scans|invoices FILE...",
              "recoup audit                               # findings and claims; then `recoup findings`",
              "recoup worker run                          # or let the schedule do it all (docs/deployment.md)"]
    err.print("next steps:\n" + "\n".join("  " + s for s in steps), soft_wrap=True, markup=False)
