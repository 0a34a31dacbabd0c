"""Benchmark: ingest of N canonical scan rows (default 1,000,000) into SQLite and PostgreSQL.

Reports rows/s and peak memory (max RSS of the child doing the work) beside the time of
`sqlite3`'s own `.import` of the same file into a table with the same unique scan key (the SQLite
floor) and of `psql \\copy` of the same file into a table with that key (the PostgreSQL floor), both
measured in the same run. Target: within 3x of each floor, < 1 GB (issue 17).

    python bench/bench_ingest.py [--rows N] [--csv PATH] [--pg URL | --no-pg] [--no-sqlite] [--pg-role ROLE]
                                 [--chunk-bytes N]

On PostgreSQL a second floor is measured too: ``\\copy`` into a table shaped like ``scan_event``
(typed columns, a serial id, the scan key and a foreign key to a file row), the same work the store
does. Run as a superuser, recoup skips the per-row check of the foreign key to the file row its own
transaction inserted; ``--pg-role ROLE`` also times a load as ROLE (an existing role allowed to create
in the database, not a superuser), for which the server checks every row.

``--csv PATH`` reuses the file there (generated once when missing) instead of a temporary one.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path

STATUSES = ["label_created", "picked_up", "in_transit", "in_transit", "out_for_delivery", "delivered"]


def generate(path: Path, rows: int, seed: int = 1) -> None:
    rnd = random.Random(seed)
    base = datetime(2026, 9, 1, tzinfo=UTC)
    with open(path, "w", encoding="utf-8") as f:
        f.write("tracking_number,carrier,occurred_at,status,carrier_status_code,description,city,postal,country,"
                "exception_reason\n")
        n = 0
        parcel = 0
        while n < rows:
            parcel += 1
            tn = f"1Z{parcel:016d}"
            t = base + timedelta(minutes=rnd.randrange(0, 60 * 24 * 60))
            off = rnd.choice([-4, -5, -6, -7])
            for st in STATUSES * 2:
                if n >= rows:
                    break
                t += timedelta(minutes=rnd.randrange(30, 600))
                local = (t + timedelta(hours=off)).strftime("%Y-%m-%dT%H:%M:%S") + f"{off:+03d}:00"
                f.write(f"{tn},ups,{local},{st},XX,Scan text,CHICAGO,60607,US,\n")
                n += 1


COPY_COLUMNS = ("tracking_number, carrier, occurred_at, status, carrier_status_code, description, city, postal, "
                "country, exception_reason")
FLOOR_TABLE = ("CREATE TABLE scans (tracking_number TEXT, carrier TEXT, occurred_at TEXT, status TEXT, "
               "carrier_status_code TEXT, description TEXT, city TEXT, postal TEXT, country TEXT, "
               "exception_reason TEXT, UNIQUE (carrier, tracking_number, occurred_at, status))")


def child(db: str, csv: str, chunk_bytes: str = "0") -> None:
    from recoup.clock import SystemClock
    from recoup.ingest.service import ingest_files
    from recoup.store.db import init_db, make_engine

    eng = make_engine(db)
    init_db(eng)
    t = time.perf_counter()
    (s,) = ingest_files(eng, "scans", [Path(csv)], clock=SystemClock(), chunk_bytes=int(chunk_bytes) or None)
    dt = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": dt, "stored": s.stored, "rejected": s.rejected, "peak_bytes": peak}))


def run_child(db: str, csv: Path, chunk_bytes: int = 0) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", db, str(csv), str(chunk_bytes)], capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def floor(csv: Path, tmp: Path) -> float | None:
    """sqlite3's own .import of the file into a table with the scan key (WAL, synchronous=NORMAL as recoup)."""
    if not shutil.which("sqlite3"):
        return None
    db = tmp / "floor.db"
    t = time.perf_counter()
    subprocess.run(["sqlite3", str(db), "PRAGMA journal_mode=WAL;", "PRAGMA synchronous=NORMAL;", FLOOR_TABLE,
                    ".mode csv", f".import --skip 1 {csv} scans"], check=True, capture_output=True)
    return time.perf_counter() - t


# the same work as recoup's scan_event: typed columns, a serial id, the scan key, a foreign key to a file row
FAIR_TABLE = ("CREATE TABLE files (id INTEGER PRIMARY KEY); INSERT INTO files VALUES (1); "
              "CREATE TABLE scans (tracking_number VARCHAR NOT NULL, carrier VARCHAR NOT NULL, "
              "occurred_at TIMESTAMPTZ NOT NULL, status VARCHAR NOT NULL, carrier_status_code VARCHAR, "
              "description VARCHAR, city VARCHAR, postal VARCHAR, country VARCHAR, exception_reason VARCHAR, "
              "id SERIAL PRIMARY KEY, utc_offset_min INTEGER, source VARCHAR DEFAULT 'canonical', "
              "file_id INTEGER DEFAULT 1 REFERENCES files (id), UNIQUE (carrier, tracking_number, occurred_at, status))")


