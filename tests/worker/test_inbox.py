"""The inbox folders: each file read once, then moved to archive/ or rejected/ with its reasons."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from recoup.cli import app
from recoup.clock import SYSTEM
from recoup.ingest.inbox import ingest_inbox, run_inbox
from recoup.ingest.service import ingest_file
from recoup.settings import Settings
from recoup.store.db import init_db, make_engine
from recoup.store.models import IngestedFile, Shipment

from .conftest import SMALL, Inbox

LINES = (SMALL / "shipments.csv").read_text(encoding="utf-8").splitlines()
HEADER = LINES[0]


def write(path: Path, *rows: str) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def bad_date(row: str) -> str:
    return row.replace(",2026-", ",20x6-", 1)


def engine_for(settings: Settings) -> Engine:
    eng = make_engine(settings.database_url)
    init_db(eng)
    return eng


def test_files_move_to_archive_or_rejected_with_reasons(settings: Settings, inbox: Inbox) -> None:
    eng = engine_for(settings)
    write(inbox.shipments / "a-good.csv", LINES[1], LINES[2])
    write(inbox.shipments / "b-partial.csv", LINES[3], bad_date(LINES[4]))
    (inbox.shipments / "c-garbage.csv").write_text("\x00\x01 not a manifest\n", encoding="utf-8")
    (inbox.shipments / ".hidden.csv").write_text("x", encoding="utf-8")
    (inbox.shipments / "d-upload.csv.part").write_text("x", encoding="utf-8")
    scans = inbox.scans / "scans.csv"
    shutil.copy(SMALL / "scans.csv", scans)
    inv = sorted((SMALL / "invoices").glob("UPS-*.csv"))[0]
    shutil.copy(inv, inbox.invoices / inv.name)

    order: list[str] = []
    run = run_inbox(eng, settings, None, clock=SYSTEM, on_file=lambda s, _dst: order.append(s.kind))
    assert order == ["shipments"] * 3 + ["scans", "invoices"]       # shipments, then scans, then invoices

    arch, rej = inbox.shipments / "archive", inbox.shipments / "rejected"
    assert sorted(p.name for p in arch.iterdir()) == ["a-good.csv", "b-partial.csv", "b-partial.csv.reason"]
    reason = (arch / "b-partial.csv.reason").read_text()
    assert "line 3, column ship_date" in reason and "1 row(s) rejected" in reason
    assert sorted(p.name for p in rej.iterdir()) == ["c-garbage.csv", "c-garbage.csv.reason"]
    assert (rej / "c-garbage.csv.reason").read_text().startswith("refused: ")
    # files being uploaded or hidden are left alone
    assert sorted(p.name for p in inbox.shipments.iterdir() if p.is_file()) == [".hidden.csv", "d-upload.csv.part"]
    assert (inbox.scans / "archive" / "scans.csv").exists() and (inbox.invoices / "archive" / inv.name).exists()
    counts = run.counts()
    assert counts["files"] == 5 and counts["archived"] == 4 and counts["rejected_files"] == 1
    assert counts["rejected_rows"] == 1
    assert run.invoices_loaded                  # the claims flow reconciles after it (the job, the command)
    with eng.connect() as c:
        assert c.execute(select(func.count()).select_from(Shipment)).scalar() == 3


def test_a_name_taken_in_archive_gets_a_suffix(settings: Settings, inbox: Inbox) -> None:
    eng = engine_for(settings)
    write(inbox.shipments / "m.csv", LINES[1])
    ingest_inbox(eng, settings, None, clock=SYSTEM)
    write(inbox.shipments / "m.csv", LINES[2])
    ingest_inbox(eng, settings, None, clock=SYSTEM)
    write(inbox.shipments / "m.csv", LINES[3])
    ingest_inbox(eng, settings, None, clock=SYSTEM)
    arch = inbox.shipments / "archive"
    assert sorted(p.name for p in arch.iterdir()) == ["m-1.csv", "m-2.csv", "m.csv"]
    assert LINES[1] in (arch / "m.csv").read_text() and LINES[3] in (arch / "m-2.csv").read_text()


def test_a_crash_between_commit_and_move_only_rereads(settings: Settings, inbox: Inbox) -> None:
    eng = engine_for(settings)
    f = write(inbox.shipments / "s.csv", LINES[1], LINES[2])
    first = ingest_file(eng, "shipments", f, clock=SYSTEM)           # committed, then "crashed" before the move
    assert first.stored == 2 and f.exists()
    (s,) = ingest_inbox(eng, settings, None, clock=SYSTEM)
    assert s.stored == 0 and s.duplicates == 2
    assert not f.exists() and (inbox.shipments / "archive" / "s.csv").exists()
    with eng.connect() as c:
        assert c.execute(select(func.count()).select_from(Shipment)).scalar() == 2


def test_the_stop_flag_is_checked_between_files(settings: Settings, inbox: Inbox) -> None:
    eng = engine_for(settings)
    for i in range(1, 5):
        write(inbox.shipments / f"f{i}.csv", LINES[i])
    seen: list[str] = []
    run = run_inbox(eng, settings, None, clock=SYSTEM, stop=lambda: len(seen) >= 2, on_file=lambda s, _d: seen.append(s.path))
    assert run.stopped and len(run.files) == 2
    assert sorted(p.name for p in inbox.shipments.iterdir() if p.is_file()) == ["f3.csv", "f4.csv"]
    with eng.connect() as c:   # what was read is stored and moved; nothing half-done
        assert c.execute(select(func.count()).select_from(IngestedFile)).scalar() == 2
    run = run_inbox(eng, settings, None, clock=SYSTEM)
    assert len(run.files) == 2 and not run.stopped


def test_cli_ingest_inbox(worker_env: dict[str, str], inbox: Inbox) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["init"]).exit_code == 0
    write(inbox.shipments / "ok.csv", LINES[1])
    (inbox.invoices / "junk.csv").write_text("what,is,this\n1,2,3\n", encoding="utf-8")
    res = runner.invoke(app, ["ingest", "inbox", "--format", "json"])
    assert res.exit_code == 1, res.output
    out = json.loads(res.stdout)
    by_name = {Path(f["path"]).name: f for f in out["files"]}
    assert Path(by_name["ok.csv"]["moved_to"]).parent.name == "archive"
    assert Path(by_name["junk.csv"]["moved_to"]).parent.name == "rejected"
    assert by_name["junk.csv"]["refused"]
    assert "junk.csv" in res.stderr
    res = runner.invoke(app, ["ingest", "inbox", "--format", "json"])   # nothing left: nothing read
    assert res.exit_code == 0 and json.loads(res.stdout)["files"] == []


def test_one_poison_file_does_not_stop_the_inbox(settings: Settings, inbox: Inbox,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 15 item 4: an exception that is not a recoup error (an overflow, a disk full) used to abort
    the whole run, every tick, with every file left in place."""
    import errno

    from recoup.ingest import inbox as inbox_module

    eng = engine_for(settings)
    write(inbox.shipments / "a-poison.csv", LINES[1])
    write(inbox.shipments / "b-disk-full.csv", LINES[2])
    write(inbox.shipments / "c-good.csv", LINES[3])
    real = inbox_module.ingest_file

    def flaky(engine, kind, path, **kw):  # type: ignore[no-untyped-def]
        if path.name == "a-poison.csv":
            raise OverflowError("Python int too large to convert to C long")
        if path.name == "b-disk-full.csv":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(engine, kind, path, **kw)

    monkeypatch.setattr(inbox_module, "ingest_file", flaky)
    run = run_inbox(eng, settings, None, clock=SYSTEM)
    assert [s.path.rsplit("/", 1)[-1] for s in run.files] == ["a-poison.csv", "b-disk-full.csv", "c-good.csv"]
    rej = inbox.shipments / "rejected"
    assert (rej / "a-poison.csv").exists()
    assert "OverflowError" in (rej / "a-poison.csv.reason").read_text()
    assert (inbox.shipments / "b-disk-full.csv").exists()           # transient: retried next run
    assert run.retry == [str(inbox.shipments / "b-disk-full.csv")]
    assert (inbox.shipments / "archive" / "c-good.csv").exists()
    monkeypatch.setattr(inbox_module, "ingest_file", real)         # the disk has room again
    again = run_inbox(eng, settings, None, clock=SYSTEM)
    assert [s.stored for s in again.files] == [1]
    assert (inbox.shipments / "archive" / "b-disk-full.csv").exists()


