"""SLA scorecard: how carriers kept their promises, from the stored scans and findings.

One row per group (``by``):

=========  ====================================================================================
carrier    the carrier code
service    carrier and service code (service codes are per carrier)
month      the month of the ship date (``YYYY-MM``; ``-`` when the shipment has no ship date)
lane       origin → destination, each as ``<country>-<postal area>``: the first digit of a US ZIP
           (its national area, 0 New England … 9 West Coast), the leading letters of a UK
           postcode (its postcode area: ``B``, ``EC``, ``LS``), the first two characters
           elsewhere; e.g. ``US-6 → US-1``, ``GB-B → GB-EC``. Country-only lanes (``US → US``)
           say little for a domestic shipper, full postcodes make one lane per parcel.
weekday    the weekday of the ship date (Mon … Sun): are parcels handed over on a Friday late
           more often?
=========  ====================================================================================

Columns, all counts of shipments (rows of the ``shipment`` table, manifested or not):

- ``shipments``; ``delivered``: with a ``delivered`` scan, or a late-delivery finding.
- ``late``: delivered with an open ``late_delivery`` finding (whether claimable or not: a
  carrier-excused exception is still late); ``on_time`` = ``delivered - late``; so
  ``on_time + late == delivered`` always. A parcel without a promise (non-guaranteed service)
  that arrived counts as on time: the audit had nothing to hold it to.
- ``on_time_rate`` = ``on_time / delivered`` (a :class:`~decimal.Decimal` ratio to 4 places,
  ``None`` with nothing delivered).
- ``lost``, ``damaged``: with an open ``lost`` / ``damaged`` finding. The audit gives each parcel
  one service finding (lost, then damaged, then late), so a damaged parcel that also came late
  counts as damaged, not late.
- ``avg_days_late``: the mean of (delivered − promised) in days, to 0.1 day, over the late parcels
  whose finding says both instants (evidence ``delivered_at``/``promised_by`` when present, else
  the ``delivered …, promised by …`` reason the audit writes); ``None`` when there are none.

The month filter (``month="YYYY-MM"``) keeps shipments shipped in that month.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from recoup.store.models import Finding, ScanEvent, Shipment, table_of

BY = ("carrier", "service", "month", "lane", "weekday")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
KEYS: dict[str, tuple[str, ...]] = {"carrier": ("carrier",), "service": ("carrier", "service"), "month": ("month",),
                                    "lane": ("lane",), "weekday": ("weekday",)}
_LATE_RE = re.compile(r"delivered (\S+?), promised by (\S+?)(?:;|$|\s)")
RATE = Decimal("0.0001")
TENTH = Decimal("0.1")


@dataclass
class Parcel:
    carrier: str
    tracking_number: str
    service: str | None
    ship_date: dt.date | None
    lane: str
    delivered: bool = False
    late: bool = False
    lost: bool = False
    damaged: bool = False
    seconds_late: int | None = None

    def key(self, by: str) -> tuple[str, ...]:
        if by == "carrier":
            return (self.carrier,)
        if by == "service":
            return (self.carrier, self.service or "-")
        if by == "month":
            return (self.ship_date.strftime("%Y-%m") if self.ship_date else "-",)
        if by == "weekday":
            return (WEEKDAYS[self.ship_date.weekday()] if self.ship_date else "-",)
        return (self.lane,)


def postal_area(postal: str | None, country: str | None) -> str:
    """The coarse postal area a lane is drawn between (see the module docstring)."""
    cc = (country or "").strip().upper()
    p = (postal or "").strip().upper().replace(" ", "")
    if not p:
        area = ""
    elif p[0].isdigit():
        area = p[0] if cc in ("US", "") else p[:2]
    elif cc in ("GB", "UK", "IE") or (p[0].isalpha() and not cc):
        m = re.match(r"[A-Z]+", p)
        area = m.group(0)[:2] if m else p[:2]
    else:
        area = p[:2]
    return f"{cc or '?'}-{area}" if area else (cc or "?")


def lane_of(origin_postal: str | None, origin_country: str | None, dest_postal: str | None,
            dest_country: str | None) -> str:
    return f"{postal_area(origin_postal, origin_country)} → {postal_area(dest_postal, dest_country)}"


def late_seconds(reason: str, evidence: str | None) -> int | None:
    """Seconds between the promised and the delivered instant a late-delivery finding states."""
    delivered = promised = None
    try:
        ev = json.loads(evidence or "{}")
    except ValueError:
        ev = {}
    if isinstance(ev, dict) and ev.get("delivered_at") and ev.get("promised_by"):
        delivered, promised = str(ev["delivered_at"]), str(ev["promised_by"])
    else:
        m = _LATE_RE.search(reason or "")
        if m:
            delivered, promised = m.group(1), m.group(2)
    if not delivered or not promised:
        return None
    try:
        d, p = dt.datetime.fromisoformat(delivered), dt.datetime.fromisoformat(promised)
    except ValueError:
        return None
    if d.tzinfo is None or p.tzinfo is None:
        return None
    return int((d - p).total_seconds())


#: The months reports cover (a report looks back six months for its trend, so never near year 1).
MONTHS = ("1990-01", "2099-12")


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """First and last day of a ``YYYY-MM`` month; ValueError when it is not one."""
    if not re.fullmatch(r"\d{4}-\d{2}", month or ""):
        raise ValueError(f"not a month (YYYY-MM): {month!r}")
    year, mon = int(month[:4]), int(month[5:])
    if not 1 <= mon <= 12:
        raise ValueError(f"not a month (YYYY-MM): {month!r}")
    if not MONTHS[0] <= month <= MONTHS[1]:
        raise ValueError(f"month {month} is outside {MONTHS[0]} to {MONTHS[1]}")
    first = dt.date(year, mon, 1)
    nxt = dt.date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first, nxt - dt.timedelta(days=1)


def parcels(engine: Engine, *, month: str | None = None) -> list[Parcel]:
    """Every shipment (of the ship month, if given) with its delivery and service findings."""
    st = table_of(Shipment)
    et = table_of(ScanEvent)
    ft = table_of(Finding)
    q = select(st.c.carrier, st.c.tracking_number, st.c.service, st.c.ship_date, st.c.origin_postal,
               st.c.origin_country, st.c.dest_postal, st.c.dest_country)
    if month:
        first, last = month_bounds(month)
        q = q.where(st.c.ship_date >= first).where(st.c.ship_date <= last)
    out: dict[tuple[str, str], Parcel] = {}
    with engine.connect() as conn:
        for r in conn.execute(q.order_by(st.c.carrier, st.c.tracking_number)):
            out[(r.carrier, r.tracking_number)] = Parcel(
                r.carrier, r.tracking_number, r.service, r.ship_date,
                lane_of(r.origin_postal, r.origin_country, r.dest_postal, r.dest_country))
        for d in conn.execute(select(et.c.carrier, et.c.tracking_number).where(et.c.status == "delivered")
                              .distinct()):
            p = out.get((d.carrier, d.tracking_number))
            if p is not None:
                p.delivered = True
        for f in conn.execute(select(ft.c.kind, ft.c.carrier, ft.c.tracking_number, ft.c.reason, ft.c.evidence)
                              .where(ft.c.status == "open")
                              .where(ft.c.kind.in_(("late_delivery", "lost", "damaged")))):
            p = out.get((f.carrier, f.tracking_number))
            if p is None:
                continue
            if f.kind == "late_delivery":
                p.late = p.delivered = True
                p.seconds_late = late_seconds(f.reason, f.evidence)
            elif f.kind == "lost":
                p.lost = True
            else:
                p.damaged = True
    return list(out.values())


def ratio(num: int, den: int) -> Decimal | None:
    if den == 0:
        return None
    return (Decimal(num) / Decimal(den)).quantize(RATE, rounding=ROUND_HALF_UP)


def summarise(ps: Iterable[Parcel], by: str) -> list[dict[str, Any]]:
    """Scorecard rows of parcels, grouped by ``by`` (one of :data:`BY`)."""
    if by not in BY:
        raise ValueError(f"by: one of {', '.join(BY)}")
    groups: dict[tuple[str, ...], list[Parcel]] = {}
    for p in ps:
        groups.setdefault(p.key(by), []).append(p)

    def order(k: tuple[str, ...]) -> tuple[Any, ...]:
        if by == "weekday":
            return (WEEKDAYS.index(k[0]) if k[0] in WEEKDAYS else 7,)
        return k

    rows = []
    for k in sorted(groups, key=order):
        g = groups[k]
        delivered = sum(p.delivered for p in g)
        late = sum(p.delivered and p.late for p in g)
        secs = [p.seconds_late for p in g if p.late and p.seconds_late is not None]
        avg = (Decimal(sum(secs)) / Decimal(86400 * len(secs))).quantize(TENTH, rounding=ROUND_HALF_UP) \
            if secs else None
        row: dict[str, Any] = dict(zip(KEYS[by], k, strict=True))
        row.update(shipments=len(g), delivered=delivered, on_time=delivered - late, late=late,
                   on_time_rate=ratio(delivered - late, delivered), lost=sum(p.lost for p in g),
                   damaged=sum(p.damaged for p in g), avg_days_late=avg)
        rows.append(row)
    return rows


def scorecard(engine: Engine, by: str = "carrier", *, month: str | None = None) -> list[dict[str, Any]]:
    """The SLA scorecard (see the module docstring), one dict per group, sorted by the group."""
    if by not in BY:
        raise ValueError(f"by: one of {', '.join(BY)}")
    return summarise(parcels(engine, month=month), by)
