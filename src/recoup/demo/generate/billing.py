"""The weekly invoices' lines, with the billing errors planted on them, and the carriers' credit notes."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from recoup.demo.generate.basics import (
    AS_OF,
    BILLING_KINDS,
    CREDIT_DATE,
    FIRST_SHIP,
    LAST_SHIP,
    Planted,
    share_cents,
)
from recoup.demo.generate.independent_terms import ceil_to
from recoup.demo.generate.merchant import RM_TARIFF, Profile
from recoup.demo.generate.parcels import Line, Parcel


def invoice_dates(prof: Profile) -> list[dt.date]:
    d = FIRST_SHIP + dt.timedelta(days=3)
    while d.weekday() != prof.invoice_weekday:
        d += dt.timedelta(days=1)
    out = []
    while d - dt.timedelta(days=9) <= LAST_SHIP and d <= AS_OF:
        out.append(d)
        d += dt.timedelta(days=7)
    return out


def new_invoice_number(prof: Profile, day: dt.date, rng: random.Random) -> str:
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


def bill(p: Parcel, rng: random.Random, planted: list[Planted], number: str) -> None:
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


CREDIT_TEXT = {
    "duplicate_charge": "Duplicate billing credit", "residential_surcharge": "Residential surcharge reversal",
    "delivery_area_surcharge": "Delivery area surcharge reversal", "address_correction": "Address correction reversal",
    "dim_weight": "Dimensional weight adjustment", "rate_overcharge": "Rate adjustment",
    "fuel_surcharge": "Fuel surcharge adjustment", "void_label": "Void shipment credit",
    "lost": "Claim payment - loss", "damaged": "Claim payment - damage",
}


def plan_credits(parcels: list[Parcel], planted: list[Planted], rng: random.Random) -> list[tuple[Parcel, str, int]]:
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
