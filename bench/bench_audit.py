"""Benchmark the audit: a full audit of N shipments (time, peak memory), then an incremental audit
after a day of new data (1%: time, peak memory), then the next day's incremental audit.

    python bench/bench_audit.py                              # 1,000,000 shipments
    python bench/bench_audit.py --shipments 100000 --profile
    python bench/bench_audit.py --data /tmp/audit_1m.db      # reuse generated data (it is copied)
    python bench/bench_audit.py --shipments 20000 --check    # also: incremental == full on the result
    python bench/bench_audit.py --url postgresql+psycopg://postgres@127.0.0.1:5432/bench \
        --append-from /tmp/audit_1m_plus.db                  # PostgreSQL (data copied by sqlite_to_pg.py)

Data comes from ``bench/gen_audit_data.py`` (10 scans and 4 charges a shipment, SQLite, written
through the bulk path) before any clock starts. Each audit runs in its own process; peak memory is
the peak of the summed resident memory of that process and its worker processes (a full run of
200,000 shipments or more is judged by one worker per CPU), sampled every 50 ms; the time is the wall time of ``audit()`` alone (frames
loaded, rules, findings and claims written, reconciliation), the interpreter start and imports
excluded; ``cpu_seconds`` (in the JSON) is the processor time of the process and its workers over the same
span, less sensitive than the wall time to other work on a shared machine. Targets: full under 60 s and
4 GB; incremental under 5% of the full time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import gen_audit_data  # bench/gen_audit_data.py: a script's own folder is first on sys.path

HERE = Path(__file__).resolve().parent


def _tree_rss_mb(root: int) -> float:
    """Resident memory of ``root`` and all its descendants (Linux /proc), in MB."""
    parent: dict[int, int] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            parent[int(d)] = int(fields[1])
            rss[int(d)] = int(fields[21]) * page
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(p for p, pp in parent.items() if pp == pid)
    return total / 2**20


class _Sampler:
    """Peak of the summed resident memory of this process and its workers, sampled every 50 ms."""

    def __init__(self) -> None:
        import threading

        self.peak = 0.0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            if os.path.isdir("/proc"):
                self.peak = max(self.peak, _tree_rss_mb(os.getpid()))
            self._stop.wait(0.05)

    def __enter__(self) -> _Sampler:
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()


def phase(db: Path | str, contracts: Path, as_of: dt.date, full: bool, profile: Path | None,
          workers: int | None = None) -> dict[str, object]:
    """One audit in this process: its time, this process's peak memory and the peak of it and its workers."""
    from recoup.audit.service import audit
    from recoup.clock import clock_for
    from recoup.sla.contracts import load_contracts
    from recoup.store.db import make_engine

    eng = make_engine(str(db) if "://" in str(db) else f"sqlite:///{db}")
    cs = load_contracts(contracts)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    prof = None
    if profile is not None:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    def cpu() -> float:
        return sum(u.ru_utime + u.ru_stime for u in (resource.getrusage(resource.RUSAGE_SELF),
                                                       resource.getrusage(resource.RUSAGE_CHILDREN)))

    with _Sampler() as sampler:
        c0 = cpu()
        t0 = time.perf_counter()
        s = audit(eng, cs, as_of, clock=clock_for(as_of), full=full, workers=workers)
        took = time.perf_counter() - t0
        cpu_s = cpu() - c0
    if prof is not None and profile is not None:
        prof.disable()
        prof.dump_stats(str(profile))
    eng.dispose()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"seconds": round(took, 2), "cpu_seconds": round(cpu_s, 1), "peak_mb": round(max(own, sampler.peak)), "own_peak_mb": round(own),
            "worker_peak_mb": round(kids),
            "baseline_mb": round(base), "mode": s.mode, "why": s.why, "shipments": s.shipments,
            "findings": s.findings, "new": s.new, "updated": s.updated, "withdrawn": s.withdrawn,
            "claims_opened": s.claims_opened, "by_kind": dict(sorted(s.by_kind.items()))}


