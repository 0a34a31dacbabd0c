"""Ingest through the CLI: idempotency, bad rows and files, the JSON summary of product.md."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from recoup.cli import app
from recoup.store.db import make_engine

from ..conftest import SMALL


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, list(args))
    return r.exit_code, r.stdout, r.stderr


@pytest.fixture
def initdb(cli_env: dict[str, str]) -> str:
    assert run("init")[0] == 0
    return cli_env["RECOUP_DATABASE_URL"]


def count(url: str, table: str) -> int:
    eng = make_engine(url)
    with eng.connect() as c:
        n = int(c.execute(text(f"select count(*) from {table}")).scalar_one())
    eng.dispose()
    return n


def test_same_files_twice_add_nothing(initdb: str) -> None:
    code, out, _ = run("ingest", "shipments", str(SMALL / "shipments.csv"), "--format", "json")
    assert code == 0
    first = json.loads(out)["files"][0]
    assert first["stored"] == 600 and first["read"] == 600 and first["format"] == "canonical"
    code, out, _ = run("ingest", "shipments", str(SMALL / "shipments.csv"), "--format", "json")
    again = json.loads(out)["files"][0]
    assert code == 0 and again["stored"] == 0 and again["duplicates"] == 600
    assert run("ingest", "scans", str(SMALL / "scans.csv"))[0] == 0
    scans = count(initdb, "scan_event")
    code, out, _ = run("ingest", "scans", str(SMALL / "scans.csv"), "--format", "json")
    assert json.loads(out)["files"][0]["stored"] == 0
    assert count(initdb, "scan_event") == scans
    inv = sorted(str(p) for p in (SMALL / "invoices").glob("UPS-*"))
    assert run("ingest", "invoices", *inv)[0] == 0
    lines = count(initdb, "invoice_line")
    code, out, _ = run("ingest", "invoices", *inv, "--format", "json")
    assert code == 0
    assert all(f["stored"] == 0 for f in json.loads(out)["files"])
    assert count(initdb, "invoice_line") == lines


def test_bad_rows_are_reported_and_kept_out(initdb: str, tmp_path: Path) -> None:
    f = tmp_path / "scans.csv"
    f.write_text(
        "\ufefftracking_number,carrier,occurred_at,status,exception_reason\r\n"
        "1Z1,ups,2026-10-09T21:14:00-04:00,delivered,\r\n"
        "1Z2,ups,2026-10-09T21:14:00,delivered,\r\n"          # no offset
        "1Z3,ups,2026-10-09T21:14:00-04:00,teleported,\r\n"   # unknown status
        "\r\n"
        "1Z4,ups,2026-10-09T21:14:00-04:00,exception,weather\r\n", encoding="utf-8")
    code, out, err = run("ingest", "scans", str(f), "--format", "json")
    assert code == 1
    s = json.loads(out)["files"][0]
    assert s["read"] == 4 and s["stored"] == 2 and s["rejected"] == 2
    errs = {(e["line"], e["column"]) for e in s["errors"]}
    assert errs == {(3, "occurred_at"), (4, "status")}
    assert "line 3, column occurred_at" in err
    assert "Traceback" not in err


def test_file_refused_whole_with_reason(initdb: str, tmp_path: Path) -> None:
    b = tmp_path / "blob.csv"
    b.write_bytes(b"\x00\x01\x02binary")
    e = tmp_path / "empty.csv"
    e.write_text("")
    good = SMALL / "shipments.csv"
    code, out, err = run("ingest", "shipments", str(b), str(e), str(tmp_path / "nope.csv"), str(good),
                         "--format", "json")
    assert code == 1
    files = json.loads(out)["files"]
    assert [f.get("refused") is not None for f in files] == [True, True, True, False]
    assert files[3]["stored"] == 600  # the good file is not taken down by the bad ones
    assert "binary" in files[0]["refused"] and "empty" in files[1]["refused"]
    assert "Traceback" not in err


def test_resent_manifest_row_updates_the_shipment(initdb: str, tmp_path: Path) -> None:
    head = "tracking_number,carrier,service,ship_date,dest_postal,dest_country,dest_residential\n"
    a = tmp_path / "a.csv"
    a.write_text(head + "T1,ups,GND,2026-10-01,10001,US,true\nT2,ups,GND,2026-10-01,10001,US,true\n")
    b = tmp_path / "b.csv"
    b.write_text(head + "T1,ups,GND,2026-10-01,10001,US,false\n")
    assert run("ingest", "shipments", str(a))[0] == 0
    code, out, _ = run("ingest", "shipments", str(b), "--format", "json")
    s = json.loads(out)["files"][0]
    assert code == 0 and s["stored"] == 0 and s["updated"] == 1
    assert count(initdb, "shipment") == 2
    eng = make_engine(initdb)
    with eng.connect() as c:
        v = c.execute(text("select dest_residential from shipment where tracking_number='T1'")).scalar_one()
    eng.dispose()
    assert not v


def test_invoice_whole_or_nothing_and_conflicting_refused(initdb: str, tmp_path: Path) -> None:
    head = "invoice_number,invoice_date,carrier,tracking_number,charge_type,amount\n"
    f = tmp_path / "inv.csv"
    f.write_text(head + "A1,2026-10-01,ups,T1,transportation,10.00\n"
                 "A1,2026-10-01,ups,T1,fuel,1.8x\n"            # bad amount: A1 refused whole
                 "B1,2026-10-01,ups,T2,transportation,12.00\n")
    code, out, _ = run("ingest", "invoices", str(f), "--format", "json")
    s = json.loads(out)["files"][0]
    assert code == 1 and s["stored"] == 1
    assert count(initdb, "invoice") == 1
    fixed = tmp_path / "fixed.csv"
    fixed.write_text(head + "A1,2026-10-01,ups,T1,transportation,10.00\nA1,2026-10-01,ups,T1,fuel,1.80\n")
    code, out, _ = run("ingest", "invoices", str(fixed), "--format", "json")
    assert code == 0 and json.loads(out)["files"][0]["stored"] == 2
    other = tmp_path / "other.csv"
    other.write_text(head + "A1,2026-10-01,ups,T1,transportation,99.00\n")
    code, out, _err = run("ingest", "invoices", str(other), "--format", "json")
    assert code == 1
    assert "already loaded with different lines" in json.loads(out)["files"][0]["errors"][0]["reason"]
    assert count(initdb, "invoice_line") == 3


def test_credit_lines_become_credits(initdb: str) -> None:
    code, _, _ = run("ingest", "invoices", str(SMALL / "credits" / "UPS-20261115-CR.csv"))
    assert code == 0
    assert count(initdb, "credit") > 0


def _ups_row(values: dict[int, str]) -> str:
    cells = [""] * 250
    base = {0: "2.1", 2: "A1B2C3", 4: "2026-10-17", 5: "UPS-REAL-1", 9: "USD", 11: "2026-10-09", 34: "SHP",
            35: "ISS", 28: "5", 29: "L", 33: "004"}
    for pos, value in {**base, **values}.items():
        cells[pos] = value
    return ",".join(cells)


def test_ups_account_level_rows_and_incentives_as_really_exported(initdb: str, tmp_path: Path) -> None:
    """A UPS Billing Data invoice as UPS exports it (formats.md, issue 11) loads whole: account-level rows
    count in the invoice's total and belong to no parcel; incentives are never credits."""
    tn = "1Z2538070334435059"
    rows = [
        _ups_row({20: tn, 13: tn, 43: "FRT", 44: "002", 45: "2nd Day Air Residential", 52: "44.70"}),
        _ups_row({20: tn, 13: tn, 43: "ACC", 44: "SIM", 45: "Special Incentive Modifier", 52: "-20.26"}),
        _ups_row({20: tn, 13: tn, 43: "INF", 44: "SIM", 45: "Special Incentive Modifier", 52: "0.00"}),
        _ups_row({20: tn, 13: tn, 43: "FSC", 44: "FSC", 45: "Fuel Surcharge", 52: "3.10"}),
        _ups_row({34: "MIS", 35: "SVCH", 43: "FRT", 44: "NSS", 45: "Payment Processing Fee", 52: "2.23",
                  28: "", 29: "", 33: ""}),
    ]
    f = tmp_path / "ups.csv"
    f.write_text("\n".join(rows) + "\n")
    code, out, err = run("ingest", "invoices", str(f), "--format", "json")
    assert code == 0, err
    summary = json.loads(out)["files"][0]
    assert summary["format"] == "ups" and summary["stored"] == 3 and summary["rejected"] == 0
    eng = make_engine(initdb)
    with eng.connect() as c:
        total = c.execute(text("select total_cents from invoice")).scalar_one()
        lines = c.execute(text("select tracking_number, charge_type, amount_cents from invoice_line "
                               "order by line_no")).all()
    eng.dispose()
    assert total == 4470 - 2026 + 310 + 223
    assert [tuple(r) for r in lines] == [(tn, "transportation", 2444), (tn, "fuel", 310), (None, "other", 223)]
    assert count(initdb, "credit") == 0
    # the same file again adds nothing
    code, out, _ = run("ingest", "invoices", str(f), "--format", "json")
    assert code == 0 and json.loads(out)["files"][0]["stored"] == 0


