"""The contracts folder as a person handles it: the bundled default contracts copied out to be edited
(``recoup contracts export``), and one summary row per loaded contract (``recoup contracts check``)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from recoup.errors import ConfigError
from recoup.settings import bundled_contracts_dir
from recoup.sla.contracts import ContractSet


def export_defaults(folder: Path, *, force: bool = False) -> list[str]:
    """Copy the bundled default contracts (and their notes) into ``folder``; the names written. Files
    already there are overwritten only with ``force`` (else ConfigError, nothing written)."""
    src = bundled_contracts_dir()
    names = sorted(p.name for p in src.iterdir() if p.suffix in (".toml", ".md"))
    clash = [n for n in names if (folder / n).exists()]
    if clash and not force:
        raise ConfigError(f"{folder} already has {', '.join(clash)}: give --force to overwrite, or another folder")
    folder.mkdir(parents=True, exist_ok=True)
    for n in names:
        shutil.copyfile(src / n, folder / n)
    return names


def contract_rows(cs: ContractSet) -> list[dict[str, Any]]:
    """One row per contract: its file, carrier, accounts and what it holds (services, guaranteed ones,
    rate cards, fuel table rows, remote-area codes), its claims channel, calendar and time zone."""
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
    return rows
