"""The time zone of a scan's location, from codes/location_zones.csv (data, a source per row).

Used where a carrier gives a local wall-clock time without its offset (UPS Track without
``gmt*`` fields, a FedEx scan ``date`` without an offset, USPS ``eventTimestamp`` without
``GMTOffset``). A row names a zone for a country, a country and region (US state), or a region and
a range of 3-digit postal prefixes (``798-799``); the most specific matching row wins. A row with
an empty zone says the region is split between zones: no zone is derived from it, and the caller
falls back (manifest ``dest_timezone``, then the contract's ``calendar.timezone``).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from recoup.errors import ConfigError

__all__ = ["local_to_utc", "zone_for"]

_TABLE = "location_zones.csv"


@dataclass(frozen=True)
class _Row:
    country: str
    region: str
    low: str
    high: str
    zone: str


@cache
def _rows() -> tuple[_Row, ...]:
    text = resources.files(__package__).joinpath(_TABLE).read_text(encoding="utf-8")
    out: list[_Row] = []
    for lineno, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        clean = {k: (v or "").strip() for k, v in row.items() if k is not None}
        where = f"codes/{_TABLE} line {lineno}"
        if not clean.get("source"):
            raise ConfigError(f"{where}: no source")
        zone = clean.get("zone", "")
        if zone:
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ConfigError(f"{where}: unknown time zone {zone!r}") from exc
        prefix = clean.get("postal_prefix", "")
        low, _, high = prefix.partition("-")
        out.append(_Row(clean["country"].upper(), clean.get("region", "").upper(), low, high or low, zone))
    return tuple(out)


def zone_for(country: str | None, region: str | None = None, postal: str | None = None) -> str | None:
    """The IANA zone of a place, or None when the table cannot tell (unknown or split region)."""
    c = (country or "").strip().upper()
    c = "US" if c == "USA" else c
    if not c:
        return None
    r = (region or "").strip().upper()
    p = "".join(ch for ch in (postal or "") if ch.isalnum())
    best: tuple[int, str] | None = None
    for row in _rows():
        if row.country != c:
            continue
        if row.region and row.region != r:
            continue
        if row.low and not (p[:len(row.low)] and row.low <= p[:len(row.low)] <= row.high):
            continue
        rank = 2 if row.low else 1 if row.region else 0
        if best is None or rank > best[0]:
            best = (rank, row.zone)
    if best is None:
        return None
    return best[1] or None


def local_to_utc(local: pd.Timestamp, zone: str) -> tuple[pd.Timestamp, int]:
    """A naive wall-clock time in ``zone`` as (UTC instant, offset in minutes). An ambiguous time at
    the autumn change is taken as the first (daylight) occurrence, a skipped spring time moves
    forward: the same rule as the ingest service's."""
    aware = local.tz_localize(zone, ambiguous=True, nonexistent="shift_forward")
    offset = aware.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    return aware.tz_convert("UTC"), minutes