def test_a_renamed_column_never_blanks_known_values(initdb: str, tmp_path: Path) -> None:
    """Issue 14: a manifest re-sent with `wt` for `weight` erased the weights and said "stored 0 ok"."""
    import csv

    assert run("ingest", "shipments", str(SMALL / "shipments.csv"))[0] == 0
    eng = make_engine(initdb)
    with eng.connect() as c:
        weights = dict(c.execute(text("select tracking_number, weight from shipment")).all())
    assert sum(w is not None for w in weights.values()) > 100
    with open(SMALL / "shipments.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    header = list(rows[0])
    renamed = tmp_path / "manifest-wt.csv"
    with open(renamed, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["wt" if h == "weight" else h for h in header])
        for i, r in enumerate(rows):
            if i < 3:
                r = {**r, "service": r["service"] + "X"}      # three rows really change
            w.writerow([r[h] for h in header])
    code, out, err = run("ingest", "shipments", str(renamed))
    assert code == 0, err
    assert "updated" in out                                  # the table shows updates, not only JSON
    line = next(x for x in out.splitlines() if "manifest-wt" in x or "canonical" in x)
    assert " 3 " in line
    assert "unknown column(s) not read: wt (did you mean weight?)" in " ".join(err.split())
    with eng.connect() as c:
        after = dict(c.execute(text("select tracking_number, weight from shipment")).all())
    eng.dispose()
    assert after == weights                                  # no weight erased
    code, out, _ = run("ingest", "shipments", str(renamed), "--format", "json")
    again = json.loads(out)["files"][0]
    assert again["stored"] == 0 and again.get("updated", 0) == 0 and again["duplicates"] == len(rows)
    assert any("wt" in n for n in again["notes"])


def test_a_file_under_the_wrong_kind_says_which_command_takes_it(initdb: str, tmp_path: Path) -> None:
    """Issue 14: the refusal advised `--input-format`, which `ingest shipments` does not have."""
    invoice = sorted((SMALL / "invoices").glob("*.csv"))[0]
    for kind, path, right in (("shipments", SMALL / "scans.csv", "scans"),
                              ("scans", SMALL / "shipments.csv", "shipments"),
                              ("shipments", invoice, "invoices"),
                              ("invoices", SMALL / "scans.csv", "scans")):
        code, _out, err = run("ingest", kind, str(path))
        assert code == 1
        flat = " ".join(err.split())
        assert f"looks like a{'n' if right[0] == 'i' else ''} {right} file" in flat and f"use `recoup ingest {right}`" in flat, (kind, flat)
    odd = tmp_path / "odd.csv"
    odd.write_text("a,b\n1,2\n")
    _code, _out, err = run("ingest", "shipments", str(odd))
    flat = " ".join(err.split())
    assert "--input-format" not in flat and "tracking_number" in flat
    _code, _out, err = run("ingest", "scans", str(odd))
    assert "--input-format" in " ".join(err.split())
