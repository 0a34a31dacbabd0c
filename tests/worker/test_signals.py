"""SIGTERM to a running worker: it finishes the unit in hand (a file), stops, exits 0; nothing lost."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import time
from pathlib import Path

from sqlalchemy import func, select, text

from recoup.clock import SYSTEM
from recoup.ingest.inbox import run_inbox
from recoup.settings import load_settings
from recoup.store.db import init_db, make_engine
from recoup.store.models import IngestedFile, ScanEvent

from .conftest import RECOUP, SMALL, Inbox

FILES = 60


def split_scans(folder: Path, n: int) -> int:
    with open(SMALL / "scans.csv", newline="", encoding="utf-8") as f:
        r = csv.DictReader(f)
        header, rows = list(r.fieldnames or []), list(r)
    size = -(-len(rows) // n)
    for i in range(n):
        with open(folder / f"scans-{i:04d}.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, header)
            w.writeheader()
            w.writerows(rows[i * size:(i + 1) * size])
    return len({(r["carrier"], r["tracking_number"], r["occurred_at"], r["status"]) for r in rows})


def wait_for(cond: object, proc: subprocess.Popen[str], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not cond():  # type: ignore[operator]
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_sigterm_mid_run_finishes_the_file_in_hand(worker_env: dict[str, str], inbox: Inbox) -> None:
    unique_scans = split_scans(inbox.scans, FILES)
    env = {**os.environ, **worker_env}
    proc = subprocess.Popen([RECOUP, "worker", "run", "--once", "--as-of", "2026-11-16"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    archive = inbox.scans / "archive"
    wait_for(lambda: archive.is_dir() and len(list(archive.iterdir())) >= 3, proc)
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=90)
    assert proc.returncode == 0, err
    assert "SIGTERM: stopping after the current unit of work" in err

    left, done = inbox.waiting(), inbox.archived()
    assert len(left) + len(done) == FILES and inbox.rejected() == []
    assert left, "the worker read every file before the signal arrived (make the test's inbox bigger)"
    eng = make_engine(worker_env["RECOUP_DATABASE_URL"])
    with eng.connect() as c:
        # every file moved was committed first; nothing committed was left unmoved
        assert c.execute(select(func.count()).select_from(IngestedFile)).scalar() == len(done)
        run = c.execute(text("SELECT job, outcome, counts FROM job_run")).all()
    assert [(r.job, r.outcome) for r in run] == [("ingest_inbox", "ok")]   # no job started after the signal
    assert json.loads(run[0].counts)["stopped"] == 1

    # the next run takes the rest
    run_inbox(eng, load_settings(), None, clock=SYSTEM)
    assert inbox.waiting() == [] and len(inbox.archived()) == FILES
    with eng.connect() as c:
        assert c.execute(select(func.count()).select_from(ScanEvent)).scalar() == unique_scans
    eng.dispose()


def test_sigterm_to_the_scheduled_worker_exits_cleanly(worker_env: dict[str, str]) -> None:
    eng = make_engine(worker_env["RECOUP_DATABASE_URL"])
    init_db(eng)
    env = {**os.environ, **worker_env}
    proc = subprocess.Popen([RECOUP, "worker", "run", "--worker-id", "sched-1"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def started() -> bool:
        with eng.connect() as c:
            return c.execute(text("SELECT COUNT(*) FROM audit_state WHERE key = 'worker.sched-1'")).scalar() == 1

    wait_for(started, proc)
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "worker stopped" in err
    assert not started()            # the worker's heartbeat row is gone
    lock = Path(worker_env["RECOUP_DATABASE_URL"].removeprefix("sqlite:///") + ".worker.lock")
    assert lock.exists() and lock.read_text() == ""    # released
    eng.dispose()
