"""`recoup report send --month` writes the month's report and e-mails it over the SMTP settings (issue
14). A fake SMTP server class stands in for smtplib's: no network."""

from __future__ import annotations

import email
from pathlib import Path
from typing import Any, ClassVar

import pytest
from typer.testing import CliRunner

from recoup.cli import app


class FakeSMTP:
    sent: ClassVar[list[Any]] = []
    fail = False

    def __init__(self, host: str, port: int, timeout: float = 0) -> None:
        self.host, self.port = host, port

    def starttls(self) -> None:
        pass

    def login(self, user: str, password: str) -> None:
        pass

    def send_message(self, msg: Any) -> None:
        if FakeSMTP.fail:
            raise OSError("connection refused")
        FakeSMTP.sent.append((self.host, self.port, msg))

    def quit(self) -> None:
        pass


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    import smtplib

    FakeSMTP.sent, FakeSMTP.fail = [], False
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    monkeypatch.delenv("RECOUP_CONFIG", raising=False)
    e = {"RECOUP_DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}", "RECOUP_REPORTS_DIR": str(tmp_path / "reports"),
         "RECOUP_NOTIFY__SMTP_URL": "smtp://mail.test:2525", "RECOUP_NOTIFY__FROM_EMAIL": "recoup@shop.test"}
    for k, v in e.items():
        monkeypatch.setenv(k, v)
    assert CliRunner().invoke(app, ["init"]).exit_code == 0
    return e


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def test_report_send_mails_the_files(env: dict[str, str], tmp_path: Path) -> None:
    r = run("report", "send", "--month", "2026-10", "--to", "cfo@shop.test", "--to", "ap@shop.test")
    assert r.exit_code == 0, r.output
    assert r.stdout.split() == ["cfo@shop.test", "ap@shop.test"]
    [(host, port, msg)] = FakeSMTP.sent
    assert (host, port) == ("mail.test", 2525)
    parsed = email.message_from_bytes(msg.as_bytes())
    assert parsed["To"] == "cfo@shop.test, ap@shop.test" and parsed["From"] == "recoup@shop.test"
    assert "2026-10" in parsed["Subject"]
    names = sorted(p.get_filename() for p in parsed.walk() if p.get_filename())
    assert names == ["recovery-2026-10.html", "recovery-2026-10.xlsx"]
    assert (tmp_path / "reports" / "recovery-2026-10.xlsx").is_file()


def test_report_send_defaults_to_finance_email(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOUP_FINANCE_EMAIL", '["finance@shop.test"]')
    r = run("report", "send", "--month", "2026-10", "--format", "csv")
    assert r.exit_code == 0, r.output
    [(_, _, msg)] = FakeSMTP.sent
    assert msg["To"] == "finance@shop.test"
    names = [p.get_filename() for p in msg.iter_attachments()]
    assert "recovery-2026-10.csv" in names and "recovery-2026-10-claims.csv" in names


def test_report_send_says_what_is_missing(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    r = run("report", "send", "--month", "2026-10")
    assert r.exit_code == 1 and "no recipient" in r.stderr and "Traceback" not in r.output
    monkeypatch.delenv("RECOUP_NOTIFY__SMTP_URL")
    r = run("report", "send", "--month", "2026-10", "--to", "a@shop.test")
    assert r.exit_code == 1 and "no SMTP server" in r.stderr
    monkeypatch.setenv("RECOUP_NOTIFY__SMTP_URL", "smtp://mail.test:2525")
    FakeSMTP.fail = True
    r = run("report", "send", "--month", "2026-10", "--to", "a@shop.test")
    assert r.exit_code == 1 and "not sent" in r.stderr and "connection refused" in r.stderr
    assert run("report", "send", "--month", "2026-13", "--to", "a@shop.test").exit_code == 2
