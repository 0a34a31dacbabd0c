from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recoup.cli import app
from recoup.errors import ConfigError
from recoup.settings import load_settings

from .conftest import ROOT


def test_example_config_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    for k in list(__import__("os").environ):
        if k.startswith("RECOUP_"):
            monkeypatch.delenv(k)
    s = load_settings(ROOT / "config" / "recoup.example.toml")
    assert s.approval_threshold == Decimal("500.00")
    assert s.carrier("usps").channel == "api"
    assert s.carrier("ups").file_format == "xlsx"
    assert s.schedule("audit") == "20 * * * *"


def test_environment_overrides_file_and_secrets_stay_out_of_repr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "r.toml"
    cfg.write_text('[carriers.ups]\nchannel = "file"\n')
    monkeypatch.setenv("RECOUP_CARRIERS__UPS__CHANNEL", "api")
    monkeypatch.setenv("RECOUP_CARRIERS__UPS__API_KEY", "sk_live_secret")
    s = load_settings(cfg)
    assert s.carrier("ups").channel == "api"
    assert s.carrier("ups").api_key == "sk_live_secret"
    assert "sk_live_secret" not in repr(s)


def test_secret_in_the_file_is_refused(tmp_path: Path) -> None:
    cfg = tmp_path / "r.toml"
    cfg.write_text('[carriers.ups]\napi_key = "oops"\n')
    with pytest.raises(ConfigError, match=r"carriers\.ups\.api_key.*environment"):
        load_settings(cfg)


def test_bad_setting_is_one_line_naming_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOUP_NEAR_DEADLINE_DAYS", "soon")
    r = CliRunner().invoke(app, ["init"])
    assert r.exit_code == 2
    assert "near_deadline_days" in r.output
    assert "Traceback" not in r.output


def test_missing_explicit_config_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")