def run_phase(db: Path | str, contracts: Path, as_of: dt.date, full: bool, profile: Path | None,
              workers: int | None = None) -> dict[str, object]:
    cmd = [sys.executable, __file__, "--phase", "full" if full else "incremental", "--work", str(db),
           "--contracts", str(contracts), "--as-of", as_of.isoformat()]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    if profile is not None:
        cmd += ["--profile-out", str(profile)]
    p = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if p.returncode != 0:
        sys.stderr.write(p.stdout + p.stderr)
        raise SystemExit(f"audit phase failed with exit {p.returncode}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def findings_of(db: Path) -> dict[str, tuple[object, ...]]:
    import sqlite3

    con = sqlite3.connect(db)
    try:
        return {r[0]: r[1:] for r in con.execute(
            "SELECT key, status, amount_cents, currency, deadline, claimable, reason, evidence FROM finding")}
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    gen = gen_audit_data
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shipments", type=int, default=1_000_000)
    ap.add_argument("--data", type=Path, help="generated database to reuse (created when missing)")
    ap.add_argument("--contracts", type=Path, default=gen.CONTRACTS)
    ap.add_argument("--as-of", default=gen.AS_OF.isoformat())
    ap.add_argument("--fraction", type=float, default=0.01, help="new data before the incremental audit")
    ap.add_argument("--profile", action="store_true", help="write cProfile stats of each audit next to the data")
    ap.add_argument("--check", action="store_true", help="also compare the incremental result with a full audit")
    ap.add_argument("--workers", type=int, help="processes for the full audit (default: the audit's own choice)")
    ap.add_argument("--url", help="audit this database instead (PostgreSQL: loaded by sqlite_to_pg.py; not copied)")
    ap.add_argument("--append-from", type=Path, help="with --url: a SQLite copy of the data with a day appended "
                    "(gen_audit_data.py --append); its new rows are copied in before the incremental audit")
    ap.add_argument("--phase", choices=["full", "incremental"], help=argparse.SUPPRESS)
    ap.add_argument("--work", help=argparse.SUPPRESS)   # a path or a database URL (a Path would fold its //)
    ap.add_argument("--profile-out", type=Path, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    as_of = dt.date.fromisoformat(a.as_of)
    if a.phase:
        print(json.dumps(phase(a.work, a.contracts, as_of, a.phase == "full", a.profile_out, a.workers)))
        return 0
    if a.url:
        return on_url(a, as_of)

    tmp = Path(tempfile.mkdtemp(prefix="recoup-bench-audit-"))
    data = a.data or tmp / f"audit_{a.shipments}.db"
    if not data.exists():
        t0 = time.perf_counter()
        got = gen.create(data, a.shipments, contracts_dir=a.contracts, as_of=as_of, quiet=True)
        print(f"generated {got['shipments']:,} shipments, {got['scans']:,} scans, {got['lines']:,} invoice lines "
              f"in {time.perf_counter() - t0:.0f} s: {data}")
    work = tmp / "work.db"
    shutil.copyfile(data, work)
    for suffix in ("-wal", "-shm"):
        if Path(f"{data}{suffix}").exists():
            shutil.copyfile(f"{data}{suffix}", f"{work}{suffix}")
    prof = (lambda name: tmp / f"{name}.prof") if a.profile else (lambda name: None)
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")

    full = run_phase(work, a.contracts, as_of, True, prof("full"), a.workers)
    print(f"full audit        {full['seconds']:7.1f} s  (CPU {full['cpu_seconds']} s)  peak {full['peak_mb']:6} MB (this process {full['own_peak_mb']} MB, "
          f"largest worker {full['worker_peak_mb']} MB)  "
          f"{full['shipments']:,} shipments, {full['findings']:,} findings")
    added = gen.append(work, a.fraction, contracts_dir=a.contracts, as_of=as_of)
    print(f"new data          {added['shipments']:,} shipments, {added['scans']:,} scans, "
          f"{added['lines']:,} invoice lines")
    inc = run_phase(work, a.contracts, as_of, False, prof("incremental"))
    share = 100 * float(inc["seconds"]) / max(float(full["seconds"]), 1e-9)  # type: ignore[arg-type]
    print(f"incremental audit {inc['seconds']:7.1f} s  peak {inc['peak_mb']:6} MB  "
          f"{inc['shipments']:,} shipments re-judged ({share:.1f}% of the full time); {inc['why']}")
    nxt = run_phase(work, a.contracts, as_of + dt.timedelta(days=1), False, prof("next_day"))
    share2 = 100 * float(nxt["seconds"]) / max(float(full["seconds"]), 1e-9)  # type: ignore[arg-type]
    print(f"next day (no data){nxt['seconds']:7.1f} s  peak {nxt['peak_mb']:6} MB  "
          f"{nxt['shipments']:,} shipments re-judged ({share2:.1f}%); {nxt['why']}")
    if a.check:
        ref = tmp / "ref.db"
        shutil.copyfile(work, ref)
        run_phase(ref, a.contracts, as_of + dt.timedelta(days=1), True, None)
        same = findings_of(ref) == findings_of(work)
        print(f"check: incremental result {'equals' if same else 'DIFFERS FROM'} a full audit")
        if not same:
            return 1
    if a.profile:
        print(f"profiles: {tmp}/*.prof")
    print(json.dumps({"full": full, "incremental": inc, "next_day": nxt}, default=str))
    if not a.profile:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def on_url(a: argparse.Namespace, as_of: dt.date) -> int:
    """Full audit, a day of new data (copied from ``--append-from``), incremental audit, next day."""
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; database {a.url.split('@')[-1]}")
    full = run_phase(a.url, a.contracts, as_of, True, None, a.workers)
    print(f"full audit        {full['seconds']:7.1f} s  peak {full['peak_mb']:6} MB  "
          f"{full['shipments']:,} shipments, {full['findings']:,} findings")
    out = {"full": full}
    if a.append_from:
        spec = importlib.util.spec_from_file_location("sqlite_to_pg", HERE / "sqlite_to_pg.py")
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        got = mod.copy(a.append_from, a.url, above=True)
        print("new data          " + ", ".join(f"{k} {v:,}" for k, v in got.items() if v))
        inc = run_phase(a.url, a.contracts, as_of, False, None)
        share = 100 * float(inc["seconds"]) / max(float(full["seconds"]), 1e-9)
        print(f"incremental audit {inc['seconds']:7.1f} s  peak {inc['peak_mb']:6} MB  "
              f"{inc['shipments']:,} shipments re-judged ({share:.1f}% of the full time); {inc['why']}")
        out["incremental"] = inc
    nxt = run_phase(a.url, a.contracts, as_of + dt.timedelta(days=1), False, None)
    share2 = 100 * float(nxt["seconds"]) / max(float(full["seconds"]), 1e-9)
    print(f"next day (no data){nxt['seconds']:7.1f} s  peak {nxt['peak_mb']:6} MB  "
          f"{nxt['shipments']:,} shipments re-judged ({share2:.1f}%); {nxt['why']}")
    out["next_day"] = nxt
    print(json.dumps(out, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
