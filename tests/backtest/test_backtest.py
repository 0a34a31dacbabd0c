"""Issue 12, `recoup backtest`: the public acceptance set (small), loaded as score.py loads it, replayed
over its whole period: the recoverable money per carrier and kind, filed in time (99 %+ in USD and
GBP), what leaked and why; the real database is only read."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from tests.conftest import SMALL
from typer.testing import CliRunner

from recoup.cli import app
from recoup.leakage import AMOUNT_UNKNOWN, CHANNEL
from recoup.store.db import make_engine

PERIOD = ["--from", "2026-08-24", "--to", "2026-11-16"]
KINDS = {"late_delivery", "lost", "damaged", "void_label", "duplicate_charge", "residential_surcharge",
         "address_correction", "delivery_area_surcharge", "dim_weight", "rate_overcharge", "fuel_surcharge"}

pytestmark = pytest.mark.skipif(not SMALL.is_dir(), reason="the shared acceptance data is not there")


def run(db: str, *args: str, contracts: Path = SMALL / "contracts") -> Any:
    r = CliRunner().invoke(app, ["--db", db, "--contracts", str(contracts), *args])
    assert r.exit_code == 0, (args, r.stdout[-2000:], r.stderr[-3000:])
    return r


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The acceptance set as score.py loads it: init, shipments, scans, invoices, credit notes."""
    saved = {k: os.environ.pop(k) for k in list(os.environ)
             if k.startswith("RECOUP_") and k != "RECOUP_TEST_DATABASE_URL"}
    try:
        db = f"sqlite:///{tmp_path_factory.mktemp('bt') / 'real.db'}"
        run(db, "init")
        run(db, "ingest", "shipments", str(SMALL / "shipments.csv"))
        run(db, "ingest", "scans", str(SMALL / "scans.csv"))
        run(db, "ingest", "invoices", *sorted(str(p) for p in (SMALL / "invoices").iterdir()))
        run(db, "ingest", "invoices", *sorted(str(p) for p in (SMALL / "credits").iterdir()))
        yield db
    finally:
        os.environ.update(saved)


@pytest.fixture(scope="module")
def result(loaded: str) -> dict[str, Any]:
    path = Path(loaded.removeprefix("sqlite:///"))
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    r = run(loaded, "backtest", *PERIOD, "--format", "json")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before       # the real database is only read
    return json.loads(r.stdout)                                          # the data alone on stdout


def D(v: str) -> Decimal:
    return Decimal(v)


def test_the_whole_period_files_99_percent_in_time_in_both_currencies(result: dict[str, Any]) -> None:
    totals = {t["currency"]: t for t in result["totals"]}
    assert totals.keys() == {"USD", "GBP"}
    for cur, t in totals.items():
        assert D(t["recoverable"]) > 0
        rate = D(t["filed_in_time"]) / D(t["recoverable"])
        assert rate >= Decimal("0.99"), (cur, t)
    assert result["days"] == 85 and result["filed_claims"] > 100 and result["problems"] == []


def test_rows_per_carrier_and_kind_reconcile_to_the_cent(result: dict[str, Any]) -> None:
    rows = result["rows"]
    assert {r["carrier"] for r in rows} == {"ups", "fedex", "dpd_uk", "royal_mail"}
    assert {r["kind"] for r in rows} <= KINDS and {"late_delivery", "lost", "duplicate_charge"} <= {r["kind"] for r in rows}
    for r in rows:
        for k in ("recoverable", "filed_in_time", "leaked", "still_claimable", "credited_unfiled"):
            assert D(r[k]) == D(r[k]).quantize(Decimal("0.01")) and len(r[k].split(".")[1]) == 2
        assert D(r["recoverable"]) == sum(D(r[k]) for k in ("filed_in_time", "leaked", "still_claimable",
                                                             "credited_unfiled"))
        assert D(r["leaked"]) == sum((D(v) for v in r["leaked_because"].values()), Decimal(0))
        # a ratio is a JSON number (issue 14); the amounts above stay exact strings
        rate = r["filed_in_time_rate"]
        assert (rate is None) == (D(r["recoverable"]) == 0)
        assert rate is None or (isinstance(rate, float)
                                and rate == float((D(r["filed_in_time"]) / D(r["recoverable"])).quantize(D("0.0001"))))
    for t in result["totals"]:
        mine = [r for r in rows if r["currency"] == t["currency"]]
        for k in ("recoverable", "filed_in_time", "leaked", "still_claimable"):
            assert D(t[k]) == sum((D(r[k]) for r in mine), Decimal(0))
        assert t["findings"] == sum(r["findings"] for r in mine)


def test_what_cannot_be_known_is_said(result: dict[str, Any]) -> None:
    notes = " ".join(result["notes"])
    assert "backlog" in notes
    assert "assumed to work" in notes


