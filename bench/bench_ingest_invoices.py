"""Benchmark: ingest of a UPS Billing Data file and of a FedEx Billing Online CSV of N lines each
(default 1,000,000) into SQLite, with time and peak memory (max RSS of the child doing the work)
beside the time of `sqlite3`'s own `.import` of the same file into a table of as many text columns
(the floor), measured in the same run (issue 17). With ``--pg URL``, the same on PostgreSQL: recoup
into a fresh schema of that database, beside ``psql \\copy`` of the same file into a table of as many
text columns (the PostgreSQL floor), in the same run; ``--no-sqlite`` leaves SQLite out.

    python bench/bench_ingest_invoices.py [--rows N] [--formats ups,fedex] [--dir PATH]
                                          [--chunk-bytes N] [--whole] [--pg URL] [--no-sqlite]

``--dir PATH`` keeps the generated files there (reused when present). ``--whole`` also times the
whole-file path (``chunk_bytes=0``, as before issue 17) for the peak it needs. ``--chunk-bytes``
sets the batch size (default: recoup's ``INVOICE_CHUNK_BYTES``, for files above ``INVOICE_STREAM_ABOVE``).

The files have the shape the readers read. UPS Billing Data: headerless, 250 columns, invoices of
about 5,000 parcels (one account, weekly), per parcel a transportation row (FRT, billed weight,
zone, service), fuel, often residential and delivery-area rows, an incentive row (folded into the
transportation line), now and then an informational row (INF) or an address correction, and per
invoice a few account-level rows (no tracking number). FedEx: the Billing Online header (155
columns: the named columns, then 25 ``Tracking ID Charge Description/Amount`` pairs), one row per
parcel, invoices of about 5,000 rows, with fuel, residential and discount pairs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

PARCELS_PER_INVOICE = 5_000

# ----------------------------------------------------------------------- UPS Billing Data

UPS_COLUMNS = 250
# 0-based positions the reader uses (recoup.invoices.ups_billing)
(ACCOUNT, INV_DATE, INV_NO, CURRENCY, INV_AMOUNT, TXN_DATE, PICKUP, LEAD, TRACKING, BILL_W, BILL_U, ZONE,
 CATEGORY, DETAIL, CLASS, CODE, DESC, NET, SHIP_DATE, MISC1) = (
    2, 4, 5, 9, 10, 11, 12, 13, 20, 28, 29, 33, 34, 35, 43, 44, 45, 52, 116, 174)
SERVICES = [("001", "Next Day Air"), ("002", "2nd Day Air"), ("003", "Ground"), ("012", "3 Day Select")]


def _money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def generate_ups(path: Path, rows: int, seed: int = 1) -> None:
    rnd = random.Random(seed)
    template = [""] * UPS_COLUMNS
    template[0], template[1], template[3], template[6] = "2.1", "0000A1B2C3", "US", "E"
    template[ACCOUNT], template[CURRENCY] = "UPS-001", "USD"
    written = parcel = 0
    invoice = -1
    with open(path, "w", encoding="utf-8", newline="") as f:
        buf: list[str] = []

        def put(row: list[str]) -> None:
            nonlocal written
            if written < rows:
                buf.append(",".join(row))
                written += 1

        while written < rows:
            if parcel % PARCELS_PER_INVOICE == 0:
                invoice += 1
                inv_date = date(2026, 1, 3) + timedelta(days=7 * (invoice % 52))
                template[INV_DATE] = inv_date.isoformat()
                template[INV_NO] = f"0000A1B2C3{invoice:06d}"
                for code, text, cents in (("SVCH", "Service Charge", 1500), ("SVCH", "Payment Processing Fee", 295)):
                    row = template.copy()
                    row[TXN_DATE], row[CATEGORY], row[DETAIL] = inv_date.isoformat(), "MIS", code
                    row[CLASS], row[CODE], row[DESC], row[NET] = "MSC", code, text, _money(cents)
                    put(row)
            parcel += 1
            ship = (inv_date - timedelta(days=rnd.randint(3, 9))).isoformat()
            tracking = f"1Z{parcel:016X}"
            code, service = rnd.choice(SERVICES)
            transport = rnd.randint(8_00, 150_00)
            charges = [("SHP", "", "FRT", code, service, transport)]
            charges.append(("SHP", "", "ACC", "SIM", "Special Incentive Modifier", -transport * 3 // 10))
            charges.append(("SHP", "", "FSC", "FSC", "Fuel Surcharge", transport * 19 // 100))
            if rnd.random() < 0.5:
                charges.append(("SHP", "", "ACC", "RES", "Residential Surcharge", 595))
            if rnd.random() < 0.1:
                charges.append(("SHP", "", "ACC", "RDR", "Delivery Area Surcharge - Residential", 550))
            if rnd.random() < 0.05:
                charges.append(("INF", "", "INF", "", "Shipper Paid Information", transport))
            if rnd.random() < 0.02:
                charges.append(("ADJ", "ADC", "ACC", "ADC", "Address Correction Ground", 24_50))
            for category, detail, klass, ccode, text, cents in charges:
                row = template.copy()
                row[TXN_DATE] = ship
                row[LEAD] = row[TRACKING] = tracking
                row[CATEGORY], row[DETAIL], row[CLASS], row[CODE], row[DESC] = category, detail, klass, ccode, text
                row[NET] = _money(cents)
                if klass == "FRT":
                    row[BILL_W], row[BILL_U], row[ZONE] = str(rnd.randint(1, 70)), "L", f"{rnd.randint(2, 8):03d}"
                put(row)
            if len(buf) >= 20_000:
                f.write("\n".join(buf) + "\n")
                buf.clear()
        if buf:
            f.write("\n".join(buf) + "\n")


# ----------------------------------------------------------------------- FedEx Billing Online

FEDEX_NAMED = [
    "Bill to Account Number", "Invoice Date", "Invoice Number", "Store ID", "Original Amount Due",
    "Current Balance", "Payor", "Ground Tracking ID Prefix", "Express or Ground Tracking ID",
    "Transportation Charge Amount", "Net Charge Amount", "Service Type", "Ground Service", "Shipment Date",
    "POD Delivery Date", "POD Delivery Time", "POD Service Area Code", "POD Signature Description",
    "Actual Weight Amount", "Actual Weight Units", "Rated Weight Amount", "Rated Weight Units",
    "Number of Pieces"]
ZONE_AT = 63
FEDEX_PAIRS = 25
FEDEX_HEADER = [*FEDEX_NAMED, *(f"Column {i}" for i in range(len(FEDEX_NAMED), 105))]
FEDEX_HEADER[ZONE_AT] = "Zone Code"
FEDEX_HEADER += ["Tracking ID Charge Description", "Tracking ID Charge Amount"] * FEDEX_PAIRS
FEDEX_SERVICES = ["Priority Overnight", "FedEx 2Day", "Standard Overnight", "Ground", "Home Delivery"]


def generate_fedex(path: Path, rows: int, seed: int = 1) -> None:
    rnd = random.Random(seed)
    width = len(FEDEX_HEADER)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(FEDEX_HEADER) + "\n")
        buf: list[str] = []
        for i in range(rows - 1):
            invoice = i // PARCELS_PER_INVOICE
            inv_date = date(2026, 1, 3) + timedelta(days=7 * (invoice % 52))
            row = [""] * width
            transport = rnd.randint(8_00, 150_00)
            pairs = [("Fuel Surcharge", transport * 19 // 100)]
            if rnd.random() < 0.5:
                pairs.append(("Residential Delivery Charge", 610))
            if rnd.random() < 0.1:
                pairs.append(("Delivery Area Surcharge Residential", 435))
            if rnd.random() < 0.6:
                pairs.append(("Discount", -transport * 3 // 10))
            row[0], row[1], row[2] = "FEDEX-001", f"{inv_date:%Y%m%d}", f"7-{invoice:06d}"
            row[6], row[8] = "Shipper", f"{700000000000 + i}"
            row[9], row[10] = _money(transport), _money(transport + sum(c for _, c in pairs))
            row[11] = rnd.choice(FEDEX_SERVICES)
            row[13] = f"{inv_date - timedelta(days=rnd.randint(3, 9)):%Y%m%d}"
            row[18] = row[20] = str(rnd.randint(1, 70))
            row[19] = row[21] = "L"
            row[22] = "1"
            row[ZONE_AT] = f"{rnd.randint(2, 8):02d}"
            for k, (text, cents) in enumerate(pairs):
                row[105 + 2 * k], row[106 + 2 * k] = text, _money(cents)
            buf.append(",".join(row))
            if len(buf) >= 20_000:
                f.write("\n".join(buf) + "\n")
                buf.clear()
        if buf:
            f.write("\n".join(buf) + "\n")


# ----------------------------------------------------------------------- measuring


def child(db: str, path: str, chunk_bytes: str) -> None:
    from recoup.clock import SystemClock
    from recoup.ingest.service import ingest_files
    from recoup.store.db import init_db, make_engine

    eng = make_engine(db)
    init_db(eng)
    t, c = time.perf_counter(), time.process_time()
    (s,) = ingest_files(eng, "invoices", [Path(path)], clock=SystemClock(),
                        chunk_bytes=None if chunk_bytes == "default" else int(chunk_bytes))
    took = time.perf_counter() - t
    cpu = time.process_time() - c
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": took, "cpu": cpu, "read": s.read, "stored": s.stored, "rejected": s.rejected,
                      "refused": s.refused, "invoices": len(s.invoices), "peak_bytes": peak}))


def run_child(db: str, path: Path, chunk_bytes: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", db, str(path), chunk_bytes], capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def floor(path: Path, tmp: Path, columns: int, skip: int) -> float | None:
    """sqlite3's own .import of the file into a table of ``columns`` text columns (WAL, synchronous=NORMAL)."""
    if not shutil.which("sqlite3"):
        return None
    db = tmp / "floor.db"
    db.unlink(missing_ok=True)
    table = "CREATE TABLE lines (" + ", ".join(f"c{i} TEXT" for i in range(columns)) + ")"
    t, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(["sqlite3", str(db), "PRAGMA journal_mode=WAL;", "PRAGMA synchronous=NORMAL;", table,
                    ".mode csv", f".import --skip {skip} {path} lines"], check=True, capture_output=True)
    took = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"  (sqlite3 .import cpu {after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime:.1f} s)")
    return took


