"""The monthly recovery report for finance: what was found, claimed, approved, credited, denied,
expired and missed, per carrier and currency, with the detail rows behind every total.

:func:`build_monthly` reads the database into a :class:`MonthlyReport` (pure data, money as exact
:class:`~decimal.Decimal`); :func:`write_xlsx`, :func:`write_html` and :func:`write_csv` write it;
:func:`write_monthly` writes ``recovery-YYYY-MM.{xlsx,html,csv}`` into a folder, the CSV as one file per
section (``recovery-YYYY-MM-claims.csv``, ...).

Which date puts a row in the month
----------------------------------

Each kind of row has one date, so every summary total is the sum of its detail rows:

==================  ===========================================================================
shipments           the ship date (``shipment.ship_date``)
spend audited       the invoice date of each positive invoice line (what was billed that month)
findings            the parcel's ship date (the shipment's; for a parcel never manifested, the
                    ship date on its invoice line, else that line's invoice date, else the day
                    the finding was first seen): a finding belongs to the month its parcel went
                    out, like its shipment and SLA rows
claims              the day the claim was opened (``claim.created_at``, UTC) -- the rule of
                    ``queries.recovered``, so ``claims``, ``claimed`` and ``approved`` equal
                    ``recoup recovered --from <first day> --to <last day>``
credits             the invoice date of the credit line; ``credited`` counts the matched part
                    (``credit_match``), attributed to the matched claim's carrier and currency,
                    again as ``queries.recovered`` does
unmatched credits   the credit line's invoice date; the amount is ``amount - matched``
leakage             the deadline: recoverable findings whose window closed in the month, unclaimed
                    (not filed by the deadline), judged as of ``as_of`` by :mod:`recoup.leakage`,
                    each with the reason (data arrived after the window, amount unknown until the
                    invoice came, approval pending, carrier refused, cancelled by a person, not
                    filed); the summary's ``leaked``/``leaked_amount`` are their count and sum
SLA                 the ship date (see :mod:`recoup.reports.sla`)
==================  ===========================================================================

Consequences worth knowing: ``recovery_rate = credited / claimed`` sets the month's credits
against the month's new claims, which are different cohorts (carriers pay weeks later), so a month
may show more than 100 %, and the rate of a carrier with no new claims is left empty. The cohort
view is the next column, ``claims_credited``: what the month's claims have been credited to date,
whenever (the sum of the Claims sheet's ``credited_to_date``).

Summary columns, per carrier and currency (totals per currency, never added across currencies):
``claims``/``claimed``/``approved`` count claims that are not cancelled; ``denied`` and
``expired`` are those of the month's claims now ``rejected`` / ``expired`` (count and claimed
amount); ``missed_windows`` are the month's findings that are real but could not be claimed
because the filing window had closed when the audit judged them -- not claimable, and not
excluded by the contract (the audit says ``not claimable: excluded …`` / ``… suspended`` in the
reason for those; billing findings are only ever unclaimable for their window);
``near_deadline`` counts the month's claims still unfiled within ``near_days`` of their deadline
(``claims.service.near_deadline``), and the *Near deadline* sheet lists every such claim, whatever
its month.

``as_of`` is the day the near-deadline flag is judged on; ``None`` means the month's last day.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from recoup.money import ZERO, from_cents, money
from recoup.reports.cells import neutralise
from recoup.reports.sla import month_bounds, parcels, summarise
from recoup.store.models import Claim, Credit, CreditMatch, Finding, Invoice, InvoiceLine, Shipment

FORMATS = ("xlsx", "html", "csv")
RATE = Decimal("0.0001")
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


def _dec(v: str | None) -> Decimal | None:
    return None if v is None else money(v)


def _date(v: Any) -> dt.date | None:
    if v is None or v == "":
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v)[:10])


def _in(d: dt.date | None, first: dt.date, last: dt.date) -> bool:
    return d is not None and first <= d <= last


def missed_window(f: dict[str, Any]) -> bool:
    """A finding that is real but was not claimable because its filing window had closed."""
    return (not f["claimable"]) and f.get("deadline") is not None and "not claimable:" not in (f.get("reason") or "")


def _ratio(num: Decimal, den: Decimal) -> Decimal | None:
    return (num / den).quantize(RATE, rounding=ROUND_HALF_UP) if den else None


def _carrier_currency(conn: Any) -> dict[str, str]:
    """Each carrier's billing currency: the most frequent currency of its invoice lines."""
    lt = InvoiceLine.__table__  # type: ignore[attr-defined]
    it = Invoice.__table__  # type: ignore[attr-defined]
    cur = func.coalesce(lt.c.currency, it.c.currency)
    counts: dict[str, tuple[int, str]] = {}
    for r in conn.execute(select(lt.c.carrier, cur.label("cur"), func.count().label("n"))
                          .select_from(lt.join(it, it.c.id == lt.c.invoice_id))
                          .group_by(lt.c.carrier, cur)):
        if r.cur and (r.carrier not in counts or (r.n, r.cur) > counts[r.carrier]):
            counts[r.carrier] = (int(r.n), r.cur)
    return {k: v[1] for k, v in counts.items()}


