"""The demo data set's files: the manifest, the scans, the invoices, the credit notes, planted.json."""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
from pathlib import Path

from recoup.demo.generate.basics import BILLING_KINDS, CREDIT_DATE, SERVICE_KINDS, Planted, cents_text
from recoup.demo.generate.billing import new_invoice_number
from recoup.demo.generate.merchant import PROFILES
from recoup.demo.generate.parcels import Line, Parcel
from recoup.demo.generate.showcase import SHOWCASE_KINDS

SHIPMENT_COLUMNS = [
    "tracking_number", "carrier", "service", "account_number", "ship_date", "promised_delivery",
    "origin_postal", "origin_country", "dest_postal", "dest_country", "dest_residential",
    "address_validated", "weight", "weight_unit", "length", "width", "height", "dim_unit",
    "declared_value", "item_value", "currency", "dest_timezone", "order_id", "signature",
]
SCAN_COLUMNS = ["tracking_number", "carrier", "occurred_at", "status", "carrier_status_code", "description",
                "city", "postal", "country", "exception_reason"]
INVOICE_COLUMNS = ["invoice_number", "invoice_date", "carrier", "account_number", "currency", "tracking_number",
                   "charge_type", "amount", "billed_weight", "weight_unit", "zone", "service", "ship_date",
                   "reference", "description", "adjustment"]


def write_files(folder: Path, parcels: list[Parcel], invoices: dict[tuple[str, str], tuple[dt.date, list[tuple[Parcel, Line]]]],
           credit_rows: list[tuple[Parcel, str, int]], planted: list[Planted]) -> dict[str, int]:
    counts = {"shipments": len(parcels), "scans": 0, "invoices": 0, "invoice_lines": 0, "credit_notes": 0,
              "credit_lines": len(credit_rows)}
    with (folder / "shipments.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(SHIPMENT_COLUMNS)
        for p in parcels:
            us = p.prof.origin.country == "US"
            w.writerow([
                p.tracking, p.prof.code, p.service, p.prof.account, p.ship.isoformat(),
                p.promised.isoformat() if p.promised else "", p.prof.origin.postal, p.prof.origin.country,
                p.dest.postal, p.dest.country, str(p.residential).lower(), str(p.validated).lower(),
                str(p.weight), p.terms.weight_unit, *(str(d) for d in p.dims), p.terms.dim_unit,
                cents_text(p.declared_cents), cents_text(p.item_cents), p.terms.currency,
                p.dest.tz if us else "", p.order_id, p.signature,
            ])
    scans = []
    for p in parcels:
        for seq, e in enumerate(p.events):
            code, text = p.prof.codes.get(e.step, ("", ""))
            scans.append((e.at.astimezone(dt.UTC), p.tracking, seq, [
                p.tracking, p.prof.code, e.at.isoformat(timespec="seconds"), e.status, code, text, e.city, e.postal,
                e.country, e.reason]))
    scans.sort(key=lambda s: (s[0], s[1], s[2]))
    counts["scans"] = len(scans)
    with (folder / "scans.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(SCAN_COLUMNS)
        w.writerows(s[3] for s in scans)

    (folder / "invoices").mkdir(exist_ok=True)
    for (carrier, number), (day, rows) in invoices.items():
        if not rows:
            continue
        counts["invoices"] += 1
        counts["invoice_lines"] += len(rows)
        path = folder / "invoices" / f"{carrier.upper()}-{day.strftime('%Y%m%d')}-{number}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(INVOICE_COLUMNS)
            for p, ln in rows:
                w.writerow([number, day.isoformat(), carrier, p.prof.account, p.terms.currency, p.tracking,
                            ln.charge_type, cents_text(ln.cents), "" if ln.billed_weight is None else str(ln.billed_weight),
                            p.terms.weight_unit if ln.billed_weight is not None else "", ln.zone or "",
                            ln.service or p.service, p.ship.isoformat(), "", ln.description, ln.adjustment or ""])

    (folder / "credits").mkdir(exist_ok=True)
    rng = random.Random(f"credits:{len(parcels)}")
    for prof in PROFILES:
        mine = sorted((c for c in credit_rows if c[0].prof is prof), key=lambda c: (c[0].tracking, c[1]))
        if not mine:
            continue
        counts["credit_notes"] += 1
        number = f"{new_invoice_number(prof, CREDIT_DATE, rng)}-CR"
        path = folder / "credits" / f"{prof.code.upper()}-{CREDIT_DATE.strftime('%Y%m%d')}-{number}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(INVOICE_COLUMNS)
            for p, text, cents in mine:
                w.writerow([number, CREDIT_DATE.isoformat(), prof.code, prof.account, p.terms.currency, p.tracking,
                            "credit", cents_text(-cents), "", "", "", "", "", f"ADJ-{rng.randrange(10**7):07d}", text,
                            ""])

    order = {k: i for i, k in enumerate((*SERVICE_KINDS, *BILLING_KINDS, *SHOWCASE_KINDS))}
    listed = sorted(planted, key=lambda f: (order.get(f.kind, len(order)), f.carrier, f.tracking_number, f.invoice_number or "",
                                            f.amount_cents or 0))
    (folder / "planted.json").write_text(json.dumps([f.as_dict() for f in listed], indent=1) + "\n", encoding="utf-8")
    return counts
