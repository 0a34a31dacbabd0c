"""What the demo generator's modules share: the demo's dates, the finding kinds it plants, money
as text, and the record of a planted finding."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

FIRST_SHIP = dt.date(2026, 8, 3)     # a Monday
LAST_SHIP = dt.date(2026, 10, 31)    # a Saturday
AS_OF = dt.date(2026, 11, 9)         # "today" for the audit: the Monday after the last invoices
REPORT_MONTH = "2026-10"             # the last full month before AS_OF
CREDIT_DATE = dt.date(2026, 10, 31)  # the carriers' credit notes


BILLING_KINDS = ("duplicate_charge", "residential_surcharge", "address_correction", "delivery_area_surcharge",
                 "dim_weight", "rate_overcharge", "fuel_surcharge")
SERVICE_KINDS = ("late_delivery", "lost", "damaged", "void_label")


def cents_text(cents: int) -> str:
    """Integer cents as a decimal string with two decimals (``-1234`` → ``-12.34``)."""
    sign = "-" if cents < 0 else ""
    c = abs(int(cents))
    return f"{sign}{c // 100}.{c % 100:02d}"


def share_cents(cents: int, percent: Decimal) -> int:
    """``percent`` % of an amount in cents, rounded half-up to the cent."""
    return int((Decimal(cents) * percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


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
