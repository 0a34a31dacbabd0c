"""Every number of a contract is bounded: a value that passes `contracts check` never crashes
`audit` (issue 15, item 11); non-UTF-8 and absurdly nested files are one line, never a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recoup.cli import app
from recoup.errors import ConfigError
from recoup.sla.contracts import load_contract

from ..conftest import SMALL


def broken(tmp_path: Path, old: str, new: str) -> Path:
    d = tmp_path / "c"
    shutil.copytree(SMALL / "contracts", d)
    p = d / "ups.toml"
    text = p.read_text()
    assert old in text
    p.write_text(text.replace(old, new, 1))
    return p


@pytest.mark.parametrize(("old", "new", "message"), [
    ('default_liability = "100.00"', 'default_liability = "1e400"', r"default_liability: must be between 0 and 1000000"),
    ('default_liability = "100.00"', 'default_liability = "-5"', r"default_liability: must be between"),
    ('default_liability = "100.00"', 'default_liability = "100.001"', r"default_liability: more than two decimals"),
    ('default_liability = "100.00"', 'default_liability = "' + "9" * 5000 + '"', r"default_liability: not a number"),
    ('default_liability = "100.00"', 'default_liability = "Infinity"', r"default_liability: not a number"),
    ('percent = "18.00"', 'percent = "1e30"', r"fuel\[0\]\.percent: must be between 0 and 100"),
    ("dim_divisor = 139", 'dim_divisor = "1e400"', r"dim_divisor: must be between 1 and"),
    ("lost_after_days = 10", "lost_after_days = 100000000000", r"claims\.lost_after_days: must be between 0 and 3650"),
    ("transit_days = 1", "transit_days = 99999999999", r"transit_days: must be between 0 and 3650"),
])
def test_out_of_bound_numbers_are_refused(tmp_path: Path, old: str, new: str, message: str) -> None:
    p = broken(tmp_path, old, new)
    with pytest.raises(ConfigError, match=message):
        load_contract(p)


def test_rate_card_prices_and_weights_are_bounded(tmp_path: Path) -> None:
    p = broken(tmp_path, 'rates = "rates/ups_nda.csv"', 'rates = "rates/ups_nda.csv"')
    card = p.parent / "rates" / "ups_nda.csv"
    lines = card.read_text().splitlines()
    original = list(lines)
    lines[2] = lines[2].replace(lines[2].split(",")[3], "1e400", 1)
    card.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError, match=r"ups_nda\.csv: line 3: column \w+: not an amount between"):
        load_contract(p)
    lines = list(original)
    lines[1] = "1e400" + lines[1][lines[1].index(","):]
    card.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError, match=r"ups_nda\.csv: line 2: column weight: must be above"):
        load_contract(p)


def test_non_utf8_and_deep_contracts_are_one_line(tmp_path: Path) -> None:
    p = broken(tmp_path, 'currency = "USD"', 'currency = "USD"')
    p.write_bytes(p.read_bytes().replace(b'currency = "USD"', b'currency = "\xff\xfeUSD"', 1))
    with pytest.raises(ConfigError, match=r"ups\.toml: not UTF-8"):
        load_contract(p)
    p.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ConfigError, match=r"ups\.toml: not valid TOML: nested too deeply"):
        load_contract(p)


def test_contracts_check_then_audit_never_trace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = broken(tmp_path, 'default_liability = "100.00"', 'default_liability = "1e400"')
    monkeypatch.setenv("RECOUP_CONTRACTS", str(p.parent))
    monkeypatch.setenv("RECOUP_DATABASE_URL", f"sqlite:///{tmp_path / 'r.db'}")
    monkeypatch.delenv("RECOUP_CONFIG", raising=False)
    r = CliRunner().invoke(app, ["contracts", "check"])
    assert r.exit_code == 1
    assert "default_liability: must be between" in r.stderr
    assert "Traceback" not in r.output
    assert CliRunner().invoke(app, ["init"]).exit_code == 0
    r = CliRunner().invoke(app, ["audit", "--as-of", "2026-11-30"])
    assert r.exit_code in (0, 1), r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    assert "Traceback" not in r.output