def _finding_dates(conn: Any) -> dict[int, dt.date | None]:
    """Finding id → the ship date of its parcel (see the module docstring for the fallbacks)."""
    ft = Finding.__table__  # type: ignore[attr-defined]
    st = Shipment.__table__  # type: ignore[attr-defined]
    lt = InvoiceLine.__table__  # type: ignore[attr-defined]
    q = (select(ft.c.id, ft.c.first_seen, st.c.ship_date, lt.c.ship_date.label("line_ship"),
                lt.c.invoice_date.label("line_date"))
         .select_from(ft.outerjoin(st, (st.c.carrier == ft.c.carrier) & (st.c.tracking_number == ft.c.tracking_number))
                      .outerjoin(lt, lt.c.id == ft.c.invoice_line_id)))
    return {r.id: _date(r.ship_date or r.line_ship or r.line_date or r.first_seen) for r in conn.execute(q)}


def _claim_created(conn: Any) -> dict[int, dt.date]:
    ct = Claim.__table__  # type: ignore[attr-defined]
    return {r.id: r.created_at.date() for r in conn.execute(select(ct.c.id, ct.c.created_at))}


def _credits(conn: Any, first: dt.date, last: dt.date) -> tuple[list[dict[str, Any]], dict[tuple[str, str], int]]:
    """Credit lines of the month with what matched them; and matched cents per claim carrier and currency."""
    crt = Credit.__table__  # type: ignore[attr-defined]
    mt = CreditMatch.__table__  # type: ignore[attr-defined]
    ct = Claim.__table__  # type: ignore[attr-defined]
    it = Invoice.__table__  # type: ignore[attr-defined]
    rows = list(conn.execute(
        select(crt, it.c.currency.label("inv_currency"))
        .select_from(crt.outerjoin(it, (it.c.carrier == crt.c.carrier) & (it.c.invoice_number == crt.c.invoice_number)))
        .where(crt.c.invoice_date >= first).where(crt.c.invoice_date <= last)
        .order_by(crt.c.invoice_date, crt.c.carrier, crt.c.invoice_number, crt.c.id)))
    matches: dict[int, list[Any]] = {}
    by_claim: dict[tuple[str, str], int] = {}
    for m in conn.execute(
            select(mt.c.credit_id, mt.c.claim_id, mt.c.amount_cents, mt.c.rule, ct.c.carrier, ct.c.currency)
            .select_from(mt.join(crt, crt.c.id == mt.c.credit_id).join(ct, ct.c.id == mt.c.claim_id))
            .where(crt.c.invoice_date >= first).where(crt.c.invoice_date <= last).order_by(mt.c.id)):
        matches.setdefault(m.credit_id, []).append(m)
        k = (m.carrier, m.currency)
        by_claim[k] = by_claim.get(k, 0) + int(m.amount_cents)
    out = []
    for r in rows:
        ms = matches.get(r.id, [])
        matched = sum(int(m.amount_cents) for m in ms)
        currency = r.currency or r.inv_currency or (ms[0].currency if ms else None) or ""
        out.append({
            "id": r.id, "invoice_date": r.invoice_date, "carrier": r.carrier, "invoice_number": r.invoice_number,
            "tracking_number": r.tracking_number, "reference": r.reference, "description": r.description,
            "amount": from_cents(int(r.amount_cents)), "matched": from_cents(matched),
            "unmatched": from_cents(int(r.amount_cents) - matched), "currency": currency,
            "claim_ids": ", ".join(str(m.claim_id) for m in ms),
            "rules": ", ".join(sorted({m.rule for m in ms})),
        })
    return out, by_claim


