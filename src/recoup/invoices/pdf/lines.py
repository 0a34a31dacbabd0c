"""The charge lines being built, their charge types, and discounts folded into transportation (pure)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from recoup.invoices.pdf.layouts import Layout
from recoup.invoices.pdf.meta import Meta
from recoup.invoices.pdf.values import charge_type

if TYPE_CHECKING:  # pandas is imported where the frame is built: worker processes do not need it
    from recoup.ingest.base import RowError


@dataclass
class Build:
    meta: Meta
    layout: Layout | None
    comma_decimal: bool
    records: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    unknown: Counter[str] = field(default_factory=Counter)
    read: int = 0
    skipped: int = 0


def type_of(b: Build, desc: str, cents: int) -> str:
    ctype = charge_type(desc, b.meta.carrier)
    if ctype == "discount":                     # part of the transportation price, never a credit
        return ctype
    if cents < 0:
        return "credit"
    if ctype is None:
        b.unknown[f"pdf:{desc}"] += 1
        return "other"
    return ctype


def fold_discounts(b: Build) -> int:
    """A discount line (charge map: ``discount``) is added to its parcel's transportation line, the last
    one before it (else the first after it); without one it is a transportation line itself. Returns
    the number of lines folded."""
    folded = 0
    keep: list[dict[str, Any]] = []
    pending: list[dict[str, Any]] = []
    last_transport: dict[tuple[str, str], dict[str, Any]] = {}
    for r in b.records:
        key = (r["invoice_number"] or "", r["tracking_number"])
        if r["charge_type"] == "discount":
            t = last_transport.get(key)
            if t is not None:
                t["amount_cents"] += r["amount_cents"]
                folded += 1
            else:
                pending.append(r)
            continue
        if r["charge_type"] == "transportation":
            last_transport[key] = r
        keep.append(r)
    for r in pending:
        t = last_transport.get((r["invoice_number"] or "", r["tracking_number"]))
        if t is not None:
            t["amount_cents"] += r["amount_cents"]
            folded += 1
        else:
            keep.append({**r, "charge_type": "transportation"})
    keep.sort(key=lambda r: r["line"])
    b.records[:] = keep
    b.read -= folded
    return folded