def test_csv_table_and_files(loaded: str, tmp_path: Path) -> None:
    r = run(loaded, "backtest", *PERIOD, "--format", "csv", "--out", str(tmp_path / "out"))
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert {"carrier", "kind", "currency", "recoverable", "filed_in_time", "leaked", "leaked_because",
            "still_claimable"} <= rows[0].keys()
    assert [r["currency"] for r in rows if r["carrier"] == "TOTAL"] == ["GBP", "USD"]
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == [f"backtest-2026-08-24-2026-11-16.{e}" for e in ("html", "json", "xlsx")]
    saved = json.loads((tmp_path / "out" / names[1]).read_text(encoding="utf-8"))
    assert saved["totals"] == [{k: v for k, v in t.items()} for t in saved["totals"]] and saved["rows"]
    from openpyxl import load_workbook

    wb = load_workbook(tmp_path / "out" / names[2])
    assert wb.sheetnames == ["Summary", "Leakage", "Filed", "Notes"]
    assert "Leakage" in (tmp_path / "out" / names[0]).read_text(encoding="utf-8")
    t = run(loaded, "backtest", *PERIOD)
    assert "TOTAL" in t.stdout and "late_delivery" in t.stdout


def test_what_if_other_contract_terms(loaded: str, tmp_path: Path, result: dict[str, Any]) -> None:
    """A 3-day late window for UPS: the refund's amount (the invoice's transportation line) comes
    weekly, so late-delivery windows close before the amount is known."""
    terms = tmp_path / "contracts"
    shutil.copytree(SMALL / "contracts", terms)
    ups = terms / "ups.toml"
    ups.write_text(ups.read_text(encoding="utf-8").replace("late_window_days = 15", "late_window_days = 3"),
                   encoding="utf-8")
    r = json.loads(run(loaded, "backtest", *PERIOD, "--format", "json", "--contracts", str(terms)).stdout)
    late = {x["kind"]: x for x in r["rows"] if x["carrier"] == "ups"}["late_delivery"]
    assert D(late["leaked"]) > 0 and D(late["leaked_because"].get(AMOUNT_UNKNOWN, "0")) > 0
    before = {x["kind"]: x for x in result["rows"] if x["carrier"] == "ups"}["late_delivery"]
    assert D(late["filed_in_time"]) < D(before["filed_in_time"])
    assert r["contracts"] == str(terms)


def test_as_configured_leaks_to_unconfigured_channels(loaded: str, tmp_path: Path) -> None:
    """No channel settings: UPS (api, no URL) and the UK carriers (e-mail, no SMTP) cannot file;
    FedEx writes dispute files to an outbox, which needs nothing more."""
    r = json.loads(run(loaded, "backtest", *PERIOD, "--format", "json", "--as-configured").stdout)
    assert set(r["dead_channels"]) == {"ups", "dpd_uk", "royal_mail"}
    by = {(x["carrier"], x["currency"]): Decimal(0) for x in r["rows"]}
    for x in r["rows"]:
        by[(x["carrier"], x["currency"])] += D(x["filed_in_time"])
    assert by[("fedex", "USD")] > 0 and by[("ups", "USD")] == 0
    ups_leaked = sum((D(x["leaked_because"].get(CHANNEL, "0")) for x in r["rows"] if x["carrier"] == "ups"),
                     Decimal(0))
    assert ups_leaked > 0


def test_a_claim_filed_by_a_person_is_said_not_guessed(loaded: str, tmp_path: Path) -> None:
    copy = tmp_path / "copy.db"
    shutil.copyfile(loaded.removeprefix("sqlite:///"), copy)
    db = f"sqlite:///{copy}"
    run(db, "audit", "--as-of", "2026-11-16")
    eng = make_engine(db)
    with eng.connect() as conn:
        cid = conn.execute(text("SELECT min(id) FROM claim WHERE status = 'ready'")).scalar()
    eng.dispose()
    run(db, "claims", "update", str(cid), "--status", "submitted", "--reference", "BY-HAND-1")
    r = json.loads(run(db, "backtest", "--from", "2026-10-01", "--to", "2026-10-31", "--format", "json").stdout)
    assert any("by a person" in n for n in r["notes"])


def test_usage_errors(loaded: str) -> None:
    res = CliRunner().invoke(app, ["--db", loaded, "backtest", "--from", "2026-11-01", "--to", "2026-10-01"])
    assert res.exit_code == 2
    res = CliRunner().invoke(app, ["--db", loaded, "backtest", "--from", "nope", "--to", "2026-10-01"])
    assert res.exit_code == 2


def test_a_postgresql_store_replays_the_same(db_url: str, result: dict[str, Any]) -> None:
    """The scratch copy is made from PostgreSQL through the store's own tables: the same answer."""
    if not db_url.startswith("postgresql"):
        pytest.skip("the SQLite store is the module's fixture")
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("RECOUP_") and k != "RECOUP_TEST_DATABASE_URL"}
    try:
        run(db_url, "init")
        run(db_url, "ingest", "shipments", str(SMALL / "shipments.csv"))
        run(db_url, "ingest", "scans", str(SMALL / "scans.csv"))
        run(db_url, "ingest", "invoices", *sorted(str(p) for p in (SMALL / "invoices").iterdir()))
        run(db_url, "ingest", "invoices", *sorted(str(p) for p in (SMALL / "credits").iterdir()))
        got = json.loads(run(db_url, "backtest", *PERIOD, "--format", "json").stdout)
    finally:
        os.environ.update(saved)
    assert got["rows"] == result["rows"] and got["totals"] == result["totals"]