def _leakage(conn: Any, first: dt.date, last: dt.date, as_of: dt.date) -> list[dict[str, Any]]:
    """Recoverable findings whose window closed in the month (deadline in it, before ``as_of``)
    without a claim filed by then, with the reason (:func:`recoup.leakage.judge_all`)."""
    from recoup.leakage import judge_all

    return [{"finding_id": j.finding_id, "deadline": j.deadline, "carrier": j.carrier, "kind": j.kind,
             "tracking_number": j.tracking_number, "amount": from_cents(j.amount_cents), "currency": j.currency,
             "reason": j.reason, "claim_id": j.claim_id}
            for j in judge_all(conn, as_of, deadline_from=first, deadline_to=last) if j.state == "leaked"]


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


def _spend(conn: Any, first: dt.date, last: dt.date, fallback: dict[str, str]) -> dict[tuple[str, str], int]:
    lt = InvoiceLine.__table__  # type: ignore[attr-defined]
    it = Invoice.__table__  # type: ignore[attr-defined]
    cur = func.coalesce(lt.c.currency, it.c.currency)
    out: dict[tuple[str, str], int] = {}
    for r in conn.execute(select(lt.c.carrier, cur.label("cur"), func.sum(lt.c.amount_cents).label("cents"))
                          .select_from(lt.join(it, it.c.id == lt.c.invoice_id))
                          .where(lt.c.amount_cents > 0)
                          .where(lt.c.invoice_date >= first).where(lt.c.invoice_date <= last)
                          .group_by(lt.c.carrier, cur)):
        k = (r.carrier, r.cur or fallback.get(r.carrier, ""))
        out[k] = out.get(k, 0) + int(r.cents)
    return out


def _shipments(conn: Any, first: dt.date, last: dt.date, fallback: dict[str, str]) -> dict[tuple[str, str], int]:
    st = Shipment.__table__  # type: ignore[attr-defined]
    out: dict[tuple[str, str], int] = {}
    for r in conn.execute(select(st.c.carrier, st.c.currency, func.count().label("n"))
                          .where(st.c.ship_date >= first).where(st.c.ship_date <= last)
                          .group_by(st.c.carrier, st.c.currency)):
        k = (r.carrier, fallback.get(r.carrier) or r.currency or "")
        out[k] = out.get(k, 0) + int(r.n)
    return out


