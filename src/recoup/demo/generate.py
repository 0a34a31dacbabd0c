"""Realistic sample data for ``recoup demo``, generated from a fixed seed.

A merchant ships from a Chicago warehouse (UPS, FedEx) and a Northampton one (DPD UK, Royal Mail)
between :data:`FIRST_SHIP` and :data:`LAST_SHIP`. :func:`generate` writes, into one folder:

- ``contracts/``: the bundled demo contracts (:mod:`recoup.demo.contracts`) with their rate cards,
  fuel tables and delivery-area lists;
- ``shipments.csv``: the manifest (canonical CSV, spec/formats.md);
- ``scans.csv``: tracking events with the local UTC offset of each scan (US time zones from
  New York to Phoenix, Europe/London; both daylight-saving changes fall inside the data);
- ``invoices/``: one canonical invoice CSV per carrier and week;
- ``credits/``: one credit note per carrier, paying part of what is owed;
- ``planted.json``: what the generator planted, by finding kind (for the curious and the tests).

What happens to the parcels: most arrive on time (holidays, Saturdays and the carriers' business
days respected); some arrive late (by a minute, by hours, by days; some after an exception the
contract excludes: weather, address, customer; some after the carrier's own delay), some are lost
(a ``lost`` scan, or the scans just stop), damaged, refused and returned, left at a pickup shop,
or never scanned at all (a label billed but never shipped). Invoices carry the usual billing errors:
duplicate lines and re-billed parcels, residential surcharges on commercial addresses, delivery
area surcharges outside the carrier's list, address corrections on validated addresses,
dimensional weight above the parcel's, rates above the rate card, fuel above the fuel table.

Deterministic: the same seed and size give the same bytes (one :class:`random.Random`, no clock,
no set iteration). Money is integer cents; every timestamp is time-zone aware.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from recoup.demo import DEFAULT_SEED, DEFAULT_SHIPMENTS

FIRST_SHIP = dt.date(2026, 8, 3)     # a Monday
LAST_SHIP = dt.date(2026, 10, 31)    # a Saturday
AS_OF = dt.date(2026, 11, 9)         # "today" for the audit: the Monday after the last invoices
REPORT_MONTH = "2026-10"             # the last full month before AS_OF
CREDIT_DATE = dt.date(2026, 10, 31)  # the carriers' credit notes

SHIPMENT_COLUMNS = [
    "tracking_number", "carrier", "service", "account_number", "ship_date", "promised_delivery",
    "origin_postal", "origin_country", "dest_postal", "dest_country", "dest_residential",
    "address_validated", "weight", "weight_unit", "length", "width", "height", "dim_unit",
    "declared_value", "item_value", "currency", "dest_timezone", "order_id", "signature",
]
SCAN_COLUMNS = ["tracking_number", "carrier", "occurred_at", "status", "carrier_status_code", "description",
                "city", "postal", "country", "exception_reason"]
INVOICE_COLUMNS = ["invoice_number", "invoice_date", "carrier", "account_number", "currency", "tracking_number",
                   "charge_type", "amount", "billed_weight", "weight_unit", "zone", "service", "ship_date",
                   "reference", "description", "adjustment"]
BILLING_KINDS = ("duplicate_charge", "residential_surcharge", "address_correction", "delivery_area_surcharge",
                 "dim_weight", "rate_overcharge", "fuel_surcharge")
SERVICE_KINDS = ("late_delivery", "lost", "damaged", "void_label")


# ----------------------------------------------------------------------------- money, weights, time

def cents_text(cents: int) -> str:
    """Integer cents as a decimal string with two decimals (``-1234`` → ``-12.34``)."""
    sign = "-" if cents < 0 else ""
    c = abs(int(cents))
    return f"{sign}{c // 100}.{c % 100:02d}"


def share_cents(cents: int, percent: Decimal) -> int:
    """``percent`` % of an amount in cents, rounded half-up to the cent."""
    return int((Decimal(cents) * percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def ceil_to(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).to_integral_value(rounding=ROUND_CEILING) * step


def _minutes(day: dt.date, lo: int, hi: int, tz: ZoneInfo, rng: random.Random) -> dt.datetime:
    """A random whole minute between ``lo`` and ``hi`` minutes after local midnight of ``day``."""
    m = rng.randint(lo, hi)
    return dt.datetime(day.year, day.month, day.day, m // 60, m % 60, tzinfo=tz)


# ----------------------------------------------------------------------------- the demo contracts

@dataclass(frozen=True)
class ServiceTerms:
    code: str
    name: str
    guaranteed: bool
    transit_days: int
    commit: dt.time
    rates: dict[str, tuple[tuple[Decimal, int], ...]] | None   # zone -> (weight upper bound, cents)


@dataclass(frozen=True)
class Terms:
    """What the generator needs of a demo contract, read on its own (not through recoup's loader)."""

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


def _contracts_root() -> Any:
    return resources.files("recoup.demo.contracts")


def contract_files() -> list[str]:
    """The bundled demo contract files (TOML, rate cards, DAS lists), sorted."""
    return sorted(p.name for p in _contracts_root().iterdir()
                  if p.is_file() and p.name.endswith((".toml", ".csv", ".txt")))


def _read_rates(name: str) -> dict[str, tuple[tuple[Decimal, int], ...]]:
    text = _contracts_root().joinpath(name).read_text(encoding="utf-8")
    rows = list(csv.reader(text.splitlines()))
    zones = rows[0][1:]
    out: dict[str, list[tuple[Decimal, int]]] = {z.lstrip("0") or z: [] for z in zones}
    for r in rows[1:]:
        w = Decimal(r[0])
        for z, cell in zip(zones, r[1:], strict=True):
            out[z.lstrip("0") or z].append((w, int(Decimal(cell) * 100)))
    return {z: tuple(v) for z, v in out.items()}


def load_terms(carrier: str) -> Terms:
    data = tomllib.loads(_contracts_root().joinpath(f"{carrier}.toml").read_text(encoding="utf-8"))
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
        lines = _contracts_root().joinpath(das_file).read_text(encoding="utf-8").splitlines()
        das = tuple(ln.split("#")[0].strip().upper().replace(" ", "") for ln in lines if ln.split("#")[0].strip())
    return Terms(
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


# ----------------------------------------------------------------------------- places and carriers

@dataclass(frozen=True)
class Place:
    postal: str
    city: str
    country: str
    tz: str
    zone: str            # the carrier zone from the merchant's warehouse (US zones 2-8; UK regions)
    weight: int = 10     # how often the merchant ships there


US_ORIGIN = Place("60607", "CHICAGO", "US", "America/Chicago", "")
UK_ORIGIN = Place("NN4 7YB", "NORTHAMPTON", "GB", "Europe/London", "")

US_PLACES = (
    Place("10001", "NEW YORK", "US", "America/New_York", "5", 30), Place("10035", "NEW YORK", "US", "America/New_York", "5", 10),
    Place("11201", "BROOKLYN", "US", "America/New_York", "5", 14), Place("02110-3728", "BOSTON", "US", "America/New_York", "5", 8),
    Place("02111", "BOSTON", "US", "America/New_York", "5", 6), Place("02146", "BROOKLINE", "US", "America/New_York", "5", 5),
    Place("19103", "PHILADELPHIA", "US", "America/New_York", "5", 10), Place("20001", "WASHINGTON", "US", "America/New_York", "5", 10),
    Place("28202", "CHARLOTTE", "US", "America/New_York", "5", 7), Place("30309", "ATLANTA", "US", "America/New_York", "5", 9),
    Place("30322", "ATLANTA", "US", "America/New_York", "5", 5), Place("33139", "MIAMI BEACH", "US", "America/New_York", "6", 6),
    Place("32801", "ORLANDO", "US", "America/New_York", "6", 7), Place("43215", "COLUMBUS", "US", "America/New_York", "3", 7),
    Place("48201", "DETROIT", "US", "America/Detroit", "3", 7), Place("46204", "INDIANAPOLIS", "US", "America/Indiana/Indianapolis", "2", 6),
    Place("60613", "CHICAGO", "US", "America/Chicago", "2", 10), Place("60614", "CHICAGO", "US", "America/Chicago", "2", 14),
    Place("53202", "MILWAUKEE", "US", "America/Chicago", "2", 7), Place("55415", "MINNEAPOLIS", "US", "America/Chicago", "3", 7),
    Place("63101", "SAINT LOUIS", "US", "America/Chicago", "3", 6), Place("37203", "NASHVILLE", "US", "America/Chicago", "4", 7),
    Place("70112", "NEW ORLEANS", "US", "America/Chicago", "6", 5), Place("75201", "DALLAS", "US", "America/Chicago", "5", 10),
    Place("75232", "DALLAS", "US", "America/Chicago", "5", 5), Place("77012", "HOUSTON", "US", "America/Chicago", "6", 7),
    Place("78701", "AUSTIN", "US", "America/Chicago", "6", 8), Place("80202", "DENVER", "US", "America/Denver", "5", 8),
    Place("80222", "DENVER", "US", "America/Denver", "5", 5), Place("84110", "SALT LAKE CITY", "US", "America/Denver", "6", 5),
    Place("87111", "ALBUQUERQUE", "US", "America/Denver", "6", 4), Place("85004", "PHOENIX", "US", "America/Phoenix", "7", 8),
    Place("85251", "SCOTTSDALE", "US", "America/Phoenix", "7", 5), Place("89109", "LAS VEGAS", "US", "America/Los_Angeles", "7", 6),
    Place("90039", "LOS ANGELES", "US", "America/Los_Angeles", "8", 8), Place("90041", "LOS ANGELES", "US", "America/Los_Angeles", "8", 8),
    Place("92101", "SAN DIEGO", "US", "America/Los_Angeles", "8", 7), Place("94103", "SAN FRANCISCO", "US", "America/Los_Angeles", "8", 10),
    Place("94113", "SAN FRANCISCO", "US", "America/Los_Angeles", "8", 4), Place("97201", "PORTLAND", "US", "America/Los_Angeles", "8", 6),
    Place("98101", "SEATTLE", "US", "America/Los_Angeles", "8", 9), Place("98121", "SEATTLE", "US", "America/Los_Angeles", "8", 5),
)

UK_PLACES = (
    Place("EC1A 1BB", "LONDON", "GB", "Europe/London", "MAINLAND", 30), Place("SW1A 2AA", "LONDON", "GB", "Europe/London", "MAINLAND", 15),
    Place("E14 5AB", "LONDON", "GB", "Europe/London", "MAINLAND", 15), Place("M1 1AE", "MANCHESTER", "GB", "Europe/London", "MAINLAND", 15),
    Place("B33 8TH", "BIRMINGHAM", "GB", "Europe/London", "MAINLAND", 12), Place("LS1 4AP", "LEEDS", "GB", "Europe/London", "MAINLAND", 10),
    Place("BS1 4DJ", "BRISTOL", "GB", "Europe/London", "MAINLAND", 10), Place("CF10 1EP", "CARDIFF", "GB", "Europe/London", "MAINLAND", 7),
    Place("NE1 4ST", "NEWCASTLE UPON TYNE", "GB", "Europe/London", "MAINLAND", 7), Place("NG1 5FS", "NOTTINGHAM", "GB", "Europe/London", "MAINLAND", 7),
    Place("EH1 1YZ", "EDINBURGH", "GB", "Europe/London", "MAINLAND", 9), Place("G1 1XQ", "GLASGOW", "GB", "Europe/London", "MAINLAND", 9),
    Place("AB10 1XG", "ABERDEEN", "GB", "Europe/London", "MAINLAND", 4), Place("PH1 5RT", "PERTH", "GB", "Europe/London", "MAINLAND", 3),
    Place("PA1 1JH", "PAISLEY", "GB", "Europe/London", "MAINLAND", 3), Place("PO1 2AL", "PORTSMOUTH", "GB", "Europe/London", "MAINLAND", 5),
    Place("TR1 2HE", "TRURO", "GB", "Europe/London", "MAINLAND", 4), Place("IV1 1HY", "INVERNESS", "GB", "Europe/London", "HIGHLANDS", 4),
    Place("IV63 6TU", "DRUMNADROCHIT", "GB", "Europe/London", "HIGHLANDS", 1), Place("PH33 6SY", "FORT WILLIAM", "GB", "Europe/London", "HIGHLANDS", 2),
    Place("KW15 1DH", "KIRKWALL", "GB", "Europe/London", "ISLANDS", 1), Place("HS1 2XA", "STORNOWAY", "GB", "Europe/London", "ISLANDS", 1),
    Place("ZE1 0AA", "LERWICK", "GB", "Europe/London", "ISLANDS", 1), Place("PA20 0AA", "ROTHESAY", "GB", "Europe/London", "ISLANDS", 1),
    Place("PO30 1UD", "NEWPORT", "GB", "Europe/London", "ISLANDS", 2), Place("TR21 0LL", "ST MARYS", "GB", "Europe/London", "ISLANDS", 1),
)

# What a carrier says at each step: (its own status code, its text).
UPS_CODES = {
    "label": ("MP", "Shipper created a label, UPS has not received the package yet."),
    "pickup": ("OR", "Pickup Scan"), "depart": ("DP", "Departed from Facility"),
    "arrive": ("AR", "Arrived at Facility"), "transit": ("IT", "On the Way"),
    "dest": ("AR", "Arrived at Facility"), "ofd": ("OT", "Out For Delivery Today"), "delivered": ("KB", "Delivered"),
    "attempted": ("48", "The receiver was not available for delivery. We'll make a second attempt the next business day."),
    "weather": ("X", "Severe weather conditions have delayed delivery."),
    "address": ("X", "The address is incorrect. We're attempting to obtain a new delivery address."),
    "carrier": ("X", "A mechanical failure has caused a delay. We will update the delivery date as soon as possible."),
    "damaged": ("X", "The package was damaged. The contents are being evaluated."),
    "damage_exception": ("X", "The package was damaged in transit and delivered."),
    "lost": ("X", "The package cannot be located. An investigation has been opened."),
    "refused": ("X", "The receiver refused the delivery."), "returned": ("RS", "Returned to Sender"),
    "pickup_shop": ("ZP", "Delivered to UPS Access Point"),
}
FEDEX_CODES = {
    "label": ("OC", "Shipment information sent to FedEx"), "pickup": ("PU", "Picked up"),
    "depart": ("DP", "Left FedEx origin facility"), "arrive": ("AR", "Arrived at FedEx hub"),
    "transit": ("IT", "In transit"), "dest": ("AR", "At local FedEx facility"),
    "ofd": ("OD", "On FedEx vehicle for delivery"), "delivered": ("DL", "Delivered"),
    "attempted": ("DE", "Customer not available or business closed"), "weather": ("SE", "Weather delay"),
    "address": ("DE", "Incorrect address"), "carrier": ("SE", "Package delayed: missed connection at hub"),
    "damaged": ("SE", "Package damaged"), "damage_exception": ("DE", "Delivered damaged"),
    "lost": ("SE", "Package not located; investigation opened"),
    "refused": ("DE", "Refused by recipient"), "returned": ("RS", "Return to shipper"),
    "pickup_shop": ("HP", "Ready for recipient pickup"),
}
DPD_CODES = {
    "label": ("CREATED", "Your order has been created and is awaiting collection"),
    "pickup": ("COLLECTED", "We have collected your parcel"), "depart": ("DEPARTED", "Your parcel has left our depot"),
    "arrive": ("HUB", "Your parcel is at the DPD hub"), "transit": ("TRANSIT", "Your parcel is on its way"),
    "dest": ("DEPOT", "Your parcel is at your local DPD depot"), "ofd": ("OFD", "Your parcel is out for delivery"),
    "delivered": ("DELIVERED", "Your parcel has been delivered"),
    "attempted": ("CARD", "We were unable to deliver your parcel and left a card"),
    "weather": ("DELAY_WEATHER", "Your parcel is delayed due to adverse weather"),
    "address": ("ADDRESS", "We need more address details to deliver your parcel"),
    "carrier": ("DELAY", "Your parcel missed its planned trunk; delivery is delayed"),
    "damaged": ("DAMAGED", "Your parcel was damaged in our network"),
    "damage_exception": ("DAMAGED_DEL", "Your parcel was delivered damaged"),
    "lost": ("NOT_LOCATED", "We cannot locate your parcel; an investigation has been opened"),
    "refused": ("REFUSED", "The recipient refused the parcel"), "returned": ("RTS", "Your parcel is being returned to the sender"),
    "pickup_shop": ("PICKUP_SHOP", "Your parcel has been delivered to a DPD Pickup Shop"),
    "collected": ("PICKUP_SHOP_COLLECTED", "Your parcel has been collected from the Pickup Shop"),
}
RM_CODES = {
    "label": ("EVPPA", "Sender preparing item"), "pickup": ("EVNMI", "We've received your item"),
    "depart": ("EVNRT", "Item in transit"), "arrive": ("EVIMC", "Item received at mail centre"),
    "transit": ("EVNRT", "Item in transit"), "dest": ("EVDAC", "Item at delivery office"),
    "ofd": ("EVGPD", "Item out for delivery"), "delivered": ("EVKSP", "Delivered and signed for"),
    "attempted": ("EVKNR", "We tried to deliver your item; a card was left"),
    "weather": ("EVDLW", "Delayed: adverse weather"), "address": ("EVNAD", "Address incomplete"),
    "carrier": ("EVDLY", "Delayed in our network"), "damaged": ("EVDAM", "Item damaged"),
    "damage_exception": ("EVDMD", "Item delivered damaged"), "lost": ("EVLST", "Item not located"),
    "refused": ("EVREF", "Refused by addressee"), "returned": ("EVRTS", "Returned to sender"),
    "pickup_shop": ("EVKLC", "Available for collection at delivery office"),
    "collected": ("EVKOC", "Collected from delivery office"),
}


@dataclass(frozen=True)
class Hub:
    city: str
    postal: str
    tz: str


@dataclass(frozen=True)
class Profile:
    code: str
    share: int                                   # per mille of the merchant's shipments
    origin: Place
    places: tuple[Place, ...]
    account: str
    services: tuple[tuple[str, int], ...]        # service code, weight
    invoice_weekday: int                         # Monday = 0
    codes: dict[str, tuple[str, str]]
    air_hub: Hub
    ground_hub: Hub
    pickup_shops: bool = False
    residential_cents: tuple[int, int] = (0, 0)  # (air / express, ground)
    das_cents: dict[str, int] = field(default_factory=dict)
    address_correction_cents: int = 0
    declared_per_100_cents: int = 0
    descriptions: dict[str, str] = field(default_factory=dict)


PROFILES = (
    Profile("ups", 400, US_ORIGIN, US_PLACES, "E6D528", (("NDA", 18), ("2DA", 24), ("GND", 58)), 5, UPS_CODES,
            Hub("LOUISVILLE", "40209", "America/Kentucky/Louisville"), Hub("HODGKINS", "60525", "America/Chicago"),
            residential_cents=(660, 610), das_cents={"resi": 470, "comm": 305}, address_correction_cents=2480,
            declared_per_100_cents=135,
            descriptions={"fuel": "Fuel Surcharge", "residential": "Residential Surcharge",
                          "delivery_area": "Delivery Area Surcharge", "address_correction": "Address Correction",
                          "declared_value": "Declared Value"}),
    Profile("fedex", 250, US_ORIGIN, US_PLACES, "512847301",
            (("PRIORITY_OVERNIGHT", 20), ("FEDEX_2_DAY", 25), ("FEDEX_GROUND", 55)), 1, FEDEX_CODES,
            Hub("MEMPHIS", "38118", "America/Chicago"), Hub("NORTHLAKE", "60164", "America/Chicago"),
            residential_cents=(620, 575), das_cents={"resi": 455, "comm": 300}, address_correction_cents=2460,
            declared_per_100_cents=140,
            descriptions={"fuel": "Fuel Surcharge", "residential": "Residential Delivery Charge",
                          "delivery_area": "Delivery Area Surcharge", "address_correction": "Address Correction",
                          "declared_value": "Declared Value Charge"}),
    Profile("dpd_uk", 200, UK_ORIGIN, UK_PLACES, "2201784", (("NEXT_DAY", 60), ("PRE_12", 25), ("PRE_1030", 15)), 4,
            DPD_CODES, Hub("HINCKLEY", "LE10 3BQ", "Europe/London"), Hub("HINCKLEY", "LE10 3BQ", "Europe/London"),
            pickup_shops=True, das_cents={"MAINLAND": 750, "HIGHLANDS": 995, "ISLANDS": 1450},
            descriptions={"fuel": "Fuel Surcharge", "delivery_area": "Highlands & Islands Surcharge"}),
    Profile("royal_mail", 150, UK_ORIGIN, UK_PLACES, "0391247865", (("SD1", 20), ("TPN", 50), ("TPS", 30)), 0,
            RM_CODES, Hub("NATIONAL DISTRIBUTION CENTRE", "NN5 7ZZ", "Europe/London"),
            Hub("NORTHAMPTON MAIL CENTRE", "NN5 7ZZ", "Europe/London"), pickup_shops=True),
)

# Royal Mail bills its tariff: (weight upper bound in kg, cents) per service.
RM_TARIFF = {
    "SD1": ((Decimal("0.1"), 895), (Decimal("0.5"), 995), (Decimal(1), 1195), (Decimal(2), 1595), (Decimal(10), 2495),
            (Decimal(20), 3495), (Decimal(30), 4495)),
    "TPN": ((Decimal(2), 449), (Decimal(10), 795), (Decimal(20), 1195), (Decimal(30), 1795)),
    "TPS": ((Decimal(2), 349), (Decimal(10), 695), (Decimal(20), 995), (Decimal(30), 1495)),
}

US_BOXES = ((Decimal(10), Decimal(8), Decimal(4), 10, 40), (Decimal(14), Decimal(12), Decimal(8), 30, 120),
            (Decimal(20), Decimal(16), Decimal(12), 80, 300), (Decimal(18), Decimal(14), Decimal(3), 10, 30),
            (Decimal(28), Decimal(20), Decimal(18), 150, 450))   # length, width, height (in), weight 1/10 lb range
UK_BOXES = ((Decimal(25), Decimal(20), Decimal(10), 50, 200), (Decimal(35), Decimal(30), Decimal(20), 200, 800),
            (Decimal(50), Decimal(40), Decimal(30), 500, 1500), (Decimal(80), Decimal(20), Decimal(20), 300, 1000))
            # (cm), weight 1/100 kg range


# ----------------------------------------------------------------------------- tracking numbers

def _ups_tracking(account: str, service: str, rng: random.Random) -> str:
    body = account + {"NDA": "01", "2DA": "02", "GND": "03"}.get(service, "03") + f"{rng.randrange(10**7):07d}"
    total = 0
    for i, ch in enumerate(body):
        v = int(ch) if ch.isdigit() else (ord(ch) - 63) % 10
        total += v * 2 if i % 2 else v
    return f"1Z{body}{(10 - total % 10) % 10}"


def _fedex_tracking(rng: random.Random) -> str:
    digits = f"{rng.randrange(10**10, 10**11):011d}"
    weights = (1, 3, 7)
    total = sum(int(d) * weights[i % 3] for i, d in enumerate(reversed(digits)))
    return digits + str(total % 11 % 10)


def _s10_tracking(prefix: str, rng: random.Random) -> str:
    digits = f"{rng.randrange(10**8):08d}"
    total = sum(int(d) * w for d, w in zip(digits, (8, 6, 4, 2, 3, 5, 9, 7), strict=True))
    check = 11 - total % 11
    check = 0 if check == 10 else 5 if check == 11 else check
    return f"{prefix}{digits}{check}GB"


def _tracking(prof: Profile, service: str, rng: random.Random) -> str:
    if prof.code == "ups":
        return _ups_tracking(prof.account, service, rng)
    if prof.code == "fedex":
        return _fedex_tracking(rng)
    if prof.code == "dpd_uk":
        return f"1550{rng.randrange(10**10):010d}"
    return _s10_tracking({"SD1": "ZV", "TPN": "TT", "TPS": "TU"}.get(service, "TT"), rng)


# ----------------------------------------------------------------------------- parcels and events

@dataclass
class Event:
    at: dt.datetime
    status: str
    step: str                       # key into the carrier's code table
    city: str = ""
    postal: str = ""
    country: str = ""
    reason: str = ""


@dataclass
class Line:
    charge_type: str
    cents: int
    description: str
    billed_weight: Decimal | None = None
    zone: str | None = None
    service: str | None = None          # the service the invoice names, when not the manifest's
    adjustment: str | None = None       # what an adjustment row is (canonical invoice `adjustment`)


@dataclass
class Parcel:
    prof: Profile
    terms: Terms
    tracking: str
    service: str
    ship: dt.date
    dest: Place
    residential: bool
    validated: bool
    weight: Decimal
    dims: tuple[Decimal, Decimal, Decimal]
    declared_cents: int
    item_cents: int
    scenario: str
    order_id: str = ""
    promised: dt.datetime | None = None
    events: list[Event] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    invoice: tuple[str, dt.date] | None = None      # (number, date) that billed it
    error: str | None = None                        # the billing error planted on it
    signature: str = ""                             # the signature option bought (manifest `signature`)

    @property
    def svc(self) -> ServiceTerms:
        return self.terms.services[self.service]

    @property
    def invoice_zone(self) -> str:
        if self.prof.code == "ups":
            return f"{int(self.dest.zone):03d}"
        if self.prof.code == "royal_mail":
            return "UK"
        return self.dest.zone


@dataclass(frozen=True)
class Planted:
    kind: str
    carrier: str
    tracking_number: str
    invoice_number: str | None = None
    amount_cents: int | None = None     # for billing kinds: what the audit should find

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "carrier": self.carrier, "tracking_number": self.tracking_number,
                "invoice_number": self.invoice_number,
                "amount": None if self.amount_cents is None else cents_text(self.amount_cents)}


@dataclass
class GeneratedData:
    folder: Path
    seed: int
    as_of: dt.date
    report_month: str
    contracts: Path
    shipments: Path
    scans: Path
    invoices: list[Path]
    credits: list[Path]
    planted: list[Planted]
    counts: dict[str, int]

    def files(self) -> list[Path]:
        """Every file written, sorted (contracts included)."""
        return sorted(p for p in self.folder.rglob("*") if p.is_file())


def _ground_transit(zone: str) -> int:
    z = int(zone) if zone.isdigit() else 2
    return {2: 1, 3: 2, 4: 2, 5: 3, 6: 4, 7: 4}.get(z, 5)


def _planned_transit(p: Parcel) -> int:
    if p.svc.guaranteed or p.prof.code not in ("ups", "fedex"):
        return p.svc.transit_days
    return _ground_transit(p.dest.zone)


def _promised_instant(p: Parcel) -> dt.datetime:
    """The carrier's commitment: promised date at the commit time in the destination's zone."""
    day = p.terms.add_business_days(p.terms.tender(p.ship), _planned_transit(p))
    commit = p.svc.commit if p.svc.guaranteed else dt.time(20, 0)
    return dt.datetime.combine(day, commit, tzinfo=ZoneInfo(p.dest.tz))


def _choose_scenario(rng: random.Random, guaranteed: bool, pickup_shops: bool, ship: dt.date,
                     terms: Terms) -> str:
    r = rng.random()
    old_enough_void = (AS_OF - ship).days >= int(terms.claims["void_after_days"]) + 2
    old_enough_lost = (AS_OF - ship).days >= int(terms.claims["lost_after_days"]) + 9
    if r < 0.012:
        return "void" if old_enough_void else "ok"
    if r < 0.026:
        return "lost" if old_enough_lost else "ok"
    if r < 0.036:
        return "damaged"
    if r < 0.042:
        return "refused"
    if r < 0.062:
        return "weather_ok"
    if guaranteed and r < 0.162:
        s = rng.random()
        if s < 0.25:
            return "late_same_day"
        if s < 0.60:
            return "late_next"
        if s < 0.85:
            return "late_excluded"
        return "late_carrier"
    if not guaranteed and r < 0.110:
        return "slow"
    if pickup_shops and not guaranteed and r < 0.140:
        return "pickup_shop"
    return "ok"


def _journey(p: Parcel, rng: random.Random) -> list[Event]:
    """The parcel's scans, in order, all before AS_OF."""
    prof, terms = p.prof, p.terms
    if p.scenario == "late_same_day" and p.svc.commit > dt.time(19, 0):
        p.scenario = "late_next"          # a 23:59 promise is missed by a day, not by minutes
    o, d = prof.origin, p.dest
    tz_o, tz_d = ZoneInfo(o.tz), ZoneInfo(d.tz)
    hub = prof.air_hub if p.svc.guaranteed else prof.ground_hub
    tz_h = ZoneInfo(hub.tz)
    at_origin = {"city": o.city, "postal": o.postal.split("-")[0], "country": o.country}
    at_hub = {"city": hub.city, "postal": hub.postal, "country": o.country}
    at_dest = {"city": d.city, "postal": d.postal.split("-")[0], "country": d.country}
    ev: list[Event] = []

    ev.append(Event(_minutes(p.ship, 8 * 60, 15 * 60, tz_o, rng), "label_created", "label", **at_origin))
    if p.scenario == "void":
        return ev if rng.random() < 0.6 else []
    tender = terms.tender(p.ship)
    planned = terms.add_business_days(tender, _planned_transit(p))
    if not p.svc.guaranteed and p.scenario == "ok" and _planned_transit(p) > 1 and rng.random() < 0.3:
        planned = terms.add_business_days(tender, _planned_transit(p) - 1)     # ground often arrives early
    pickup = _minutes(tender, 16 * 60 + 30, 18 * 60 + 30, tz_o, rng)
    ev.append(Event(pickup, "picked_up", "pickup", **at_origin))
    ev.append(Event(pickup + dt.timedelta(minutes=rng.randint(90, 200)), "in_transit", "depart", **at_origin))
    arr = ev[-1].at + dt.timedelta(minutes=rng.randint(90, 180))
    ev.append(Event(arr.astimezone(tz_h), "in_transit", "arrive", **at_hub))
    ev.append(Event((arr + dt.timedelta(minutes=rng.randint(60, 120))).astimezone(tz_h), "in_transit", "depart",
                    **at_hub))
    if p.scenario == "weather_ok":
        ev.append(Event(ev[-1].at + dt.timedelta(minutes=rng.randint(20, 60)), "exception", "weather",
                        reason="weather", **at_hub))
    if p.scenario == "lost":
        last = ev[-1].at
        if rng.random() < 0.5:
            days = rng.randint(3, 9)
            ev.append(Event((last + dt.timedelta(days=days)).astimezone(tz_h), "lost", "lost", reason="carrier",
                            **at_hub))
        return ev
    day = terms.tender(tender + dt.timedelta(days=1))
    while day < planned:
        ev.append(Event(_minutes(day, 9 * 60, 16 * 60, tz_h, rng), "in_transit", "transit"))
        day = terms.add_business_days(day, 1)
    if p.scenario in ("damaged_hub", "damaged_rts"):
        ev.append(Event(ev[-1].at + dt.timedelta(minutes=rng.randint(30, 240)), "damaged", "damaged",
                        reason="damage", **at_hub))
        if p.scenario == "damaged_rts":
            ev.append(Event(_minutes(terms.add_business_days(planned, 1), 10 * 60, 15 * 60, tz_h, rng),
                            "returned_to_sender", "returned", **at_hub))
            return ev
        planned = terms.add_business_days(planned, 1)
    commit = p.svc.commit
    late_days = 0
    if p.scenario in ("late_next", "slow"):
        late_days = 1 if rng.random() < 0.7 else 2
    elif p.scenario in ("late_excluded", "late_carrier"):
        late_days = 1
    deliver_day = terms.add_business_days(planned, late_days)
    ev.append(Event(_minutes(planned, 3 * 60, 5 * 60 + 30, tz_d, rng), "in_transit", "dest", **at_dest))
    if p.scenario == "late_carrier":
        ev[-1] = Event(_minutes(planned, 4 * 60, 6 * 60, tz_h, rng), "exception", "carrier", reason="carrier", **at_hub)
    if p.scenario == "late_excluded":
        why = ("weather", "address", "customer")[rng.randrange(3)]
        if why == "customer":
            ev.append(Event(_minutes(planned, 6 * 60 + 30, 7 * 60 + 30, tz_d, rng), "out_for_delivery", "ofd", **at_dest))
            ev.append(Event(_minutes(planned, 11 * 60, 16 * 60, tz_d, rng), "delivery_attempted", "attempted",
                            reason="customer", **at_dest))
        else:
            ev.append(Event(_minutes(planned, 6 * 60, 9 * 60, tz_d, rng), "exception", why, reason=why, **at_dest))
    if late_days:
        ev.append(Event(_minutes(deliver_day, 3 * 60, 5 * 60 + 30, tz_d, rng), "in_transit", "dest", **at_dest))
    if p.scenario == "refused":
        ev.append(Event(_minutes(planned, 6 * 60 + 30, 7 * 60 + 30, tz_d, rng), "out_for_delivery", "ofd", **at_dest))
        ev.append(Event(_minutes(planned, 10 * 60, 16 * 60, tz_d, rng), "exception", "refused", reason="customer",
                        **at_dest))
        ev.append(Event(_minutes(terms.add_business_days(planned, 1), 9 * 60, 12 * 60, tz_d, rng),
                        "returned_to_sender", "returned", **at_dest))
        return ev
    early = commit <= dt.time(12, 0)
    ofd = _minutes(deliver_day, 6 * 60 + 30, 7 * 60 + 45 if early else 8 * 60 + 30, tz_d, rng)
    ev.append(Event(ofd, "out_for_delivery", "ofd", **at_dest))
    start = ofd.hour * 60 + ofd.minute + 20
    cm = commit.hour * 60 + commit.minute
    if p.scenario == "late_same_day":
        lo = cm + 1 if rng.random() < 0.2 else cm + rng.randint(2, 45)
        hi = max(lo, min(cm + 300, 20 * 60 + 30))
        when = _minutes(deliver_day, lo, hi if rng.random() < 0.5 else lo, tz_d, rng)
    elif late_days:
        when = _minutes(deliver_day, max(start, 9 * 60), 18 * 60, tz_d, rng)
    else:
        end = min(cm - 1, 19 * 60 + 30)
        when = _minutes(deliver_day, min(start, end), end, tz_d, rng)
    if p.scenario == "pickup_shop":
        ev.append(Event(when, "available_for_pickup", "pickup_shop", **at_dest))
        collected = when + dt.timedelta(days=rng.randint(1, 3), hours=rng.randint(0, 4))
        if collected.weekday() == 6:
            collected += dt.timedelta(days=1)
        ev.append(Event(collected, "delivered", "collected", **at_dest))
        return ev
    if p.scenario == "damaged_exception":
        ev.append(Event(when - dt.timedelta(minutes=rng.randint(2, 6)), "exception", "damage_exception",
                        reason="damage", **at_dest))
    ev.append(Event(when, "delivered", "delivered", **at_dest))
    return ev


def _monotonic(ev: list[Event], rng: random.Random) -> None:
    """Scans before the last-mile ones keep their order (a late truck pushes the next scan on)."""
    for i in range(1, len(ev)):
        if ev[i].at <= ev[i - 1].at:
            ev[i].at = (ev[i - 1].at + dt.timedelta(minutes=rng.randint(10, 40))).astimezone(ev[i].at.tzinfo)


# ----------------------------------------------------------------------------- the generator

def _ship_days(region: str) -> tuple[list[dt.date], list[float]]:
    """Ship dates with their weights: busier early in the week, a few Saturdays, none on the
    warehouse's holidays (US Labor Day; the English summer bank holiday), volume growing into Q4."""
    closed = {dt.date(2026, 9, 7)} if region == "US" else {dt.date(2026, 8, 31)}
    per_day = (1.25, 1.1, 1.0, 1.0, 0.85, 0.15, 0.0)
    days, weights = [], []
    d = FIRST_SHIP
    i = 0
    while d <= LAST_SHIP:
        w = per_day[d.weekday()] * (1 + 0.004 * i)
        if w > 0 and d not in closed:
            days.append(d)
            weights.append(w)
        d += dt.timedelta(days=1)
        i += 1
    return days, weights


def _decimal(tenths: int, places: int) -> Decimal:
    return Decimal(tenths).scaleb(-places)


def _make_parcel(prof: Profile, terms: Terms, rng: random.Random, ship: dt.date, used: set[str]) -> Parcel:
    codes = [c for c, _ in prof.services]
    service = rng.choices(codes, weights=[w for _, w in prof.services])[0]
    svc = terms.services[service]
    dest = rng.choices(prof.places, weights=[pl.weight for pl in prof.places])[0]
    tracking = _tracking(prof, service, rng)
    while tracking in used:
        tracking = _tracking(prof, service, rng)
    used.add(tracking)
    us = prof.origin.country == "US"
    box = rng.choice(US_BOXES if us else UK_BOXES)
    dims = tuple(_decimal(int(b * 10) + rng.randint(-15, 15), 1) for b in box[:3])
    weight = _decimal(rng.randint(box[3], box[4]), 1 if us else 2)
    item = rng.choice((1599, 2450, 3999, 5900, 8900, 12500, 18900, 24900, 39900, 64900, 89900))
    item += rng.randint(0, 99) * (100 if item > 10000 else 10)
    declared = 0
    if rng.random() < 0.2:
        declared = -(-item // 5000) * 5000        # rounded up to 50.00
    scenario = _choose_scenario(rng, svc.guaranteed, prof.pickup_shops, ship, terms)
    if scenario == "damaged":
        scenario = ("damaged_hub", "damaged_hub", "damaged_exception", "damaged_rts")[rng.randrange(4)]
    p = Parcel(prof=prof, terms=terms, tracking=tracking, service=service, ship=ship, dest=dest,
               residential=rng.random() < (0.6 if us else 0.75), validated=rng.random() < 0.9,
               weight=weight, dims=(dims[0], dims[1], dims[2]), declared_cents=declared, item_cents=item,
               scenario=scenario)
    if prof.code == "fedex":
        p.promised = _promised_instant(p)
    p.events = _journey(p, rng)
    _monotonic(p.events, rng)
    p.events = [e for e in p.events if e.at.date() < AS_OF]
    return p


def _invoice_dates(prof: Profile) -> list[dt.date]:
    d = FIRST_SHIP + dt.timedelta(days=3)
    while d.weekday() != prof.invoice_weekday:
        d += dt.timedelta(days=1)
    out = []
    while d - dt.timedelta(days=9) <= LAST_SHIP and d <= AS_OF:
        out.append(d)
        d += dt.timedelta(days=7)
    return out


def _invoice_number(prof: Profile, day: dt.date, rng: random.Random) -> str:
    if prof.code == "ups":
        return f"0000{prof.account}{day.isocalendar()[1]:02d}{day.year % 100}"
    if prof.code == "fedex":
        return f"{rng.randrange(7 * 10**8, 8 * 10**8)}"
    if prof.code == "dpd_uk":
        return f"DPD{rng.randrange(10**7):07d}"
    return f"RM{prof.account[-6:]}{day.strftime('%y%m%d')}"


def _price(p: Parcel, weight: Decimal) -> int | None:
    if p.prof.code == "royal_mail":
        for upper, cents in RM_TARIFF[p.service]:
            if upper >= weight:
                return cents
        return RM_TARIFF[p.service][-1][1]
    return p.terms.price(p.service, p.invoice_zone, weight)


def _pick_error(p: Parcel, rng: random.Random) -> str | None:
    t = p.terms
    has_rates = p.svc.rates is not None
    options = (
        ("duplicate_charge", 0.012, True),
        ("residential_surcharge", 0.02, p.prof.residential_cents[0] > 0 and not p.residential),
        ("delivery_area_surcharge", 0.012, t.das is not None and not t.in_das(p.dest.postal, p.dest.country)),
        ("address_correction", 0.012, p.prof.address_correction_cents > 0 and p.validated),
        ("dim_weight", 0.015, has_rates),
        ("rate_overcharge", 0.012, has_rates),
        ("fuel_surcharge", 0.015, t.fuel_percent(p.service, p.ship) is not None),
    )
    r = rng.random()
    edge = 0.0
    for kind, prob, ok in options:
        edge += prob
        if r < edge:
            return kind if ok else None
    return None


def _bill(p: Parcel, rng: random.Random, planted: list[Planted], number: str) -> None:
    """The parcel's invoice lines, with at most one billing error on a parcel delivered normally."""
    t, prof = p.terms, p.prof
    billable = t.billable(p.weight, p.dims) if prof.code != "royal_mail" else ceil_to(p.weight, Decimal("0.1"))
    error = _pick_error(p, rng) if p.scenario in ("ok", "slow", "weather_ok", "pickup_shop") else None
    top = t.max_weight(p.service)
    extra = billable
    if error == "dim_weight" and top is not None:
        step = t.weight_increment if t.weight_unit == "lb" else Decimal(1)
        extra = billable + step * rng.randint(2, 8)
        if extra > top:
            error = None
    correct = _price(p, billable)
    if correct is None:
        error = None if error in ("dim_weight", "rate_overcharge") else error
        correct = 999
    billed_weight, transport = billable, correct
    svc_name = p.svc.name
    if error == "dim_weight":
        billed_weight = extra
        transport = _price(p, extra) or correct
        planted.append(Planted("dim_weight", prof.code, p.tracking, number, transport - correct))
    elif error == "rate_overcharge":
        over = max(25, transport * rng.randint(3, 12) // 100)
        transport += over
        planted.append(Planted("rate_overcharge", prof.code, p.tracking, number, over))
    lines = [Line("transportation", transport, svc_name, billed_weight, p.invoice_zone)]
    pct = t.fuel_percent(p.service, p.ship)
    if pct is not None:
        fuel = share_cents(transport, pct)
        if error == "fuel_surcharge":
            wrong = share_cents(transport, pct + Decimal(rng.choice(("1.00", "1.50", "2.00", "2.75"))))
            if wrong > fuel:
                planted.append(Planted("fuel_surcharge", prof.code, p.tracking, number, wrong - fuel))
                fuel = wrong
        lines.append(Line("fuel", fuel, prof.descriptions.get("fuel", "Fuel Surcharge")))
    air = p.svc.guaranteed
    if prof.residential_cents[0] and (p.residential or error == "residential_surcharge"):
        cents = prof.residential_cents[0 if air else 1]
        lines.append(Line("residential", cents, prof.descriptions["residential"]))
        if error == "residential_surcharge":
            planted.append(Planted("residential_surcharge", prof.code, p.tracking, number, cents))
    if t.das is not None and (t.in_das(p.dest.postal, p.dest.country) or error == "delivery_area_surcharge"):
        if prof.origin.country == "US":
            cents = prof.das_cents["resi" if p.residential else "comm"]
        else:
            cents = prof.das_cents[p.dest.zone]
        lines.append(Line("delivery_area", cents, prof.descriptions["delivery_area"]))
        if error == "delivery_area_surcharge":
            planted.append(Planted("delivery_area_surcharge", prof.code, p.tracking, number, cents))
    if prof.address_correction_cents and ((not p.validated and rng.random() < 0.35) or error == "address_correction"):
        lines.append(Line("address_correction", prof.address_correction_cents, prof.descriptions["address_correction"]))
        if error == "address_correction":
            planted.append(Planted("address_correction", prof.code, p.tracking, number, prof.address_correction_cents))
    if prof.declared_per_100_cents and p.declared_cents > 10000:
        hundreds = -(-(p.declared_cents - 10000) // 10000)
        lines.append(Line("declared_value", hundreds * prof.declared_per_100_cents, prof.descriptions["declared_value"]))
    p.lines = lines
    p.error = error


def generate(folder: Path, *, seed: int = DEFAULT_SEED, shipments: int = DEFAULT_SHIPMENTS) -> GeneratedData:
    """Write the demo data set into ``folder`` (created; files in it are overwritten)."""
    if shipments < 40:
        raise ValueError("the demo needs at least 40 shipments")
    folder = Path(folder)
    rng = random.Random(seed)
    contracts = folder / "contracts"
    contracts.mkdir(parents=True, exist_ok=True)
    for name in contract_files():
        (contracts / name).write_bytes(_contracts_root().joinpath(name).read_bytes())

    parcels: list[Parcel] = []
    used: set[str] = set()
    showcase = shipments >= SHOWCASE_FROM
    shipments -= SHOWCASE_PARCELS if showcase else 0      # the showcase parcels count in the total asked for
    left = shipments
    for i, prof in enumerate(PROFILES):
        n = left if i == len(PROFILES) - 1 else shipments * prof.share // 1000
        left -= n
        terms = load_terms(prof.code)
        days, weights = _ship_days(prof.origin.country)
        for ship in sorted(rng.choices(days, weights=weights, k=n)):
            parcels.append(_make_parcel(prof, terms, rng, ship, used))
    parcels.sort(key=lambda p: (p.ship, p.prof.code, p.tracking))
    for i, p in enumerate(parcels):
        p.order_id = f"ORD-{260000 + i}"

    planted: list[Planted] = []
    invoices: dict[tuple[str, str], tuple[dt.date, list[tuple[Parcel, Line]]]] = {}
    for prof in PROFILES:
        dates = _invoice_dates(prof)
        numbers = [_invoice_number(prof, d, rng) for d in dates]
        for number, day in zip(numbers, dates, strict=True):
            invoices[(prof.code, number)] = (day, [])
        mine = [p for p in parcels if p.prof is prof]
        for p in mine:
            for k, day in enumerate(dates):
                if day - dt.timedelta(days=9) <= p.ship <= day - dt.timedelta(days=3):
                    p.invoice = (numbers[k], day)
                    _bill(p, rng, planted, numbers[k])
                    rows = invoices[(prof.code, numbers[k])][1]
                    rows.extend((p, ln) for ln in p.lines)
                    if p.error == "duplicate_charge":
                        if k + 1 < len(dates) and rng.random() < 0.5:      # the parcel billed again next week
                            nxt = invoices[(prof.code, numbers[k + 1])][1]
                            nxt.extend((p, ln) for ln in p.lines)
                            planted.extend(Planted("duplicate_charge", prof.code, p.tracking, numbers[k + 1], ln.cents)
                                           for ln in p.lines)
                        else:                                              # one charge twice on the invoice
                            ln = next((x for x in p.lines if x.charge_type in ("residential", "delivery_area")),
                                      p.lines[0])
                            rows.append((p, ln))
                            planted.append(Planted("duplicate_charge", prof.code, p.tracking, numbers[k], ln.cents))
                    break

    planted.extend(_service_findings(parcels))
    credit_rows = _credits(parcels, planted, rng)
    extra = _showcase(parcels, invoices, planted, seed) if showcase else []
    assert not showcase or len(extra) == SHOWCASE_PARCELS
    fees = _account_fees(invoices, planted) if showcase else None
    planted.extend(_service_findings(extra))
    parcels = parcels + extra
    counts = _write(folder, parcels, invoices, credit_rows, planted)
    if fees is not None:
        counts["invoices"] += 1
        counts["invoice_lines"] += fees.count("\n")
        (folder / "invoices" / ACCOUNT_FEE_FILE).write_text(fees, encoding="utf-8")
    return GeneratedData(
        folder=folder, seed=seed, as_of=AS_OF, report_month=REPORT_MONTH, contracts=contracts,
        shipments=folder / "shipments.csv", scans=folder / "scans.csv",
        invoices=sorted((folder / "invoices").glob("*.csv")), credits=sorted((folder / "credits").glob("*.csv")),
        planted=planted, counts=counts)


# The finding kinds added by issue 13, each planted on a few showcase parcels added after the usual data
# (their own random stream: the usual parcels, invoices and credits stay as they were).
# account_fee is planted on an account-level line (no tracking number), which the canonical invoice CSV
# cannot hold: the demo writes it as one UPS Billing Data file (:func:`_account_fees`).
SHOWCASE_PARCELS = 17     # manifested showcase parcels (the unmanifested ones are not shipments)
SHOWCASE_FROM = 200       # a demo of fewer shipments plants none of them
SHOWCASE_KINDS = ("unmanifested_charge", "service_mismatch", "saturday_delivery", "declared_value",
                  "additional_handling", "large_package", "charge_correction", "peak_surcharge", "return_charge",
                  "missing_incentive", "zone_mismatch", "minimum_charge", "late_delivery_first_attempt", "signature",
                  "account_fee")
ACCOUNT_FEE_FILE = "UPS-billing-data-account-charges.csv"   # headerless UPS Billing Data (ups_billing.py)


def _showcase(parcels: list[Parcel], invoices: dict[tuple[str, str], tuple[dt.date, list[tuple[Parcel, Line]]]],
              planted: list[Planted], seed: int) -> list[Parcel]:
    """Showcase parcels, one or two per kind of :data:`SHOWCASE_KINDS`, billed on each carrier's first
    invoice from 12 October; returns the parcels to manifest (not the unmanifested one)."""
    import dataclasses

    rng = random.Random(f"showcase:{seed}")
    out: list[Parcel] = []
    used = {p.tracking for p in parcels}

    def make(code: str, like: str, kind: str, lines: Any, *, events: str = "ok", manifest: bool = True,
             **over: Any) -> None:
        b = next(p for p in parcels if p.prof.code == code and p.service == like and p.scenario == "ok")
        service = over.get("service", like)
        number, day = next((num, d) for (c, num), (d, _) in invoices.items() if c == code and d >= dt.date(2026, 10, 12))
        tn = _tracking(b.prof, service, rng)
        while tn in used:
            tn = _tracking(b.prof, service, rng)
        used.add(tn)
        sd = day - dt.timedelta(days=7)
        sd -= dt.timedelta(days=sd.weekday())                  # a Monday
        p = dataclasses.replace(b, tracking=tn, ship=sd, promised=None, lines=[], invoice=(number, day), error=None,
                                order_id=f"ORD-SHOW-{len(used) - len(parcels):03d}", **over)
        tz = ZoneInfo(p.dest.tz)
        at = dt.datetime.combine(sd, dt.time(9, 0), tzinfo=tz)
        ev = [Event(at, "label_created", "label"), Event(at + dt.timedelta(hours=8), "picked_up", "pickup")]
        if events == "ok":
            ev.append(Event(at + dt.timedelta(days=1, hours=5), "delivered", "delivered"))
        elif events == "return":        # the carrier's own exception, then back to the sender
            ev += [Event(at + dt.timedelta(days=2, hours=2), "delivery_attempted", "attempt", reason="carrier"),
                   Event(at + dt.timedelta(days=4, hours=2), "returned_to_sender", "returned")]
        else:                           # due next day 13:00: a carrier miss by then, a customer miss later
            ev += [Event(at + dt.timedelta(days=1, hours=2), "delivery_attempted", "attempt", reason="carrier"),
                   Event(at + dt.timedelta(days=2, hours=2), "delivery_attempted", "attempt", reason="customer"),
                   Event(at + dt.timedelta(days=3, hours=3), "delivered", "delivered")]
        p.events = ev
        p.lines = lines(p)
        invoices[(code, number)][1].extend((p, ln) for ln in p.lines)
        planted.append(Planted(kind, code, p.tracking, number))
        if manifest:
            out.append(p)

    def t(p: Parcel, zone: str | None = None, cents: int | None = None) -> Line:
        z = zone or p.invoice_zone
        price = p.terms.price(p.service, z, Decimal(6)) or 999
        return Line("transportation", cents or price, p.svc.name, Decimal(6), z)

    small = {"weight": Decimal(5), "dims": (Decimal(12), Decimal(10), Decimal(6)), "declared_cents": 0}
    for _ in range(2):
        make("ups", "GND", "unmanifested_charge", lambda p: [t(p)], manifest=False)
        make("ups", "GND", "saturday_delivery", lambda p: [t(p), Line("saturday", 1600, "Saturday Delivery")], **small)
        make("ups", "GND", "additional_handling",
             lambda p: [t(p), Line("additional_handling", 2850, "Additional Handling")], **small)
        make("ups", "GND", "signature", lambda p: [t(p), Line("signature", 695, "Delivery Confirmation Signature")],
             signature="none", **small)
        make("ups", "GND", "peak_surcharge", lambda p: [t(p), Line("other", 120, "Demand Surcharge - Ground")],
             **small)
    make("ups", "GND", "declared_value", lambda p: [t(p), Line("declared_value", 300, "Declared Value")], **small)
    make("ups", "GND", "large_package", lambda p: [t(p), Line("large_package", 11500, "Large Package Surcharge")],
         **small)
    make("ups", "GND", "charge_correction",
         lambda p: [t(p), Line("other", 1840, "Shipping Charge Correction Ground", Decimal(30),
                               adjustment="charge_correction")], **small)
    make("ups", "GND", "return_charge",
         lambda p: [t(p), Line("other", 1355, "Undeliverable Return", adjustment="return")], events="return", **small)
    make("ups", "GND", "zone_mismatch",
         lambda p: [t(p, zone="008", cents=p.terms.price("GND", "008", Decimal(6)))],
         dest=Place("10001", "NEW YORK", "US", "America/New_York", "5"), **small)
    make("ups", "GND", "minimum_charge", lambda p: [t(p), Line("other", 150, "Minimum Charge Adjustment")], **small)
    make("ups", "GND", "missing_incentive", lambda p: [t(p, cents=_published(p))], service="3DS", **small)
    make("royal_mail", "TPS", "service_mismatch",
         lambda p: [Line("transportation", 995, "Special Delivery Guaranteed", None, "UK", service="SD1")])
    make("royal_mail", "SD1", "late_delivery_first_attempt",
         lambda p: [Line("transportation", 995, "Special Delivery Guaranteed", None, "UK")], events="attempts")
    return out


def _ups_billing_row(values: dict[int, str]) -> str:
    """One UPS Billing Data row: 250 comma-separated columns, positions as ups_billing.py reads them."""
    cells = [""] * 250
    for pos, value in values.items():
        cells[pos] = value
    return ",".join(cells)


def _account_fees(invoices: dict[tuple[str, str], tuple[dt.date, list[tuple[Parcel, Line]]]],
                  planted: list[Planted]) -> str:
    """UPS Billing Data (headerless, 250 columns) of one UPS invoice of account-level charges, billed the
    day of the showcase invoice (the first from 12 October): the 2% Payment Processing Fee on that week's
    charges (``MIS``/``SVCH``/``FRT``/``NSS``, no tracking number), which the demo agreement waives
    (``[[account_fees]] match = "payment processing"``, ``max = "0"``): one ``account_fee`` finding of the
    whole fee. A separate invoice number: an invoice is loaded from one file, and the week's parcels are in
    the canonical CSV. Returns the file's text."""
    prof = next(p for p in PROFILES if p.code == "ups")
    number, (day, rows) = next((num, v) for (c, num), v in invoices.items()
                               if c == "ups" and v[0] >= dt.date(2026, 10, 12))
    week = sum(ln.cents for _, ln in rows)
    fee = (week * 2 + 50) // 100                          # 2 %, half up
    fee_number = f"{number}S"                             # the week's service charges invoice
    base = {0: "2.1", 1: "0000" + prof.account, 2: prof.account, 3: "US", 4: day.isoformat(), 5: fee_number,
            9: "USD", 10: cents_text(fee), 11: day.isoformat(), 34: "MIS", 35: "SVCH", 43: "FRT", 44: "NSS",
            45: "Payment Processing Fee", 52: cents_text(fee)}
    planted.append(Planted("account_fee", "ups", "", fee_number, fee))
    return _ups_billing_row(base) + "\n"


def _published(p: Parcel) -> int:
    """The list price of a UPS 3 Day Select parcel of 6 lb (the showcase's missing incentive)."""
    rows = (_contracts_root() / "ups_3ds_published.csv").read_text().splitlines()
    zones = rows[0].split(",")
    cells = next(r.split(",") for r in rows[1:] if Decimal(r.split(",")[0]) >= 6)
    return int(Decimal(cells[zones.index(str(int(p.invoice_zone)))]) * 100)


def _service_findings(parcels: Iterable[Parcel]) -> list[Planted]:
    """The service findings the parcels' scans call for (spec/audits.md), judged on AS_OF."""
    out = []
    for p in parcels:
        ev = sorted(p.events, key=lambda e: e.at)
        scans = [e for e in ev if e.status != "label_created"]
        statuses = [e.status for e in ev]
        claims = p.terms.claims
        terminal = any(s in statuses for s in ("delivered", "returned_to_sender", "available_for_pickup"))
        kind = None
        if scans and not terminal and ("lost" in statuses or (
                AS_OF - ev[-1].at.date()).days >= int(claims["lost_after_days"])):
            kind = "lost"
        elif "damaged" in statuses or any(e.reason == "damage" for e in ev):
            kind = "damaged"
        elif p.invoice is not None and not scans and (AS_OF - p.ship).days >= int(claims["void_after_days"]):
            kind = "void_label"
        elif p.svc.guaranteed and "delivered" in statuses:
            delivered = next(e.at for e in ev if e.status == "delivered")
            deadline = p.promised or _promised_instant(p)
            if delivered > deadline:
                kind = "late_delivery"
        if kind:
            out.append(Planted(kind, p.prof.code, p.tracking))
    return out


CREDIT_TEXT = {
    "duplicate_charge": "Duplicate billing credit", "residential_surcharge": "Residential surcharge reversal",
    "delivery_area_surcharge": "Delivery area surcharge reversal", "address_correction": "Address correction reversal",
    "dim_weight": "Dimensional weight adjustment", "rate_overcharge": "Rate adjustment",
    "fuel_surcharge": "Fuel surcharge adjustment", "void_label": "Void shipment credit",
    "lost": "Claim payment - loss", "damaged": "Claim payment - damage",
}


def _credits(parcels: list[Parcel], planted: list[Planted], rng: random.Random) -> list[tuple[Parcel, str, int]]:
    """Credit note lines (parcel, description, cents > 0): what the carriers pay back by CREDIT_DATE,
    some in full, some in part; some pay late deliveries nobody can claim any more (unmatched)."""
    by_tn = {(p.prof.code, p.tracking): p for p in parcels}
    invoice_day = {p.invoice[0]: p.invoice[1] for p in parcels if p.invoice}
    out: list[tuple[Parcel, str, int]] = []
    for f in planted:
        p = by_tn[(f.carrier, f.tracking_number)]
        if f.kind in BILLING_KINDS:
            day = invoice_day.get(f.invoice_number or "")
            if day is None or day > CREDIT_DATE - dt.timedelta(days=7) or rng.random() >= 0.45:
                continue
            amount = f.amount_cents or 0
            if rng.random() < 0.25:
                amount = max(1, amount * rng.randint(40, 80) // 100)
            out.append((p, CREDIT_TEXT[f.kind], amount))
        elif f.kind in ("lost", "damaged"):
            recent = dt.date(2026, 9, 10) <= p.ship <= dt.date(2026, 10, 10)   # claim windows mostly open
            if rng.random() >= (0.6 if recent else 0.1):
                continue
            liability = int(Decimal(p.terms.claims["default_liability"]) * 100)
            out.append((p, CREDIT_TEXT[f.kind], min(p.item_cents, max(p.declared_cents, liability))))
        elif f.kind == "void_label":
            if p.invoice is None or p.invoice[1] > CREDIT_DATE - dt.timedelta(days=7) or rng.random() >= 0.4:
                continue
            out.append((p, CREDIT_TEXT[f.kind], sum(ln.cents for ln in p.lines)))
        elif f.kind == "late_delivery" and p.prof.code in ("ups", "fedex") and p.invoice is not None:
            delivered = next((e.at for e in p.events if e.status == "delivered"), None)
            if delivered is None or delivered.date() > CREDIT_DATE - dt.timedelta(days=3):
                continue
            if rng.random() >= (0.6 if delivered.date() >= dt.date(2026, 10, 20) else 0.12):
                continue        # carriers refund some late parcels on their own, claimed or not
            refund = p.terms.claims["late_refund_charges"]
            text = "Guaranteed Service Refund GSR" if p.prof.code == "ups" else "Money-Back Guarantee refund"
            out.append((p, text, sum(ln.cents for ln in p.lines if ln.charge_type in refund)))
    return [c for c in out if c[2] > 0]


def _write(folder: Path, parcels: list[Parcel], invoices: dict[tuple[str, str], tuple[dt.date, list[tuple[Parcel, Line]]]],
           credit_rows: list[tuple[Parcel, str, int]], planted: list[Planted]) -> dict[str, int]:
    counts = {"shipments": len(parcels), "scans": 0, "invoices": 0, "invoice_lines": 0, "credit_notes": 0,
              "credit_lines": len(credit_rows)}
    with (folder / "shipments.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(SHIPMENT_COLUMNS)
        for p in parcels:
            us = p.prof.origin.country == "US"
            w.writerow([
                p.tracking, p.prof.code, p.service, p.prof.account, p.ship.isoformat(),
                p.promised.isoformat() if p.promised else "", p.prof.origin.postal, p.prof.origin.country,
                p.dest.postal, p.dest.country, str(p.residential).lower(), str(p.validated).lower(),
                str(p.weight), p.terms.weight_unit, *(str(d) for d in p.dims), p.terms.dim_unit,
                cents_text(p.declared_cents), cents_text(p.item_cents), p.terms.currency,
                p.dest.tz if us else "", p.order_id, p.signature,
            ])
    scans = []
    for p in parcels:
        for seq, e in enumerate(p.events):
            code, text = p.prof.codes.get(e.step, ("", ""))
            scans.append((e.at.astimezone(dt.UTC), p.tracking, seq, [
                p.tracking, p.prof.code, e.at.isoformat(timespec="seconds"), e.status, code, text, e.city, e.postal,
                e.country, e.reason]))
    scans.sort(key=lambda s: (s[0], s[1], s[2]))
    counts["scans"] = len(scans)
    with (folder / "scans.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(SCAN_COLUMNS)
        w.writerows(s[3] for s in scans)

    (folder / "invoices").mkdir(exist_ok=True)
    for (carrier, number), (day, rows) in invoices.items():
        if not rows:
            continue
        counts["invoices"] += 1
        counts["invoice_lines"] += len(rows)
        path = folder / "invoices" / f"{carrier.upper()}-{day.strftime('%Y%m%d')}-{number}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(INVOICE_COLUMNS)
            for p, ln in rows:
                w.writerow([number, day.isoformat(), carrier, p.prof.account, p.terms.currency, p.tracking,
                            ln.charge_type, cents_text(ln.cents), "" if ln.billed_weight is None else str(ln.billed_weight),
                            p.terms.weight_unit if ln.billed_weight is not None else "", ln.zone or "",
                            ln.service or p.service, p.ship.isoformat(), "", ln.description, ln.adjustment or ""])

    (folder / "credits").mkdir(exist_ok=True)
    rng = random.Random(f"credits:{len(parcels)}")
    for prof in PROFILES:
        mine = sorted((c for c in credit_rows if c[0].prof is prof), key=lambda c: (c[0].tracking, c[1]))
        if not mine:
            continue
        counts["credit_notes"] += 1
        number = f"{_invoice_number(prof, CREDIT_DATE, rng)}-CR"
        path = folder / "credits" / f"{prof.code.upper()}-{CREDIT_DATE.strftime('%Y%m%d')}-{number}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(INVOICE_COLUMNS)
            for p, text, cents in mine:
                w.writerow([number, CREDIT_DATE.isoformat(), prof.code, prof.account, p.terms.currency, p.tracking,
                            "credit", cents_text(-cents), "", "", "", "", "", f"ADJ-{rng.randrange(10**7):07d}", text,
                            ""])

    order = {k: i for i, k in enumerate((*SERVICE_KINDS, *BILLING_KINDS, *SHOWCASE_KINDS))}
    listed = sorted(planted, key=lambda f: (order.get(f.kind, len(order)), f.carrier, f.tracking_number, f.invoice_number or "",
                                            f.amount_cents or 0))
    (folder / "planted.json").write_text(json.dumps([f.as_dict() for f in listed], indent=1) + "\n", encoding="utf-8")
    return counts
