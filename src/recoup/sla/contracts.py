"""Carrier contracts: load and validate the TOML files of spec/contracts.md.

A contract that fails to load names the file, the key and the reason
(:class:`recoup.errors.ConfigError`); recoup then refuses to audit that carrier rather than guess.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from recoup.errors import ConfigError
from recoup.money import to_cents
from recoup.settings import read_toml

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


class _Reader:
    """Typed access to one TOML table with messages that name file and key."""

    def __init__(self, path: Path, data: dict[str, Any], prefix: str = "") -> None:
        self.path, self.data, self.prefix = path, data, prefix

    def fail(self, key: str, reason: str) -> ConfigError:
        return ConfigError(f"{self.path}: {self.prefix}{key}: {reason}")

    def only(self, *allowed: str) -> None:
        """Refuse keys this table does not know: a typo must not load as a default."""
        for k in self.data:
            if k not in allowed:
                raise self.fail(k, f"unknown key (known: {', '.join(allowed)})")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ..., *, required: bool = True) -> Any:
        if key not in self.data:
            if default is not ...:
                return default
            raise self.fail(key, "missing")
        v = self.data[key]
        if kind is int and isinstance(v, bool):
            raise self.fail(key, f"expected an integer, got {v!r}")
        if not isinstance(v, kind):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise self.fail(key, f"expected {names}, got {v!r}")
        return v

    def decimal(self, key: str, default: Any = ..., *, positive: bool = False,
                bounds: tuple[Decimal, Decimal] | None = None) -> Decimal:
        """A number; within ``bounds`` (inclusive; every key has one, see :data:`BOUNDS`)."""
        v = self.get(key, (str, int, float), default)
        if isinstance(v, Decimal):
            return v
        try:
            d = Decimal(str(v).strip()) if len(str(v)) <= 40 else Decimal("NaN")
        except InvalidOperation:
            raise self.fail(key, f"not a number: {v!r}") from None
        if not d.is_finite():
            raise self.fail(key, f"not a number: {v!r}")
        if positive and d <= 0:
            raise self.fail(key, f"must be a positive number, got {v!r}")
        lo, hi = bounds or BOUNDS.get(key.rsplit(".", 1)[-1], DEFAULT_BOUNDS)
        if not lo <= d <= hi:
            raise self.fail(key, f"must be between {lo} and {hi}, got {v!r}")
        return d

    def money(self, key: str, default: Any = ...) -> int:
        """An amount in cents: at most two decimals, within :data:`BOUNDS`."""
        d = self.decimal(key, default)
        try:
            return to_cents(d)
        except ValueError as e:
            raise self.fail(key, f"{e}") from None

    def non_negative_int(self, key: str, default: Any = ...) -> int:
        v = self.get(key, int, default)
        if v < 0 or v > MAX_DAYS:
            raise self.fail(key, f"must be between 0 and {MAX_DAYS}, got {v}")
        return int(v)

    def choice(self, key: str, options: tuple[str, ...], default: Any = ...) -> str:
        v = self.get(key, str, default)
        if v not in options:
            raise self.fail(key, f"must be one of {', '.join(options)}, got {v!r}")
        return str(v)

    def date(self, key: str, value: Any = ...) -> dt.date:
        v = self.data.get(key) if value is ... else value
        if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
            return v
        try:
            return dt.date.fromisoformat(str(v))
        except ValueError:
            raise self.fail(key, f"not a date (YYYY-MM-DD): {v!r}") from None

    def dates(self, key: str) -> tuple[dt.date, ...]:
        vs = self.get(key, list, [])
        return tuple(self.date(f"{key}[{i}]", v) for i, v in enumerate(vs))

    def strings(self, key: str, default: Any = ...) -> tuple[str, ...]:
        vs = self.get(key, list, default)
        for i, v in enumerate(vs):
            if not isinstance(v, str):
                raise self.fail(f"{key}[{i}]", f"expected text, got {v!r}")
        return tuple(vs)

    def table(self, key: str, *, required: bool = True) -> _Reader:
        v = self.data.get(key)
        if v is None:
            if required:
                raise self.fail(key, "missing table")
            v = {}
        if not isinstance(v, dict):
            raise self.fail(key, "expected a table")
        return _Reader(self.path, v, f"{self.prefix}{key}.")

    def tables(self, key: str) -> list[_Reader]:
        v = self.data.get(key, [])
        if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
            raise self.fail(key, "expected an array of tables ([[...]])")
        return [_Reader(self.path, x, f"{self.prefix}{key}[{i}].") for i, x in enumerate(v)]


#: Bounds of every number a contract holds (inclusive), by key: a value outside is refused by
#: ``contracts check`` and never reaches an audit (``default_liability = "1e400"`` did).
BOUNDS: dict[str, tuple[Decimal, Decimal]] = {
    "default_liability": (Decimal(0), Decimal(1_000_000)),     # money, in the contract's currency
    "rate": (Decimal(0), Decimal(1_000_000)),                  # a rate card's price
    "weight": (Decimal(0), Decimal(100_000)),                  # a rate card's weight (lb or kg)
    "percent": (Decimal(0), Decimal(100)),                     # a fuel surcharge, in percent
    "dim_divisor": (Decimal(1), Decimal(10**12)),             # a huge one turns dim weight off (royal_mail)
    "weight_increment": (Decimal("0.001"), Decimal(1_000)),
    "incentive_percent": (Decimal(0), Decimal(100)),           # an incentive off the published price, in percent
    "minimum_charge": (Decimal(0), Decimal(1_000_000)),        # money
    "max": (Decimal(0), Decimal(1_000_000)),                   # money: a peak surcharge or an account fee at most
    "direct": (Decimal(0), Decimal(1_000_000)),                # money: a signature fee
    "adult": (Decimal(0), Decimal(1_000_000)),
    "liability_per_kg": (Decimal(0), Decimal(1_000_000)),       # money per kilogram
}
DEFAULT_BOUNDS = (Decimal(-1_000_000), Decimal(1_000_000))
MAX_DAYS = 3650                                                # windows and transit times, in days


def load_rate_card(path: Path, where: str) -> RateCard:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 (byte {e.start}): save the rate card as UTF-8") from None
    except OSError as e:
        raise ConfigError(f"{where}: cannot read rate card {path}: {e.strerror}") from None
    rows = list(csv.reader(io.StringIO(text)))
    rows = [r for r in rows if r and any(c.strip() for c in r)]
    if not rows or rows[0][0].strip().lower() != "weight" or len(rows[0]) < 2:
        raise ConfigError(f"{path}: line 1: a rate card starts with a header 'weight,<zone>,...'")
    zones = [z.strip() for z in rows[0][1:]]
    weights: list[Decimal] = []
    cols: list[list[int | None]] = [[] for _ in zones]
    for n, r in enumerate(rows[1:], start=2):
        try:
            w = Decimal(r[0].strip()) if len(r[0]) <= 40 else Decimal("NaN")
        except InvalidOperation:
            raise ConfigError(f"{path}: line {n}: column weight: not a number: {r[0]!r}") from None
        lo, hi = BOUNDS["weight"]
        if not w.is_finite() or not lo < w <= hi:
            raise ConfigError(f"{path}: line {n}: column weight: must be above {lo} and at most {hi}: {r[0]!r}")
        if weights and w <= weights[-1]:
            raise ConfigError(f"{path}: line {n}: column weight: weights must ascend")
        weights.append(w)
        for i, z in enumerate(zones):
            cell = r[i + 1].strip() if i + 1 < len(r) else ""
            if not cell:
                cols[i].append(None)
                continue
            lo, hi = BOUNDS["rate"]
            try:
                if len(cell) > 40 or not lo <= Decimal(cell) <= hi:
                    raise ValueError(cell)
                cols[i].append(to_cents(cell))
            except (ValueError, InvalidOperation):
                raise ConfigError(f"{path}: line {n}: column {z}: not an amount between {lo} and {hi} "
                                  f"with at most two decimals: {cell[:40]!r}") from None
    return RateCard(path=path, weights=tuple(weights), zones={z: tuple(c) for z, c in zip(zones, cols, strict=True)})


def load_zone_chart(path: Path, where: str) -> ZoneChart:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 (byte {e.start}): save the zone chart as UTF-8") from None
    except OSError as e:
        raise ConfigError(f"{where}: cannot read zone chart {path}: {e.strerror}") from None
    rows = [r for r in csv.reader(io.StringIO(text)) if r and any(c.strip() for c in r)]
    if not rows or [c.strip().lower() for c in rows[0][:3]] != ["origin", "dest", "zone"]:
        raise ConfigError(f"{path}: line 1: a zone chart starts with a header 'origin,dest,zone'")
    out: dict[str, list[tuple[str, str, str]]] = {}
    for n, r in enumerate(rows[1:], start=2):
        if len(r) < 3 or not all(c.strip() for c in r[:3]):
            raise ConfigError(f"{path}: line {n}: origin, dest and zone are required")
        o = "".join(r[0].split()).upper()
        d = "".join(r[1].split()).upper()
        lo, _, hi = d.partition("-")
        hi = hi or lo
        if len(lo) != len(hi) or lo > hi:
            raise ConfigError(f"{path}: line {n}: column dest: a prefix or a range lo-hi of one length: {r[1]!r}")
        out.setdefault(o, []).append((lo, hi, r[2].strip()))
    return ZoneChart(path=path, rows={k: tuple(v) for k, v in out.items()})


def normalise_postal(code: str, country: str | None = None) -> str:
    """Upper case, spaces removed; US codes on their first five digits (audits.md)."""
    c = "".join(str(code).split()).upper()
    if (country or "").upper() == "US":
        c = c.split("-")[0][:5]
    return c


def load_das(path: Path, where: str) -> frozenset[str]:
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 (byte {e.start}): save the DAS list as UTF-8") from None
    except OSError as e:
        raise ConfigError(f"{where}: cannot read DAS list {path}: {e.strerror}") from None
    out = set()
    for ln in lines:
        ln = ln.split("#", 1)[0].strip()
        if ln:
            out.add("".join(ln.split()).upper())
    return frozenset(out)


def _time(r: _Reader, key: str) -> dt.time | None:
    v = r.get(key, str, None)
    if v is None:
        return None
    try:
        hh, mm = v.split(":")
        return dt.time(int(hh), int(mm))
    except ValueError:
        raise r.fail(key, f"not a time HH:MM: {v!r}") from None


def load_contract(path: Path) -> Contract:
    path = Path(path)
    data = read_toml(path)
    r = _Reader(path, data)
    r.only("carrier", "name", "account_numbers", "currency", "weight_unit", "dim_unit", "dim_divisor",
           "weight_increment", "dim_rounding", "calendar", "claims", "gsr_suspensions", "services", "fuel",
           "surcharges", "account_fees", "corrections", "zone_chart", "gsr_relaxations")
    carrier = r.get("carrier", str)
    if not carrier or not carrier.replace("_", "").isalnum() or carrier != carrier.lower():
        raise r.fail("carrier", f"a lower-case code like 'ups' or 'dpd_uk', got {carrier!r}")
    currency = r.get("currency", str)
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        raise r.fail("currency", f"an ISO 4217 code like 'USD', got {currency!r}")

    c = r.table("calendar")
    c.only("country", "subdivision", "holidays", "extra_holidays", "business_days", "timezone")
    tz = c.get("timezone", str)
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise c.fail("timezone", f"unknown IANA time zone {tz!r}") from None
    bdays = c.strings("business_days", ["mon", "tue", "wed", "thu", "fri"])
    for i, b in enumerate(bdays):
        if b.lower() not in WEEKDAYS:
            raise c.fail(f"business_days[{i}]", f"one of {', '.join(WEEKDAYS)}, got {b!r}")
    if not bdays:
        raise c.fail("business_days", "at least one business day")
    country = c.get("country", str, "")
    subdivision = c.get("subdivision", str, "")
    holidays_list = c.dates("holidays")
    if not holidays_list and country:
        import holidays as hol

        try:
            hol.country_holidays(country, subdiv=subdivision or None, years=2026)
        except NotImplementedError:
            raise c.fail("country", f"the holidays package has no calendar for {country!r}") from None
        except Exception as e:  # the holidays package raises plain errors for bad subdivisions
            raise c.fail("subdivision", f"{subdivision!r} for {country}: {e}") from None
    calendar = Calendar(
        country=country, subdivision=subdivision, holidays=holidays_list,
        extra_holidays=c.dates("extra_holidays"),
        business_days=tuple(sorted({WEEKDAYS[b.lower()] for b in bdays})), timezone=tz,
    )

    k = r.table("claims")
    k.only("channel", "late_window_days", "late_window_from", "loss_window_days", "damage_window_days",
           "dispute_window_days", "lost_after_days", "void_after_days", "default_liability",
           "value_claims_refund_shipping", "late_refund_charges", "excluded_exception_reasons",
           "carrier_caused_reasons", "loss_window_from", "damage_window_from", "liability_per_kg")
    refund = k.strings("late_refund_charges", ["transportation"])
    per_kg = None
    if "liability_per_kg" in k.data:
        per_kg = k.decimal("liability_per_kg")
        if "default_liability" not in k.data:
            raise k.fail("liability_per_kg", "needs default_liability, the per-parcel cap beside the per-kg limit "
                         "(a large one where there is no per-parcel cap)")
    claims = ClaimRules(
        channel=k.choice("channel", CHANNELS, "api"),  # type: ignore[arg-type]
        late_window_days=k.non_negative_int("late_window_days"),
        late_window_from=k.choice("late_window_from", WINDOW_ANCHORS, "promised"),  # type: ignore[arg-type]
        loss_window_days=k.non_negative_int("loss_window_days"),
        damage_window_days=k.non_negative_int("damage_window_days"),
        dispute_window_days=k.non_negative_int("dispute_window_days"),
        lost_after_days=k.non_negative_int("lost_after_days"),
        void_after_days=k.non_negative_int("void_after_days"),
        default_liability_cents=k.money("default_liability", "0"),
        value_claims_refund_shipping=k.get("value_claims_refund_shipping", bool, True),
        late_refund_charges=refund,
        excluded_exception_reasons=k.strings("excluded_exception_reasons", []),
        loss_window_from=k.choice("loss_window_from", LOSS_ANCHORS, "ship"),  # type: ignore[arg-type]
        damage_window_from=k.choice("damage_window_from", DAMAGE_ANCHORS, "delivered"),  # type: ignore[arg-type]
        liability_per_kg=per_kg,
    )

    suspensions = []
    for s in r.tables("gsr_suspensions"):
        s.only("from", "to", "services")
        start, end = s.date("from"), s.date("to")
        if end < start:
            raise s.fail("to", "ends before it starts")
        suspensions.append(Suspension(start, end, s.strings("services", ["*"])))
    relaxations = []
    for s in r.tables("gsr_relaxations"):
        s.only("from", "to", "services", "extra_days", "source")
        start, end = s.date("from"), s.date("to")
        if end < start:
            raise s.fail("to", "ends before it starts")
        extra = s.non_negative_int("extra_days")
        if extra < 1:
            raise s.fail("extra_days", "at least 1 business day (a row of 0 changes nothing)")
        s.get("source", str, "")
        relaxations.append(Relaxation(start, end, s.strings("services", ["*"]), extra))

    services: dict[str, Service] = {}
    for s in r.tables("services"):
        s.only("code", "name", "guaranteed", "transit_days", "commit_time", "rates", "invoice_codes",
               "incentive_percent", "published_rates", "minimum_charge", "zone_chart",
               "first_attempt_meets_guarantee")
        code = s.get("code", str)
        if code in services:
            raise s.fail("code", f"service {code!r} defined twice")
        guaranteed = s.get("guaranteed", bool, False)
        transit = s.get("transit_days", int, None)
        if transit is not None and not 0 <= transit <= MAX_DAYS:
            raise s.fail("transit_days", f"must be between 0 and {MAX_DAYS}")
        rates_rel = s.get("rates", str, None)
        rates = load_rate_card(path.parent / rates_rel, f"{path}: {s.prefix}rates") if rates_rel else None
        pub_rel = s.get("published_rates", str, None)
        zc_rel = s.get("zone_chart", str, None)
        services[code] = Service(
            code=code, name=s.get("name", str, code), guaranteed=guaranteed, transit_days=transit,
            commit_time=_time(s, "commit_time"), rates=rates, invoice_codes=s.strings("invoice_codes", []),
            incentive_percent=s.decimal("incentive_percent") if "incentive_percent" in s.data else None,
            published_rates=load_rate_card(path.parent / pub_rel, f"{path}: {s.prefix}published_rates")
            if pub_rel else None,
            minimum_charge_cents=s.money("minimum_charge") if "minimum_charge" in s.data else None,
            zone_chart=load_zone_chart(path.parent / zc_rel, f"{path}: {s.prefix}zone_chart") if zc_rel else None,
            first_attempt_meets_guarantee=s.get("first_attempt_meets_guarantee", bool, False),
        )

    fuel = []
    for f in r.tables("fuel"):
        f.only("effective", "percent", "services")
        fuel.append(FuelRow(f.date("effective"), f.decimal("percent"), f.strings("services", [])))

    sur = r.table("surcharges", required=False)
    sur.only("das_postal_codes", "additional_handling", "large_package", "declared_value", "peak", "signature")
    peak = None
    if "peak" in sur.data:
        peak = []
        for t in sur.tables("peak"):
            t.only("from", "to", "services", "max", "source")
            start, end = t.date("from"), t.date("to")
            if end < start:
                raise t.fail("to", "ends before it starts")
            t.get("source", str, "")
            peak.append(PeakPeriod(start, end, t.strings("services", ["*"]),
                                   t.money("max") if "max" in t.data else None))
    sig: dict[str, int] = {}
    if "signature" in sur.data:
        t = sur.table("signature")
        t.only("direct", "adult")
        sig = {k: t.money(k) for k in ("direct", "adult") if k in t.data}
    limits = {}
    for key in ("additional_handling", "large_package"):
        if key in sur.data:
            t = sur.table(key)
            t.only("longest", "second_longest", "length_plus_girth", "weight")
            limits[key] = PackageLimits(**{k: t.decimal(k, positive=True) if k in t.data else None
                                           for k in ("longest", "second_longest", "length_plus_girth", "weight")})
    dv = None
    if "declared_value" in sur.data:
        t = sur.table("declared_value")
        t.only("free_up_to", "per_100", "minimum")
        dv = DeclaredValueFee(
            free_up_to_cents=to_cents(t.decimal("free_up_to", k.decimal("default_liability", "0"))),
            per_100_cents=to_cents(t.decimal("per_100")) if "per_100" in t.data else None,
            minimum_cents=to_cents(t.decimal("minimum", "0")))
    fees = []
    for f in r.tables("account_fees"):
        f.only("match", "max", "source")
        m = f.get("match", str).strip().lower()
        if not m:
            raise f.fail("match", "the text a fee's description contains, not empty")
        mx = f.decimal("max", "0")
        if mx < 0:
            raise f.fail("max", f"must be 0 or more, got {mx}")
        fees.append(AccountFee(m, to_cents(mx), f.get("source", str, "")))
    corr = r.table("corrections", required=False)
    corr.only("weight_tolerance")
    tolerance = corr.decimal("weight_tolerance", "0")
    if tolerance < 0:
        raise corr.fail("weight_tolerance", f"must be 0 or more, got {tolerance}")
    zc = r.get("zone_chart", str, None)
    das_rel = sur.get("das_postal_codes", str, None)
    das_path = path.parent / das_rel if das_rel else None
    das = load_das(das_path, f"{path}: surcharges.das_postal_codes") if das_path else None

    weight_unit = r.choice("weight_unit", ("lb", "kg"), "lb")
    return Contract(
        path=path, carrier=carrier, name=r.get("name", str, carrier),
        account_numbers=r.strings("account_numbers", []), currency=currency,
        weight_unit=weight_unit,  # type: ignore[arg-type]
        dim_unit=r.choice("dim_unit", ("in", "cm"), "in" if weight_unit == "lb" else "cm"),  # type: ignore[arg-type]
        dim_divisor=r.decimal("dim_divisor", positive=True),
        weight_increment=r.decimal("weight_increment", "1", positive=True),
        dim_rounding=r.choice("dim_rounding", ("up", "half_up"), "up"),  # type: ignore[arg-type]
        calendar=calendar, claims=claims, suspensions=tuple(suspensions), services=services,
        fuel=tuple(sorted(fuel, key=lambda x: x.effective)), das_postal_codes=das, das_path=das_path,
        additional_handling=limits.get("additional_handling"), large_package=limits.get("large_package"),
        declared_value_fee=dv, account_fees=tuple(fees), correction_tolerance=tolerance,
        zone_chart=load_zone_chart(path.parent / zc, f"{path}: zone_chart") if zc else None,
        peak=None if peak is None else tuple(peak), signature_fees=sig,
        carrier_caused_reasons=k.strings("carrier_caused_reasons", ["carrier"]),
        relaxations=tuple(relaxations),
    )


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


def load_contracts(folder: Path) -> ContractSet:
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(f"contracts folder {folder} does not exist (set --contracts or RECOUP_CONTRACTS)")
    contracts, errors = [], []
    for p in sorted(folder.glob("*.toml")):
        try:
            contracts.append(load_contract(p))
        except ConfigError as e:
            errors.append(str(e))
    return ContractSet(folder, contracts, errors)
