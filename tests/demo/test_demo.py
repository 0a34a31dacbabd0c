"""`recoup demo`: the generator is deterministic, and the demo runs the whole pipeline on its own
(no config, no environment) against the sandbox carrier, finding every kind of finding."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from recoup.audit.rules import all_rules
from recoup.cli import app
from recoup.demo.generate import ACCOUNT_FEE_FILE, BILLING_KINDS, SERVICE_KINDS, SHOWCASE_KINDS, generate
from recoup.demo.run import KIND_ORDER, demo_settings
from recoup.store.db import make_engine

ALL_KINDS = set(SERVICE_KINDS) | set(BILLING_KINDS)
HAS_REPORTS = importlib.util.find_spec("recoup.reports.monthly") is not None


def digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def no_user_setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory without config/, and hostile RECOUP_* variables the demo must ignore."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    for k in list(os.environ):
        if k.startswith("RECOUP_"):
            monkeypatch.delenv(k)
    monkeypatch.setenv("RECOUP_CARRIERS__UPS__CHANNEL", "email")
    monkeypatch.setenv("RECOUP_CARRIERS__FEDEX__API_URL", "http://192.0.2.1:9")
    monkeypatch.setenv("RECOUP_APPROVAL_THRESHOLD", "0.01")
    return work


# ----------------------------------------------------------------------------- the generator

def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", seed=11, shipments=300)
    b = generate(tmp_path / "b", seed=11, shipments=300)
    da, db = digests(a.folder), digests(b.folder)
    assert da == db
    assert {"shipments.csv", "scans.csv", "planted.json", "contracts/ups.toml"} <= set(da)
    assert any(k.startswith("invoices/") for k in da) and any(k.startswith("credits/") for k in da)
    c = generate(tmp_path / "c", seed=12, shipments=300)
    assert digests(c.folder)["shipments.csv"] != da["shipments.csv"]


def test_same_bytes_in_another_process(tmp_path: Path) -> None:
    """No dependence on hash randomisation, the clock or anything of the process."""
    here = generate(tmp_path / "here", seed=5, shipments=200)
    code = ("import sys; from pathlib import Path; from recoup.demo.generate import generate; "
            "generate(Path(sys.argv[1]), seed=5, shipments=200)")
    env = dict(os.environ, PYTHONHASHSEED="4242", TZ="Pacific/Auckland")
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "there")], check=True, env=env, timeout=120)
    assert digests(tmp_path / "there") == digests(here.folder)


def test_the_generator_is_independent_of_the_code_it_checks() -> None:
    """The expected answers come from the generator's own reading of the contracts
    (recoup.demo.generate.independent_terms): importing it loads nothing of recoup outside recoup.demo."""
    code = ("import sys, recoup.demo.generate; "
            "print('\\n'.join(m for m in sys.modules if m.startswith('recoup')))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=120)
    loaded = set(out.stdout.split())
    assert "recoup.demo.generate.independent_terms" in loaded
    assert {m for m in loaded if m != "recoup" and not m.startswith("recoup.demo")} == set()


def test_generated_data_is_realistic(tmp_path: Path) -> None:
    import csv

    g = generate(tmp_path / "g")
    with g.shipments.open(encoding="utf-8") as fh:
        ships = list(csv.DictReader(fh))
    assert len(ships) == 2000
    assert Counter(s["carrier"] for s in ships).keys() == {"ups", "fedex", "dpd_uk", "royal_mail"}
    days = {s["ship_date"] for s in ships}
    assert min(days) >= "2026-08-03" and max(days) <= "2026-10-31"
    assert "2026-09-07" not in {s["ship_date"] for s in ships if s["carrier"] in ("ups", "fedex")}   # Labor Day
    import datetime as dt

    assert any(dt.date.fromisoformat(d).weekday() == 5 for d in days)          # some Saturdays
    with g.scans.open(encoding="utf-8") as fh:
        scans = list(csv.DictReader(fh))
    offsets = {s["occurred_at"][-6:] for s in scans}
    assert {"-04:00", "-05:00", "-07:00", "+01:00", "+00:00"} <= offsets   # EDT, CDT/EST, Phoenix, BST, GMT
    assert all(dt.datetime.fromisoformat(s["occurred_at"]).tzinfo is not None for s in scans)
    reasons = Counter(s["exception_reason"] for s in scans if s["exception_reason"])
    assert {"weather", "address", "customer", "carrier", "damage"} <= reasons.keys()
    statuses = Counter(s["status"] for s in scans)
    assert {"lost", "damaged", "returned_to_sender", "available_for_pickup", "delivery_attempted"} <= statuses.keys()
    never_scanned = {s["tracking_number"] for s in ships} - {s["tracking_number"] for s in scans}
    assert never_scanned
    billing_data = [p for p in g.invoices if p.name == ACCOUNT_FEE_FILE]
    assert len(billing_data) == 1                  # account-level charges: UPS Billing Data, headerless
    fee_rows = billing_data[0].read_text(encoding="utf-8").splitlines()
    assert [len(r.split(",")) for r in fee_rows] == [250]
    fee = next(f for f in g.planted if f.kind == "account_fee")
    assert (fee.carrier, fee.tracking_number) == ("ups", "") and fee_rows[0].split(",")[5] == fee.invoice_number
    for p in [*g.invoices, *g.credits]:
        if p in billing_data:
            continue
        with p.open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                amount = Decimal(row["amount"])
                assert amount == amount.quantize(Decimal("0.01"))
                assert (amount < 0) == (p in g.credits)
    assert Counter(f.kind for f in g.planted).keys() == ALL_KINDS | set(SHOWCASE_KINDS)


# ----------------------------------------------------------------------------- the demo, end to end

def test_demo_settings_ignore_the_environment(no_user_setup: Path, tmp_path: Path) -> None:
    s = demo_settings(tmp_path, "http://127.0.0.1:1", ["ups", "fedex"])
    assert s.approval_threshold is None
    assert s.carrier("ups").channel == "api" and s.carrier("ups").api_url == "http://127.0.0.1:1"
    assert s.carrier("fedex").api_url == "http://127.0.0.1:1"


@pytest.mark.slow
def test_demo_end_to_end(no_user_setup: Path, tmp_path: Path) -> None:
    out = tmp_path / "demo"
    r = CliRunner().invoke(app, ["demo", "--out", str(out), "--format", "json"])
    assert r.exit_code == 0, r.stderr[-3000:]
    s = json.loads(r.stdout)                      # the data alone on stdout
    assert "demo:" in r.stderr                    # progress on stderr
    assert s["kept"] is True and Path(s["folder"]) == out.resolve()
    assert Path(s["database"]).is_file()
    assert s["data"]["shipments"] == 2000 and s["carriers"] == ["dpd_uk", "fedex", "royal_mail", "ups"]
    assert s["problems"] == []

    kinds = {f["kind"]: f for f in s["findings"]}
    assert set(KIND_ORDER) <= kinds.keys()
    assert {r.kind for r in all_rules()} <= kinds.keys()      # every kind of `recoup rules`, account_fee included
    assert kinds["account_fee"]["count"] == 1
    for f in s["findings"]:
        assert f["count"] > 0
        for amount in f["amounts"].values():
            assert Decimal(amount) == Decimal(amount).quantize(Decimal("0.01"))
    assert kinds["late_delivery"]["count"] > kinds["late_delivery"]["claimable"] > 0   # windows closed, excluded

    claims = {c["currency"]: c for c in s["claims"]}
    assert claims.keys() == {"GBP", "USD"}
    filed = sum(c["filed"] for c in claims.values())
    assert filed > 50 and filed == s["sandbox"]["claims"]          # every filed claim reached the sandbox
    assert s["sandbox"]["faults_injected"] > 0
    assert sum(c["approved"] for c in claims.values()) > 0
    assert sum(c["rejected"] for c in claims.values()) > 0
    assert all(Decimal(c["credited_amount"]) > 0 for c in claims.values())
    assert s["credited"] == {k: c["credited_amount"] for k, c in claims.items()}

    # the period replayed day by day through the worker's jobs: claim statuses at each month's end
    steps = {st["after"]: st["claims"] for st in s["statuses"]}
    assert list(steps) == ["2026-08-31", "2026-09-30", "2026-10-31", "2026-11-09"]
    assert steps["2026-08-31"].get("approved", 0) > 0 and steps["2026-08-31"].get("in_review", 0) > 0
    assert steps["2026-09-30"].get("credited", 0) == 0 < steps["2026-10-31"].get("credited", 0)  # credit notes: 10-31
    assert steps["2026-11-09"].get("approved_partial", 0) > 0

    if HAS_REPORTS:
        names = sorted(Path(p).name for p in s["report"]["files"])
        assert {"recovery-2026-10.csv", "recovery-2026-10-claims.csv", "recovery-2026-10.html",
                "recovery-2026-10.xlsx"} <= set(names)     # the CSV: one file per section
        assert all(Path(p).is_file() and Path(p).stat().st_size > 0 for p in s["report"]["files"])
        # October's report lists the claims opened, filed and credited in October, as a merchant's would;
        # `recovered --by month` on the demo's database agrees
        import csv

        def read(name: str) -> list[dict[str, str]]:
            path = next(Path(p) for p in s["report"]["files"] if Path(p).name == name)
            with path.open(encoding="utf-8") as fh:
                return list(csv.DictReader(fh))

        claims = read("recovery-2026-10-claims.csv")
        assert len(claims) > 30
        assert all(r["created"].startswith("2026-10") for r in claims)
        assert sum(1 for r in claims if r["filed"].startswith("2026-10")) > 30
        assert all(r["filed"] <= r["deadline"] for r in claims if r["filed"])        # filed in time
        totals = {r["currency"]: r for r in read("recovery-2026-10.csv") if r["carrier"] == "TOTAL"}
        assert all(Decimal(t["credited"]) > 0 for t in totals.values())
        rec = CliRunner().invoke(app, ["--db", s["database_url"], "--contracts", s["contracts"], "recovered",
                                       "--by", "month", "--as-of", s["as_of"], "--format", "json"])
        assert rec.exit_code == 0, rec.stderr
        october = {r["currency"]: r for r in json.loads(rec.stdout) if r["month"] == "2026-10"}
        assert october.keys() == totals.keys()
        for cur, r in october.items():
            assert r["claims"] == int(totals[cur]["claims"]) > 0
            for k in ("claimed", "approved", "credited"):
                assert Decimal(r[k]) == Decimal(totals[cur][k]), (cur, k)
    else:
        assert s["report"]["files"] == [] and "skipped" in s["report"]["note"]

    # what the generator planted is exactly what the audit found, amounts of billing findings included
    planted = json.loads((out / "data" / "planted.json").read_text(encoding="utf-8"))
    eng = make_engine(s["database_url"])
    with eng.connect() as conn:
        found = conn.execute(text("SELECT kind, carrier, tracking_number, invoice_number, amount_cents FROM finding "
                                  "WHERE status = 'open'")).all()
        by_channel = dict(conn.execute(text("SELECT channel, count(*) FROM claim WHERE channel IS NOT NULL "
                                            "GROUP BY channel")).all())
    eng.dispose()

    def key(kind: str, carrier: str, tn: str, inv: str | None) -> tuple[str, str, str, str | None]:
        return kind, carrier, tn, inv if kind in BILLING_KINDS else None

    want = Counter(key(p["kind"], p["carrier"], p["tracking_number"], p["invoice_number"]) for p in planted)
    got = Counter(key(f.kind, f.carrier, f.tracking_number, f.invoice_number) for f in found)
    assert want == got
    want_amounts = sorted((key(p["kind"], p["carrier"], p["tracking_number"], p["invoice_number"]), Decimal(p["amount"]))
                          for p in planted if p["kind"] in BILLING_KINDS)
    got_amounts = sorted((key(f.kind, f.carrier, f.tracking_number, f.invoice_number), Decimal(f.amount_cents) / 100)
                         for f in found if f.kind in BILLING_KINDS)
    assert want_amounts == got_amounts
    assert by_channel.keys() == {"api"}          # the hostile RECOUP_* environment played no part


def test_demo_plain_text_and_no_keep(no_user_setup: Path, tmp_path: Path) -> None:
    out = tmp_path / "gone"
    r = CliRunner().invoke(app, ["demo", "--out", str(out), "--no-keep", "--shipments", "300"])
    assert r.exit_code == 0, r.stderr[-3000:]
    assert not out.exists()
    assert "late_delivery" in r.stdout and "claimed" in r.stdout and "removed" in r.stdout
    assert not any(ch in r.stdout for ch in "┏━│╭")         # plain text in a pipe, no table borders


def test_demo_refuses_a_folder_it_did_not_make(no_user_setup: Path, tmp_path: Path) -> None:
    out = tmp_path / "busy"
    out.mkdir()
    (out / "precious.txt").write_text("keep me", encoding="utf-8")
    r = CliRunner().invoke(app, ["demo", "--out", str(out)])
    assert r.exit_code == 2
    assert (out / "precious.txt").read_text(encoding="utf-8") == "keep me"
    assert sorted(p.name for p in out.iterdir()) == ["precious.txt"]


def test_demo_usage_errors(no_user_setup: Path) -> None:
    assert CliRunner().invoke(app, ["demo", "--format", "csv"]).exit_code == 2
    assert CliRunner().invoke(app, ["demo", "--faults", "bogus=1"]).exit_code == 2
