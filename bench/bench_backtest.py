"""Benchmark `recoup backtest`: N generated shipments (``bench/gen_audit_data.py``: 10 scans and 4
charges a shipment, ship dates over 90 days) replayed day by day over their whole period.

    python bench/bench_backtest.py                      # 20,000 shipments (bounded: about a minute)
    python bench/bench_backtest.py --shipments 100000

Prints the wall time of ``backtest()`` (staging, the day loop, the judgement; data generation
excluded), per replayed day, the peak resident memory, and the filed-in-time share per currency.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import tempfile
import time
from pathlib import Path

import gen_audit_data  # bench/gen_audit_data.py: a script's own folder is first on sys.path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shipments", type=int, default=20_000)
    ap.add_argument("--work", type=Path, default=None, help="folder for the generated store (default: a temp dir)")
    a = ap.parse_args(argv)
    gen = gen_audit_data
    from recoup.backtest import backtest
    from recoup.settings import Settings
    from recoup.sla.contracts import load_contracts
    from recoup.store.db import make_engine

    work = a.work or Path(tempfile.mkdtemp(prefix="recoup-bench-backtest-"))
    work.mkdir(parents=True, exist_ok=True)
    db = work / "source.db"
    counts = gen.create(db, a.shipments, quiet=True)
    date_from = gen.AS_OF - dt.timedelta(days=gen.DAYS)
    contracts = load_contracts(gen.CONTRACTS)
    settings = Settings(database_url=f"sqlite:///{db}", contracts=gen.CONTRACTS)
    source = make_engine(f"sqlite:///{db}")
    t0 = time.monotonic()
    r = backtest(source, settings, contracts, date_from, gen.AS_OF)
    took = time.monotonic() - t0
    source.dispose()
    rates = {t["currency"]: (str(t["filed_in_time_rate"]) if t["filed_in_time_rate"] is not None else None)
             for t in r.totals}
    print(json.dumps({"shipments": a.shipments, "generated": counts, "days": r.days, "seconds": round(took, 1),
                      "per_day_s": round(took / max(r.days, 1), 3), "filed_claims": len(r.filed),
                      "filed_in_time_rate": rates,
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
