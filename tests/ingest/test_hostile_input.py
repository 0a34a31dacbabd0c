"""Hostile and broken input (issue 15): each case through the CLI, with the invariant checked after it:
exit code and one line per problem, no traceback, good rows stored, bad rows reported, nothing stored
wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from recoup.cli import app
from recoup.store.db import make_engine

INVOICE_HEADER = "invoice_number,invoice_date,carrier,tracking_number,charge_type,amount\n"
MANIFEST_HEADER = ("tracking_number,carrier,service,ship_date,dest_postal,dest_country,declared_value,"
                   "item_value\n")


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, list(args))
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert "Traceback" not in r.stdout + r.stderr
    return r.exit_code, r.stdout, r.stderr


@pytest.fixture
def db(cli_env: dict[str, str]) -> str:
    assert run("init")[0] == 0
    return cli_env["RECOUP_DATABASE_URL"]


def rows(url: str, sql: str) -> list[tuple]:  # type: ignore[type-arg]
    eng = make_engine(url)
    with eng.connect() as c:
        out = [tuple(r) for r in c.execute(text(sql))]
    eng.dispose()
    return out


def ingest(kind: str, path: Path) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    code, out, err = run("ingest", kind, str(path), "--format", "json")
    return code, json.loads(out)["files"][0], err


@pytest.mark.parametrize("amount", [
    "100000000000000000.00",            # wrapped to a negative int64 before: stored as a credit
    "123456789012345678901234567890",   # OverflowError before
    "10000000.01",                      # just past the bound of one invoice line
    "-99999999999.00",
])
def test_amounts_out_of_range_refuse_their_invoice_and_nothing_wrong_is_stored(db: str, tmp_path: Path,
                                                                               amount: str) -> None:
    f = tmp_path / "inv.csv"
    f.write_text(INVOICE_HEADER + f"INV-1,2026-10-01,ups,1Z999AA10123456784,transportation,{amount}\n"
                 "INV-2,2026-10-01,ups,1Z999AA10123456785,transportation,12.30\n")
    code, summary, _err = ingest("invoices", f)
    assert code == 1
    assert any("out of range" in e["reason"] for e in summary["errors"])
    assert rows(db, "select invoice_number, amount_cents from invoice_line") == [("INV-2", 1230)]
    assert rows(db, "select count(*) from credit") == [(0,)]


def test_the_largest_amount_in_range_is_stored_exactly(db: str, tmp_path: Path) -> None:
    f = tmp_path / "inv.csv"
    f.write_text(INVOICE_HEADER + "INV-1,2026-10-01,ups,1Z999AA10123456784,transportation,10000000.00\n")
    code, _, _ = ingest("invoices", f)
    assert code == 0
    assert rows(db, "select amount_cents from invoice_line") == [(1_000_000_000,)]


def test_a_row_cut_short_is_a_row_error_and_the_corrected_file_then_loads(db: str, tmp_path: Path) -> None:
    good = "INV-1,2026-10-01,ups,1Z999AA10123456784,transportation,10.31\n"
    cut = tmp_path / "cut.csv"
    cut.write_text(INVOICE_HEADER + "INV-1,2026-10-01,ups,1Z999AA10123456784,transportation\n")  # amount lost
    code, summary, _ = ingest("invoices", cut)
    assert code == 1
    assert summary["errors"][0]["line"] == 2 and "fewer fields than the header" in summary["errors"][0]["reason"]
    assert rows(db, "select count(*) from invoice_line") == [(0,)]
    fixed = tmp_path / "fixed.csv"
    fixed.write_text(INVOICE_HEADER + good)
    code, summary, _ = ingest("invoices", fixed)
    assert code == 0 and summary["stored"] == 1
    assert rows(db, "select amount_cents from invoice_line") == [(1031,)]


def test_a_file_that_ends_mid_row_is_recognised_as_truncated(db: str, tmp_path: Path) -> None:
    f = tmp_path / "trunc.csv"
    f.write_text(INVOICE_HEADER + "INV-1,2026-10-01,ups,1Z999AA10123456784,transportation,10.31\n"
                 "INV-1,2026-10-01,ups,1Z999AA10123456785,transpor")
    code, summary, _ = ingest("invoices", f)
    assert code == 1
    assert "truncated" in summary["errors"][0]["reason"] and summary["errors"][0]["line"] == 3
    assert rows(db, "select count(*) from invoice_line") == [(0,)]     # the invoice loads whole or not at all


def test_a_row_with_extra_fields_is_a_row_error_and_good_rows_load(db: str, tmp_path: Path) -> None:
    f = tmp_path / "ship.csv"
    f.write_text(MANIFEST_HEADER
                 + "1Z999AA10123456784,ups,GND,2026-10-01,10001,US,,\n"
                 + "1Z999AA10123456785,ups,GND,2026-10-01,10001,US,,,surplus\n"
                 + "1Z999AA10123456786,ups,GND,2026-10-01,10001,US,,\n")
    code, summary, _ = ingest("shipments", f)
    assert code == 1
    assert [(e["line"], "more fields" in e["reason"]) for e in summary["errors"]] == [(3, True)]
    assert summary["stored"] == 2


@pytest.mark.parametrize(("value", "reason"), [("-5.00", "negative amount"),
                                               ("1000000000000.00", "out of range")])
def test_negative_or_huge_declared_values_are_row_errors(db: str, tmp_path: Path, value: str, reason: str) -> None:
    f = tmp_path / "ship.csv"
    f.write_text(MANIFEST_HEADER + f"1Z999AA10123456784,ups,GND,2026-10-01,10001,US,{value},\n"
                 + "1Z999AA10123456785,ups,GND,2026-10-01,10001,US,100.00,\n")
    code, summary, _ = ingest("shipments", f)
    assert code == 1 and summary["stored"] == 1
    assert reason in summary["errors"][0]["reason"] and summary["errors"][0]["column"] == "declared_value"


def test_a_header_only_file_loads_nothing_without_a_traceback(db: str, tmp_path: Path) -> None:
    f = tmp_path / "empty.csv"
    f.write_text(INVOICE_HEADER)
    code, summary, _ = ingest("invoices", f)
    assert code == 0 and summary["stored"] == 0


def test_a_fedex_row_cut_short_refuses_its_invoice(db: str, tmp_path: Path) -> None:
    from ..conftest import SHARED

    src = sorted((SHARED / "acceptance" / "small-formats" / "invoices").glob("FEDEX-*.csv"))[0]
    lines = src.read_text().splitlines()
    cut = [*lines[:2], ",".join(lines[2].split(",")[:20]), *lines[3:]]
    f = tmp_path / "fedex.csv"
    f.write_text("\n".join(cut) + "\n")
    code, summary, _ = ingest("invoices", f)
    assert code == 1 and summary["format"] == "fedex"
    assert summary["errors"][0]["line"] == 3 and "fewer fields than the header" in summary["errors"][0]["reason"]
    assert rows(db, "select count(*) from invoice_line") == [(0,)]
    f.write_text("\n".join(lines) + "\n")           # the complete file then loads
    code, summary, _ = ingest("invoices", f)
    assert code == 0 and summary["stored"] > 0


SCAN_HEADER = "tracking_number,carrier,occurred_at,status\n"


@pytest.mark.parametrize("when", ["9999-10-09T21:14:00-04:00", "0001-10-09T21:14:00-04:00",
                                  "2262-04-12T21:14:00-04:00", "1999-12-31T12:00:00+00:00"])
def test_scan_times_outside_the_plausible_window_are_row_errors(db: str, tmp_path: Path, when: str) -> None:
    f = tmp_path / "scans.csv"
    f.write_text(SCAN_HEADER + f"1Z999AA10123456784,ups,{when},in_transit\n"
                 "1Z999AA10123456784,ups,2026-10-09T21:14:00-04:00,delivered\n")
    code, summary, _ = ingest("scans", f)
    assert code == 1 and summary["stored"] == 1
    assert [(e["line"], e["column"]) for e in summary["errors"]] == [(2, "occurred_at")]
    assert "plausible window" in summary["errors"][0]["reason"]
    # nothing stored can crash the audit later
    assert rows(db, "select count(*) from scan_event where occurred_at > '2100-01-01'") == [(0,)]


def test_ship_dates_outside_the_window_are_row_errors(db: str, tmp_path: Path) -> None:
    f = tmp_path / "ship.csv"
    f.write_text(MANIFEST_HEADER + "1Z999AA10123456784,ups,GND,9999-12-31,10001,US,,\n"
                 + "1Z999AA10123456785,ups,GND,2026-10-01,10001,US,,\n")
    code, summary, _ = ingest("shipments", f)
    assert code == 1 and summary["stored"] == 1 and summary["errors"][0]["column"] == "ship_date"


def _easypost_event(tracking: str, *details: tuple[str, str, str]) -> str:
    return json.dumps({"object": "Event", "description": "tracker.updated", "result": {
        "object": "Tracker", "tracking_code": tracking, "carrier": "UPS",
        "tracking_details": [{"object": "TrackingDetail", "status": s, "datetime": t, "message": m}
                             for s, t, m in details]}})


def test_easypost_one_bad_event_time_does_not_refuse_the_file(db: str, tmp_path: Path) -> None:
    f = tmp_path / "events.jsonl"
    f.write_text(_easypost_event("1Z999AA10123456789", ("in_transit", "9999-01-01T00:00:00Z", "x"),
                                 ("delivered", "2026-10-01T00:00:00Z", "x")) + "\n")
    code, summary, _ = ingest("scans", f)
    assert code == 1 and summary["stored"] == 1 and "plausible window" in summary["errors"][0]["reason"]


def test_a_nul_in_json_text_is_a_row_error_on_every_store(db: str, tmp_path: Path) -> None:
    f = tmp_path / "events.jsonl"
    f.write_text(_easypost_event("1Z999AA10123456789", ("in_transit", "2026-09-30T00:00:00Z", "x\u0000y")) + "\n"
                 + _easypost_event("1Z999AA10123456790", ("delivered", "2026-10-01T00:00:00Z", "ok")) + "\n")
    code, summary, _ = ingest("scans", f)
    assert code == 1 and summary["stored"] == 1
    assert "NUL" in summary["errors"][0]["reason"]
    assert rows(db, "select tracking_number from scan_event") == [("1Z999AA10123456790",)]


def test_one_damaged_json_line_is_that_lines_error(db: str, tmp_path: Path) -> None:
    f = tmp_path / "events.jsonl"
    f.write_text(_easypost_event("1Z999AA10123456789", ("delivered", "2026-09-30T00:00:00Z", "x")) + "\n"
                 + '{"object": "Event", broken\n'
                 + _easypost_event("1Z999AA10123456790", ("delivered", "2026-10-01T00:00:00Z", "x")) + "\n")
    code, summary, _ = ingest("scans", f)
    assert code == 1 and summary["stored"] == 2
    assert [e["line"] for e in summary["errors"]] == [2]


def test_a_header_naming_a_column_twice_is_refused(db: str, tmp_path: Path) -> None:
    # pandas renames the second "carrier" to "carrier.1", so the check never fired and the first was used
    f = tmp_path / "scans.csv"
    f.write_text("tracking_number,carrier,occurred_at,status,carrier\n"
                 "1Z999AA10123456784,ups,2026-10-09T21:14:00-04:00,delivered,fedex\n")
    code, summary, _ = ingest("scans", f)
    assert code == 1 and summary["stored"] == 0
    assert "'carrier' appears twice in the header" in summary["errors"][0]["reason"]


def test_thousands_of_unknown_columns_are_not_read_and_are_named(db: str, tmp_path: Path) -> None:
    # the cost was quadratic in the column count (20k columns: 323 s); unknown columns are now left unread
    extra = [f"x{i}" for i in range(5000)]
    f = tmp_path / "scans.csv"
    f.write_text(",".join(["tracking_number", "carrier", "occurred_at", "status", *extra]) + "\n"
                 + ",".join(["1Z999AA10123456784", "ups", "2026-10-09T21:14:00-04:00", "delivered", *[""] * 5000])
                 + "\n")
    code, out, _ = run("ingest", "scans", str(f), "--format", "json")
    summary = json.loads(out)["files"][0]
    assert code == 0 and summary["stored"] == 1
    code, _, err = run("ingest", "scans", str(f))
    assert "5000 unknown column(s) not read: x0" in err


@pytest.mark.parametrize(("exc", "said"), [
    ("locked", "the database is busy or unreachable (database is locked)"),
    ("disk", "disk full writing /data/recoup.db-wal: free some space"),
])
def test_store_and_disk_failures_are_one_line_not_a_traceback(db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             exc: str, said: str) -> None:
    import errno
    import sqlite3

    from sqlalchemy.exc import OperationalError

    import recoup.ingest.service as service

    def boom(*a: object, **k: object) -> None:
        if exc == "locked":
            raise OperationalError("INSERT ...", {}, sqlite3.OperationalError("database is locked"))
        raise OSError(errno.ENOSPC, "No space left on device", "/data/recoup.db-wal")

    monkeypatch.setattr(service, "ingest_files", boom)
    f = tmp_path / "ship.csv"
    f.write_text(MANIFEST_HEADER + "1Z999AA10123456784,ups,GND,2026-10-01,10001,US,,\n")
    code, _, err = run("ingest", "shipments", str(f))
    assert code == 1
    assert said in " ".join(err.split()) and len(err.strip().splitlines()) <= 3
