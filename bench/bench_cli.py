"""Benchmark: how fast the CLI answers a person (issue 14: `--help` under 0.3 s).

Each command runs as its own process (``subprocess``, as a shell would start it), several times; the
median and the fastest wall time are reported:

- ``recoup --help`` and ``recoup --version``;
- ``recoup findings`` and ``recoup claims list`` on an empty database (``recoup init`` only);
- the same on a database built from the acceptance data set ``small`` (ingest, audit), as score.py does;
- with ``--big DB``: ``findings --limit 20``, ``claims list --limit 20`` and ``worker status`` on a large
  audited database (issue 14: under 1 s on 1M shipments), and, for comparison, ``findings --limit 20
  --sort reason`` (a sort SQL does not do, so every row is read: what ``--limit`` cost before it was
  pushed down). Build one with ``python bench/gen_audit_data.py --shipments 1000000 --db /tmp/cli_1m.db``
  then ``recoup audit --as-of 2026-11-20`` on it (contracts: the acceptance set's).

    python bench/bench_cli.py [--runs 7] [--recoup PATH] [--data ../shared/acceptance/small] [--big DB]

The process start of Python itself is reported as ``python -c pass``, the floor of any command.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SMALL = (ROOT / ".." / "shared" / "acceptance" / "small").resolve()


def timed(cmd: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    """(median, fastest) wall seconds of ``runs`` runs; the command must exit 0."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        p = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
        times.append(time.perf_counter() - t0)
        if p.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.decode()[-500:]}")
    return statistics.median(times), min(times)


def build(recoup: str, env: dict[str, str], data: Path | None) -> None:
    def run(*args: str) -> None:
        subprocess.run([recoup, *args], env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    run("init")
    if data is None:
        return
    meta = json.loads((data / "dataset.json").read_text())
    run("ingest", "shipments", *map(str, sorted(data.glob("shipments*"))))
    run("ingest", "scans", *map(str, sorted(data.glob("scans*.csv")) + sorted(data.glob("scans/*"))))
    run("ingest", "invoices", *map(str, sorted((data / "invoices").glob("*"))))
    run("audit", "--as-of", meta["as_of"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--recoup", default=str(Path(sys.executable).with_name("recoup")))
    ap.add_argument("--data", type=Path, default=SMALL)
    ap.add_argument("--big", type=Path, help="a large audited SQLite database (bench/gen_audit_data.py, then audit)")
    ap.add_argument("--contracts", type=Path, default=SMALL / "contracts", help="contracts of --big")
    ap.add_argument("--only-big", action="store_true", help="time --big only")
    a = ap.parse_args()
    recoup = a.recoup
    rows: list[tuple[str, str, float, float]] = []
    with tempfile.TemporaryDirectory(prefix="recoup-bench-cli-") as tmp:
        base = {k: v for k, v in os.environ.items() if not k.startswith("RECOUP_")}
        base["COLUMNS"] = "120"
        rows.append(("python -c pass", "-", *timed([sys.executable, "-c", "pass"], base, a.runs)))
        rows.append(("recoup --help", "-", *timed([recoup, "--help"], base, a.runs)))
        rows.append(("recoup --version", "-", *timed([recoup, "--version"], base, a.runs)))
        dbs = [] if a.only_big else [("empty", None)]
        if a.data.is_dir() and not a.only_big:
            dbs.append((a.data.name, a.data))
        for name, data in dbs:
            env = {**base, "RECOUP_DATABASE_URL": f"sqlite:///{Path(tmp) / (name + '.db')}"}
            if data is not None:
                env["RECOUP_CONTRACTS"] = str(data / "contracts")
            build(recoup, env, data)
            for args in (["findings"], ["claims", "list"], ["findings", "--format", "json"]):
                rows.append(("recoup " + " ".join(args), name, *timed([recoup, *args], env, a.runs)))
        if a.big is not None:
            env = {**base, "RECOUP_DATABASE_URL": f"sqlite:///{a.big.resolve()}", "RECOUP_CONTRACTS": str(a.contracts)}
            for args in (["findings", "--limit", "20"], ["claims", "list", "--limit", "20"],
                         ["findings", "--limit", "20", "--sort", "-amount"], ["worker", "status"],
                         ["findings", "--limit", "20", "--sort", "reason"]):
                rows.append(("recoup " + " ".join(args), a.big.name, *timed([recoup, *args], env, a.runs)))
    print(f"{a.runs} runs each, median (fastest); load average {os.getloadavg()[0]:.1f}")
    print("| command | database | median | fastest |")
    print("|---|---|---|---|")
    for cmd, db, med, best in rows:
        print(f"| `{cmd}` | {db} | {med:.2f} s | {best:.2f} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
