"""The showcase: a few parcels per finding kind of issue 13, and the account-level fee (a UPS Billing
Data file)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from decimal import Decimal
from typing import TypedDict, Unpack
from zoneinfo import ZoneInfo

from recoup.demo.generate.basics import Planted, cents_text
from recoup.demo.generate.independent_terms import contracts_root
from recoup.demo.generate.merchant import PROFILES, Place
from recoup.demo.generate.parcels import Event, Line, Parcel, new_tracking_number

# The finding kinds added by issue 13, each planted on a few showcase parcels added after the usual data
# (their own random stream: the usual parcels, invoices and credits stay as they were).
# account_fee is planted on an account-level line (no tracking number), which the canonical invoice CSV
# cannot hold: the demo writes it as one UPS Billing Data file (:func:`account_fees_file`).
SHOWCASE_PARCELS = 17     # manifested showcase parcels (the unmanifested ones are not shipments)
SHOWCASE_FROM = 200       # a demo of fewer shipments plants none of them
SHOWCASE_KINDS = ("unmanifested_charge", "service_mismatch", "saturday_delivery", "declared_value",
                  "additional_handling", "large_package", "charge_correction", "peak_surcharge", "return_charge",
                  "missing_incentive", "zone_mismatch", "minimum_charge", "late_delivery_first_attempt", "signature",
                  "account_fee")
ACCOUNT_FEE_FILE = "UPS-billing-data-account-charges.csv"   # headerless UPS Billing Data (ups_billing.py)


class ParcelSize(TypedDict, total=False):
    """A showcase parcel's size, when not that of the ordinary parcel it is made like."""

    weight: Decimal
    dims: tuple[Decimal, Decimal, Decimal]
    declared_cents: int


def showcase_parcels(parcels: list[Parcel], invoices: dict[tuple[str, str], tuple[dt.date, list[tuple[Parcel, Line]]]],
                     planted: list[Planted], seed: int) -> list[Parcel]:
    """Showcase parcels, one or two per kind of :data:`SHOWCASE_KINDS`, billed on each carrier's first
    invoice from 12 October; returns the parcels to manifest (not the unmanifested one)."""
    import dataclasses

    rng = random.Random(f"showcase:{seed}")
    out: list[Parcel] = []
    used = {p.tracking for p in parcels}

    def make(code: str, like: str, kind: str, lines: Callable[[Parcel], list[Line]], *, events: str = "ok",
             manifest: bool = True, service: str | None = None, signature: str | None = None,
             dest: Place | None = None, **size: Unpack[ParcelSize]) -> None:
        b = next(p for p in parcels if p.prof.code == code and p.service == like and p.scenario == "ok")
        service = service or like
        number, day = next((num, d) for (c, num), (d, _) in invoices.items() if c == code and d >= dt.date(2026, 10, 12))
        tn = new_tracking_number(b.prof, service, rng)
        while tn in used:
            tn = new_tracking_number(b.prof, service, rng)
        used.add(tn)
        sd = day - dt.timedelta(days=7)
        sd -= dt.timedelta(days=sd.weekday())                  # a Monday
        p = dataclasses.replace(b, tracking=tn, ship=sd, promised=None, lines=[], invoice=(number, day), error=None,
                                order_id=f"ORD-SHOW-{len(used) - len(parcels):03d}", service=service,
                                signature=b.signature if signature is None else signature, dest=dest or b.dest,
                                **size)
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

    small: ParcelSize = {"weight": Decimal(5), "dims": (Decimal(12), Decimal(10), Decimal(6)), "declared_cents": 0}
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


def account_fees_file(invoices: dict[tuple[str, str], tuple[dt.date, list[tuple[Parcel, Line]]]],
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
    rows = (contracts_root() / "ups_3ds_published.csv").read_text().splitlines()
    zones = rows[0].split(",")
    cells = next(r.split(",") for r in rows[1:] if Decimal(r.split(",")[0]) >= 6)
    return int(Decimal(cells[zones.index(str(int(p.invoice_zone)))]) * 100)
