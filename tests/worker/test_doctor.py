"""`recoup doctor`: one row per check with what to do; exit 1 on any problem; no network call (the
SMTP check's connection is faked, issue 14)."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from recoup.cli import app

from .conftest import CARRIERS, SMALL


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, list(args))
    return r.exit_code, r.stdout, r.stderr


def doctor() -> tuple[int, dict[str, Any]]:
    code, out, _ = run("doctor", "--format", "json")
    return code, json.loads(out)


def by_check(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["check"]: c for c in report["checks"]}


class FakeSocket:
    def close(self) -> None:
        pass


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    seen: list[tuple[str, int]] = []

    def fake(addr: tuple[str, int], timeout: float | None = None) -> FakeSocket:
        seen.append(addr)
        if addr[1] == 2525:
            return FakeSocket()
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(socket, "create_connection", fake)
    return seen


@pytest.fixture
def healthy(worker_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
            connects: list[tuple[str, int]]) -> dict[str, str]:
    for c in CARRIERS:
        monkeypatch.setenv(f"RECOUP_CARRIERS__{c.upper()}__CHANNEL", "file")
    monkeypatch.setenv("RECOUP_CARRIERS__DPD_UK__CHANNEL", "email")
    monkeypatch.setenv("RECOUP_CARRIERS__DPD_UK__CLAIMS_EMAIL", "claims@dpd.example")
    monkeypatch.setenv("RECOUP_CARRIERS__DPD_UK__FROM_EMAIL", "ops@shop.example")
    monkeypatch.setenv("RECOUP_CARRIERS__DPD_UK__SMTP_URL", "smtp://mail.example:2525")
    assert run("worker", "run", "--once")[0] == 0    # on the wall clock: a worker ran just now
    return worker_env


def test_a_healthy_installation(healthy: dict[str, str], connects: list[tuple[str, int]]) -> None:
    code, rep = doctor()
    assert code == 0 and rep["ok"], [c for c in rep["checks"] if c["status"] == "fail"]
    checks = by_check(rep)
    assert checks["database"]["status"] == "ok" and "schema at head" in checks["database"]["detail"]
    assert checks["contracts"]["status"] == "ok"
    assert {f"channel {c}" for c in CARRIERS} <= set(checks)
    assert {"inbox shipments", "inbox scans", "inbox invoices"} <= set(checks)
    assert checks["smtp (dpd_uk)"]["status"] == "ok" and connects == [("mail.example", 2525)]
    assert checks["worker"]["status"] == "ok"
    code, out, err = run("doctor")
    assert code == 0 and "recoup doctor" in out and "no problems found" in err


def test_every_problem_is_one_row_with_what_to_do(healthy: dict[str, str], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "contracts"
    shutil.copytree(SMALL / "contracts", folder)
    (folder / "fedex.toml").write_text("carrier = \n")
    monkeypatch.setenv("RECOUP_CONTRACTS", str(folder))
    monkeypatch.setenv("RECOUP_CARRIERS__UPS__CHANNEL", "api")                 # no URL
    monkeypatch.setenv("RECOUP_CARRIERS__ROYAL_MAIL__CHANNEL", "api")
    monkeypatch.setenv("RECOUP_CARRIERS__ROYAL_MAIL__API_URL", "http://127.0.0.1:9")   # no key
    monkeypatch.setenv("RECOUP_CARRIERS__DPD_UK__SMTP_URL", "smtp://127.0.0.1:25")     # refused (faked)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("RECOUP_OUTBOX", str(blocker / "outbox"))               # cannot be created
    monkeypatch.setenv("RECOUP_INBOX__SCANS", str(tmp_path / "missing"))
    code, rep = doctor()
    assert code == 1 and not rep["ok"]
    fails = {c["check"]: c for c in rep["checks"] if c["status"] == "fail"}
    assert "fedex.toml" in fails["contracts"]["detail"] and fails["contracts"]["fix"]
    assert "API URL" in fails["channel ups"]["detail"]
    assert "no API key" in fails["channel royal_mail"]["detail"]
    assert "API_KEY" in fails["channel royal_mail"]["fix"]
    assert "does not exist" in fails["inbox scans"]["detail"] and "mkdir" in fails["inbox scans"]["fix"]
    assert "127.0.0.1:25 does not answer" in fails["smtp (dpd_uk)"]["detail"]
    assert all(c["fix"] for c in fails.values())
    code, _out, err = run("doctor")
    assert code == 1 and "problem(s)" in err


def test_before_init_and_without_a_worker(worker_env: dict[str, str], tmp_path: Path) -> None:
    code, rep = doctor()
    assert code == 1
    checks = by_check(rep)
    assert checks["database"]["status"] == "fail" and checks["database"]["fix"] == "run `recoup init`"
    assert not (tmp_path / "recoup.db").exists()       # the doctor does not create the database
    assert run("init")[0] == 0
    code, rep = doctor()
    assert code == 1 and by_check(rep)["worker"]["status"] == "fail"
    assert "no worker is running" in by_check(rep)["worker"]["detail"]
