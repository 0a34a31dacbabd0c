"""What the four service kinds (lost, damaged, void_label, late_delivery: one finding per parcel)
share: the value-claim amount and its wording, the parcel's evidence, dates and local times for
people."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from recoup.audit.rules._vector import NAT, _day, _fmt_instants
from recoup.audit.rules.base import Facts
from recoup.money import fmt

_SPEC = "shared/spec/audits.md"


def value_amount(facts: Facts) -> np.ndarray:
    """What a lost or damaged parcel is owed: the value due, plus the billed charges when the contract
    refunds shipping with a value claim (``claims.value_claims_refund_shipping``)."""
    refund = facts.contract.claims.value_claims_refund_shipping
    return facts.value_due + (facts.billed_cents if refund else 0)


def value_reason(facts: Facts, i: int) -> str:
    refund = facts.contract.claims.value_claims_refund_shipping
    bsum = int(facts.billed_cents[i])
    return f"value due {fmt(int(facts.value_due[i]))}" + facts.liability_why(i) + (
        f" + billed charges {fmt(bsum)}" if refund and bsum else "")


def evidence(facts: Facts, i: int, **extra: Any) -> dict[str, Any]:
    """A parcel finding's evidence: its service and ship date (and ``extra``)."""
    return {**extra, "service": facts.svc[i], "ship_date": str(facts.ship_day[i:i + 1].view("datetime64[D]")[0])}


def d(v: int) -> str:
    """A day (days since 1970-01-01) as ISO text; NAT as "None"."""
    x: dt.date | None = _day(int(v))
    return "None" if x is None else x.isoformat()


def event_at(facts: Facts, rows: np.ndarray, sid: np.ndarray) -> list[str]:
    """Local time of events (their recorded offset, else the parcel's time zone)."""
    return _fmt_instants(facts.e_occ[rows], facts.e_off[rows], facts.e_has_off[rows], facts.tz[sid])


def others(facts: Facts, rows: np.ndarray) -> list[int]:
    """The parcels of ``rows`` a verdict is owed for (``facts.trace``): every parcel but ``rows``."""
    if not facts.trace:
        return []
    m = np.ones(facts.n, dtype=bool)
    m[rows] = False
    return np.flatnonzero(m).tolist()


__all__ = ["NAT", "d", "event_at", "evidence", "others", "value_amount", "value_reason"]