def pg_floor(url: str, csv: Path, fair: bool = False) -> float | None:
    """psql's \\copy of the file into a table with the scan key, in a schema of its own (dropped after).
    ``fair``: into a table shaped like scan_event (types, serial id, scan key, foreign key) instead."""
    if not shutil.which("psql"):
        return None
    raw = url.replace("postgresql+psycopg://", "postgresql://")
    sql = ("DROP SCHEMA IF EXISTS bench_floor CASCADE; CREATE SCHEMA bench_floor; SET search_path TO bench_floor; "
           f"{FAIR_TABLE if fair else FLOOR_TABLE};")
    subprocess.run(["psql", raw, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True, capture_output=True)
    t = time.perf_counter()
    subprocess.run(["psql", raw, "-q", "-v", "ON_ERROR_STOP=1", "-c", "SET search_path TO bench_floor",
                    "-c", f"\\copy scans ({COPY_COLUMNS}) FROM '{csv}' WITH (FORMAT csv, HEADER true)"], check=True, capture_output=True)
    took = time.perf_counter() - t
    subprocess.run(["psql", raw, "-q", "-c", "DROP SCHEMA IF EXISTS bench_floor CASCADE"], check=True,
                   capture_output=True)
    return took


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--csv", type=Path, help="the generated file to reuse (written when missing)")
    ap.add_argument("--pg", default=os.environ.get("RECOUP_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--no-pg", action="store_true")
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--pg-role", help="also ingest as this existing non-superuser role (its foreign-key checks "
                                      "run row by row)")
    ap.add_argument("--chunk-bytes", type=int, default=0, help="streaming block size (default: recoup's)")
    ap.add_argument("--child", nargs="+")
    a = ap.parse_args()
    if a.child:
        child(*a.child)
        return
    tmp = Path(tempfile.mkdtemp(prefix="recoup-bench-"))
    try:
        csv = a.csv or tmp / "scans.csv"
        if not csv.exists():
            generate(csv, a.rows)
        with open(csv, "rb") as f:
            rows = sum(1 for _ in f) - 1
        print(f"rows: {rows:,}  file: {csv.stat().st_size / 1e6:.0f} MB  load average {os.getloadavg()[0]:.1f}")
        if not a.no_sqlite:
            _sqlite(csv, tmp, rows, a.chunk_bytes)
        if a.pg and not a.no_pg:
            _pg(a.pg, csv, rows, a.chunk_bytes, a.pg_role)
    finally:
        shutil.rmtree(tmp)


def _sqlite(csv: Path, tmp: Path, rows: int, chunk_bytes: int) -> None:
    fl = floor(csv, tmp)
    if fl:
        print(f"sqlite3 .import (floor):   {fl:.1f} s  {rows / fl:,.0f} rows/s")
    r = run_child(f"sqlite:///{tmp / 'bench.db'}", csv, chunk_bytes)
    ratio = f"  {r['seconds'] / fl:.1f}x the floor" if fl else ""
    print(f"recoup ingest, SQLite:     {r['seconds']:.1f} s  {rows / r['seconds']:,.0f} rows/s  "
          f"peak {r['peak_bytes'] / 2**20:.0f} MiB{ratio}  stored {r['stored']:,}")


def _pg(pg: str, csv: Path, rows: int, chunk_bytes: int, role: str | None) -> None:
    try:
        import psycopg
        from sqlalchemy.engine import make_url

        raw = pg.replace("postgresql+psycopg://", "postgresql://")
        fl = pg_floor(pg, csv)
        if fl:
            print(f"psql \\copy (floor):       {fl:.1f} s  {rows / fl:,.0f} rows/s")
        fair = pg_floor(pg, csv, fair=True)
        if fair:
            print(f"psql \\copy, scan_event-like table (types, id, key, foreign key): {fair:.1f} s  "
                  f"{rows / fair:,.0f} rows/s")
        for who in [None, *([role] if role else [])]:
            with psycopg.connect(raw, autocommit=True) as c:
                c.execute("DROP SCHEMA IF EXISTS bench_ingest CASCADE")
                c.execute("CREATE SCHEMA bench_ingest" + (f" AUTHORIZATION {who}" if who else ""))
            try:
                url = pg if who is None else make_url(pg).set(username=who).render_as_string(hide_password=False)
                url += ("&" if "?" in url else "?") + "options=-csearch_path%3Dbench_ingest"
                r = run_child(url, csv, chunk_bytes)
                ratio = f"  {r['seconds'] / fl:.1f}x the floor" if fl else ""
                ratio += f", {r['seconds'] / fair:.1f}x the scan_event-like floor" if fair else ""
                label = "recoup ingest, PostgreSQL:" + (f" (as role {who}, not a superuser)" if who else "")
                print(f"{label} {r['seconds']:.1f} s  {rows / r['seconds']:,.0f} rows/s  "
                      f"peak {r['peak_bytes'] / 2**20:.0f} MiB{ratio}  stored {r['stored']:,}")
            finally:
                with psycopg.connect(raw, autocommit=True) as c:
                    c.execute("DROP SCHEMA IF EXISTS bench_ingest CASCADE")
    except Exception as e:  # a benchmark reports and goes on
        print(f"PostgreSQL skipped: {type(e).__name__}: {e}")


if __name__ == "__main__":
    main()