def pg_floor(url: str, path: Path, columns: int, header: bool) -> float | None:
    """psql's \\copy of the file into a table of ``columns`` text columns, in a schema of its own
    (dropped after)."""
    if not shutil.which("psql"):
        return None
    raw = url.replace("postgresql+psycopg://", "postgresql://")
    table = "CREATE TABLE lines (" + ", ".join(f"c{i} TEXT" for i in range(columns)) + ")"
    sql = f"DROP SCHEMA IF EXISTS bench_floor CASCADE; CREATE SCHEMA bench_floor; SET search_path TO bench_floor; {table};"
    _psql(raw, sql)
    t = time.perf_counter()
    _psql(raw, "SET search_path TO bench_floor",
          f"\\copy lines FROM '{path}' WITH (FORMAT csv, HEADER {str(header).lower()})")
    took = time.perf_counter() - t
    _psql(raw, "DROP SCHEMA IF EXISTS bench_floor CASCADE", stop=False)
    return took


def _psql(raw: str, *commands: str, stop: bool = True) -> None:
    """Run ``commands`` (each a ``-c``) in one psql session; ``stop``: fail on the first error."""
    flags = ["-v", "ON_ERROR_STOP=1"] if stop else []
    subprocess.run(["psql", raw, "-q", *flags, *(x for c in commands for x in ("-c", c))], check=True,
                   capture_output=True)


