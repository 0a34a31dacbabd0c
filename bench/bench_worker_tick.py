"""Benchmark the worker's tick: ``recoup worker run --once`` with nothing new to do, on a big database.

    python bench/bench_worker_tick.py --data /tmp/audit_1m.db               # 1M shipments, 5 ticks
    python bench/bench_worker_tick.py --shipments 100000 --runs 3
    python bench/bench_worker_tick.py --work /tmp/tick --runs 5             # reuse a prepared folder

Data comes from ``bench/gen_audit_data.py`` (created when ``--data`` is missing). The database is
copied into the work folder (with empty inbox folders, reports and outbox), then one untimed
``worker run --once`` brings it up to date (the full audit, claims prepared, the monthly report),
and a second untimed one settles what the first left (its follow-ups). Every claim goes to the
file channel, so that all are filed by then. Each counted tick is then its own process, started at
the next minute as cron starts it: the wall time of the whole command (interpreter and imports
included) and each job's own duration from the JSON summary. Target (issue 17): under 2 s on a
1M-shipment database. A tick after a new day (``--next-day``) is also shown: the deadline-driven
work it must do is not free.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import gen_audit_data  # bench/gen_audit_data.py: a script's own folder is first on sys.path

HERE = Path(__file__).resolve().parent
RECOUP = str(Path(sys.executable).parent / "recoup")


def environment(work: Path, contracts: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECOUP_")}
    env.update({
        "RECOUP_DATABASE_URL": f"sqlite:///{work / 'recoup.db'}",
        "RECOUP_CONTRACTS": str(contracts),
        "RECOUP_INBOX__SHIPMENTS": str(work / "inbox" / "shipments"),
        "RECOUP_INBOX__SCANS": str(work / "inbox" / "scans"),
        "RECOUP_INBOX__INVOICES": str(work / "inbox" / "invoices"),
        "RECOUP_REPORTS_DIR": str(work / "reports"),
        "RECOUP_OUTBOX": str(work / "outbox"),
        "RECOUP_BUSINESS_HOURS_ONLY": "false",
    })
    # every claim goes to a file in the outbox: the first ticks file them all, so the counted ticks
    # find no claim waiting (a carrier whose channel cannot file leaves its claims ready: then each
    # tick reads them all again, which is work, not "nothing new")
    for carrier in ("UPS", "FEDEX", "DPD_UK", "ROYAL_MAIL"):
        env[f"RECOUP_CARRIERS__{carrier}__CHANNEL"] = "file"
    return env


def next_minute() -> None:
    """Ticks are per minute (``job_run`` is keyed by job and tick): a second ``--once`` in the same
    minute finds its ticks taken and does nothing. Wait for the next minute."""
    time.sleep(60.5 - time.time() % 60)


def prepare(data: Path, work: Path) -> None:
    work.mkdir(parents=True, exist_ok=True)
    for sub in ("inbox/shipments", "inbox/scans", "inbox/invoices", "reports", "outbox"):
        (work / sub).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(data, work / "recoup.db")
    for suffix in ("-wal", "-shm"):
        if Path(f"{data}{suffix}").exists():
            shutil.copyfile(f"{data}{suffix}", f"{work / 'recoup.db'}{suffix}")


def tick(env: dict[str, str], *extra: str) -> tuple[float, dict[str, dict[str, object]]]:
    """One ``worker run --once`` as its own process, at the start of a minute: wall seconds, and the
    summary by job."""
    if not extra:
        next_minute()
    t0 = time.perf_counter()
    p = subprocess.run([RECOUP, "worker", "run", "--once", "--format", "json", *extra], env=env,
                       capture_output=True, text=True, check=False)
    took = time.perf_counter() - t0
    if p.returncode != 0:
        sys.stderr.write(p.stdout[-4000:] + p.stderr[-4000:])
        raise SystemExit(f"worker run --once failed with exit {p.returncode}")
    return took, {r["job"]: r for r in json.loads(p.stdout)}


def show(label: str, took: float, jobs: dict[str, dict[str, object]]) -> None:
    parts = ", ".join(f"{j} {r['outcome']} {r['duration_s']}s" for j, r in jobs.items())
    print(f"{label:<14} {took:6.2f} s   {parts}")


def main(argv: list[str] | None = None) -> int:
    gen = gen_audit_data
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shipments", type=int, default=1_000_000)
    ap.add_argument("--data", type=Path, help="generated database to reuse (created when missing)")
    ap.add_argument("--contracts", type=Path, default=gen.CONTRACTS)
    ap.add_argument("--work", type=Path, help="work folder (kept); prepared when it has no database yet")
    ap.add_argument("--runs", type=int, default=5, help="counted ticks with nothing new")
    ap.add_argument("--next-day", action="store_true", help="also time a replayed tick of a new day (--as-of)")
    a = ap.parse_args(argv)

    work = a.work or Path(tempfile.mkdtemp(prefix="recoup-bench-tick-"))
    env = environment(work, a.contracts)
    if not (work / "recoup.db").exists():
        data = a.data or work / f"audit_{a.shipments}.db"
        if not data.exists():
            t0 = time.perf_counter()
            got = gen.create(data, a.shipments, contracts_dir=a.contracts, quiet=True)
            print(f"generated {got['shipments']:,} shipments, {got['scans']:,} scans in {time.perf_counter() - t0:.0f} s")
        prepare(data, work)
        for label in ("first tick", "second tick"):
            show(label, *tick(env))
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; work folder {work}")
    walls = []
    for i in range(a.runs):
        took, jobs = tick(env)
        walls.append(took)
        show(f"idle tick {i + 1}", took, jobs)
    print(f"idle tick: median {statistics.median(walls):.2f} s, min {min(walls):.2f} s, max {max(walls):.2f} s "
          f"over {len(walls)} runs (target under 2 s); load average {os.getloadavg()[0]:.1f}")
    if a.next_day:
        day = (dt.date.today() + dt.timedelta(days=1)).isoformat()
        show(f"day {day}", *tick(env, "--as-of", day))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
