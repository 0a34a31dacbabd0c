"""Benchmark: ingest of N canonical scan rows (default 1,000,000) into SQLite and PostgreSQL.

Reports rows/s and peak memory (max RSS of the child doing the work) beside the time of
`sqlite3`'s own `.import` of the same file (the floor). Target: within 3x of the floor, < 1 GB.

    python bench/bench_ingest.py [--rows N] [--pg URL]
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


def child(db: str, csv: str) -> None:
    from recoup.ingest.service import ingest_files
    from recoup.store.db import init_db, make_engine

    eng = make_engine(db)
    init_db(eng)
    t = time.perf_counter()
    (s,) = ingest_files(eng, "scans", [Path(csv)])
    dt = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": dt, "stored": s.stored, "rejected": s.rejected, "peak_bytes": peak}))


def run_child(db: str, csv: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", db, str(csv)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def floor(csv: Path, tmp: Path) -> float | None:
    if not shutil.which("sqlite3"):
        return None
    db = tmp / "floor.db"
    t = time.perf_counter()
    subprocess.run(["sqlite3", str(db), ".mode csv", f".import {csv} scans"], check=True)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--pg", default=os.environ.get("RECOUP_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--child", nargs=2)
    a = ap.parse_args()
    if a.child:
        child(*a.child)
        return
    tmp = Path(tempfile.mkdtemp(prefix="recoup-bench-"))
    csv = tmp / "scans.csv"
    generate(csv, a.rows)
    fl = floor(csv, tmp)
    print(f"rows: {a.rows:,}  file: {csv.stat().st_size / 1e6:.0f} MB")
    if fl:
        print(f"sqlite3 .import (floor): {fl:.1f} s  {a.rows / fl:,.0f} rows/s")
    r = run_child(f"sqlite:///{tmp / 'bench.db'}", csv)
    ratio = f"  {r['seconds'] / fl:.1f}x the floor" if fl else ""
    print(f"recoup ingest, SQLite:     {r['seconds']:.1f} s  {a.rows / r['seconds']:,.0f} rows/s  "
          f"peak {r['peak_bytes'] / 2**20:.0f} MiB{ratio}")
    if a.pg:
        try:
            import psycopg

            with psycopg.connect(a.pg.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as c:
                c.execute("DROP SCHEMA IF EXISTS bench_ingest CASCADE")
                c.execute("CREATE SCHEMA bench_ingest")
            url = a.pg + ("&" if "?" in a.pg else "?") + "options=-csearch_path%3Dbench_ingest"
            r = run_child(url, csv)
            print(f"recoup ingest, PostgreSQL: {r['seconds']:.1f} s  {a.rows / r['seconds']:,.0f} rows/s  "
                  f"peak {r['peak_bytes'] / 2**20:.0f} MiB")
            with psycopg.connect(a.pg.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as c:
                c.execute("DROP SCHEMA IF EXISTS bench_ingest CASCADE")
        except Exception as e:  # a benchmark reports and goes on
            print(f"PostgreSQL skipped: {e}")
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
