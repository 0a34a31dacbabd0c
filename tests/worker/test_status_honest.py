"""`worker status` never says "nothing needs a person" when something does, and `--check` is a
health check: exit 1 with no worker running, a contract that does not load, claims that cannot be
filed, nothing configured; 0 when healthy (issue 14)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recoup.cli import app

from .conftest import SMALL, Inbox

AS_OF = "2026-11-16"


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, list(args))
    return r.exit_code, r.stdout, r.stderr


def status(*extra: str) -> tuple[int, dict, str]:   # type: ignore[type-arg]
    code, out, err = run("worker", "status", "--check", "--as-of", AS_OF, "--format", "json", *extra)
    return code, json.loads(out), err


def test_healthy_after_a_run(worker_env: dict[str, str]) -> None:
    code, out, err = run("worker", "run", "--once", "--as-of", AS_OF)
    assert code == 0, out + err
    code, st, _ = status()
    assert code == 0 and st["healthy"] and st["problems"] == [], st["problems"]
    code, out, err = run("worker", "status", "--check", "--as-of", AS_OF)
    assert code == 0 and "nothing needs a person" in err


def test_no_worker_running(worker_env: dict[str, str]) -> None:
    assert run("init")[0] == 0
    code, st, _ = status()
    assert code == 1 and not st["healthy"]
    assert [p["check"] for p in st["problems"]] == ["worker"]
    assert "no worker is running" in st["problems"][0]["detail"]
    code, out, err = run("worker", "status", "--as-of", AS_OF)        # without --check: exit 0, but said
    assert code == 0 and "nothing needs a person" not in err + out and "no worker is running" in out
    # a worker that ran long ago (cron stopped) is not running either
    assert run("worker", "run", "--once", "--as-of", "2026-11-10")[0] == 0
    code, st, _ = status()
    assert code == 1 and "ran at 2026-11-10" in st["problems"][0]["detail"]


def test_nothing_configured(worker_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    for k in ("RECOUP_INBOX__SHIPMENTS", "RECOUP_INBOX__SCANS", "RECOUP_INBOX__INVOICES"):
        monkeypatch.delenv(k)
    assert run("worker", "run", "--once", "--as-of", AS_OF)[0] == 0
    code, st, _ = status()
    assert code == 1
    assert any("no inbox folder is configured" in p["detail"] for p in st["problems"])


def test_a_contract_that_does_not_load(worker_env: dict[str, str], tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "contracts"
    shutil.copytree(SMALL / "contracts", folder)
    (folder / "ups.toml").write_text((folder / "ups.toml").read_text() + "\nnot valid = = toml\n")
    monkeypatch.setenv("RECOUP_CONTRACTS", str(folder))
    code, out, err = run("worker", "run", "--once", "--as-of", AS_OF, "--format", "json")
    assert code == 0, err
    audit = next(r for r in json.loads(out) if r["job"] == "audit")
    assert audit["outcome"] == "warning" and "ups.toml" in audit["detail"]
    code, st, _ = status()
    assert code == 1
    checks = {p["check"]: p["detail"] for p in st["problems"]}
    assert "ups.toml" in checks["contracts"] and "ups.toml" in checks["job audit"]


def test_claims_that_cannot_be_filed(worker_env: dict[str, str], inbox: Inbox,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(SMALL / "shipments.csv", inbox.shipments)
    shutil.copy(SMALL / "scans.csv", inbox.scans)
    monkeypatch.setenv("RECOUP_CARRIERS__UPS__CHANNEL", "email")   # UPS names no claims address
    monkeypatch.setenv("RECOUP_CONTACT_EMAIL", "claims@shop.example")
    for c in ("FEDEX", "DPD_UK", "ROYAL_MAIL"):                   # the others file into the outbox
        monkeypatch.setenv(f"RECOUP_CARRIERS__{c}__CHANNEL", "file")
    code, out, err = run("worker", "run", "--once", "--as-of", AS_OF, "--format", "json")
    assert code == 0, err
    submit = next(r for r in json.loads(out) if r["job"] == "submit_claims")
    assert submit["outcome"] == "warning" and "no claims e-mail address is known" in submit["detail"]
    code, st, _ = status()
    assert code == 1
    checks = {p["check"]: p["detail"] for p in st["problems"]}
    assert "no claims e-mail address is known" in checks["job submit_claims"]
    assert "no claims e-mail address is known" in checks["channel ups"]
    # and the money at stake is shown
    assert st["claims"]["at_stake"] and all(r["claims"] > 0 for r in st["claims"]["at_stake"])
    code, out, err = run("worker", "status", "--as-of", AS_OF)
    assert "money at stake" in out and "nothing needs a person" not in out + err


def test_claims_waiting_for_approval_are_shown(worker_env: dict[str, str], inbox: Inbox,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(SMALL / "shipments.csv", inbox.shipments)
    shutil.copy(SMALL / "scans.csv", inbox.scans)
    monkeypatch.setenv("RECOUP_APPROVAL_THRESHOLD", "0")
    monkeypatch.setenv("RECOUP_BUSINESS_HOURS_ONLY", "true")
    assert run("worker", "run", "--once", "--as-of", AS_OF)[0] == 0
    _code, st, _ = status()
    waiting = st["claims"]["awaiting_approval"]
    assert waiting and all(w["amount"] for w in waiting)
    _code, out, _err = run("worker", "status", "--as-of", AS_OF)
    assert "claims waiting for approval" in out