def run_pg(url: str, path: Path, chunk: str) -> dict[str, Any]:
    """recoup's ingest into a fresh schema ``bench_ingest`` of the database (dropped after)."""
    import psycopg

    raw = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(raw, autocommit=True) as c:
        c.execute("DROP SCHEMA IF EXISTS bench_ingest CASCADE")
        c.execute("CREATE SCHEMA bench_ingest")
    try:
        r = run_child(url + ("&" if "?" in url else "?") + "options=-csearch_path%3Dbench_ingest", path, chunk)
        r["same_work"] = same_work_floor(raw)
        return r
    finally:
        with psycopg.connect(raw, autocommit=True) as c:
            c.execute("DROP SCHEMA IF EXISTS bench_ingest CASCADE")


LINE_COLUMNS = ("invoice_id, line_no, carrier, invoice_number, invoice_date, tracking_number, charge_type, "
                "amount_cents, currency, billed_weight, weight_unit, zone, service, ship_date, reference, description, "
                "account_number, adjustment")


def same_work_floor(raw: str) -> float | None:
    """psql's \\copy of the invoice lines recoup stored (exported as CSV) into an empty table like
    ``invoice_line`` (its types, serial id, unique key and indexes; no foreign key), in a schema of its own."""
    if not shutil.which("psql"):
        return None
    with tempfile.NamedTemporaryFile(suffix=".csv") as f:
        _psql(raw, f"\\copy (SELECT {LINE_COLUMNS} FROM bench_ingest.invoice_line ORDER BY id) TO '{f.name}' "
                   "WITH (FORMAT csv)")
        _psql(raw, "DROP SCHEMA IF EXISTS bench_floor CASCADE; CREATE SCHEMA bench_floor; "
                   "CREATE TABLE bench_floor.lines (LIKE bench_ingest.invoice_line INCLUDING ALL)")
        t = time.perf_counter()
        _psql(raw, f"\\copy bench_floor.lines ({LINE_COLUMNS}) FROM '{f.name}' WITH (FORMAT csv)")
        took = time.perf_counter() - t
    _psql(raw, "DROP SCHEMA IF EXISTS bench_floor CASCADE", stop=False)
    return took


