"""UPS Billing Data and FedEx invoice files are read and stored in batches of whole invoices when
they are large (issue 17): a file split across many batches stores exactly the invoices, lines and
credits, and reports exactly the counts, row errors (file, line, reason, in order) and notes, that
reading it whole does -- on the acceptance sets' real-shaped invoices, with bad rows, account-level
rows, incentives, an Invoice Amount that does not add up, and a second load of the same file."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from recoup.clock import FixedClock
from recoup.ingest.service import FileSummary, ingest_file
from recoup.invoices import fedex_csv, ups_billing
from recoup.invoices.charges.columns import read_head
from recoup.store.db import init_db, make_engine

CLOCK = FixedClock(dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC))
REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "acceptance" / "real-formats" / "invoices"
TABLES = ("credit", "invoice_line", "invoice", "ingested_file")


def _real(sniff: Callable[[bytes], bool]) -> list[Path]:
    files = [p for p in sorted(REAL.glob("*.csv")) if sniff(read_head(p))]
    if not files:
        pytest.skip("the acceptance sets are not beside the repository")
    return files


def _cells(line: str) -> list[str]:
    return line.split(",")


def _ups_file(path: Path) -> Path:
    """The real-formats UPS Billing Data invoices in one file, with a bad amount (its invoice is
    refused), a changed amount (the Invoice Amount note), an amount over the bound, a blank line."""
    lines: list[str] = []
    for number, p in enumerate(_real(ups_billing.sniff)):
        rows = p.read_text(encoding="utf-8-sig").splitlines()
        if number == 2:
            c = _cells(rows[5])
            c[52] = "12.3x"
            rows[5] = ",".join(c)
        if number == 5:
            c = _cells(rows[3])
            c[52] = f"{float(c[52]) + 1:.2f}"
            rows[3] = ",".join(c)
        if number == 7:
            c = _cells(rows[-2])
            c[52] = "99999999999.00"
            rows[-2] = ",".join(c)
        if number == 9:
            rows.insert(4, "")
        lines += rows
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _fedex_file(path: Path) -> Path:
    """The real-formats FedEx invoices in one file (one header), with a bad amount and a row short of
    a field (both refuse their invoice)."""
    files = _real(fedex_csv.sniff)
    header = files[0].read_text(encoding="utf-8-sig").splitlines()[0]
    files = [p for p in files if p.read_text(encoding="utf-8-sig").splitlines()[0] == header]   # one layout
    lines = [header]
    for number, p in enumerate(files):
        rows = p.read_text(encoding="utf-8-sig").splitlines()[1:]
        if number == 1:
            c = _cells(rows[2])
            c[9] = "4x.00"
            rows[2] = ",".join(c)
        if number == 4:
            rows[3] = rows[3].rsplit(",", 1)[0]
        lines += rows
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _outcome(s: FileSummary) -> tuple[Any, ...]:
    errors = [(e.line, e.column, e.reason, e.invoice_number) for e in s.errors]
    return (s.refused, s.format, s.read, s.stored, s.duplicates, s.rejected, errors, s.notes,
            dict(s.unknown_codes), s.invoices)


def _stored(url: str) -> dict[str, list[tuple[str, ...]]]:
    eng = make_engine(url)
    queries = {
        "invoice": "SELECT carrier, invoice_number, invoice_date, account_number, currency, lines_hash, "
                   "line_count, total_cents, format FROM invoice",
        "invoice_line": "SELECT i.invoice_number, l.line_no, l.tracking_number, l.charge_type, l.amount_cents, "
                        "l.currency, l.billed_weight, l.weight_unit, l.zone, l.service, l.ship_date, l.reference, "
                        "l.description, l.account_number, l.adjustment FROM invoice_line l "
                        "JOIN invoice i ON i.id = l.invoice_id",
        "credit": "SELECT carrier, tracking_number, invoice_number, reference, description, amount_cents "
                  "FROM credit",
        "ingested_file": "SELECT kind, format, outcome, read, stored, duplicates, rejected, message "
                         "FROM ingested_file",
    }
    try:
        with eng.connect() as c:
            return {t: sorted(tuple(str(v) for v in r) for r in c.execute(text(q))) for t, q in queries.items()}
    finally:
        eng.dispose()


def _ingest(url: str, paths: list[Path], chunk_bytes: int | None) -> tuple[list[tuple[Any, ...]], dict[str, Any]]:
    eng = make_engine(url)
    init_db(eng)
    try:
        outcomes = [_outcome(ingest_file(eng, "invoices", p, clock=CLOCK, chunk_bytes=chunk_bytes)) for p in paths]
        return outcomes, _stored(url)
    finally:
        with eng.begin() as c:
            for t in TABLES:
                c.execute(text(f"DELETE FROM {t}"))
        eng.dispose()


@pytest.fixture
def streamed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The readers' batched reads, counted (to tell which path a file took)."""
    calls: list[str] = []
    for module in (ups_billing, fedex_csv):
        real = module.read_stream

        def spy(path: Path, *, chunk_bytes: int, _real: Any = real, _name: str = module.FORMAT) -> Any:
            calls.append(_name)
            return _real(path, chunk_bytes=chunk_bytes)

        monkeypatch.setattr(module, "read_stream", spy)
    return calls


