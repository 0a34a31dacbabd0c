"""Parcels, their scans and invoice lines, and the carriers' tracking numbers (with check digits)."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from recoup.demo.generate.independent_terms import IndependentTerms, ServiceTerms
from recoup.demo.generate.merchant import Place, Profile


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


def new_tracking_number(prof: Profile, service: str, rng: random.Random) -> str:
    if prof.code == "ups":
        return _ups_tracking(prof.account, service, rng)
    if prof.code == "fedex":
        return _fedex_tracking(rng)
    if prof.code == "dpd_uk":
        return f"1550{rng.randrange(10**10):010d}"
    return _s10_tracking({"SD1": "ZV", "TPN": "TT", "TPS": "TU"}.get(service, "TT"), rng)


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
    terms: IndependentTerms
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
