"""One worker process for test_postgres.py: waits for the go file, then walks 48 hourly wake-ups
(the same for every process), running what is due. The jobs are stubs: the test is about who runs
which (job, tick), not about the jobs. Prints the (job, tick) pairs it ran, as JSON."""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path

from recoup.settings import Settings
from recoup.store.db import make_engine
from recoup.worker import jobs
from recoup.worker.scheduler import Worker, tick_key

START = dt.datetime(2026, 11, 2, 0, 0, tzinfo=dt.UTC)
HOURS = 48


def stub(ctx: jobs.JobContext) -> dict[str, int]:
    time.sleep(0.003)
    return {"ran": 1}


def main() -> None:
    url, worker_id, folder = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    for name in jobs.JOBS:
        jobs.JOBS[name] = stub
    settings = Settings(database_url=url)
    ctx = jobs.JobContext(make_engine(url), settings, lambda: None, worker_id=worker_id,  # type: ignore[arg-type, return-value]
                          clock_source=lambda: START)
    worker = Worker(ctx, notify=False)
    worker.start()                      # both migrate the same empty schema at once: the lock serialises them
    (folder / f"ready-{worker_id}").touch()
    while not (folder / "go").exists():
        time.sleep(0.005)
    ran = []
    t = START
    for _ in range(HOURS):
        nxt = t + dt.timedelta(hours=1)
        for job, tick, res in worker.run_due(t, nxt):
            if res is not None:
                ran.append([job, tick_key(tick), res.outcome])
        t = nxt
    worker.close()
    ctx.engine.dispose()
    print(json.dumps(ran))


if __name__ == "__main__":
    main()
