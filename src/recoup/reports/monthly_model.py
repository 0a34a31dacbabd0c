"""The monthly report's shape: its sections and columns, the rows it holds (:class:`MonthlyReport`), and
the leakage groups its writers show. Pure data; :mod:`recoup.reports.monthly` builds and writes it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from recoup.money import ZERO

TOTAL = "TOTAL"


@dataclass(frozen=True)
class Col:
    key: str
    header: str
    kind: str = "text"          # text | int | money | rate | date | bool | days
    width: int | None = None    # XLSX column width override


COLUMNS: dict[str, list[Col]] = {
    "summary": [
        Col("carrier", "carrier"), Col("currency", "currency"), Col("shipments", "shipments", "int"),
        Col("spend", "spend audited", "money"), Col("findings", "findings", "int"),
        Col("findings_amount", "findings amount", "money"), Col("claims", "claims", "int"),
        Col("claimed", "claimed", "money"), Col("approved", "approved", "money"),
        Col("credited", "credited", "money"), Col("recovery_rate", "recovery rate", "rate"),
        Col("claims_credited", "these claims credited to date", "money"), Col("denied", "denied", "int"),
        Col("denied_amount", "denied amount", "money"),
        Col("expired", "expired", "int"), Col("expired_amount", "expired amount", "money"),
        Col("missed_windows", "missed windows", "int"), Col("missed_amount", "left on the table", "money"),
        Col("unmatched_credits", "unmatched credits", "money"), Col("near_deadline", "near deadline", "int"),
        Col("leaked", "windows closed unclaimed", "int"), Col("leaked_amount", "leaked", "money"),
    ],
    "claims": [
        Col("id", "claim", "int"), Col("created", "opened", "date"), Col("carrier", "carrier"),
        Col("kind", "kind"), Col("tracking_number", "tracking number", width=22), Col("status", "status"),
        Col("channel", "channel"), Col("claimed", "claimed", "money"), Col("approved", "approved", "money"),
        Col("credited_to_date", "credited to date", "money"), Col("currency", "currency"),
        Col("deadline", "deadline", "date"), Col("filed", "filed", "date"),
        Col("carrier_reference", "carrier reference"), Col("near_deadline", "near deadline", "bool"),
        Col("finding_id", "finding", "int"),
    ],
    "findings": [
        Col("id", "finding", "int"), Col("ship_date", "ship date", "date"), Col("kind", "kind"),
        Col("carrier", "carrier"), Col("tracking_number", "tracking number", width=22),
        Col("invoice_number", "invoice"), Col("amount", "amount", "money"), Col("currency", "currency"),
        Col("claimable", "claimable", "bool"), Col("missed_window", "missed window", "bool"),
        Col("deadline", "deadline", "date"), Col("claim_id", "claim", "int"), Col("claim_status", "claim status"),
        Col("reason", "reason", width=70),
    ],
    "credits": [
        Col("id", "credit", "int"), Col("invoice_date", "invoice date", "date"), Col("carrier", "carrier"),
        Col("invoice_number", "invoice"), Col("tracking_number", "tracking number", width=22),
        Col("reference", "reference"), Col("description", "description", width=30),
        Col("amount", "amount", "money"), Col("matched", "matched", "money"),
        Col("unmatched", "unmatched", "money"), Col("currency", "currency"), Col("claim_ids", "claims"),
        Col("rules", "matched by"),
    ],
    "sla": [
        Col("group", "group"), Col("carrier", "carrier"), Col("service", "service"),
        Col("shipments", "shipments", "int"), Col("delivered", "delivered", "int"), Col("on_time", "on time", "int"),
        Col("late", "late", "int"), Col("on_time_rate", "on-time rate", "rate"), Col("lost", "lost", "int"),
        Col("damaged", "damaged", "int"), Col("avg_days_late", "avg days late", "days"),
    ],
    "leakage": [
        Col("finding_id", "finding", "int"), Col("deadline", "window closed", "date"), Col("carrier", "carrier"),
        Col("kind", "kind"), Col("tracking_number", "tracking number", width=22), Col("amount", "amount", "money"),
        Col("currency", "currency"), Col("reason", "why it leaked", width=60), Col("claim_id", "claim", "int"),
    ],
    "near_deadline": [
        Col("id", "claim", "int"), Col("carrier", "carrier"), Col("tracking_number", "tracking number", width=22),
        Col("kind", "kind"), Col("status", "status"), Col("deadline", "deadline", "date"),
        Col("amount", "amount", "money"), Col("currency", "currency"),
    ],
}
COLUMNS["unmatched_credits"] = COLUMNS["credits"]

#: Section key → sheet / heading title, in the order the writers put them.
SECTIONS = {"summary": "Summary", "claims": "Claims", "findings": "Findings", "credits": "Credits",
            "unmatched_credits": "Unmatched credits", "sla": "SLA", "near_deadline": "Near deadline",
            "leakage": "Leakage"}
#: The date that puts each kind of row in the month, for the notes of the XLSX and the HTML.
DATE_RULES = (
    ("shipments", "ship date"),
    ("spend audited", "invoice date of each positive invoice line"),
    ("findings", "the parcel's ship date (unmanifested: the invoice line's ship or invoice date)"),
    ("claims, claimed, approved, denied, expired", "the day the claim was opened (UTC), not cancelled"),
    ("credited, credits, unmatched credits", "invoice date of the credit line; credited = the matched part"),
    ("recovery rate", "credited / claimed of the same month (different cohorts: may exceed 100 %)"),
    ("these claims credited to date", "what the month's claims have been credited so far, whenever"),
    ("left on the table", "findings not claimable because the filing window had closed"),
    ("leaked, leakage", "the deadline: windows that closed in the month unclaimed, with the reason"),
    ("SLA", "ship date; late = delivered with a late-delivery finding"),
)
MONEY_SUMMARY = [c.key for c in COLUMNS["summary"] if c.kind == "money"]
COUNT_SUMMARY = [c.key for c in COLUMNS["summary"] if c.kind == "int"]


@dataclass
class MonthlyReport:
    month: str
    first: dt.date
    last: dt.date
    as_of: dt.date
    near_days: int
    summary: list[dict[str, Any]] = field(default_factory=list)       # per carrier and currency
    totals: list[dict[str, Any]] = field(default_factory=list)        # per currency, carrier = TOTAL
    claims: list[dict[str, Any]] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    credits: list[dict[str, Any]] = field(default_factory=list)
    unmatched_credits: list[dict[str, Any]] = field(default_factory=list)
    leakage: list[dict[str, Any]] = field(default_factory=list)       # windows closed unclaimed, with why
    sla: list[dict[str, Any]] = field(default_factory=list)           # by carrier, then by service
    sla_weekday: list[dict[str, Any]] = field(default_factory=list)   # by ship weekday
    near_deadline: list[dict[str, Any]] = field(default_factory=list)  # every unfiled claim near its deadline
    trend: list[dict[str, Any]] = field(default_factory=list)         # month, carrier, currency, claimed, credited
    trend_months: list[str] = field(default_factory=list)             # the months of the trend, oldest first

    def rows(self, section: str) -> list[dict[str, Any]]:
        """The rows of a section; ``summary`` includes the per-currency total rows last."""
        if section == "summary":
            return self.summary + self.totals
        return list(getattr(self, section))

    @property
    def currencies(self) -> list[str]:
        return [t["currency"] for t in self.totals]


LEAKAGE_GROUPS = [Col("carrier", "carrier"), Col("kind", "kind"), Col("currency", "currency"),
                  Col("reason", "why it leaked", width=60), Col("windows", "windows", "int"),
                  Col("amount", "leaked", "money")]


def leakage_groups(rep: MonthlyReport) -> list[dict[str, Any]]:
    """The leakage per carrier, kind, currency and reason, then a TOTAL row per currency (each the sum of
    the detail rows, so the summary's ``leaked_amount`` reconciles to the cent)."""
    groups: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    totals: dict[str, dict[str, Any]] = {}
    for lk in rep.leakage:
        g = groups.setdefault((lk["carrier"], lk["kind"], lk["currency"], lk["reason"]),
                              {"carrier": lk["carrier"], "kind": lk["kind"], "currency": lk["currency"],
                               "reason": lk["reason"], "windows": 0, "amount": ZERO})
        t = totals.setdefault(lk["currency"], {"carrier": TOTAL, "kind": "", "currency": lk["currency"],
                                               "reason": "", "windows": 0, "amount": ZERO})
        for r in (g, t):
            r["windows"] += 1
            r["amount"] += lk["amount"]
    return [groups[k] for k in sorted(groups)] + [totals[k] for k in sorted(totals)]

