"""One typed Settings object: ``config/recoup.toml`` (or ``--config`` / ``RECOUP_CONFIG``) and
``RECOUP_*`` environment variables (``__`` between levels). Secrets come from the environment only.

Built once, by the CLI (never at import time). A bad setting raises ConfigError with one line
naming the key.
"""

from __future__ import annotations

import os
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from recoup.errors import ConfigError
from recoup.redact import mask_url, url_has_password

DEFAULT_SCHEDULES = {
    "ingest_inbox": "*/15 * * * *",
    "pull_tracking": "5 * * * *",
    "audit": "20 * * * *",
    "submit_claims": "30 8-17 * * mon-fri",
    "sync_claims": "45 */6 * * *",
    "expire_claims": "15 0 * * *",
    "monthly_report": "0 6 1 * *",
}


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class CarrierSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Literal["api", "email", "file"] | None = None   # overrides the contract's claims.channel
    api_url: str | None = None
    api_key: str | None = Field(default=None, repr=False)     # secret: environment only
    rate_limit_per_s: float = 5.0
    timeout_s: float = 20.0
    batch_budget_s: float = 300.0
    max_attempts: int = 5
    backoff_initial_s: float = 0.5      # first retry waits up to this, doubling ...
    backoff_max_s: float = 30.0         # ... up to this
    max_wait_s: float = 60.0            # a longer Retry-After: give up for this run
    smtp_url: str | None = Field(default=None, repr=False)    # may hold a password: environment only
    claims_email: str | None = None
    from_email: str | None = None
    outbox: Path | None = None
    file_format: Literal["csv", "xlsx"] = "csv"
    tracking_api_url: str | None = None
    tracking_api_key: str | None = Field(default=None, repr=False)


class InboxSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shipments: Path | None = None
    scans: Path | None = None
    invoices: Path | None = None


class NotifySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email_to: list[str] = Field(default_factory=list)
    smtp_url: str | None = Field(default=None, repr=False)
    from_email: str = "recoup@localhost"
    webhook_url: str | None = None
    failing_jobs_threshold: int = 3


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RECOUP_", env_nested_delimiter="__", extra="forbid")

    database_url: str = "sqlite:///recoup.db"
    contracts: Path | None = None
    inbox: InboxSettings = Field(default_factory=InboxSettings)
    reports_dir: Path = Path("reports")
    outbox: Path = Path("outbox")
    carriers: dict[str, CarrierSettings] = Field(default_factory=dict)
    schedules: dict[str, str] = Field(default_factory=dict)
    approval_threshold: Decimal | None = None     # claims above this wait for `claims approve`
    near_deadline_days: int = 3
    contact_email: str | None = None
    finance_email: list[str] = Field(default_factory=list)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    business_hours_only: bool = True
    timezone: str = "UTC"
    log_level: str = "INFO"     # RECOUP_LOG_LEVEL: DEBUG, INFO, WARNING, ERROR or CRITICAL

    @field_validator("log_level", mode="before")
    @classmethod
    def _level(cls, v: Any) -> Any:
        if isinstance(v, str):
            name = v.strip().upper()
            if name not in LOG_LEVELS:
                raise ValueError(f"one of {', '.join(LOG_LEVELS)}, not {v!r}")
            return name
        return v

    @field_validator("carriers", mode="before")
    @classmethod
    def _lower_carriers(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {str(k).lower(): val for k, val in v.items()}
        return v

    def schedule(self, job: str) -> str:
        return self.schedules.get(job, DEFAULT_SCHEDULES[job])

    def contracts_dir(self) -> Path:
        """``contracts`` (``--contracts``, ``RECOUP_CONTRACTS``, the config file); else
        ``config/contracts`` in the working directory when it exists (an operator's edited copy);
        else the default contracts bundled in the package."""
        if self.contracts:
            return self.contracts
        local = Path(LOCAL_CONTRACTS)
        return local if local.is_dir() else bundled_contracts_dir()

    def carrier(self, code: str) -> CarrierSettings:
        return self.carriers.get(code, CarrierSettings())

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings)


LOCAL_CONTRACTS = "config/contracts"


def bundled_contracts_dir() -> Path:
    """The default contracts shipped inside the package (``recoup/contracts_default``)."""
    from importlib.resources import files

    return Path(str(files("recoup.contracts_default")))


SECRET_KEYS = ("api_key", "tracking_api_key")
#: URLs that may sit in the file only without a password (smtp://host:25 is fine; smtp://u:pw@host is not).
URL_KEYS = ("smtp_url", "database_url")


def _check_no_secrets(data: dict[str, Any], path: Path, prefix: str = "") -> None:
    for k, v in data.items():
        env = f"RECOUP_{(prefix + k).upper().replace('.', '__')}"
        if isinstance(v, dict):
            _check_no_secrets(v, path, f"{prefix}{k}.")
        elif k in SECRET_KEYS:
            raise ConfigError(f"{path}: {prefix}{k}: secrets come from the environment only ({env})")
        elif k in URL_KEYS and isinstance(v, str) and url_has_password(v):
            raise ConfigError(f"{path}: {prefix}{k} = {mask_url(v)!r}: a password comes from the environment "
                              f"only ({env})")


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file as a dict; ConfigError (one line) when it cannot be read, is not UTF-8, is not
    TOML, or nests deeper than Python's parser can follow."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 (byte {e.start}): save the file as UTF-8") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read it: {e.strerror or e}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML: nested too deeply") from None


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """Read the config file (if any), the environment, then explicit overrides (CLI options)."""
    path = config or (Path(os.environ["RECOUP_CONFIG"]) if os.environ.get("RECOUP_CONFIG") else None)
    explicit = path is not None
    path = path or Path("config/recoup.toml")
    data: dict[str, Any] = {}
    if path.exists():
        data = read_toml(path)
        _check_no_secrets(data, path)
    elif explicit:
        raise ConfigError(f"config file {path} does not exist")
    try:
        env_only = Settings()  # environment values, to lay over the file
        env_data = env_only.model_dump(exclude_unset=True)
        merged = _deep_merge(data, env_data)
        merged.update({k: v for k, v in overrides.items() if v is not None})
        return Settings.model_validate(merged) if merged else Settings()
    except ValidationError as e:
        err = e.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"setting {key}: {err['msg']} (from {path} or RECOUP_{key.upper().replace('.', '__')})") from None


def _deep_merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for k, v in b.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = v
    return out
