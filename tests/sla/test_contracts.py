"""Contracts load, and broken ones name file, key and reason."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recoup.cli import app
from recoup.errors import ConfigError
from recoup.settings import bundled_contracts_dir
from recoup.sla.contracts import load_contract, load_contracts

from ..conftest import SMALL

GOOD = SMALL / "contracts" / "ups.toml"


def test_shipped_and_acceptance_contracts_load() -> None:
    shipped = load_contracts(bundled_contracts_dir())   # the defaults shipped in the package
    assert not shipped.errors
    assert {c.carrier for c in shipped.contracts} == {"ups", "fedex", "usps", "dhl_express", "royal_mail",
                                                      "dpd_uk", "evri"}
    assert not shipped.conflicts()
    acc = load_contracts(SMALL / "contracts")
    assert not acc.errors
    ups = next(c for c in acc.contracts if c.carrier == "ups")
    assert ups.services["NDA"].rates is not None
    assert ups.services["NDA"].rates.price("004", Decimal("1")) == ups.services["NDA"].rates.price("4", Decimal("1"))
    assert ups.fuel_percent("NDA", __import__("datetime").date(2026, 10, 6)) == Decimal("19.50")


def broken(tmp_path: Path, old: str, new: str) -> Path:
    d = tmp_path / "c"
    shutil.copytree(SMALL / "contracts", d)
    p = d / "ups.toml"
    text = p.read_text()
    assert old in text
    p.write_text(text.replace(old, new, 1))
    return p


@pytest.mark.parametrize(("old", "new", "message"), [
    ('currency = "USD"', 'currency = "usd"', r"ups\.toml: currency: an ISO 4217 code"),
    ('timezone = "America/Chicago"', 'timezone = "America/Gotham"', r"calendar\.timezone: unknown IANA time zone"),
    ("late_window_days = 15", 'late_window_days = "15"', r"claims\.late_window_days: expected int"),
    ('late_window_from = "delivered"', 'late_window_from = "shipped"', r"claims\.late_window_from: must be one of"),
    ('commit_time = "10:30"', 'commit_time = "half past ten"', r"services\[0\]\.commit_time: not a time"),
    ('rates = "rates/ups_nda.csv"', 'rates = "rates/missing.csv"', r"services\[0\]\.rates: cannot read rate card"),
    ("lost_after_days = 10", "lost_afer_days = 10", r"claims\.lost_afer_days: unknown key"),
    ('from = "2026-09-28"', 'from = "28/09/2026"', r"gsr_suspensions\[0\]\.from: not a date"),
    ("dim_divisor = 139", "dim_divisor = 0", r"dim_divisor: must be a positive number"),
])
def test_broken_contract_names_file_key_and_reason(tmp_path: Path, old: str, new: str, message: str) -> None:
    p = broken(tmp_path, old, new)
    with pytest.raises(ConfigError, match=message):
        load_contract(p)


def test_bad_rate_card_names_line_and_column(tmp_path: Path) -> None:
    p = broken(tmp_path, 'rates = "rates/ups_nda.csv"', 'rates = "rates/ups_nda.csv"')
    card = p.parent / "rates" / "ups_nda.csv"
    lines = card.read_text().splitlines()
    lines[2] = lines[2].replace(lines[2].split(",")[3], "abc", 1)
    card.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError, match=r"ups_nda\.csv: line 3: column \w+: not an amount"):
        load_contract(p)


def test_contracts_check_reports_broken_and_conflicting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = broken(tmp_path, 'currency = "USD"', 'currency = "usd"')
    shutil.copy(SMALL / "contracts" / "fedex.toml", p.parent / "fedex2.toml")
    monkeypatch.setenv("RECOUP_CONTRACTS", str(p.parent))
    r = CliRunner().invoke(app, ["contracts", "check", "--format", "json"])
    assert r.exit_code == 1
    assert "ups.toml: currency" in r.stderr
    assert "fedex: 2 contracts cover all accounts" in r.stderr
    assert "Traceback" not in r.output


def test_contracts_check_ok(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOUP_CONTRACTS", str(SMALL / "contracts"))
    r = CliRunner().invoke(app, ["contracts", "check", "--format", "csv"])
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[0].startswith("file,carrier,name")
    assert len(r.stdout.splitlines()) == 5
