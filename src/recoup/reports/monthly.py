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
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from recoup.money import ZERO, from_cents, money
from recoup.reports.cells import neutralise
from recoup.reports.monthly_model import (
    COLUMNS,
    COUNT_SUMMARY,
    DATE_RULES,
    LEAKAGE_GROUPS,
    MONEY_SUMMARY,
    SECTIONS,
    TOTAL,
    Col,
    MonthlyReport,
    leakage_groups,
)
from recoup.reports.monthly_queries import (
    _carrier_currency,
    _claim_created,
    _credits,
    _date,
    _dec,
    _finding_dates,
    _leakage,
    _shipments,
    _spend,
)
from recoup.reports.sla import month_bounds, parcels, summarise

__all__ = [
    "COLUMNS", "COUNT_SUMMARY", "DATE_RULES", "FORMATS", "LEAKAGE_GROUPS", "MONEY_SUMMARY", "RATE", "SECTIONS",
    "TOTAL", "WRITERS", "Col", "MonthlyReport", "build_monthly", "csv_path", "leakage_groups", "missed_window",
    "parse_formats", "plain", "summary_json", "write_csv", "write_csv_files", "write_html", "write_monthly",
    "write_xlsx",
]

FORMATS = ("xlsx", "html", "csv")
RATE = Decimal("0.0001")


def _in(d: dt.date | None, first: dt.date, last: dt.date) -> bool:
    return d is not None and first <= d <= last


def missed_window(f: dict[str, Any]) -> bool:
    """A finding that is real but was not claimable because its filing window had closed."""
    return (not f["claimable"]) and f.get("deadline") is not None and "not claimable:" not in (f.get("reason") or "")


def _ratio(num: Decimal, den: Decimal) -> Decimal | None:
    return (num / den).quantize(RATE, rounding=ROUND_HALF_UP) if den else None


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