def _report(label: str, r: dict[str, Any], lines: int, fl: float | None) -> None:
    ratio = f"  {r['seconds'] / fl:.1f}x the floor" if fl else ""
    if r.get("same_work"):
        ratio += (f" ({r['same_work']:.1f} s to \\copy the {r['stored']:,} lines it stored into a table like "
                  f"invoice_line: {r['seconds'] / r['same_work']:.1f}x that)")
    print(f"  recoup ingest, {label + ':':11s} {r['seconds']:6.1f} s  {lines / r['seconds']:,.0f} lines/s  "
          f"peak {r['peak_bytes'] / 2**20:,.0f} MiB{ratio}  read {r['read']:,}  stored {r['stored']:,}  "
          f"invoices {r['invoices']}  rejected {r['rejected']}  refused {r['refused']}  cpu {r['cpu']:.1f} s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--formats", default="ups,fedex")
    ap.add_argument("--dir", type=Path, help="keep the generated files here (reused when present)")
    ap.add_argument("--chunk-bytes", default="default", help="batch size in bytes (default: recoup's)")
    ap.add_argument("--whole", action="store_true", help="also time the whole-file path (chunk_bytes=0)")
    ap.add_argument("--pg", help="also on PostgreSQL: a database URL (a schema bench_ingest is made and dropped)")
    ap.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    ap.add_argument("--child", nargs="+")
    a = ap.parse_args()
    if a.child:
        child(*a.child)
        return
    tmp = Path(tempfile.mkdtemp(prefix="recoup-bench-inv-"))
    where = a.dir or tmp
    where.mkdir(parents=True, exist_ok=True)
    try:
        for name in a.formats.split(","):
            path = where / f"{name}-{a.rows}.csv"
            if not path.exists():
                (generate_ups if name == "ups" else generate_fedex)(path, a.rows)
            with open(path, "rb") as f:
                lines = sum(1 for _ in f)
            print(f"{name}: {lines:,} lines  file {path.stat().st_size / 2**20:.0f} MiB  "
                  f"load average {os.getloadavg()[0]:.1f}")
            columns = UPS_COLUMNS if name == "ups" else len(FEDEX_HEADER)
            runs = [("batched", a.chunk_bytes)] + ([("whole file", "0")] if a.whole else [])
            if not a.no_sqlite:
                fl = floor(path, tmp, columns, 0 if name == "ups" else 1)
                if fl:
                    print(f"  sqlite3 .import (floor):  {fl:6.1f} s  {lines / fl:,.0f} lines/s")
                for label, chunk in runs:
                    db = tmp / f"bench-{name}-{chunk}.db"
                    _report(label, run_child(f"sqlite:///{db}", path, chunk), lines, fl)
                    db.unlink(missing_ok=True)
            if a.pg:
                fl = pg_floor(a.pg, path, columns, header=name != "ups")
                if fl:
                    print(f"  psql \\copy (floor):       {fl:6.1f} s  {lines / fl:,.0f} lines/s")
                for label, chunk in runs:
                    _report(f"PostgreSQL, {label}", run_pg(a.pg, path, chunk), lines, fl)
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
