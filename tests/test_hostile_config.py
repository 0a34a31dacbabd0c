"""Secrets, log level and hostile config files (issue 15, items 9 and 11): one line, exit 1/2, no
traceback, and never a password in a message."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recoup.cli import app
from recoup.errors import ConfigError, StoreError
from recoup.redact import mask_url, mask_urls
from recoup.settings import load_settings
from recoup.store.db import make_engine

PASSWORD = "s3cr3t-pw"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for k in list(__import__("os").environ):
        if k.startswith("RECOUP_"):
            monkeypatch.delenv(k)
    monkeypatch.chdir(tmp_path)


def run(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(app, list(args))
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    return r.exit_code, r.output


@pytest.mark.parametrize(("url", "masked"), [
    (f"postgresql://recoup:{PASSWORD}@db.internal:5432/recoup", "postgresql://recoup:***@db.internal:5432/recoup"),
    (f"postgresql+psycopg://u:{PASSWORD}@h/db?sslmode=require", "postgresql+psycopg://u:***@h/db?sslmode=require"),
    ("postgresql://u:p@ss:w@h/db", "postgresql://u:***@h/db"),  # an unencoded '@' in the password
    (f"smtps://claims:{PASSWORD}@mail.example.com:465", "smtps://claims:***@mail.example.com:465"),
    ("sqlite:///recoup.db", "sqlite:///recoup.db"),
    ("smtp://mail.example.com:25", "smtp://mail.example.com:25"),
    ("smtp://user@mail.example.com:25", "smtp://user@mail.example.com:25"),
])
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked
    assert mask_urls(f"could not connect to '{url}': refused") == f"could not connect to '{masked}': refused"


@pytest.mark.parametrize("key", ["[notify]\nsmtp_url", "[carriers.dpd_uk]\nsmtp_url", "database_url"])
def test_a_password_in_a_config_url_is_refused(tmp_path: Path, key: str) -> None:
    cfg = tmp_path / "recoup.toml"
    cfg.write_text(f'{key} = "smtp://claims:{PASSWORD}@mail.example.com:587"\n')
    with pytest.raises(ConfigError, match="a password comes from the environment only") as e:
        load_settings(cfg)
    assert PASSWORD not in str(e.value)
    code, out = run("--config", str(cfg), "init")
    assert code == 2 and PASSWORD not in out and "RECOUP_" in out


def test_a_url_without_password_in_the_config_is_fine(tmp_path: Path) -> None:
    cfg = tmp_path / "recoup.toml"
    cfg.write_text('[notify]\nsmtp_url = "smtp://mail.example.com:25"\n')
    assert load_settings(cfg).notify.smtp_url == "smtp://mail.example.com:25"


def test_init_and_bad_driver_errors_mask_the_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOUP_DATABASE_URL", f"nosuchdriver://recoup:{PASSWORD}@db.internal/recoup")
    code, out = run("init")
    assert code == 1 and PASSWORD not in out and "recoup:***@db.internal" in out
    with pytest.raises(StoreError) as e:
        make_engine(f"postgresql+nodriver://u:{PASSWORD}@h/db")
    assert PASSWORD not in str(e.value)


def test_init_prints_the_database_url_masked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import recoup.cli as cli

    def fake_init(engine: object) -> str:
        return "database created"

    monkeypatch.setattr("recoup.store.db.init_db", fake_init)
    monkeypatch.setattr(cli.Ctx, "engine", lambda self, check=True: object())
    monkeypatch.setenv("RECOUP_DATABASE_URL", f"postgresql://recoup:{PASSWORD}@db.internal/recoup")
    code, out = run("init")
    assert code == 0, out
    assert PASSWORD not in out and "postgresql://recoup:***@db.internal/recoup" in out


def test_worker_log_lines_mask_any_url_password() -> None:
    from recoup.worker import logs

    s = load_settings(None)
    buf = io.StringIO()
    h = logs.setup(s, stream=buf, json_lines=True)
    try:
        logging.getLogger("recoup.test").warning("connect to postgresql://u:%s@h/db failed", PASSWORD)
    finally:
        logs.teardown(h)
    line = json.loads(buf.getvalue().splitlines()[-1])
    assert PASSWORD not in buf.getvalue() and "u:***@h" in line["msg"]


@pytest.mark.parametrize(("env", "debug_shown"), [("DEBUG", True), ("debug", True), ("INFO", False), (None, False)])
def test_log_level_is_real(monkeypatch: pytest.MonkeyPatch, env: str | None, debug_shown: bool) -> None:
    from recoup.worker import logs

    if env:
        monkeypatch.setenv("RECOUP_LOG_LEVEL", env)
    s = load_settings(None)
    buf = io.StringIO()
    h = logs.setup(s, stream=buf, json_lines=True)
    try:
        logging.getLogger("recoup.test").debug("a debug line")
        logging.getLogger("recoup.test").info("an info line")
    finally:
        logs.teardown(h)
    assert ("a debug line" in buf.getvalue()) is debug_shown
    assert "an info line" in buf.getvalue()


def test_a_bad_log_level_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOUP_LOG_LEVEL", "LOUD")
    code, out = run("init")
    assert code == 2 and "log_level" in out and "Traceback" not in out


def test_non_utf8_and_deep_config_files_are_one_line(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_bytes(b'timezone = "\xff\xfe"\n')
    code, out = run("--config", str(cfg), "init")
    assert code == 2 and "not UTF-8" in out and len(out.strip().splitlines()) == 1
    cfg.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    code, out = run("--config", str(cfg), "init")
    assert code == 2 and "nested too deeply" in out and len(out.strip().splitlines()) == 1


@pytest.mark.parametrize("month", ["0001-01", "9999-12", "2026-13", "2026-00"])
def test_report_monthly_out_of_range_month_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            month: str) -> None:
    monkeypatch.setenv("RECOUP_DATABASE_URL", f"sqlite:///{tmp_path / 'r.db'}")
    assert run("init")[0] == 0
    code, out = run("report", "monthly", "--month", month, "--out", str(tmp_path))
    assert code == 2 and "--month" in out
