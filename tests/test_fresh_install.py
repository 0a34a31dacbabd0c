"""A plain install works from any folder: the default contracts ship in the package, `init` says
what to do next, and no command before `init` leaves an empty database behind (issue 14)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recoup.cli import app
from recoup.settings import bundled_contracts_dir

from .conftest import SMALL

RECOUP = str(Path(sys.executable).parent / "recoup")
CARRIERS = {"ups", "fedex", "usps", "dhl_express", "royal_mail", "dpd_uk", "evri"}


@pytest.fixture
def empty_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for k in list(os.environ):
        if k.startswith("RECOUP_"):
            monkeypatch.delenv(k)
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def recoup(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECOUP_")}
    return subprocess.run([RECOUP, *args], cwd=folder, env=env, capture_output=True, text=True, timeout=120)


def test_init_contracts_check_and_audit_from_an_empty_folder(empty_folder: Path) -> None:
    """The installed console script, in a folder with no config/: the bundled contracts are used."""
    r = recoup(empty_folder, "init")
    assert r.returncode == 0, r.stderr
    assert "next steps" in r.stderr and "recoup doctor" in r.stderr and "bundled defaults" in r.stderr
    r = recoup(empty_folder, "contracts", "check", "--format", "json")
    assert r.returncode == 0, r.stderr
    assert {c["carrier"] for c in json.loads(r.stdout)} == CARRIERS
    r = recoup(empty_folder, "ingest", "shipments", str(SMALL / "shipments.csv"))
    assert r.returncode == 0, r.stderr
    r = recoup(empty_folder, "audit", "--as-of", "2026-11-16", "--format", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["shipments"] == 600
    assert sorted(p.name for p in empty_folder.iterdir()) == ["recoup.db"]


def test_no_database_file_before_init(empty_folder: Path) -> None:
    for args in (["findings"], ["claims", "list"], ["audit", "--as-of", "2026-11-16"], ["worker", "status"],
                 ["ingest", "shipments", str(SMALL / "shipments.csv")], ["explain", "1Z1"], ["recovered"]):
        r = CliRunner().invoke(app, args)
        assert r.exit_code == 1, (args, r.output)
        assert "run `recoup init` first" in r.stderr, (args, r.stderr)
        assert not (empty_folder / "recoup.db").exists(), args
    assert list(empty_folder.iterdir()) == []


def test_an_operators_copy_wins_over_the_bundled_defaults(empty_folder: Path) -> None:
    r = CliRunner().invoke(app, ["contracts", "export", "config/contracts"])
    assert r.exit_code == 0, r.output
    copied = empty_folder / "config" / "contracts"
    assert sorted(p.name for p in copied.glob("*.toml")) == sorted(f"{c}.toml" for c in CARRIERS)
    assert (copied / "README.md").exists()
    (copied / "evri.toml").unlink()
    r = CliRunner().invoke(app, ["contracts", "check", "--format", "json"])
    assert r.exit_code == 0 and {c["carrier"] for c in json.loads(r.stdout)} == CARRIERS - {"evri"}
    r = CliRunner().invoke(app, ["contracts", "export", "config/contracts"])
    assert r.exit_code == 1 and "--force" in r.stderr
    assert bundled_contracts_dir().name == "contracts_default"
