"""The contract model: what a loaded carrier contract holds (spec/contracts.md), and the set of a folder.

Frozen dataclasses only; :mod:`recoup.sla.contracts` loads them from TOML (and re-exports them).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
CHANNELS = ("api", "email", "file")
WINDOW_ANCHORS = ("promised", "delivered", "invoice", "ship")     # late_window_from
LOSS_ANCHORS = ("ship", "invoice")                                 # loss_window_from
DAMAGE_ANCHORS = ("delivered", "ship", "invoice")                  # damage_window_from
LB_IN_KG = Decimal("0.45359237")


@dataclass(frozen=True)
class Calendar:
    country: str
    subdivision: str
    holidays: tuple[dt.date, ...]
    extra_holidays: tuple[dt.date, ...]
    business_days: tuple[int, ...]   # weekday numbers, Monday = 0
    timezone: str


@dataclass(frozen=True)
class ClaimRules:
    channel: Literal["api", "email", "file"]
    late_window_days: int
    late_window_from: Literal["promised", "delivered", "invoice", "ship"]
    loss_window_days: int
    damage_window_days: int
    dispute_window_days: int
    lost_after_days: int
    void_after_days: int
    default_liability_cents: int
    value_claims_refund_shipping: bool
    late_refund_charges: tuple[str, ...]
    excluded_exception_reasons: tuple[str, ...]
    loss_window_from: Literal["ship", "invoice"] = "ship"
    damage_window_from: Literal["delivered", "ship", "invoice"] = "delivered"
    liability_per_kg: Decimal | None = None      # money per kg of the manifest weight; default_liability caps it


@dataclass(frozen=True)
class Relaxation:
    """A guarantee relaxed rather than suspended: parcels shipped ``start``..``end`` (inclusive) on
    ``services`` ("*" = all) are due ``extra_days`` business days (the contract's calendar) later."""

    start: dt.date
    end: dt.date
    services: tuple[str, ...]
    extra_days: int

    def covers(self, service: str, day: dt.date) -> bool:
        return self.start <= day <= self.end and ("*" in self.services or service in self.services)


@dataclass(frozen=True)
class Suspension:
    start: dt.date
    end: dt.date          # inclusive
    services: tuple[str, ...]   # "*" = all

    def covers(self, service: str, day: dt.date) -> bool:
        return self.start <= day <= self.end and ("*" in self.services or service in self.services)


@dataclass(frozen=True)
class RateCard:
    path: Path
    weights: tuple[Decimal, ...]                 # upper bounds, ascending
    zones: dict[str, tuple[int | None, ...]]     # zone label -> cents per band (None: empty cell)

    def zone_column(self, zone: str | None) -> tuple[int | None, ...] | None:
        if zone is None:
            return None
        z = str(zone).strip()
        if z in self.zones:
            return self.zones[z]
        if z.isdigit():
            for label, col in self.zones.items():
                if label.isdigit() and int(label) == int(z):
                    return col
        return None

    def price(self, zone: str | None, weight: Decimal) -> int | None:
        """Cents for a billable weight in a zone; None when the card cannot price it."""
        col = self.zone_column(zone)
        if col is None:
            return None
        for i, w in enumerate(self.weights):
            if w >= weight:
                return col[i]
        return None


@dataclass(frozen=True)
class ZoneChart:
    """A carrier's zone chart (CSV ``origin,dest,zone``): origin and destination postal prefixes (a
    destination may be a range ``004-005`` of prefixes of one length), the zone as invoices name it.
    The longest origin prefix that matches wins, then the longest destination prefix."""

    path: Path
    rows: dict[str, tuple[tuple[str, str, str], ...]]     # origin prefix -> (dest lo, dest hi, zone)

    def zone(self, origin: str | None, dest: str | None) -> str | None:
        if not origin or not dest:
            return None
        o = "".join(str(origin).split()).upper()
        d = "".join(str(dest).split()).upper()
        for n in sorted({len(k) for k in self.rows}, reverse=True):
            cands = self.rows.get(o[:n])
            if cands is None:
                continue
            best: tuple[int, str] | None = None
            for lo, hi, z in cands:
                k = d[:len(lo)]
                if len(k) == len(lo) and lo <= k <= hi and (best is None or len(lo) > best[0]):
                    best = (len(lo), z)
            if best is not None:
                return best[1]
        return None


@dataclass(frozen=True)
class PeakPeriod:
    """A demand/peak surcharge the contract accepts: between ``start`` and ``end`` (ship dates,
    inclusive), for ``services`` ("*" = all), at most ``max_cents`` per parcel (None: any amount)."""

    start: dt.date
    end: dt.date
    services: tuple[str, ...]
    max_cents: int | None = None

    def covers(self, service: str, day: dt.date) -> bool:
        return self.start <= day <= self.end and ("*" in self.services or service in self.services)


@dataclass(frozen=True)
class Service:
    code: str
    name: str
    guaranteed: bool
    transit_days: int | None
    commit_time: dt.time | None
    rates: RateCard | None
    invoice_codes: tuple[str, ...] = ()     # how invoices name this service, besides ``code`` (service_mismatch)
    incentive_percent: Decimal | None = None   # the contract's incentive off the published price (missing_incentive)
    published_rates: RateCard | None = None    # the carrier's published (list) prices (missing_incentive)
    minimum_charge_cents: int | None = None    # the contract's minimum net transportation charge (minimum_charge)
    zone_chart: ZoneChart | None = None        # this service's zone chart, else the contract's (zone_mismatch)
    first_attempt_meets_guarantee: bool = False   # a first delivery attempt by the deadline meets it (USPS PME)


@dataclass(frozen=True)
class FuelRow:
    effective: dt.date
    percent: Decimal
    services: tuple[str, ...]   # empty = all


@dataclass(frozen=True)
class PackageLimits:
    """Published surcharge thresholds, in the contract's units (``weight_unit``, ``dim_unit``): a parcel
    is above them when any one is exceeded. None: that measure is not a trigger."""

    longest: Decimal | None = None
    second_longest: Decimal | None = None
    length_plus_girth: Decimal | None = None
    weight: Decimal | None = None


@dataclass(frozen=True)
class DeclaredValueFee:
    """The fee for declared value: nothing up to ``free_up_to``; above it ``per_100`` for each 100 (or
    part) of the value above, at least ``minimum``. ``per_100`` None: only "no value declared" is judged."""

    free_up_to_cents: int
    per_100_cents: int | None = None
    minimum_cents: int = 0


@dataclass(frozen=True)
class AccountFee:
    """An account-level fee the contract waives (``max_cents`` 0) or caps: matched on the invoice line's
    description (case-insensitive text it contains)."""

    match: str
    max_cents: int
    source: str = ""


@dataclass(frozen=True)
class Contract:
    path: Path
    carrier: str
    name: str
    account_numbers: tuple[str, ...]
    currency: str
    weight_unit: Literal["lb", "kg"]
    dim_unit: Literal["in", "cm"]
    dim_divisor: Decimal
    weight_increment: Decimal
    dim_rounding: Literal["up", "half_up"]
    calendar: Calendar
    claims: ClaimRules
    suspensions: tuple[Suspension, ...]
    services: dict[str, Service]
    fuel: tuple[FuelRow, ...]
    das_postal_codes: frozenset[str] | None
    das_path: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    additional_handling: PackageLimits | None = None     # [surcharges.additional_handling]
    large_package: PackageLimits | None = None           # [surcharges.large_package]
    declared_value_fee: DeclaredValueFee | None = None   # [surcharges.declared_value]
    account_fees: tuple[AccountFee, ...] = ()            # [[account_fees]]
    correction_tolerance: Decimal = Decimal(0)            # [corrections] weight_tolerance, in weight_unit
    zone_chart: ZoneChart | None = None                  # zone_chart (zone_mismatch)
    peak: tuple[PeakPeriod, ...] | None = None           # [[surcharges.peak]]; None: the contract says nothing
    signature_fees: dict[str, int] = field(default_factory=dict)   # [surcharges.signature] direct/adult, cents
    carrier_caused_reasons: tuple[str, ...] = ("carrier",)   # claims.carrier_caused_reasons
    relaxations: tuple[Relaxation, ...] = ()              # [[gsr_relaxations]]

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.calendar.timezone)

    def fuel_percent(self, service: str, ship_date: dt.date) -> Decimal | None:
        best: FuelRow | None = None
        for row in self.fuel:
            if row.services and service not in row.services:
                continue
            if row.effective <= ship_date and (best is None or row.effective >= best.effective):
                best = row
        return best.percent if best else None

    def relaxed(self, service: str, ship_date: dt.date) -> Relaxation | None:
        """The first ``[[gsr_relaxations]]`` row covering a parcel (rows of a file should not overlap)."""
        for x in self.relaxations:
            if x.covers(service, ship_date):
                return x
        return None

    def suspended(self, service: str, ship_date: dt.date) -> Suspension | None:
        for s in self.suspensions:
            if s.covers(service, ship_date):
                return s
        return None


