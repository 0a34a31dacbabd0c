"""`recoup ingest` on Excel workbooks: every CSV format also read from an .xlsx sheet (issue 11)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import zipfile
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from recoup.cli import app
from recoup.ingest.xlsx import cell_text, float_text
from recoup.store.db import make_engine

from ..conftest import SMALL
from ..invoices.test_fedex_intl import FIXTURE, as_xlsx


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, list(args))
    return r.exit_code, r.stdout, r.stderr


@pytest.fixture
def initdb(cli_env: dict[str, str]) -> str:
    assert run("init")[0] == 0
    return cli_env["RECOUP_DATABASE_URL"]


def query(url: str, sql: str) -> list[tuple[object, ...]]:
    eng = make_engine(url)
    with eng.connect() as c:
        rows = [tuple(r) for r in c.execute(text(sql))]
    eng.dispose()
    return rows


def typed(value: str, column: str) -> object:
    """A CSV cell as Excel stores it: numbers as numbers, dates as dates, booleans as booleans."""
    if value == "":
        return None
    if column.endswith("date") and len(value) == 10:
        return dt.datetime.fromisoformat(value)
    if value in ("true", "false"):
        return value == "true"
    if column in ("tracking_number", "account_number", "invoice_number", "zone", "order_id", "dest_postal",
                  "origin_postal"):
        return value
    try:
        return int(value) if value.isdigit() else float(value)
    except ValueError:
        return value


def workbook_of(csv_path: Path, out: Path, *, rows: int | None = None, blank_before: int | None = None,
                edit: dict[tuple[int, str], str] | None = None, sheets_before: int = 0) -> Path:
    with open(csv_path, encoding="utf-8-sig", newline="") as f:
        data = list(csv.reader(f))
    header, body = data[0], data[1:][:rows]
    wb = openpyxl.Workbook()
    ws = wb.active
    for k in range(sheets_before):      # empty sheets first: the first sheet WITH data is read
        ws.title = f"Empty {k}"
        ws = wb.create_sheet("Data")
    ws.append(header)
    for i, row in enumerate(body):
        if blank_before is not None and i == blank_before:
            ws.append([])
        for (at, column), value in (edit or {}).items():
            if at == i:
                row[header.index(column)] = value
        ws.append([typed(v, c) for v, c in zip(row, header, strict=True)])
    wb.save(out)
    return out


def test_cells_become_exact_text() -> None:
    assert float_text(12.3) == "12.3"
    assert float_text(0.1 + 0.2) == "0.3"
    assert float_text(12.300000000000001) == "12.3"
    assert float_text(7.92739080526e11) == "792739080526"
    assert float_text(-9.12) == "-9.12" and float_text(2.345) == "2.345" and float_text(1.0) == "1"
    assert cell_text(792739080526) == "792739080526"
    assert cell_text(dt.datetime(2026, 9, 5)) == "2026-09-05"
    assert cell_text(dt.datetime(2026, 9, 5, 10, 30)) == "2026-09-05T10:30:00"
    assert cell_text(True) == "true" and cell_text("a\nb") == "a b" and cell_text(None) == ""


def test_the_fedex_download_as_csv_and_as_xlsx_loads_the_same_lines(initdb: str, tmp_path: Path) -> None:
    code, out, err = run("ingest", "invoices", str(FIXTURE), "--format", "json")
    assert code == 0, err
    s = json.loads(out)["files"][0]
    assert s["format"] == "fedex_intl" and s["stored"] == 11 and s["rejected"] == 0
    [(total, currency)] = query(initdb, "select total_cents, currency from invoice")
    assert (total, currency) == (125983, "EUR")          # the file's Invoice Amount, 1.259,83
    code, out, err = run("ingest", "invoices", str(as_xlsx(tmp_path)), "--format", "json")
    assert code == 0, err
    s = json.loads(out)["files"][0]
    assert s["format"] == "fedex_intl" and s["stored"] == 0 and s["duplicates"] == 11   # the same lines


def test_an_xlsx_of_canonical_invoices_loads_with_sheet_row_numbers(initdb: str, tmp_path: Path) -> None:
    src = SMALL / "invoices" / "DPD_UK-20260905-5100.csv"
    good = workbook_of(src, tmp_path / "dpd.xlsx", sheets_before=1)
    code, out, err = run("ingest", "invoices", str(good), "--format", "json")
    assert code == 0, err
    s = json.loads(out)["files"][0]
    n = len(src.read_text(encoding="utf-8").splitlines()) - 1
    assert s["format"] == "canonical" and s["stored"] == n
    [(total,)] = query(initdb, "select total_cents from invoice")
    with open(src, encoding="utf-8") as f:
        want = sum(round(float(r["amount"]) * 100) for r in csv.DictReader(f))
    assert total == want
    # a bad row after a blank row: the error names the sheet's row (header 1, rows 2-4, blank 5, row 6)
    bad = workbook_of(src, tmp_path / "bad.xlsx", rows=4, blank_before=3,
                      edit={(3, "invoice_number"): "X-1", (3, "charge_type"): "teleport"})
    code, out, _ = run("ingest", "invoices", str(bad), "--format", "json")
    errors = json.loads(out)["files"][0]["errors"]
    assert (6, "charge_type") in {(e["line"], e["column"]) for e in errors}


def test_an_xlsx_manifest_loads_like_its_csv(initdb: str, tmp_path: Path) -> None:
    src = SMALL / "shipments.csv"
    xlsx = workbook_of(src, tmp_path / "manifest.xlsx", rows=40)
    code, out, err = run("ingest", "shipments", str(xlsx), "--format", "json")
    assert code == 0, err
    s = json.loads(out)["files"][0]
    assert s["format"] == "canonical" and s["stored"] == 40 and s["rejected"] == 0
    code, out, _ = run("ingest", "shipments", str(src), "--format", "json")
    s = json.loads(out)["files"][0]
    assert s["duplicates"] == 40 and s.get("updated", 0) == 0     # the same rows
    rows = query(initdb, "select tracking_number, ship_date, dest_residential from shipment order by id limit 1")
    with open(src, encoding="utf-8") as f:
        first = next(csv.DictReader(f))
    assert rows[0][0] == first["tracking_number"] and str(rows[0][1])[:10] == first["ship_date"]


def test_workbooks_that_cannot_be_read_are_refused_with_one_line(initdb: str, tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.xlsx"
    good = as_xlsx(tmp_path, "good.xlsx").read_bytes()
    damaged.write_bytes(good[: len(good) // 2])              # cut off: no central directory
    empty = tmp_path / "empty.xlsx"
    openpyxl.Workbook().save(empty)
    other = tmp_path / "other.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["Name", "Amount"])
    wb.active.append(["Lunch", 12.5])
    wb.save(other)
    garbage = tmp_path / "garbage.xlsx"
    with zipfile.ZipFile(garbage, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "not xml at all")
    code, out, err = run("ingest", "invoices", str(damaged), str(empty), str(other), str(garbage),
                         "--format", "json")
    assert code == 1
    files = json.loads(out)["files"]
    reasons = [f["refused"] for f in files]
    assert all(r and "\n" not in r and "Excel workbook" in r for r in reasons), reasons
    assert "cannot be opened" in reasons[0] and "cannot be opened" in reasons[3]
    assert "no data in any sheet" in reasons[1]
    assert "'Sheet', header row 1) is not recognised as any invoices format" in reasons[2]
    assert "Traceback" not in err