@pytest.mark.parametrize("make", [_ups_file, _fedex_file], ids=["ups", "fedex"])
@pytest.mark.parametrize("chunk_bytes", [600, 5000, 40000])
def test_a_file_read_in_batches_stores_what_the_whole_file_stores(db_url: str, tmp_path: Path, streamed: list[str],
                                                                 make: Callable[[Path], Path], chunk_bytes: int) -> None:
    path = make(tmp_path / "invoices.csv")
    changed = tmp_path / "changed.csv"       # the same invoices, one amount changed: refused as today
    changed.write_text(_change_one_amount(path), encoding="utf-8")
    whole = _ingest(db_url, [path, path, changed], 0)            # 0: read whole, as before
    assert streamed == []
    split = _ingest(db_url, [path, path, changed], chunk_bytes)
    assert len(streamed) == 3
    assert split == whole
    first, again, other = whole[0]
    # the bad rows refuse their invoices whole; the rest is stored
    assert first[5] > 0 and any("refused whole" in e[2] for e in first[6])
    assert first[3] > 200 and len(first[9]) >= 4
    # the second load of the same file: every stored line a duplicate, nothing new
    assert (again[3], again[4]) == (0, first[3])
    assert any("already loaded with different lines" in e[2] for e in other[6])
    if make is _ups_file:
        notes = " ".join(first[7])
        assert "account-level row(s)" in notes and "incentive row(s) folded" in notes
        assert "Invoice Amount (column 10)" in notes and "1 blank line(s) skipped" in notes
        assert any(e[1] == "amount" and "out of range" in e[2] for e in first[6])
        assert any(r[2] == "None" for r in whole[1]["invoice_line"])          # account-level lines


def _change_one_amount(path: Path) -> str:
    """The file with the first charge row's amount raised by a cent (UPS Net Amount, FedEx
    Transportation Charge Amount)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    at, column = (0, 52) if ups_billing.sniff(read_head(path)) else (1, 9)
    c = lines[at].split(",")
    c[column] = f"{float(c[column]) + 0.01:.2f}"
    lines[at] = ",".join(c)
    return "\n".join(lines) + "\n"


def test_an_invoice_across_chunk_boundaries_is_stored_whole(sqlite_engine: Any, tmp_path: Path,
                                                            streamed: list[str]) -> None:
    path = _ups_file(tmp_path / "ups.csv")
    s = ingest_file(sqlite_engine, "invoices", path, clock=CLOCK, chunk_bytes=300)   # a few lines a chunk
    assert streamed == ["ups"]
    whole = ups_billing.read(path)
    with sqlite_engine.connect() as c:
        counts = dict(c.execute(text("SELECT invoice_number, line_count FROM invoice")).all())
    expected = whole.frame.groupby("invoice_number").size().to_dict()
    assert counts and all(counts[k] == expected[k] for k in counts)
    assert len(counts) == len(s.invoices) and max(counts.values()) > 20


@pytest.mark.parametrize("why", ["not_contiguous", "no_invoice_number"])
def test_files_the_batches_cannot_take_exactly_are_read_whole(db_url: str, tmp_path: Path, streamed: list[str],
                                                              why: str) -> None:
    lines = _ups_file(tmp_path / "base.csv").read_text(encoding="utf-8").splitlines()
    if why == "not_contiguous":
        lines.append(lines[0])               # the first invoice comes back at the end of the file
    else:
        c = lines[len(lines) // 2].split(",")
        c[5] = ""                            # a row with no invoice number refuses every invoice of the file
        lines[len(lines) // 2] = ",".join(c)
    path = tmp_path / "ups.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    whole = _ingest(db_url, [path], 0)
    split = _ingest(db_url, [path], 2000)
    assert streamed == ["ups"]
    assert split == whole
    if why == "no_invoice_number":
        assert whole[1]["invoice"] == []


def test_small_files_keep_the_whole_file_path_by_default(sqlite_engine: Any, tmp_path: Path,
                                                         streamed: list[str]) -> None:
    path = _ups_file(tmp_path / "ups.csv")
    s = ingest_file(sqlite_engine, "invoices", path, clock=CLOCK)     # far below INVOICE_STREAM_ABOVE
    assert streamed == [] and s.stored > 400


def test_files_above_the_threshold_are_batched_by_default(sqlite_engine: Any, tmp_path: Path, streamed: list[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from recoup.ingest import service

    path = _ups_file(tmp_path / "ups.csv")
    monkeypatch.setattr(service, "INVOICE_STREAM_ABOVE", path.stat().st_size - 1)
    s = ingest_file(sqlite_engine, "invoices", path, clock=CLOCK)
    assert streamed == ["ups"] and s.stored > 400


@pytest.mark.parametrize(("name", "digest"), [
    ("UPS-20261114-9177.csv", "48431776b7f0084f25e58389ff3166a54fc332585d8cc302471fc0c90c791b68"),
    ("FEDEX-20261114-4604.csv", "9737cf993a9997fb5f47cfb15043910f97622dd57fbeb849d462e72fe07cee54"),
])
def test_the_stored_lines_hash_is_the_one_earlier_versions_stored(sqlite_engine: Any, name: str, digest: str) -> None:
    """A database loaded by an earlier version must still see a re-sent invoice as a duplicate."""
    path = REAL / name
    if not path.exists():
        pytest.skip("the acceptance sets are not beside the repository")
    s = ingest_file(sqlite_engine, "invoices", path, clock=CLOCK)
    assert s.stored
    with sqlite_engine.connect() as c:
        assert c.execute(text("SELECT lines_hash FROM invoice")).scalar_one() == digest