def normalise_postal(code: str, country: str | None = None) -> str:
    """Upper case, spaces removed; US codes on their first five digits (audits.md)."""
    c = "".join(str(code).split()).upper()
    if (country or "").upper() == "US":
        c = c.split("-")[0][:5]
    return c


@dataclass
class ContractSet:
    """Every contract of a folder, with the problems of those that failed to load."""

    folder: Path
    contracts: list[Contract]
    errors: list[str]

    def for_carrier(self, carrier: str) -> list[Contract]:
        return [c for c in self.contracts if c.carrier == carrier]

    def match(self, carrier: str, account: str | None) -> Contract | None:
        """The contract of a shipment: its account listed, else the one with an empty list."""
        cands = self.for_carrier(carrier)
        listed = [c for c in cands if account and account in c.account_numbers]
        if listed:
            return listed[0]
        open_ = [c for c in cands if not c.account_numbers]
        return open_[0] if open_ else None

    def conflicts(self) -> list[str]:
        """Configuration errors: two contracts that would match one shipment."""
        out = []
        by_carrier: dict[str, list[Contract]] = {}
        for c in self.contracts:
            by_carrier.setdefault(c.carrier, []).append(c)
        for carrier, cs in by_carrier.items():
            open_ = [c for c in cs if not c.account_numbers]
            if len(open_) > 1:
                out.append(f"{carrier}: {len(open_)} contracts cover all accounts: "
                           + ", ".join(str(c.path.name) for c in open_))
            seen: dict[str, Path] = {}
            for c in cs:
                for a in c.account_numbers:
                    if a in seen:
                        out.append(f"{carrier}: account {a} is in both {seen[a].name} and {c.path.name}")
                    seen[a] = c.path
        return out