def build_monthly(engine: Engine, month: str, *, as_of: dt.date | None = None,
                  near_days: int = 3, trend_months: int = 6) -> MonthlyReport:
    """The report of one month (``YYYY-MM``); see the module docstring for what counts where."""
    from recoup.claims.service import near_deadline
    from recoup.queries import list_claims, list_findings, recovered

    first, last = month_bounds(month)
    rep = MonthlyReport(month=month, first=first, last=last, as_of=as_of or last, near_days=near_days)

    with engine.connect() as conn:
        main_cur = _carrier_currency(conn)
        spend = _spend(conn, first, last, main_cur)
        shipped = _shipments(conn, first, last, main_cur)
        fdates = _finding_dates(conn)
        created = _claim_created(conn)
        rep.credits, credited = _credits(conn, first, last)
        rep.leakage = _leakage(conn, first, last, rep.as_of)
    rep.unmatched_credits = [c for c in rep.credits if c["unmatched"] > 0]

    rep.near_deadline = [{**r, "deadline": _date(r["deadline"]), "amount": money(r["amount"])}
                         for r in near_deadline(engine, rep.as_of, near_days)]
    near_ids = {r["id"] for r in rep.near_deadline}

    for c in list_claims(engine):
        day = created.get(c["id"])
        if not _in(day, first, last):
            continue
        rep.claims.append({
            "id": c["id"], "created": day, "carrier": c["carrier"], "kind": c["kind"],
            "tracking_number": c["tracking_number"], "status": c["status"], "channel": c["channel"],
            "claimed": money(c["amount"]), "approved": _dec(c["approved"]),
            "credited_to_date": money(c["credited"]), "currency": c["currency"], "deadline": _date(c["deadline"]),
            "filed": _date(c["filed_at"]), "carrier_reference": c["carrier_reference"],
            "near_deadline": c["id"] in near_ids, "finding_id": c["finding_id"],
        })

    for f in list_findings(engine):
        day = fdates.get(f["id"])
        if not _in(day, first, last):
            continue
        rep.findings.append({
            "id": f["id"], "ship_date": day, "kind": f["kind"], "carrier": f["carrier"],
            "tracking_number": f["tracking_number"], "invoice_number": f["invoice_number"],
            "amount": money(f["amount"]), "currency": f["currency"], "claimable": f["claimable"],
            "missed_window": missed_window(f), "deadline": _date(f["deadline"]), "claim_id": f["claim_id"],
            "claim_status": f["claim_status"], "reason": f["reason"],
        })

    ps = parcels(engine, month=month)
    rep.sla = [{"group": "carrier", "service": None, **r} for r in summarise(ps, "carrier")] + \
              [{"group": "service", **r} for r in summarise(ps, "service")]
    rep.sla_weekday = summarise(ps, "weekday")

    rep.summary, rep.totals = _summarise(rep, spend, shipped, credited)

    # recovered by carrier for the trailing months (the HTML chart), through queries.recovered
    y, m = first.year, first.month
    months = []
    for _ in range(max(1, trend_months)):
        months.append(f"{y:04d}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    rep.trend_months = list(reversed(months))
    for mm in rep.trend_months:
        a, b = month_bounds(mm)
        for r in recovered(engine, by="carrier", date_from=a, date_to=b):
            rep.trend.append({"month": mm, "carrier": r["carrier"], "currency": r["currency"],
                              "claimed": money(r["claimed"]), "credited": money(r["credited"])})
    return rep


def _summarise(rep: MonthlyReport, spend: dict[tuple[str, str], int], shipped: dict[tuple[str, str], int],
               credited: dict[tuple[str, str], int]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rows: dict[tuple[str, str], dict[str, Any]] = {}

    def slot(carrier: str, currency: str) -> dict[str, Any]:
        if (carrier, currency) not in rows:
            r: dict[str, Any] = {"carrier": carrier, "currency": currency}
            r.update({k: 0 for k in COUNT_SUMMARY})
            r.update({k: ZERO for k in MONEY_SUMMARY})
            rows[(carrier, currency)] = r
        return rows[(carrier, currency)]

    for k, n in shipped.items():
        slot(*k)["shipments"] += n
    for k, cents in spend.items():
        slot(*k)["spend"] += from_cents(cents)
    for k, cents in credited.items():
        slot(*k)["credited"] += from_cents(cents)
    for f in rep.findings:
        s = slot(f["carrier"], f["currency"])
        s["findings"] += 1
        s["findings_amount"] += f["amount"]
        if f["missed_window"]:
            s["missed_windows"] += 1
            s["missed_amount"] += f["amount"]
    for c in rep.claims:
        if c["status"] == "cancelled":
            continue
        s = slot(c["carrier"], c["currency"])
        s["claims"] += 1
        s["claimed"] += c["claimed"]
        s["approved"] += c["approved"] or ZERO
        s["claims_credited"] += c["credited_to_date"]
        if c["status"] == "rejected":
            s["denied"] += 1
            s["denied_amount"] += c["claimed"]
        elif c["status"] == "expired":
            s["expired"] += 1
            s["expired_amount"] += c["claimed"]
        if c["near_deadline"]:
            s["near_deadline"] += 1
    for c in rep.unmatched_credits:
        slot(c["carrier"], c["currency"])["unmatched_credits"] += c["unmatched"]
    for lk in rep.leakage:
        s = slot(lk["carrier"], lk["currency"])
        s["leaked"] += 1
        s["leaked_amount"] += lk["amount"]

    summary = [rows[k] for k in sorted(rows)]
    totals: dict[str, dict[str, Any]] = {}
    for s in summary:
        t = totals.setdefault(s["currency"], {"carrier": TOTAL, "currency": s["currency"],
                                              **{k: 0 for k in COUNT_SUMMARY}, **{k: ZERO for k in MONEY_SUMMARY}})
        for col in COUNT_SUMMARY + MONEY_SUMMARY:
            t[col] += s[col]
    for s in [*summary, *totals.values()]:
        s["recovery_rate"] = _ratio(s["credited"], s["claimed"])
    return summary, [totals[cur] for cur in sorted(totals)]


# ----------------------------------------------------------------------------- plain values (CSV, HTML)

def plain(v: Any, kind: str = "text") -> str:
    """A value as text: amounts with two decimals, rates as a decimal ratio, dates YYYY-MM-DD,
    booleans true/false, nothing as the empty string."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if kind == "money" and isinstance(v, Decimal):
        return str(v.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def csv_path(path: Path, section: str) -> Path:
    """The file of a section: the summary at ``path`` itself (``recovery-YYYY-MM.csv``, the name the
    spec gives), every other section beside it (``recovery-YYYY-MM-claims.csv``, ...)."""
    path = Path(path)
    return path if section == "summary" else path.with_name(f"{path.stem}-{section.replace('_', '-')}.csv")


def _csv_cell(v: Any, kind: str) -> str:
    """A value for the spreadsheet CSV: text that could run as a formula gets a leading ``'``."""
    text = plain(v, kind)
    if not isinstance(v, str):
        return text
    # Python 3.11's csv module does not quote a lone CR when the line ends in LF: it would split the
    # row in a spreadsheet, so a CR in carrier text is written as a line break inside the cell.
    return neutralise(text).replace("\r\n", "\n").replace("\r", "\n")


def write_csv_files(report: MonthlyReport, path: Path) -> list[Path]:
    """One CSV per section, as a spreadsheet user expects (one table per file, its own columns):
    ``recovery-YYYY-MM.csv`` the summary per carrier and currency with the per-currency TOTAL rows
    last (``carrier`` = ``TOTAL``), then ``recovery-YYYY-MM-<section>.csv`` for claims, findings,
    credits, unmatched-credits, sla, near-deadline and leakage (:func:`csv_path`), each written even
    when empty (its header alone), so the set of files never depends on the month. Amounts are decimal
    strings with two decimals in the row's ``currency``; rates are ratios (0.5289 = 52.89 %). Text
    that a spreadsheet would run as a formula (leading ``=``, ``+``, ``-``, ``@``, tab, CR) is
    prefixed with ``'`` (:func:`recoup.reports.cells.neutralise`)."""
    out = []
    for sec in SECTIONS:
        p = csv_path(path, sec)
        with p.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow([c.key for c in COLUMNS[sec]])
            for r in report.rows(sec):
                w.writerow([_csv_cell(r.get(c.key), c.kind) for c in COLUMNS[sec]])
        out.append(p)
    return out


def write_csv(report: MonthlyReport, path: Path) -> Path:
    """The CSV files (:func:`write_csv_files`); the summary's path."""
    return write_csv_files(report, Path(path))[0]


def write_xlsx(report: MonthlyReport, path: Path) -> Path:
    """The workbook (see :mod:`recoup.reports.xlsx`)."""
    from recoup.reports.xlsx import write_xlsx as w

    return w(report, Path(path))


def write_html(report: MonthlyReport, path: Path) -> Path:
    """One self-contained HTML file (see :mod:`recoup.reports.html`)."""
    from recoup.reports.html import write_html as w

    return w(report, Path(path))


WRITERS = {"xlsx": write_xlsx, "html": write_html, "csv": write_csv}


def parse_formats(text: str | Iterable[str]) -> list[str]:
    """``"xlsx,html"`` → ``["xlsx", "html"]``; ValueError naming an unknown format."""
    items = text.split(",") if isinstance(text, str) else list(text)
    out = []
    for f in (i.strip().lower() for i in items):
        if not f:
            continue
        if f not in FORMATS:
            raise ValueError(f"unknown report format {f!r}: one of {', '.join(FORMATS)}")
        if f not in out:
            out.append(f)
    if not out:
        raise ValueError(f"no report format: one or more of {', '.join(FORMATS)}")
    return out


def write_monthly(engine: Engine, month: str, out_dir: Path, *, formats: Sequence[str] = FORMATS,
                  as_of: dt.date | None = None, near_days: int = 3) -> list[Path]:
    """Build the report and write ``out_dir/recovery-YYYY-MM.<format>`` for each format; the paths."""
    rep = build_monthly(engine, month, as_of=as_of, near_days=near_days)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for f in parse_formats(formats):
        target = out_dir / f"recovery-{month}.{f}"
        paths += write_csv_files(rep, target) if f == "csv" else [WRITERS[f](rep, target)]
    return paths


def summary_json(report: MonthlyReport) -> str:
    """The summary and totals as JSON (amounts as two-decimal strings, rates as numbers), e.g. for
    ``recoup demo``."""
    from recoup.output import json_ratio

    cols = COLUMNS["summary"]
    return json.dumps([{c.key: (json_ratio(r.get(c.key)) if c.kind == "rate" else
                                plain(r.get(c.key), c.kind) if c.kind in ("money", "date")
                                else r.get(c.key)) for c in cols} for r in report.rows("summary")], indent=1)
