"""An independent re-implementation of the demo contracts' terms, used only to produce the demo's
expected answers.

The generator must know what each parcel should cost, when it was due and which findings it calls
for, so that ``planted.json`` says what a correct audit finds. It reads the bundled demo contracts
(:mod:`recoup.demo.contracts`: TOML, rate cards, fuel tables, delivery-area lists) on its own and
re-implements here the few terms it needs: business days and holidays, prices by zone and weight,
billable (dimensional) weight, fuel percentages, delivery areas. Deliberately, nothing here (or in
the rest of the generator) imports recoup's contract loader or audit code (``recoup.sla``,
``recoup.audit``): were the demo to compute its expected answers with the code it checks, a bug in
that code would be planted into the answers too, and the demo would agree with it.
"""

from __future__ import annotations

import csv
import datetime as dt
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from importlib import resources
from typing import Any


def ceil_to(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).to_integral_value(rounding=ROUND_CEILING) * step


@dataclass(frozen=True)
class ServiceTerms:
    code: str
    name: str
    guaranteed: bool
    transit_days: int
    commit: dt.time
    rates: dict[str, tuple[tuple[Decimal, int], ...]] | None   # zone -> (weight upper bound, cents)


@dataclass(frozen=True)
class IndependentTerms:
    """What the generator needs of a demo contract, read and applied on its own: an independent
    re-implementation of the terms that :mod:`recoup.sla.contracts` loads for the audit (see the module
    docstring), so that the demo's expected answers do not inherit the audit's mistakes."""

    carrier: str
    name: str
    currency: str
    weight_unit: str
    dim_unit: str
    dim_divisor: Decimal
    weight_increment: Decimal
    dim_rounding: str
    timezone: str
    business_days: tuple[int, ...]
    holidays: tuple[dt.date, ...]
    claims: dict[str, Any]
    services: dict[str, ServiceTerms]
    fuel: tuple[tuple[dt.date, Decimal, tuple[str, ...]], ...]
    das: tuple[str, ...] | None

    def is_business_day(self, d: dt.date) -> bool:
        return d.weekday() in self.business_days and d not in self.holidays

    def tender(self, ship: dt.date) -> dt.date:
        """The first business day on or after the ship date."""
        d = ship
        while not self.is_business_day(d):
            d += dt.timedelta(days=1)
        return d

    def add_business_days(self, d: dt.date, n: int) -> dt.date:
        for _ in range(n):
            d += dt.timedelta(days=1)
            while not self.is_business_day(d):
                d += dt.timedelta(days=1)
        return d

    def fuel_percent(self, service: str, ship: dt.date) -> Decimal | None:
        best: tuple[dt.date, Decimal] | None = None
        for eff, pct, services in self.fuel:
            if services and service not in services:
                continue
            if eff <= ship and (best is None or eff >= best[0]):
                best = (eff, pct)
        return best[1] if best else None

    def price(self, service: str, zone: str, weight: Decimal) -> int | None:
        rates = self.services[service].rates
        if rates is None or zone.lstrip("0") not in rates:
            return None
        for upper, cents in rates[zone.lstrip("0")]:
            if upper >= weight:
                return cents
        return None

    def max_weight(self, service: str) -> Decimal | None:
        rates = self.services[service].rates
        if not rates:
            return None
        return min(rows[-1][0] for rows in rates.values())

    def billable(self, weight: Decimal, dims: Sequence[Decimal]) -> Decimal:
        rounding = ROUND_CEILING if self.dim_rounding == "up" else ROUND_HALF_UP
        volume = Decimal(1)
        for d in dims:
            volume *= d.to_integral_value(rounding=rounding)
        return ceil_to(max(volume / self.dim_divisor, weight), self.weight_increment)

    def in_das(self, postal: str, country: str) -> bool:
        if self.das is None:
            return False
        code = postal.upper().replace(" ", "")
        if country == "US":
            code = code[:5]
        keys = [code]
        if country == "GB" and len(code) > 3:
            outward = code[:-3]
            area = "".join(ch for ch in outward[:2] if ch.isalpha())
            keys += [outward, area]
        return any(k in self.das for k in keys)


def contracts_root() -> Any:
    return resources.files("recoup.demo.contracts")


def contract_files() -> list[str]:
    """The bundled demo contract files (TOML, rate cards, DAS lists), sorted."""
    return sorted(p.name for p in contracts_root().iterdir()
                  if p.is_file() and p.name.endswith((".toml", ".csv", ".txt")))


def _read_rates(name: str) -> dict[str, tuple[tuple[Decimal, int], ...]]:
    text = contracts_root().joinpath(name).read_text(encoding="utf-8")
    rows = list(csv.reader(text.splitlines()))
    zones = rows[0][1:]
    out: dict[str, list[tuple[Decimal, int]]] = {z.lstrip("0") or z: [] for z in zones}
    for r in rows[1:]:
        w = Decimal(r[0])
        for z, cell in zip(zones, r[1:], strict=True):
            out[z.lstrip("0") or z].append((w, int(Decimal(cell) * 100)))
    return {z: tuple(v) for z, v in out.items()}


def load_terms(carrier: str) -> IndependentTerms:
    """The terms of the bundled demo contract ``<carrier>.toml``, read here, not by recoup's loader."""
    data = tomllib.loads(contracts_root().joinpath(f"{carrier}.toml").read_text(encoding="utf-8"))
    cal = data["calendar"]
    days = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
    services = {}
    for s in data["services"]:
        hh, mm = (int(x) for x in s.get("commit_time", "23:59").split(":"))
        services[s["code"]] = ServiceTerms(
            code=s["code"], name=s.get("name", s["code"]), guaranteed=bool(s.get("guaranteed", False)),
            transit_days=int(s.get("transit_days", 1)), commit=dt.time(hh, mm),
            rates=_read_rates(s["rates"]) if s.get("rates") else None)
    das_file = data.get("surcharges", {}).get("das_postal_codes")
    das = None
    if das_file:
        lines = contracts_root().joinpath(das_file).read_text(encoding="utf-8").splitlines()
        das = tuple(ln.split("#")[0].strip().upper().replace(" ", "") for ln in lines if ln.split("#")[0].strip())
    return IndependentTerms(
        carrier=data["carrier"], name=data["name"], currency=data["currency"], weight_unit=data["weight_unit"],
        dim_unit=data["dim_unit"], dim_divisor=Decimal(str(data["dim_divisor"])),
        weight_increment=Decimal(str(data["weight_increment"])), dim_rounding=data["dim_rounding"],
        timezone=cal["timezone"], business_days=tuple(sorted(days[d] for d in cal["business_days"])),
        holidays=tuple(dt.date.fromisoformat(str(h)) for h in [*cal.get("holidays", []), *cal.get("extra_holidays", [])]),
        claims=dict(data["claims"]), services=services,
        fuel=tuple((dt.date.fromisoformat(str(f["effective"])), Decimal(f["percent"]), tuple(f.get("services", [])))
                   for f in data.get("fuel", [])),
        das=das,
    )