def test_the_job_and_the_command_reconcile_after_invoices(settings: Settings, inbox: Inbox) -> None:
    """The inbox only stores; the claims flow matches the credits of the invoices it loaded: the job's
    counts and the command's JSON say how many, as before (docs/decisions.md)."""
    from recoup.worker import jobs
    from recoup.worker.jobs import JobContext

    eng = engine_for(settings)
    write(inbox.shipments / "s.csv", LINES[1])
    ctx = JobContext(eng, settings, lambda: None)  # type: ignore[arg-type,return-value]
    counts = jobs.ingest_inbox(ctx)
    assert "credits_matched" not in counts            # no invoice: nothing to match
    inv = sorted((SMALL / "invoices").glob("UPS-*.csv"))[0]
    shutil.copy(inv, inbox.invoices / inv.name)
    counts = jobs.ingest_inbox(ctx)
    assert counts["credits_matched"] == 0 and "credits_unmatched" in counts
    credits = sorted((SMALL / "credits").glob("*.csv"))[0]
    shutil.copy(credits, inbox.invoices / credits.name)
    res = CliRunner().invoke(app, ["ingest", "inbox", "--format", "json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["reconciled"]["credits"] > 0


def test_contracts_are_loaded_only_when_a_file_is(settings: Settings, inbox: Inbox) -> None:
    """An empty inbox (most worker ticks) does not load the contracts; the first file does, once."""
    eng = engine_for(settings)
    calls: list[int] = []

    def contracts() -> None:
        calls.append(1)

    assert run_inbox(eng, settings, contracts, clock=SYSTEM).files == []
    assert calls == []
    write(inbox.shipments / "a.csv", LINES[1])
    write(inbox.shipments / "b.csv", LINES[2])
    run = run_inbox(eng, settings, contracts, clock=SYSTEM)
    assert [s.stored for s in run.files] == [1, 1]
    assert calls == [1]
