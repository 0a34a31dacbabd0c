"""What happens to a parcel: its scenario (on time, late, lost, damaged ...), its scans, and the
service findings its scans call for (judged on ``AS_OF`` by the generator's own reading of
spec/audits.md, like :mod:`recoup.demo.generate.independent_terms`, not by recoup's audit)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from decimal import Decimal
from zoneinfo import ZoneInfo

from recoup.demo.generate.basics import AS_OF, FIRST_SHIP, LAST_SHIP, Planted
from recoup.demo.generate.independent_terms import IndependentTerms
from recoup.demo.generate.merchant import UK_BOXES, US_BOXES, Profile
from recoup.demo.generate.parcels import Event, Parcel, new_tracking_number


def _minutes(day: dt.date, lo: int, hi: int, tz: ZoneInfo, rng: random.Random) -> dt.datetime:
    """A random whole minute between ``lo`` and ``hi`` minutes after local midnight of ``day``."""
    m = rng.randint(lo, hi)
    return dt.datetime(day.year, day.month, day.day, m // 60, m % 60, tzinfo=tz)


def _ground_transit(zone: str) -> int:
    z = int(zone) if zone.isdigit() else 2
    return {2: 1, 3: 2, 4: 2, 5: 3, 6: 4, 7: 4}.get(z, 5)


def _planned_transit(p: Parcel) -> int:
    if p.svc.guaranteed or p.prof.code not in ("ups", "fedex"):
        return p.svc.transit_days
    return _ground_transit(p.dest.zone)


def promised_instant(p: Parcel) -> dt.datetime:
    """The carrier's commitment: promised date at the commit time in the destination's zone."""
    day = p.terms.add_business_days(p.terms.tender(p.ship), _planned_transit(p))
    commit = p.svc.commit if p.svc.guaranteed else dt.time(20, 0)
    return dt.datetime.combine(day, commit, tzinfo=ZoneInfo(p.dest.tz))


def _choose_scenario(rng: random.Random, guaranteed: bool, pickup_shops: bool, ship: dt.date,
                     terms: IndependentTerms) -> str:
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


def ship_days(region: str) -> tuple[list[dt.date], list[float]]:
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


def make_parcel(prof: Profile, terms: IndependentTerms, rng: random.Random, ship: dt.date, used: set[str]) -> Parcel:
    codes = [c for c, _ in prof.services]
    service = rng.choices(codes, weights=[w for _, w in prof.services])[0]
    svc = terms.services[service]
    dest = rng.choices(prof.places, weights=[pl.weight for pl in prof.places])[0]
    tracking = new_tracking_number(prof, service, rng)
    while tracking in used:
        tracking = new_tracking_number(prof, service, rng)
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
        p.promised = promised_instant(p)
    p.events = _journey(p, rng)
    _monotonic(p.events, rng)
    p.events = [e for e in p.events if e.at.date() < AS_OF]
    return p


def service_findings(parcels: Iterable[Parcel]) -> list[Planted]:
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
            deadline = p.promised or promised_instant(p)
            if delivered > deadline:
                kind = "late_delivery"
        if kind:
            out.append(Planted(kind, p.prof.code, p.tracking))
    return out
